//! A short, deterministic run of the fuzzing harnesses (`joint_review_lsp::fuzzing`, the same
//! ones the `cargo fuzz` targets in `fuzz/` run for as long as one likes on nightly), so every
//! `cargo test` exercises them on stable: seeds that matter plus pseudo-random inputs.
//!
//! `FUZZ_SMOKE_CASES=N` runs N random inputs per harness instead of the default.

use joint_review_lsp::fuzzing;

/// xorshift64*: a fixed sequence, so a failure names a case that replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn bytes(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() as usize) % (max + 1);
        (0..len).map(|_| self.next() as u8).collect()
    }
}

fn cases() -> usize {
    std::env::var("FUZZ_SMOKE_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}

/// Runs `harness` on `seeds` and on random inputs; on a failure, prints the input to replay.
fn run(name: &str, harness: fn(&[u8]), seeds: &[Vec<u8>], max_len: usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let random = (0..cases()).map(|_| rng.bytes(max_len));
    for (i, input) in seeds.iter().cloned().chain(random).enumerate() {
        let result = std::panic::catch_unwind(|| harness(&input));
        if let Err(e) = result {
            let message = e
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{name}: case {i} failed: {message}\ninput bytes: {input:?}");
        }
    }
}

/// Token indices (see `fuzzing::TOKENS`) are the bytes themselves: these spell Markdown.
fn seeds_markdown() -> Vec<Vec<u8>> {
    let mut seeds = vec![
        vec![],
        vec![0],
        b"\x01\xff# Joint-review of X\n\n## Metadata\n\n| a | b |\n| - | - |\n| | |\n".to_vec(),
        b"\x01\xff\xef\xbb\xbf# T\r\n\r\n> > > quote\r- [x](#t)\n```\nfence".to_vec(),
        b"\x01\xff<!-- joint-review-lsp: outline=self-assessment -->\n# Self-assessment\n".to_vec(),
    ];
    // Deep nesting and delimiter runs, as raw text.
    for unit in [">", "> ", "- ", "*", "_", "`", "~", "[", "<", "|"] {
        let mut s = vec![1u8, 255];
        s.extend(unit.repeat(300).bytes());
        seeds.push(s);
    }
    seeds
}

#[test]
fn analysis_of_arbitrary_text() {
    let mut seeds = seeds_markdown();
    for s in &mut seeds {
        // `analysis` reads the first byte as raw/tokens and the rest as the text.
        if s.len() > 1 {
            s.remove(1);
        }
    }
    run("analysis", fuzzing::analysis, &seeds, 600);
}

#[test]
fn incremental_edits_match_a_fresh_parse() {
    run(
        "document_edits",
        fuzzing::document_edits,
        &seeds_markdown(),
        400,
    );
}

#[test]
fn transport_decodes_any_byte_stream() {
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let seeds: Vec<Vec<u8>> = vec![
        vec![],
        format!("\x03{}", frame(r#"{"jsonrpc":"2.0","id":1,"method":"x"}"#)).into_bytes(),
        format!("\x01Content-Length: 99999999999\r\n\r\n{}", frame("{}")).into_bytes(),
        format!(
            "\x07garbage\r\n{}x{}",
            frame("[1]"),
            frame(r#"{"a":"\ud83d"}"#)
        )
        .into_bytes(),
        [
            &b"\x02Content-Length: 3\r\n\r\n\xff\xfe\xfd"[..],
            &[b'x'; 20_000],
        ]
        .concat(),
    ];
    run("transport", fuzzing::transport, &seeds, 3000);
}

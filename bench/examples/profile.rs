//! A loop to run under a profiler: opens one benchmark document, then types N characters,
//! analysing after each, as the server does per version.
//!
//! `cargo build --release -p joint-review-bench --example profile`, then e.g.
//! `valgrind --tool=callgrind target/release/examples/profile "10k lines" 20` or
//! `perf record -g target/release/examples/profile "100k lines" 50`.

use std::time::{Duration, Instant};

use joint_review_bench::docs;
use joint_review_lsp::analysis::config::Config;
use joint_review_lsp::analysis::document::Document;
use joint_review_lsp::analysis::markdown::{InlineCache, Syntax};
use joint_review_lsp::analysis::text::TextRange;
use joint_review_lsp::analysis::{analyze, analyze_outline};

fn main() {
    let mut args = std::env::args().skip(1);
    let label = args
        .next()
        .unwrap_or_else(|| docs::SEED.trim_end_matches(".md").into());
    let keystrokes: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let bd = docs::all()
        .into_iter()
        .find(|d| d.label == label)
        .unwrap_or_else(|| panic!("no document labelled {label:?}"));
    let config = Config::default();
    let name = Some(bd.file_name.as_str());

    let start = Instant::now();
    let mut doc = Document::new(&bd.text);
    let parsed = start.elapsed();
    eprintln!("after the parse: RSS {}", status("VmRSS"));
    let mut cache = InlineCache::new();
    let analysis = analyze(&doc, name, &config, &mut cache);
    eprintln!(
        "{label}: parse {parsed:?}, cold total {:?}, {} diagnostics; RSS {} (peak {})",
        start.elapsed(),
        analysis.diagnostics.len(),
        status("VmRSS"),
        status("VmHWM"),
    );
    let end = bd.line_end_offset(bd.typing_line);
    let (mut edit, mut syntax, mut total) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let full_keystrokes = match std::env::var_os("PROFILE_OUTLINE_ONLY") {
        Some(_) => 0,
        None => keystrokes,
    };
    for at in end..end + full_keystrokes {
        let start = Instant::now();
        doc.apply_change(TextRange::empty(at), "x");
        // Edits are parsed when the tree is next asked for.
        std::hint::black_box(doc.tree());
        let edited = Instant::now();
        std::hint::black_box(Syntax::new(&doc, &mut cache));
        let read = Instant::now();
        std::hint::black_box(analyze(&doc, name, &config, &mut cache));
        edit += edited - start;
        syntax += read - edited;
        total += (edited - start) + read.elapsed();
    }
    let n = keystrokes.max(1) as u32;
    eprintln!(
        "{keystrokes} keystrokes, each: re-parse + analyze {:?} (re-parse {:?}); Syntax::new alone {:?}",
        total / n,
        edit / n,
        syntax / n
    );
    eprintln!("RSS {} (peak {})", status("VmRSS"), status("VmHWM"));

    // The outline pass alone, as the server runs it on every version (its own cache).
    let mut outline_cache = InlineCache::new();
    let start = Instant::now();
    let first = analyze_outline(&doc, name, &config, &mut outline_cache);
    let cold = start.elapsed();
    // Where the benchmark types: the end of its typing line, after the characters above.
    let start = Instant::now();
    for at in end + full_keystrokes..end + full_keystrokes + keystrokes {
        doc.apply_change(TextRange::empty(at), "x");
        std::hint::black_box(analyze_outline(&doc, name, &config, &mut outline_cache));
    }
    eprintln!(
        "outline pass: first {cold:?} ({} headings, {} diagnostics), then per keystroke {:?}",
        first.syntax.headings.len(),
        first.diagnostics.len(),
        start.elapsed() / n
    );
}

/// A field of `/proc/self/status` ("VmRSS", "VmHWM").
fn status(field: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .map(|l| l[field.len() + 1..].trim().to_string())
        })
        .unwrap_or_default()
}

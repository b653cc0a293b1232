//! Fuzzing harnesses: properties checked on arbitrary bytes, shared by the `cargo fuzz` targets
//! in `fuzz/` (long runs, nightly) and by `tests/fuzz_smoke.rs` (a short deterministic run in
//! every `cargo test`). Each function panics when a property fails.
//!
//! - [`document_edits`]: incremental edits keep the text of a plain `String` model and give the
//!   tree a fresh parse gives, and the outline pass's reused headings are a fresh scan's; the
//!   analysis then stays inside the document.
//! - [`analysis`]: any text is analysed (both passes) without panicking; every diagnostic and
//!   hover range is inside the document on character boundaries; positions round-trip in all
//!   encodings.
//! - [`transport`]: any byte stream, cut anywhere, is decoded without panicking, with bounded
//!   buffering, into messages that are JSON objects.

use crate::analysis::config::Config;
use crate::analysis::document::{tree_shape, Document};
use crate::analysis::markdown::InlineCache;
use crate::analysis::text::{Encoding, LineIndex, TextRange};
use crate::analysis::{analyze, analyze_outline, hover, line_scan, rescan};
use crate::lsp::transport::{Decoder, Event, Message, MAX_HEADER_LINE};

/// Pieces that make Markdown structure likely: each input byte picks one.
const TOKENS: &[&str] = &[
    "#",
    "## ",
    "### ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "\r",
    "\t",
    "|",
    "| |",
    "---",
    "-",
    "* ",
    "1. ",
    "*",
    "**",
    "_",
    "`",
    "```",
    "~~~",
    "~",
    ">",
    "> ",
    "[",
    "]",
    "(",
    ")",
    "](#",
    "#x",
    "<!--",
    "-->",
    "<div>",
    "</div>",
    "<table><tr><td>",
    "=",
    "===",
    "!",
    "\\",
    ":",
    "+++",
    "Metadata",
    "Threat Model",
    "Joint-review of ",
    "Self-assessment",
    "[Project]",
    "Software",
    "é",
    "e\u{301}",
    "😀",
    "中文",
    "👩\u{200d}👩\u{200d}👧",
    "\u{2028}",
    "\u{85}",
    "\u{c}",
    "\u{feff}",
    "\u{fffd}",
    "x",
    "word ",
    "a",
    "1",
    "0",
];

/// Reads an input as a sequence of choices.
struct Input<'a> {
    data: &'a [u8],
}

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.data.split_first()?;
        self.data = rest;
        Some(b)
    }

    fn number(&mut self) -> usize {
        let hi = self.byte().unwrap_or(0) as usize;
        let lo = self.byte().unwrap_or(0) as usize;
        hi << 8 | lo
    }

    /// `count` tokens, or raw bytes read as UTF-8 (lossily) when `raw`.
    fn text(&mut self, count: usize, raw: bool) -> String {
        let take = count.min(self.data.len());
        let (bytes, rest) = self.data.split_at(take);
        self.data = rest;
        if raw {
            String::from_utf8_lossy(bytes).into_owned()
        } else {
            bytes
                .iter()
                .map(|&b| TOKENS[b as usize % TOKENS.len()])
                .collect()
        }
    }
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Incremental edits equal a fresh parse, and the text equals a `String` edited alike.
pub fn document_edits(data: &[u8]) {
    let mut input = Input { data };
    let raw = input.byte().unwrap_or(0) & 1 == 1;
    let initial_len = input.byte().unwrap_or(0) as usize;
    let mut model = input.text(initial_len, raw);
    let mut doc = Document::new(&model);
    let mut outline_cache = InlineCache::new();
    // States kept every few bytes, so that short inputs resume scans as long documents do.
    let spacing = input.byte().unwrap_or(0) as usize % 64;
    rescan::headings_spaced(&doc, &mut outline_cache, spacing);
    for _ in 0..64 {
        let Some(kind) = input.byte() else {
            break;
        };
        // Offsets may fall past the end or inside a character: both are clamped.
        let span = model.len() + 4;
        let a = input.number() % span;
        let b = if kind & 1 == 0 {
            a
        } else {
            input.number() % span
        };
        let inserted = input.text((kind >> 1) as usize % 12, raw);
        let (start, end) = (a.min(b), a.max(b));
        doc.apply_change(TextRange::new(start, end), &inserted);
        let s = floor_boundary(&model, start);
        let e = floor_boundary(&model, end).max(s);
        model.replace_range(s..e, &inserted);
        assert_eq!(doc.text(), model, "the document's text after an edit");
        assert_eq!(
            rescan::headings_spaced(&doc, &mut outline_cache, spacing),
            line_scan::headings(&doc, &mut InlineCache::new()),
            "the outline pass's headings after an edit of {model:?}"
        );
    }
    assert_eq!(
        tree_shape(doc.tree()),
        tree_shape(&doc.parse_from_scratch()),
        "incremental parse differs from a fresh parse of {model:?}"
    );
    check_analysis(&doc);
}

/// Any text is analysed; every range stays inside the document.
pub fn analysis(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let text = Input { data: rest }.text(rest.len(), first & 1 == 1);
    check_analysis(&Document::new(&text));
}

fn check_analysis(doc: &Document) {
    let name = Some("file:///work/joint-review.md");
    let outline = analyze_outline(doc, name, &Config::default(), &mut InlineCache::new());
    let analysis = analyze(doc, name, &Config::default(), &mut InlineCache::new());
    let text = doc.text();
    let index = LineIndex::new(doc.rope());
    let inside = |range: TextRange, what: &str| {
        assert!(
            range.start <= range.end
                && range.end <= text.len()
                && text.is_char_boundary(range.start)
                && text.is_char_boundary(range.end),
            "{what} range {range:?} outside {text:?}"
        );
        for offset in [range.start, range.end] {
            // A position inside a CRLF is not one of its own.
            if offset > 0
                && text.as_bytes()[offset - 1] == b'\r'
                && text[offset..].starts_with('\n')
            {
                continue;
            }
            for encoding in [Encoding::Utf8, Encoding::Utf16, Encoding::Utf32] {
                let pos = index.position(offset, encoding);
                assert_eq!(
                    index.offset(pos, encoding),
                    offset,
                    "{what}: {offset} -> {pos:?} in {encoding:?} does not round-trip in {text:?}"
                );
            }
        }
    };
    for d in outline.diagnostics.iter().chain(&analysis.diagnostics) {
        inside(d.range, d.code.as_str());
        for r in &d.related {
            inside(r.range, "related");
        }
    }
    for h in outline
        .syntax
        .headings
        .iter()
        .chain(&analysis.syntax.headings)
    {
        inside(h.range, "heading");
        if let Some(found) = hover::hover(&analysis, doc, h.range.start) {
            inside(found.range, "hover");
        }
    }
}

/// Any byte stream, cut into any chunks, decodes with bounded buffering into JSON objects.
pub fn transport(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let mut decoder = Decoder::new();
    // Before `initialize` (an even seed) only `initialize` requests pass.
    let initialized = seed % 2 == 1;
    decoder.set_initialized(initialized);
    let mut rest = stream;
    let mut cut = seed as usize + 1;
    while !rest.is_empty() {
        let (chunk, after) = rest.split_at(cut.min(rest.len()));
        rest = after;
        cut = cut * 7 % 251 + 1;
        decoder.push(chunk);
        while let Some(event) = decoder.next_event() {
            if let Event::Message(message) = event {
                // What the session hands over serialises back to a JSON-RPC object.
                let value = match &message {
                    Message::Request(r) => serde_json::to_value(r),
                    Message::Response(r) => serde_json::to_value(r),
                    // A change is a notification: it serialises as its parameters.
                    Message::Change(c) => serde_json::to_value(c),
                }
                .expect("a message serialises");
                assert!(value.is_object(), "a forwarded message is an object");
                let is_request = value.get("method").is_some()
                    && value.get("id").is_some_and(|id| !id.is_null());
                assert!(
                    initialized || !is_request || value["method"] == "initialize",
                    "a request forwarded before initialize: {value}"
                );
            }
        }
        assert!(
            decoder.reading_body() || decoder.pending() <= MAX_HEADER_LINE,
            "the decoder holds {} bytes between messages",
            decoder.pending()
        );
    }
}

//! Test helpers: run the analysis on a fixture and print what it found, for snapshots.

use super::config::Config;
use super::diagnostics::Code;
use super::document::Document;
use super::markdown::InlineCache;
use super::text::{Encoding, LineIndex};
use super::{analyze, Analysis};

/// Analyses `text` as a file called `file_name`.
pub fn analysis(text: &str, file_name: &str) -> (Document, Analysis) {
    let doc = Document::new(text);
    let analysis = analyze(
        &doc,
        Some(file_name),
        &Config::default(),
        &mut InlineCache::new(),
    );
    (doc, analysis)
}

/// The diagnostics of one rule, one per line: `line:col..line:col message` (1-based lines).
pub fn diagnostics(text: &str, code: Code) -> String {
    let (doc, analysis) = analysis(text, "test-joint-review.md");
    let index = LineIndex::new(doc.rope());
    let mut out = String::new();
    for d in analysis.diagnostics.iter().filter(|d| d.code == code) {
        let s = index.position(d.range.start, Encoding::Utf32);
        let e = index.position(d.range.end, Encoding::Utf32);
        out.push_str(&format!(
            "{}:{}..{}:{} {}\n",
            s.line + 1,
            s.col + 1,
            e.line + 1,
            e.col + 1,
            d.message
        ));
    }
    out
}

/// The joint-review template's document part (from its title on), with the sections whose
/// titles are given cut out, each with its sub-sections.
pub fn template_without(cut: &[&str]) -> String {
    let template = super::outline::default_outline().template;
    let start = template
        .find("# Joint-review of [Project]")
        .expect("template title");
    let body = &template[start..];
    let mut out = String::new();
    let mut skipping: Option<usize> = None;
    for line in body.split_inclusive('\n') {
        let level = line.chars().take_while(|&c| c == '#').count();
        if level > 0 && line[level..].starts_with(' ') {
            if skipping.is_some_and(|l| level <= l) {
                skipping = None;
            }
            if skipping.is_none() && cut.contains(&line[level..].trim()) {
                skipping = Some(level);
            }
        }
        if skipping.is_none() {
            out.push_str(line);
        }
    }
    out
}

/// The real documents of the corpus (`tests/corpus/real/`), by file name.
pub const REAL_DOCUMENTS: [(&str, &str); 6] = [
    (
        "flux-self-assessment.md",
        include_str!("../../../tests/corpus/real/flux-self-assessment.md"),
    ),
    (
        "harbor-self-assessment.md",
        include_str!("../../../tests/corpus/real/harbor-self-assessment.md"),
    ),
    (
        "in-toto-self-assessment.md",
        include_str!("../../../tests/corpus/real/in-toto-self-assessment.md"),
    ),
    (
        "keycloak-self-assessment.md",
        include_str!("../../../tests/corpus/real/keycloak-self-assessment.md"),
    ),
    (
        "kyverno-self-assessment.md",
        include_str!("../../../tests/corpus/real/kyverno-self-assessment.md"),
    ),
    (
        "openfga-joint-assessment.md",
        include_str!("../../../tests/corpus/real/openfga-joint-assessment.md"),
    ),
];

/// `cases` cases, or as many as `PROPTEST_CASES` says, for a longer run (`with_cases` alone
/// would ignore it).
pub fn proptest_config(cases: u32) -> proptest::prelude::ProptestConfig {
    match std::env::var_os("PROPTEST_CASES") {
        Some(_) => proptest::prelude::ProptestConfig::default(),
        None => proptest::prelude::ProptestConfig::with_cases(cases),
    }
}

/// A repeatable stream of numbers below the `n` asked for each time (xorshift from `seed`),
/// for tests that make many edits without a property-test framework.
pub fn random_below(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    }
}

/// Replaces up to `removed` bytes of `text` at the place `at` picks (0 to its length) with
/// `inserted`, widened to whole characters; returns where the replaced bytes were.
pub fn replace_at(
    text: &mut String,
    at: proptest::sample::Index,
    removed: usize,
    inserted: &str,
) -> (usize, usize) {
    let mut start = at.index(text.len() + 1);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + removed).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    text.replace_range(start..end, inserted);
    (start, end)
}

//! Micro-benchmarks of the analysis alone (no protocol), step by step and per document size, so
//! a regression shows where it comes from: `cargo bench -p joint-review-bench`.
//!
//! Steps, in the order a keystroke runs them: `reparse` (one character applied to the rope and
//! the block tree, re-parsed incrementally), `syntax` (headings, blocks, tables, inline ranges
//! read off the tree), `alignment` (headings to outline sections), `links` (anchor links),
//! `rules` (the nine rules), `analyze` (all of it), and `keystroke` (one character typed, then
//! `analyze`: the per-version cost). `cold` is `Document::new` plus `analyze` with an empty
//! inline cache. The inline cache is warm except where a step changes text. `line_scan` is the
//! headings found from the lines alone (`line_scan::headings`), the cheap first pass that the
//! outline diagnostics can use before the parse. `outline_keystroke` is one character typed,
//! then the outline pass (what the server runs per version for an edit that may change a
//! heading); `judge_edit` is what a keystroke in a paragraph costs the server instead: judging
//! the edit (`rescan::plain_line_edit`) and looking its line up among the headings
//! (`rescan::on_heading_line`). `outline_line_break` is a line break put in and taken out
//! again, then the outline pass: an edit that may change headings, so the lines around it are
//! scanned again (`line_scan::rescan`). `outline_heading_rename` is one character typed at the
//! end of a heading near the middle and taken out again, then the outline pass: in the
//! documents here that heading is a section's, so the alignment is made again.
//! `outline_heading_keystroke` is the same after one character typed there already (the
//! second keystroke on): the heading is no section's before or after. `completion` is the
//! completion items at the end of that heading (the place the protocol benchmark asks).

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};

use joint_review_bench::docs::{self, BenchDoc};
use joint_review_lsp::analysis::alignment::Alignment;
use joint_review_lsp::analysis::config::Config;
use joint_review_lsp::analysis::document::Document;
use joint_review_lsp::analysis::markdown::{InlineCache, Syntax};
use joint_review_lsp::analysis::text::TextRange;
use joint_review_lsp::analysis::{
    analyze, analyze_outline, anchors, completion, detect, line_scan, rescan, rules, Context,
};

fn documents() -> Vec<BenchDoc> {
    let mut real = docs::real_docs();
    let seed = real
        .iter()
        .position(|d| d.file_name == docs::SEED)
        .expect("the seed document is in the corpus");
    vec![
        real.swap_remove(seed),
        docs::generated(10_000),
        docs::generated(100_000),
        docs::long_line(1_000_000),
    ]
}

/// Types one character at `at`, or deletes it again: alternating keeps the document's size.
fn toggle(doc: &mut Document, at: usize, inserted: &mut bool) {
    if *inserted {
        doc.apply_change(TextRange::new(at, at + 1), "");
    } else {
        doc.apply_change(TextRange::empty(at), "x");
    }
    *inserted = !*inserted;
    // Edits are parsed when the tree is next asked for.
    black_box(doc.tree());
}

fn bench(c: &mut Criterion) {
    let config = Config::default();
    for bd in documents() {
        let large = bd.text.len() > 1_000_000;
        let mut group = c.benchmark_group(bd.label.replace(' ', "-"));
        if large {
            group.sample_size(10);
            group.measurement_time(Duration::from_secs(5));
        }
        let name = Some(bd.file_name.as_str());
        let at = bd.line_end_offset(bd.typing_line);
        let mut doc = Document::new(&bd.text);
        let mut cache = InlineCache::new();
        let _ = analyze(&doc, name, &config, &mut cache);

        let mut inserted = false;
        group.bench_function("reparse", |b| {
            b.iter(|| toggle(&mut doc, at, &mut inserted))
        });
        group.bench_function("keystroke", |b| {
            b.iter(|| {
                toggle(&mut doc, at, &mut inserted);
                black_box(analyze(&doc, name, &config, &mut cache))
            })
        });
        if inserted {
            toggle(&mut doc, at, &mut inserted);
        }
        let _ = analyze(&doc, name, &config, &mut cache);

        group.bench_function("syntax", |b| {
            b.iter(|| black_box(Syntax::new(&doc, &mut cache)))
        });
        group.bench_function("line_scan", |b| {
            b.iter(|| black_box(line_scan::headings(&doc, &mut cache)))
        });
        let headings = line_scan::headings(&doc, &mut cache);
        group.bench_function("judge_edit", |b| {
            b.iter(|| {
                let line = rescan::plain_line_edit(doc.rope(), TextRange::empty(at), "x", None);
                black_box(line.map(|l| rescan::on_heading_line(doc.rope(), &headings, l)))
            })
        });
        let mut outline_doc = Document::new(&bd.text);
        let mut outline_cache = InlineCache::new();
        let _ = analyze_outline(&outline_doc, name, &config, &mut outline_cache);
        let heading_end = bd.line_end_offset(bd.heading_line);
        // Each step: where, what is typed there first (once), then what is typed and taken out.
        for (step, at, first, text) in [
            ("outline_keystroke", at, "", "x"),
            ("outline_line_break", at, "", "\n"),
            ("outline_heading_rename", heading_end, "", "x"),
            ("outline_heading_keystroke", heading_end, "x", "y"),
        ] {
            outline_doc.apply_change(TextRange::empty(at), first);
            let _ = analyze_outline(&outline_doc, name, &config, &mut outline_cache);
            let at = at + first.len();
            let removed = TextRange::new(at, at + text.len());
            let mut typed = false;
            group.bench_function(step, |b| {
                b.iter(|| {
                    match typed {
                        true => outline_doc.apply_change(removed, ""),
                        false => outline_doc.apply_change(TextRange::empty(at), text),
                    };
                    typed = !typed;
                    black_box(analyze_outline(
                        &outline_doc,
                        name,
                        &config,
                        &mut outline_cache,
                    ))
                })
            });
            // The next step starts from the same text.
            if typed {
                outline_doc.apply_change(removed, "");
            }
            outline_doc.apply_change(TextRange::new(at - first.len(), at), "");
        }
        let syntax = Syntax::new(&doc, &mut cache);
        let head = doc.slice(TextRange::new(0, doc.floor_char_boundary(4096)));
        let selection = detect::select(&head, &syntax.headings, name, &config);
        group.bench_function("alignment", |b| {
            b.iter(|| black_box(Alignment::new(selection.outline, &syntax.headings)))
        });
        let alignment = Alignment::new(selection.outline, &syntax.headings);
        let anchors = anchors::anchors(syntax.headings.iter().map(|h| &*h.text));
        group.bench_function("links", |b| {
            b.iter(|| black_box(syntax.anchor_links(&doc, &mut cache)))
        });
        let links = syntax.anchor_links(&doc, &mut cache);
        let ctx = Context {
            doc: &doc,
            syntax: &syntax,
            outline: selection.outline,
            alignment: &alignment,
            anchors: &anchors,
            links: &links,
        };
        group.bench_function("rules", |b| {
            b.iter(|| black_box(rules::run(&ctx, &mut cache)))
        });
        group.bench_function("analyze", |b| {
            b.iter(|| black_box(analyze(&doc, name, &config, &mut cache)))
        });
        let analysis = analyze(&doc, name, &config, &mut cache);
        // As VS Code asks: snippets, and the documentation resolved later.
        let options = completion::Options {
            snippets: true,
            trigger: None,
            lazy_documentation: true,
        };
        group.bench_function("completion", |b| {
            b.iter(|| {
                black_box(completion::completion(
                    &analysis,
                    &doc,
                    heading_end,
                    options,
                ))
            })
        });
        group.bench_function("cold", |b| {
            b.iter_batched(
                InlineCache::new,
                |mut fresh| {
                    let doc = Document::new(&bd.text);
                    black_box(analyze(&doc, name, &config, &mut fresh))
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

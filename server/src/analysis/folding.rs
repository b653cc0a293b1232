//! Folding ranges: sections (a heading to the end of its section), lists, list items with
//! nested lists, tables, code blocks, HTML blocks and HTML comments.
//!
//! Read off the [`Syntax`](super::markdown::Syntax) summary, so they agree with what the rules
//! and the document symbols see. Ranges end at their last non-blank character: a folded section
//! leaves the blank lines before the next heading visible.

use super::document::Document;
use super::markdown::BlockKind;
use super::text::TextRange;
use super::Analysis;

/// What a folding range holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    Section,
    List,
    Table,
    Code,
    Html,
    /// An HTML block of only comments.
    Comment,
    Quote,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fold {
    pub range: TextRange,
    pub kind: FoldKind,
}

/// Every range spanning more than one line, outer ranges before the ranges they hold.
pub fn folding_ranges(analysis: &Analysis, doc: &Document) -> Vec<Fold> {
    let syntax = &analysis.syntax;
    let mut folds = Vec::new();
    for h in &syntax.headings {
        folds.push(Fold {
            range: h.section,
            kind: FoldKind::Section,
        });
    }
    for (range, items) in &syntax.lists {
        folds.push(Fold {
            range: *range,
            kind: FoldKind::List,
        });
        // An item folds when it holds a nested list (the next item is one level deeper).
        for (i, item) in items.iter().enumerate() {
            if items.get(i + 1).is_some_and(|next| next.depth > item.depth) {
                folds.push(Fold {
                    range: item.range,
                    kind: FoldKind::List,
                });
            }
        }
    }
    for block in &syntax.blocks {
        let kind = match block.kind {
            BlockKind::Table => FoldKind::Table,
            BlockKind::Code => FoldKind::Code,
            BlockKind::Html => FoldKind::Html,
            BlockKind::Comment => FoldKind::Comment,
            BlockKind::Quote => FoldKind::Quote,
            BlockKind::Paragraph | BlockKind::List | BlockKind::Other => continue,
        };
        folds.push(Fold {
            range: block.range,
            kind,
        });
    }
    let rope = doc.rope();
    let line = |offset: usize| rope.byte_to_line(offset.min(rope.len_bytes()));
    let mut folds: Vec<Fold> = folds
        .into_iter()
        .map(|f| Fold {
            range: trim_end_blank(doc, f.range),
            kind: f.kind,
        })
        .filter(|f| line(f.range.start) < line(f.range.end))
        .collect();
    folds.sort_by_key(|f| (f.range.start, std::cmp::Reverse(f.range.end)));
    folds.dedup_by_key(|f| f.range);
    folds
}

/// `range` without the whitespace (blank lines included) at its end.
pub fn trim_end_blank(doc: &Document, range: TextRange) -> TextRange {
    let rope = doc.rope();
    let start = range.start.min(rope.len_bytes());
    let mut end = range.end.clamp(start, rope.len_bytes());
    while end > start && matches!(rope.byte(end - 1), b' ' | b'\t' | b'\r' | b'\n') {
        end -= 1;
    }
    TextRange::new(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::analysis;
    use crate::analysis::text::{Encoding, LineIndex};
    use expect_test::expect;

    /// One line per fold: `first..last kind: first line` (1-based lines).
    fn check(text: &str, expect: expect_test::Expect) {
        let (doc, analysis) = analysis(text, "x-joint-review.md");
        let index = LineIndex::new(doc.rope());
        let mut out = String::new();
        for f in folding_ranges(&analysis, &doc) {
            let s = index.position(f.range.start, Encoding::Utf8);
            let e = index.position(f.range.end, Encoding::Utf8);
            let first = text.lines().nth(s.line as usize).unwrap_or("");
            out.push_str(&format!(
                "{}..{} {:?}: {first}\n",
                s.line + 1,
                e.line + 1,
                f.kind
            ));
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn sections_lists_tables_code_and_comments() {
        check(
            "# Joint-review of X\n\n## Overview\n\ntext\n\n- a\n- b\n  - c\n  - d\n\n| a | b |\n| - | - |\n| x | y |\n\n```rust\nfn x\n```\n\n<!-- a\ncomment -->\n\n<div>\n</div>\n\n### Goal\n\none line\n\n\n## Metadata\n",
            expect![[r#"
                1..31 Section: # Joint-review of X
                3..28 Section: ## Overview
                7..10 List: - a
                8..10 List: - b
                12..14 Table: | a | b |
                16..18 Code: ```rust
                20..21 Comment: <!-- a
                23..24 Html: <div>
                26..28 Section: ### Goal
            "#]],
        );
    }

    #[test]
    fn crlf_and_a_heading_alone_on_its_line() {
        check(
            "# T\r\n\r\n## A\r\n## B\r\n\r\n> q\r\n> r\r\n\r\n",
            expect![[r#"
                1..7 Section: # T
                4..7 Section: ## B
                6..7 Quote: > q
            "#]],
        );
    }
}

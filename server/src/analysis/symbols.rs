//! Document symbols: the heading tree, each heading marked with what the outline made of it
//! ("template: Goal", "extra section", the title, ...).

use super::document::Document;
use super::folding::trim_end_blank;
use super::text::TextRange;
use super::Analysis;

/// One heading and the headings under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    /// The heading's rendered text ("(empty heading)" when it has none: names cannot be empty).
    pub name: String,
    /// What the outline made of the heading.
    pub detail: String,
    pub level: u8,
    /// The heading's section, without the blank lines at its end.
    pub range: TextRange,
    /// The heading's line (and the bold title line under an empty `##`).
    pub selection: TextRange,
    pub children: Vec<Symbol>,
}

pub fn document_symbols(analysis: &Analysis, doc: &Document) -> Vec<Symbol> {
    let headings = &analysis.syntax.headings;
    let mut roots = Vec::new();
    // Open headings, each a level deeper than the one below it on the stack.
    let mut stack: Vec<Symbol> = Vec::new();
    let close = |stack: &mut Vec<Symbol>, roots: &mut Vec<Symbol>| {
        if let Some(done) = stack.pop() {
            match stack.last_mut() {
                Some(parent) => parent.children.push(done),
                None => roots.push(done),
            }
        }
    };
    for (h, heading) in headings.iter().enumerate() {
        while stack.last().is_some_and(|open| open.level >= heading.level) {
            close(&mut stack, &mut roots);
        }
        let selection = match heading.bold_line_title {
            Some(bold) => TextRange::new(heading.range.start, bold.end),
            None => heading.range,
        };
        let range = trim_end_blank(doc, heading.section);
        stack.push(Symbol {
            name: if heading.text.is_empty() {
                "(empty heading)".to_string()
            } else {
                heading.text.to_string()
            },
            detail: detail(analysis, h),
            level: heading.level,
            range: TextRange::new(range.start, range.end.max(selection.end)),
            selection,
            children: Vec::new(),
        });
    }
    while !stack.is_empty() {
        close(&mut stack, &mut roots);
    }
    roots
}

fn detail(analysis: &Analysis, h: usize) -> String {
    let alignment = &analysis.alignment;
    let sections = &analysis.outline().sections;
    if Some(h) == alignment.title {
        return format!("title: {} outline", analysis.outline().name);
    }
    if Some(h) == alignment.preamble {
        return "the template's preamble".to_string();
    }
    if let Some(s) = alignment.heading_section[h] {
        return format!("template: {}", sections[s].title);
    }
    if let Some(&(_, s)) = alignment.duplicates.iter().find(|d| d.0 == h) {
        return format!("repeats template: {}", sections[s].title);
    }
    "extra section".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::analysis;
    use crate::analysis::text::{Encoding, LineIndex};
    use expect_test::expect;

    /// The tree, indented: `name (detail) lines a..b, selection c..d` (1-based lines).
    fn check(text: &str, expect: expect_test::Expect) {
        let (doc, analysis) = analysis(text, "x-joint-review.md");
        let index = LineIndex::new(doc.rope());
        let mut out = String::new();
        fn walk(symbols: &[Symbol], depth: usize, index: &LineIndex, out: &mut String) {
            for s in symbols {
                let line = |o| index.position(o, Encoding::Utf8).line + 1;
                out.push_str(&format!(
                    "{}{} ({}) {}..{}, selection {}..{}\n",
                    "  ".repeat(depth),
                    s.name,
                    s.detail,
                    line(s.range.start),
                    line(s.range.end),
                    line(s.selection.start),
                    line(s.selection.end),
                ));
                walk(&s.children, depth + 1, index, out);
            }
        }
        walk(&document_symbols(&analysis, &doc), 0, &index, &mut out);
        expect.assert_eq(&out);
    }

    #[test]
    fn heading_tree_with_outline_sections() {
        check(
            "# Joint-review of X\n\n## Overview\n\n### Project Goals\n\ng\n\n### Reviewers\n\n## Overview\n\n##\n**Metadata**\n\n| a | b |\n\n\n",
            expect![[r#"
                Joint-review of X (title: joint-review outline) 1..16, selection 1..1
                  Overview (template: Overview) 3..9, selection 3..3
                    Project Goals (template: Goal) 5..7, selection 5..5
                    Reviewers (extra section) 9..9, selection 9..9
                  Overview (repeats template: Overview) 11..11, selection 11..11
                  Metadata (template: Metadata) 13..16, selection 13..14
            "#]],
        );
    }

    #[test]
    fn skipped_levels_and_headings_before_the_title() {
        check(
            "### Deep\n\n# Joint-review of X\n\n### Goal\n\n## \n",
            expect![[r#"
                Deep (extra section) 1..1, selection 1..1
                Joint-review of X (title: joint-review outline) 3..7, selection 3..3
                  Goal (template: Goal) 5..5, selection 5..5
                  (empty heading) (extra section) 7..7, selection 7..7
            "#]],
        );
    }
}

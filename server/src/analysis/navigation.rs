//! Navigation between headings and the `#anchor` links that point to them: go to definition,
//! references, rename (which keeps every link pointing where it did) and document links.
//!
//! A link points to a heading when its anchor is the heading's GitHub anchor (see
//! `anchors.rs`), compared as GitHub does, ignoring case. No guessing here: a broken link has
//! no target (the `toc-link` rule says which heading it likely means).

use std::fmt;

use super::anchors;
use super::diagnostics::Edit;
use super::document::Document;
use super::folding::trim_end_blank;
use super::markdown::{AnchorLink, InlineCache};
use super::text::TextRange;
use super::Analysis;

/// The heading a link points to.
pub fn link_target(analysis: &Analysis, link: &AnchorLink) -> Option<usize> {
    let wanted = link.anchor.to_lowercase();
    if wanted.is_empty() {
        return None;
    }
    analysis.anchors.iter().position(|a| *a == wanted)
}

/// The link under the cursor.
fn link_at(analysis: &Analysis, offset: usize) -> Option<&AnchorLink> {
    analysis.links.iter().find(|l| l.range.touches(offset))
}

/// Where a link leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    /// The link.
    pub origin: TextRange,
    pub heading: usize,
    /// The heading's section, without its trailing blank lines.
    pub range: TextRange,
    /// The heading's line.
    pub selection: TextRange,
}

/// From an `#anchor` link (the cursor anywhere in it) to its heading.
pub fn definition(analysis: &Analysis, doc: &Document, offset: usize) -> Option<Definition> {
    let link = link_at(analysis, offset)?;
    let h = link_target(analysis, link)?;
    let heading = &analysis.syntax.headings[h];
    let range = trim_end_blank(doc, heading.section);
    Some(Definition {
        origin: link.range,
        heading: h,
        range: TextRange::new(range.start, range.end.max(heading.range.end)),
        selection: heading.range,
    })
}

/// The links to the heading on the cursor's line (or to the heading of the link under the
/// cursor), in document order; with `include_declaration`, the heading's line first.
pub fn references(analysis: &Analysis, offset: usize, include_declaration: bool) -> Vec<TextRange> {
    let heading = analysis
        .syntax
        .heading_at(offset)
        .or_else(|| link_target(analysis, link_at(analysis, offset)?));
    let Some(h) = heading else {
        return Vec::new();
    };
    let declaration = include_declaration.then_some(analysis.syntax.headings[h].range);
    declaration
        .into_iter()
        .chain(
            analysis
                .links
                .iter()
                .filter(|l| link_target(analysis, l) == Some(h))
                .map(|l| l.range),
        )
        .collect()
}

/// What a rename at the cursor would change: a heading's text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameTarget {
    pub heading: usize,
    /// The heading's content (after the `#` marker, without the closing `#`s).
    pub range: TextRange,
    /// That content as written.
    pub text: String,
}

/// Only a heading's text can be renamed (not its `#` marker, not other text).
pub fn prepare_rename(analysis: &Analysis, doc: &Document, offset: usize) -> Option<RenameTarget> {
    let (h, heading) = analysis
        .syntax
        .headings
        .iter()
        .enumerate()
        .find(|(_, h)| h.content.touches(offset))?;
    Some(RenameTarget {
        heading: h,
        range: heading.content,
        text: doc.slice(heading.content),
    })
}

/// Why a rename was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameError {
    NotAHeading,
    Empty,
    MultiLine,
    /// The new text has no anchor (only symbols or punctuation), so links to it would break.
    NoAnchor(String),
}

impl fmt::Display for RenameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenameError::NotAHeading => f.write_str("Only a heading's text can be renamed."),
            RenameError::Empty => f.write_str("A heading cannot be renamed to empty text."),
            RenameError::MultiLine => f.write_str("A heading's new text must be one line."),
            RenameError::NoAnchor(text) => write!(
                f,
                "'{text}' has no GitHub anchor (no letters or digits), so the links to this heading would break."
            ),
        }
    }
}

/// Renames the heading at the cursor: its content becomes `new_text`, and every `#anchor` link
/// whose heading's anchor changes is pointed at the new anchor. All anchors are recomputed, as
/// a rename can shift the numbers of duplicates (`notes`, `notes-1`). A link whose text is the
/// heading's old text, as written, gets the new text too (a table of contents entry).
pub fn rename(
    analysis: &Analysis,
    doc: &Document,
    offset: usize,
    new_text: &str,
) -> Result<Vec<Edit>, RenameError> {
    let target = prepare_rename(analysis, doc, offset).ok_or(RenameError::NotAHeading)?;
    let new_text = new_text.trim();
    if new_text.is_empty() {
        return Err(RenameError::Empty);
    }
    if new_text.contains(['\n', '\r']) {
        return Err(RenameError::MultiLine);
    }
    let rendered = InlineCache::new().facts(new_text).rendered.clone();
    let headings = &analysis.syntax.headings;
    let new_anchors = anchors::anchors(headings.iter().enumerate().map(|(i, h)| {
        if i == target.heading {
            rendered.as_str()
        } else {
            &*h.text
        }
    }));
    // An empty `##` has no space after its marker: one is needed before the new text.
    let after_marker = target.range.start > 0
        && doc.slice(TextRange::new(target.range.start - 1, target.range.start)) == "#";
    let mut edits = vec![Edit {
        range: target.range,
        new_text: if after_marker {
            format!(" {new_text}")
        } else {
            new_text.to_string()
        },
    }];
    let overlaps = |a: TextRange, b: TextRange| a.start < b.end && b.start < a.end;
    for link in &analysis.links {
        if overlaps(link.range, target.range) {
            continue;
        }
        let Some(h) = link_target(analysis, link) else {
            continue;
        };
        if h == target.heading {
            if let Some(text) = link_text_range(doc, link) {
                if doc.slice(text) == target.text {
                    edits.push(Edit {
                        range: text,
                        new_text: new_text.to_string(),
                    });
                }
            }
        }
        if new_anchors[h] == analysis.anchors[h] {
            continue;
        }
        if new_anchors[h].is_empty() {
            return Err(RenameError::NoAnchor(new_text.to_string()));
        }
        edits.push(Edit {
            range: link.target,
            new_text: new_anchors[h].clone(),
        });
    }
    edits.sort_by_key(|e| e.range.start);
    Ok(edits)
}

/// The text between the brackets of an inline link `[text](#anchor)`.
fn link_text_range(doc: &Document, link: &AnchorLink) -> Option<TextRange> {
    let before_target = doc.slice(TextRange::new(link.range.start, link.target.start));
    if !before_target.starts_with('[') {
        return None;
    }
    let close = before_target.rfind("](")?;
    Some(TextRange::new(
        link.range.start + 1,
        link.range.start + close,
    ))
}

/// A link that resolves, for the editor to make clickable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeadingLink {
    /// The `#anchor` part of the link.
    pub range: TextRange,
    pub heading: usize,
    pub tooltip: String,
}

/// The `#anchor` links that point to a heading.
pub fn document_links(analysis: &Analysis) -> Vec<HeadingLink> {
    analysis
        .links
        .iter()
        .filter_map(|link| {
            let h = link_target(analysis, link)?;
            Some(HeadingLink {
                range: TextRange::new(link.target.start.saturating_sub(1), link.target.end),
                heading: h,
                tooltip: format!("Go to '{}'", analysis.syntax.headings[h].text),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::analysis;
    use expect_test::expect;

    fn parse(fixture: &str) -> (usize, Document, Analysis) {
        let offset = fixture.find("$0").expect("fixture has a $0 cursor");
        let text = fixture.replace("$0", "");
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        (offset, doc, analysis)
    }

    fn check_definition(fixture: &str, expect: expect_test::Expect) {
        let (offset, doc, analysis) = parse(fixture);
        let got = definition(&analysis, &doc, offset).map_or("(none)".to_string(), |d| {
            format!(
                "{:?} -> {:?} in {:?}",
                doc.slice(d.origin),
                doc.slice(d.selection),
                doc.slice(d.range)
            )
        });
        expect.assert_eq(&got);
    }

    fn check_references(fixture: &str, include_declaration: bool, expect: expect_test::Expect) {
        let (offset, doc, analysis) = parse(fixture);
        let got: Vec<String> = references(&analysis, offset, include_declaration)
            .into_iter()
            .map(|r| format!("{}: {}", r.start, doc.slice(r)))
            .collect();
        expect.assert_eq(&got.join("\n"));
    }

    /// The document after the rename, or the error.
    fn check_rename(fixture: &str, new_text: &str, expect: expect_test::Expect) {
        let (offset, doc, analysis) = parse(fixture);
        let got = match rename(&analysis, &doc, offset, new_text) {
            Ok(edits) => {
                let mut text = doc.text();
                for e in edits.iter().rev() {
                    text.replace_range(e.range.start..e.range.end, &e.new_text);
                }
                text
            }
            Err(e) => format!("error: {e}"),
        };
        expect.assert_eq(&got);
    }

    const TOC: &str = "# Joint-review of X\n\n## Table of Contents\n\n* [Overview](#overview)\n  * [Goal](#goal)\n* [Notes](#notes)\n* [Notes again](#notes-1)\n\n## Overview\n\n### Goal\n\nSee [the goal](#Goal).\n\n## Notes\n\n## Notes\n";

    #[test]
    fn definition_from_anywhere_in_a_link() {
        let at = |needle: &str, plus: usize| {
            let i = TOC.find(needle).unwrap() + plus;
            format!("{}$0{}", &TOC[..i], &TOC[i..])
        };
        check_definition(
            &at("[Goal](#goal)", 0),
            expect![[
                r####""[Goal](#goal)" -> "### Goal" in "### Goal\n\nSee [the goal](#Goal).""####
            ]],
        );
        check_definition(
            &at("[Goal](#goal)", 13),
            expect![[
                r####""[Goal](#goal)" -> "### Goal" in "### Goal\n\nSee [the goal](#Goal).""####
            ]],
        );
        check_definition(
            &at("[Notes again]", 20),
            expect![[r###""[Notes again](#notes-1)" -> "## Notes" in "## Notes""###]],
        );
        check_definition(&at("## Overview", 4), expect!["(none)"]);
        check_definition(
            "# T\n\n[broken](#nowh$0ere)\n\n## Somewhere\n",
            expect!["(none)"],
        );
    }

    #[test]
    fn references_from_a_heading_or_a_link() {
        let goal = TOC.replace("### Goal", "### Go$0al");
        check_references(
            &goal,
            false,
            expect![[r#"
                71: [Goal](#goal)
                157: [the goal](#Goal)"#]],
        );
        check_references(
            &goal,
            true,
            expect![[r#"
                143: ### Goal
                71: [Goal](#goal)
                157: [the goal](#Goal)"#]],
        );
        check_references(
            &TOC.replace("[Notes again]", "[Notes $0again]"),
            true,
            expect![[r#"
                187: ## Notes
                105: [Notes again](#notes-1)"#]],
        );
        check_references(&TOC.replace("See [", "S$0ee ["), true, expect![[""]]);
    }

    #[test]
    fn prepare_rename_only_on_heading_text() {
        let check = |fixture: &str, expect: expect_test::Expect| {
            let (offset, doc, analysis) = parse(fixture);
            let got = prepare_rename(&analysis, &doc, offset).map_or("(none)".to_string(), |t| {
                format!("{:?} {}..{}", t.text, t.range.start, t.range.end)
            });
            expect.assert_eq(&got);
        };
        check(
            "# T\n\n## **Go$0al** ##\n",
            expect![[r#""**Goal**" 8..16"#]],
        );
        check("# T\n\n## Goal$0\n", expect![[r#""Goal" 8..12"#]]);
        check("# T\n\n#$0# Goal\n", expect!["(none)"]);
        check("# T\n\nte$0xt\n", expect!["(none)"]);
        check(
            "# T\n\n##\n**Meta$0data**\n",
            expect![[r#""Metadata" 10..18"#]],
        );
    }

    #[test]
    fn rename_updates_links_and_the_toc() {
        check_rename(
            &TOC.replace("### Goal", "### G$0oal"),
            "Goals and Non-goals",
            expect![[r#"
                # Joint-review of X

                ## Table of Contents

                * [Overview](#overview)
                  * [Goals and Non-goals](#goals-and-non-goals)
                * [Notes](#notes)
                * [Notes again](#notes-1)

                ## Overview

                ### Goals and Non-goals

                See [the goal](#goals-and-non-goals).

                ## Notes

                ## Notes
            "#]],
        );
    }

    #[test]
    fn rename_renumbers_duplicates() {
        // The first "Notes" goes: the second one's anchor becomes `notes`.
        check_rename(
            &TOC.replace("## Notes\n\n## Notes", "## No$0tes\n\n## Notes"),
            "Remarks",
            expect![[r#"
                # Joint-review of X

                ## Table of Contents

                * [Overview](#overview)
                  * [Goal](#goal)
                * [Remarks](#remarks)
                * [Notes again](#notes)

                ## Overview

                ### Goal

                See [the goal](#Goal).

                ## Remarks

                ## Notes
            "#]],
        );
        // Renaming the Overview to "Notes" shifts both later ones.
        check_rename(
            &TOC.replace("## Overview\n", "## Over$0view\n"),
            "Notes",
            expect![[r#"
                # Joint-review of X

                ## Table of Contents

                * [Notes](#notes)
                  * [Goal](#goal)
                * [Notes](#notes-1)
                * [Notes again](#notes-2)

                ## Notes

                ### Goal

                See [the goal](#Goal).

                ## Notes

                ## Notes
            "#]],
        );
    }

    #[test]
    fn rename_with_unicode_and_errors() {
        check_rename(
            "# T 😀\n\n[中文](#t-) [x](#中文-標題)\n\n## 中文 標題$0\n",
            "😀 新しい 見出し",
            expect![[r#"
                # T 😀

                [中文](#t-) [x](#-新しい-見出し)

                ## 😀 新しい 見出し
            "#]],
        );
        check_rename(
            "# T\n\n## Go$0al\n",
            "  ",
            expect!["error: A heading cannot be renamed to empty text."],
        );
        check_rename(
            "# T\n\n## Go$0al\n",
            "a\nb",
            expect!["error: A heading's new text must be one line."],
        );
        check_rename(
            "# T\n\n##$0\n\n## \n",
            "Goal",
            expect![[r#"
            # T

            ## Goal

            ## 
        "#]],
        );
        check_rename(
            "# T\n\n##\n\n## $0\n",
            "Goal",
            expect![[r#"
            # T

            ##

            ## Goal
        "#]],
        );
        check_rename("# T\n\n[g](#goal)\n\n## Go$0al\n", "😀", expect!["error: '😀' has no GitHub anchor (no letters or digits), so the links to this heading would break."]);
        check_rename(
            "# T\n\nte$0xt\n",
            "x",
            expect!["error: Only a heading's text can be renamed."],
        );
    }

    #[test]
    fn document_links_only_for_links_that_resolve() {
        let (doc, analysis) = analysis(TOC.replace("(#goal)", "(#goals)").as_str(), "x.md");
        let got: Vec<String> = document_links(&analysis)
            .iter()
            .map(|l| {
                let heading = &analysis.syntax.headings[l.heading];
                format!(
                    "{} -> {:?} at {} ({})",
                    doc.slice(l.range),
                    doc.slice(heading.range),
                    heading.range.start,
                    l.tooltip
                )
            })
            .collect();
        expect![[r####"
            #overview -> "## Overview" at 131 (Go to 'Overview')
            #notes -> "## Notes" at 178 (Go to 'Notes')
            #notes-1 -> "## Notes" at 188 (Go to 'Notes')
            #Goal -> "### Goal" at 144 (Go to 'Goal')"####]]
        .assert_eq(&got.join("\n"));
    }

    #[test]
    fn every_offset_of_odd_documents_is_safe() {
        let texts = [
            "",
            "#",
            "##\r\n**Bold**\r",
            "# 😀\r\n[a](#)[b](#-)\r[c](#%zz)\n## 中文 ##\n\n| | |\n|-|-|\n| | |\n",
            "Title\n=====\n\n[x](#title) <!-- open\n\n```\n# not a heading\n",
            TOC,
        ];
        for text in texts {
            let (doc, analysis) = analysis(text, "x.md");
            crate::analysis::symbols::document_symbols(&analysis, &doc);
            crate::analysis::folding::folding_ranges(&analysis, &doc);
            crate::analysis::lens::outline_status(&analysis);
            document_links(&analysis);
            for offset in 0..=text.len() + 1 {
                definition(&analysis, &doc, offset);
                references(&analysis, offset, true);
                prepare_rename(&analysis, &doc, offset);
                let _ = rename(&analysis, &doc, offset, "New 😀 name");
            }
        }
    }
}

//! The table of contents, written: a list made from the document's headings with GitHub
//! anchors, in the author's list style (marker, numbering, indentation) and depth, and the one
//! entry a `toc-entry` diagnostic asks for, added where it belongs.
//!
//! No marker comments are needed: the table of contents is the list the `toc-entry` rule finds
//! (under the outline's "Table of Contents" heading, or a list of anchor links before the
//! first section).

use super::actions::{block_insert, eol, line_start, with_eol};
use super::anchors;
use super::diagnostics::Edit;
use super::markdown::ListItem;
use super::matching;
use super::rules::{insertion_point, table_of_contents, toc_link, Toc};
use super::skeleton::TOC_DEPTH;
use super::text::TextRange;
use super::Context;

/// One line of a table of contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 0 for a top-level entry.
    pub depth: usize,
    /// The heading's rendered text.
    pub text: String,
    /// Without the `#`.
    pub anchor: String,
}

/// A list marker.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Marker {
    Bullet(String),
    /// `1.` or `1)`: the first number, the delimiter, and whether every item repeats the first
    /// number (`1.` `1.` `1.`, which Markdown numbers itself).
    Ordered {
        start: u64,
        delimiter: char,
        repeated: bool,
    },
}

impl Marker {
    fn parse(marker: &str) -> Marker {
        let digits = marker.trim_end_matches(['.', ')']);
        match (digits.parse::<u64>(), marker.chars().last()) {
            (Ok(start), Some(delimiter @ ('.' | ')'))) => Marker::Ordered {
                start,
                delimiter,
                repeated: true,
            },
            _ => Marker::Bullet(marker.to_string()),
        }
    }

    /// The marker of the `n`th item (0-based) of a list.
    fn nth(&self, n: usize) -> String {
        match self {
            Marker::Bullet(b) => b.clone(),
            Marker::Ordered {
                start,
                delimiter,
                repeated,
            } => {
                let number = if *repeated {
                    *start
                } else {
                    start.saturating_add(n as u64)
                };
                format!("{number}{delimiter}")
            }
        }
    }

    /// Columns from the marker to the item's text (`* ` is 2, `1. ` is 3).
    fn width(&self) -> usize {
        self.nth(0).len() + 1
    }
}

/// How a list is written, per depth: indentation and marker. Depths the author's list does
/// not reach continue its deepest one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Style {
    levels: Vec<(String, Marker)>,
}

impl Default for Style {
    /// `*` bullets, nested by two spaces (the template's table of contents).
    fn default() -> Self {
        Style {
            levels: vec![(String::new(), Marker::Bullet("*".to_string()))],
        }
    }
}

impl Style {
    /// The style of an existing list: each depth's indentation and marker are its first
    /// item's; ordered markers count up unless the author repeated one number.
    fn of(ctx: &Context, items: &[ListItem]) -> Style {
        let mut levels: Vec<(String, Marker)> = Vec::new();
        for depth in 0.. {
            let mut at_depth = items.iter().filter(|i| i.depth == depth);
            let Some(first) = at_depth.next() else { break };
            let indent = indent_of(ctx, first);
            let mut marker = Marker::parse(&first.marker);
            if let Marker::Ordered { repeated, .. } = &mut marker {
                *repeated = at_depth.all(|i| i.marker == first.marker)
                    && items.iter().filter(|i| i.depth == depth).count() > 1;
            }
            levels.push((indent, marker));
        }
        if levels.is_empty() {
            return Style::default();
        }
        Style { levels }
    }

    fn level(&self, depth: usize) -> (String, Marker) {
        let mut level = self.levels[0].clone();
        for d in 1..=depth {
            level = match self.levels.get(d) {
                Some(l) => l.clone(),
                None => (
                    format!("{}{}", level.0, " ".repeat(level.1.width())),
                    level.1,
                ),
            };
        }
        level
    }
}

/// Writes a list (lines joined by `\n`, no final line break).
pub fn render(entries: &[Entry], style: &Style) -> String {
    let mut lines = Vec::with_capacity(entries.len());
    // Items seen so far at each depth, under the current parent.
    let mut counts: Vec<usize> = Vec::new();
    for entry in entries {
        // A list cannot skip a level.
        let depth = entry.depth.min(counts.len());
        counts.truncate(depth + 1);
        if counts.len() == depth {
            counts.push(0);
        }
        let (indent, marker) = style.level(depth);
        lines.push(format!(
            "{indent}{} {}",
            marker.nth(counts[depth]),
            link(&entry.text, &entry.anchor)
        ));
        counts[depth] += 1;
    }
    lines.join("\n")
}

/// `[text](#anchor)`, the text escaped where Markdown would read it as markup.
fn link(text: &str, anchor: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '\\' | '[' | ']' | '*' | '`' | '<') {
            escaped.push('\\');
        }
        escaped.push(ch);
    }
    format!("[{escaped}](#{anchor})")
}

/// The entries for the document's headings, `levels` levels deep: every heading after the
/// title but the title, the template's preamble and the table of contents' own heading, at the
/// depth of its listed ancestors. With `with_title`, the title is the one top-level entry.
fn entries(
    ctx: &Context,
    toc_heading: Option<usize>,
    levels: usize,
    with_title: bool,
) -> Vec<Entry> {
    let headings = &ctx.syntax.headings;
    let title = ctx.alignment.title;
    let listed = |h: usize| {
        let skipped = Some(h) == ctx.alignment.preamble
            || Some(h) == toc_heading
            || title.is_some_and(|t| h < t)
            || (Some(h) == title && !with_title)
            || headings[h].text.is_empty()
            || ctx.anchors[h].is_empty();
        !skipped
    };
    (0..headings.len())
        .filter(|&h| listed(h))
        .map(|h| {
            let depth = std::iter::successors(ctx.alignment.heading_parent[h], |&p| {
                ctx.alignment.heading_parent[p]
            })
            .filter(|&p| listed(p))
            .count();
            Entry {
                depth,
                text: headings[h].text.to_string(),
                anchor: ctx.anchors[h].clone(),
            }
        })
        .filter(|e| e.depth < levels)
        .collect()
}

/// Where an item's marker starts (a nested item's range may start in its indentation).
fn marker_start(ctx: &Context, item: &ListItem) -> usize {
    let text = ctx.doc.slice(item.range);
    item.range.start + text.len() - text.trim_start().len()
}

/// The indentation before an item's marker (in a block quote, spaces as wide as `> `).
fn indent_of(ctx: &Context, item: &ListItem) -> String {
    let at = marker_start(ctx, item);
    let before = ctx.doc.slice(TextRange::new(line_start(ctx.doc, at), at));
    if before.chars().all(char::is_whitespace) {
        before
    } else {
        " ".repeat(before.chars().count())
    }
}

/// The items of the table of contents' list.
fn items<'c>(ctx: &'c Context, toc: &Toc) -> &'c [ListItem] {
    ctx.syntax
        .lists
        .iter()
        .find(|(r, _)| *r == toc.range)
        .map_or(&[], |(_, items)| items.as_slice())
}

/// The headings the table of contents lists (a broken link counts for the heading it
/// clearly means), each with its item. Computed once per table (one resolver for all links,
/// items found by binary search), so a document with thousands of entries stays linear.
fn listed<'c>(ctx: &Context, toc: &Toc, items: &'c [ListItem]) -> Vec<(usize, &'c ListItem)> {
    let pairs = toc.listed.get_or_init(|| {
        let resolver = toc_link::Resolver::new(ctx);
        toc.links
            .iter()
            .filter_map(|&l| {
                let link = &ctx.links[l];
                let heading = resolver
                    .resolve(ctx, link)
                    .map(Some)
                    .unwrap_or_else(|g| g)?;
                // Items are in document order, an item before its nested ones: the deepest
                // item holding the link is the last holding one that starts before it.
                let before = items.partition_point(|i| i.range.start <= link.range.start);
                let item = (0..before)
                    .rev()
                    .find(|&i| items[i].range.contains(link.range.start))?;
                Some((heading, item))
            })
            .collect()
    });
    pairs.iter().map(|&(h, i)| (h, &items[i])).collect()
}

/// A new table of contents, or the existing one brought up to date: its action's title and
/// edit. `None` when the document has no heading to list or the table is up to date.
pub fn update(ctx: &Context) -> Option<(String, Edit)> {
    let eol = eol(ctx.doc);
    let toc_section = ctx.outline.sections.iter().position(|s| s.is_toc);
    let toc_heading = toc_section.and_then(|s| ctx.alignment.heading_of(s));
    if let Some(toc) = table_of_contents(ctx) {
        let items = items(ctx, &toc);
        let first = items.first()?;
        let with_title = listed(ctx, &toc, items)
            .first()
            .is_some_and(|(h, _)| Some(*h) == ctx.alignment.title);
        let levels = items.iter().map(|i| i.depth + 1).max().unwrap_or(TOC_DEPTH);
        let entries = entries(ctx, toc.heading, levels, with_title);
        if entries.is_empty() {
            return None;
        }
        let list = with_eol(&render(&entries, &Style::of(ctx, items)), eol);
        let start = line_start(ctx.doc, first.range.start);
        let end = items.iter().map(|i| i.range.end).max().unwrap_or(start);
        let range = TextRange::new(start, end);
        if ctx.doc.slice(range) == list {
            return None;
        }
        return Some((
            "Update the table of contents".to_string(),
            Edit {
                range,
                new_text: list,
            },
        ));
    }
    let entries = entries(ctx, toc_heading, TOC_DEPTH, false);
    if entries.is_empty() {
        return None;
    }
    let list = render(&entries, &Style::default());
    if let Some(h) = toc_heading {
        // A "Table of Contents" heading with no list: the list goes right under it.
        let heading = &ctx.syntax.headings[h];
        let end = heading.bold_line_title.map_or(heading.range.end, |b| b.end);
        let line = ctx.doc.rope().byte_to_line(end);
        let offset = if line + 1 < ctx.doc.rope().len_lines() {
            ctx.doc.rope().line_to_byte(line + 1)
        } else {
            ctx.doc.len()
        };
        return Some((
            "Fill in the table of contents".to_string(),
            Edit {
                range: TextRange::empty(offset),
                new_text: block_insert(ctx.doc, offset, &list),
            },
        ));
    }
    let s = toc_section?;
    let offset = insertion_point(ctx, s).offset;
    let block = format!(
        "{} {}\n\n{list}",
        "#".repeat(ctx.expected_level(s) as usize),
        ctx.outline.sections[s].title
    );
    Some((
        "Add a table of contents".to_string(),
        Edit {
            range: TextRange::empty(offset),
            new_text: block_insert(ctx.doc, offset, &block),
        },
    ))
}

/// The list a new table of contents would have (for a skeleton), `\n` line breaks.
pub fn new_list(ctx: &Context) -> String {
    let toc_heading = ctx
        .outline
        .sections
        .iter()
        .position(|s| s.is_toc)
        .and_then(|s| ctx.alignment.heading_of(s));
    render(
        &entries(ctx, toc_heading, TOC_DEPTH, false),
        &Style::default(),
    )
}

/// The edits adding an entry for a heading (`text`, `anchor`) that starts at `at` under the
/// document heading `parent`, when the table of contents lists its family (its parent, or it
/// is top-level, and one of its siblings): after the listed sibling before it, else before the
/// one after it, in that sibling's indentation and marker; numbered siblings after it are
/// renumbered. The heading may be one about to be inserted at `at`.
pub fn entry_edits(
    ctx: &Context,
    toc: &Toc,
    parent: Option<usize>,
    at: usize,
    text: &str,
    anchor: &str,
) -> Option<Vec<Edit>> {
    // Already listed, perhaps by a link that is broken until the heading exists.
    let key = matching::key(text);
    let link_keys = toc.link_keys.get_or_init(|| {
        toc.links
            .iter()
            .map(|&l| matching::key(&ctx.links[l].text))
            .collect()
    });
    if toc
        .links
        .iter()
        .zip(link_keys)
        .any(|(&l, link_key)| ctx.links[l].anchor.eq_ignore_ascii_case(anchor) || *link_key == key)
    {
        return None;
    }
    let items = items(ctx, toc);
    let listed = listed(ctx, toc, items);
    let headings = &ctx.syntax.headings;
    let is_top = parent.is_none_or(|p| headings[p].range.start < toc.range.start);
    let parent_listed = is_top || parent.is_some_and(|p| listed.iter().any(|(l, _)| *l == p));
    let mut siblings: Vec<(usize, &ListItem)> = listed
        .iter()
        .copied()
        .filter(|(l, _)| ctx.alignment.heading_parent[*l] == parent)
        .collect();
    if !parent_listed || siblings.is_empty() {
        return None;
    }
    siblings.sort_by_key(|(_, i)| i.range.start);
    let eol = eol(ctx.doc);
    let line = |item: &ListItem, marker: &str| {
        format!("{}{marker} {}", indent_of(ctx, item), link(text, anchor))
    };
    // Siblings the new entry goes before.
    let after_it = siblings
        .iter()
        .position(|(l, _)| headings[*l].range.start >= at)
        .unwrap_or(siblings.len());
    let counting = siblings.windows(2).any(|w| w[0].1.marker != w[1].1.marker);
    let mut edits = Vec::new();
    let new_marker = match after_it.checked_sub(1).map(|i| siblings[i].1) {
        Some(item) => {
            let marker = match Marker::parse(&item.marker) {
                Marker::Ordered {
                    start, delimiter, ..
                } if counting => format!("{}{delimiter}", start.saturating_add(1)),
                _ => item.marker.clone(),
            };
            edits.push(Edit {
                range: TextRange::empty(item.range.end),
                new_text: format!("{eol}{}", line(item, &marker)),
            });
            marker
        }
        None => {
            let item = siblings[0].1;
            let offset = line_start(ctx.doc, item.range.start);
            edits.push(Edit {
                range: TextRange::empty(offset),
                new_text: format!("{}{eol}", line(item, &item.marker)),
            });
            item.marker.clone()
        }
    };
    // `1. 2. 3.` stays a count: the siblings after the new entry move up by one.
    if let Marker::Ordered {
        start, delimiter, ..
    } = Marker::parse(&new_marker)
    {
        if counting {
            for (n, (_, item)) in siblings[after_it..].iter().enumerate() {
                let marker = format!("{}{delimiter}", start.saturating_add(1 + n as u64));
                if marker != item.marker {
                    let at = marker_start(ctx, item);
                    edits.push(Edit {
                        range: TextRange::new(at, at + item.marker.len()),
                        new_text: marker,
                    });
                }
            }
        }
    }
    Some(edits)
}

/// The entry edit for an existing heading (for `toc-entry`).
pub fn heading_entry_edits(ctx: &Context, toc: &Toc, h: usize) -> Option<Vec<Edit>> {
    let heading = &ctx.syntax.headings[h];
    entry_edits(
        ctx,
        toc,
        ctx.alignment.heading_parent[h],
        heading.range.start,
        &heading.text,
        &ctx.anchors[h],
    )
}

/// The anchor a heading with this text would get if added now (first free number).
pub fn new_anchor(ctx: &Context, text: &str) -> String {
    let base = anchors::slug(text);
    let mut anchor = base.clone();
    let mut n = 0;
    while ctx.anchors.contains(&anchor) {
        n += 1;
        anchor = format!("{base}-{n}");
    }
    anchor
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::actions::{apply, context};
    use crate::analysis::fixture::analysis;
    use expect_test::expect;

    /// The document after the table-of-contents action, or why there is none.
    fn check(text: &str, expect: expect_test::Expect) {
        let (doc, analysis) = analysis(text, "x-joint-review.md");
        let ctx = context(&doc, &analysis);
        let got = match update(&ctx) {
            // Carriage returns shown, so a CRLF document is seen to stay CRLF.
            Some((title, edit)) => {
                format!("{title}\n---\n{}", apply(text, &[edit]).replace('\r', "␍"))
            }
            None => "(no action)".to_string(),
        };
        expect.assert_eq(&got);
    }

    #[test]
    fn creates_one_after_the_title() {
        check(
            "# Joint-review of X\n\nIntro.\n\n## Metadata\n\nm\n\n### Security links\n\nl\n\n## Overview\n\no\n\n### Background\n\nb\n\n#### Deep\n\nd\n",
            expect![[r#"
                Add a table of contents
                ---
                # Joint-review of X

                Intro.

                ## Table of Contents

                * [Metadata](#metadata)
                  * [Security links](#security-links)
                * [Overview](#overview)
                  * [Background](#background)

                ## Metadata

                m

                ### Security links

                l

                ## Overview

                o

                ### Background

                b

                #### Deep

                d
            "#]],
        );
    }

    #[test]
    fn updates_keeping_style_depth_and_numbering_duplicates() {
        check(
            "# Joint-review of X\n\n## Contents\n\n- [Metadata](#meta)\n    - [Old](#old)\n- [Overview](#overview)\n\n## Metadata\n\nm\n\n### Notes\n\nn\n\n#### Deeper\n\nx\n\n## Overview\n\no\n\n### Notes\n\nn\n\n## Q & A\n\nq\n",
            expect![[r#"
                Update the table of contents
                ---
                # Joint-review of X

                ## Contents

                - [Metadata](#metadata)
                    - [Notes](#notes)
                - [Overview](#overview)
                    - [Notes](#notes-1)
                - [Q & A](#q--a)

                ## Metadata

                m

                ### Notes

                n

                #### Deeper

                x

                ## Overview

                o

                ### Notes

                n

                ## Q & A

                q
            "#]],
        );
    }

    #[test]
    fn numbered_lists_stay_numbered() {
        check(
            "# Joint-review of X\n\n## Table of Contents\n\n1. [Metadata](#metadata)\n2. [Overview](#overview)\n\n## Metadata\n\nm\n\n## Overview\n\no\n\n## Roadmap\n\nr\n",
            expect![[r#"
                Update the table of contents
                ---
                # Joint-review of X

                ## Table of Contents

                1. [Metadata](#metadata)
                2. [Overview](#overview)
                3. [Roadmap](#roadmap)

                ## Metadata

                m

                ## Overview

                o

                ## Roadmap

                r
            "#]],
        );
    }

    #[test]
    fn repeated_numbers_stay_repeated() {
        check(
            "# Joint-review of X\n\n## Table of Contents\n\n1) [Metadata](#metadata)\n1) [Overview](#overview)\n\n## Metadata\n\nm\n\n## Overview\n\no\n\n## Roadmap\n\nr\n",
            expect![[r#"
                Update the table of contents
                ---
                # Joint-review of X

                ## Table of Contents

                1) [Metadata](#metadata)
                1) [Overview](#overview)
                1) [Roadmap](#roadmap)

                ## Metadata

                m

                ## Overview

                o

                ## Roadmap

                r
            "#]],
        );
    }

    #[test]
    fn up_to_date_is_no_action() {
        check(
            "# Joint-review of X\n\n## Table of Contents\n\n* [Metadata](#metadata)\n* [Overview](#overview)\n\n## Metadata\n\nm\n\n## Overview\n\no\n",
            expect!["(no action)"],
        );
    }

    #[test]
    fn fills_an_empty_toc_section() {
        check(
            "# Joint-review of X\r\n\r\n## Table of Contents\r\n## Metadata\r\n\r\nm\r\n",
            expect![[r#"
                Fill in the table of contents
                ---
                # Joint-review of X␍
                ␍
                ## Table of Contents␍
                ␍
                * [Metadata](#metadata)␍
                ␍
                ## Metadata␍
                ␍
                m␍
            "#]],
        );
    }

    #[test]
    fn entry_for_a_heading_goes_after_its_listed_sibling() {
        let text = "# Joint-review of X\n\n## Table of Contents\n\n1. [Metadata](#metadata)\n   1. [Security links](#security-links)\n2. [Overview](#overview)\n3. [Roadmap](#roadmap)\n\n## Metadata\n\nm\n\n### Security links\n\nl\n\n## Overview\n\no\n\n## Threat Model\n\nt\n\n## Roadmap\n\nr\n";
        let (doc, analysis) = analysis(text, "x-joint-review.md");
        let ctx = context(&doc, &analysis);
        let toc = table_of_contents(&ctx).unwrap();
        let h = analysis
            .syntax
            .headings
            .iter()
            .position(|h| &*h.text == "Threat Model")
            .unwrap();
        let edits = heading_entry_edits(&ctx, &toc, h).unwrap();
        let after = apply(text, &edits);
        expect![[r#"
            # Joint-review of X

            ## Table of Contents

            1. [Metadata](#metadata)
               1. [Security links](#security-links)
            2. [Overview](#overview)
            3. [Threat Model](#threat-model)
            4. [Roadmap](#roadmap)

        "#]]
        .assert_eq(&after[..after.find("## Metadata").unwrap()]);
    }
}

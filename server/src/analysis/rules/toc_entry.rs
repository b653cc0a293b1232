//! `toc-entry`: a section the document has but its table of contents leaves out.
//!
//! Only when the document has a table of contents: the list under the outline's "Table of
//! Contents" heading, or else a list of `#anchor` links before the first section. A heading is
//! expected in it when the table lists its parent (or it is top-level) and lists at least one
//! of its siblings: the table's authors chose which families to list, and a family it lists
//! should be complete. So the template's table, which lists no sub-section of Security
//! Analysis, is not asked to; but it lists the top-level sections and misses Threat Model.
//! The fix adds the entry after the listed sibling before it, in that sibling's list style.

use crate::analysis::diagnostics::{Code, Diagnostic, Fix};
use std::cell::OnceCell;
use std::collections::HashSet;

use crate::analysis::text::TextRange;
use crate::analysis::{toc, Context};

/// The table of contents: its range and the indices (into `ctx.links`) of its links.
pub struct Toc {
    pub range: TextRange,
    pub links: Vec<usize>,
    /// The heading of the "Table of Contents" section, when it has one.
    pub heading: Option<usize>,
    /// The headings it lists, each with the index of its item in the list: worked out once
    /// (see `toc::listed`), since each entry fix asks for it.
    pub listed: OnceCell<Vec<(usize, usize)>>,
    /// The matching key of each link's text (parallel to `links`), worked out once.
    pub link_keys: OnceCell<Vec<String>>,
}

/// Finds the document's table of contents.
pub fn table_of_contents(ctx: &Context) -> Option<Toc> {
    // Links are in document order: a binary search finds those of a list (there may be
    // thousands of lists and links).
    let links_in = |range: TextRange| -> Vec<usize> {
        let first = ctx.links.partition_point(|l| l.range.start < range.start);
        (first..ctx.links.len())
            .take_while(|&i| range.contains(ctx.links[i].range.start))
            .collect()
    };
    let toc_section = ctx.outline.sections.iter().position(|s| s.is_toc);
    if let Some(h) = toc_section.and_then(|s| ctx.alignment.heading_of(s)) {
        let heading = &ctx.syntax.headings[h];
        let range = TextRange::new(heading.range.end, heading.section.end);
        let (list, _) = ctx
            .syntax
            .lists
            .iter()
            .find(|(r, _)| range.contains(r.start))?;
        return Some(Toc {
            range: *list,
            links: links_in(*list),
            heading: Some(h),
            listed: OnceCell::new(),
            link_keys: OnceCell::new(),
        });
    }
    // A list of anchor links before the first matched section.
    let first_section = ctx
        .alignment
        .heading_section
        .iter()
        .position(|s| s.is_some())?;
    let before = ctx.syntax.headings[first_section].range.start;
    ctx.syntax
        .lists
        .iter()
        .filter(|(r, _)| r.start < before)
        .find_map(|(r, items)| {
            let links = links_in(*r);
            (items.len() >= 3 && links.len() * 5 >= items.len() * 4).then_some(Toc {
                range: *r,
                links,
                heading: None,
                listed: OnceCell::new(),
                link_keys: OnceCell::new(),
            })
        })
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(toc) = table_of_contents(ctx) else {
        return;
    };
    let resolver = super::toc_link::Resolver::new(ctx);
    let listed: Vec<usize> = toc
        .links
        .iter()
        // A broken link that clearly means a heading lists it: `toc-link` reports the link.
        .filter_map(|&l| {
            resolver
                .resolve(ctx, &ctx.links[l])
                .map(Some)
                .unwrap_or_else(|guess| guess)
        })
        .collect();
    if listed.is_empty() {
        return;
    }
    let parents = &ctx.alignment.heading_parent;
    // Top-level: under no heading, or under one above the table (the title, a preamble).
    let is_top =
        |h: usize| parents[h].is_none_or(|p| ctx.syntax.headings[p].range.start < toc.range.start);
    // Lookups for the loop below, so it stays linear with thousands of headings and links.
    let mut is_listed = vec![false; ctx.syntax.headings.len()];
    for &l in &listed {
        is_listed[l] = true;
    }
    let mut families: HashSet<(Option<usize>, bool)> = HashSet::new();
    for &l in &listed {
        families.insert((parents[l], is_top(l)));
    }
    for (h, heading) in ctx.syntax.headings.iter().enumerate() {
        if is_listed[h]
            || Some(h) == ctx.alignment.title
            || Some(h) == ctx.alignment.preamble
            || Some(h) == toc.heading
            || heading.text.is_empty()
            || heading.range.start < toc.range.start
        {
            continue;
        }
        // (`h` itself is not listed: a listed sibling of the same kind is another heading.)
        let family_listed = families.contains(&(parents[h], is_top(h)));
        let parent_listed = is_top(h) || parents[h].is_some_and(|p| is_listed[p]);
        if !(family_listed && parent_listed) {
            continue;
        }
        let mut d = Diagnostic::new(
            Code::TocEntry,
            heading.range,
            format!(
                "Section '{}' is not in the table of contents.",
                heading.text
            ),
        )
        .related(toc.range, "the table of contents");
        if let Some(s) = ctx.alignment.heading_section[h] {
            d = d.section(&ctx.outline.sections[s].title);
        }
        if let Some(edits) = toc::heading_entry_edits(ctx, &toc, h) {
            d = d.fix(Fix {
                title: format!("Add '{}' to the table of contents", heading.text),
                edits,
                safe: true,
            });
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::diagnostics::Code;
    use crate::analysis::fixture::{diagnostics, template_without};
    use expect_test::expect;

    #[test]
    fn template_misses_threat_model() {
        expect![[r#"
            213:1..213:16 Section 'Threat Model' is not in the table of contents.
        "#]]
        .assert_eq(&diagnostics(&template_without(&[]), Code::TocEntry));
    }

    #[test]
    fn no_toc_no_diagnostic() {
        let text = "# Joint-review of X\n\n## Metadata\n\nm\n\n## Overview\n\no\n";
        assert_eq!(diagnostics(text, Code::TocEntry), "");
    }
}

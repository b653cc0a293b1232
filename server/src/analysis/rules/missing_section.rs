//! `missing-section`: a section the template requires is not in the document.
//!
//! Sections the template shows as examples (the threat model's Identity Theft, Compromise,
//! Denial of Service) or only asks for when something holds ("Existing Audits", "Hands-on
//! review result") are never reported. The diagnostic's range is where the section belongs:
//! the heading of the present section it should follow, or of its parent when it would be the
//! parent's first sub-section. Its fix inserts the section's skeleton there (see
//! `skeleton.rs`): the heading at the level the document uses for that depth, a prompt for the
//! author, the required sub-sections the same way, and the section's entry in the table of
//! contents when the table lists its siblings. A section whose parent is missing too comes
//! with the parent's skeleton.

use super::toc_entry::Toc;
use crate::analysis::actions::{block_insert, normalize};
use crate::analysis::diagnostics::{Code, Diagnostic, Edit, Fix};
use crate::analysis::outline::Requirement;
use crate::analysis::text::TextRange;
use crate::analysis::{skeleton, toc, Context};

/// Where a missing section goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    /// The present section's heading it relates to (`None`: the document has no section
    /// before it).
    pub anchor_heading: Option<usize>,
    /// True when `anchor_heading` is the parent (the section goes first under it).
    pub under_parent: bool,
    /// Byte offset to insert the new section at (a line start, or the document's end).
    pub offset: usize,
}

/// Where section `s` would be inserted.
pub fn insertion_point(ctx: &Context, s: usize) -> Placement {
    let sections = &ctx.outline.sections;
    let ancestors: Vec<usize> =
        std::iter::successors(sections[s].parent, |&p| sections[p].parent).collect();
    let previous = ctx
        .present_predecessor(s)
        .and_then(|p| ctx.alignment.heading_of(p).map(|h| (p, h)));
    // Never after the next section the document has in order (a document whose levels
    // nest that section inside the previous one's heading, e.g. `### Goals` under a
    // `## Background`, still gets `s` before it).
    let before_next = |offset: usize, after: usize| {
        let next = (s + 1..sections.len())
            .filter(|t| !ctx.alignment.out_of_order.contains(t))
            .find_map(|t| ctx.alignment.heading_of(t))
            .map(|t| ctx.syntax.headings[t].range.start)
            .filter(|&next| next > after);
        next.map_or(offset, |next| offset.min(next))
    };
    match previous {
        Some((p, h)) if ancestors.contains(&p) => {
            // First under its parent: after the parent's own text, before any sub-heading.
            let heading = &ctx.syntax.headings[h];
            let offset = ctx
                .syntax
                .headings
                .get(h + 1)
                .filter(|next| next.range.start < heading.section.end)
                .map_or(heading.section.end, |next| next.range.start);
            Placement {
                anchor_heading: Some(h),
                under_parent: true,
                offset: before_next(offset, heading.range.start),
            }
        }
        Some((p, h)) => {
            // After the previous section and everything under it (its sub-sections too,
            // wherever their levels put them), but not past the end of the parent section it
            // belongs in.
            let start = ctx.syntax.headings[h].range.start;
            let mut offset = extent(ctx, p, h);
            if let Some(parent_heading) =
                sections[s].parent.and_then(|p| ctx.alignment.heading_of(p))
            {
                let parent_end = ctx.syntax.headings[parent_heading].section.end;
                if parent_end > start {
                    offset = offset.min(parent_end);
                }
            }
            Placement {
                anchor_heading: Some(h),
                under_parent: false,
                offset: before_next(offset, start),
            }
        }
        None => {
            let title = ctx.alignment.title.map(|t| &ctx.syntax.headings[t]);
            let offset = match title {
                Some(t) => ctx
                    .syntax
                    .headings
                    .iter()
                    .find(|h| h.range.start > t.range.start)
                    .map_or(t.section.end, |h| h.range.start),
                None => ctx
                    .syntax
                    .headings
                    .first()
                    .map_or(ctx.doc.len(), |h| h.range.start),
            };
            Placement {
                anchor_heading: ctx.alignment.title,
                under_parent: true,
                offset,
            }
        }
    }
}

/// Where present section `p` (heading `h`) ends: its heading's section, or further when a
/// sub-section's heading is at a level that ends it early.
fn extent(ctx: &Context, p: usize, h: usize) -> usize {
    let sections = &ctx.outline.sections;
    let mut end = ctx.syntax.headings[h].section.end;
    // Sub-sections follow their section in template order.
    for d in p + 1..sections.len() {
        if sections[d].depth <= sections[p].depth {
            break;
        }
        if ctx.alignment.out_of_order.contains(&d) {
            continue;
        }
        if let Some(dh) = ctx.alignment.heading_of(d) {
            end = end.max(ctx.syntax.headings[dh].section.end);
        }
    }
    end
}

/// What inserting a missing section writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Insertion {
    /// The section whose skeleton is written: the missing one, or its outermost missing
    /// ancestor.
    pub top: usize,
    /// Where (see [`insertion_point`]).
    pub offset: usize,
    /// The skeleton: `\n` line breaks, no final one.
    pub block: String,
    /// Its entry in the table of contents (empty when the table does not list its family).
    pub toc_entry: Vec<Edit>,
}

/// What inserting section `s` writes, given the document's table of contents.
pub fn insertion(ctx: &Context, s: usize, toc: Option<&Toc>) -> Insertion {
    let sections = &ctx.outline.sections;
    let mut top = s;
    while let Some(p) = sections[top]
        .parent
        .filter(|&p| ctx.alignment.section_match[p].is_none())
    {
        top = p;
    }
    let offset = insertion_point(ctx, top).offset;
    let written = skeleton::sections(ctx.outline, top, Some(s));
    let toc_list = sections[top].is_toc.then(|| toc::new_list(ctx));
    let block = skeleton::render(
        ctx.outline,
        &written,
        |d| ctx.expected_level(d),
        toc_list.as_deref(),
    );
    let level = ctx.expected_level(top);
    let parent = ctx
        .syntax
        .headings
        .iter()
        .rposition(|h| h.range.start < offset && h.level < level);
    let title = &sections[top].title;
    let toc_entry = toc
        .filter(|_| !sections[top].is_toc)
        .and_then(|t| toc::entry_edits(ctx, t, parent, offset, title, &toc::new_anchor(ctx, title)))
        .unwrap_or_default();
    Insertion {
        top,
        offset,
        block,
        toc_entry,
    }
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let toc = super::table_of_contents(ctx);
    for (s, section) in ctx.outline.sections.iter().enumerate() {
        if ctx.alignment.section_match[s].is_some() || section.requirement != Requirement::Required
        {
            continue;
        }
        // A table of contents without its own heading is still a table of contents.
        if section.is_toc && toc.is_some() {
            continue;
        }
        let place = insertion_point(ctx, s);
        let (range, message) = match place.anchor_heading {
            Some(h) => {
                let where_ = if place.under_parent { "under" } else { "after" };
                (
                    ctx.syntax.headings[h].range,
                    format!(
                        "The template's section '{}' is missing; it belongs {where_} '{}'.",
                        section.title,
                        ctx.heading_text(h)
                    ),
                )
            }
            None => (
                TextRange::empty(place.offset),
                format!("The template's section '{}' is missing.", section.title),
            ),
        };
        let insertion = insertion(ctx, s, toc.as_ref());
        let title = if insertion.top == s {
            format!("Insert section '{}'", section.title)
        } else {
            format!(
                "Insert section '{}' with '{}'",
                ctx.outline.sections[insertion.top].title, section.title
            )
        };
        let mut edits = insertion.toc_entry;
        edits.push(Edit {
            range: TextRange::empty(insertion.offset),
            new_text: block_insert(ctx.doc, insertion.offset, &insertion.block),
        });
        let edits = normalize(edits.clone()).unwrap_or(edits);
        out.push(
            Diagnostic::new(Code::MissingSection, range, message)
                .section(&section.title)
                .fix(Fix {
                    title,
                    edits,
                    safe: true,
                }),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::diagnostics::Code;
    use crate::analysis::fixture::{diagnostics, template_without};
    use crate::analysis::outline::Requirement;
    use expect_test::expect;

    #[test]
    fn none_on_the_template() {
        assert_eq!(
            diagnostics(&template_without(&[]), Code::MissingSection),
            ""
        );
    }

    /// Missing sections reported for `text`, by title.
    fn missing(text: &str) -> Vec<String> {
        let (_, analysis) = crate::analysis::fixture::analysis(text, "x-joint-review.md");
        let mut titles: Vec<String> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::MissingSection)
            .filter_map(|d| d.section.clone())
            .collect();
        titles.sort();
        titles
    }

    #[test]
    fn cutting_any_one_section_reports_exactly_it() {
        let outline = crate::analysis::outline::default_outline();
        for (s, section) in outline.sections.iter().enumerate() {
            let text = template_without(&[&section.title]);
            // The section and every required section under it went.
            let mut expected: Vec<String> = (0..outline.sections.len())
                .filter(|&d| {
                    std::iter::successors(Some(d), |&p| outline.sections[p].parent).any(|a| a == s)
                        && outline.sections[d].requirement == Requirement::Required
                })
                .map(|d| outline.sections[d].title.clone())
                .collect();
            expected.sort();
            assert_eq!(missing(&text), expected, "cut {:?}", section.title);
        }
    }

    #[test]
    fn cutting_several_sections_reports_each() {
        let cuts = [
            "Background",
            "Non-goals",
            "Threat Model",
            "Roadmap",
            "Appendix",
            "Security Degradation",
        ];
        let mut expected: Vec<String> = cuts.iter().map(|c| c.to_string()).collect();
        expected.sort();
        assert_eq!(missing(&template_without(&cuts)), expected);
    }

    #[test]
    fn each_cut_section_is_reported() {
        let text = template_without(&["Background", "Threat Model", "Roadmap", "Metadata"]);
        expect![[r#"
            3:1..3:21 The template's section 'Metadata' is missing; it belongs after 'Table of Contents'.
            3:1..3:21 The template's section 'Security links' is missing; it belongs after 'Table of Contents'.
            26:1..26:12 The template's section 'Background' is missing; it belongs under 'Overview'.
            125:1..125:21 The template's section 'Threat Model' is missing; it belongs after 'Security Analysis'.
            200:1..200:19 The template's section 'Roadmap' is missing; it belongs after 'Hands-on review'.
        "#]]
        .assert_eq(&diagnostics(&text, Code::MissingSection));
    }

    /// The document after the fix of the missing-section diagnostic for `section`.
    fn fixed(text: &str, section: &str) -> String {
        let (_, analysis) = crate::analysis::fixture::analysis(text, "x-joint-review.md");
        let d = analysis
            .diagnostics
            .iter()
            .find(|d| d.code == Code::MissingSection && d.section.as_deref() == Some(section))
            .expect("the diagnostic");
        let fix = d.fix.as_ref().expect("a fix");
        format!(
            "{}\n---\n{}",
            fix.title,
            crate::analysis::actions::apply(text, &fix.edits)
        )
    }

    #[test]
    fn fix_inserts_the_skeleton_and_the_toc_entry() {
        let text = "# Joint-review of X\n\n## Table of Contents\n\n* [Metadata](#metadata)\n* [Roadmap](#roadmap)\n\n## Metadata\n\nm\n## Roadmap\n\nr";
        expect![[r#"
            Insert section 'Overview' with 'Background'
            ---
            # Joint-review of X

            ## Table of Contents

            * [Metadata](#metadata)
            * [Overview](#overview)
            * [Roadmap](#roadmap)

            ## Metadata

            m

            ## Overview

            To be written.

            ### Background

            To be written.

            ### Goal

            To be written.

            ### Non-goals

            To be written.

            ## Roadmap

            r"#]]
        .assert_eq(&fixed(text, "Background"));
        // At the end of a document without a final line break.
        expect![[r#"
            Insert section 'Appendix'
            ---
            # Joint-review of X

            ## Table of Contents

            * [Metadata](#metadata)
            * [Roadmap](#roadmap)
            * [Appendix](#appendix)

            ## Metadata

            m
            ## Roadmap

            r

            ## Appendix

            To be written.
        "#]]
        .assert_eq(&fixed(text, "Appendix"));
    }

    #[test]
    fn fix_of_a_missing_toc_writes_the_list() {
        let text = "# Joint-review of X\n\n## Metadata\n\nm\n\n### Security links\n\nl\n\n## Overview\n\no\n";
        expect![[r#"
            Insert section 'Table of Contents'
            ---
            # Joint-review of X

            ## Table of Contents

            * [Metadata](#metadata)
              * [Security links](#security-links)
            * [Overview](#overview)

            ## Metadata

            m

            ### Security links

            l

            ## Overview

            o
        "#]]
        .assert_eq(&fixed(text, "Table of Contents"));
    }
}

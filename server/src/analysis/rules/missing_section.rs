//! `missing-section`: a section the template requires is not in the document.
//!
//! Sections the template shows as examples (the threat model's Identity Theft, Compromise,
//! Denial of Service) or only asks for when something holds ("Existing Audits", "Hands-on
//! review result") are never reported. The diagnostic's range is where the section belongs:
//! the heading of the present section it should follow, or of its parent when it would be the
//! parent's first sub-section. Its fix inserts the heading there, at the level the document
//! uses for that depth.

use crate::analysis::diagnostics::{Code, Diagnostic, Edit, Fix};
use crate::analysis::outline::Requirement;
use crate::analysis::text::TextRange;
use crate::analysis::Context;

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
                offset,
            }
        }
        Some((_, h)) => {
            // After the previous section and everything under it, but not past the end of
            // the parent section it belongs in.
            let mut offset = ctx.syntax.headings[h].section.end;
            if let Some(parent_heading) =
                sections[s].parent.and_then(|p| ctx.alignment.heading_of(p))
            {
                offset = offset.min(ctx.syntax.headings[parent_heading].section.end);
            }
            Placement {
                anchor_heading: Some(h),
                under_parent: false,
                offset,
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

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for (s, section) in ctx.outline.sections.iter().enumerate() {
        if ctx.alignment.section_match[s].is_some() || section.requirement != Requirement::Required
        {
            continue;
        }
        // A table of contents without its own heading is still a table of contents.
        if section.is_toc && super::table_of_contents(ctx).is_some() {
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
        let level = ctx.expected_level(s) as usize;
        let new_text = format!("{} {}\n\n", "#".repeat(level), section.title);
        let new_text = with_blank_line_before(ctx, place.offset, new_text);
        out.push(
            Diagnostic::new(Code::MissingSection, range, message)
                .section(&section.title)
                .fix(Fix {
                    title: format!("Insert section '{}'", section.title),
                    edits: vec![Edit {
                        range: TextRange::empty(place.offset),
                        new_text,
                    }],
                    safe: true,
                }),
        );
    }
}

/// Inserted text starts on a line of its own, after a blank line.
fn with_blank_line_before(ctx: &Context, offset: usize, text: String) -> String {
    let before = ctx
        .doc
        .slice(TextRange::new(offset.saturating_sub(4), offset));
    let blank = ["\n\n", "\r\n\r\n", "\r\r"]
        .iter()
        .any(|e| before.ends_with(e));
    if offset == 0 || blank {
        text
    } else if before.ends_with(['\n', '\r']) {
        format!("\n{text}")
    } else {
        format!("\n\n{text}")
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
}

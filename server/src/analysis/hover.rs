//! Hover on a heading: the template section it was taken as (and under which wording), that
//! section's guidance from the template, and the attribution the template's licence asks for.
//! Also on a standard persona's name (its description and use cases), on a Metadata row's name
//! (what the template asks for there) and on an `#anchor` link (the heading it points to, or
//! why it points nowhere).

use super::alignment::MatchKind;
use super::cursor::{self, Place};
use super::document::Document;
use super::outline::{push_attribution, Requirement, ValueKind};
use super::personas;
use super::rules::toc_link;
use super::text::TextRange;
use super::Analysis;

/// What to show, as Markdown, and the range it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverText {
    pub range: TextRange,
    pub markdown: String,
}

pub fn hover(analysis: &Analysis, doc: &Document, offset: usize) -> Option<HoverText> {
    if let Some(h) = analysis.syntax.heading_at(offset) {
        return heading(analysis, h);
    }
    let cursor = cursor::at(analysis, doc, offset);
    match cursor.place {
        Place::Link(link)
        | Place::AnchorTarget {
            link: Some(link), ..
        } => Some(anchor_link(analysis, doc, link)),
        Place::MetadataCell(cell) if cell.column == 0 => {
            let r = cell.row?;
            Some(metadata_row(analysis, r, cell.content))
        }
        Place::Persona { persona, range } => Some(HoverText {
            range,
            markdown: personas::all()[persona].documentation(),
        }),
        _ => None,
    }
}

/// Where an `#anchor` link goes: its heading, or why it goes nowhere and what it likely means.
fn anchor_link(analysis: &Analysis, doc: &Document, l: usize) -> HoverText {
    let link = &analysis.links[l];
    let ctx = cursor::context(analysis, doc);
    let describe = |h: usize| {
        let heading = &analysis.syntax.headings[h];
        let line = doc.rope().byte_to_line(heading.range.start) + 1;
        let mut text = format!("'{}' (line {line})", heading.text);
        if let Some(s) = analysis.alignment.heading_section[h] {
            let title = &analysis.outline().sections[s].title;
            if **title != *heading.text {
                text.push_str(&format!(", the template's {title}"));
            }
        }
        text
    };
    let markdown = match toc_link::resolve(&ctx, link) {
        Ok(h) => format!("Links to the heading {}.", describe(h)),
        Err(Some(h)) => format!(
            "`#{}` matches no heading's anchor (GitHub's rules: lowercase, spaces as `-`, \
             punctuation dropped). It probably means the heading {}, whose anchor is `#{}`.",
            link.anchor,
            describe(h),
            analysis.anchors[h]
        ),
        Err(None) => format!(
            "`#{}` matches no heading's anchor (GitHub's rules: lowercase, spaces as `-`, \
             punctuation dropped), and no heading has the link's words.",
            link.anchor
        ),
    };
    HoverText {
        range: link.range,
        markdown,
    }
}

/// What the template asks for in a Metadata row.
fn metadata_row(analysis: &Analysis, r: usize, range: TextRange) -> HoverText {
    let outline = analysis.outline();
    let row = &outline.metadata[r];
    let mut md = format!(
        "**{}** — Metadata row of the {} template",
        row.row, outline.display_name
    );
    if let Some(text) = cursor::template_metadata_text(outline, r) {
        md.push_str(&format!("\n\n{text}"));
    }
    let value = match &row.kind {
        ValueKind::Link => "a link to the software's repository".to_string(),
        ValueKind::YesNo => "Yes or No".to_string(),
        ValueKind::Text => "text".to_string(),
        ValueKind::OneOf(choices) => format!("one of {}", choices.join(", ")),
    };
    md.push_str(&format!("\n\nValue: {value}."));
    push_attribution(&mut md);
    HoverText {
        range,
        markdown: md,
    }
}

/// The template section a heading was taken as, with its guidance; the outline on the title.
fn heading(analysis: &Analysis, h: usize) -> Option<HoverText> {
    let heading = &analysis.syntax.headings[h];
    let outline = analysis.outline();
    let mut md = String::new();
    if Some(h) == analysis.alignment.title {
        md.push_str(&format!(
            "**{} outline** ({}): this is the document's title.\n",
            outline.name, analysis.selection.source
        ));
        return Some(HoverText {
            range: heading.range,
            markdown: md,
        });
    }
    let Some(s) = analysis.alignment.heading_section[h] else {
        md.push_str(&format!(
            "Not a section of the {} outline: an extra section, which the template allows.",
            outline.display_name
        ));
        return Some(HoverText {
            range: heading.range,
            markdown: md,
        });
    };
    let section = &outline.sections[s];
    let m = analysis.alignment.section_match[s].as_ref()?;
    md.push_str(&format!(
        "**{}** — {} template, section {}",
        section.title,
        outline.display_name,
        section_number(analysis, s)
    ));
    match &m.kind {
        MatchKind::Exact => {}
        MatchKind::Reworded => md.push_str(&format!(
            "\n\nTaken as '{}' (same words, other wording).",
            section.title
        )),
        MatchKind::Alias(alias) => md.push_str(&format!(
            "\n\nTaken as '{}' (a known alternative, '{alias}').",
            section.title
        )),
        MatchKind::Contains => md.push_str(&format!(
            "\n\nTaken as '{}' (the heading holds all its words).",
            section.title
        )),
    }
    if section.requirement != Requirement::Required {
        if let Some(why) = &section.why {
            md.push_str(&format!("\n\nOptional: {why}."));
        }
    }
    if !section.guidance.is_empty() {
        md.push_str("\n\n---\n\n");
        md.push_str(&section.guidance);
    }
    push_attribution(&mut md);
    Some(HoverText {
        range: heading.range,
        markdown: md,
    })
}

/// "3.2" for the second sub-section of the third section.
fn section_number(analysis: &Analysis, s: usize) -> String {
    let sections = &analysis.outline().sections;
    let mut parts = Vec::new();
    let mut cur = Some(s);
    while let Some(i) = cur {
        let siblings_before = (0..i)
            .filter(|&j| sections[j].parent == sections[i].parent)
            .count();
        parts.push((siblings_before + 1).to_string());
        cur = sections[i].parent;
    }
    parts.reverse();
    parts.join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::analysis;
    use expect_test::expect;

    fn check(fixture: &str, expect: expect_test::Expect) {
        let offset = fixture.find("$0").expect("fixture has a $0 cursor");
        let text = fixture.replace("$0", "");
        let (doc, analysis) = analysis(&text, "x-joint-review.md");
        let got = hover(&analysis, &doc, offset).map_or("(none)".to_string(), |h| {
            format!("[{}]\n{}", doc.slice(h.range), h.markdown)
        });
        expect.assert_eq(&got);
    }

    #[test]
    fn reworded_heading_shows_guidance_and_wording() {
        check(
            "# Joint-review of X\n\n## Overview\n\nx\n\n### Project Go$0als\n\ng\n",
            expect![[r#"
                [### Project Goals]
                **Goal** — joint review template, section 3.2

                Taken as 'Goal' (same words, other wording).

                ---

                The intended goal of the project, it should also include the security guarantees the  project
                is meant to provide (e.g., Flibble only allows parties with an authorization key
                to change data it stores).

                ---

                *From the CNCF TAG-Security templates (cncf/tag-security), CC BY 4.0; may be shortened or reformatted.*"#]],
        );
    }

    #[test]
    fn extra_heading_and_title() {
        check(
            "# Joint-review of X\n\n## Reviewers$0\n\nx\n",
            expect![[r#"
            [## Reviewers]
            Not a section of the joint review outline: an extra section, which the template allows."#]],
        );
        check(
            "# Joint-$0review of X\n\n## Metadata\n",
            expect![[r#"
            [# Joint-review of X]
            **joint-review outline** (detected from the title): this is the document's title.
        "#]],
        );
    }

    #[test]
    fn persona_anywhere() {
        check("# Joint-review of X\n\n## Overview\n\nUsed by platform implement$0ers and developers.\n", expect![[r#"
            [platform implementers]
            **Platform Implementer** — standard persona from the TAG-Security use cases

            The recognition of the platform implementer as a distinct role is a relatively recent phenomenon. The goal of the platform implementer is to take the business requirements and translate them to the underlying technology or cloud platform to make the organization's **enterprise, network and quota operators** and **security administrators and compliance officers** successful.

            One important aspect of this role may be to bridge between the heterogeneous cloud environments that are in use at the organization to provide a homogeneous management surface to the administrators and operators. This role is more technical than the roles of the operators and administrators and will often overlap with the role of a developer.

            Use cases:

            - As a platform implementer I can provide central administration of cloud resources to my operators and administrators.
            - As a platform implementer I can provide compartmentalization of cloud resources for delegation purposes by operators and administrators.
            - As a platform implementer I can allow my operators and administrators to delegate administration of resources.
            - As a platform implementer I can enable my security administrators to constrain the behavior of developers by setting guardrails.
            - As a platform implementer I can enable my security administrators and compliance officers to enforce auditing of access policies.
            - As a platform implementer I can enable my security administrators and compliance officers the auditing of resource access.
            - As a platform implementer I can enable my compliance officers the setting of audit logging policies for my organization's resources
            - As a platform implementer I can enable my compliance officers to certify the non-violation of my organization's compliance needs.

            ---

            *From the CNCF TAG-Security templates (cncf/tag-security), CC BY 4.0; may be shortened or reformatted.*"#]]);
        check(
            "# Joint-review of X\n\n* Third-party security sys$0tems\n",
            expect![[r#"
            [Third-party security systems]
            **Third Party Security Product/System** — standard persona from the TAG-Security use cases

            Use cases:

            - A third party system should be able to affect security policy based on assets being tagged as quarantined.
              - To put it more generically, I should be able to associate resources with dynamic labels/tags which can be used to trigger certain policies

            ---

            *From the CNCF TAG-Security templates (cncf/tag-security), CC BY 4.0; may be shortened or reformatted.*"#]],
        );
    }

    #[test]
    fn metadata_row_name() {
        check("# Joint-review of X\n\n## Metadata\n\n| | |\n| -- | -- |\n| **Security Prov$0ider** | Yes |\n", expect![[r#"
            [**Security Provider**]
            **Security Provider** — Metadata row of the joint review template

            Yes or No. Is the primary function of the project to support the security of an integrating system?

            Value: Yes or No.

            ---

            *From the CNCF TAG-Security templates (cncf/tag-security), CC BY 4.0; may be shortened or reformatted.*"#]]);
        check("# Joint-review of X\n\n## Metadata\n\n| | |\n| -- | -- |\n| Security Provider | Y$0es |\n", expect!["(none)"]);
    }

    #[test]
    fn anchor_links() {
        let text = "# Joint-review of X\n\n* [Goals](#go$0als)\n* [Overview](#overview)\n* [Nowhere](#nowhere)\n\n## Overview\n\n### Goal\n";
        check(
            text,
            expect![[r#"
            [[Goals](#goals)]
            `#goals` matches no heading's anchor (GitHub's rules: lowercase, spaces as `-`, punctuation dropped). It probably means the heading 'Goal' (line 9), whose anchor is `#goal`."#]],
        );
        check(
            &text.replace("$0", "").replace("[Over", "[Ov$0er"),
            expect![[r#"
            [[Overview](#overview)]
            Links to the heading 'Overview' (line 7)."#]],
        );
        check(
            &text.replace("$0", "").replace("#nowhere", "#nowh$0ere"),
            expect![[r#"
            [[Nowhere](#nowhere)]
            `#nowhere` matches no heading's anchor (GitHub's rules: lowercase, spaces as `-`, punctuation dropped), and no heading has the link's words."#]],
        );
    }
}

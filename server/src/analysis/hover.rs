//! Hover on a heading: the template section it was taken as (and under which wording), that
//! section's guidance from the template, and the attribution the template's licence asks for.

use super::alignment::MatchKind;
use super::outline::{Requirement, ATTRIBUTION};
use super::text::TextRange;
use super::Analysis;

/// What to show, as Markdown, and the range it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverText {
    pub range: TextRange,
    pub markdown: String,
}

pub fn hover(analysis: &Analysis, offset: usize) -> Option<HoverText> {
    let h = analysis.syntax.heading_at(offset)?;
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
    md.push_str(&format!("\n\n---\n\n*{ATTRIBUTION}*"));
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
        let (_, analysis) = analysis(&text, "x-joint-review.md");
        let got = hover(&analysis, offset).map_or("(none)".to_string(), |h| h.markdown);
        expect.assert_eq(&got);
    }

    #[test]
    fn reworded_heading_shows_guidance_and_wording() {
        check(
            "# Joint-review of X\n\n## Overview\n\nx\n\n### Project Go$0als\n\ng\n",
            expect![[r#"
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
        check("# Joint-review of X\n\n## Reviewers$0\n\nx\n", expect!["Not a section of the joint review outline: an extra section, which the template allows."]);
        check("# Joint-$0review of X\n\n## Metadata\n", expect!["**joint-review outline** (detected from the title): this is the document's title.\n"]);
    }
}

//! The outline status shown on the title (a code lens): the outline in force, why, how many of
//! its required sections are present, and how many sections still hold template text.

use super::diagnostics::Code;
use super::outline::Requirement;
use super::text::TextRange;
use super::Analysis;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutlineStatus {
    /// The title heading's line, or an empty range at the start without a title.
    pub range: TextRange,
    /// "joint-review outline (detected from the title): 27/31 sections, 3 still template text"
    pub title: String,
    /// Required sections present.
    pub present: usize,
    /// Required sections of the outline.
    pub required: usize,
    /// Sections whose own text (up to the next heading) has a `template-text` diagnostic.
    pub template_text: usize,
}

pub fn outline_status(analysis: &Analysis) -> OutlineStatus {
    let outline = analysis.outline();
    let alignment = &analysis.alignment;
    let required: Vec<usize> = (0..outline.sections.len())
        .filter(|&s| outline.sections[s].requirement == Requirement::Required)
        .collect();
    let present = required
        .iter()
        .filter(|&&s| alignment.section_match[s].is_some())
        .count();
    let headings = &analysis.syntax.headings;
    let mut holds_template_text = vec![false; headings.len()];
    for d in &analysis.diagnostics {
        if d.code != Code::TemplateText {
            continue;
        }
        // The one heading whose own text may hold it: the last to end at or before it.
        // (A scan of all diagnostics per heading took 0.8 s with 20 000 headings.)
        let h = headings.partition_point(|h| h.range.end <= d.range.start);
        if let Some(h) = h.checked_sub(1) {
            if own_text(analysis, h).contains(d.range.start) {
                holds_template_text[h] = true;
            }
        }
    }
    let template_text = (0..headings.len())
        .filter(|&h| Some(h) != alignment.title && Some(h) != alignment.preamble)
        .filter(|&h| holds_template_text[h])
        .count();
    let mut title = format!(
        "{} outline ({}): {present}/{} sections",
        outline.name,
        analysis.selection.source,
        required.len()
    );
    if template_text > 0 {
        title.push_str(&format!(", {template_text} still template text"));
    }
    let range = alignment
        .title
        .map_or(TextRange::empty(0), |t| headings[t].range);
    OutlineStatus {
        range,
        title,
        present,
        required: required.len(),
        template_text,
    }
}

/// The text of heading `h`'s section up to the next heading.
fn own_text(analysis: &Analysis, h: usize) -> TextRange {
    let headings = &analysis.syntax.headings;
    let end = headings
        .get(h + 1)
        .map_or(analysis.syntax.len, |next| next.range.start);
    TextRange::new(headings[h].range.end, end.max(headings[h].range.end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture::{analysis, template_without};
    use expect_test::expect;

    fn check(text: &str, expect: expect_test::Expect) {
        let (doc, analysis) = analysis(text, "x.md");
        let status = outline_status(&analysis);
        expect.assert_eq(&format!("{:?}: {}", doc.slice(status.range), status.title));
    }

    #[test]
    fn the_whole_template_is_complete_and_all_template_text() {
        check(
            &template_without(&[]),
            expect![[
                r##""# Joint-review of [Project]": joint-review outline (detected from the title): 28/28 sections, 28 still template text"##
            ]],
        );
    }

    #[test]
    fn missing_sections_and_own_text() {
        check(
            &template_without(&["Threat Model", "Metadata"]),
            expect![[
                r##""# Joint-review of [Project]": joint-review outline (detected from the title): 25/28 sections, 25 still template text"##
            ]],
        );
        check(
            "<!-- joint-review-lsp: outline=self-assessment -->\n\nNo headings yet.\n",
            expect![[
                r#""": self-assessment outline (set by a comment in the document): 0/15 sections"#
            ]],
        );
    }

    /// The count is of sections whose own text holds a `template-text` diagnostic, found by
    /// looking at every diagnostic for every section.
    #[test]
    fn template_text_is_counted_per_section() {
        let template = template_without(&[]);
        let mut texts = vec![
            template.clone(),
            template_without(&["Threat Model", "Metadata"]),
            // Guidance left under sections repeated and out of order.
            template.replace("## Metadata", "## Overview\n\n## Metadata"),
            format!("{template}\n{template}"),
            // Template text before the first heading, and a document ending on a heading.
            format!("{{project}} intro\n\n{template}\n## Appendix"),
        ];
        texts.push(texts[3].replace("# Joint-review of [Project]", "# Joint-review of Widget"));
        // A placeholder in a heading: in no section's own text.
        texts.push(
            "# Joint-review of Widget\n\n## Overview\n\nFine.\n\n### Goal of [Project]\n\nKeys.\n"
                .to_string(),
        );
        for text in texts {
            let (_, analysis) = analysis(&text, "x.md");
            let headings = &analysis.syntax.headings;
            let alignment = &analysis.alignment;
            let expected = (0..headings.len())
                .filter(|&h| Some(h) != alignment.title && Some(h) != alignment.preamble)
                .filter(|&h| {
                    analysis.diagnostics.iter().any(|d| {
                        d.code == Code::TemplateText
                            && own_text(&analysis, h).contains(d.range.start)
                    })
                })
                .count();
            assert_eq!(outline_status(&analysis).template_text, expected, "{text}");
        }
    }

    #[test]
    fn replaced_text_no_longer_counts() {
        check(
            "# Joint-review of Widget\n\n## Overview\n\nFlibble is great.\n\n### Goal\n\nWidget keeps keys.\n",
            expect![[r##""# Joint-review of Widget": joint-review outline (detected from the title): 2/28 sections, 1 still template text"##]],
        );
    }
}

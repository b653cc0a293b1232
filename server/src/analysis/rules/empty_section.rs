//! `empty-section`: a heading with nothing under it, neither text of its own nor in its
//! sub-sections. HTML comments do not count as content: a reader does not see them.
//!
//! Also an empty heading whose title sits on the next line as bold text (`##` then
//! `**Metadata**`, from word-processor exports): the analysis already takes the bold text as
//! the title; the fix moves it into the heading, where GitHub's outline and anchors see it.

use crate::analysis::diagnostics::{Code, Diagnostic, Edit, Fix};
use crate::analysis::markdown::BlockKind;
use crate::analysis::text::TextRange;
use crate::analysis::Context;

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for (h, heading) in ctx.syntax.headings.iter().enumerate() {
        if let Some(bold) = heading.bold_line_title {
            let marker = "#".repeat(heading.level as usize);
            out.push(
                Diagnostic::new(
                    Code::EmptySection,
                    heading.range,
                    format!(
                        "This heading is empty; its title '{}' is bold text on the next line.",
                        heading.text
                    ),
                )
                .fix(Fix {
                    title: format!("Make '{}' the heading's text", heading.text),
                    edits: vec![Edit {
                        range: TextRange::new(heading.range.start, bold.end),
                        new_text: format!("{marker} {}", heading.text),
                    }],
                    safe: true,
                }),
            );
        }
        // The title's own section can be empty when its sections are its siblings (`##` title).
        if Some(h) == ctx.alignment.preamble || Some(h) == ctx.alignment.title {
            continue;
        }
        let body = TextRange::new(heading.range.end, heading.section.end);
        if ctx
            .syntax
            .blocks_in(body)
            .any(|b| b.kind != BlockKind::Comment)
        {
            continue;
        }
        let (message, section) = match ctx.alignment.heading_section[h] {
            Some(s) => {
                let title = &ctx.outline.sections[s].title;
                (
                    format!("The template's section '{title}' is empty."),
                    Some(title.as_str()),
                )
            }
            None if heading.text.is_empty() => (
                "This heading has no text and nothing under it.".to_string(),
                None,
            ),
            None => (format!("Section '{}' is empty.", heading.text), None),
        };
        let mut d = Diagnostic::new(Code::EmptySection, heading.range, message);
        if let Some(title) = section {
            d = d.section(title);
        }
        out.push(d);
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::diagnostics::Code;
    use crate::analysis::fixture::diagnostics;
    use expect_test::expect;

    #[test]
    fn empty_and_comment_only_sections() {
        let text = "# Joint-review of X\n\n## Overview\n\n### Background\n\n<!-- todo -->\n\n### Goal\n\nA goal.\n\n##\n**Appendix**\n\nText.\n\n## Roadmap\n";
        expect![[r#"
            5:1..5:15 The template's section 'Background' is empty.
            13:1..13:3 This heading is empty; its title 'Appendix' is bold text on the next line.
            18:1..18:11 The template's section 'Roadmap' is empty.
        "#]]
        .assert_eq(&diagnostics(text, Code::EmptySection));
    }
}

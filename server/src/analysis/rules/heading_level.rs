//! `heading-level`: a section's heading has a level other than the template's.
//!
//! Levels are relative: documents that put every section one level higher or lower than the
//! template (a `#` title with `#` sections) are consistent and not reported. The document's
//! offset is the most common one among its matched sections; a heading that differs from it
//! is reported, e.g. `# Secure Development Practices` among `##` sections.

use crate::analysis::diagnostics::{Code, Diagnostic, Edit, Fix};
use crate::analysis::text::TextRange;
use crate::analysis::Context;

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for (s, section) in ctx.outline.sections.iter().enumerate() {
        let Some(h) = ctx.alignment.heading_of(s) else {
            continue;
        };
        let heading = &ctx.syntax.headings[h];
        let expected = ctx.expected_level(s);
        if heading.level == expected {
            continue;
        }
        let mut d = Diagnostic::new(
            Code::HeadingLevel,
            heading.range,
            format!(
                "Section '{}' is a level-{} heading; the template puts it at level {} ({}).",
                section.title,
                heading.level,
                expected,
                "#".repeat(expected as usize)
            ),
        )
        .section(&section.title);
        // ATX headings: replace the run of `#`.
        let raw = ctx.doc.slice(heading.range);
        let indent = raw.len() - raw.trim_start().len();
        let hashes = raw[indent..].chars().take_while(|&c| c == '#').count();
        if hashes as u8 == heading.level {
            let start = heading.range.start + indent;
            d = d.fix(Fix {
                title: format!("Make '{}' a level-{expected} heading", heading.text),
                edits: vec![Edit {
                    range: TextRange::new(start, start + hashes),
                    new_text: "#".repeat(expected as usize),
                }],
                safe: false,
            });
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
    fn one_heading_off_its_level() {
        let text = "# Joint-review of X\n\n## Metadata\n\nm\n\n## Overview\n\no\n\n## Background\n\nb\n\n# Secure Development Practices\n\ns\n";
        expect![[r#"
            11:1..11:14 Section 'Background' is a level-2 heading; the template puts it at level 3 (###).
            15:1..15:31 Section 'Secure Development Practices' is a level-1 heading; the template puts it at level 2 (##).
        "#]]
        .assert_eq(&diagnostics(text, Code::HeadingLevel));
    }

    #[test]
    fn a_consistent_shift_is_fine() {
        let text = "# Title\n\n# Metadata\n\nm\n\n# Overview\n\no\n\n## Background\n\nb\n";
        assert_eq!(diagnostics(text, Code::HeadingLevel), "");
    }
}

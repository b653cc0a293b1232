//! `duplicate-section`: a template section's heading appears twice at the same level.
//!
//! The first occurrence (or the one under the expected parent) is the section; each later one
//! is reported, pointing back to it.

use crate::analysis::diagnostics::{Code, Diagnostic};
use crate::analysis::Context;

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    for &(h, s) in &ctx.alignment.duplicates {
        let title = &ctx.outline.sections[s].title;
        let mut d = Diagnostic::new(
            Code::DuplicateSection,
            ctx.syntax.headings[h].range,
            format!("Section '{title}' appears more than once; the template has it once."),
        )
        .section(title);
        if let Some(first) = ctx.alignment.heading_of(s) {
            d = d.related(
                ctx.syntax.headings[first].range,
                format!("'{title}' is first here"),
            );
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
    fn second_copy_is_reported() {
        let text = "# Joint-review of X\n\n## Overview\n\no\n\n### Goals\n\ng\n\n### Goal\n\nagain\n\n## Metadata\n\nm\n";
        expect![[r#"
            11:1..11:9 Section 'Goal' appears more than once; the template has it once.
        "#]]
        .assert_eq(&diagnostics(text, Code::DuplicateSection));
    }
}

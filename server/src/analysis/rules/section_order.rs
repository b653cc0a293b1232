//! `section-order`: a section is present but not where the template's order puts it.
//!
//! The order is judged on the whole document at once (see `alignment.rs`): the longest run of
//! sections in template order stays put and each section outside it is reported once, so
//! moving one section gives one diagnostic, not one for everything after it. A sub-section
//! that moved with its parent is not reported again. The fix moves the section, everything
//! under its heading included, to where a missing section would be inserted.

use crate::analysis::actions::{block_insert, normalize};
use crate::analysis::diagnostics::{Code, Diagnostic, Edit, Fix};
use crate::analysis::text::TextRange;
use crate::analysis::Context;

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let sections = &ctx.outline.sections;
    for &s in &ctx.alignment.out_of_order {
        let Some(h) = ctx.alignment.heading_of(s) else {
            continue;
        };
        let in_order = |p: &usize| {
            ctx.alignment.heading_of(*p).is_some() && !ctx.alignment.out_of_order.contains(p)
        };
        let before = ctx.present_predecessor(s);
        let after = (s + 1..sections.len()).find(in_order);
        let place = match (before, after) {
            (Some(p), _) => format!("after '{}'", sections[p].title),
            (None, Some(n)) => format!("before '{}'", sections[n].title),
            (None, None) => "elsewhere".to_string(),
        };
        let mut d = Diagnostic::new(
            Code::SectionOrder,
            ctx.syntax.headings[h].range,
            format!(
                "Section '{}' is out of the template's order: it belongs {place}.",
                sections[s].title
            ),
        )
        .section(&sections[s].title);
        if let Some(p) = before.and_then(|p| ctx.alignment.heading_of(p)) {
            d = d.related(
                ctx.syntax.headings[p].range,
                format!("'{}' is here", sections[before.unwrap()].title),
            );
        }
        if let Some(fix) = move_fix(ctx, s, h, &place) {
            d = d.fix(fix);
        }
        out.push(d);
    }
}

/// Moves heading `h`'s whole section to where section `s` belongs; `None` when that place is
/// inside the section itself (its content would have to move around it).
fn move_fix(ctx: &Context, s: usize, h: usize, place: &str) -> Option<Fix> {
    let section = ctx.syntax.headings[h].section;
    let to = super::insertion_point(ctx, s).offset;
    if section.start <= to && to <= section.end {
        return None;
    }
    let text = ctx.doc.slice(section);
    let block = text.trim_end().replace("\r\n", "\n").replace('\r', "\n");
    let edits = normalize(vec![
        Edit {
            range: TextRange::empty(to),
            new_text: block_insert(ctx.doc, to, &block),
        },
        Edit {
            range: section,
            new_text: String::new(),
        },
    ])?;
    Some(Fix {
        title: format!("Move '{}' {place}", ctx.heading_text(h)),
        edits,
        safe: false,
    })
}

#[cfg(test)]
mod tests {
    use crate::analysis::diagnostics::Code;
    use crate::analysis::fixture::diagnostics;
    use expect_test::expect;

    #[test]
    fn one_moved_section_is_one_diagnostic() {
        let text = "# Joint-review of X\n\n## Metadata\n\nm\n\n## Roadmap\n\nr\n\n## Overview\n\no\n\n### Background\n\nb\n\n## Appendix\n\na\n";
        expect![[r#"
            7:1..7:11 Section 'Roadmap' is out of the template's order: it belongs after 'Overview'.
        "#]]
        .assert_eq(&diagnostics(text, Code::SectionOrder));
    }

    #[test]
    fn in_order_is_quiet() {
        let text =
            "# Joint-review of X\n\n## Metadata\n\nm\n\n## Overview\n\no\n\n## Roadmap\n\nr\n";
        assert_eq!(diagnostics(text, Code::SectionOrder), "");
    }
}

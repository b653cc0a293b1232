//! `template-text`: text copied from the template and not replaced.
//!
//! Three kinds: the template's own preamble (`# Joint-review Outline` and the author guidance
//! under it) left above the document's title; a sentence of a section's guidance ("A link to
//! the software's repository.") left in a paragraph or table cell; and placeholders
//! (`[Project]`, "Flibble", "mmddyyyy"). Sections whose template text is meant to be kept
//! (the "Joint-review use" statement) are only checked for placeholders.

use crate::analysis::diagnostics::{Code, Diagnostic, Edit, Fix};
use crate::analysis::markdown::InlineCache;
use crate::analysis::outline::fold_text;
use crate::analysis::text::TextRange;
use crate::analysis::Context;

pub(super) fn check(ctx: &Context, cache: &mut InlineCache, out: &mut Vec<Diagnostic>) {
    preamble(ctx, out);
    let headings = ctx.syntax.headings.iter().map(|h| h.content);
    for range in ctx.syntax.inlines.iter().copied().chain(headings) {
        let text = ctx.doc.slice(range);
        let section = ctx
            .heading_containing(range.start)
            .and_then(|h| ctx.enclosing_section(h));
        let boilerplate = section.is_some_and(|s| ctx.outline.sections[s].boilerplate);
        let is_heading = ctx.syntax.heading_at(range.start).is_some();
        let found = cache.derived(ctx.outline.name, &text, |text| find(ctx, text));
        if !boilerplate && !is_heading {
            let sentences = &ctx.outline.guidance_sentences;
            if let Some((_, s)) = found.guidance.map(|i| &sentences[i]) {
                let title = &ctx.outline.sections[*s].title;
                out.push(
                    Diagnostic::new(
                        Code::TemplateText,
                        range,
                        format!("This is the template's guidance for '{title}'; replace it with the project's own text."),
                    )
                    .section(title),
                );
                continue;
            }
        }
        placeholders(ctx, range, &text, &found.placeholders, out);
    }
}

/// What one inline text holds, found once per text (see [`InlineCache::derived`]).
struct Found {
    /// The first guidance sentence (index into the outline's) the text contains.
    guidance: Option<usize>,
    /// Placeholders: byte offset in the text and index into the outline's placeholders.
    placeholders: Vec<(usize, usize)>,
}

fn find(ctx: &Context, text: &str) -> Found {
    let folded = fold_text(text);
    let guidance = ctx
        .outline
        .guidance_sentences
        .iter()
        .position(|(g, _)| folded.contains(g.as_str()));
    let lower = text.to_ascii_lowercase();
    let mut placeholders = Vec::new();
    for (p, placeholder) in ctx.outline.placeholders.iter().enumerate() {
        let needle = placeholder.to_ascii_lowercase();
        let mut from = 0;
        while let Some(at) = lower[from..].find(&needle) {
            let end = from + at + needle.len();
            // `[project](https://...)` is a link whose text is "project", not the placeholder.
            if needle.starts_with('[') && lower[end..].starts_with(['(', '[']) {
                from = end;
                continue;
            }
            placeholders.push((from + at, p));
            from += at + needle.len();
        }
    }
    Found {
        guidance,
        placeholders,
    }
}

fn preamble(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(p) = ctx.alignment.preamble else {
        return;
    };
    let heading = &ctx.syntax.headings[p];
    let end = ctx
        .alignment
        .title
        .map_or(heading.section.end, |t| ctx.syntax.headings[t].range.start);
    let end = end.max(heading.range.end);
    out.push(
        Diagnostic::new(
            Code::TemplateText,
            heading.range,
            format!(
                "'{}' and the text under it are the template's advice to authors; the document starts at '{}'.",
                heading.text, ctx.outline.root_heading
            ),
        )
        .fix(Fix {
            title: "Remove the template's preamble".to_string(),
            edits: vec![Edit { range: TextRange::new(heading.range.start, end), new_text: String::new() }],
            safe: false,
        }),
    );
}

fn placeholders(
    ctx: &Context,
    range: TextRange,
    text: &str,
    found: &[(usize, usize)],
    out: &mut Vec<Diagnostic>,
) {
    for &(at, p) in found {
        let needle = ctx.outline.placeholders[p].to_ascii_lowercase();
        let start = range.start + at;
        let found = &text[at..at + needle.len()];
        let message = if needle == "[project]" {
            format!("'{found}' is the template's placeholder; replace it with the project's name.")
        } else {
            format!("'{found}' is the template's example text; replace it with this project's own.")
        };
        out.push(Diagnostic::new(
            Code::TemplateText,
            TextRange::new(start, start + needle.len()),
            message,
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::analysis::diagnostics::Code;
    use crate::analysis::fixture::diagnostics;
    use expect_test::expect;

    #[test]
    fn guidance_placeholders_and_preamble() {
        let text = "# Joint-review Outline\n\nThe joint-review is built on top of the self-assessment.\n\n# Joint-review of [Project]\n\n## Metadata\n\n| | |\n| -- | -- |\n| Software | A link to the software’s repository. |\n| Date | mmddyyyy |\n\n## Joint-review use\n\nThis document does not intend to provide a security audit of [project] and is not intended to be used in lieu of a security audit.\n\n## Overview\n\nFlibble is great.\n";
        expect![[r#"
            1:1..1:23 'Joint-review Outline' and the text under it are the template's advice to authors; the document starts at 'Joint-review of [Project]'.
            5:19..5:28 '[Project]' is the template's placeholder; replace it with the project's name.
            11:14..11:50 This is the template's guidance for 'Metadata'; replace it with the project's own text.
            12:10..12:18 'mmddyyyy' is the template's example text; replace it with this project's own.
            16:62..16:71 '[project]' is the template's placeholder; replace it with the project's name.
            20:1..20:8 'Flibble' is the template's example text; replace it with this project's own.
        "#]]
        .assert_eq(&diagnostics(text, Code::TemplateText));
    }
}

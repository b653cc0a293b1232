//! `toc-link`: an `#anchor` link (in the table of contents or anywhere) that matches no
//! heading, by GitHub's anchor rules (see `anchors.rs`).
//!
//! When a heading has the link text's wording, or an anchor that the link's anchor is a
//! prefix of, the diagnostic names it and the fix points the link there.

use std::collections::HashMap;

use crate::analysis::diagnostics::{Code, Diagnostic, Edit, Fix};
use crate::analysis::markdown::AnchorLink;
use crate::analysis::matching;
use crate::analysis::Context;

/// The heading a link points to (`Ok`), or the heading it most likely means (`Err(Some)`).
pub fn resolve(ctx: &Context, link: &AnchorLink) -> Result<usize, Option<usize>> {
    Resolver::new(ctx).resolve(ctx, link)
}

/// [`resolve`] for many links: the lookups are built once (a document may have thousands of
/// links and headings; searching the headings for each link would be quadratic).
pub struct Resolver {
    /// Heading by anchor.
    anchor: HashMap<String, usize>,
    /// First heading by matching key.
    heading_key: HashMap<String, usize>,
}

impl Resolver {
    pub fn new(ctx: &Context) -> Resolver {
        let mut anchor = HashMap::new();
        for (h, a) in ctx.anchors.iter().enumerate() {
            anchor.entry(a.clone()).or_insert(h);
        }
        let mut heading_key = HashMap::new();
        for (h, heading) in ctx.syntax.headings.iter().enumerate() {
            heading_key.entry(matching::key(&heading.text)).or_insert(h);
        }
        Resolver {
            anchor,
            heading_key,
        }
    }

    pub fn resolve(&self, ctx: &Context, link: &AnchorLink) -> Result<usize, Option<usize>> {
        let wanted = link.anchor.to_lowercase();
        if let Some(&h) = self.anchor.get(&wanted) {
            return Ok(h);
        }
        let by_words = |key: &str| self.heading_key.get(key).copied();
        // A link named after a template section points to the heading taken as that section.
        let by_section = |key: &str| {
            ctx.alignment
                .heading_of(*ctx.outline.section_by_key.get(key)?)
        };
        let text_key = matching::key(&link.text);
        let anchor_key = matching::key(&wanted.replace('-', " "));
        Err(by_words(&text_key)
            .or_else(|| by_words(&anchor_key))
            .or_else(|| by_section(&text_key))
            .or_else(|| by_section(&anchor_key))
            .filter(|&h| !ctx.anchors[h].is_empty()))
    }
}

pub(super) fn check(ctx: &Context, out: &mut Vec<Diagnostic>) {
    let resolver = Resolver::new(ctx);
    for link in ctx.links {
        let Err(suggestion) = resolver.resolve(ctx, link) else {
            continue;
        };
        let mut message = format!("Link target '#{}' matches no heading", link.anchor);
        let mut d;
        match suggestion {
            Some(h) => {
                message.push_str(&format!(
                    "; the heading '{}' has the anchor '#{}'.",
                    ctx.heading_text(h),
                    ctx.anchors[h]
                ));
                d = Diagnostic::new(Code::TocLink, link.target, message);
                d = d
                    .related(ctx.syntax.headings[h].range, "the heading it likely means")
                    .fix(Fix {
                        title: format!("Link to '#{}'", ctx.anchors[h]),
                        edits: vec![Edit {
                            range: link.target,
                            new_text: ctx.anchors[h].clone(),
                        }],
                        safe: true,
                    });
            }
            None => {
                message.push('.');
                d = Diagnostic::new(Code::TocLink, link.target, message);
            }
        }
        if let Some(s) = suggestion.and_then(|h| ctx.alignment.heading_section[h]) {
            d = d.section(&ctx.outline.sections[s].title);
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
    fn broken_and_working_links() {
        let text = "# Joint-review of X\n\n* [Goals](#goals)\n* [Q & A](#q--a)\n* [Nowhere](#nowhere)\n* [Set up](#configuration-and-set-up)\n\n### Goal\n\n## Q & A\n\n## Configuration and Set-Up\n";
        expect![[r#"
            3:12..3:17 Link target '#goals' matches no heading; the heading 'Goal' has the anchor '#goal'.
            5:14..5:21 Link target '#nowhere' matches no heading.
        "#]]
        .assert_eq(&diagnostics(text, Code::TocLink));
    }

    #[test]
    fn duplicate_headings_get_numbered_anchors() {
        let text = "# T\n\n[a](#notes-1) [b](#notes-2)\n\n## Notes\n\n## Notes\n";
        expect![[r#"
            3:20..3:27 Link target '#notes-2' matches no heading.
        "#]]
        .assert_eq(&diagnostics(text, Code::TocLink));
    }
}

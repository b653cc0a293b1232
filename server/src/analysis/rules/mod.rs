//! The diagnostic rules, one file each: its code, what it reports and why, its fix, its tests.

mod duplicate_section;
mod empty_section;
mod heading_level;
mod metadata_table;
mod missing_section;
mod section_order;
mod template_text;
mod toc_entry;
pub mod toc_link;

pub use missing_section::{insertion, insertion_point, Insertion, Placement};
pub use toc_entry::{table_of_contents, Toc};

use super::diagnostics::Diagnostic;
use super::markdown::InlineCache;
use super::Context;

/// Runs every rule.
pub fn run(ctx: &Context, cache: &mut InlineCache) -> Vec<Diagnostic> {
    let mut out = run_outline(ctx);
    empty_section::check(ctx, &mut out);
    template_text::check(ctx, cache, &mut out);
    metadata_table::check(ctx, cache, &mut out);
    toc_link::check(ctx, &mut out);
    toc_entry::check(ctx, &mut out);
    out
}

/// Runs the rules that read only the headings (their codes are [`Code::is_outline`]).
///
/// [`Code::is_outline`]: super::diagnostics::Code::is_outline
pub fn run_outline(ctx: &Context) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    missing_section::check(ctx, &mut out);
    section_order::check(ctx, &mut out);
    heading_level::check(ctx, &mut out);
    duplicate_section::check(ctx, &mut out);
    out
}

impl Context<'_> {
    /// The heading level a section is expected at in this document (1..=6).
    pub fn expected_level(&self, section: usize) -> u8 {
        (self.alignment.base_level + self.outline.sections[section].depth as i32).clamp(1, 6) as u8
    }

    /// The heading text of a section's matched heading.
    pub fn heading_text(&self, heading: usize) -> &str {
        &self.syntax.headings[heading].text
    }

    /// The outline section that a heading or one of its ancestors was matched to, innermost
    /// first.
    pub fn enclosing_section(&self, heading: usize) -> Option<usize> {
        let mut h = Some(heading);
        while let Some(i) = h {
            if let Some(s) = self.alignment.heading_section[i] {
                return Some(s);
            }
            h = self.alignment.heading_parent[i];
        }
        None
    }

    /// The section a missing or moved section `s` comes after: the nearest one before it in
    /// template order that is present (and not out of order) and is its parent or at its depth
    /// or above. `None` when the document has none.
    pub fn present_predecessor(&self, s: usize) -> Option<usize> {
        let sections = &self.outline.sections;
        let ancestors: Vec<usize> =
            std::iter::successors(sections[s].parent, |&p| sections[p].parent).collect();
        (0..s).rev().find(|&p| {
            self.alignment.heading_of(p).is_some()
                && !self.alignment.out_of_order.contains(&p)
                && (ancestors.contains(&p) || sections[p].depth <= sections[s].depth)
        })
    }

    /// The heading whose section holds `offset` (the innermost).
    pub fn heading_containing(&self, offset: usize) -> Option<usize> {
        // Headings are in document order.
        self.syntax
            .headings
            .partition_point(|h| h.range.start <= offset)
            .checked_sub(1)
    }
}

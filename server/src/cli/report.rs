//! One checked document's results, in the terms every output format shares: diagnostics with
//! 0-based line/column positions whose columns count Unicode scalar values, the outline used,
//! and what `--verbose` explains about how headings were matched.

use std::panic::{self, AssertUnwindSafe};

use crate::analysis::alignment::{Alignment, MatchKind};
use crate::analysis::config::Config;
use crate::analysis::detect::OutlineSource;
use crate::analysis::diagnostics::{Code, Diagnostic, Severity};
use crate::analysis::document::Document;
use crate::analysis::markdown::{Heading, InlineCache};
use crate::analysis::outline::{Outline, Requirement};
use crate::analysis::text::{Encoding, LineCol, LineIndex};
use crate::analysis::{self};

/// The encoding of every column the command line prints.
pub const ENCODING: Encoding = Encoding::Utf32;

/// The results for one document.
#[derive(Clone, Debug)]
pub struct FileReport {
    /// The path as given or found, or `<stdin>`.
    pub path: String,
    /// The outline's name (`joint-review`, ...).
    pub outline: &'static str,
    /// Why that outline.
    pub outline_source: OutlineSource,
    pub diagnostics: Vec<Finding>,
    /// Headings taken as a template section under another wording, in document order.
    pub rewordings: Vec<Rewording>,
    pub sections: SectionCounts,
}

/// One diagnostic, positioned.
#[derive(Clone, Debug)]
pub struct Finding {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// The template section's title, for outline rules.
    pub section: Option<String>,
    /// 0-based; columns in Unicode scalar values.
    pub start: LineCol,
    pub end: LineCol,
}

/// A heading matched to a section whose title it does not spell exactly.
#[derive(Clone, Debug)]
pub struct Rewording {
    pub heading: String,
    /// 0-based line of the heading.
    pub line: u32,
    pub section: String,
    pub kind: MatchKind,
}

/// How many of the outline's sections the document has.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SectionCounts {
    pub matched: usize,
    pub total: usize,
    pub required_present: usize,
    pub required: usize,
}

/// Analyses one document's text. A failure inside the analysis is reported as an error for
/// this document rather than ending the whole run.
pub fn analyze(
    path: &str,
    file_name: Option<&str>,
    text: &str,
    config: &Config,
) -> Result<FileReport, String> {
    panic::catch_unwind(AssertUnwindSafe(|| {
        analyze_text(path, file_name, text, config)
    }))
    .map_err(|_| format!("{path}: internal error while analysing this document (please report it)"))
}

fn analyze_text(path: &str, file_name: Option<&str>, text: &str, config: &Config) -> FileReport {
    let doc = Document::new(text);
    let result = analysis::analyze(&doc, file_name, config, &mut InlineCache::new());
    let index = LineIndex::new(doc.rope());
    let outline = result.outline();
    FileReport {
        path: path.to_string(),
        outline: outline.name,
        outline_source: result.selection.source,
        diagnostics: result
            .diagnostics
            .iter()
            .map(|d| finding(d, &index))
            .collect(),
        rewordings: rewordings(outline, &result.alignment, &result.syntax.headings, &index),
        sections: section_counts(outline, &result.alignment),
    }
}

fn finding(d: &Diagnostic, index: &LineIndex) -> Finding {
    Finding {
        code: d.code,
        severity: d.severity,
        message: d.message.clone(),
        section: d.section.clone(),
        start: index.position(d.range.start, ENCODING),
        end: index.position(d.range.end, ENCODING),
    }
}

fn rewordings(
    outline: &Outline,
    alignment: &Alignment,
    headings: &[Heading],
    index: &LineIndex,
) -> Vec<Rewording> {
    let mut out: Vec<Rewording> = alignment
        .section_match
        .iter()
        .enumerate()
        .filter_map(|(s, m)| {
            let m = m.as_ref().filter(|m| m.kind != MatchKind::Exact)?;
            let heading = headings.get(m.heading)?;
            Some(Rewording {
                heading: heading.text.to_string(),
                line: index.position(heading.range.start, ENCODING).line,
                section: outline.sections.get(s)?.title.clone(),
                kind: m.kind.clone(),
            })
        })
        .collect();
    out.sort_by_key(|r| r.line);
    out
}

fn section_counts(outline: &Outline, alignment: &Alignment) -> SectionCounts {
    let mut counts = SectionCounts {
        total: outline.sections.len(),
        ..SectionCounts::default()
    };
    for (section, m) in outline.sections.iter().zip(&alignment.section_match) {
        let required = section.requirement == Requirement::Required;
        counts.matched += usize::from(m.is_some());
        counts.required += usize::from(required);
        counts.required_present += usize::from(required && m.is_some());
    }
    counts
}

//! The analysis: pure functions from a document's text to what the server and `check` report.
//!
//! Nothing here knows LSP, JSON-RPC, tokio or the file system: inputs are text and byte
//! offsets, outputs are plain structs. `lsp/` and `cli/` convert at their edges.

pub mod actions;
pub mod alignment;
pub mod anchors;
pub mod completion;
pub mod config;
pub mod cursor;
pub mod detect;
pub mod diagnostics;
pub mod document;
pub mod folding;
pub mod hover;
pub mod lens;
pub mod markdown;
pub mod matching;
pub mod navigation;
pub mod outline;
pub mod personas;
pub mod rules;
pub mod skeleton;
pub mod symbols;
pub mod text;
pub mod toc;

#[cfg(test)]
mod fixture;

use alignment::Alignment;
use config::Config;
use detect::Selection;
use diagnostics::Diagnostic;
use document::Document;
use markdown::{AnchorLink, InlineCache, Syntax};
use outline::Outline;

/// Everything known about one version of a document.
pub struct Analysis {
    pub selection: Selection,
    pub syntax: Syntax,
    pub alignment: Alignment,
    /// GitHub anchor of each heading (parallel to `syntax.headings`).
    pub anchors: Vec<String>,
    pub links: Vec<AnchorLink>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn outline(&self) -> &'static Outline {
        self.selection.outline
    }
}

/// What every rule reads.
pub struct Context<'a> {
    pub doc: &'a Document,
    pub syntax: &'a Syntax,
    pub outline: &'static Outline,
    pub alignment: &'a Alignment,
    pub anchors: &'a [String],
    pub links: &'a [AnchorLink],
}

/// Analyses a document. `file_name` (a path or URI path) helps pick the outline.
pub fn analyze(
    doc: &Document,
    file_name: Option<&str>,
    config: &Config,
    cache: &mut InlineCache,
) -> Analysis {
    let syntax = Syntax::new(doc, cache);
    let head_end = doc.floor_char_boundary(4096);
    let head = doc.slice(text::TextRange::new(0, head_end));
    let selection = detect::select(&head, &syntax.headings, file_name, config);
    let alignment = Alignment::new(selection.outline, &syntax.headings);
    let anchors = anchors::anchors(syntax.headings.iter().map(|h| h.text.as_str()));
    let links = syntax.anchor_links(doc, cache);
    cache.sweep();
    let ctx = Context {
        doc,
        syntax: &syntax,
        outline: selection.outline,
        alignment: &alignment,
        anchors: &anchors,
        links: &links,
    };
    // A document too large to parse has no syntax: nothing to report (see `Document`).
    let mut diagnostics = if doc.is_too_large() {
        Vec::new()
    } else {
        rules::run(&ctx, cache)
    };
    diagnostics.retain_mut(|d| match config.severity_of(d.code) {
        Some(severity) => {
            d.severity = severity;
            true
        }
        None => false,
    });
    diagnostics.sort_by_key(|d| (d.range.start, d.code));
    Analysis {
        selection,
        syntax,
        alignment,
        anchors,
        links,
        diagnostics,
    }
}

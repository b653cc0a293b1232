//! The server's state: open documents, each with its version and its latest analyses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tower_lsp_server::ls_types::{ClientCapabilities, Uri};

use crate::analysis::config::Config;
use crate::analysis::diagnostics::Diagnostic;
use crate::analysis::document::Document;
use crate::analysis::markdown::InlineCache;
use crate::analysis::text::{Encoding, TextChange};
use crate::analysis::{analyze, analyze_outline, Analysis, Pass};

/// An analysis together with the document version it was made from.
pub struct Analyzed {
    pub version: i32,
    pub doc: Document,
    pub analysis: Analysis,
}

pub struct OpenDocument {
    pub doc: Document,
    pub version: i32,
    /// The latest full analysis (the outline pass for a document too large to parse).
    pub latest: Option<Arc<Analyzed>>,
    /// The latest outline pass.
    pub outline: Option<Arc<Analyzed>>,
    /// Inline parses reused between full analyses of this document.
    pub cache: Arc<Mutex<InlineCache>>,
    /// The same for the outline pass (its own, so it never waits for a full analysis).
    pub outline_cache: Arc<Mutex<InlineCache>>,
    /// The edits since `latest`, with the version each made: they carry its diagnostics to
    /// the current text until the next full analysis.
    pub edits: Vec<(i32, TextChange)>,
    /// What was last published: its version, and whether it was the last for that version
    /// (the full analysis).
    pub published: Option<(i32, bool)>,
    /// How long the last full analysis took.
    pub full_cost: Option<Duration>,
    pub last_change: Instant,
}

impl OpenDocument {
    pub fn new(text: &str, version: i32) -> Self {
        Self {
            doc: Document::new(text),
            version,
            latest: None,
            outline: None,
            cache: Arc::default(),
            outline_cache: Arc::default(),
            edits: Vec::new(),
            published: None,
            full_cost: None,
            last_change: Instant::now(),
        }
    }

    /// The latest full analysis's diagnostics that the outline pass does not make, carried
    /// through the edits since to the current text; those an edit touched are left out (the
    /// next full analysis has them).
    pub fn carried_diagnostics(&self) -> Vec<Diagnostic> {
        let Some(latest) = self
            .latest
            .as_ref()
            .filter(|l| l.analysis.pass == Pass::Full)
        else {
            return Vec::new();
        };
        let edits: Vec<TextChange> = self
            .edits
            .iter()
            .filter(|(v, _)| *v > latest.version)
            .map(|(_, e)| *e)
            .collect();
        latest
            .analysis
            .diagnostics
            .iter()
            .filter(|d| !d.code.is_outline())
            .filter_map(|d| {
                let mut d = d.clone();
                for &edit in &edits {
                    d.range = d.range.after_edit(edit)?;
                    for r in &mut d.related {
                        r.range = r.range.after_edit(edit)?;
                    }
                }
                // A fix was made for the old text.
                d.fix = None;
                Some(d)
            })
            .collect()
    }
}

#[derive(Default)]
pub struct State {
    pub docs: HashMap<Uri, OpenDocument>,
    pub config: Config,
    pub encoding: Encoding,
    /// The client shows Markdown in hovers.
    pub hover_markdown: bool,
    /// The client takes snippets in completion items.
    pub completion_snippets: bool,
    /// The client shows Markdown in completion items' documentation.
    pub completion_markdown: bool,
    pub navigation: NavigationCaps,
    /// The client asked for `$/jointReview/analysed` after each publish.
    pub analysis_notifications: bool,
}

/// What the client supports of the navigation features' answers.
#[derive(Clone, Copy, Debug, Default)]
pub struct NavigationCaps {
    /// Folding ranges are whole lines (no start or end columns).
    pub line_folding_only: bool,
    /// Document symbols may nest (else a flat list with container names).
    pub hierarchical_symbols: bool,
    /// Go to definition may answer with `LocationLink`s.
    pub definition_links: bool,
    /// The client sends `prepareRename` first.
    pub prepare_rename: bool,
}

impl NavigationCaps {
    pub fn new(capabilities: &ClientCapabilities) -> Self {
        let Some(text) = capabilities.text_document.as_ref() else {
            return Self::default();
        };
        Self {
            line_folding_only: text
                .folding_range
                .as_ref()
                .and_then(|f| f.line_folding_only)
                .unwrap_or(false),
            hierarchical_symbols: text
                .document_symbol
                .as_ref()
                .and_then(|d| d.hierarchical_document_symbol_support)
                .unwrap_or(false),
            definition_links: text
                .definition
                .as_ref()
                .and_then(|d| d.link_support)
                .unwrap_or(false),
            prepare_rename: text
                .rename
                .as_ref()
                .and_then(|r| r.prepare_support)
                .unwrap_or(false),
        }
    }
}

/// A document larger than this (512 KiB; the longest real review is ~100 KB) does not keep its
/// block tree between full analyses: each parses from scratch, and only while it runs does the
/// tree (~40 bytes per byte of text) take memory. Its full analyses wait for a pause in typing
/// anyway (see `server.rs`).
pub const KEEP_TREE_MAX: usize = 512 * 1024;

/// Everything needed to analyse one version away from the state's lock.
pub struct Job {
    pub uri: Uri,
    pub version: i32,
    pub pass: Pass,
    pub doc: Document,
    pub config: Config,
    pub cache: Arc<Mutex<InlineCache>>,
}

impl Job {
    pub fn new(uri: &Uri, open: &OpenDocument, config: &Config, pass: Pass) -> Job {
        Job {
            uri: uri.clone(),
            version: open.version,
            pass,
            doc: open.doc.snapshot(),
            config: config.clone(),
            cache: match pass {
                Pass::Full => open.cache.clone(),
                Pass::Outline => open.outline_cache.clone(),
            },
        }
    }

    /// Runs the analysis if `wanted()` still holds once the document's cache is free (another
    /// job may hold it): a job superseded while it waited is skipped.
    pub fn run_if(mut self, wanted: impl FnOnce() -> bool) -> Option<Analyzed> {
        let cache = self.cache.clone();
        let mut cache = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !wanted() {
            return None;
        }
        let name = Some(self.uri.as_str());
        let analysis = match self.pass {
            Pass::Full => analyze(&self.doc, name, &self.config, &mut cache),
            Pass::Outline => analyze_outline(&self.doc, name, &self.config, &mut cache),
        };
        if self.doc.len() > KEEP_TREE_MAX {
            // Everything the requests need is in the analysis; the tree is not kept.
            self.doc.forget_tree();
            cache.forget_tree();
        }
        Some(Analyzed {
            version: self.version,
            doc: self.doc,
            analysis,
        })
    }

    /// Runs the analysis (CPU work: call it off the async threads).
    pub fn run(self) -> Analyzed {
        self.run_if(|| true)
            .expect("an analysis that is always wanted runs")
    }
}

/// Locks the state; a panic in another holder does not make the state unusable.
pub fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

//! The server's state: open documents, each with its version and its latest analysis.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tower_lsp_server::ls_types::{ClientCapabilities, Uri};

use crate::analysis::config::Config;
use crate::analysis::document::Document;
use crate::analysis::markdown::InlineCache;
use crate::analysis::text::Encoding;
use crate::analysis::{analyze, Analysis};

/// An analysis together with the document version it was made from.
pub struct Analyzed {
    pub version: i32,
    pub doc: Document,
    pub analysis: Analysis,
}

pub struct OpenDocument {
    pub doc: Document,
    pub version: i32,
    pub latest: Option<Arc<Analyzed>>,
    /// Inline parses reused between analyses of this document.
    pub cache: Arc<Mutex<InlineCache>>,
}

impl OpenDocument {
    pub fn new(text: &str, version: i32) -> Self {
        Self {
            doc: Document::new(text),
            version,
            latest: None,
            cache: Arc::new(Mutex::new(InlineCache::new())),
        }
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

/// Everything needed to analyse one version away from the state's lock.
pub struct Job {
    pub uri: Uri,
    pub version: i32,
    pub doc: Document,
    pub config: Config,
    pub cache: Arc<Mutex<InlineCache>>,
}

impl Job {
    pub fn new(uri: &Uri, open: &OpenDocument, config: &Config) -> Job {
        Job {
            uri: uri.clone(),
            version: open.version,
            doc: open.doc.snapshot(),
            config: config.clone(),
            cache: open.cache.clone(),
        }
    }

    /// Runs the analysis if `wanted()` still holds once the document's cache is free (another
    /// job may hold it): a job superseded while it waited is skipped.
    pub fn run_if(self, wanted: impl FnOnce() -> bool) -> Option<Analyzed> {
        let cache = self.cache.clone();
        let mut cache = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !wanted() {
            return None;
        }
        let analysis = analyze(&self.doc, Some(self.uri.as_str()), &self.config, &mut cache);
        Some(Analyzed {
            version: self.version,
            doc: self.doc,
            analysis,
        })
    }

    /// Runs the analysis (CPU work: call it off the async threads).
    pub fn run(self) -> Analyzed {
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let analysis = analyze(&self.doc, Some(self.uri.as_str()), &self.config, &mut cache);
        Analyzed {
            version: self.version,
            doc: self.doc,
            analysis,
        }
    }
}

/// Locks the state; a panic in another holder does not make the state unusable.
pub fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

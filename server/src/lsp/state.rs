//! The server's state: open documents, each with its version and its latest analyses.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tower_lsp_server::ls_types::{ClientCapabilities, Uri};

use crate::analysis::config::Config;
use crate::analysis::diagnostics::Diagnostic;
use crate::analysis::document::Document;
use crate::analysis::markdown::InlineCache;
use crate::analysis::text::{Encoding, TextChange, TextRange};
use crate::analysis::{analyze, analyze_outline_unless, Analysis, Pass};

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
    /// Set once this version is no longer the document's (a change, a close): a full
    /// analysis of it still parsing stops (see [`Job::run_if`]).
    pub superseded: Arc<AtomicBool>,
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
            superseded: Arc::default(),
        }
    }

    /// This version is no longer the document's: its analyses still running stop.
    pub fn supersede(&self) {
        self.superseded.store(true, Ordering::Relaxed);
    }

    /// A change made a new version: the analyses of the last one still running stop.
    pub fn new_version(&mut self, version: i32) {
        self.supersede();
        self.superseded = Arc::default();
        self.version = version;
        self.last_change = Instant::now();
    }

    /// The latest full analysis's diagnostics that the outline pass does not make, to be
    /// carried through the edits since to the current text (see [`Carried::placed`]).
    pub fn carried(&self) -> Option<Carried> {
        let latest = self
            .latest
            .as_ref()
            .filter(|l| l.analysis.pass == Pass::Full)?;
        let edits = self
            .edits
            .iter()
            .filter(|(v, _)| *v > latest.version)
            .map(|(_, e)| *e)
            .collect();
        Some(Carried {
            from: latest.clone(),
            edits,
        })
    }
}

/// A diagnostic and where it lies in the text published with it: its own ranges, or those it
/// was carried to. Borrowed, so a publish copies no messages.
pub struct Placed<'a> {
    pub diagnostic: &'a Diagnostic,
    pub range: TextRange,
    /// The ranges of `diagnostic.related`, in order.
    pub related: Vec<TextRange>,
}

impl<'a> Placed<'a> {
    pub fn at_own_range(diagnostic: &'a Diagnostic) -> Self {
        Placed {
            diagnostic,
            range: diagnostic.range,
            related: diagnostic.related.iter().map(|r| r.range).collect(),
        }
    }
}

/// A full analysis's diagnostics and the edits made since it.
pub struct Carried {
    from: Arc<Analyzed>,
    edits: Vec<TextChange>,
}

impl Carried {
    /// The diagnostics the outline pass does not make, carried through the edits; those an
    /// edit touched are left out (the next full analysis has them).
    pub fn placed(&self) -> impl Iterator<Item = Placed<'_>> {
        self.from
            .analysis
            .diagnostics
            .iter()
            .filter(|d| !d.code.is_outline())
            .filter_map(|d| {
                let mut placed = Placed::at_own_range(d);
                for &edit in &self.edits {
                    placed.range = placed.range.after_edit(edit)?;
                    for r in &mut placed.related {
                        *r = r.after_edit(edit)?;
                    }
                }
                Some(placed)
            })
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
/// tree (tens of bytes per byte of text) take memory. Its full analyses wait for a pause in typing
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
    superseded: Arc<AtomicBool>,
}

impl Job {
    pub fn new(uri: &Uri, open: &OpenDocument, config: &Config, pass: Pass) -> Job {
        Job {
            uri: uri.clone(),
            version: open.version,
            pass,
            // The outline pass reads only the text: a copy of the tree would only have to be
            // freed again.
            doc: match pass {
                Pass::Full => open.doc.snapshot(),
                Pass::Outline => open.doc.text_snapshot(),
            },
            config: config.clone(),
            cache: match pass {
                Pass::Full => open.cache.clone(),
                Pass::Outline => open.outline_cache.clone(),
            },
            superseded: open.superseded.clone(),
        }
    }

    /// Runs the analysis if `wanted()` still holds once the document's cache is free (another
    /// job may hold it): a job superseded while it waited is skipped. A full analysis whose
    /// version is superseded while it parses stops too: parsing a large document takes
    /// 100 ms or more, and the core is better spent on the outline pass of the new version.
    pub fn run_if(self, wanted: impl FnOnce() -> bool) -> Option<Analyzed> {
        self.run_unless_superseded(wanted, true)
    }

    /// Runs the analysis (CPU work: call it off the async threads), to the end: a request
    /// waits for it.
    pub fn run(self) -> Analyzed {
        self.run_unless_superseded(|| true, false)
            .expect("an analysis that is always wanted and never stopped runs")
    }

    fn run_unless_superseded(
        mut self,
        wanted: impl FnOnce() -> bool,
        stop_when_superseded: bool,
    ) -> Option<Analyzed> {
        let cache = self.cache.clone();
        let mut cache = cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if !wanted() {
            return None;
        }
        let superseded = &self.superseded;
        let cancelled = || stop_when_superseded && superseded.load(Ordering::Relaxed);
        if self.pass == Pass::Full {
            self.doc.tree_unless(&cancelled)?;
        }
        let name = Some(self.uri.as_str());
        let analysis = match self.pass {
            Pass::Full => analyze(&self.doc, name, &self.config, &mut cache),
            Pass::Outline => {
                analyze_outline_unless(&self.doc, name, &self.config, &mut cache, &cancelled)?
            }
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
}

/// Locks the state; a panic in another holder does not make the state unusable.
pub fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(open: &OpenDocument, pass: Pass) -> Job {
        let uri: Uri = "file:///review.md".parse().unwrap();
        Job::new(&uri, open, &Config::default(), pass)
    }

    #[test]
    fn an_analysis_stops_once_its_version_is_superseded() {
        let real = include_str!("../../../tests/corpus/real/openfga-joint-assessment.md");
        let mut open = OpenDocument::new(real, 1);
        let (full, outline) = (job(&open, Pass::Full), job(&open, Pass::Outline));
        open.new_version(2);
        assert!(full.run_if(|| true).is_none());
        assert!(outline.run_if(|| true).is_none());
        // A request's analysis runs to the end, and so does one of the current version.
        assert!(job(&open, Pass::Full).run_if(|| true).is_some());
        let request = job(&open, Pass::Full);
        open.new_version(3);
        assert_eq!(request.run().version, 2);
    }
}

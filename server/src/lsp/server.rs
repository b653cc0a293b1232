//! The handler table: one method per LSP message, each converting in, calling the analysis and
//! converting out.
//!
//! Ordering (design notes, section 2): a change is applied to the document synchronously, under
//! a plain mutex, when the session reaches it ([`ApplyChange`], in line with the handlers
//! before and after it), so changes apply in the order received. It does not parse. Each
//! version then gets two analyses, each from a task of its own, so the session reads the next
//! change at once:
//! - the outline pass (headings from the lines, the outline rules; well under a millisecond
//!   per thousand lines), run in place on its task's thread and published at once together
//!   with the last full analysis's other diagnostics carried through the edits since; when
//!   the edits since the last pass typed in a paragraph, no pass runs and the last pass's
//!   diagnostics are carried the same way (`state::Carried::kept_outline`);
//! - the full analysis (block tree, every rule), on a blocking thread, published when done
//!   and replacing it.
//!
//! Results are published with their version and dropped if a newer version arrived (or, for
//! the outline pass, the full analysis of its version came first). There is no debounce delay
//! on the outline pass; only a document whose full analysis is slow (over [`SLOW_FULL`]) gets
//! the next one after a pause in typing, so a large document does not keep a core busy.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::notification::{Notification as _, PublishDiagnostics};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::convert;
use super::settings;
use super::state::{self, Analyzed, Job, NavigationCaps, OpenDocument, State, MAX_PUBLISHED};
use super::transport::{ApplyChange, Outbox};
use crate::analysis::completion;
use crate::analysis::diagnostics::{Code, Diagnostic};
use crate::analysis::hover;
use crate::analysis::text::{Encoding, LineIndex};
use crate::analysis::Pass;
use crate::analysis::{folding, lens, navigation, outline, symbols};

/// A diagnostic of a publish: a full analysis's own, at offsets of the text `index` is of, or
/// one carried from an earlier analysis and serialised already (see `state::CarriedPlaces`).
enum ToPublish<'a> {
    Own(&'a Diagnostic, &'a LineIndex<'a>),
    Carried(&'a serde_json::value::RawValue),
}

/// What a publish is of, besides its diagnostics.
struct Sending {
    version: i32,
    pass: Pass,
    /// Nothing more is published for this version.
    last: bool,
    encoding: Encoding,
    /// The client asked for `$/jointReview/analysed`.
    notify: bool,
    /// Set once the version is no longer the document's.
    superseded: Arc<AtomicBool>,
}

/// When a document's full analysis after an edit took longer than this, the next one runs
/// only after [`PAUSE`] without changes (the outline pass still answers every keystroke), and
/// requests are answered from the outline pass rather than wait for it. A real review's takes
/// 1-3 ms; a 10k-line document's ~10 ms, a 1 MB line's ~150 ms: typing in those would keep a
/// core busy re-reading the whole tree for diagnostics the author sees only when pausing.
const SLOW_FULL: Duration = Duration::from_millis(8);
const PAUSE: Duration = Duration::from_millis(400);
/// After an edit, the full analysis of any document starts once no change came for this long:
/// while keys follow each other faster, each would be superseded before it is read, and would
/// only slow the outline pass of the next key down. Nobody waits for it: the outline pass has
/// answered the keystroke.
const SETTLE: Duration = Duration::from_millis(15);

/// Cheap to clone (handles only): an analysis task carries its own copy.
#[derive(Clone)]
pub struct Backend {
    client: Client,
    /// Where diagnostics and our notifications go (not through `client`: see `transport`).
    outbox: Outbox,
    state: Arc<Mutex<State>>,
    shutdown: Arc<AtomicBool>,
    /// Held while checking a result is current and sending it, so results go out in order.
    publishing: Arc<tokio::sync::Mutex<()>>,
    /// One full analysis runs at a time; jobs queue here (not on blocking threads) and a job
    /// superseded while it waited is dropped without starting.
    analyzing: Arc<tokio::sync::Semaphore>,
    /// The same for the outline pass.
    outlining: Arc<tokio::sync::Semaphore>,
}

impl Backend {
    pub fn new(client: Client, outbox: Outbox) -> Self {
        Backend {
            client,
            outbox,
            state: Arc::default(),
            shutdown: Arc::default(),
            publishing: Arc::new(tokio::sync::Mutex::new(())),
            analyzing: Arc::new(tokio::sync::Semaphore::new(1)),
            outlining: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }

    /// Set once `shutdown` was received: the process then exits with 0.
    pub fn shutdown_flag(&self) -> Arc<AtomicBool> {
        self.shutdown.clone()
    }

    fn job(&self, uri: &Uri, pass: Pass) -> Option<Job> {
        let state = state::lock(&self.state);
        state
            .docs
            .get(uri)
            .map(|open| Job::new(uri, open, &state.config, pass))
    }

    fn is_current(state: &Mutex<State>, uri: &Uri, version: i32) -> bool {
        state::lock(state)
            .docs
            .get(uri)
            .is_some_and(|d| d.version == version)
    }

    /// Runs a job (an outline pass in place, a full analysis on a blocking thread), unless its
    /// version is superseded before it starts (see [`Job::run_if`]).
    async fn run(&self, job: Job) -> Option<Arc<Analyzed>> {
        let state = self.state.clone();
        let (uri, version) = (job.uri.clone(), job.version);
        let pass_is_outline = job.pass == Pass::Outline;
        let started = Instant::now();
        let work = move || {
            let (uri, version) = (job.uri.clone(), job.version);
            job.run_if(|| Self::is_current(&state, &uri, version))
        };
        // The outline pass runs here, on the thread that applied the change: a hand-over to
        // the blocking pool costs a thread wake each way, a good part of a keystroke's time
        // on a real review. `block_in_place` moves this worker's other tasks to another thread
        // meanwhile (it needs the multi-threaded runtime the server runs on).
        let in_place = pass_is_outline
            && tokio::runtime::Handle::current().runtime_flavor()
                == tokio::runtime::RuntimeFlavor::MultiThread;
        let analyzed = if in_place {
            Ok(tokio::task::block_in_place(work))
        } else {
            tokio::task::spawn_blocking(|| {
                let analyzed = work();
                // What the analysis freed is sorted here, not by the next keystroke.
                super::memory::settle();
                analyzed
            })
            .await
        };
        match analyzed {
            Ok(Some(a)) => {
                tracing::debug!(
                    "{:?} pass of version {} in {:?}",
                    a.analysis.pass,
                    a.version,
                    started.elapsed()
                );
                Some(Arc::new(a))
            }
            Ok(None) => {
                tracing::debug!("version {version} superseded: its analysis skipped or stopped");
                None
            }
            Err(e) => {
                tracing::error!("analysis of {} failed: {e}", uri.as_str());
                None
            }
        }
    }

    /// Publishes a full analysis of the current version (or a document too large to parse's
    /// outline pass, at a change of configuration), the last publish of its version: every
    /// diagnostic as it made them.
    async fn publish_full(&self, uri: Uri, analyzed: Arc<Analyzed>) {
        let _order = self.publishing.lock().await;
        let started = Instant::now();
        // Under the state lock only what must be (a change waits for it); converted after.
        // The analysis replaced, dropped after sending: freeing a tree takes a while.
        let (replaced, encoding, notify, superseded) = {
            let mut state = state::lock(&self.state);
            let (encoding, notify) = (state.encoding, state.analysis_notifications);
            let Some(open) = state
                .docs
                .get_mut(&uri)
                .filter(|d| d.version == analyzed.version)
            else {
                return;
            };
            open.doc.adopt_tree(&analyzed.doc);
            let replaced = open.latest.replace(analyzed.clone());
            // Its last reference is `replaced`'s, dropped off this thread.
            open.carried_places = None;
            open.forget_old_edits();
            open.published = Some((analyzed.version, true));
            (replaced, encoding, notify, open.superseded.clone())
        };
        let index = LineIndex::new(analyzed.doc.rope());
        let all = analyzed
            .analysis
            .diagnostics
            .iter()
            .map(|d| (d.range.start, d.code, ToPublish::Own(d, &index)))
            .collect();
        let sent = self
            .send(
                &uri,
                Sending {
                    version: analyzed.version,
                    pass: analyzed.analysis.pass,
                    last: true,
                    encoding,
                    notify,
                    superseded,
                },
                all,
            )
            .await;
        log_sent(sent, analyzed.version, started);
        if let Some(replaced) = replaced {
            // Off the async threads, which read the next change meanwhile.
            super::memory::drop_soon(replaced);
        }
        if sent.is_some() {
            self.place_ahead(uri, analyzed, encoding);
        }
    }

    /// Places the diagnostics of `analyzed`, a full analysis just published, for the next
    /// keystroke's publish to carry (see `state::CarriedPlaces`), on a blocking thread now
    /// rather than in that publish: converting and serialising them all (a line index of the
    /// whole text, then each diagnostic) takes ~0.4 ms at 10k lines (204 diagnostics), ~10 µs
    /// on openfga (9), measured in-process, and the first keystroke after each full analysis
    /// paid it.
    fn place_ahead(&self, uri: Uri, analyzed: Arc<Analyzed>, encoding: Encoding) {
        let state = self.state.clone();
        tokio::task::spawn_blocking(move || {
            let places = state::CarriedPlaces::ahead(analyzed, &uri, encoding);
            // Dropped after the lock when not kept.
            let _unkept = match state::lock(&state).docs.get_mut(&uri) {
                Some(open) => open.keep_places_made_ahead(places),
                None => Some(places),
            };
        });
    }

    /// Publishes the outline diagnostics of `version`, the current one, with the last full
    /// analysis's other diagnostics carried through the edits since. The outline diagnostics
    /// are those of `made`, an outline pass of this version, or, without one, the last outline
    /// pass's carried through the edits since when they keep its headings (see
    /// `state::Carried::kept_outline`). False when they do not: an outline pass must run.
    /// Nothing is published for a superseded version, nor once the full analysis of this
    /// version is out.
    ///
    /// `last`: a document too large to parse gets nothing more for this version.
    async fn publish_outline(
        &self,
        uri: &Uri,
        version: i32,
        made: Option<Arc<Analyzed>>,
        last: bool,
    ) -> bool {
        let _order = self.publishing.lock().await;
        let started = Instant::now();
        let mut replaced = None;
        let (outline, encoding) = {
            let mut state = state::lock(&self.state);
            let State {
                docs,
                config,
                encoding,
                ..
            } = &mut *state;
            let Some(open) = docs.get_mut(uri).filter(|d| d.version == version) else {
                return true;
            };
            if open.published == Some((version, true)) {
                return true;
            }
            if let Some(made) = made {
                if made.config != *config {
                    // The settings changed while it ran: the change's own analyses follow.
                    return true;
                }
                replaced = open.adopt_outline(made);
            }
            if open.outline.as_ref().is_some_and(|o| o.config != *config) {
                return false;
            }
            let Some(outline) = open.carried(state::Source::Outline) else {
                return false;
            };
            (outline, *encoding)
        };
        let Some(mut outline) = outline.kept_outline(encoding) else {
            return false;
        };
        let (full, notify, superseded) = {
            let mut state = state::lock(&self.state);
            let notify = state.analysis_notifications;
            let Some(open) = state.docs.get_mut(uri).filter(|d| d.version == version) else {
                return true;
            };
            open.published = Some((version, last));
            let full = open.carried(state::Source::Full);
            (full, notify, open.superseded.clone())
        };
        let mut full = full.map(|c| c.places(encoding));
        outline.serialise(uri);
        if let Some(full) = &mut full {
            full.serialise(uri);
        }
        // In the order of the text.
        let mut all: Vec<(usize, Code, ToPublish)> = [Some(&outline), full.as_ref()]
            .into_iter()
            .flatten()
            .flat_map(|places| places.published())
            .map(|(d, at, json)| (at.start, d.code, ToPublish::Carried(json)))
            .collect();
        all.sort_by_key(|&(start, code, _)| (start, code));
        let sent = self
            .send(
                uri,
                Sending {
                    version,
                    pass: Pass::Outline,
                    last,
                    encoding,
                    notify,
                    superseded,
                },
                all,
            )
            .await;
        // Not dropped under the lock: they may hold the last reference to a tree.
        let _unused = {
            let mut state = state::lock(&self.state);
            match state.docs.get_mut(uri) {
                Some(open) => [Some(outline), full].map(|p| p.and_then(|p| open.keep_places(p))),
                None => [Some(outline), full],
            }
        };
        log_sent(sent, version, started);
        if let Some(replaced) = replaced {
            super::memory::drop_soon(replaced);
        }
        true
    }

    /// Sends the diagnostics of one version (in the order of the text; the first
    /// [`MAX_PUBLISHED`]) and, when the client asked, our notification of it: `None` when the
    /// version is superseded first.
    async fn send(
        &self,
        uri: &Uri,
        sending: Sending,
        mut all: Vec<(usize, Code, ToPublish<'_>)>,
    ) -> Option<usize> {
        let Sending {
            version,
            pass,
            last,
            encoding,
            notify,
            superseded,
        } = sending;
        // A change from now on makes this publish useless: the next version's comes soon, and
        // converting this one would only delay it.
        let stale = || superseded.load(Ordering::Relaxed);
        if all.len() > MAX_PUBLISHED {
            tracing::warn!(
                "{}: {} diagnostics, publishing the first {MAX_PUBLISHED}",
                uri.as_str(),
                all.len()
            );
            all.truncate(MAX_PUBLISHED);
        }
        if stale() {
            return None;
        }
        let params = convert::PublishDiagnostics {
            uri,
            version: Some(version),
            diagnostics: all
                .iter()
                .map(|(_, _, d)| match *d {
                    ToPublish::Own(d, index) => {
                        convert::Published::Built(convert::diagnostic(index, uri, d, encoding))
                    }
                    ToPublish::Carried(json) => convert::Published::Serialised(json),
                })
                .collect(),
        };
        if stale() {
            return None;
        }
        let analysed = if notify {
            Some(Outbox::frame(
                convert::Analysed::METHOD,
                &convert::AnalysedParams {
                    uri: uri.clone(),
                    version,
                    pass: match pass {
                        Pass::Outline => "outline",
                        Pass::Full => "full",
                    }
                    .to_string(),
                    last,
                },
            )?)
        } else {
            None
        };
        // Sized for both: tens of kilobytes are not moved again to append the second.
        let room = analysed.as_ref().map_or(0, Vec::len);
        let mut frames = Outbox::frame_with_room(PublishDiagnostics::METHOD, &params, room)?;
        frames.extend(analysed.into_iter().flatten());
        // Replaced by the next publish if not written by then, dropped if superseded.
        self.outbox
            .latest(uri.as_str(), frames, Some(superseded))
            .await;
        Some(params.diagnostics.len())
    }

    /// The analysis of the current version for a request: the full one, computed now if it
    /// is missing and cheap; for a document whose full analysis is slow (or too large to
    /// parse), the outline pass.
    async fn current(&self, uri: &Uri) -> Option<Arc<Analyzed>> {
        let job = {
            let state = state::lock(&self.state);
            let open = state.docs.get(uri)?;
            let of_version = |a: &Option<Arc<Analyzed>>| {
                a.as_ref().filter(|a| a.version == open.version).cloned()
            };
            if let Some(latest) = of_version(&open.latest) {
                return Some(latest);
            }
            let slow = open.doc.is_too_large() || open.full_cost.is_some_and(|c| c > SLOW_FULL);
            if slow {
                if let Some(outline) = of_version(&open.outline) {
                    return Some(outline);
                }
            }
            let pass = if slow { Pass::Outline } else { Pass::Full };
            Job::new(uri, open, &state.config, pass)
        };
        let pass = job.pass;
        let analyzed = tokio::task::spawn_blocking(move || Arc::new(job.run()))
            .await
            .ok()?;
        if pass == Pass::Outline {
            // The next keystroke's outline diagnostics are carried from this pass.
            let mut state = state::lock(&self.state);
            let State { docs, config, .. } = &mut *state;
            if let Some(open) = docs
                .get_mut(uri)
                .filter(|d| d.version == analyzed.version && analyzed.config == *config)
            {
                let replaced = open.adopt_outline(analyzed.clone());
                drop(state);
                drop(replaced);
            }
        }
        Some(analyzed)
    }

    /// The current analysis of an open document (an error for a document that is not open),
    /// with the position encoding and what the client supports of navigation answers.
    async fn navigation_context(
        &self,
        uri: &Uri,
    ) -> Result<(Arc<Analyzed>, Encoding, NavigationCaps)> {
        let Some(analyzed) = self.current(uri).await else {
            return Err(Error::invalid_params("the document is not open"));
        };
        let state = state::lock(&self.state);
        Ok((analyzed, state.encoding, state.navigation))
    }

    /// Starts the analyses of a new version (see the module comment): the outline pass, then,
    /// once it is published, the full analysis, so the two of one version never compete for a
    /// core. Each runs in a task of its own, one at a time per pass (a semaphore each), so the
    /// handler returns at once and the next version's outline pass need not wait for this
    /// version's full analysis; a job superseded while it waited is dropped before it takes a
    /// snapshot, so a burst never queues up.
    fn spawn_analyses(&self, uri: Uri, version: i32) {
        let backend = self.clone();
        tokio::spawn(async move {
            {
                let Ok(_turn) = backend.outlining.acquire().await else {
                    return;
                };
                // A document too large to parse gets only this pass: it is the last.
                let Some((last, superseded)) = state::lock(&backend.state)
                    .docs
                    .get(&uri)
                    .filter(|d| d.version == version)
                    .map(|d| (d.doc.is_too_large(), d.superseded.clone()))
                else {
                    return;
                };
                // A change read and not yet applied (the rest of a burst) would make this
                // version's publish useless work: waits for it.
                backend.outbox.until_input_applied(&superseded).await;
                if superseded.load(Ordering::Relaxed) {
                    return;
                }
                // Typing that keeps the headings needs no pass: the last one's diagnostics
                // serve, carried.
                if !backend.publish_outline(&uri, version, None, last).await {
                    let Some(job) = backend
                        .job(&uri, Pass::Outline)
                        .filter(|j| j.version == version)
                    else {
                        return;
                    };
                    if let Some(analyzed) = backend.run(job).await {
                        backend
                            .publish_outline(&uri, version, Some(analyzed), last)
                            .await;
                    }
                }
                if last {
                    return;
                }
            }
            backend.full_analysis(uri, version).await;
        });
    }

    /// The full analysis of a version, published if it is still current when done.
    async fn full_analysis(&self, uri: Uri, version: i32) {
        let Ok(_turn) = self.analyzing.acquire().await else {
            return;
        };
        // Waits for typing to settle (longer for a slow document); a change meanwhile
        // supersedes it.
        loop {
            let wait = {
                let state = state::lock(&self.state);
                let Some(open) = state.docs.get(&uri).filter(|d| d.version == version) else {
                    return;
                };
                // The analysis of the version opened starts at once.
                let wait = match (&open.latest, open.full_cost) {
                    (None, _) if open.edits.is_empty() => Duration::ZERO,
                    (_, Some(cost)) if cost > SLOW_FULL => PAUSE,
                    _ => SETTLE,
                };
                let quiet = open.last_change.elapsed();
                if quiet < wait {
                    wait - quiet
                } else {
                    break;
                }
            };
            tokio::time::sleep(wait).await;
        }
        let Some(job) = self.job(&uri, Pass::Full).filter(|j| j.version == version) else {
            return;
        };
        // The first analysis parses from scratch: it says nothing of what an edit costs,
        // except for a document that keeps no tree, which always does.
        let first = state::lock(&self.state)
            .docs
            .get(&uri)
            .is_none_or(|d| d.latest.is_none() && d.doc.len() <= state::KEEP_TREE_MAX);
        let started = Instant::now();
        let analyzed = self.run(job).await;
        let cost = started.elapsed();
        if !first {
            // Recorded even when a newer version made the result stale: typing faster than
            // the analysis is exactly when it must be known. An analysis stopped by a newer
            // version took at least this long.
            if let Some(open) = state::lock(&self.state).docs.get_mut(&uri) {
                open.full_cost = Some(match analyzed {
                    Some(_) => cost,
                    None => cost.max(open.full_cost.unwrap_or_default()),
                });
            }
        }
        if let Some(analyzed) = analyzed {
            self.publish_full(uri, analyzed).await;
        }
    }

    async fn reanalyze_all(&self) {
        let uris: Vec<Uri> = state::lock(&self.state).docs.keys().cloned().collect();
        for uri in uris {
            if let Some(job) = self.job(&uri, Pass::Full) {
                if let Some(analyzed) = self.run(job).await {
                    self.publish_full(uri, analyzed).await;
                }
            }
        }
    }
}

fn log_sent(sent: Option<usize>, version: i32, started: Instant) {
    match sent {
        Some(count) => tracing::debug!(
            "published {count} diagnostics of version {version} in {:?}",
            started.elapsed()
        ),
        None => tracing::debug!("version {version} superseded: not published"),
    }
}

impl ApplyChange for Backend {
    /// Applied at once, before returning: see the module comment.
    fn apply_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        let version = {
            let mut state = state::lock(&self.state);
            let encoding = state.encoding;
            let Some(open) = state.docs.get_mut(&uri) else {
                tracing::warn!("change for a document that is not open: {}", uri.as_str());
                return;
            };
            let version = params.text_document.version;
            for change in convert::join_insertions(params.content_changes, encoding) {
                let last = open.edits.last().copied();
                let typed_on = change.range.zip(last).and_then(|(range, last)| {
                    state::Edit::typed_on(
                        &mut open.doc,
                        version,
                        range,
                        &change.text,
                        encoding,
                        &last,
                    )
                });
                let edit = typed_on.unwrap_or_else(|| {
                    let replaced = change
                        .range
                        .map(|range| convert::text_range(&open.doc, range, encoding));
                    state::Edit::apply(
                        &mut open.doc,
                        version,
                        replaced,
                        &change.text,
                        encoding,
                        last.as_ref(),
                    )
                });
                open.edits.push(edit);
            }
            open.new_version(version);
            version
        };
        self.spawn_analyses(uri, version);
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref());
        let encoding = convert::negotiate(offered);
        let navigation = NavigationCaps::new(&params.capabilities);
        // The outlines are built from the embedded templates on first use (~20 ms): now,
        // rather than on the first document opened.
        crate::analysis::outline::all();
        {
            let mut state = state::lock(&self.state);
            state.encoding = encoding;
            state.hover_markdown = params
                .capabilities
                .text_document
                .as_ref()
                .and_then(|t| t.hover.as_ref())
                .and_then(|h| h.content_format.as_ref())
                .is_none_or(|formats| formats.contains(&MarkupKind::Markdown));
            let completion_item = params
                .capabilities
                .text_document
                .as_ref()
                .and_then(|t| t.completion.as_ref())
                .and_then(|c| c.completion_item.as_ref());
            state.completion_snippets = completion_item
                .and_then(|c| c.snippet_support)
                .unwrap_or(false);
            state.completion_markdown = completion_item
                .and_then(|c| c.documentation_format.as_ref())
                .is_none_or(|formats| formats.contains(&MarkupKind::Markdown));
            state.completion_resolves_documentation = completion_item
                .and_then(|c| c.resolve_support.as_ref())
                .is_some_and(|r| r.properties.iter().any(|p| p == "documentation"));
            if let Some(options) = &params.initialization_options {
                state.config = settings::from_json(options);
                state.analysis_notifications = settings::analysis_notifications(options);
            }
            state.navigation = navigation;
        }
        tracing::info!("initialized; position encoding {encoding:?}");
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(convert::encoding_kind(encoding)),
                text_document_sync: Some(TextDocumentSyncCapability::Options(
                    TextDocumentSyncOptions {
                        open_close: Some(true),
                        change: Some(TextDocumentSyncKind::INCREMENTAL),
                        save: Some(TextDocumentSyncSaveOptions::Supported(false)),
                        ..TextDocumentSyncOptions::default()
                    },
                )),
                code_lens_provider: Some(CodeLensOptions {
                    resolve_provider: Some(false),
                }),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec!["#".into(), "(".into(), " ".into()]),
                    resolve_provider: Some(true),
                    ..CompletionOptions::default()
                }),
                document_symbol_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(if navigation.prepare_rename {
                    OneOf::Right(RenameOptions {
                        prepare_provider: Some(true),
                        work_done_progress_options: WorkDoneProgressOptions::default(),
                    })
                } else {
                    OneOf::Left(true)
                }),
                document_link_provider: Some(DocumentLinkOptions {
                    resolve_provider: Some(false),
                    work_done_progress_options: WorkDoneProgressOptions::default(),
                }),
                code_action_provider: Some(CodeActionProviderCapability::Options(
                    CodeActionOptions {
                        code_action_kinds: Some(vec![
                            CodeActionKind::QUICKFIX,
                            CodeActionKind::REFACTOR_REWRITE,
                            CodeActionKind::SOURCE,
                            CodeActionKind::SOURCE_FIX_ALL,
                            CodeActionKind::new(convert::TOC_KIND),
                            CodeActionKind::new(convert::START_KIND),
                        ]),
                        resolve_provider: Some(false),
                        ..CodeActionOptions::default()
                    },
                )),
                ..ServerCapabilities::default()
            },
            server_info: Some(ServerInfo {
                name: "joint-review-lsp".to_string(),
                version: Some(env!("CARGO_PKG_VERSION").to_string()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {}

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let item = params.text_document;
        let too_large = {
            let open = OpenDocument::new(&item.text, item.version);
            let too_large = open.doc.is_too_large();
            let reopened = state::lock(&self.state).docs.insert(item.uri.clone(), open);
            if let Some(old) = reopened {
                old.supersede();
            }
            too_large
        };
        if too_large {
            let message = format!(
                "joint-review-lsp: {} is larger than {} MiB: only its outline (missing, \
                 misplaced and duplicate sections, heading levels) is checked.",
                item.uri.as_str(),
                crate::analysis::document::MAX_PARSED_BYTES >> 20
            );
            tracing::warn!("{message}");
            self.client
                .show_message(MessageType::WARNING, message)
                .await;
        }
        self.spawn_analyses(item.uri, item.version);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        // The session applies changes itself (`transport.rs`); one reaches here only if
        // tower-lsp is handed one.
        self.apply_change(params);
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        let closed = state::lock(&self.state).docs.remove(&uri);
        if let Some(closed) = &closed {
            closed.supersede();
        }
        super::memory::release_soon(closed);
        let _order = self.publishing.lock().await;
        let cleared = convert::PublishDiagnostics {
            uri: &uri,
            version: None,
            diagnostics: Vec::new(),
        };
        // In place of a publish of the document not yet written.
        if let Some(frame) = Outbox::frame(PublishDiagnostics::METHOD, &cleared) {
            self.outbox.latest(uri.as_str(), frame, None).await;
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let Some(config) = settings::ours(&params.settings) else {
            tracing::debug!("configuration change without our settings: kept the current ones");
            return;
        };
        {
            let mut state = state::lock(&self.state);
            state.config = config;
            // Made with the last settings: the next keystroke runs an outline pass.
            for open in state.docs.values_mut() {
                open.outline = None;
                open.outline_places = None;
            }
        }
        self.reanalyze_all().await;
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let uri = &params.text_document_position_params.text_document.uri;
        let Some(analyzed) = self.current(uri).await else {
            return Err(Error::invalid_params("the document is not open"));
        };
        let (encoding, markdown) = {
            let state = state::lock(&self.state);
            (state.encoding, state.hover_markdown)
        };
        let offset = convert::offset(
            &analyzed.doc,
            params.text_document_position_params.position,
            encoding,
        );
        let Some(found) = hover::hover(&analyzed.analysis, &analyzed.doc, offset) else {
            return Ok(None);
        };
        let index = LineIndex::new(analyzed.doc.rope());
        Ok(Some(Hover {
            contents: HoverContents::Markup(convert::markup(found.markdown, markdown)),
            range: Some(convert::range(&index, found.range, encoding)),
        }))
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let position = params.text_document_position;
        let Some(analyzed) = self.current(&position.text_document.uri).await else {
            return Err(Error::invalid_params("the document is not open"));
        };
        let (encoding, snippets, markdown, lazy_documentation) = {
            let state = state::lock(&self.state);
            (
                state.encoding,
                state.completion_snippets,
                state.completion_markdown,
                state.completion_resolves_documentation,
            )
        };
        let offset = convert::offset(&analyzed.doc, position.position, encoding);
        let trigger = params
            .context
            .and_then(|c| c.trigger_character)
            .and_then(|t| t.chars().next());
        let options = completion::Options {
            snippets,
            trigger,
            lazy_documentation,
        };
        let outline = analyzed.analysis.outline().name;
        let items = completion::completion(&analyzed.analysis, &analyzed.doc, offset, options);
        if items.is_empty() {
            return Ok(None);
        }
        let index = LineIndex::new(analyzed.doc.rope());
        let items = items
            .into_iter()
            .map(|item| CompletionItem {
                kind: Some(match item.kind {
                    completion::CompletionKind::Section => CompletionItemKind::MODULE,
                    completion::CompletionKind::Persona => CompletionItemKind::TEXT,
                    completion::CompletionKind::MetadataRow => CompletionItemKind::FIELD,
                    completion::CompletionKind::MetadataValue => CompletionItemKind::ENUM_MEMBER,
                    completion::CompletionKind::Anchor => CompletionItemKind::REFERENCE,
                }),
                documentation: item
                    .documentation
                    .map(|md| Documentation::MarkupContent(convert::markup(md, markdown))),
                // What `completionItem/resolve` needs to find the documentation left out.
                data: item
                    .section
                    .filter(|_| lazy_documentation)
                    .map(|section| serde_json::json!({ "outline": outline, "section": section })),
                insert_text_format: Some(if item.snippet {
                    InsertTextFormat::SNIPPET
                } else {
                    InsertTextFormat::PLAIN_TEXT
                }),
                text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                    range: convert::range(&index, item.edit.range, encoding),
                    new_text: item.edit.new_text,
                })),
                label: item.label,
                detail: item.detail,
                sort_text: Some(item.sort_text),
                filter_text: item.filter_text,
                ..CompletionItem::default()
            })
            .collect();
        Ok(Some(CompletionResponse::List(CompletionList {
            is_incomplete: false,
            items,
        })))
    }

    /// The documentation a section item left out (see `completion`): its `data` names the
    /// outline and the section. An item this server did not make comes back as it was.
    async fn completion_resolve(&self, mut item: CompletionItem) -> Result<CompletionItem> {
        let section = item.data.as_ref().and_then(|data| {
            let outline = outline::by_name(data.get("outline")?.as_str()?)?;
            let index = usize::try_from(data.get("section")?.as_u64()?).ok()?;
            outline.sections.get(index)
        });
        if let (Some(section), None) = (section, &item.documentation) {
            let markdown = state::lock(&self.state).completion_markdown;
            let documentation = completion::section_documentation(section);
            item.documentation = Some(Documentation::MarkupContent(convert::markup(
                documentation,
                markdown,
            )));
        }
        Ok(item)
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let (analyzed, encoding, _) = self.navigation_context(&params.text_document.uri).await?;
        let status = lens::outline_status(&analyzed.analysis);
        let index = LineIndex::new(analyzed.doc.rope());
        Ok(Some(vec![CodeLens {
            range: convert::range(&index, status.range, encoding),
            command: Some(Command {
                title: status.title,
                command: String::new(),
                arguments: None,
            }),
            data: None,
        }]))
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        let uri = &params.text_document.uri;
        let (analyzed, encoding, caps) = self.navigation_context(uri).await?;
        let found = symbols::document_symbols(&analyzed.analysis, &analyzed.doc);
        let index = LineIndex::new(analyzed.doc.rope());
        Ok(Some(if caps.hierarchical_symbols {
            DocumentSymbolResponse::Nested(
                found
                    .iter()
                    .map(|s| convert::document_symbol(&index, s, encoding))
                    .collect(),
            )
        } else {
            DocumentSymbolResponse::Flat(convert::symbol_information(uri, &index, &found, encoding))
        }))
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        let (analyzed, encoding, caps) = self.navigation_context(&params.text_document.uri).await?;
        let index = LineIndex::new(analyzed.doc.rope());
        let folds = folding::folding_ranges(&analyzed.analysis, &analyzed.doc);
        Ok(Some(
            folds
                .iter()
                .map(|f| convert::folding_range(&index, f, encoding, caps.line_folding_only))
                .collect(),
        ))
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let at = params.text_document_position_params;
        let (analyzed, encoding, caps) = self.navigation_context(&at.text_document.uri).await?;
        let offset = convert::offset(&analyzed.doc, at.position, encoding);
        let Some(found) = navigation::definition(&analyzed.analysis, &analyzed.doc, offset) else {
            return Ok(None);
        };
        let index = LineIndex::new(analyzed.doc.rope());
        let uri = at.text_document.uri;
        Ok(Some(if caps.definition_links {
            GotoDefinitionResponse::Link(vec![LocationLink {
                origin_selection_range: Some(convert::range(&index, found.origin, encoding)),
                target_uri: uri,
                target_range: convert::range(&index, found.range, encoding),
                target_selection_range: convert::range(&index, found.selection, encoding),
            }])
        } else {
            GotoDefinitionResponse::Scalar(Location {
                uri,
                range: convert::range(&index, found.selection, encoding),
            })
        }))
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = params.text_document_position;
        let (analyzed, encoding, _) = self.navigation_context(&at.text_document.uri).await?;
        let offset = convert::offset(&analyzed.doc, at.position, encoding);
        let found = navigation::references(
            &analyzed.analysis,
            offset,
            params.context.include_declaration,
        );
        let index = LineIndex::new(analyzed.doc.rope());
        Ok(Some(
            found
                .into_iter()
                .map(|r| Location {
                    uri: at.text_document.uri.clone(),
                    range: convert::range(&index, r, encoding),
                })
                .collect(),
        ))
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        let (analyzed, encoding, _) = self.navigation_context(&params.text_document.uri).await?;
        let offset = convert::offset(&analyzed.doc, params.position, encoding);
        let Some(target) = navigation::prepare_rename(&analyzed.analysis, &analyzed.doc, offset)
        else {
            return Ok(None);
        };
        let index = LineIndex::new(analyzed.doc.rope());
        Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
            range: convert::range(&index, target.range, encoding),
            placeholder: target.text,
        }))
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = params.text_document_position;
        let (analyzed, encoding, _) = self.navigation_context(&at.text_document.uri).await?;
        let offset = convert::offset(&analyzed.doc, at.position, encoding);
        let edits = navigation::rename(&analyzed.analysis, &analyzed.doc, offset, &params.new_name)
            .map_err(|e| Error {
                // LSP's RequestFailed: the request was valid, the rename is not possible.
                code: tower_lsp_server::jsonrpc::ErrorCode::ServerError(-32803),
                message: e.to_string().into(),
                data: None,
            })?;
        let index = LineIndex::new(analyzed.doc.rope());
        let edits = edits
            .iter()
            .map(|e| convert::text_edit(&index, e, encoding))
            .collect();
        Ok(Some(WorkspaceEdit {
            changes: Some([(at.text_document.uri, edits)].into_iter().collect()),
            ..WorkspaceEdit::default()
        }))
    }

    async fn document_link(&self, params: DocumentLinkParams) -> Result<Option<Vec<DocumentLink>>> {
        let uri = &params.text_document.uri;
        let (analyzed, encoding, _) = self.navigation_context(uri).await?;
        let index = LineIndex::new(analyzed.doc.rope());
        let headings = &analyzed.analysis.syntax.headings;
        Ok(Some(
            navigation::document_links(&analyzed.analysis)
                .into_iter()
                // Without a target (a URI that takes no fragment) a link is useless: dropped.
                .filter_map(|link| {
                    let line =
                        convert::position(&index, headings[link.heading].range.start, encoding)
                            .line;
                    Some(DocumentLink {
                        range: convert::range(&index, link.range, encoding),
                        target: Some(convert::uri_at_line(uri, line)?),
                        tooltip: Some(link.tooltip),
                        data: None,
                    })
                })
                .collect(),
        ))
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = &params.text_document.uri;
        let Some(analyzed) = self.current(uri).await else {
            return Err(Error::invalid_params("the document is not open"));
        };
        let encoding = state::lock(&self.state).encoding;
        let doc = &analyzed.doc;
        let range = convert::text_range(doc, params.range, encoding);
        // The editor's copies only say which of our diagnostics it means.
        let reported: Vec<_> = params
            .context
            .diagnostics
            .iter()
            .filter_map(|d| match &d.code {
                Some(NumberOrString::String(code)) => Some((
                    crate::analysis::diagnostics::Code::parse(code)?,
                    convert::text_range(doc, d.range, encoding),
                )),
                _ => None,
            })
            .collect();
        let only = params.context.only.as_deref();
        let response =
            crate::analysis::actions::code_actions(doc, &analyzed.analysis, range, &reported)
                .iter()
                .filter(|a| convert::kind_requested(&convert::action_kind(a.kind), only))
                .map(|a| convert::code_action(doc, uri, &analyzed.analysis, a, encoding))
                .map(CodeActionOrCommand::CodeAction)
                .collect();
        Ok(Some(response))
    }
}

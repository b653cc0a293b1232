//! The handler table: one method per LSP message, each converting in, calling the analysis and
//! converting out.
//!
//! Ordering (design notes, section 2): a change is applied to the document synchronously, under
//! a plain mutex, before the handler's first `.await`, so changes apply in the order received.
//! Analysis then runs on a blocking thread; its diagnostics are published with their version,
//! and dropped if a newer version arrived meanwhile. There is no debounce delay.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::convert;
use super::settings;
use super::state::{self, Analyzed, Job, OpenDocument, State};
use crate::analysis::hover;
use crate::analysis::outline::Requirement;
use crate::analysis::text::LineIndex;

/// At most this many diagnostics are published for a document (the first, in document order):
/// a pathological document can have a hundred thousand, which no editor shows usefully and
/// which would take seconds to send.
const MAX_PUBLISHED: usize = 1000;

pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    shutdown: Arc<AtomicBool>,
    /// Held while checking a result is current and sending it, so results go out in order.
    publishing: tokio::sync::Mutex<()>,
}

impl Backend {
    pub fn new(client: Client) -> Self {
        Backend {
            client,
            state: Arc::default(),
            shutdown: Arc::default(),
            publishing: tokio::sync::Mutex::new(()),
        }
    }

    /// Set once `shutdown` was received: the process then exits with 0.
    pub fn shutdown_flag(&self) -> Arc<AtomicBool> {
        self.shutdown.clone()
    }

    fn job(&self, uri: &Uri) -> Option<Job> {
        let state = state::lock(&self.state);
        state
            .docs
            .get(uri)
            .map(|open| Job::new(uri, open, &state.config))
    }

    fn is_current(state: &Mutex<State>, uri: &Uri, version: i32) -> bool {
        state::lock(state)
            .docs
            .get(uri)
            .is_some_and(|d| d.version == version)
    }

    /// Analyses a version and publishes its diagnostics, unless a newer version came first.
    async fn analyze_and_publish(&self, job: Job) {
        let state = self.state.clone();
        let uri = job.uri.clone();
        let analyzed = tokio::task::spawn_blocking(move || {
            // A burst of changes queues several jobs: skip the ones already superseded.
            Self::is_current(&state, &job.uri, job.version).then(|| job.run())
        })
        .await;
        let analyzed = match analyzed {
            Ok(Some(a)) => Arc::new(a),
            Ok(None) => return,
            Err(e) => {
                tracing::error!("analysis of {} failed: {e}", uri.as_str());
                return;
            }
        };
        let _order = self.publishing.lock().await;
        let (encoding, diagnostics) = {
            let mut state = state::lock(&self.state);
            let encoding = state.encoding;
            let Some(open) = state
                .docs
                .get_mut(&uri)
                .filter(|d| d.version == analyzed.version)
            else {
                return;
            };
            open.latest = Some(analyzed.clone());
            let all = &analyzed.analysis.diagnostics;
            if all.len() > MAX_PUBLISHED {
                tracing::warn!(
                    "{}: {} diagnostics, publishing the first {MAX_PUBLISHED}",
                    uri.as_str(),
                    all.len()
                );
            }
            let diagnostics: Vec<Diagnostic> = all
                .iter()
                .take(MAX_PUBLISHED)
                .map(|d| convert::diagnostic(&analyzed.doc, &uri, d, encoding))
                .collect();
            (encoding, diagnostics)
        };
        let _ = encoding;
        self.client
            .publish_diagnostics(uri, diagnostics, Some(analyzed.version))
            .await;
    }

    /// The analysis of the current version, computing it if the latest one is older.
    async fn current(&self, uri: &Uri) -> Option<Arc<Analyzed>> {
        let job = {
            let state = state::lock(&self.state);
            let open = state.docs.get(uri)?;
            if let Some(latest) = open.latest.as_ref().filter(|a| a.version == open.version) {
                return Some(latest.clone());
            }
            Job::new(uri, open, &state.config)
        };
        tokio::task::spawn_blocking(move || Arc::new(job.run()))
            .await
            .ok()
    }

    async fn reanalyze_all(&self) {
        let uris: Vec<Uri> = state::lock(&self.state).docs.keys().cloned().collect();
        for uri in uris {
            if let Some(job) = self.job(&uri) {
                self.analyze_and_publish(job).await;
            }
        }
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
            if let Some(options) = &params.initialization_options {
                state.config = settings::from_json(options);
            }
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
        let job = {
            let mut state = state::lock(&self.state);
            let open = OpenDocument::new(&item.text, item.version);
            let job = Job::new(&item.uri, &open, &state.config);
            state.docs.insert(item.uri, open);
            job
        };
        if job.doc.is_too_large() {
            let message = format!(
                "joint-review-lsp: {} is larger than {} MiB and is not checked.",
                job.uri.as_str(),
                crate::analysis::document::MAX_PARSED_BYTES >> 20
            );
            tracing::warn!("{message}");
            self.client
                .show_message(MessageType::WARNING, message)
                .await;
        }
        self.analyze_and_publish(job).await;
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        // Applied before any `.await`: see the module comment.
        let job = {
            let mut state = state::lock(&self.state);
            let encoding = state.encoding;
            let config = state.config.clone();
            let Some(open) = state.docs.get_mut(&uri) else {
                tracing::warn!("change for a document that is not open: {}", uri.as_str());
                return;
            };
            for change in params.content_changes {
                match change.range {
                    Some(range) => {
                        let range = convert::text_range(&open.doc, range, encoding);
                        open.doc.apply_change(range, &change.text);
                    }
                    None => open.doc.replace_all(&change.text),
                }
            }
            open.version = params.text_document.version;
            Job::new(&uri, open, &config)
        };
        self.analyze_and_publish(job).await;
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        state::lock(&self.state).docs.remove(&uri);
        super::memory::release_soon();
        let _order = self.publishing.lock().await;
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        let Some(config) = settings::ours(&params.settings) else {
            tracing::debug!("configuration change without our settings: kept the current ones");
            return;
        };
        state::lock(&self.state).config = config;
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
        let Some(found) = hover::hover(&analyzed.analysis, offset) else {
            return Ok(None);
        };
        let index = LineIndex::new(analyzed.doc.rope());
        let value = if markdown {
            found.markdown
        } else {
            convert::markdown_to_plain(&found.markdown)
        };
        Ok(Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: if markdown {
                    MarkupKind::Markdown
                } else {
                    MarkupKind::PlainText
                },
                value,
            }),
            range: Some(convert::range(&index, found.range, encoding)),
        }))
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let Some(analyzed) = self.current(&params.text_document.uri).await else {
            return Err(Error::invalid_params("the document is not open"));
        };
        let encoding = state::lock(&self.state).encoding;
        let analysis = &analyzed.analysis;
        let outline = analysis.outline();
        let required: Vec<usize> = (0..outline.sections.len())
            .filter(|&s| outline.sections[s].requirement == Requirement::Required)
            .collect();
        let present = required
            .iter()
            .filter(|&&s| analysis.alignment.section_match[s].is_some())
            .count();
        let title = format!(
            "{} outline ({}): {present}/{} sections",
            outline.name,
            analysis.selection.source,
            required.len()
        );
        let at = analysis
            .alignment
            .title
            .map_or(0, |t| analysis.syntax.headings[t].range.start);
        let index = LineIndex::new(analyzed.doc.rope());
        let pos = convert::position(&index, at, encoding);
        Ok(Some(vec![CodeLens {
            range: Range {
                start: pos,
                end: pos,
            },
            command: Some(Command {
                title,
                command: String::new(),
                arguments: None,
            }),
            data: None,
        }]))
    }
}

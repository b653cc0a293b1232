//! The language server: LSP over stdio, thin glue between the protocol and [`crate::analysis`].
//!
//! - `server.rs`: the handler table (one method per LSP request or notification).
//! - `state.rs`: open documents, their versions and their latest analysis.
//! - `convert.rs`: positions and diagnostics between byte offsets and LSP types.
//! - `settings.rs`: the editor's settings (wire format) turned into the analysis `Config`.
//! - `memory.rs`: the memory of closed documents given back to the system.
//! - `transport.rs`: the session: reads stdin, hands messages to tower-lsp's service in order
//!   (malformed input does not end the connection), writes stdout.
//! - `sink.rs`: stdout as a pipe, written at once when no frame is queued ahead.
//! - `batch.rs`: messages read together are handled together; a run of changes to one
//!   document as one.
//! - `slice.rs`: short scheduler slices, so that a woken thread runs at once.

mod batch;
mod change_json;
mod convert;
mod memory;
mod server;
mod settings;
mod sink;
mod slice;
mod state;
pub mod transport;

use std::process::ExitCode;
use std::time::Duration;

use tower_lsp_server::LspService;

/// Logs go to stderr (stdout is the protocol's), filtered by `JOINT_REVIEW_LSP_LOG`
/// (e.g. `debug`), `info` by default.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JOINT_REVIEW_LSP_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Serves LSP on stdin/stdout until `exit` or the end of stdin. The exit code is 0 after a
/// `shutdown` request, 1 without one (as the protocol asks).
pub fn run_stdio() -> ExitCode {
    memory::configure();
    // Before any other thread starts: they inherit it.
    let short = slice::request_short();
    tracing::debug!("short scheduler slices asked for: {short}");
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_keep_alive(memory::IDLE_THREAD_KEEP_ALIVE)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            tracing::error!("cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let shutdown = runtime.block_on(async {
        let transport = transport::Transport::stdio();
        let outbox = transport.outbox();
        let (service, socket) = LspService::new(|client| server::Backend::new(client, outbox));
        let shutdown = service.inner().shutdown_flag();
        // On a worker, not this thread: a message read then wakes no other thread.
        let changes = service.inner().clone();
        let session =
            tokio::spawn(transport.serve(service, changes, socket, Duration::from_secs(2)));
        if let Err(e) = session.await {
            tracing::error!("the session stopped: {e}");
        }
        shutdown.load(std::sync::atomic::Ordering::SeqCst)
    });
    let code = if shutdown { 0 } else { 1 };
    tracing::info!("exiting with code {code}");
    // Do not wait for the blocking stdin reader: `exit` ends the process even if stdin stays
    // open.
    std::process::exit(code)
}

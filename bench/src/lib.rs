//! Shared parts of the benchmarks: the documents they run on, a small LSP client over stdio,
//! and the statistics they print.
//!
//! `src/main.rs` drives the compiled server as an editor does (end to end, over the protocol);
//! `benches/analysis.rs` times the analysis alone, step by step, on the same documents.

pub mod docs;
pub mod lsp;
pub mod stats;

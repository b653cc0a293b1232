//! joint-review-lsp: an outline-aware language server and checker for CNCF TAG-Security
//! joint-review and self-assessment documents.
//!
//! - [`analysis`]: pure analysis (text in, plain structs out); no LSP, no tokio, no I/O.
//! - [`lsp`]: the language server, thin glue from the protocol to the analysis.
//! - [`cli`]: `joint-review-lsp check`, the same analysis for CI.
//! - [`fuzzing`]: properties checked on arbitrary input, for `fuzz/` and `tests/fuzz_smoke.rs`.

#![deny(clippy::print_stdout)]

pub mod analysis;
pub mod cli;
#[doc(hidden)]
pub mod fuzzing;
pub mod lsp;

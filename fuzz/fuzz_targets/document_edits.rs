//! Incremental edits: text and tree equal a fresh parse; the analysis stays inside the document.
//! The property lives in `joint_review_lsp::fuzzing::document_edits`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| joint_review_lsp::fuzzing::document_edits(data));

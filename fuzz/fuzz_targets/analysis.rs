//! The analysis on arbitrary text: no panic, every range inside the document.
//! The property lives in `joint_review_lsp::fuzzing::analysis`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| joint_review_lsp::fuzzing::analysis(data));

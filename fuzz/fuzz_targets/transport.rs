//! The stdin framing layer on arbitrary bytes: no panic, bounded buffering, only JSON objects forwarded.
//! The property lives in `joint_review_lsp::fuzzing::transport`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| joint_review_lsp::fuzzing::transport(data));

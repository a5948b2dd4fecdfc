//! The one-pass `--jsonl` reader on arbitrary text: it never panics, and a line it reads is
//! one serde's typed decode reads to the same messages, tally and usage (it may decline any
//! line; serde then reads it, as before the reader existed).
#![no_main]

use ba_index_advisor::frame::json::skim_agrees_with_serde;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let Ok(line) = std::str::from_utf8(input) else {
        return;
    };
    assert!(skim_agrees_with_serde(line), "{line}");
});

//! Log framing and parsing across every format: arbitrary bytes, fed to `frame::Scanner` in
//! arbitrary chunks (text, JSONL, log-stream), and to the document reader when they look like
//! a pretty-printed JSON document. Never panics, and chunking never changes what is found.
#![no_main]

use ba_index_advisor::frame::{Event, Scanner, document};
use ba_index_advisor::parse::Matcher;
use ba_index_advisor::parse::rules::RuleSet;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(RuleSet::embedded().expect("embedded rules"), None))
}

/// The scanner's head checks (NUL bytes, a BOM) look at the first chunk, as every reader
/// hands it a buffer of at least this much; later chunks may be any size.
const FIRST_CHUNK: usize = 8192;

fn scan(bytes: &[u8], cuts: &[u8]) -> Vec<String> {
    let mut scanner = Scanner::new(matcher(), Arc::from("fuzz"));
    let mut events = Vec::new();
    let mut emit = |e: Event| events.push(format!("{e:?}"));
    let mut start = 0;
    let mut first = true;
    let mut cuts = cuts.iter().cycle();
    while start < bytes.len() {
        let step = if first {
            FIRST_CHUNK
        } else {
            usize::from(*cuts.next().unwrap_or(&255)) + 1
        };
        first = false;
        let end = (start + step).min(bytes.len());
        scanner.feed(&bytes[start..end], &mut emit);
        start = end;
    }
    scanner.finish(&mut emit);
    events.push(format!("{:?}", scanner.counts()));
    events
}

fuzz_target!(|input: &[u8]| {
    // The first byte says how many following bytes are chunk sizes.
    let Some((&n, rest)) = input.split_first() else {
        return;
    };
    let n = usize::from(n % 16).min(rest.len());
    let (cuts, bytes) = rest.split_at(n);

    let whole = scan(bytes, &[]);
    if !cuts.is_empty() {
        let chunked = scan(bytes, cuts);
        assert_eq!(whole, chunked, "chunking changed the result");
    }

    if document::looks_like_document(bytes) {
        let mut scanner = Scanner::new(matcher(), Arc::from("fuzz"));
        let _ = document::scan_document(bytes, &mut scanner, &mut |_| {});
        scanner.finish(&mut |_| {});
    }
});

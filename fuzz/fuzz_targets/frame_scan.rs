//! Log framing and parsing across every format: arbitrary bytes, fed to `frame::Scanner` in
//! arbitrary chunks (text, JSONL, log-stream), and to the document reader when they look like
//! a pretty-printed JSON document. Never panics, and chunking never changes what is found; nor
//! does reading the bytes as a file split into parts on several threads (`ingest::split`): its
//! report is the one-pass report.
#![no_main]

use ba_index_advisor::config::Config;
use ba_index_advisor::engine::{Engine, EngineFlags, EngineSettings, SchemaNeed};
use ba_index_advisor::frame::{ScanEvent, Scanner, document};
use ba_index_advisor::ingest::Parallelism;
use ba_index_advisor::parse::Matcher;
use ba_index_advisor::parse::rules::RuleSet;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

thread_local! {
    // The matcher keeps a cache in a `RefCell`, so it is per thread (libFuzzer runs one).
    static MATCHER: &'static Matcher =
        Box::leak(Box::new(Matcher::new(RuleSet::embedded().expect("embedded rules"), None)));
}

fn matcher() -> &'static Matcher {
    MATCHER.with(|m| *m)
}

/// The report of `bytes` written to a file, read in one pass and in parts of `part` bytes (at
/// least 1) on `threads` threads.
fn one_pass_and_split(
    bytes: &[u8],
    threads: usize,
    part: u64,
) -> (serde_json::Value, serde_json::Value) {
    let dir = std::env::temp_dir().join(format!("frame-scan-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("input.log");
    std::fs::write(&path, bytes).expect("temp file");
    let settings = EngineSettings::resolve(&Config::default(), EngineFlags::default(), dir.clone());
    let mut engine = Engine::open(settings, SchemaNeed::Optional).expect("engine");
    let paths = [path];
    engine.set_threads(1);
    let one_pass = serde_json::to_value(engine.conclude(&engine.read(&paths))).expect("json");
    engine.set_parallelism(Parallelism {
        threads,
        min_part_bytes: part.max(1),
        block_bytes: 64,
    });
    let split = serde_json::to_value(engine.conclude(&engine.read(&paths))).expect("json");
    (one_pass, split)
}

/// The scanner's head checks (NUL bytes, a BOM) look at the first chunk, as every reader
/// hands it a buffer of at least this much; later chunks may be any size.
const FIRST_CHUNK: usize = 8192;

/// Problems and findings, each in order. A problem is reported when the block holding its line
/// is scanned, so where it falls among the findings depends on the chunking; callers keep the
/// two apart (problems go to the input's error list, findings to the aggregator).
fn scan(bytes: &[u8], cuts: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut scanner = Scanner::new(matcher(), Arc::from("fuzz"));
    let mut events = Vec::new();
    let mut problems = Vec::new();
    let mut emit = |e: ScanEvent| match e {
        ScanEvent::Problem { .. } => problems.push(format!("{e:?}")),
        _ => events.push(format!("{e:?}")),
    };
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
    // Within a chunk, JSON records are matched before text lines, so the order of emission
    // depends on the chunking; each event carries its line.
    events.sort();
    events.push(format!("{:?}", scanner.counts()));
    (events, problems)
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

    if let [threads, part, ..] = cuts {
        let (one_pass, split) =
            one_pass_and_split(bytes, usize::from(threads % 6) + 2, u64::from(*part));
        assert_eq!(one_pass, split, "reading in parts changed the report");
    }

    if document::looks_like_document(bytes) {
        let mut scanner = Scanner::new(matcher(), Arc::from("fuzz"));
        let _ = document::scan_document(bytes, &mut scanner, &mut |_| {});
        scanner.finish(&mut |_| {});
    }
});

//! Scanner cases found by fuzzing (fuzz/fuzz_targets/frame_scan.rs), each named after the
//! behaviour it pins: how the bytes are split into chunks never changes what is found.

use ba_index_advisor::frame::{ScanEvent, Scanner};
use ba_index_advisor::parse::Matcher;
use ba_index_advisor::parse::rules::RuleSet;
use std::sync::Arc;

/// Signals and suspects (sorted: within a chunk, JSON records are matched before text lines, so
/// the order of emission depends on the chunking; each carries its line) and the counters.
fn scan(chunks: &[&[u8]]) -> (Vec<String>, String) {
    let matcher = Matcher::new(RuleSet::embedded().unwrap(), None);
    let mut scanner = Scanner::new(&matcher, Arc::from("input"));
    let mut found = Vec::new();
    let mut emit = |e: ScanEvent| match e {
        ScanEvent::Signal(s) => found.push(format!(
            "{} {:?} line {}",
            s.table, s.fields, s.location.line
        )),
        ScanEvent::Suspect(s) => found.push(format!("suspect {}", s.location)),
        ScanEvent::Problem { .. } | ScanEvent::Usage(_) => {}
    };
    for chunk in chunks {
        scanner.feed(chunk, &mut emit);
    }
    scanner.finish(&mut emit);
    found.sort();
    (found, format!("{:?}", scanner.counts()))
}

const JSONL_WARNING: &str = r#"{"topic":"console","log_level":"WARN","message":"'Querying without an index on table \"member\".\\nThis can cause performance issues, and may hit the document read limit.\\nTo fix, add an index that begins with the following fields in order:\\n[organizationId, userId]'"}"#;

#[test]
fn a_json_line_after_a_multi_line_warning_split_across_chunks_is_read() {
    let first = "Querying without an index on table \"apikey\".\n";
    let rest = format!(
        "This can cause performance issues, and may hit the document read limit.\n{JSONL_WARNING}\n"
    );
    let whole = scan(&[format!("{first}{rest}").as_bytes()]);
    let split = scan(&[first.as_bytes(), rest.as_bytes()]);
    assert!(whole.0.iter().any(|f| f.starts_with("member")), "{whole:?}");
    assert_eq!(split, whole);
}

#[test]
fn a_cli_header_inside_a_multi_line_warning_split_across_chunks_is_counted_once() {
    let first = "Querying without an index on table \"apikey\".\n";
    let rest = "1/15/2026, 2:03:07 PM [CONVEX Q(messages:list)] [LOG] 'Listing messages'\n";
    let whole = scan(&[format!("{first}{rest}").as_bytes()]);
    let split = scan(&[first.as_bytes(), rest.as_bytes()]);
    assert_eq!(split, whole);
}

//! Properties of the scanner: it never panics on arbitrary bytes, and how the bytes are split
//! into chunks (a pipe, a gzip stream, a followed file) never changes what it finds.

use ba_index_advisor::frame::{ScanEvent, Scanner};
use ba_index_advisor::parse::Matcher;
use ba_index_advisor::parse::rules::RuleSet;
use proptest::prelude::*;
use std::sync::Arc;

fn matcher() -> Matcher {
    Matcher::new(RuleSet::embedded().unwrap(), None)
}

/// Every event, rendered so runs can be compared.
fn scan(matcher: &Matcher, bytes: &[u8], cuts: &[usize]) -> Vec<String> {
    let mut scanner = Scanner::new(matcher, Arc::from("input"));
    let mut events = Vec::new();
    let mut emit = |e: ScanEvent| events.push(format!("{e:?}"));
    let mut start = 0;
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    for point in points.into_iter().chain([bytes.len()]) {
        if point >= start {
            scanner.feed(&bytes[start..point], &mut emit);
            start = point;
        }
    }
    scanner.finish(&mut emit);
    events.push(format!("{:?}", scanner.counts()));
    events
}

fn samples() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-logs");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e != "gz" && e != "json"))
        .map(|p| std::fs::read(p).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..4096), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let matcher = matcher();
        scan(&matcher, &bytes, &cuts);
    }

    #[test]
    fn never_panics_on_mangled_real_lines(index in 0usize..64, flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..16), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let samples = samples();
        let mut bytes = samples[index % samples.len()].clone();
        for (at, byte) in flips {
            let at = at % bytes.len();
            bytes[at] = byte;
        }
        scan(&matcher(), &bytes, &cuts);
    }

    #[test]
    fn chunking_never_changes_the_result(index in 0usize..64, cuts in proptest::collection::vec(any::<usize>(), 1..32)) {
        let samples = samples();
        let bytes = &samples[index % samples.len()];
        let matcher = matcher();
        prop_assert_eq!(scan(&matcher, bytes, &cuts), scan(&matcher, bytes, &[]));
    }
}

//! Each execution's usage, as the logs report it: a compact cost per request id (`UsageIndex`:
//! sorted runs of 16-byte entries, merged in place), joined into a finding's `impact` by the
//! aggregate.

use crate::document::Impact;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// A request id as a 64-bit key: executions are joined by it across records and files, and a
/// key is a tenth of the memory of the id.
pub(crate) fn request_key(request_id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    request_id.hash(&mut hasher);
    hasher.finish()
}

/// A set of request keys.
pub(crate) type RequestKeys = HashSet<u64, BuildHasherDefault<KeyHasher>>;

/// Hashes a request key, which is already a hash, by passing it through.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// What one execution read, in 8 bytes: the usage join keeps one per execution of the input,
/// so its size is what the join's memory grows by. Documents in the low 31 bits and bytes in
/// 32 (each at most Convex's per-execution read limits, far below; larger counts saturate, and
/// the all-ones value means "not reported"), and whether a read-limit warning was logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ExecutionCost {
    documents_and_warning: u32,
    bytes: u32,
}

const DOCUMENTS_UNKNOWN: u32 = u32::MAX >> 1;
const LIMIT_WARNING_BIT: u32 = 1 << 31;
const BYTES_UNKNOWN: u32 = u32::MAX;

impl Default for ExecutionCost {
    fn default() -> Self {
        Self::new(None, None, false)
    }
}

impl ExecutionCost {
    fn new(documents: Option<u64>, bytes: Option<u64>, limit_warning: bool) -> Self {
        let saturate =
            |n: u64, unknown: u32| u32::try_from(n).map_or(unknown - 1, |n| n.min(unknown - 1));
        let documents = documents.map_or(DOCUMENTS_UNKNOWN, |n| saturate(n, DOCUMENTS_UNKNOWN));
        Self {
            documents_and_warning: documents | if limit_warning { LIMIT_WARNING_BIT } else { 0 },
            bytes: bytes.map_or(BYTES_UNKNOWN, |n| saturate(n, BYTES_UNKNOWN)),
        }
    }

    fn documents_read(self) -> Option<u64> {
        let documents = self.documents_and_warning & !LIMIT_WARNING_BIT;
        (documents != DOCUMENTS_UNKNOWN).then_some(u64::from(documents))
    }

    fn bytes_read(self) -> Option<u64> {
        (self.bytes != BYTES_UNKNOWN).then_some(u64::from(self.bytes))
    }

    fn limit_warning(self) -> bool {
        self.documents_and_warning & LIMIT_WARNING_BIT != 0
    }

    /// The larger of each count (a reported one over none), and either warning.
    fn merge(&mut self, other: Self) {
        *self = Self::new(
            self.documents_read().max(other.documents_read()),
            self.bytes_read().max(other.bytes_read()),
            self.limit_warning() || other.limit_warning(),
        );
    }
}

/// Every execution's usage, by request key, as the records report it (in any order).
///
/// It grows by one entry per execution read, so it is kept as sorted runs of 16-byte entries
/// rather than a hash map (which held about twice that, and three times while it grew or took
/// in another part). The latest reports wait in a small map; a full map becomes a run, and a run
/// is merged into the one before it, in place from the back, once they are of similar length.
/// So the runs stay few, and no merge needs a second copy of the index.
#[derive(Debug, Default)]
pub(crate) struct UsageIndex {
    runs: Vec<Vec<(u64, ExecutionCost)>>,
    latest: HashMap<u64, ExecutionCost, BuildHasherDefault<KeyHasher>>,
}

/// Reports the latest map holds before it becomes a run.
const LATEST_REPORTS: usize = 4096;

impl UsageIndex {
    /// One record's report. A request reported twice (overlapping inputs) counts once.
    pub(crate) fn add(
        &mut self,
        request_id: &str,
        documents: Option<u64>,
        bytes: Option<u64>,
        limit_warning: bool,
    ) {
        self.add_cost(
            request_key(request_id),
            ExecutionCost::new(documents, bytes, limit_warning),
        );
    }

    fn add_cost(&mut self, key: u64, cost: ExecutionCost) {
        self.latest.entry(key).or_default().merge(cost);
        if self.latest.len() >= LATEST_REPORTS {
            let mut run: Vec<_> = self.latest.drain().collect();
            run.sort_unstable_by_key(|&(key, _)| key);
            self.push_run(run);
        }
    }

    /// Adds a sorted run, merging the last runs while the one before is at most twice as long.
    fn push_run(&mut self, run: Vec<(u64, ExecutionCost)>) {
        self.runs.push(run);
        while let [.., before, last] = &self.runs[..]
            && before.len() <= 2 * last.len()
        {
            let last = self.runs.pop().unwrap_or_default();
            if let Some(before) = self.runs.last_mut() {
                merge_runs(before, last);
            }
        }
    }

    /// Adds another index's reports, as if they came after these (the result is the same in
    /// any order).
    pub(crate) fn append(&mut self, later: UsageIndex) {
        for run in later.runs {
            self.push_run(run);
        }
        for (key, cost) in later.latest {
            self.add_cost(key, cost);
        }
    }

    /// Calls `each` with what each of `requests` reported (those that did), all its reports
    /// merged. The keys are taken in order, so each run is walked forward once, galloping over
    /// the entries between two keys, rather than searched from its middle for every key.
    fn each_cost(&self, requests: &RequestKeys, mut each: impl FnMut(u64, ExecutionCost)) {
        let mut keys: Vec<u64> = requests.iter().copied().collect();
        keys.sort_unstable();
        let mut cursors = vec![0; self.runs.len()];
        for key in keys {
            let mut found: Option<ExecutionCost> = self.latest.get(&key).copied();
            for (run, at) in self.runs.iter().zip(&mut cursors) {
                *at = seek(run, *at, key);
                if let Some(&(entry, cost)) = run.get(*at)
                    && entry == key
                {
                    found.get_or_insert(cost).merge(cost);
                }
            }
            if let Some(cost) = found {
                each(key, cost);
            }
        }
    }

    /// The cost of the executions that logged one list; `None` when none of them reported usage.
    pub(super) fn impact(&self, requests: &RequestKeys) -> Option<Impact> {
        let mut impact = Impact::default();
        let mut bytes = None::<u64>;
        self.each_cost(requests, |_, cost| {
            impact.limit_warnings += u64::from(cost.limit_warning());
            if let Some(documents) = cost.documents_read() {
                impact.executions_measured += 1;
                impact.documents_read += documents;
                impact.max_documents_read = impact.max_documents_read.max(documents);
            }
            if let Some(b) = cost.bytes_read() {
                bytes = Some(bytes.unwrap_or(0) + b);
            }
        });
        impact.bytes_read = bytes;
        (impact.executions_measured > 0 || impact.limit_warnings > 0).then_some(impact)
    }
}

/// The first position at or after `from` whose key is at least `key`: doubling steps from
/// `from`, then a binary search within the last step.
fn seek(run: &[(u64, ExecutionCost)], from: usize, key: u64) -> usize {
    let rest = &run[from.min(run.len())..];
    let mut step = 1;
    while step < rest.len() && rest[step - 1].0 < key {
        step *= 2;
    }
    let (low, high) = (step / 2, step.min(rest.len()));
    from + low + rest[low..high].partition_point(|&(entry, _)| entry < key)
}

/// Merges the sorted run `newer` into the sorted run `into`, from the back into the room made
/// at its end, one entry per key.
fn merge_runs(into: &mut Vec<(u64, ExecutionCost)>, newer: Vec<(u64, ExecutionCost)>) {
    let (mut older_left, mut newer_left) = (into.len(), newer.len());
    into.resize(older_left + newer_left, (0, ExecutionCost::default()));
    let mut write = into.len();
    // `write` stays at or past `older_left + newer_left`, so no older entry is overwritten
    // before it is read.
    while newer_left > 0 {
        write -= 1;
        let (key, cost) = newer[newer_left - 1];
        if older_left > 0 && into[older_left - 1].0 >= key {
            let mut entry = into[older_left - 1];
            older_left -= 1;
            if entry.0 == key {
                entry.1.merge(cost);
                newer_left -= 1;
            }
            into[write] = entry;
        } else {
            into[write] = (key, cost);
            newer_left -= 1;
        }
    }
    // One slot per key both runs held is left between the untouched and the merged entries.
    into.drain(older_left..write);
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]

        /// The runs answer as one map of every report would, whatever the order of the
        /// reports, the repeats, and how they were split into indexes appended together.
        #[test]
        fn the_usage_runs_answer_as_one_map_of_every_report(
            reports in proptest::collection::vec(
                (0u64..3000, proptest::option::of(0u64..50_000), proptest::bool::ANY),
                0..20_000,
            ),
            cuts in proptest::collection::vec(0usize..20_000, 0..4),
        ) {
            let mut expected: HashMap<u64, ExecutionCost> = HashMap::new();
            let mut parts = vec![UsageIndex::default()];
            let mut cuts = cuts;
            cuts.sort_unstable();
            for (i, &(key, documents, warning)) in reports.iter().enumerate() {
                if cuts.first() == Some(&i) {
                    cuts.remove(0);
                    parts.push(UsageIndex::default());
                }
                let cost = ExecutionCost::new(documents, documents.map(|d| d * 7), warning);
                expected.entry(key).or_default().merge(cost);
                if let Some(part) = parts.last_mut() {
                    part.add_cost(key, cost);
                }
            }
            let mut index = UsageIndex::default();
            for part in parts {
                index.append(part);
            }
            let mut found = HashMap::new();
            index.each_cost(&(0..3001).collect(), |key, cost| {
                found.insert(key, cost);
            });
            proptest::prop_assert_eq!(found, expected);
            for pair in index.runs.windows(2) {
                proptest::prop_assert!(pair[0].len() > 2 * pair[1].len());
            }
        }
    }

    #[test]
    fn an_execution_cost_keeps_what_was_reported_in_eight_bytes() {
        assert_eq!(std::mem::size_of::<ExecutionCost>(), 8);
        let unknown = ExecutionCost::default();
        assert_eq!(
            (
                unknown.documents_read(),
                unknown.bytes_read(),
                unknown.limit_warning()
            ),
            (None, None, false)
        );
        let cost = ExecutionCost::new(Some(0), Some(16_777_216), true);
        assert_eq!(
            (
                cost.documents_read(),
                cost.bytes_read(),
                cost.limit_warning()
            ),
            (Some(0), Some(16_777_216), true)
        );
        let huge = ExecutionCost::new(Some(u64::MAX), Some(u64::MAX), false);
        assert_eq!(
            huge.documents_read(),
            Some(u64::from(DOCUMENTS_UNKNOWN - 1))
        );
        assert_eq!(huge.bytes_read(), Some(u64::from(BYTES_UNKNOWN - 1)));

        let mut merged = ExecutionCost::new(Some(40), None, false);
        merged.merge(ExecutionCost::new(Some(12), Some(900), true));
        assert_eq!(
            (
                merged.documents_read(),
                merged.bytes_read(),
                merged.limit_warning()
            ),
            (Some(40), Some(900), true)
        );
    }
}

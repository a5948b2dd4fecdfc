//! Groups signals into findings per (table, fields): counts, executions, callers, first/last seen.

use crate::advise::dismiss::dismissed;
use crate::document::{CallerCount, Finding, Ignored, Impact, Risk, Seen};
use crate::signal::{Location, Signal, SignalKind};
use rustc_hash::FxHashMap;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};
use std::sync::Arc;

/// How many sample locations a finding keeps.
pub(crate) const MAX_SAMPLES: usize = 3;
/// How many distinct callers a finding names before it folds the rest into `other_callers`.
pub(crate) const MAX_CALLERS: usize = 20;
/// Convex's documents-read limit per execution (`TooManyDocumentsRead`); an execution past 80%
/// of it is near the limit (`FUNCTION_LIMIT_WARNING_RATIO`).
pub(crate) const DOCUMENTS_READ_LIMIT: u64 = 32_000;

/// Component functions whose warning means a single-row lookup (`listOne` with `numItems: 1`):
/// past the 200-row read cap they can answer "not found" wrongly.
const LOOKUP_FUNCTIONS: &[&str] = &["findOne", "updateOne", "deleteOne"];

/// Where and when a signal was seen, kept as numbers until the document is built: a part of
/// a split input counts its lines from its own start, and the merge moves them.
#[derive(Debug, Clone)]
struct Sighting {
    timestamp: Option<Arc<str>>,
    location: Location,
}

impl Sighting {
    fn seen(&self) -> Seen {
        Seen {
            timestamp: self.timestamp.as_deref().map(str::to_owned),
            location: self.location.to_string(),
        }
    }
}

#[derive(Debug, Default)]
struct Accumulator {
    count: u64,
    /// The executions (by request key) that logged this list: counted, and joined to usage.
    requests: RequestKeys,
    kinds: Vec<SignalKind>,
    /// In the order they were first seen: which ones are named depends on it.
    callers: Vec<(Arc<str>, u64)>,
    other_callers: u64,
    component_functions: Vec<(Arc<str>, u64)>,
    first_seen: Option<Sighting>,
    last_seen: Option<Sighting>,
    samples: Vec<Location>,
    legacy_underscore: u64,
    rules: Vec<Arc<str>>,
    lookup: bool,
}

impl Accumulator {
    fn add(&mut self, signal: Signal) {
        self.count += 1;
        if let Some(id) = &signal.origin.request_id {
            self.requests.insert(request_key(id));
        }
        self.add_kind(signal.kind);
        if let Some(function) = &signal.origin.function {
            count_bounded(&mut self.callers, &mut self.other_callers, function, 1);
        }
        if let Some(function) = &signal.origin.component_function {
            let mut dropped = 0;
            count_bounded(&mut self.component_functions, &mut dropped, function, 1);
            if !self.lookup && is_lookup(function) {
                self.lookup = true;
            }
        }
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(signal.location.clone());
        }
        let seen = Sighting {
            timestamp: signal.origin.timestamp,
            location: signal.location,
        };
        if self.first_seen.is_none() {
            self.first_seen = Some(seen.clone());
        }
        self.last_seen = Some(seen);
        if signal.legacy_underscore {
            self.legacy_underscore += 1;
        }
        self.add_rule(&signal.rule_id);
    }

    fn add_kind(&mut self, kind: SignalKind) {
        if !self.kinds.contains(&kind) {
            self.kinds.push(kind);
            self.kinds.sort();
        }
    }

    fn add_rule(&mut self, rule: &Arc<str>) {
        if !self.rules.iter().any(|r| same(r, rule)) {
            self.rules.push(Arc::clone(rule));
        }
    }

    /// Appends what was gathered after this (a later part of the same input, or a later
    /// input), with its line numbers moved by `line_offset`: the result is what one pass over
    /// both would have gathered.
    fn append(&mut self, later: Accumulator, line_offset: u64) {
        self.count += later.count;
        let mut smaller = later.requests;
        if smaller.len() > self.requests.len() {
            std::mem::swap(&mut smaller, &mut self.requests);
        }
        self.requests.extend(smaller);
        for kind in later.kinds {
            self.add_kind(kind);
        }
        // `later` named the first callers it saw; the ones this list has no room for, and
        // everything it folded, are folded here too.
        for (function, n) in later.callers {
            count_bounded(&mut self.callers, &mut self.other_callers, &function, n);
        }
        self.other_callers += later.other_callers;
        for (function, n) in later.component_functions {
            let mut dropped = 0;
            count_bounded(&mut self.component_functions, &mut dropped, &function, n);
        }
        self.lookup |= later.lookup;
        let shift = |mut location: Location| {
            location.line += line_offset;
            location
        };
        let shift_seen = |seen: Sighting| Sighting {
            timestamp: seen.timestamp,
            location: shift(seen.location),
        };
        if self.first_seen.is_none() {
            self.first_seen = later.first_seen.map(shift_seen);
        }
        if let Some(last) = later.last_seen {
            self.last_seen = Some(shift_seen(last));
        }
        let room = MAX_SAMPLES.saturating_sub(self.samples.len());
        self.samples
            .extend(later.samples.into_iter().take(room).map(shift));
        self.legacy_underscore += later.legacy_underscore;
        for rule in &later.rules {
            self.add_rule(rule);
        }
    }

    fn risk(&self) -> Risk {
        if self.kinds.contains(&SignalKind::UniqueFieldError) {
            Risk::Error
        } else if self.lookup {
            Risk::Lookup
        } else {
            Risk::Scan
        }
    }
}

/// Whether two shared strings are equal: the same allocation (a scanner shares each name)
/// answers without comparing bytes.
fn same(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || a == b
}

/// Counts `n` calls of `key`, in a list that names at most `MAX_CALLERS` (the first seen).
fn count_bounded(list: &mut Vec<(Arc<str>, u64)>, overflow: &mut u64, key: &Arc<str>, n: u64) {
    // The scanner that made `key` shares each name, so it is usually found by its address;
    // only a name from another scanner (or after its table started over) is compared.
    let at = list
        .iter()
        .position(|(k, _)| Arc::ptr_eq(k, key))
        .or_else(|| list.iter().position(|(k, _)| k == key));
    if let Some((_, count)) = at.and_then(|at| list.get_mut(at)) {
        *count += n;
    } else if list.len() < MAX_CALLERS {
        list.push((Arc::clone(key), n));
    } else {
        *overflow += n;
    }
}

/// `adapter:findOne`, `adapter.js:findOne`, `lib:findOne` (0.7.x) and `betterAuth/adapter:findOne`
/// all name the same single-row lookup.
fn is_lookup(function: &str) -> bool {
    let export = function.rsplit(':').next().unwrap_or(function);
    LOOKUP_FUNCTIONS.contains(&export)
}

/// A finding's key: its table and field list.
/// Shared with the signals: looking one up or adding one copies no string.
type Key = (Arc<str>, Arc<[String]>);

/// Lists remembered by the identity of their strings (a cache: it starts over when full).
const IDENTITIES: usize = 1024;

/// Collects signals; `finish` turns them into ranked findings.
#[derive(Debug, Default)]
pub(crate) struct Aggregator {
    /// Each list's position in `findings`: the order lists were first seen in.
    index: FxHashMap<Key, usize>,
    findings: Vec<(Key, Accumulator)>,
    /// Each list's position by the identity of its strings: the signals of one message share
    /// them, so a repeated warning finds its list without hashing the table and fields. The
    /// key is kept so its strings (and their addresses) stay alive.
    by_identity: FxHashMap<(usize, usize), (Key, usize)>,
    signals: u64,
}

impl Aggregator {
    /// Counts a signal; its strings move into the finding instead of being copied.
    pub(crate) fn add(&mut self, mut signal: Signal) {
        self.signals += 1;
        let key = (
            std::mem::take(&mut signal.table),
            std::mem::take(&mut signal.fields),
        );
        let identity = (
            Arc::as_ptr(&key.0).cast::<u8>() as usize,
            Arc::as_ptr(&key.1).cast::<u8>() as usize,
        );
        let at = match self.by_identity.get(&identity) {
            Some(&(_, at)) => at,
            None => {
                let at = match self.index.get(&key) {
                    Some(&at) => at,
                    None => {
                        let at = self.findings.len();
                        self.index.insert(key.clone(), at);
                        self.findings.push((key.clone(), Accumulator::default()));
                        at
                    }
                };
                if self.by_identity.len() >= IDENTITIES {
                    self.by_identity.clear();
                }
                self.by_identity.insert(identity, (key, at));
                at
            }
        };
        self.findings[at].1.add(signal);
    }

    /// Appends the signals gathered after these (a later part of one input read in parallel,
    /// whose lines are numbered from `line_offset` + 1): the result is what one pass over both
    /// would have gathered, in the same order.
    pub(crate) fn append(&mut self, later: Aggregator, line_offset: u64) {
        self.signals += later.signals;
        for (key, acc) in later.findings {
            match self.index.get(&key) {
                Some(&at) => self.findings[at].1.append(acc, line_offset),
                None => {
                    let at = self.findings.len();
                    self.index.insert(key.clone(), at);
                    let mut fresh = Accumulator::default();
                    fresh.append(acc, line_offset);
                    self.findings.push((key, fresh));
                }
            }
        }
    }

    pub(crate) fn signals(&self) -> u64 {
        self.signals
    }

    /// Findings ranked by correctness risk first, then documents read, then executions, then
    /// count; plus the ignored ones. `usage` gives each its impact.
    pub(crate) fn finish(&self, usage: &UsageIndex) -> (Vec<Finding>, Vec<Ignored>) {
        let mut findings = Vec::new();
        let mut ignored = Vec::new();
        for (key, acc) in &self.findings {
            let (table, fields) = (key.0.to_string(), key.1.to_vec());
            let samples = acc.samples.iter().map(ToString::to_string).collect();
            // The configuration is the advice's: here only a list no index can be.
            if let Some(dismissed) = dismissed(None, &table, &fields, Some(acc.count)) {
                ignored.push(Ignored {
                    table,
                    fields,
                    count: acc.count,
                    reason: dismissed.into_reason(),
                    samples,
                });
                continue;
            }
            findings.push(Finding {
                risk: acc.risk(),
                table,
                fields,
                count: acc.count,
                executions: (!acc.requests.is_empty()).then_some(acc.requests.len() as u64),
                impact: usage.impact(&acc.requests),
                insights: Vec::new(),
                kinds: acc.kinds.clone(),
                callers: ranked(&acc.callers),
                other_callers: acc.other_callers,
                component_functions: ranked(&acc.component_functions),
                first_seen: acc
                    .first_seen
                    .as_ref()
                    .expect("a finding has at least one signal")
                    .seen(),
                last_seen: acc
                    .last_seen
                    .as_ref()
                    .expect("a finding has at least one signal")
                    .seen(),
                samples,
                legacy_underscore: acc.legacy_underscore,
                rules: acc.rules.iter().map(|rule| rule.to_string()).collect(),
                status: None,
                exact: None,
            });
        }
        rank(&mut findings);
        (findings, ignored)
    }

    /// The executions (by `request_key`) that logged one list: what insights join by request id.
    pub(crate) fn requests(&self, table: &str, fields: &[String]) -> Option<&RequestKeys> {
        self.index
            .get(&(Arc::from(table), Arc::from(fields)))
            .map(|&at| &self.findings[at].1.requests)
    }
}

/// The ranking: correctness risk first, then documents read, then executions, then count.
///
/// Within one risk, a list behind a `documentsReadLimit`/`bytesReadLimit` insight comes first:
/// Convex raised that insight because executions of the function *failed* on the read limit
/// (severity `error` in convex's `src/cli/lib/insights.ts`) over the last 72 hours of the whole
/// deployment, while documents read only measure the executions in the logs that were read. A
/// failing function is an outage, not a cost. It stays below a riskier list, because the risk
/// says what the missing index does to each answer (a thrown error, a wrong "not found"), which
/// no insight changes.
pub(crate) fn rank(findings: &mut [Finding]) {
    let documents = |f: &Finding| f.impact.as_ref().map_or(0, |i| i.documents_read);
    findings.sort_by(|a, b| {
        a.risk
            .cmp(&b.risk)
            .then(b.behind_read_limit().cmp(&a.behind_read_limit()))
            .then(documents(b).cmp(&documents(a)))
            .then(b.executions.cmp(&a.executions))
            .then(b.count.cmp(&a.count))
            .then_with(|| (&a.table, &a.fields).cmp(&(&b.table, &b.fields)))
    });
}

fn ranked(list: &[(Arc<str>, u64)]) -> Vec<CallerCount> {
    let mut callers: Vec<CallerCount> = list
        .iter()
        .map(|(function, count)| CallerCount {
            function: function.to_string(),
            count: *count,
        })
        .collect();
    callers.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.function.cmp(&b.function))
    });
    callers
}

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
    fn impact(&self, requests: &RequestKeys) -> Option<Impact> {
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

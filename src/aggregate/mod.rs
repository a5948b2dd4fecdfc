//! Groups signals into findings per (table, fields): counts, executions, callers, first/last seen.

use crate::advise::dismiss::dismissed;
use crate::document::{CallerCount, Finding, Ignored, Risk, Seen};
use crate::signal::{Location, Signal, SignalKind};
use rustc_hash::FxHashMap;
use std::sync::Arc;

mod usage;

pub(crate) use usage::{RequestKeys, UsageIndex, request_key};

/// How many sample locations a finding keeps.
pub(crate) const MAX_SAMPLES: usize = 3;
/// How many distinct callers a finding names before it folds the rest into `other_callers`.
pub(crate) const MAX_CALLERS: usize = 20;
/// Convex's documents-read limit per execution (`TooManyDocumentsRead`); an execution past 80%
/// of it is near the limit (`FUNCTION_LIMIT_WARNING_RATIO`).
pub(crate) const DOCUMENTS_READ_LIMIT: u64 = 32_000;

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
            if !self.lookup && Risk::is_lookup_function(function) {
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
        Risk::of(
            self.kinds.contains(&SignalKind::UniqueFieldError),
            self.lookup,
        )
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

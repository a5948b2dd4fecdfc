//! Groups signals into findings per (table, fields): counts, executions, callers, first/last seen.

use crate::document::{CallerCount, Finding, Ignored, Impact, Risk, Seen};
use crate::signal::{Location, Signal, SignalKind};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};

/// How many sample locations a finding keeps.
pub const MAX_SAMPLES: usize = 3;
/// How many distinct callers a finding names before it folds the rest into `other_callers`.
pub const MAX_CALLERS: usize = 20;
/// Convex's documents-read limit per execution (`TooManyDocumentsRead`); an execution past 80%
/// of it is near the limit (`FUNCTION_LIMIT_WARNING_RATIO`).
pub const DOCUMENTS_READ_LIMIT: u64 = 32_000;

/// Component functions whose warning means a single-row lookup (`listOne` with `numItems: 1`):
/// past the 200-row read cap they can answer "not found" wrongly.
const LOOKUP_FUNCTIONS: &[&str] = &["findOne", "updateOne", "deleteOne"];

#[derive(Debug, Default)]
struct Accumulator {
    count: u64,
    /// The executions (by request key) that logged this list: counted, and joined to usage.
    requests: HashSet<u64>,
    kinds: Vec<SignalKind>,
    callers: BTreeMap<String, u64>,
    other_callers: u64,
    component_functions: BTreeMap<String, u64>,
    first_seen: Option<Seen>,
    last_seen: Option<Seen>,
    samples: Vec<Location>,
    legacy_underscore: u64,
    rules: Vec<String>,
    lookup: bool,
}

impl Accumulator {
    fn add(&mut self, signal: &Signal) {
        self.count += 1;
        if let Some(id) = &signal.origin.request_id {
            self.requests.insert(request_key(id));
        }
        if !self.kinds.contains(&signal.kind) {
            self.kinds.push(signal.kind);
            self.kinds.sort();
        }
        if let Some(function) = &signal.origin.function {
            count_bounded(&mut self.callers, &mut self.other_callers, function);
        }
        if let Some(function) = &signal.origin.component_function {
            let mut dropped = 0;
            count_bounded(&mut self.component_functions, &mut dropped, function);
            if is_lookup(function) {
                self.lookup = true;
            }
        }
        let seen = Seen {
            timestamp: signal.origin.timestamp.clone(),
            location: signal.location.to_string(),
        };
        if self.first_seen.is_none() {
            self.first_seen = Some(seen.clone());
        }
        self.last_seen = Some(seen);
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push(signal.location.clone());
        }
        if signal.legacy_underscore {
            self.legacy_underscore += 1;
        }
        if !self.rules.iter().any(|r| **r == *signal.rule_id) {
            self.rules.push(signal.rule_id.to_string());
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

fn count_bounded(map: &mut BTreeMap<String, u64>, overflow: &mut u64, key: &str) {
    if let Some(n) = map.get_mut(key) {
        *n += 1;
    } else if map.len() < MAX_CALLERS {
        map.insert(key.to_owned(), 1);
    } else {
        *overflow += 1;
    }
}

/// `adapter:findOne`, `adapter.js:findOne`, `lib:findOne` (0.7.x) and `betterAuth/adapter:findOne`
/// all name the same single-row lookup.
fn is_lookup(function: &str) -> bool {
    let export = function.rsplit(':').next().unwrap_or(function);
    LOOKUP_FUNCTIONS.contains(&export)
}

/// Why a field list is never turned into an index, if it is not.
pub fn ignore_reason(fields: &[String]) -> Option<&'static str> {
    if fields.is_empty() {
        return Some("the warning lists no fields");
    }
    if fields.iter().any(|f| f == "_id" || f == "id") {
        return Some(
            "`_id` is never indexed: it is a document id lookup (a `[_id]` warning comes from \
             @convex-dev/better-auth 0.8.x; upgrade, or read the document with `ctx.db.get`)",
        );
    }
    if fields.iter().any(|f| f == "_creationTime") {
        return Some("`_creationTime` is appended to every Convex index implicitly");
    }
    None
}

/// Collects signals; `finish` turns them into ranked findings.
#[derive(Debug, Default)]
pub struct Aggregator {
    findings: HashMap<(String, Vec<String>), Accumulator>,
    order: Vec<(String, Vec<String>)>,
    signals: u64,
}

impl Aggregator {
    pub fn add(&mut self, signal: &Signal) {
        self.signals += 1;
        let key = (signal.table.clone(), signal.fields.clone());
        let acc = self.findings.entry(key.clone()).or_insert_with(|| {
            self.order.push(key);
            Accumulator::default()
        });
        acc.add(signal);
    }

    pub fn signals(&self) -> u64 {
        self.signals
    }

    /// Findings ranked by correctness risk first, then documents read, then executions, then
    /// count; plus the ignored ones. `usage` gives each its impact.
    pub fn finish(&self, usage: &UsageIndex) -> (Vec<Finding>, Vec<Ignored>) {
        let mut findings = Vec::new();
        let mut ignored = Vec::new();
        for key in &self.order {
            let acc = &self.findings[key];
            let (table, fields) = key.clone();
            let samples = acc.samples.iter().map(ToString::to_string).collect();
            if let Some(reason) = ignore_reason(&fields) {
                ignored.push(Ignored {
                    table,
                    fields,
                    count: acc.count,
                    reason: reason.to_owned(),
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
                    .clone()
                    .expect("a finding has at least one signal"),
                last_seen: acc
                    .last_seen
                    .clone()
                    .expect("a finding has at least one signal"),
                samples,
                legacy_underscore: acc.legacy_underscore,
                rules: acc.rules.clone(),
                status: None,
                exact: None,
            });
        }
        rank(&mut findings);
        (findings, ignored)
    }

    /// The executions (by `request_key`) that logged one list: what insights join by request id.
    pub fn requests(&self, table: &str, fields: &[String]) -> Option<&HashSet<u64>> {
        self.findings
            .get(&(table.to_owned(), fields.to_vec()))
            .map(|acc| &acc.requests)
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
pub fn rank(findings: &mut [Finding]) {
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

fn ranked(map: &BTreeMap<String, u64>) -> Vec<CallerCount> {
    let mut callers: Vec<CallerCount> = map
        .iter()
        .map(|(function, &count)| CallerCount {
            function: function.clone(),
            count,
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
pub fn request_key(request_id: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    request_id.hash(&mut hasher);
    hasher.finish()
}

/// What one execution read, once its usage was found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct ExecutionCost {
    documents_read: Option<u64>,
    bytes_read: Option<u64>,
    limit_warning: bool,
}

/// Every execution's usage, by request key, as the records report it (in any order).
#[derive(Debug, Default)]
pub struct UsageIndex {
    executions: HashMap<u64, ExecutionCost>,
}

impl UsageIndex {
    /// One record's report. A request reported twice (overlapping inputs) counts once.
    pub fn add(
        &mut self,
        request_id: &str,
        documents: Option<u64>,
        bytes: Option<u64>,
        limit_warning: bool,
    ) {
        let cost = self.executions.entry(request_key(request_id)).or_default();
        cost.documents_read = cost.documents_read.max(documents);
        cost.bytes_read = cost.bytes_read.max(bytes);
        cost.limit_warning |= limit_warning;
    }

    /// The cost of the executions that logged one list; `None` when none of them reported usage.
    fn impact(&self, requests: &HashSet<u64>) -> Option<Impact> {
        let mut impact = Impact::default();
        let mut bytes = None::<u64>;
        for cost in requests.iter().filter_map(|r| self.executions.get(r)) {
            impact.limit_warnings += u64::from(cost.limit_warning);
            if let Some(documents) = cost.documents_read {
                impact.executions_measured += 1;
                impact.documents_read += documents;
                impact.max_documents_read = impact.max_documents_read.max(documents);
            }
            if let Some(b) = cost.bytes_read {
                bytes = Some(bytes.unwrap_or(0) + b);
            }
        }
        impact.bytes_read = bytes;
        (impact.executions_measured > 0 || impact.limit_warnings > 0).then_some(impact)
    }
}

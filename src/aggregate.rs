//! Groups signals into findings per (table, fields): counts, executions, callers, first/last seen.

use crate::document::{CallerCount, Finding, Ignored, Risk, Seen};
use crate::signal::{Location, Signal, SignalKind};
use std::collections::{BTreeMap, HashMap, VecDeque};

/// How many sample locations a finding keeps.
pub const MAX_SAMPLES: usize = 3;
/// How many distinct callers a finding names before it folds the rest into `other_callers`.
pub const MAX_CALLERS: usize = 20;
/// Request ids remembered per finding to count distinct executions. An execution's lines sit
/// together in every format, so a short window counts exactly while keeping memory bounded.
const RECENT_REQUEST_IDS: usize = 64;

/// Component functions whose warning means a single-row lookup (`listOne` with `numItems: 1`):
/// past the 200-row read cap they can answer "not found" wrongly.
const LOOKUP_FUNCTIONS: &[&str] = &["findOne", "updateOne", "deleteOne"];

#[derive(Debug, Default)]
struct Accumulator {
    count: u64,
    executions: u64,
    recent_ids: VecDeque<String>,
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
        if let Some(id) = &signal.origin.request_id
            && !self.recent_ids.contains(id)
        {
            self.executions += 1;
            if self.recent_ids.len() == RECENT_REQUEST_IDS {
                self.recent_ids.pop_front();
            }
            self.recent_ids.push_back(id.clone());
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

    /// Findings ranked by correctness risk first, then count; plus the ignored ones.
    pub fn finish(&self) -> (Vec<Finding>, Vec<Ignored>) {
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
                executions: (acc.executions > 0).then_some(acc.executions),
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
            });
        }
        findings.sort_by(|a, b| {
            a.risk
                .cmp(&b.risk)
                .then(b.count.cmp(&a.count))
                .then_with(|| (&a.table, &a.fields).cmp(&(&b.table, &b.fields)))
        });
        (findings, ignored)
    }
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

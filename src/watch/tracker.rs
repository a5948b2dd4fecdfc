//! Each suggestion's life in a live run: new → written (by us) → served (an index in the
//! schema serves it) → resolved (quiet for a while after that) or still firing, with why.
//! What a suggestion means against the schema is the engine's answer (`apply_advice`); the
//! tracker adds only time. Memory is bounded: a fixed number of suggestions, a fixed rate
//! window, a few callers each.

use crate::advise::{Dismissals, Dismissed, dismissed, index_name};
use crate::document::{FindingStatus, ListKey, Report};
use crate::schema::SchemaModel;
use crate::signal::Signal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Distinct (table, fields) pairs tracked; more would mean the input is not Better Auth's.
pub(crate) const MAX_SUGGESTIONS: usize = 1000;
const MAX_CALLERS: usize = 5;
const RATE_WINDOW_SECS: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Status {
    New,
    Written,
    Served,
    Resolved,
    StillFiring,
    /// No index in the overlay can help (unknown table or field, a staged index, an old
    /// component); the reason says what will.
    Blocked,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Written => "written",
            Status::Served => "served",
            Status::Resolved => "resolved",
            Status::StillFiring => "still firing",
            Status::Blocked => "blocked",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct TrackerOptions {
    /// Served and no warning for this long: resolved.
    pub quiet: Duration,
    /// Warnings this soon after the index appeared are in flight (deploy, log delay).
    pub grace: Duration,
}

impl Default for TrackerOptions {
    fn default() -> Self {
        Self {
            quiet: Duration::from_secs(60),
            grace: Duration::from_secs(15),
        }
    }
}

/// What a renderer shows for one suggestion; `--format json` prints it as one NDJSON event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct SuggestionView {
    pub table: String,
    pub fields: Vec<String>,
    /// The index the plan adds for it (the name `apply` would write).
    pub index: String,
    pub count: u64,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Warnings in the last minute.
    pub recent_per_min: u64,
    pub callers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub served_by: Option<String>,
    /// The engine's status against the schema: the same value `report` gives the suggestion.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::document::status_with_advice"
    )]
    pub finding_status: Option<FindingStatus>,
}

/// Per-second counts over the last minute.
#[derive(Debug)]
struct RateWindow {
    buckets: [u32; RATE_WINDOW_SECS],
    /// The second (since the tracker's epoch) the newest bucket belongs to.
    head: u64,
}

impl RateWindow {
    fn new() -> Self {
        Self {
            buckets: [0; RATE_WINDOW_SECS],
            head: 0,
        }
    }

    fn advance(&mut self, second: u64) {
        if second <= self.head {
            return;
        }
        let steps = (second - self.head).min(RATE_WINDOW_SECS as u64);
        for i in 1..=steps {
            self.buckets[((self.head + i) % RATE_WINDOW_SECS as u64) as usize] = 0;
        }
        self.head = second;
    }

    fn add(&mut self, second: u64) {
        self.advance(second);
        let b = &mut self.buckets[(self.head % RATE_WINDOW_SECS as u64) as usize];
        *b = b.saturating_add(1);
    }

    fn sum(&mut self, second: u64) -> u64 {
        self.advance(second);
        self.buckets.iter().map(|&n| u64::from(n)).sum()
    }
}

/// An index that serves a suggestion, as the schema declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ServingIndex {
    name: String,
    fields: Vec<String>,
}

/// Where `--write` is with a suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
enum WriteState {
    NotTried,
    /// Written, or handed to a write that succeeded.
    Made,
    /// The last write failed; it is made again when the schema changes, or after `RETRY_EVERY`.
    Failed {
        reason: String,
        at: Instant,
    },
    /// The plan left it out at this count (`min_count` held it back): tried again once it is
    /// seen more often.
    Held {
        count: u64,
    },
}

/// A failed write is tried again this long after it failed, even if nothing changed.
pub(crate) const RETRY_EVERY: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Entry {
    table: String,
    fields: Vec<String>,
    count: u64,
    rate: RateWindow,
    last_seen: Instant,
    callers: BTreeMap<String, u64>,
    status: Status,
    reason: Option<String>,
    /// The engine's answer, as of the last `apply_advice`.
    finding_status: Option<FindingStatus>,
    /// The planned index's name, when the plan adds one for this suggestion.
    planned: Option<String>,
    served_by: Option<ServingIndex>,
    served_at: Option<Instant>,
    write: WriteState,
    eligible_since: Option<Instant>,
    dirty: bool,
}

#[derive(Debug)]
pub(crate) struct Tracker {
    options: TrackerOptions,
    epoch: Instant,
    entries: HashMap<ListKey, Entry>,
    order: Vec<ListKey>,
    /// When each (table, index name, fields) first appeared in the schema during this run.
    index_seen: HashMap<(String, String, Vec<String>), Instant>,
    dropped: u64,
    /// The configuration's `[[ignore]]` entries: never tracked as suggestions.
    dismissals: Dismissals,
}

impl Tracker {
    pub(crate) fn new(options: TrackerOptions, now: Instant) -> Self {
        Self {
            options,
            epoch: now,
            entries: HashMap::new(),
            order: Vec::new(),
            index_seen: HashMap::new(),
            dropped: 0,
            dismissals: Dismissals::default(),
        }
    }

    /// Suggestions these dismiss are not tracked (`dismissed` says why).
    pub(crate) fn with_dismissals(mut self, dismissals: Dismissals) -> Self {
        self.dismissals = dismissals;
        self
    }

    /// Why this (table, fields) is not tracked, if it is not. `min_count` is left to the
    /// concluded report: a live count is still growing.
    pub(crate) fn dismissed(&self, table: &str, fields: &[String]) -> Option<Dismissed> {
        dismissed(Some(&self.dismissals), table, fields, None)
    }

    /// Signals not tracked because the suggestion limit was reached.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    /// Whether a signal of this (table, fields) fits in the bounded state: a known suggestion,
    /// or room for a new one. Callers keep other per-key state (the engine's aggregate) in step.
    pub(crate) fn accepts(&self, table: &str, fields: &[String]) -> bool {
        self.entries.len() < MAX_SUGGESTIONS
            || self.entries.contains_key(&ListKey::new(table, fields))
    }

    /// Counts a signal. Returns the suggestion's key when its status changed (or it is new);
    /// a new suggestion is `new` until `apply_advice` says what it means.
    pub(crate) fn observe(&mut self, signal: &Signal, now: Instant) -> Option<ListKey> {
        if self.dismissed(&signal.table, &signal.fields).is_some() {
            return None;
        }
        let key = ListKey::new(&signal.table, &signal.fields);
        let second = self.second(now);
        let mut created = false;
        if !self.entries.contains_key(&key) {
            if self.entries.len() >= MAX_SUGGESTIONS {
                self.dropped += 1;
                return None;
            }
            self.entries.insert(
                key.clone(),
                Entry {
                    table: key.table.clone(),
                    fields: key.fields.clone(),
                    count: 0,
                    rate: RateWindow::new(),
                    last_seen: now,
                    callers: BTreeMap::new(),
                    status: Status::New,
                    reason: None,
                    finding_status: None,
                    planned: None,
                    served_by: None,
                    served_at: None,
                    write: WriteState::NotTried,
                    eligible_since: None,
                    dirty: true,
                },
            );
            self.order.push(key.clone());
            created = true;
        }
        let grace = self.options.grace;
        let entry = self.entries.get_mut(&key)?;
        entry.count += 1;
        entry.rate.add(second);
        entry.last_seen = now;
        entry.dirty = true;
        if let Some(function) = &signal.origin.function {
            if let Some(n) = entry.callers.get_mut(&**function) {
                *n += 1;
            } else if entry.callers.len() < MAX_CALLERS {
                entry.callers.insert(function.to_string(), 1);
            }
        }
        let before = entry.status;
        if matches!(entry.status, Status::Served | Status::Resolved)
            && let (Some(at), Some(index)) = (entry.served_at, &entry.served_by)
            && now.saturating_duration_since(at) > grace
        {
            entry.reason = Some(still_firing_reason(index, &entry.fields));
            entry.status = Status::StillFiring;
        }
        (created || entry.status != before).then_some(key)
    }

    /// Takes the engine's answer for every tracked suggestion: its status against `model` and
    /// the plan. Returns the suggestions whose live status changed.
    pub(crate) fn apply_advice(
        &mut self,
        report: &Report,
        model: Option<&SchemaModel>,
        now: Instant,
    ) -> Vec<ListKey> {
        self.note_indexes(model, now);
        let mut changed = Vec::new();
        for finding in &report.suggestions {
            let key = ListKey::new(&finding.table, &finding.fields);
            let Some(entry) = self.entries.get_mut(&key) else {
                continue;
            };
            entry.planned = report
                .plan
                .iter()
                .find(|i| {
                    i.serves
                        .iter()
                        .any(|s| s.table == finding.table && s.fields == finding.fields)
                })
                .map(|i| i.name.clone());
            let before = (entry.status, entry.served_by.clone());
            entry.finding_status = finding.status.clone();
            match &finding.status {
                Some(FindingStatus::Served { index }) => {
                    let serving = ServingIndex {
                        name: index.clone(),
                        fields: model
                            .and_then(|m| m.table(&finding.table))
                            .and_then(|t| t.indexes.iter().find(|i| &i.name == index))
                            .map_or_else(|| finding.fields.clone(), |i| i.fields.clone()),
                    };
                    if entry.served_by.as_ref() != Some(&serving) {
                        entry.served_at = Some(
                            self.index_seen
                                .get(&(
                                    key.table.clone(),
                                    serving.name.clone(),
                                    serving.fields.clone(),
                                ))
                                .copied()
                                .unwrap_or(now),
                        );
                        entry.served_by = Some(serving);
                        entry.status = Status::Served;
                        entry.reason = None;
                    }
                }
                Some(status) if !status.needs_index() => {
                    entry.served_by = None;
                    entry.served_at = None;
                    entry.status = Status::Blocked;
                    entry.reason = Some(status.describe());
                }
                _ => {
                    entry.served_by = None;
                    entry.served_at = None;
                    entry.reason = entry.write_failure();
                    if entry.status != Status::Written {
                        entry.status = Status::New;
                    }
                }
            }
            if (entry.status, entry.served_by.clone()) != before {
                changed.push(key);
            }
        }
        // Below `min_count` so far: not a suggestion yet, and the view says why.
        for item in &report.ignored {
            let key = ListKey::new(&item.table, &item.fields);
            if let Some(entry) = self.entries.get_mut(&key)
                && entry.reason.as_deref() != Some(item.reason.as_str())
            {
                entry.finding_status = None;
                entry.planned = None;
                entry.reason = Some(item.reason.clone());
                changed.push(key);
            }
        }
        changed
    }

    /// Remembers when each index of the schema was first seen; a removed and re-added index
    /// starts over.
    fn note_indexes(&mut self, model: Option<&SchemaModel>, now: Instant) {
        let mut seen = HashMap::new();
        for table in model.into_iter().flat_map(|m| &m.tables) {
            for index in &table.indexes {
                let key = (table.name.clone(), index.name.clone(), index.fields.clone());
                let at = self.index_seen.get(&key).copied().unwrap_or(now);
                seen.insert(key, at);
            }
        }
        self.index_seen = seen;
    }

    /// We wrote the index for this suggestion (the schema re-read will then see it served).
    pub(crate) fn mark_written(&mut self, table: &str, fields: &[String]) -> bool {
        let key = ListKey::new(table, fields);
        match self.entries.get_mut(&key) {
            Some(entry) if entry.status == Status::New => {
                entry.status = Status::Written;
                true
            }
            _ => false,
        }
    }

    /// Time-driven transitions: served (or still firing) and quiet long enough → resolved.
    pub(crate) fn tick(&mut self, now: Instant) -> Vec<ListKey> {
        let quiet = self.options.quiet;
        let mut changed = Vec::new();
        for key in &self.order {
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            if !matches!(entry.status, Status::Served | Status::StillFiring) {
                continue;
            }
            let Some(served_at) = entry.served_at else {
                continue;
            };
            let since = served_at.max(entry.last_seen);
            if now.saturating_duration_since(since) >= quiet {
                entry.status = Status::Resolved;
                entry.reason = None;
                changed.push(key.clone());
            }
        }
        changed
    }

    /// The suggestions a write is due for: each is new, seen `min_hits` times, and not written
    /// yet (never tried, or its last write failed and `retry` says so, or it failed
    /// `RETRY_EVERY` ago); the write is due once no other became ready in the last `debounce` (so
    /// a burst is written at once), or at once with `flush` (the input ended). Empty when no
    /// write is due.
    pub(crate) fn write_due(
        &mut self,
        min_hits: u64,
        debounce: Duration,
        now: Instant,
        flush: bool,
        retry: bool,
    ) -> Vec<ListKey> {
        let mut ready = Vec::new();
        let mut latest = None;
        for key in &self.order {
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            let wanted = match &entry.write {
                WriteState::NotTried => true,
                WriteState::Made => false,
                WriteState::Failed { at, .. } => {
                    retry || now.saturating_duration_since(*at) >= RETRY_EVERY
                }
                WriteState::Held { count } => entry.count > *count,
            };
            if entry.status != Status::New || !wanted || entry.count < min_hits {
                continue;
            }
            let since = *entry.eligible_since.get_or_insert(now);
            latest = latest.max(Some(since));
            ready.push(key.clone());
        }
        let due = match latest {
            Some(t) => flush || retry || now.saturating_duration_since(t) >= debounce,
            None => false,
        };
        if !due {
            return Vec::new();
        }
        for key in &ready {
            if let Some(entry) = self.entries.get_mut(key) {
                entry.write = WriteState::Made;
            }
        }
        ready
    }

    /// The write for `keys` failed: each stays new, shows `write failed: <reason>`, and is tried
    /// again (`write_due`). Returns the suggestions whose reason changed.
    pub(crate) fn write_failed(
        &mut self,
        keys: &[ListKey],
        reason: &str,
        now: Instant,
    ) -> Vec<ListKey> {
        let mut changed = Vec::new();
        for key in keys {
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            entry.write = WriteState::Failed {
                reason: reason.to_owned(),
                at: now,
            };
            let shown = entry.write_failure();
            if entry.reason != shown {
                entry.reason = shown;
                changed.push(key.clone());
            }
        }
        changed
    }

    /// The write for `keys` left them out of its plan: each is tried again once seen more often.
    pub(crate) fn write_held(&mut self, keys: &[ListKey]) {
        for key in keys {
            if let Some(entry) = self.entries.get_mut(key) {
                entry.write = WriteState::Held { count: entry.count };
            }
        }
    }

    /// The suggestions whose last write failed and that still need one, with the reason.
    pub(crate) fn unwritten(&self) -> Vec<(ListKey, String)> {
        self.order
            .iter()
            .filter_map(|key| {
                let entry = self.entries.get(key)?;
                match &entry.write {
                    WriteState::Failed { reason, .. } if entry.status == Status::New => {
                        Some((key.clone(), reason.clone()))
                    }
                    _ => None,
                }
            })
            .collect()
    }

    /// The suggestion's current state; it counts as shown, so `take_dirty` skips it.
    pub(crate) fn view(&mut self, key: &ListKey, now: Instant) -> Option<SuggestionView> {
        let second = self.second(now);
        let entry = self.entries.get_mut(key)?;
        entry.dirty = false;
        Some(render(entry, second))
    }

    /// Every suggestion, in first-seen order.
    pub(crate) fn views(&mut self, now: Instant) -> Vec<SuggestionView> {
        let second = self.second(now);
        let entries = &mut self.entries;
        self.order
            .iter()
            .filter_map(|k| entries.get_mut(k).map(|e| render(e, second)))
            .collect()
    }

    /// Suggestions whose count changed since the last call.
    pub(crate) fn take_dirty(&mut self, now: Instant) -> Vec<SuggestionView> {
        let second = self.second(now);
        let entries = &mut self.entries;
        self.order
            .iter()
            .filter_map(|k| {
                let e = entries.get_mut(k)?;
                std::mem::take(&mut e.dirty).then(|| render(e, second))
            })
            .collect()
    }
}

impl Entry {
    /// The reason a failed write shows on the row.
    fn write_failure(&self) -> Option<String> {
        match &self.write {
            WriteState::Failed { reason, .. } => Some(format!("write failed: {reason}")),
            _ => None,
        }
    }
}

fn render(entry: &mut Entry, second: u64) -> SuggestionView {
    let mut callers: Vec<(&String, &u64)> = entry.callers.iter().collect();
    callers.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    SuggestionView {
        table: entry.table.clone(),
        fields: entry.fields.clone(),
        index: entry
            .planned
            .clone()
            .unwrap_or_else(|| index_name(&entry.fields)),
        count: entry.count,
        status: entry.status,
        reason: entry.reason.clone(),
        recent_per_min: entry.rate.sum(second),
        callers: callers.into_iter().map(|(f, _)| f.clone()).collect(),
        served_by: entry.served_by.as_ref().map(|i| i.name.clone()),
        finding_status: entry.finding_status.clone(),
    }
}

/// Why warnings continue although an index in the schema serves the list (better-auth.md:
/// `createdAt` bounds need an exact list; otherwise the index is not deployed yet).
fn still_firing_reason(index: &ServingIndex, fields: &[String]) -> String {
    if index.fields.len() != fields.len() {
        format!(
            "index `{}` [{}] begins with these fields but is longer: a query that sorts or bounds \
             by createdAt needs an index of exactly [{}]",
            index.name,
            index.fields.join(", "),
            fields.join(", ")
        )
    } else {
        format!(
            "index `{}` is in the schema but not deployed yet: is `npx convex dev` running, and \
             did its last push succeed?",
            index.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Finding, PlannedIndex, SCHEMA_VERSION, Stats};
    use crate::schema::model::{Declared, Index, Table};
    use crate::signal::{Location, Origin, SignalKind};

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|f| f.to_string()).collect()
    }

    fn signal(table: &str, fields: &[&str]) -> Signal {
        Signal {
            table: table.into(),
            fields: strings(fields).into(),
            kind: SignalKind::MissingIndexWarning,
            rule_id: "r".into(),
            legacy_underscore: false,
            origin: Origin {
                function: Some("org:list".into()),
                ..Origin::default()
            },
            location: Location {
                source: "s".into(),
                line: 1,
            },
        }
    }

    fn model(index: &[&str]) -> SchemaModel {
        SchemaModel {
            tables: vec![Table {
                name: "member".into(),
                fields: None,
                indexes: vec![Index {
                    name: index.join("_"),
                    fields: strings(index),
                    staged: false,
                    declared: Declared::Overlay,
                    span: None,
                    marker: None,
                }],
            }],
            regenerate: None,
        }
    }

    /// The engine's answer for one suggestion: its status, and the planned index if it needs one.
    fn advice(fields: &[&str], status: FindingStatus) -> Report {
        let plan = status
            .needs_index()
            .then(|| PlannedIndex {
                table: "member".into(),
                name: format!("{}_2", fields.join("_")),
                fields: strings(fields),
                serves: vec![ListKey {
                    table: "member".into(),
                    fields: strings(fields),
                }],
                note: None,
                exact: false,
                extends: None,
            })
            .into_iter()
            .collect();
        Report {
            version: SCHEMA_VERSION,
            suggestions: vec![Finding {
                table: "member".into(),
                fields: strings(fields),
                status: Some(status),
                ..Finding::default()
            }],
            plan,
            ignored: Vec::new(),
            notes: Vec::new(),
            stats: Stats::default(),
            coverage: Default::default(),
            schema: None,
            predictions: Vec::new(),
            predicted_from: Vec::new(),
        }
    }

    #[test]
    fn new_written_served_resolved() {
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        let mut t = Tracker::new(TrackerOptions::default(), t0);
        let fields = ["organizationId", "userId"];
        let sig = signal("member", &fields);
        assert!(t.observe(&sig, s(0)).is_some());
        t.apply_advice(&advice(&fields, FindingStatus::New), None, s(0));
        let v = &t.views(s(0))[0];
        assert_eq!(
            (v.status, v.index.as_str()),
            (Status::New, "organizationId_userId_2")
        );
        assert!(t.observe(&sig, s(1)).is_none());
        assert!(
            t.write_due(2, Duration::from_millis(500), s(1), false, false)
                .is_empty()
        );
        assert!(
            !t.write_due(2, Duration::from_millis(500), s(2), false, false)
                .is_empty()
        );
        assert!(
            t.write_due(2, Duration::ZERO, s(3), true, false).is_empty(),
            "never twice"
        );
        assert!(t.mark_written("member", &sig.fields));
        assert_eq!(t.views(s(3))[0].status, Status::Written);
        let served = FindingStatus::Served {
            index: "organizationId_userId".into(),
        };
        let m = model(&fields);
        assert_eq!(
            t.apply_advice(&advice(&fields, served), Some(&m), s(4))
                .len(),
            1
        );
        assert_eq!(t.views(s(4))[0].status, Status::Served);
        // A warning in flight during the deploy does not count as still firing.
        assert!(t.observe(&sig, s(10)).is_none());
        assert!(t.tick(s(60)).is_empty());
        assert_eq!(t.tick(s(70)).len(), 1);
        let v = &t.views(s(70))[0];
        assert_eq!(
            (v.status, v.count, v.recent_per_min),
            (Status::Resolved, 3, 0)
        );
    }

    #[test]
    fn the_input_ending_flushes_a_write_at_once() {
        let t0 = Instant::now();
        let mut t = Tracker::new(TrackerOptions::default(), t0);
        t.observe(&signal("member", &["userId"]), t0);
        t.apply_advice(&advice(&["userId"], FindingStatus::New), None, t0);
        assert!(
            t.write_due(1, Duration::from_secs(1), t0, false, false)
                .is_empty()
        );
        assert!(
            !t.write_due(1, Duration::from_secs(1), t0, true, false)
                .is_empty()
        );
    }

    #[test]
    fn a_failed_write_is_shown_and_tried_again() {
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        let mut t = Tracker::new(TrackerOptions::default(), t0);
        let key = ListKey::new("member", &strings(&["userId"]));
        t.observe(&signal("member", &["userId"]), t0);
        t.apply_advice(&advice(&["userId"], FindingStatus::New), None, t0);
        let due = t.write_due(1, Duration::ZERO, t0, false, false);
        assert_eq!(due, std::slice::from_ref(&key));
        assert_eq!(
            t.write_failed(&due, "schema.ts:3:1: syntax error", t0),
            vec![key.clone()]
        );
        let v = &t.views(t0)[0];
        assert_eq!(v.status, Status::New);
        assert_eq!(
            v.reason.as_deref(),
            Some("write failed: schema.ts:3:1: syntax error")
        );
        // The engine's answer again (a re-read, a new line) keeps the failure on the row.
        t.apply_advice(&advice(&["userId"], FindingStatus::New), None, s(1));
        assert!(
            t.views(s(1))[0]
                .reason
                .as_deref()
                .unwrap()
                .starts_with("write failed")
        );
        assert_eq!(t.unwritten().len(), 1);
        assert!(
            t.write_due(1, Duration::ZERO, s(1), false, false)
                .is_empty()
        );
        // A schema change retries at once; so does the timer.
        assert_eq!(
            t.write_due(1, Duration::ZERO, s(2), false, true),
            vec![key.clone()]
        );
        t.write_failed(std::slice::from_ref(&key), "still broken", s(2));
        assert!(
            t.write_due(1, Duration::ZERO, s(3), false, false)
                .is_empty()
        );
        assert_eq!(
            t.write_due(1, Duration::ZERO, s(2) + RETRY_EVERY, false, false),
            vec![key.clone()]
        );
        assert!(t.mark_written("member", &key.fields));
        assert!(t.unwritten().is_empty());
    }

    #[test]
    fn still_firing_says_why() {
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        let mut t = Tracker::new(TrackerOptions::default(), t0);
        let sig = signal("member", &["organizationId"]);
        let m = model(&["organizationId", "userId"]);
        let served = FindingStatus::Served {
            index: "organizationId_userId".into(),
        };
        t.observe(&sig, s(1));
        t.apply_advice(&advice(&["organizationId"], served), Some(&m), s(1));
        assert_eq!(t.views(s(1))[0].status, Status::Served);
        assert!(t.observe(&sig, s(20)).is_some());
        let v = &t.views(s(20))[0];
        assert_eq!(v.status, Status::StillFiring);
        assert!(
            v.reason.as_deref().is_some_and(|r| r.contains("createdAt")),
            "{v:?}"
        );
    }

    #[test]
    fn what_no_index_can_serve_is_blocked_with_the_engines_reason() {
        let t0 = Instant::now();
        let mut t = Tracker::new(TrackerOptions::default(), t0);
        t.observe(&signal("member", &["phoneNumber"]), t0);
        let unknown = FindingStatus::UnknownField {
            fields: vec![crate::document::UnknownField {
                field: "phoneNumber".into(),
                near: Vec::new(),
                hint: None,
            }],
        };
        t.apply_advice(&advice(&["phoneNumber"], unknown.clone()), None, t0);
        let v = &t.views(t0)[0];
        assert_eq!(v.status, Status::Blocked);
        assert_eq!(v.reason.as_deref(), Some(unknown.describe().as_str()));
        assert!(
            t.write_due(1, Duration::ZERO, t0, true, false).is_empty(),
            "never written"
        );
    }
}

//! Each suggestion's life in a live run: new → written (by us) → served (an index in the
//! schema serves it) → resolved (quiet for a while after that) or still firing, with why.
//! Memory is bounded: a fixed number of suggestions, a fixed rate window, a few callers each.

use super::schema_indexes::{IndexDef, SchemaIndexes};
use crate::advise::plan::index_name;
use crate::aggregate::ignore_reason;
use crate::config::Dismissals;
use crate::signal::Signal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// Distinct (table, fields) pairs tracked; more would mean the input is not Better Auth's.
pub const MAX_SUGGESTIONS: usize = 1000;
const MAX_CALLERS: usize = 5;
const RATE_WINDOW_SECS: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Written,
    Served,
    Resolved,
    StillFiring,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Written => "written",
            Status::Served => "served",
            Status::Resolved => "resolved",
            Status::StillFiring => "still firing",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct TrackerOptions {
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
pub struct SuggestionView {
    pub table: String,
    pub fields: Vec<String>,
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
    served_by: Option<IndexDef>,
    served_at: Option<Instant>,
    write_attempted: bool,
    eligible_since: Option<Instant>,
    dirty: bool,
}

type Key = (String, Vec<String>);

#[derive(Debug)]
pub struct Tracker {
    options: TrackerOptions,
    epoch: Instant,
    entries: HashMap<Key, Entry>,
    order: Vec<Key>,
    schema: SchemaIndexes,
    /// When each (table, index fields) first appeared in the schema during this run.
    index_seen: HashMap<(String, Vec<String>, bool), Instant>,
    dropped: u64,
    /// The configuration's `[[ignore]]` entries: never tracked as suggestions.
    dismissals: Dismissals,
}

impl Tracker {
    pub fn new(options: TrackerOptions, now: Instant) -> Self {
        Self {
            options,
            epoch: now,
            entries: HashMap::new(),
            order: Vec::new(),
            schema: SchemaIndexes::default(),
            index_seen: HashMap::new(),
            dropped: 0,
            dismissals: Dismissals::default(),
        }
    }

    /// Suggestions these dismiss are not tracked (`ignored` says why).
    pub fn with_dismissals(mut self, dismissals: Dismissals) -> Self {
        self.dismissals = dismissals;
        self
    }

    /// Why the configuration dismisses this (table, fields), if it does. `min_count` is left to
    /// the saved report: a live count is still growing.
    pub fn ignored(&self, table: &str, fields: &[String]) -> Option<String> {
        self.dismissals.ignored(table, fields)
    }

    /// Signals not tracked because the suggestion limit was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    /// Whether a signal of this (table, fields) fits in the bounded state: a known suggestion,
    /// or room for a new one. Callers keep other per-key state (the report's aggregator) in step.
    pub fn accepts(&self, table: &str, fields: &[String]) -> bool {
        self.entries.len() < MAX_SUGGESTIONS
            || self
                .entries
                .contains_key(&(table.to_owned(), fields.to_vec()))
    }

    /// Counts a signal. Returns the suggestion's key when its status changed (or it is new).
    pub fn observe(&mut self, signal: &Signal, now: Instant) -> Option<(String, Vec<String>)> {
        if ignore_reason(&signal.fields).is_some()
            || self.ignored(&signal.table, &signal.fields).is_some()
        {
            return None;
        }
        let key = (signal.table.clone(), signal.fields.clone());
        let second = self.second(now);
        let (grace, schema) = (self.options.grace, &self.schema);
        let mut created = false;
        if !self.entries.contains_key(&key) {
            if self.entries.len() >= MAX_SUGGESTIONS {
                self.dropped += 1;
                return None;
            }
            let served_by = schema.serving(&key.0, &key.1).cloned();
            let served_at = served_by
                .as_ref()
                .map(|d| self.index_first_seen(&key.0, d, now));
            self.entries.insert(
                key.clone(),
                Entry {
                    table: key.0.clone(),
                    fields: key.1.clone(),
                    count: 0,
                    rate: RateWindow::new(),
                    last_seen: now,
                    callers: BTreeMap::new(),
                    status: if served_by.is_some() {
                        Status::Served
                    } else {
                        Status::New
                    },
                    reason: None,
                    served_by,
                    served_at,
                    write_attempted: false,
                    eligible_since: None,
                    dirty: true,
                },
            );
            self.order.push(key.clone());
            created = true;
        }
        let entry = self.entries.get_mut(&key)?;
        entry.count += 1;
        entry.rate.add(second);
        entry.last_seen = now;
        entry.dirty = true;
        if let Some(function) = &signal.origin.function {
            if let Some(n) = entry.callers.get_mut(function) {
                *n += 1;
            } else if entry.callers.len() < MAX_CALLERS {
                entry.callers.insert(function.clone(), 1);
            }
        }
        let before = entry.status;
        if matches!(entry.status, Status::Served | Status::Resolved)
            && let (Some(at), Some(def)) = (entry.served_at, &entry.served_by)
            && now.saturating_duration_since(at) > grace
        {
            entry.reason = Some(still_firing_reason(def, &entry.fields));
            entry.status = Status::StillFiring;
        }
        (created || entry.status != before).then_some(key)
    }

    fn index_first_seen(&mut self, table: &str, def: &IndexDef, now: Instant) -> Instant {
        *self
            .index_seen
            .entry((table.to_owned(), def.fields.clone(), def.staged))
            .or_insert(now)
    }

    /// The schema on disk changed: re-evaluate which suggestions an index serves.
    pub fn set_schema(&mut self, schema: SchemaIndexes, now: Instant) -> Vec<Key> {
        let mut seen = HashMap::new();
        for (table, defs) in &schema.by_table {
            for def in defs {
                let key = (table.clone(), def.fields.clone(), def.staged);
                let at = self.index_seen.get(&key).copied().unwrap_or(now);
                seen.insert(key, at);
            }
        }
        // Only indexes in the current schema: a removed and re-added index starts over.
        self.index_seen = seen;
        self.schema = schema;
        let mut changed = Vec::new();
        for key in &self.order {
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            let serving = self.schema.serving(&key.0, &key.1).cloned();
            let before = (entry.status, entry.served_by.clone());
            match serving {
                Some(def) => {
                    if entry.served_by.as_ref() != Some(&def) {
                        entry.served_at = Some(
                            *self
                                .index_seen
                                .get(&(key.0.clone(), def.fields.clone(), def.staged))
                                .unwrap_or(&now),
                        );
                        entry.served_by = Some(def);
                        entry.status = Status::Served;
                        entry.reason = None;
                    }
                }
                None => {
                    entry.served_by = None;
                    entry.served_at = None;
                    entry.reason = None;
                    if entry.status != Status::Written {
                        entry.status = Status::New;
                    }
                }
            }
            if (entry.status, entry.served_by.clone()) != before {
                changed.push(key.clone());
            }
        }
        changed
    }

    /// We wrote the index for this suggestion (the schema re-read will then see it served).
    pub fn mark_written(&mut self, table: &str, fields: &[String]) -> bool {
        let key = (table.to_owned(), fields.to_vec());
        match self.entries.get_mut(&key) {
            Some(entry) if entry.status == Status::New => {
                entry.status = Status::Written;
                true
            }
            _ => false,
        }
    }

    /// Time-driven transitions: served (or still firing) and quiet long enough → resolved.
    pub fn tick(&mut self, now: Instant) -> Vec<Key> {
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

    /// Suggestions ready to be written: new, seen `min_hits` times, never attempted, and no
    /// other suggestion became ready in the last `debounce` (so a burst is written at once).
    pub fn write_candidates(
        &mut self,
        min_hits: u64,
        debounce: Duration,
        now: Instant,
    ) -> Vec<Key> {
        let mut ready = Vec::new();
        let mut latest = None;
        for key in &self.order {
            let Some(entry) = self.entries.get_mut(key) else {
                continue;
            };
            if entry.status != Status::New || entry.write_attempted || entry.count < min_hits {
                continue;
            }
            let since = *entry.eligible_since.get_or_insert(now);
            latest = latest.max(Some(since));
            ready.push(key.clone());
        }
        match latest {
            Some(t) if now.saturating_duration_since(t) >= debounce => {
                for key in &ready {
                    if let Some(entry) = self.entries.get_mut(key) {
                        entry.write_attempted = true;
                    }
                }
                ready
            }
            _ => Vec::new(),
        }
    }

    /// The suggestion's current state; it counts as shown, so `take_dirty` skips it.
    pub fn view(&mut self, key: &Key, now: Instant) -> Option<SuggestionView> {
        let second = self.second(now);
        let entry = self.entries.get_mut(key)?;
        entry.dirty = false;
        Some(render(entry, second))
    }

    /// Every suggestion, in first-seen order.
    pub fn views(&mut self, now: Instant) -> Vec<SuggestionView> {
        let second = self.second(now);
        let entries = &mut self.entries;
        self.order
            .iter()
            .filter_map(|k| entries.get_mut(k).map(|e| render(e, second)))
            .collect()
    }

    /// Suggestions whose count changed since the last call.
    pub fn take_dirty(&mut self, now: Instant) -> Vec<SuggestionView> {
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

fn render(entry: &mut Entry, second: u64) -> SuggestionView {
    let mut callers: Vec<(&String, &u64)> = entry.callers.iter().collect();
    callers.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    SuggestionView {
        table: entry.table.clone(),
        fields: entry.fields.clone(),
        index: index_name(&entry.fields),
        count: entry.count,
        status: entry.status,
        reason: entry.reason.clone(),
        recent_per_min: entry.rate.sum(second),
        callers: callers.into_iter().map(|(f, _)| f.clone()).collect(),
        served_by: entry.served_by.as_ref().map(|d| d.name.clone()),
    }
}

/// Why warnings continue although an index in the schema serves the list (better-auth.md:
/// staged indexes are not in the list `findIndex` sees; `createdAt` bounds need an exact list).
fn still_firing_reason(def: &IndexDef, fields: &[String]) -> String {
    if def.staged {
        format!(
            "index `{}` is staged: it serves no query until `staged: true` is removed",
            def.name
        )
    } else if def.fields.len() != fields.len() {
        format!(
            "index `{}` [{}] begins with these fields but is longer: a query that sorts or bounds \
             by createdAt needs an index of exactly [{}]",
            def.name,
            def.fields.join(", "),
            fields.join(", ")
        )
    } else {
        format!(
            "index `{}` is in the schema but not deployed yet: is `npx convex dev` running, and \
             did its last push succeed?",
            def.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signal::{Location, Origin, SignalKind};

    fn signal(table: &str, fields: &[&str]) -> Signal {
        Signal {
            table: table.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
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

    fn schema(src: &str) -> SchemaIndexes {
        SchemaIndexes::parse(src)
    }

    const SERVED: &str =
        r#"member: tables.member.index("organizationId_userId", ["organizationId", "userId"]),"#;

    #[test]
    fn new_written_served_resolved() {
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        let mut t = Tracker::new(TrackerOptions::default(), t0);
        let sig = signal("member", &["organizationId", "userId"]);
        assert!(t.observe(&sig, s(0)).is_some());
        assert_eq!(t.views(s(0))[0].status, Status::New);
        assert!(t.observe(&sig, s(1)).is_none());
        assert_eq!(
            t.write_candidates(2, Duration::from_millis(500), s(1)),
            vec![]
        );
        let ready = t.write_candidates(2, Duration::from_millis(500), s(2));
        assert_eq!(ready.len(), 1);
        assert!(
            t.write_candidates(2, Duration::ZERO, s(3)).is_empty(),
            "never twice"
        );
        assert!(t.mark_written("member", &sig.fields));
        assert_eq!(t.views(s(3))[0].status, Status::Written);
        assert_eq!(t.set_schema(schema(SERVED), s(4)).len(), 1);
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
    fn still_firing_says_why() {
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        let mut t = Tracker::new(TrackerOptions::default(), t0);
        let sig = signal("member", &["organizationId"]);
        t.set_schema(schema(SERVED), s(0));
        t.observe(&sig, s(1));
        assert_eq!(t.views(s(1))[0].status, Status::Served);
        assert!(t.observe(&sig, s(20)).is_some());
        let v = &t.views(s(20))[0];
        assert_eq!(v.status, Status::StillFiring);
        assert!(
            v.reason.as_deref().is_some_and(|r| r.contains("createdAt")),
            "{v:?}"
        );
        let staged = r#"member: tables.member.index("organizationId", { fields: ["organizationId"], staged: true }),"#;
        assert_eq!(t.set_schema(schema(staged), s(21)).len(), 1);
        assert!(t.observe(&sig, s(40)).is_some());
        let v = &t.views(s(40))[0];
        assert!(
            v.reason.as_deref().is_some_and(|r| r.contains("staged")),
            "{v:?}"
        );
    }
}

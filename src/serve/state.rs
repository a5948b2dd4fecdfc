//! What the daemon knows, owned by one thread (the engine is not `Send`, and SQLite wants one
//! writer): a `Collected` per deployment and one over all of them, fed through the engine's
//! JSON path exactly as `report` reads a log-stream export, and the database that rebuilds them
//! on start by replaying the kept events through the same path.

use super::batch::{self, Batch};
use super::store::{ALL, Database, Row, StoreError, Totals};
use crate::document::{Coverage, RejectReason, Report};
use crate::engine::{Collected, Engine};
use crate::frame::ScanEvent;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};

/// The source name of the stream over all deployments, in locations (`log-stream:<line>`).
pub(super) const STREAM_SOURCE: &str = "log-stream";
/// Hours of activity kept for the sparkline.
pub(super) const ACTIVITY_HOURS: i64 = 24;
const HOUR_MS: i64 = 3_600_000;
/// How long a committed body's hash is kept to recognise a redelivery.
const BATCH_MEMORY_MS: i64 = 24 * HOUR_MS;

/// One stream's state: all deployments, or one.
#[derive(Default)]
struct Live {
    collected: Collected,
    totals: Totals,
    /// Signals per (table, fields) per hour since the epoch, for the sparkline.
    activity: HashMap<crate::document::ListKey, BTreeMap<i64, u64>>,
    /// When this stream last sent a batch (after a restart: its last kept event's time).
    heard_ms: Option<i64>,
    /// The executions of the last `ACTIVITY_HOURS` that logged a signal, by request id: the
    /// lists they logged and what they read, for the page's documents read in the last 24 h.
    recent: HashMap<String, Recent>,
}

/// One execution of the last hours: its latest hour, the lists it logged and the documents it
/// read (the largest figure its usage events gave).
#[derive(Default)]
struct Recent {
    hour: Option<i64>,
    lists: Vec<crate::document::ListKey>,
    documents: u64,
}

impl Live {
    fn record(&mut self, event: ScanEvent, timestamp_ms: Option<i64>) {
        let hour = timestamp_ms.map(|ts| ts.div_euclid(HOUR_MS));
        match (&event, hour) {
            (ScanEvent::Signal(signal), Some(hour)) => {
                let key = crate::document::ListKey::new(&signal.table, &signal.fields);
                if let Some(request) = &signal.origin.request_id {
                    let recent = self.recent.entry(request.to_string()).or_default();
                    recent.hour = recent.hour.max(Some(hour));
                    if !recent.lists.contains(&key) {
                        recent.lists.push(key.clone());
                    }
                }
                *self
                    .activity
                    .entry(key)
                    .or_default()
                    .entry(hour)
                    .or_default() += 1;
            }
            (ScanEvent::Usage(usage), Some(hour)) => {
                let recent = self.recent.entry(usage.request_id.clone()).or_default();
                recent.hour = recent.hour.max(Some(hour));
                recent.documents = recent.documents.max(usage.documents_read.unwrap_or(0));
            }
            _ => {}
        }
        self.collected.record(event);
    }

    /// Documents read in the last `ACTIVITY_HOURS` by the executions that logged one of `lists`.
    fn documents_read_since(&self, oldest_hour: i64, lists: &[crate::document::ListKey]) -> u64 {
        self.recent
            .values()
            .filter(|r| r.hour.is_some_and(|h| h >= oldest_hour))
            .filter(|r| r.lists.iter().any(|l| lists.contains(l)))
            .map(|r| r.documents)
            .sum()
    }

    fn add_input(&mut self, inputs: u64, counts: crate::frame::ScanCounts) {
        self.totals.add(inputs, counts);
        self.collected
            .restore_inputs(self.totals.inputs, self.totals.counts);
    }

    fn next_line(&self) -> u64 {
        self.totals.counts.records + 1
    }

    fn prune_activity(&mut self, now_ms: i64) {
        let oldest = now_ms.div_euclid(HOUR_MS) - ACTIVITY_HOURS + 1;
        self.activity.retain(|_, hours| {
            hours.retain(|hour, _| *hour >= oldest);
            !hours.is_empty()
        });
        self.recent
            .retain(|_, recent| recent.hour.is_some_and(|hour| hour >= oldest));
    }
}

/// What became of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Committed {
        events: u64,
        kept: u64,
    },
    /// The same body was committed before: nothing is counted again.
    Duplicate,
}

/// Per deployment, what the web page shows beside the report document.
#[derive(Debug, Serialize)]
pub(super) struct DeploymentView {
    pub name: String,
    /// The plan as the overlay snippet (`render::snippet`), ready to paste.
    pub snippet: String,
    /// The hour the last bucket ends at, in Unix milliseconds.
    pub hours_end_ms: i64,
    pub activity: Vec<Activity>,
    /// When the deployment last sent a batch, in Unix milliseconds (after a restart: the time
    /// of its last kept event).
    pub heard_ms: Option<i64>,
    /// Documents read in the last 24 h by the executions that logged a list no index serves.
    pub documents_read_24h: u64,
}

#[derive(Debug, Serialize)]
pub(super) struct Activity {
    pub table: String,
    pub fields: Vec<String>,
    /// Signals per hour, oldest first, the last entry being the current hour.
    pub hours: Vec<u64>,
}

pub(super) struct State {
    engine: Engine,
    store: Database,
    all: Live,
    deployments: BTreeMap<String, Live>,
    /// Request ids some signal named: their executions' usage is kept for good.
    matched: HashSet<String>,
    /// Usage of executions no signal has named yet, by request id, per stream (`None`: all
    /// deployments): recorded once a signal names the request, dropped after `pending_ms`.
    /// The engine's usage join only reads the executions of findings, and a request's usage
    /// counts the same whenever it is recorded, so holding it back changes no document while
    /// the live state stays bounded by matches, as the database does.
    waiting: HashMap<String, Waiting>,
    /// How long usage waits for a signal (`--pending-ttl`).
    pending_ms: i64,
}

struct Waiting {
    since_ms: i64,
    /// Each product with its stream and its event's time.
    usage: Vec<(Option<String>, ScanEvent, Option<i64>)>,
}

/// The request id of an event whose only product is usage (a `function_execution`).
fn usage_only(products: &[&ScanEvent]) -> Option<String> {
    let mut request = None;
    for product in products {
        match product {
            ScanEvent::Usage(usage) => request = Some(usage.request_id.clone()),
            _ => return None,
        }
    }
    request
}

fn signal_request(event: &ScanEvent) -> Option<&str> {
    match event {
        ScanEvent::Signal(signal) => signal.origin.request_id.as_deref(),
        _ => None,
    }
}

impl State {
    /// Opens the database and rebuilds every deployment's state from it.
    pub(super) fn open(
        engine: Engine,
        store: Database,
        pending_ms: i64,
    ) -> Result<Self, StoreError> {
        // Usage that expired while the server was down is not replayed.
        store.forget_unmatched(super::now_ms().saturating_sub(pending_ms))?;
        let mut state = Self {
            engine,
            store,
            all: Live::default(),
            deployments: BTreeMap::new(),
            matched: HashSet::new(),
            waiting: HashMap::new(),
            pending_ms,
        };
        state.replay()?;
        Ok(state)
    }

    /// Rebuilds the live state from the database alone.
    fn replay(&mut self) -> Result<(), StoreError> {
        // Refused bodies are never in the database: they survive a rebuild in memory only.
        let refused = std::mem::take(&mut self.all.collected.coverage);
        self.all = Live::default();
        self.all.collected.cover(refused);
        self.deployments.clear();
        self.matched.clear();
        self.waiting.clear();
        let mut rows = Vec::new();
        self.store.rows(|row| rows.push(row))?;
        let now = super::now_ms();
        for row in rows {
            let Ok(event) = serde_json::from_str::<Value>(&row.event) else {
                tracing::warn!("a stored event is not JSON; skipped");
                continue;
            };
            let events = std::slice::from_ref(&event);
            let mut products = Vec::new();
            self.engine
                .scan_events(STREAM_SOURCE, row.stream_line, events, |_, e| {
                    products.push((None, e));
                });
            self.engine
                .scan_events(&row.deployment, row.deployment_line, events, |_, e| {
                    products.push((Some(row.deployment.clone()), e));
                });
            let named: Vec<String> = products
                .iter()
                .filter_map(|(_, e)| signal_request(e).map(str::to_owned))
                .collect();
            for request in named {
                self.name(request);
            }
            for (stream, e) in products {
                self.route(stream, e, row.timestamp_ms, now);
            }
            for live in [
                &mut self.all,
                self.deployments.entry(row.deployment.clone()).or_default(),
            ] {
                live.heard_ms = live.heard_ms.max(row.timestamp_ms);
            }
        }
        self.all.prune_activity(now);
        for live in self.deployments.values_mut() {
            live.prune_activity(now);
        }
        for (name, totals) in self.store.totals()? {
            let live = self.live((name != ALL).then_some(name));
            live.add_input(totals.inputs, totals.counts);
        }
        Ok(())
    }

    pub(super) fn stored_events(&self) -> Result<u64, StoreError> {
        self.store.stored_events()
    }

    /// Batches that arrived together, in one transaction: each is scanned, written and added to
    /// the live state in turn, and none is answered before the commit. If anything fails, the
    /// transaction is rolled back, the live state rebuilt from the database, and every batch of
    /// the group answered with the error (the sink sends them again).
    pub(super) fn ingest_group(
        &mut self,
        batches: &[Batch],
        now_ms: i64,
    ) -> Vec<Result<Outcome, String>> {
        let written = self.store.begin().and_then(|()| {
            batches
                .iter()
                .map(|batch| self.ingest(batch, now_ms))
                .collect::<Result<Vec<_>, _>>()
        });
        match written.and_then(|outcomes| self.store.finish().map(|()| outcomes)) {
            Ok(outcomes) => outcomes.into_iter().map(Ok).collect(),
            Err(err) => {
                self.store.abandon();
                if let Err(replay) = self.replay() {
                    tracing::error!("cannot rebuild the state from the database: {replay}");
                }
                batches.iter().map(|_| Err(err.to_string())).collect()
            }
        }
    }

    /// Scans one batch and writes what the engine kept inside the open transaction, then adds
    /// it to the live state.
    fn ingest(&mut self, batch: &Batch, now_ms: i64) -> Result<Outcome, StoreError> {
        if self.store.knows(&batch.hash)? {
            return Ok(Outcome::Duplicate);
        }
        let events = &batch.events;
        let stream_first = self.all.next_line();
        let mut all_events = Vec::new();
        let all_counts = self
            .engine
            .scan_events(STREAM_SOURCE, stream_first, events, |i, e| {
                all_events.push((i, e))
            });
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, event) in events.iter().enumerate() {
            groups.entry(batch::deployment(event)).or_default().push(i);
        }
        let mut kept = vec![false; events.len()];
        let mut deployment_lines = vec![0u64; events.len()];
        let mut scanned = Vec::new();
        for (&name, indexes) in &groups {
            let first = self.deployments.get(name).map_or(1, Live::next_line);
            let mut found = Vec::new();
            let counts = if indexes.len() == events.len() {
                self.engine
                    .scan_events(name, first, events, |i, e| found.push((i, e)))
            } else {
                let own: Vec<Value> = indexes.iter().map(|&i| events[i].clone()).collect();
                self.engine
                    .scan_events(name, first, &own, |j, e| found.push((indexes[j], e)))
            };
            for (position, &i) in indexes.iter().enumerate() {
                deployment_lines[i] = first + position as u64;
            }
            for (i, _) in &found {
                kept[*i] = true;
            }
            scanned.push((name, counts, found));
        }
        let mut products: Vec<Vec<&ScanEvent>> = vec![Vec::new(); events.len()];
        for (i, e) in &all_events {
            kept[*i] = true;
            products[*i].push(e);
        }
        let newly_matched: Vec<&str> = all_events
            .iter()
            .filter_map(|(_, e)| signal_request(e))
            .filter(|r| !self.matched.contains(*r))
            .collect();
        let rows: Vec<Row> = (0..events.len())
            .filter(|&i| kept[i])
            .map(|i| Row {
                deployment: batch::deployment(&events[i]).to_owned(),
                stream_line: stream_first + i as u64,
                deployment_line: deployment_lines[i],
                timestamp_ms: batch::timestamp_ms(&events[i]),
                event: events[i].to_string(),
                pending_request: usage_only(&products[i])
                    .filter(|r| !self.matched.contains(r) && !newly_matched.contains(&r.as_str())),
            })
            .collect();
        let mut totals = BTreeMap::new();
        let mut all_totals = Totals::default();
        all_totals.add(1, all_counts);
        totals.insert(ALL.to_owned(), all_totals);
        for (name, counts, _) in &scanned {
            let mut t = Totals::default();
            t.add(1, *counts);
            totals.insert((*name).to_owned(), t);
        }
        self.store
            .write(&batch.hash, now_ms, &rows, &newly_matched, &totals)?;
        let newly_matched: Vec<String> = newly_matched.into_iter().map(str::to_owned).collect();
        for request in newly_matched {
            self.name(request);
        }
        for (i, e) in all_events {
            self.route(None, e, batch::timestamp_ms(&events[i]), now_ms);
        }
        self.all.add_input(1, all_counts);
        self.all.prune_activity(now_ms);
        self.all.heard_ms = Some(now_ms);
        for (name, counts, found) in scanned {
            let name = name.to_owned();
            for (i, e) in found {
                self.route(
                    Some(name.clone()),
                    e,
                    batch::timestamp_ms(&events[i]),
                    now_ms,
                );
            }
            let live = self.deployments.entry(name).or_default();
            live.add_input(1, counts);
            live.prune_activity(now_ms);
            live.heard_ms = Some(now_ms);
        }
        Ok(Outcome::Committed {
            events: events.len() as u64,
            kept: rows.len() as u64,
        })
    }

    /// A signal named this request: its execution's usage counts from now on.
    fn name(&mut self, request: String) {
        if let Some(waiting) = self.waiting.remove(&request) {
            for (stream, usage, timestamp_ms) in waiting.usage {
                self.live(stream).record(usage, timestamp_ms);
            }
        }
        self.matched.insert(request);
    }

    /// One product of the scan into its stream, or, for the usage of an execution no signal
    /// has named yet, into `waiting`.
    fn route(
        &mut self,
        stream: Option<String>,
        event: ScanEvent,
        timestamp_ms: Option<i64>,
        now_ms: i64,
    ) {
        if let ScanEvent::Usage(usage) = &event
            && !self.matched.contains(&usage.request_id)
        {
            self.waiting
                .entry(usage.request_id.clone())
                .or_insert_with(|| Waiting {
                    since_ms: now_ms,
                    usage: Vec::new(),
                })
                .usage
                .push((stream, event, timestamp_ms));
            return;
        }
        self.live(stream).record(event, timestamp_ms);
    }

    fn live(&mut self, stream: Option<String>) -> &mut Live {
        match stream {
            None => &mut self.all,
            Some(name) => self.deployments.entry(name).or_default(),
        }
    }

    /// Forgets old batch hashes and the usage of executions no signal named in time.
    pub(super) fn forget(&mut self, now_ms: i64) -> Result<(), StoreError> {
        let oldest = now_ms.saturating_sub(self.pending_ms);
        self.waiting.retain(|_, waiting| waiting.since_ms >= oldest);
        self.store.forget_batches(now_ms - BATCH_MEMORY_MS)?;
        self.store.forget_unmatched(oldest)?;
        Ok(())
    }

    /// A signed body refused before it reached the state, counted in the coverage of the
    /// report over all deployments (a refused body's deployment is not trusted).
    pub(super) fn refused(&mut self, reason: RejectReason, events: u64) {
        let mut coverage = Coverage::default();
        coverage.reject(reason, 1, events);
        self.all.collected.cover(coverage);
    }

    /// Executions whose usage waits for a signal.
    pub(super) fn pending(&self) -> u64 {
        self.waiting.len() as u64
    }

    /// The `report --format json` document over everything received, or over one deployment;
    /// `None` for a deployment never seen.
    pub(super) fn report(&self, deployment: Option<&str>) -> Option<Report> {
        let live = match deployment {
            None => &self.all,
            Some(name) => self.deployments.get(name)?,
        };
        Some(self.engine.conclude(&live.collected))
    }

    pub(super) fn deployment_names(&self) -> Vec<String> {
        self.deployments.keys().cloned().collect()
    }

    pub(super) fn view(&self, name: &str, now_ms: i64) -> Option<DeploymentView> {
        self.view_and_report(name, now_ms).map(|(view, _)| view)
    }

    /// The page's view of a deployment, and the report it was computed from.
    fn view_and_report(&self, name: &str, now_ms: i64) -> Option<(DeploymentView, Report)> {
        let live = self.deployments.get(name)?;
        let report = self.engine.conclude(&live.collected);
        let current = now_ms.div_euclid(HOUR_MS);
        let oldest = current - ACTIVITY_HOURS + 1;
        let activity = report
            .suggestions
            .iter()
            .map(|f| {
                let hours = live
                    .activity
                    .get(&crate::document::ListKey::new(&f.table, &f.fields));
                Activity {
                    table: f.table.clone(),
                    fields: f.fields.clone(),
                    hours: (oldest..=current)
                        .map(|h| hours.and_then(|m| m.get(&h)).copied().unwrap_or(0))
                        .collect(),
                }
            })
            .collect();
        let missing: Vec<crate::document::ListKey> = report
            .suggestions
            .iter()
            .filter(|f| super::page::is_missing(f))
            .map(|f| crate::document::ListKey::new(&f.table, &f.fields))
            .collect();
        let view = DeploymentView {
            name: name.to_owned(),
            snippet: crate::render::snippet::overlay_lines(&report.plan).join("\n"),
            hours_end_ms: (current + 1) * HOUR_MS,
            activity,
            heard_ms: live.heard_ms,
            documents_read_24h: live.documents_read_since(oldest, &missing),
        };
        Some((view, report))
    }

    /// The web page, rendered here from the same documents `/api/report` answers.
    pub(super) fn page(&self, now_ms: i64) -> String {
        let deployments: Vec<(DeploymentView, Report)> = self
            .deployments
            .keys()
            .filter_map(|name| self.view_and_report(name, now_ms))
            .collect();
        let all = self.engine.conclude(&self.all.collected);
        let tag = super::page::etag(&crate::render::json::render(&all));
        super::page::render(&super::page::Page {
            deployments: &deployments,
            coverage: &all.coverage,
            etag: &tag,
            now_ms,
        })
    }
}

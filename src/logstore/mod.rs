//! The only module that speaks HTTP to a log store (Axiom, Datadog): queries filtered on the
//! store's side to the warning and error texts, then the matched executions' records by request
//! id, re-assembled as the JSON each sink writes so the frame reads them like an export.

pub mod axiom;
pub(crate) mod datadog;
mod http;
mod window;

use crate::document::{Coverage, WindowCoverage, WindowState};
pub use crate::secret::Secret;
use crate::time::Timestamp;
pub use crate::transport::RetryPolicy;
pub use http::retry_policy;
use reqwest::StatusCode;
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
pub use window::Window;

/// A configured store.
pub enum LogStore {
    Axiom(axiom::Axiom),
    Datadog(datadog::Datadog),
}

impl LogStore {
    /// The matches in `window` (at most `options.max_events`), then their executions, slice
    /// by slice.
    pub async fn pull(
        &self,
        needles: &[String],
        window: &Window,
        options: &PullOptions,
    ) -> Result<Pulled, LogStoreError> {
        match self {
            LogStore::Axiom(store) => two_passes(store, needles, window, options).await,
            LogStore::Datadog(store) => two_passes(store, needles, window, options).await,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            LogStore::Axiom(_) => "Axiom",
            LogStore::Datadog(_) => "Datadog",
        }
    }
}

/// How a pull runs: the event cap, the longest time range one query covers, and the progress
/// bar it advances (hidden unless stderr is a terminal).
#[derive(Debug, Clone)]
pub struct PullOptions {
    pub max_events: Option<u64>,
    pub slice: Duration,
    pub progress: indicatif::ProgressBar,
}

impl Default for PullOptions {
    fn default() -> Self {
        Self {
            max_events: None,
            slice: DEFAULT_SLICE,
            progress: indicatif::ProgressBar::hidden(),
        }
    }
}

/// One query's time range at most: a day of a busy deployment's matches stays well inside what
/// either store answers in one query before it times out.
pub const DEFAULT_SLICE: Duration = Duration::from_secs(86_400);
/// A slice the store answered only in part is queried again in halves, at most this many times
/// over (down to 1/16 of it), and never below `MIN_SLICE`.
const MAX_HALVINGS: u32 = 4;
const MIN_SLICE: Duration = Duration::from_secs(60);
/// How long after its last console line an execution's `function_execution` record may be
/// logged: an action's 10-minute run-time limit, and the stores' indexing delay.
const EXECUTION_GRACE: Duration = Duration::from_secs(15 * 60);

/// How one query's paging ended.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct PageEnd {
    /// The event cap stopped it.
    pub capped: bool,
    /// The store said its answer was partial.
    pub partial: bool,
    /// Paging could not go on: some of the answer was left unread.
    pub cut: bool,
    /// How many rows were left unread, when the store said.
    pub missing: Option<u64>,
}

/// One part of a query's window as the halving left it: a slice, or the final sub-window of a
/// slice split in halves.
#[derive(Debug, Clone)]
struct Part {
    window: Window,
    state: WindowState,
    missing: Option<u64>,
}

/// What a store brings to the pull both stores make: its two queries, its paging, and where
/// its events keep their request id and time.
pub(crate) trait TwoPasses {
    const NAME: &'static str;
    /// JSON pointer to a pulled event's request id.
    const REQUEST_ID: &'static str;
    /// How the store says an answer is partial.
    const PARTIAL: &'static str;
    /// The first pass: the events whose text carries a needle.
    fn matches(&self, needles: &[String]) -> String;
    /// The second pass: the execution records of these request ids.
    fn executions(&self, ids: &[String]) -> String;
    /// One query, every page, at most `max_events` new events.
    async fn page(
        &self,
        query: &str,
        window: &Window,
        max_events: Option<u64>,
        seen: &mut HashSet<String>,
        pulled: &mut Pulled,
    ) -> Result<PageEnd, LogStoreError>;
    fn time_of(event: &serde_json::Value) -> i64;
}

/// The matches in `window` (filtered on the store's side), one slice of at most
/// `options.slice` at a time, each followed by the execution records of its new request ids in
/// batches; in time order. Events met twice (a slice edge, an error that is also its own
/// execution record) are kept once.
async fn two_passes<S: TwoPasses>(
    store: &S,
    needles: &[String],
    window: &Window,
    options: &PullOptions,
) -> Result<Pulled, LogStoreError> {
    let mut pulled = Pulled::default();
    let mut seen = HashSet::new();
    let mut queried_ids = HashSet::new();
    let matches_query = store.matches(needles);
    let (window_start, window_end) = window.millis();
    let progress = &options.progress;
    progress.set_length((window_end - window_start).max(1) as u64);
    progress.set_prefix(S::NAME);
    show_counts(progress, &pulled);
    let slices = window.slices(options.slice);
    for (at, slice) in slices.iter().enumerate() {
        let before = pulled.events.len();
        let cap = options
            .max_events
            .map(|cap| cap.saturating_sub(pulled.matches));
        let (parts, capped) =
            halving(store, &matches_query, slice, cap, &mut seen, &mut pulled).await?;
        pulled.matches += (pulled.events.len() - before) as u64;
        record_windows::<S>(&mut pulled, before, parts);
        let ids: Vec<String> = pulled.events[before..]
            .iter()
            .filter_map(|event| event.pointer(S::REQUEST_ID)?.as_str())
            .filter(|id| queried_ids.insert(id.to_string()))
            .map(str::to_owned)
            .collect();
        let executions_window = slice.extended(EXECUTION_GRACE);
        for batch in ids.chunks(ID_BATCH) {
            let query = store.executions(batch);
            let (parts, _) = halving(
                store,
                &query,
                &executions_window,
                None,
                &mut seen,
                &mut pulled,
            )
            .await?;
            note_executions::<S>(&mut pulled, &parts);
        }
        progress.set_position((slice.millis().1 - window_start) as u64);
        show_counts(progress, &pulled);
        if capped {
            // The slices after the cap were not asked for at all.
            pulled
                .windows
                .extend(slices[at + 1..].iter().map(|later| PulledWindow {
                    window: later.clone(),
                    state: WindowState::CutByMaxEvents,
                    events: 0,
                    missing: None,
                }));
            break;
        }
    }
    progress.finish_and_clear();
    pulled.events.sort_by_key(S::time_of);
    Ok(pulled)
}

fn show_counts(progress: &indicatif::ProgressBar, pulled: &Pulled) {
    progress.set_message(format!(
        "{} match(es) · {} request(s) · {}",
        pulled.matches,
        pulled.requests,
        indicatif::HumanBytes(pulled.bytes)
    ));
}

/// The first pass's parts of one slice, each with the matches read in it: an event counts in
/// the last part that starts at or before its time (parts are in time order and edge to edge,
/// so every event counts once, even one a part's answer carried from outside it).
fn record_windows<S: TwoPasses>(pulled: &mut Pulled, before: usize, parts: Vec<Part>) {
    let starts: Vec<i64> = parts.iter().map(|p| p.window.millis().0).collect();
    let mut events = vec![0u64; parts.len()];
    for event in &pulled.events[before..] {
        let at = starts.partition_point(|&start| start <= S::time_of(event));
        if let Some(count) = events.get_mut(at.saturating_sub(1)) {
            *count += 1;
        }
    }
    pulled.windows.extend(
        parts
            .into_iter()
            .zip(events)
            .map(|(part, events)| PulledWindow {
                window: part.window,
                state: part.state,
                events,
                missing: part.missing,
            }),
    );
}

/// The second pass reads executions, not matches: the coverage does not count it, so a part
/// it could not read in full is said once per pull, as a note.
fn note_executions<S: TwoPasses>(pulled: &mut Pulled, parts: &[Part]) {
    let Some(part) = parts.iter().find(|p| p.state != WindowState::Complete) else {
        return;
    };
    let mark = "the execution records of some matches";
    if pulled.notes.iter().any(|n| n.contains(mark)) {
        return;
    }
    let why = match part.state {
        WindowState::PartialAfterSplit => format!("answered in part ({})", S::PARTIAL),
        _ => "cut by paging".to_owned(),
    };
    pulled.notes.push(format!(
        "{}: {mark} were {why} in {} to {}: their costs may be incomplete.",
        S::NAME,
        part.window.start,
        part.window.end
    ));
}

/// One query over `window`; a part the store answers only partially is queried again in
/// halves, earlier half first. Returns the parts in time order, each as it was read (a part
/// the cap left unqueried is cut by it too), and whether `cap` stopped it.
async fn halving<S: TwoPasses>(
    store: &S,
    query: &str,
    window: &Window,
    cap: Option<u64>,
    seen: &mut HashSet<String>,
    pulled: &mut Pulled,
) -> Result<(Vec<Part>, bool), LogStoreError> {
    let mut pending = vec![(window.clone(), 0u32)];
    let mut parts = Vec::new();
    let mut taken = 0u64;
    while let Some((part, halvings)) = pending.pop() {
        let before = pulled.events.len();
        let end = store
            .page(query, &part, cap.map(|c| c - taken), seen, pulled)
            .await?;
        taken += (pulled.events.len() - before) as u64;
        if end.capped {
            parts.push(Part {
                window: part,
                state: WindowState::CutByMaxEvents,
                missing: None,
            });
            // The stack's top is the earliest part left.
            parts.extend(pending.into_iter().rev().map(|(later, _)| Part {
                window: later,
                state: WindowState::CutByMaxEvents,
                missing: None,
            }));
            return Ok((parts, true));
        }
        let state = if end.partial {
            match part.halves(MIN_SLICE).filter(|_| halvings < MAX_HALVINGS) {
                Some((earlier, later)) => {
                    pending.push((later, halvings + 1));
                    pending.push((earlier, halvings + 1));
                    continue;
                }
                None => WindowState::PartialAfterSplit,
            }
        } else if end.cut {
            WindowState::CutByPaging
        } else {
            WindowState::Complete
        };
        parts.push(Part {
            window: part,
            state,
            missing: end.missing,
        });
    }
    Ok((parts, false))
}

/// `watch --from`: pulls `first`, then every `every` the time since the last pull, and sends
/// each new event as a JSON line. Windows overlap by up to a minute, for events the store
/// indexed late; an event already sent in the previous pull is not sent again.
pub async fn poll(
    store: LogStore,
    needles: Vec<String>,
    first: Window,
    every: Duration,
    options: PullOptions,
    tx: tokio::sync::mpsc::Sender<crate::ingest::live::Event>,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<(), LogStoreError> {
    use crate::ingest::live::{Event, Line, Notice, Stream};
    let overlap = every.min(Duration::from_secs(60));
    let mut window = first;
    let mut previous: std::collections::HashSet<String> = Default::default();
    let mut number = 0u64;
    loop {
        let pulled_at = SystemTime::now();
        let notice = match store.pull(&needles, &window, &options).await {
            Ok(pulled) => {
                let gaps = pulled.coverage(store.name()).gaps();
                let mut sent = 0usize;
                let mut keys = std::collections::HashSet::new();
                for event in pulled.events {
                    let line = event.to_string();
                    if previous.contains(&line) || !keys.insert(line.clone()) {
                        continue;
                    }
                    number += 1;
                    sent += 1;
                    let event = Event::Line {
                        stream: Stream::LogStore,
                        line: Line {
                            number,
                            bytes: line.into_bytes(),
                        },
                    };
                    if tx.send(event).await.is_err() {
                        return Ok(());
                    }
                }
                previous = keys;
                for note in pulled.notes.into_iter().chain(gaps) {
                    let _ = tx
                        .send(Event::Notice(Notice::LogStore { message: note }))
                        .await;
                }
                window.start =
                    Timestamp::from_millis(window.end.millis() - overlap.as_millis() as i64);
                format!(
                    "{}: {sent} new event(s) in {} request(s), {} byte(s)",
                    store.name(),
                    pulled.requests,
                    pulled.bytes
                )
            }
            // Credentials do not heal by waiting.
            Err(err @ LogStoreError::Unauthorized { .. }) => return Err(err),
            // The next pull covers this window again.
            Err(err) => format!("{err}; trying again in {}s", every.as_secs()),
        };
        let _ = tx
            .send(Event::Notice(Notice::LogStore { message: notice }))
            .await;
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
        let now = SystemTime::now().max(pulled_at);
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        window.end = Timestamp::from_millis(now_ms);
    }
}

/// Request ids per second-pass query: short enough for a query string limit, few enough requests.
pub const ID_BATCH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum LogStoreError {
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("{store}: network error after {attempts} attempt(s): {source}")]
    Network {
        store: &'static str,
        attempts: u32,
        source: reqwest::Error,
    },
    #[error("{store}: rate limited: {detail}")]
    RateLimited { store: &'static str, detail: String },
    #[error("{store}: answered {status} after {attempts} attempt(s)")]
    Server {
        store: &'static str,
        status: StatusCode,
        attempts: u32,
    },
    #[error("{store}: rejected the credentials ({status}): {message}")]
    Unauthorized {
        store: &'static str,
        status: StatusCode,
        message: String,
    },
    #[error("{store}: answered {status}: {message}")]
    Unexpected {
        store: &'static str,
        status: StatusCode,
        message: String,
    },
    #[error("{store}: unexpected answer: {detail}")]
    Decode { store: &'static str, detail: String },
}

/// What a pull brought back: the re-assembled events, in time order, how much of the window
/// the first pass read, and what to tell the user.
#[derive(Debug, Default)]
pub struct Pulled {
    pub events: Vec<serde_json::Value>,
    /// How many of `events` the first pass matched (the rest are their executions).
    pub matches: u64,
    /// The first pass's (sub)windows, in time order, edge to edge over the pulled window.
    pub windows: Vec<PulledWindow>,
    /// What the coverage does not say (the second pass's partial answers).
    pub notes: Vec<String>,
    pub requests: u64,
    /// Response bytes received.
    pub bytes: u64,
}

/// One (sub)window of the first pass and how it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PulledWindow {
    pub window: Window,
    pub state: WindowState,
    /// Matches read in it.
    pub events: u64,
    /// Matches the store said were there and were not read.
    pub missing: Option<u64>,
}

impl Pulled {
    /// The windows as the report's coverage, under the name the events are reported as.
    pub fn coverage(&self, source: &str) -> Coverage {
        Coverage {
            windows: self
                .windows
                .iter()
                .map(|w| WindowCoverage {
                    source: source.to_owned(),
                    start: w.window.start.to_string(),
                    end: w.window.end.to_string(),
                    state: w.state,
                    events: w.events,
                    missing: w.missing,
                })
                .collect(),
            ..Coverage::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_match_counts_once_in_the_part_it_falls_in() {
        let part = |start: &str, end: &str, state| Part {
            window: Window::between(start, end).unwrap(),
            state,
            missing: None,
        };
        let parts = vec![
            part(
                "2026-01-15T00:00:00Z",
                "2026-01-15T12:00:00Z",
                WindowState::Complete,
            ),
            part(
                "2026-01-15T12:00:00Z",
                "2026-01-16T00:00:00Z",
                WindowState::PartialAfterSplit,
            ),
        ];
        let mut pulled = Pulled {
            events: vec![
                serde_json::json!({"_time": "2026-01-14T00:00:00Z"}),
                serde_json::json!({"_time": "2026-01-15T11:59:59.999Z"}),
                serde_json::json!({"_time": "2026-01-15T12:00:00.000Z"}),
                serde_json::json!({}),
            ],
            ..Pulled::default()
        };
        record_windows::<axiom::Axiom>(&mut pulled, 1, parts);
        let counts: Vec<(u64, WindowState)> =
            pulled.windows.iter().map(|w| (w.events, w.state)).collect();
        // The event without a time counts in the first part, not nowhere.
        assert_eq!(
            counts,
            [
                (2, WindowState::Complete),
                (1, WindowState::PartialAfterSplit)
            ]
        );
        let coverage = pulled.coverage("axiom:convex");
        assert_eq!(coverage.gaps().len(), 1);
        assert!(coverage.gaps()[0].starts_with("axiom:convex 2026-01-15T12:00:00Z to"));
    }
}

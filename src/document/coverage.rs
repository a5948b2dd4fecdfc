//! Coverage: what a report was asked to read and how much of it was read. The engine's readers
//! fill it (`ingest` per input, `logstore` per time window, `serve` per refused body); every
//! gate judges it through `Coverage::gaps`, and every renderer shows `Coverage::line`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Coverage {
    /// Whether everything asked for was read: `gaps()` is empty. Written for readers of the
    /// JSON; the gate recomputes it.
    pub complete: bool,
    /// `line()` and `gaps()` as the document was written, for readers without this crate (the
    /// `serve` page); recomputed, never trusted, when a document is read back.
    pub summary: String,
    pub gaps: Vec<String>,
    /// The inputs named (files, the files found in a directory, stdin): those that could not be
    /// opened first, then the others in the order read.
    pub inputs: Vec<InputCoverage>,
    /// A log store's time windows, in order.
    pub windows: Vec<WindowCoverage>,
    /// Bodies a receiver (`serve`) refused, by reason.
    pub rejected: Vec<Rejected>,
}

/// One input and how it was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InputCoverage {
    /// As the user named it (`<stdin>` for standard input).
    pub name: String,
    pub state: InputState,
    pub bytes: u64,
    pub lines: u64,
    /// Lines or parts that could not be read (invalid JSON, an overlong line, damaged gzip).
    #[serde(skip_serializing_if = "is_zero")]
    pub unread: u64,
    /// Why, in words, when it was not read in full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputState {
    /// Read to the end, and it held Convex log output.
    #[default]
    Read,
    /// Read, but some of it could not be (see `unread`, `detail`).
    Partial,
    /// Nothing to read: an empty file, or a pipe that closed without a byte.
    Empty,
    /// Read to the end, and no line of it looked like Convex log output.
    NotConvex,
    /// No such file or directory (or a directory with no log files).
    Missing,
    /// The operating system refused to open it.
    Permission,
    /// Binary data, not a log: skipped.
    Binary,
    /// Any other read failure.
    Unreadable,
}

/// One time window a log store was asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct WindowCoverage {
    /// The store, as reported (`axiom:convex`, `datadog:us1`).
    pub source: String,
    /// RFC 3339.
    pub start: String,
    pub end: String,
    pub state: WindowState,
    /// Matching events read in this window.
    pub events: u64,
    /// Matches known to exist there and not read, when the store says how many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WindowState {
    #[default]
    Complete,
    /// The store answered a partial result, still partial after splitting as far as allowed.
    PartialAfterSplit,
    /// `--max-events` was reached in (or before) this window: later matches were not read.
    CutByMaxEvents,
    /// Paging could not go on: some matches were left unread.
    CutByPaging,
}

/// Bodies a receiver refused for one reason, with the events they held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rejected {
    pub reason: RejectReason,
    pub bodies: u64,
    pub events: u64,
}

#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RejectReason {
    /// Not a JSON array (or lines) of log-stream events.
    #[default]
    NotABatch,
    /// More events than a Convex log-stream batch holds.
    TooManyEvents,
    /// An event without a known log-stream `topic`.
    UnknownTopic,
    /// An event without a numeric `timestamp`.
    NoTimestamp,
    /// An event dated later than now plus the allowed skew.
    FromTheFuture,
    /// A batch whose first event is older than the receiver accepts (a replayed capture).
    TooOld,
}

impl RejectReason {
    /// Every reason, in order: `/metrics` lists each, zero or not.
    pub const ALL: [RejectReason; 6] = [
        RejectReason::NotABatch,
        RejectReason::TooManyEvents,
        RejectReason::UnknownTopic,
        RejectReason::NoTimestamp,
        RejectReason::FromTheFuture,
        RejectReason::TooOld,
    ];

    pub fn describe(self) -> &'static str {
        match self {
            RejectReason::NotABatch => "not a Convex log-stream batch",
            RejectReason::TooManyEvents => "more events than a Convex batch holds",
            RejectReason::UnknownTopic => "an event without a known topic",
            RejectReason::NoTimestamp => "an event without a numeric timestamp",
            RejectReason::FromTheFuture => "an event dated in the future",
            RejectReason::TooOld => "a batch older than the receiver accepts",
        }
    }

    /// The label `/metrics` counts it under.
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::NotABatch => "not_a_batch",
            RejectReason::TooManyEvents => "too_many_events",
            RejectReason::UnknownTopic => "unknown_topic",
            RejectReason::NoTimestamp => "no_timestamp",
            RejectReason::FromTheFuture => "from_the_future",
            RejectReason::TooOld => "too_old",
        }
    }
}

impl InputState {
    fn describe(self) -> &'static str {
        match self {
            InputState::Read => "read",
            InputState::Partial => "read in part",
            InputState::Empty => "empty",
            InputState::NotConvex => "not Convex log output",
            InputState::Missing => "missing",
            InputState::Permission => "permission denied",
            InputState::Binary => "binary data, not a log",
            InputState::Unreadable => "unreadable",
        }
    }
}

impl WindowState {
    fn describe(self) -> &'static str {
        match self {
            WindowState::Complete => "complete",
            WindowState::PartialAfterSplit => "partial even after splitting",
            WindowState::CutByMaxEvents => "cut by --max-events",
            WindowState::CutByPaging => "cut by paging",
        }
    }
}

impl Coverage {
    /// Every part of what was asked for that was not read in full, one line each, with its size.
    pub fn gaps(&self) -> Vec<String> {
        let mut gaps = Vec::new();
        for input in self.inputs.iter().filter(|i| i.state != InputState::Read) {
            let mut gap = format!("{}: {}", input.name, input.state.describe());
            match input.state {
                InputState::Partial if input.unread > 0 => gap.push_str(&format!(
                    " ({} of {} line(s) not read{})",
                    input.unread,
                    input.lines.max(input.unread),
                    input
                        .detail
                        .as_deref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                )),
                InputState::NotConvex => gap.push_str(&format!(
                    " ({} line(s), {} read, none from `npx convex logs`, `--jsonl` or a log \
                     stream)",
                    input.lines,
                    bytes(input.bytes)
                )),
                InputState::Binary => gap.push_str(&format!(" ({} skipped)", bytes(input.bytes))),
                _ => {
                    if let Some(detail) = &input.detail {
                        gap.push_str(&format!(" ({detail})"));
                    }
                }
            }
            gaps.push(gap);
        }
        for window in self
            .windows
            .iter()
            .filter(|w| w.state != WindowState::Complete)
        {
            let missing = match window.missing {
                Some(n) => format!(", {n} known match(es) not read"),
                None => String::new(),
            };
            gaps.push(format!(
                "{} {} to {}: {} ({} event(s) read{missing})",
                window.source,
                window.start,
                window.end,
                window.state.describe(),
                window.events
            ));
        }
        for rejected in &self.rejected {
            gaps.push(format!(
                "{} body(ies) refused, {} event(s) not stored: {}",
                rejected.bodies,
                rejected.events,
                rejected.reason.describe()
            ));
        }
        gaps
    }

    /// Whether `gaps()` is empty, without writing the gaps.
    pub fn is_complete(&self) -> bool {
        self.inputs.iter().all(|i| i.state == InputState::Read)
            && self
                .windows
                .iter()
                .all(|w| w.state == WindowState::Complete)
            && self.rejected.is_empty()
    }

    /// The one line every renderer shows: what was read, and how much was not.
    pub fn line(&self) -> String {
        let read_inputs = self
            .inputs
            .iter()
            .filter(|i| i.state == InputState::Read)
            .count();
        let mut parts = Vec::new();
        if !self.inputs.is_empty() {
            let lines: u64 = self.inputs.iter().map(|i| i.lines).sum();
            parts.push(format!(
                "{read_inputs} of {} input(s) read in full ({lines} line(s))",
                self.inputs.len()
            ));
        }
        if !self.windows.is_empty() {
            let complete = self
                .windows
                .iter()
                .filter(|w| w.state == WindowState::Complete)
                .count();
            let events: u64 = self.windows.iter().map(|w| w.events).sum();
            parts.push(format!(
                "{complete} of {} window(s) complete ({events} event(s))",
                self.windows.len()
            ));
        }
        let refused: u64 = self.rejected.iter().map(|r| r.events).sum();
        if !self.rejected.is_empty() {
            let bodies: u64 = self.rejected.iter().map(|r| r.bodies).sum();
            parts.push(format!(
                "{bodies} body(ies) refused ({refused} event(s) not stored)"
            ));
        }
        let verdict = if self.is_complete() {
            "complete"
        } else {
            "INCOMPLETE"
        };
        if parts.is_empty() {
            format!("Coverage: {verdict}")
        } else {
            format!("Coverage: {verdict}: {}", parts.join("; "))
        }
    }

    /// Appends what a later reader covered (the next input, another store's windows).
    pub fn append(&mut self, later: Coverage) {
        self.inputs.extend(later.inputs);
        self.windows.extend(later.windows);
        for rejected in later.rejected {
            self.reject(rejected.reason, rejected.bodies, rejected.events);
        }
    }

    /// Counts refused bodies under their reason.
    pub fn reject(&mut self, reason: RejectReason, bodies: u64, events: u64) {
        match self.rejected.iter_mut().find(|r| r.reason == reason) {
            Some(kept) => {
                kept.bodies += bodies;
                kept.events += events;
            }
            None => {
                self.rejected.push(Rejected {
                    reason,
                    bodies,
                    events,
                });
                self.rejected.sort_by_key(|r| r.reason);
            }
        }
    }

    /// `complete`, `summary` and `gaps` set from the rest, as the document is written.
    pub fn settled(mut self) -> Self {
        self.gaps = self.gaps();
        self.complete = self.gaps.is_empty();
        self.summary = self.line();
        self
    }
}

fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} byte(s)")
    } else if n < 1024 * 1024 {
        format!("{:.1} KiB", n as f64 / 1024.0)
    } else {
        format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0))
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

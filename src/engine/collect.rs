//! What reading logs gathers before any advice: the aggregate, the input counters, suspects and
//! input problems. Batch reads and live runs fill the same value, so they conclude alike.

use crate::aggregate::{Aggregator, UsageIndex};
use crate::document::{Coverage, InputCoverage, Stats, Suspect};
use crate::frame::{ScanCounts, ScanEvent};

/// Suspect lines kept as samples in the report.
const SUSPECT_SAMPLES: usize = 5;
/// Input problems kept for the report; the rest are counted by the scanner and dropped.
const MAX_ERRORS: usize = 1000;

#[derive(Debug, Default)]
pub struct Collected {
    pub(crate) aggregator: Aggregator,
    pub(crate) usage: UsageIndex,
    pub(crate) stats: Stats,
    pub(crate) legacy_underscore: u64,
    pub(crate) cached_replays: u64,
    /// Extra notes a front-end adds (a live run's tracking limit).
    pub(crate) notes: Vec<String>,
    /// What was asked for and how much of it was read, as the readers found it.
    pub(crate) coverage: Coverage,
}

impl Collected {
    /// One event from the scanner. Returns the input problem's text, if it was one.
    pub fn record(&mut self, event: ScanEvent) -> Option<String> {
        match event {
            ScanEvent::Signal(signal) => {
                self.legacy_underscore += u64::from(signal.legacy_underscore);
                self.aggregator.add(signal);
                None
            }
            ScanEvent::Usage(usage) => {
                self.usage.add(
                    &usage.request_id,
                    usage.documents_read,
                    usage.bytes_read,
                    usage.limit_warning,
                );
                None
            }
            ScanEvent::Suspect(suspect) => {
                if self.stats.suspect_samples.len() < SUSPECT_SAMPLES {
                    self.stats.suspect_samples.push(suspect);
                }
                None
            }
            ScanEvent::Problem { line, message } => {
                let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
                let text = format!("{at}{message}");
                self.problem(text.clone());
                Some(text)
            }
        }
    }

    /// An input problem, as `file[:line]: message`.
    pub fn problem(&mut self, text: String) {
        if self.stats.errors.len() < MAX_ERRORS {
            self.stats.errors.push(text);
        }
    }

    /// One input read to the end.
    pub fn add_input(&mut self, counts: ScanCounts) {
        self.stats.inputs += 1;
        self.stats.bytes += counts.bytes;
        self.stats.lines += counts.lines;
        self.stats.records += counts.records;
        self.stats.suspects += counts.suspects;
        self.cached_replays += counts.cached_replays;
    }

    /// Sets the input counters to totals kept elsewhere (`serve` restores them from its
    /// database after replaying only the records that mattered).
    pub fn restore_inputs(&mut self, inputs: u64, counts: ScanCounts) {
        self.stats.inputs = inputs;
        self.stats.bytes = counts.bytes;
        self.stats.lines = counts.lines;
        self.stats.records = counts.records;
        self.stats.suspects = counts.suspects;
        self.cached_replays = counts.cached_replays;
    }

    /// Appends what was collected from a later part of the same input (read in parallel),
    /// whose lines were numbered from `line_offset` + 1: the result is what reading both
    /// parts in one pass would have collected.
    pub fn append_part(&mut self, later: Collected, line_offset: u64) {
        self.aggregator.append(later.aggregator, line_offset);
        self.usage.append(later.usage);
        self.coverage.append(later.coverage);
        self.legacy_underscore += later.legacy_underscore;
        self.cached_replays += later.cached_replays;
        for mut suspect in later.stats.suspect_samples {
            if self.stats.suspect_samples.len() >= SUSPECT_SAMPLES {
                break;
            }
            suspect.location = shift_location(&suspect.location, line_offset);
            self.stats.suspect_samples.push(suspect);
        }
        for error in later.stats.errors {
            self.problem(error);
        }
    }

    /// What a reader covered, after what was covered before.
    pub fn cover(&mut self, coverage: Coverage) {
        self.coverage.append(coverage);
    }

    /// One input, as its reader found it.
    pub fn cover_input(&mut self, input: InputCoverage) {
        self.coverage.inputs.push(input);
    }

    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    pub fn note(&mut self, note: String) {
        self.notes.push(note);
    }

    pub fn signals(&self) -> u64 {
        self.aggregator.signals()
    }

    pub fn suspect_samples(&self) -> &[Suspect] {
        &self.stats.suspect_samples
    }
}

/// `source:line` with its line moved by `offset` (the scanner writes a suspect's location so).
fn shift_location(location: &str, offset: u64) -> String {
    match location.rsplit_once(':') {
        Some((source, line)) => match line.parse::<u64>() {
            Ok(line) => format!("{source}:{}", line + offset),
            Err(_) => location.to_owned(),
        },
        None => location.to_owned(),
    }
}

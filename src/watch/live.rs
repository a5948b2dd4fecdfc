//! The live run: source events through the scanner into the same `Collected` a batch read
//! fills, the tracker and the view kept in step with the engine's answers, the schema re-read
//! when it changes, and the debounced `--write`.

use crate::advise::{AdviceSettings, Dismissed};
use crate::document::{ListKey, PlannedIndex, Report};
use crate::engine::{Collected, Engine, SchemaVersion};
use crate::frame::{HEADER_MARK, ScanEvent, Scanner};
use crate::ingest::child::{Captured, ChildError};
use crate::ingest::live::{Event, Stream};
use crate::insights;
use crate::render;
use crate::schema;
use crate::watch::tracker::{MAX_SUGGESTIONS, RETRY_EVERY, Tracker, TrackerOptions};
use crate::watch::view::View;
use memchr::memmem;
use std::collections::HashSet;
use std::io::{self, Write};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The loop's clock: schema re-checks, resolved timers, writes and redraws.
const TICK: Duration = Duration::from_millis(100);
/// Count-only updates are printed at most this often (line and JSON modes).
const COUNT_EVERY: Duration = Duration::from_secs(1);
/// A burst of new suggestions is written together once none arrived for this long.
const WRITE_DEBOUNCE: Duration = Duration::from_millis(500);

/// What feeds a live run.
pub(crate) struct Feeds {
    /// The source's lines and notices.
    pub(crate) events: mpsc::Receiver<Event>,
    /// `--insights-every`: each run of `npx convex insights`.
    pub(crate) insights: mpsc::Receiver<Result<Captured, ChildError>>,
    /// The source's task, stopped through `cancel` when the run ends.
    pub(crate) source: JoinHandle<anyhow::Result<()>>,
    /// Cancelled by a signal, or by the run once its input ended.
    pub(crate) cancel: CancellationToken,
}

/// How a live run ended.
pub(crate) struct Ended {
    /// The run's document: what `report --format json` prints for the same lines.
    pub(crate) report: Report,
    /// How the source stopped.
    pub(crate) source: anyhow::Result<()>,
    /// `--write`: the suggestions whose planned index was never written, with the last failure.
    pub(crate) unwritten: Vec<(ListKey, String)>,
}

pub(crate) struct LiveState<'m> {
    engine: Engine,
    scanner: Scanner<'m>,
    /// What the engine concludes from: the same value a batch `report` fills.
    collected: Collected,
    tracker: Tracker,
    /// Dismissed suggestions already shown as ignored.
    announced: HashSet<ListKey>,
    /// The schema on disk when a re-read of it failed: not read again until it changes.
    declined: Option<SchemaVersion>,
    /// The schema was read again since the last write: a failed write is tried again at once.
    schema_reread: bool,
    /// The last write failure shown as a notice, so a retry failing alike is not repeated.
    write_error: Option<String>,
    /// `--write --min-hits N`.
    write_min_hits: Option<u64>,
    /// `--insights-every`: what was said about the insights so far.
    insights: InsightsState,
}

#[derive(Debug, Default)]
pub(crate) struct InsightsState {
    /// The command, as shown in notices.
    command: String,
    /// (table, fields, kind, function) of every insight join already announced.
    announced: HashSet<(String, Vec<String>, String, String)>,
    /// How many insights the last good run returned.
    count: Option<usize>,
    /// The last failure shown: the same failure every interval is said once.
    failure: Option<String>,
}

impl<'m> LiveState<'m> {
    /// `write_min_hits`: `--write --min-hits N`; `insights_command`: the insights command as
    /// shown in notices.
    pub(crate) fn new(
        engine: Engine,
        scanner: Scanner<'m>,
        options: TrackerOptions,
        write_min_hits: Option<u64>,
        insights_command: String,
    ) -> Self {
        let dismissals = engine.settings().advice.dismissals.clone();
        Self {
            tracker: Tracker::new(options, Instant::now()).with_dismissals(dismissals),
            engine,
            scanner,
            collected: Collected::default(),
            announced: HashSet::new(),
            declined: None,
            schema_reread: false,
            write_error: None,
            write_min_hits,
            insights: InsightsState {
                command: insights_command,
                ..InsightsState::default()
            },
        }
    }

    /// Runs until the input ends or `feeds.cancel` is cancelled, then reads what is left, makes
    /// the pending writes and prints the summary. `source` names the input in the document;
    /// `pipe` says it is stdin.
    pub(crate) async fn run<W: Write>(
        mut self,
        mut feeds: Feeds,
        view: &mut View<W>,
        source: &str,
        pipe: bool,
    ) -> io::Result<Ended> {
        let start = Instant::now();
        if self.engine.component().is_some() {
            self.readvise(view, start)?;
        }
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_counts = start;
        let mut input_ended = false;
        let outcome: io::Result<()> = async {
            loop {
                tokio::select! {
                    _ = feeds.cancel.cancelled() => return Ok(()),
                    event = feeds.events.recv() => match event {
                        Some(event) => self.handle(event, view)?,
                        None => {
                            input_ended = true;
                            return Ok(());
                        }
                    },
                    Some(run) = feeds.insights.recv() => self.insights_ran(run, view)?,
                    _ = tick.tick() => {}
                }
                let now = Instant::now();
                self.housekeeping(view, now, false)?;
                if now.duration_since(last_counts) >= COUNT_EVERY {
                    last_counts = now;
                    let moved = self.tracker.take_dirty(now);
                    view.counts_changed(&moved)?;
                }
                let all = self.tracker.views(now);
                view.refresh(&all, now, false)?;
            }
        }
        .await;

        feeds.cancel.cancel();
        let source_result = match tokio::time::timeout(Duration::from_secs(10), feeds.source).await
        {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(anyhow::anyhow!("the log source crashed: {join}")),
            Err(_) => Err(anyhow::anyhow!("the log source did not stop within 10 s")),
        };
        // Lines already read still count.
        while let Ok(event) = feeds.events.try_recv() {
            if self.handle(event, view).is_err() {
                break;
            }
        }
        let mut tail = Vec::new();
        self.scanner.finish(&mut |e| tail.push(e));
        let now = Instant::now();
        let outcome = outcome
            .and_then(|()| self.scanned(tail, view))
            // The input ended: every pending write is made (or its failure shown) before exit.
            .and_then(|()| self.housekeeping(view, now, input_ended))
            .and_then(|()| self.readvise(view, now));
        let all = self.tracker.views(now);
        match outcome.and_then(|()| view.finish(&all)) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            other => other?,
        }
        Ok(Ended {
            report: self.report(source, pipe, input_ended),
            source: source_result,
            unwritten: self.tracker.unwritten(),
        })
    }

    fn handle<W: Write>(&mut self, event: Event, view: &mut View<W>) -> io::Result<()> {
        match event {
            Event::Line { stream, line } => {
                if stream == Stream::ChildStderr && memmem::find(&line.bytes, HEADER_MARK).is_none()
                {
                    // The CLI's own messages (banner, retries, errors), not function logs.
                    let text = line.text_lossy();
                    if !text.trim().is_empty() {
                        view.notice(&format!("convex: {}", text.trim_end()))?;
                    }
                }
                let mut bytes = line.bytes;
                bytes.push(b'\n');
                let mut found = Vec::new();
                self.scanner.feed(&bytes, &mut |e| found.push(e));
                self.scanned(found, view)
            }
            Event::Overlong {
                number, dropped, ..
            } => view.notice(&format!(
                "line {number} skipped: {dropped} bytes, longer than the line limit"
            )),
            Event::Notice(notice) => view.notice(&notice.to_string()),
        }
    }

    fn scanned<W: Write>(&mut self, found: Vec<ScanEvent>, view: &mut View<W>) -> io::Result<()> {
        let now = Instant::now();
        let mut changed = Vec::new();
        for event in found {
            let ScanEvent::Signal(signal) = event else {
                if let Some(problem) = self.collected.record(event) {
                    view.notice(&problem)?;
                }
                continue;
            };
            if !self.tracker.accepts(&signal.table, &signal.fields) {
                continue;
            }
            match self.tracker.dismissed(&signal.table, &signal.fields) {
                Some(Dismissed::Configured(reason)) => {
                    if self
                        .announced
                        .insert(ListKey::new(&signal.table, &signal.fields))
                    {
                        view.ignored(&signal.table, &signal.fields, &reason)?;
                    }
                }
                // A list no index can be: the report lists it, the live view does not.
                Some(Dismissed::Unindexable(_)) => {}
                None => changed.extend(self.tracker.observe(&signal, now)),
            }
            self.collected.record(ScanEvent::Signal(signal));
        }
        if !changed.is_empty() {
            // A new suggestion: what it means against the schema is the engine's answer.
            let report = self.engine.conclude(&self.collected);
            let model = self.engine.component().map(|c| &c.model);
            changed.extend(self.tracker.apply_advice(&report, model, now));
            self.announce_insights(&report, view)?;
        }
        self.show(changed, view, now)
    }

    fn show<W: Write>(
        &mut self,
        mut keys: Vec<ListKey>,
        view: &mut View<W>,
        now: Instant,
    ) -> io::Result<()> {
        let mut seen = HashSet::new();
        keys.retain(|k| seen.insert(k.clone()));
        for key in keys {
            if let Some(s) = self.tracker.view(&key, now) {
                view.status_changed(&s)?;
            }
        }
        Ok(())
    }

    /// Re-reads the schema when the engine says its files changed on disk (or none was found
    /// yet), and takes the engine's answer again.
    fn reload_schema<W: Write>(&mut self, view: &mut View<W>, now: Instant) -> io::Result<()> {
        let Some(on_disk) = self.engine.schema_changed() else {
            return Ok(());
        };
        if self.declined.as_ref() == Some(&on_disk) {
            return Ok(());
        }
        let had = self.engine.component().is_some();
        if let Err(err) = self.engine.reload_schema() {
            // Half-saved or broken: keep what was last read, and say why once. Without a schema
            // yet, every look is a new one.
            self.declined = had.then_some(on_disk);
            return view.notice(&format!("schema not re-read: {err}"));
        }
        self.declined = None;
        self.schema_reread = true;
        if had || self.engine.component().is_some() {
            self.readvise(view, now)?;
        }
        Ok(())
    }

    fn readvise<W: Write>(&mut self, view: &mut View<W>, now: Instant) -> io::Result<()> {
        let report = self.engine.conclude(&self.collected);
        let model = self.engine.component().map(|c| &c.model);
        let changed = self.tracker.apply_advice(&report, model, now);
        self.announce_insights(&report, view)?;
        self.show(changed, view, now)
    }

    /// A run of `npx convex insights` ended: its insights replace the last ones in the engine.
    /// A failure (not logged in, a local deployment) is a notice; the last insights stay.
    fn insights_ran<W: Write>(
        &mut self,
        run: Result<Captured, ChildError>,
        view: &mut View<W>,
    ) -> io::Result<()> {
        let failure = match run {
            Ok(Captured::Printed(stdout)) => {
                let text = String::from_utf8_lossy(&stdout);
                let source = format!("the stdout of `{}`", self.insights.command);
                match insights::parse(&text, &source) {
                    Ok(found) => {
                        self.insights.failure = None;
                        let count = found.insights.len();
                        if self.insights.count != Some(count) {
                            self.insights.count = Some(count);
                            view.notice(&format!(
                                "insights: {count} insight(s){} over the last 72 hours",
                                found
                                    .deployment_name
                                    .as_deref()
                                    .map(|d| format!(" for {d}"))
                                    .unwrap_or_default()
                            ))?;
                        }
                        self.engine.set_insights(Some(found));
                        let report = self.engine.conclude(&self.collected);
                        return self.announce_insights(&report, view);
                    }
                    Err(err) => err.to_string(),
                }
            }
            Ok(other) => format!("`{}` {other}", self.insights.command),
            Err(err) => err.to_string(),
        };
        if self.insights.failure.as_ref() == Some(&failure) {
            return Ok(());
        }
        // `convex insights` refuses a deploy key and a local deployment (src/cli/insights.ts).
        view.notice(&format!(
            "insights: {failure}\n(insights need a cloud deployment and a user logged in with \
             `npx convex login`; watch goes on{})",
            if self.engine.insights().is_some() {
                "; the last insights are kept"
            } else {
                " without insights"
            }
        ))?;
        self.insights.failure = Some(failure);
        Ok(())
    }

    /// A notice for each insight newly joined to a suggestion.
    fn announce_insights<W: Write>(
        &mut self,
        report: &Report,
        view: &mut View<W>,
    ) -> io::Result<()> {
        for finding in &report.suggestions {
            for insight in &finding.insights {
                let key = (
                    finding.table.clone(),
                    finding.fields.clone(),
                    insight.kind.clone(),
                    insight.function.clone(),
                );
                if self.insights.announced.insert(key) {
                    view.notice(&format!(
                        "insight: {} {} is behind {}",
                        finding.table,
                        render::describe_fields(&finding.fields),
                        render::describe_insight(insight, &finding.table, false)
                    ))?;
                }
            }
        }
        Ok(())
    }

    /// Timers: schema re-read, resolved suggestions, debounced writes (all pending ones when
    /// `input_ended`).
    fn housekeeping<W: Write>(
        &mut self,
        view: &mut View<W>,
        now: Instant,
        input_ended: bool,
    ) -> io::Result<()> {
        self.reload_schema(view, now)?;
        let resolved = self.tracker.tick(now);
        self.show(resolved, view, now)?;
        if let Some(min_hits) = self.write_min_hits {
            let retry = std::mem::take(&mut self.schema_reread);
            let due = self
                .tracker
                .write_due(min_hits, WRITE_DEBOUNCE, now, input_ended, retry);
            if !due.is_empty() {
                self.write(view, min_hits, &due, now)?;
            }
        }
        Ok(())
    }

    /// `--write`: what `apply` writes for the same lines, less the suggestions seen fewer than
    /// `min_hits` times, through the same engine call. A failure keeps `due` pending with the
    /// reason on their rows; the tracker tries again when the schema changes and on a timer.
    fn write<W: Write>(
        &mut self,
        view: &mut View<W>,
        min_hits: u64,
        due: &[ListKey],
        now: Instant,
    ) -> io::Result<()> {
        let mut advice: AdviceSettings = self.engine.settings().advice.clone();
        advice.dismissals.min_count = advice.dismissals.min_count.max(min_hits);
        let collected = &self.collected;
        let applied = self
            .engine
            .apply(false, |engine| engine.conclude_with(collected, &advice));
        let applied = match applied {
            Ok(applied) => applied,
            Err(err) => {
                let reason = err.to_string();
                if self.write_error.as_ref() != Some(&reason) {
                    view.notice(&format!(
                        "cannot write the planned indexes (tried again when the schema changes, \
                         and every {} s): {reason}",
                        RETRY_EVERY.as_secs()
                    ))?;
                    self.write_error = Some(reason.clone());
                }
                let planned = self.engine.conclude_with(&self.collected, &advice).plan;
                let (failed, held) = split_by_plan(due, &planned);
                let first_line = reason.lines().next().unwrap_or_default().to_owned();
                let changed = self.tracker.write_failed(&failed, &first_line, now);
                self.tracker.write_held(&held);
                self.show(changed, view, now)?;
                // The schema may have been read again before the failure.
                return self.readvise(view, now);
            }
        };
        self.write_error = None;
        let (_, held) = split_by_plan(due, &applied.report.plan);
        self.tracker.write_held(&held);
        let Some(change) = applied.change else {
            // The schema was read again under the lock: another writer may have changed it.
            return self.readvise(view, now);
        };
        let label = self
            .engine
            .component()
            .map(|c| schema::display_path(&c.schema.path))
            .unwrap_or_default();
        view.diff(&change.unified_diff(&label))?;
        let mut written = Vec::new();
        for index in &applied.report.plan {
            for served in &index.serves {
                if self.tracker.mark_written(&served.table, &served.fields) {
                    written.push(served.clone());
                }
            }
        }
        self.show(written, view, now)?;
        // The engine holds the schema as written: what it serves now is the engine's answer.
        self.readvise(view, now)
    }

    /// The same document `report --format json` prints for the same lines, for `--save`.
    /// The run's document, once: the source counts as one input, read in full only when it
    /// `ended` (a stopped run read part of it).
    fn report(&mut self, source: &str, pipe: bool, ended: bool) -> Report {
        let counts = self.scanner.counts();
        self.collected.add_input(counts);
        let mut covered = crate::ingest::coverage_named(
            source.to_owned(),
            pipe,
            &counts,
            &[],
            self.collected.signals(),
        );
        if !ended && covered.state == crate::document::InputState::Read {
            covered.state = crate::document::InputState::Partial;
            covered.detail = Some("the run was stopped before its input ended".to_owned());
        }
        self.collected.cover_input(covered);
        if self.tracker.dropped() > 0 {
            self.collected.note(format!(
                "{} signal(s) were not tracked: more than {MAX_SUGGESTIONS} distinct suggestions",
                self.tracker.dropped(),
            ));
        }
        self.engine.conclude(&self.collected)
    }
}

/// `due` split into the suggestions `plan` writes an index for, and those it leaves out.
fn split_by_plan(due: &[ListKey], plan: &[PlannedIndex]) -> (Vec<ListKey>, Vec<ListKey>) {
    due.iter()
        .cloned()
        .partition(|key| plan.iter().any(|i| i.serves.contains(key)))
}

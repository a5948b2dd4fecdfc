//! `watch`: follow logs live (the Convex CLI, a file, or stdin), show missing-index suggestions
//! as they happen, optionally write them, and confirm from the logs that they worked.

use crate::advise::AdviceSettings;
use crate::atomic_write::{self, Expect};
use crate::commands::gate::{self, GateArgs};
use crate::commands::log_store::{self, StoreArgs};
use crate::config::{Config, WatchConfig};
use crate::document::Report;
use crate::duration::parse_duration;
use crate::engine::{Collected, Engine, EngineFlags, EngineSettings, SchemaNeed};
use crate::frame::{ScanEvent, Scanner};
use crate::ingest::child::{self, Backoff, Captured, ChildError, Deployment, LogCommand};
use crate::ingest::follow::{self, FollowOptions};
use crate::ingest::lines::DEFAULT_MAX_LINE;
use crate::ingest::live::{Event, Stream};
use crate::ingest::stdin;
use crate::insights;
use crate::render;
use crate::watch::tracker::{MAX_SUGGESTIONS, Tracker, TrackerOptions};
use crate::watch::view::{Mode, View};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The loop's clock: schema re-checks, resolved timers, writes and redraws.
const TICK: Duration = Duration::from_millis(100);
/// Count-only updates are printed at most this often (line and JSON modes).
const COUNT_EVERY: Duration = Duration::from_secs(1);
/// A burst of new suggestions is written together once none arrived for this long.
const WRITE_DEBOUNCE: Duration = Duration::from_millis(500);
/// `npx convex insights` makes two API calls; a run still going after this is stopped.
const INSIGHTS_LIMIT: Duration = Duration::from_secs(120);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LiveFormat {
    /// A live table on a terminal, lines otherwise.
    Auto,
    Table,
    Lines,
    /// NDJSON events: each has "event", "table", "fields", "count", "status".
    Json,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Sources (default: `npx convex logs --jsonl` in the project root):\n  \
    ba-index-advisor watch\n  \
    ba-index-advisor watch --prod --history 100\n  \
    ba-index-advisor watch --file convex.log --from-start\n  \
    ba-index-advisor watch --from axiom --dataset convex --every 5m\n  \
    npx convex dev 2>&1 | ba-index-advisor watch -\n\n\
    Statuses: new -> written (by --write) -> served (an index in the schema serves it) -> \
    resolved (quiet for --quiet seconds), or still firing (with the reason).\n\
    Ctrl-C or SIGTERM stops the log command, prints the summary and exits 0."
)]
pub struct WatchArgs {
    /// `-` reads stdin.
    #[arg(value_name = "-", value_parser = parse_dash, conflicts_with_all = ["file", "cmd", "from"])]
    pub stdin: Option<String>,
    /// Follow this file like `tail -F` instead of running the Convex CLI.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["cmd", "from"])]
    pub file: Option<PathBuf>,
    /// With --file: read the existing contents first.
    #[arg(long, requires = "file")]
    pub from_start: bool,
    /// With --file: poll instead of file notifications (NFS, WSL, some containers).
    #[arg(long, requires = "file")]
    pub poll: bool,
    /// Passed to `convex logs`: watch the production deployment.
    #[arg(long, help_heading = "Convex CLI")]
    pub prod: bool,
    /// Passed to `convex logs`: the deployment to watch.
    #[arg(long, value_name = "NAME", help_heading = "Convex CLI")]
    pub deployment: Option<String>,
    /// Passed to `convex logs`: first show the N most recent entries.
    #[arg(long, value_name = "N", help_heading = "Convex CLI")]
    pub history: Option<u32>,
    /// Passed to `convex logs`: the env file that selects the deployment.
    #[arg(long, value_name = "FILE", help_heading = "Convex CLI")]
    pub env_file: Option<PathBuf>,
    /// Run this shell command instead of `npx convex logs --jsonl` (via `sh -c`).
    #[arg(
        long,
        value_name = "COMMAND",
        help_heading = "Convex CLI",
        conflicts_with = "from"
    )]
    pub cmd: Option<String>,
    /// Run `npx convex insights --json --details` (same deployment flags) now and every
    /// DURATION (e.g. `10m`), and show which suggestion is behind which insight [default: off].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help_heading = "Convex CLI")]
    pub insights_every: Option<Duration>,
    /// The project folder (default: the nearest folder above the current one with `convex/`).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The Better Auth component folder holding schema.ts [default: <project>/convex/betterAuth].
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = LiveFormat::Auto)]
    pub format: LiveFormat,
    /// Write each suggestion into the overlay schema once it was seen --min-hits times.
    #[arg(long)]
    pub write: bool,
    #[arg(long, value_name = "N", default_value_t = 1, requires = "write")]
    pub min_hits: u64,
    /// Seconds without a warning, after its index appeared, before a suggestion is resolved.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub quiet: f64,
    /// Seconds after an index appears during which warnings are still in flight.
    #[arg(long, value_name = "SECS", default_value_t = 15.0)]
    pub grace: f64,
    /// When the input ends (a pipe, `--cmd`): exit 1 if the plan still has an index to add, 2 if
    /// the input was not read to its end or held no Convex output (the gate `report` uses).
    #[arg(long)]
    pub fail_on_suggestions: bool,
    #[command(flatten)]
    pub gate: GateArgs,
    /// On exit, write the report JSON (as `report --format json`) to this file.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Extra rule files (`*.toml`) added to the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// With --from: pull the events since the last pull this often (the first pull reads
    /// --since, default 30d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "from",
          default_value = "5m", help_heading = "Log store (--from)")]
    pub every: Duration,
    #[command(flatten)]
    pub store: StoreArgs,
}

fn parse_dash(s: &str) -> Result<String, String> {
    if s == "-" {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`{s}`: watch reads `-` (stdin); use --file PATH to follow a file"
        ))
    }
}

fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value).with_context(|| format!("{flag}: not a number of seconds"))
}

pub fn run(args: WatchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(watch(args, config));
    // The stdin thread may sit in a blocking read; it must not hold up the exit.
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

/// Where lines come from.
enum Source {
    Child(LogCommand),
    /// `--from`: the store, the needles to filter on, the first window, the interval and how
    /// each pull runs.
    Store(
        String,
        Box<crate::logstore::LogStore>,
        Vec<String>,
        crate::logstore::Window,
        Duration,
        crate::logstore::PullOptions,
    ),
    File(PathBuf, FollowOptions),
    Stdin,
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Child(c) => c.display(),
            Source::File(p, _) => p.display().to_string(),
            Source::Stdin => "<stdin>".into(),
            Source::Store(name, ..) => name.clone(),
        }
    }

    fn spawn(
        self,
        tx: mpsc::Sender<Event>,
        cancel: CancellationToken,
    ) -> anyhow::Result<tokio::task::JoinHandle<anyhow::Result<()>>> {
        Ok(match self {
            Source::Child(command) => tokio::spawn(async move {
                child::supervise(command, Backoff::default(), DEFAULT_MAX_LINE, tx, cancel)
                    .await
                    .map_err(anyhow::Error::from)
            }),
            Source::File(path, options) => tokio::spawn(async move {
                follow::follow(path, options, tx, cancel)
                    .await
                    .map_err(anyhow::Error::from)
            }),
            Source::Store(_, store, needles, first, every, options) => tokio::spawn(async move {
                crate::logstore::poll(*store, needles, first, every, options, tx, cancel)
                    .await
                    .map_err(anyhow::Error::from)
            }),
            Source::Stdin => {
                stdin::spawn_stdin_reader(tx, DEFAULT_MAX_LINE)
                    .context("cannot start the stdin reader")?;
                tokio::spawn(async { Ok(()) })
            }
        })
    }
}

fn project_root(args: &WatchArgs) -> anyhow::Result<PathBuf> {
    if let Some(dir) = &args.project {
        return Ok(dir.clone());
    }
    let cwd = std::env::current_dir().context("cannot read the current folder")?;
    Ok(crate::schema::locate::project_root(&cwd).unwrap_or(cwd))
}

/// The log command: flags first; the file's `[watch]` values fill what no flag gave. A file's
/// `cmd` stands aside when any deployment flag is given.
fn log_command(args: &WatchArgs, file: &WatchConfig, root: &Path) -> LogCommand {
    let flags_given =
        args.prod || args.deployment.is_some() || args.history.is_some() || args.env_file.is_some();
    let cmd = args
        .cmd
        .as_ref()
        .or(file.cmd.as_ref().filter(|_| !flags_given));
    if let Some(cmd) = cmd {
        return LogCommand::shell(cmd, root.to_path_buf());
    }
    LogCommand::convex_logs(&deployment(args, file), root.to_path_buf())
}

/// The deployment `convex logs` and `convex insights` are asked about: flags, then the file.
fn deployment(args: &WatchArgs, file: &WatchConfig) -> Deployment {
    Deployment {
        prod: args.prod || file.prod.unwrap_or(false),
        deployment: args.deployment.clone().or_else(|| file.deployment.clone()),
        history: args.history.or(file.history),
        env_file: args.env_file.clone().or_else(|| file.env_file.clone()),
    }
}

async fn watch(args: WatchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let root = project_root(&args)?;
    let flags = EngineFlags {
        schema_dir: args.schema_dir.as_deref(),
        rules: args.rules.as_deref(),
        no_merge: false,
        insights: None,
    };
    let need = if args.write {
        SchemaNeed::Required
    } else {
        SchemaNeed::Optional
    };
    let engine = Engine::open(EngineSettings::resolve(config, flags, root.clone()), need)?;
    let source = if let Some(store) = args.store.from {
        let window = args.store.window(SystemTime::now())?;
        let (name, client) = log_store::open(store, &args.store)?;
        let needles = engine.matcher().rules().needles();
        Source::Store(
            name,
            Box::new(client),
            needles,
            window,
            args.every,
            args.store.pull_options(false),
        )
    } else if args.stdin.is_some() {
        Source::Stdin
    } else if let Some(path) = &args.file {
        Source::File(
            path.clone(),
            FollowOptions {
                from_start: args.from_start,
                poll: args.poll,
                ..FollowOptions::default()
            },
        )
    } else {
        Source::Child(log_command(&args, &config.watch, &root))
    };
    let options = TrackerOptions {
        quiet: seconds(args.quiet, "--quiet")?,
        grace: seconds(args.grace, "--grace")?,
    };
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    let mode = match args.format {
        LiveFormat::Auto if tty => Mode::Table,
        LiveFormat::Auto | LiveFormat::Lines => Mode::Lines,
        LiveFormat::Table => Mode::Table,
        LiveFormat::Json => Mode::Json,
    };
    let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
    if mode == Mode::Table {
        crate::watch::view::restore_cursor_on_panic();
    }
    let mut view = View::new(mode, stdout.lock(), color);

    let cancel = CancellationToken::new();
    spawn_signal_handler(cancel.clone())?;
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let source_name = source.name();
    let source_task = source.spawn(tx, cancel.clone())?;
    // Insights come from their own command, run in the project root like `convex logs`.
    let (insights_tx, mut insights_rx) = mpsc::channel(4);
    let insights_command = args.insights_every.map(|every| {
        let command = LogCommand::convex_insights(&deployment(&args, &config.watch), root.clone());
        let shown = command.display();
        tokio::spawn(child::repeat(
            command,
            every,
            INSIGHTS_LIMIT,
            insights_tx,
            cancel.clone(),
        ));
        shown
    });

    let start = Instant::now();
    let matcher = engine.matcher();
    let dismissals = engine.settings().advice.dismissals.clone();
    let mut state = LiveState {
        scanner: Scanner::new(&matcher, Arc::from(source_name.as_str())),
        collected: Collected::default(),
        tracker: Tracker::new(options, start).with_dismissals(dismissals),
        announced: HashSet::new(),
        schema_stamps: Vec::new(),
        write_min_hits: args.write.then_some(args.min_hits),
        insights: InsightsState {
            command: insights_command.unwrap_or_default(),
            ..InsightsState::default()
        },
        engine,
    };
    state.reload_schema(&mut view, start)?;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_counts = start;
    let mut input_ended = false;
    let outcome: io::Result<()> = async {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                event = rx.recv() => match event {
                    Some(event) => state.handle(event, &mut view)?,
                    None => {
                        input_ended = true;
                        return Ok(());
                    }
                },
                Some(run) = insights_rx.recv() => state.insights_ran(run, &mut view)?,
                _ = tick.tick() => {}
            }
            let now = Instant::now();
            state.housekeeping(&mut view, now, false)?;
            if now.duration_since(last_counts) >= COUNT_EVERY {
                last_counts = now;
                let moved = state.tracker.take_dirty(now);
                view.counts_changed(&moved)?;
            }
            let all = state.tracker.views(now);
            view.refresh(&all, now, false)?;
        }
    }
    .await;

    cancel.cancel();
    let source_result = match tokio::time::timeout(Duration::from_secs(10), source_task).await {
        Ok(Ok(result)) => result,
        Ok(Err(join)) => Err(anyhow::anyhow!("the log source crashed: {join}")),
        Err(_) => Err(anyhow::anyhow!("the log source did not stop within 10 s")),
    };
    // Lines already read still count.
    while let Ok(event) = rx.try_recv() {
        if state.handle(event, &mut view).is_err() {
            break;
        }
    }
    let mut tail = Vec::new();
    state.scanner.finish(&mut |e| tail.push(e));
    let now = Instant::now();
    let outcome = outcome
        .and_then(|()| state.scanned(tail, &mut view))
        // The input ended: every pending write is made (or its failure shown) before exit.
        .and_then(|()| state.housekeeping(&mut view, now, input_ended))
        .and_then(|()| state.readvise(&mut view, now));
    let all = state.tracker.views(now);
    match outcome.and_then(|()| view.finish(&all)) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("cannot write the live view")?,
    }
    let report = state.report(&source_name, args.stdin.is_some(), input_ended);
    if let Some(path) = &args.save {
        atomic_write::replace(
            path,
            render::json::render(&report).as_bytes(),
            Expect::Anything,
        )?;
    }
    match source_result {
        Ok(()) if args.fail_on_suggestions => Ok(gate::finish(
            &report,
            args.gate.gate(true, "--fail-on-suggestions"),
        )),
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            crate::errln!("error: {err:#}");
            Ok(ExitCode::from(2))
        }
    }
}

/// Ctrl-C and SIGTERM both end the run cleanly.
fn spawn_signal_handler(cancel: CancellationToken) -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot listen for SIGTERM")?;
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        cancel.cancel();
    });
    Ok(())
}

struct LiveState<'m> {
    engine: Engine,
    scanner: Scanner<'m>,
    /// What the engine concludes from: the same value a batch `report` fills.
    collected: Collected,
    tracker: Tracker,
    /// Dismissed suggestions already shown as ignored.
    announced: HashSet<(String, Vec<String>)>,
    /// The schema files' modification times and sizes when last read.
    schema_stamps: Vec<Option<(SystemTime, u64)>>,
    /// `--write --min-hits N`.
    write_min_hits: Option<u64>,
    /// `--insights-every`: what was said about the insights so far.
    insights: InsightsState,
}

#[derive(Debug, Default)]
struct InsightsState {
    /// The command, as shown in notices.
    command: String,
    /// (table, fields, kind, function) of every insight join already announced.
    announced: HashSet<(String, Vec<String>, String, String)>,
    /// How many insights the last good run returned.
    count: Option<usize>,
    /// The last failure shown: the same failure every interval is said once.
    failure: Option<String>,
}

impl LiveState<'_> {
    fn handle<W: Write>(&mut self, event: Event, view: &mut View<W>) -> io::Result<()> {
        match event {
            Event::Line { stream, line } => {
                if stream == Stream::ChildStderr && !line.bytes.windows(8).any(|w| w == b"[CONVEX ")
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
            if let Some(reason) = self.tracker.ignored(&signal.table, &signal.fields) {
                let key = (signal.table.to_string(), signal.fields.to_vec());
                if self.announced.insert(key) {
                    view.ignored(&signal.table, &signal.fields, &reason)?;
                }
            } else if let Some(key) = self.tracker.observe(&signal, now) {
                changed.push(key);
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
        mut keys: Vec<(String, Vec<String>)>,
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

    /// The schema files to look at for changes: the overlay and the generated file it imports.
    fn schema_paths(&self) -> Vec<PathBuf> {
        match self.engine.component() {
            Some(c) => {
                let mut paths = vec![c.schema.path.clone()];
                if let crate::schema::Layout::Overlay { generated, .. } = &c.layout {
                    paths.push(generated.path.clone());
                }
                paths
            }
            None => Vec::new(),
        }
    }

    /// Re-reads the schema when its files changed on disk (or none was found yet), and takes
    /// the engine's answer again.
    fn reload_schema<W: Write>(&mut self, view: &mut View<W>, now: Instant) -> io::Result<()> {
        let now_stamps = stamps(&self.schema_paths());
        let unchanged = !now_stamps.is_empty() && now_stamps == self.schema_stamps;
        if unchanged || (now_stamps.is_empty() && self.engine.component().is_some()) {
            return Ok(());
        }
        let had = self.engine.component().is_some();
        if let Err(err) = self.engine.reload_schema() {
            // Half-saved or broken: keep what was last read, and say why.
            self.schema_stamps = now_stamps;
            return view.notice(&format!("schema not re-read: {err}"));
        }
        self.schema_stamps = stamps(&self.schema_paths());
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
        if let Some(min_hits) = self.write_min_hits
            && self
                .tracker
                .write_due(min_hits, WRITE_DEBOUNCE, now, input_ended)
        {
            self.write(view, min_hits, now)?;
        }
        Ok(())
    }

    /// `--write`: what `apply` writes for the same lines, less the suggestions seen fewer than
    /// `min_hits` times, through the same engine call.
    fn write<W: Write>(
        &mut self,
        view: &mut View<W>,
        min_hits: u64,
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
            Err(err) => return view.notice(&format!("cannot write the planned indexes: {err}")),
        };
        let Some(change) = applied.change else {
            return Ok(());
        };
        let label = crate::schema::display_path(&change_path(&self.engine));
        view.notice(&change.unified_diff(&label))?;
        let mut written = Vec::new();
        for index in &applied.report.plan {
            for served in &index.serves {
                if self.tracker.mark_written(&served.table, &served.fields) {
                    written.push((served.table.clone(), served.fields.clone()));
                }
            }
        }
        self.show(written, view, now)
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

/// Each file's modification time and size, to notice a change without reading it.
fn stamps(paths: &[PathBuf]) -> Vec<Option<(SystemTime, u64)>> {
    paths
        .iter()
        .map(|p| {
            std::fs::metadata(p)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}

fn change_path(engine: &Engine) -> PathBuf {
    engine
        .component()
        .map(|c| c.schema.path.clone())
        .unwrap_or_default()
}

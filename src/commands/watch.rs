//! `watch`: follow logs live (the Convex CLI, a file, or stdin), show missing-index suggestions
//! as they happen, optionally write them, and confirm from the logs that they worked.

use crate::advise::{PlanOptions, build_plan};
use crate::aggregate::Aggregator;
use crate::commands::report::load_rules;
use crate::config::{Config, Dismissals, WatchConfig};
use crate::frame::{self, Scanner};
use crate::ingest::child::{self, Backoff, Deployment, LogCommand};
use crate::ingest::follow::{self, FollowOptions};
use crate::ingest::lines::DEFAULT_MAX_LINE;
use crate::ingest::live::{Event, Stream};
use crate::ingest::stdin;
use crate::parse::Matcher;
use crate::report::{self, Report, Stats};
use crate::watch::schema_indexes::SchemaFiles;
use crate::watch::tracker::{Tracker, TrackerOptions};
use crate::watch::view::{Mode, View};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// The loop's clock: schema re-checks, resolved timers, writes and redraws.
const TICK: Duration = Duration::from_millis(100);
/// Count-only updates are printed at most this often (line and JSON modes).
const COUNT_EVERY: Duration = Duration::from_secs(1);
/// A burst of new suggestions is written together once none arrived for this long.
const WRITE_DEBOUNCE: Duration = Duration::from_millis(500);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
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
    npx convex dev 2>&1 | ba-index-advisor watch -\n\n\
    Statuses: new -> written (by --write) -> served (an index in the schema serves it) -> \
    resolved (quiet for --quiet seconds), or still firing (with the reason).\n\
    Ctrl-C or SIGTERM stops the log command, prints the summary and exits 0."
)]
pub struct WatchArgs {
    /// `-` reads stdin.
    #[arg(value_name = "-", value_parser = parse_dash, conflicts_with_all = ["file", "cmd"])]
    pub stdin: Option<String>,
    /// Follow this file like `tail -F` instead of running the Convex CLI.
    #[arg(long, value_name = "PATH", conflicts_with = "cmd")]
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
    #[arg(long, value_name = "COMMAND", help_heading = "Convex CLI")]
    pub cmd: Option<String>,
    /// The project folder (default: the nearest folder above the current one with `convex/`).
    #[arg(long, value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// The Better Auth component folder holding schema.ts [default: <project>/convex/betterAuth].
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
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
    /// On exit, write the report JSON (as `report --format json`) to this file.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Extra rule files (`*.toml`) added to the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
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
    File(PathBuf, FollowOptions),
    Stdin,
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Child(c) => c.display(),
            Source::File(p, _) => p.display().to_string(),
            Source::Stdin => "<stdin>".into(),
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
    Ok(child::find_project_root(&cwd).unwrap_or(cwd))
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
    let deployment = Deployment {
        prod: args.prod || file.prod.unwrap_or(false),
        deployment: args.deployment.clone().or_else(|| file.deployment.clone()),
        history: args.history.or(file.history),
        env_file: args.env_file.clone().or_else(|| file.env_file.clone()),
    };
    LogCommand::convex_logs(&deployment, root.to_path_buf())
}

async fn watch(args: WatchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let root = project_root(&args)?;
    let schema_path = args
        .schema_dir
        .as_deref()
        .or(config.schema_dir.as_deref())
        .map_or_else(|| root.join("convex").join("betterAuth"), Path::to_path_buf)
        .join("schema.ts");
    tracing::info!("watching the schema {}", schema_path.display());
    let source = if args.stdin.is_some() {
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
    let matcher = Matcher::new(
        load_rules(Config::path_or(args.rules.as_deref(), config.rules_dir.as_deref()).as_deref())
            .context("cannot load rules")?,
        None,
    );
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    let mode = match args.format {
        Format::Auto if tty => Mode::Table,
        Format::Auto | Format::Lines => Mode::Lines,
        Format::Table => Mode::Table,
        Format::Json => Mode::Json,
    };
    let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
    let mut view = View::new(mode, stdout.lock(), color);

    let cancel = CancellationToken::new();
    spawn_signal_handler(cancel.clone())?;
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let source_name = source.name();
    let source_task = source.spawn(tx, cancel.clone())?;

    let start = Instant::now();
    let mut state = LiveState {
        scanner: Scanner::new(&matcher, Arc::from(source_name.as_str())),
        aggregator: Aggregator::default(),
        tracker: Tracker::new(options, start).with_dismissals(config.dismissals()),
        dismissals: config.dismissals(),
        plan: PlanOptions {
            merge: config.merge(false),
        },
        announced: HashSet::new(),
        schema: SchemaFiles::for_overlay(&schema_path),
        suspects: Vec::new(),
        errors: Vec::new(),
    };
    if let Some(indexes) = state.schema.reload() {
        state.tracker.set_schema(indexes, start);
    }
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_counts = start;
    let outcome: io::Result<()> = async {
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                event = rx.recv() => match event {
                    Some(event) => state.handle(event, &mut view)?,
                    None => return Ok(()),
                },
                _ = tick.tick() => {}
            }
            let now = Instant::now();
            state.housekeeping(&mut view, now, args.write.then_some(args.min_hits))?;
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
    state.scanner.finish(&mut |_| {});
    let now = Instant::now();
    let all = state.tracker.views(now);
    match outcome.and_then(|()| view.finish(&all)) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other.context("cannot write the live view")?,
    }
    if let Some(path) = &args.save {
        let report = state.report();
        write_report(path, &report)?;
    }
    match source_result {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => {
            eprintln!("error: {err:#}");
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
    scanner: Scanner<'m>,
    aggregator: Aggregator,
    tracker: Tracker,
    /// Applied to the saved report, as `report` applies them.
    dismissals: Dismissals,
    plan: PlanOptions,
    /// Dismissed suggestions already shown as ignored.
    announced: HashSet<(String, Vec<String>)>,
    schema: SchemaFiles,
    suspects: Vec<report::Suspect>,
    errors: Vec<String>,
}

/// Input problems and suspects kept for the saved report.
const MAX_KEPT: usize = 20;

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

    fn scanned<W: Write>(
        &mut self,
        found: Vec<frame::Event>,
        view: &mut View<W>,
    ) -> io::Result<()> {
        let now = Instant::now();
        for event in found {
            match event {
                frame::Event::Signal(signal) => {
                    if !self.tracker.accepts(&signal.table, &signal.fields) {
                        continue;
                    }
                    self.aggregator.add(&signal);
                    if let Some(reason) = self.tracker.ignored(&signal.table, &signal.fields) {
                        let key = (signal.table.clone(), signal.fields.clone());
                        if self.announced.insert(key) {
                            view.ignored(&signal.table, &signal.fields, &reason)?;
                        }
                        continue;
                    }
                    if let Some(key) = self.tracker.observe(&signal, now)
                        && let Some(s) = self.tracker.view(&key, now)
                    {
                        view.status_changed(&s)?;
                    }
                }
                frame::Event::Suspect(s) if self.suspects.len() < MAX_KEPT => self.suspects.push(s),
                frame::Event::Suspect(_) => {}
                frame::Event::Problem { line, message } => {
                    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
                    if self.errors.len() < MAX_KEPT {
                        self.errors.push(format!("{at}{message}"));
                    }
                    view.notice(&format!("{at}{message}"))?;
                }
            }
        }
        Ok(())
    }

    /// Timers: schema re-read, resolved suggestions, debounced writes.
    fn housekeeping<W: Write>(
        &mut self,
        view: &mut View<W>,
        now: Instant,
        write_min_hits: Option<u64>,
    ) -> io::Result<()> {
        let mut changed = Vec::new();
        if let Some(indexes) = self.schema.reload() {
            changed.extend(self.tracker.set_schema(indexes, now));
        }
        if let Some(err) = self.schema.take_error() {
            view.notice(&format!("schema not re-read: {err}"))?;
        }
        changed.extend(self.tracker.tick(now));
        if let Some(min_hits) = write_min_hits {
            for (table, fields) in self.tracker.write_candidates(min_hits, WRITE_DEBOUNCE, now) {
                match write_index(self.schema.overlay(), &table, &fields) {
                    Ok(diff) => {
                        view.notice(&diff)?;
                        if self.tracker.mark_written(&table, &fields) {
                            changed.push((table, fields));
                        }
                    }
                    Err(err) => view.notice(&format!(
                        "cannot write the index for {table} [{}]: {err:#}",
                        fields.join(", ")
                    ))?,
                }
            }
        }
        for key in changed {
            if let Some(s) = self.tracker.view(&key, now) {
                view.status_changed(&s)?;
            }
        }
        Ok(())
    }

    /// The same document `report --format json` prints, for `--save`.
    fn report(&self) -> Report {
        let counts = self.scanner.counts();
        let (suggestions, ignored) = self.aggregator.finish();
        let plan = build_plan(&suggestions, self.plan).indexes;
        let mut notes = Vec::new();
        if self.tracker.dropped() > 0 {
            notes.push(format!(
                "{} signal(s) were not tracked: more than {} distinct suggestions",
                self.tracker.dropped(),
                crate::watch::tracker::MAX_SUGGESTIONS
            ));
        }
        let mut report = Report {
            version: report::SCHEMA_VERSION,
            suggestions,
            plan,
            ignored,
            notes,
            stats: Stats {
                inputs: 1,
                bytes: counts.bytes,
                lines: counts.lines,
                records: counts.records,
                signals: self.aggregator.signals(),
                suspects: counts.suspects,
                suspect_samples: self.suspects.iter().take(5).cloned().collect(),
                errors: self.errors.clone(),
            },
        };
        self.dismissals.apply_to(&mut report, self.plan);
        report
    }
}

/// `--write`: adds `.index("<fields joined by _>", [fields])` for `table` to the overlay through
/// the schema editor (verified re-parse, atomic write that refuses if the file changed since it
/// was read), and returns the unified diff to show.
fn write_index(schema: &Path, table: &str, fields: &[String]) -> anyhow::Result<String> {
    let dir = schema
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // Held across read → plan → write, so a concurrent `apply` cannot lose this index.
    let _held = crate::schema::lock::acquire(dir)?;
    let component = crate::schema::load(dir)?;
    let addition = crate::schema::NewIndex {
        table: table.to_owned(),
        name: crate::advise::plan::index_name(fields),
        fields: fields.to_vec(),
    };
    let Some(change) = crate::schema::overlay::prepare(&component, &[addition])? else {
        return Ok(String::new());
    };
    crate::schema::write::commit(&component.schema, &change.after)?;
    Ok(change.unified_diff(&schema.display().to_string()))
}

fn write_report(path: &Path, report: &Report) -> anyhow::Result<()> {
    let text = report::json::render(report);
    // Write beside the target, then rename: a reader never sees half a report.
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text.as_bytes())
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

//! `watch`: follow logs live (the Convex CLI, a file, or stdin), show missing-index suggestions
//! as they happen, optionally write them, and confirm from the logs that they worked.

use crate::atomic_write::{self, Expect};
use crate::commands::engine_args::EngineArgs;
use crate::commands::gate::{self, GateArgs};
use crate::commands::log_store::{self, StoreArgs};
use crate::config::{Config, WatchConfig};
use crate::duration::{parse_duration, parse_duration_or_zero};
use crate::engine::{Engine, EngineSettings, SchemaNeed};
use crate::frame::Scanner;
use crate::ingest::child::{self, Deployment, LogCommand};
use crate::ingest::follow::FollowOptions;
use crate::ingest::live::Event;
use crate::render;
use crate::watch::live::{Feeds, LiveState};
use crate::watch::source::Source;
use crate::watch::tracker::TrackerOptions;
use crate::watch::view::{Rendering, View};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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
    resolved (quiet for --quiet), or still firing (with the reason).\n\
    Ctrl-C or SIGTERM stops the log command, prints the summary and exits 0 (2 if --write \
    never managed to write a planned index)."
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
    #[arg(long, value_enum, default_value_t = LiveFormat::Auto)]
    pub format: LiveFormat,
    /// Write each suggestion into the overlay schema once it was seen --min-hits times.
    #[arg(long)]
    pub write: bool,
    #[arg(long, value_name = "N", default_value_t = 1, requires = "write")]
    pub min_hits: u64,
    /// How long without a warning, after its index appeared, before a suggestion is resolved
    /// (e.g. `90s`, `2m`; a bare number is seconds).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_or_zero, default_value = "60")]
    pub quiet: Duration,
    /// How long after an index appears warnings are still in flight (e.g. `15s`; a bare number
    /// is seconds).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_or_zero, default_value = "15")]
    pub grace: Duration,
    /// When the input ends (a pipe, `--cmd`): exit 1 if the plan still has an index to add, 2 if
    /// the input was not read to its end or held no Convex output (the gate `report` uses).
    #[arg(long)]
    pub fail_on_suggestions: bool,
    #[command(flatten)]
    pub gate: GateArgs,
    /// On exit, write the report JSON (as `report --format json`) to this file.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// With --from: pull the events since the last pull this often (the first pull reads
    /// --since, default 30d).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "from",
          default_value = "5m", help_heading = "Log store (--from)")]
    pub every: Duration,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
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
    let flags = args.engine.flags(None);
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
        quiet: args.quiet,
        grace: args.grace,
    };
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    let mode = match args.format {
        LiveFormat::Auto if tty => Rendering::Table,
        LiveFormat::Auto | LiveFormat::Lines => Rendering::Lines,
        LiveFormat::Table => Rendering::Table,
        LiveFormat::Json => Rendering::Json,
    };
    let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
    if mode == Rendering::Table {
        crate::watch::view::restore_cursor_on_panic();
    }
    let mut view = View::new(mode, stdout.lock(), color);

    let cancel = CancellationToken::new();
    spawn_signal_handler(cancel.clone())?;
    let (tx, rx) = mpsc::channel::<Event>(1024);
    let source_name = source.name();
    let source_task = source.spawn(tx, cancel.clone())?;
    // Insights come from their own command, run in the project root like `convex logs`.
    let (insights_tx, insights_rx) = mpsc::channel(4);
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

    let matcher = engine.matcher();
    let state = LiveState::new(
        engine,
        Scanner::new(&matcher, Arc::from(source_name.as_str())),
        options,
        args.write.then_some(args.min_hits),
        insights_command.unwrap_or_default(),
    );
    let feeds = Feeds {
        events: rx,
        insights: insights_rx,
        source: source_task,
        cancel,
    };
    let pipe = args.stdin.is_some();
    let ended = state
        .run(feeds, &mut view, &source_name, pipe)
        .await
        .context("cannot write the live view")?;
    if let Some(path) = &args.save {
        atomic_write::replace(
            path,
            render::json::render(&ended.report).as_bytes(),
            Expect::Anything,
        )?;
    }
    if !ended.unwritten.is_empty() {
        crate::errln!(
            "error: --write never wrote the index for {} suggestion(s): {}",
            ended.unwritten.len(),
            ended
                .unwritten
                .iter()
                .map(|(key, reason)| format!(
                    "{} [{}] ({reason})",
                    key.table,
                    key.fields.join(", ")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        );
        return Ok(ExitCode::from(2));
    }
    match ended.source {
        Ok(()) if args.fail_on_suggestions => Ok(gate::finish(
            &ended.report,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        watch: WatchArgs,
    }

    fn parsed(args: &[&str]) -> WatchArgs {
        let mut argv = vec!["watch"];
        argv.extend_from_slice(args);
        Cli::try_parse_from(argv).expect("parses").watch
    }

    #[test]
    fn quiet_and_grace_are_durations_a_bare_number_in_seconds() {
        let defaults = parsed(&[]);
        assert_eq!(defaults.quiet, Duration::from_secs(60));
        assert_eq!(defaults.grace, Duration::from_secs(15));
        assert_eq!(parsed(&["--quiet", "60"]).quiet, Duration::from_secs(60));
        assert_eq!(
            parsed(&["--quiet", "1.5"]).quiet,
            Duration::from_millis(1500)
        );
        assert_eq!(parsed(&["--quiet", "2m"]).quiet, Duration::from_secs(120));
        assert_eq!(parsed(&["--grace", "0"]).grace, Duration::ZERO);
        assert!(Cli::try_parse_from(["watch", "--quiet", "soon"]).is_err());
    }
}

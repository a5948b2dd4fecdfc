//! `report`: read log dumps, print findings and the index plan.

use crate::commands::engine_args::EngineArgs;
use crate::commands::gate::{self, GateArgs};
use crate::commands::log_store::{self, StoreArgs};
use crate::commands::output::{ReportFormat, print_report};
use crate::config::Config;
use crate::engine::{Engine, SchemaNeed};
use crate::insights;
use crate::render::next::{Invocation, next_steps};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor report sample-logs/\n  \
    npx convex logs --history --jsonl | ba-index-advisor report - --format json\n  \
    ba-index-advisor report logs.txt.gz --fail-on-suggestions\n  \
    npx convex insights --json --details > insights.json\n  \
    ba-index-advisor report logs.jsonl --insights insights.json\n  \
    AXIOM_TOKEN=… ba-index-advisor report --from axiom --dataset convex --since 7d\n  \
    DD_API_KEY=… DD_APP_KEY=… ba-index-advisor report --from datadog --site eu")]
pub struct ReportArgs {
    /// Files, directories (recursed for *.log, *.jsonl, *.json, *.txt, *.gz) or `-` for stdin.
    #[arg(value_name = "PATHS|-", default_value = "-")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Exit 1 when the plan still has an index to add (for CI checks).
    #[arg(long)]
    pub fail_on_suggestions: bool,
    /// The saved output of `npx convex insights --json --details` (`-`: stdin): show which
    /// suggestion is behind which insight.
    #[arg(long, value_name = "FILE|-")]
    pub insights: Option<PathBuf>,
    /// Threads that read one large log file [default: the available cores]; 1 reads it in
    /// one pass.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: ReportArgs, config: &Config) -> anyhow::Result<ExitCode> {
    insights::check_stdin(args.insights.as_deref(), &args.paths)?;
    let from_files = args.store.from.is_none();
    if !from_files && args.paths.iter().any(|p| p.as_os_str() != "-") {
        anyhow::bail!("--from reads a log store: give no log files with it");
    }
    if from_files && args.store.dataset.is_some() {
        anyhow::bail!("--dataset is for --from axiom");
    }
    let window = match args.store.from {
        Some(_) => Some(args.store.window(std::time::SystemTime::now())?),
        None => None,
    };
    if from_files
        && args.paths.iter().any(|p| p.as_os_str() == "-")
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        anyhow::bail!(
            "no input: give log files or directories, or pipe logs in \
             (e.g. `npx convex logs --history --jsonl | ba-index-advisor report -`)"
        );
    }
    let flags = args.engine.flags(args.insights.as_deref());
    let mut engine = Engine::for_command(config, flags, SchemaNeed::Optional)?;
    if let Some(threads) = args.threads {
        engine.set_threads(usize::from(threads));
    }
    let collected = match (args.store.from, &window) {
        (Some(store), Some(window)) => {
            let pull = log_store::pull(store, &args.store, window, &engine)?;
            crate::errln!(
                "Read {} event(s) from {} ({} to {}) in {} request(s), {} byte(s).",
                pull.events,
                pull.source,
                window.start,
                window.end,
                pull.requests,
                pull.bytes
            );
            // Not an all-clear when part of the window was not read: the gaps say so below.
            if pull.events == 0 && pull.collected.coverage().is_complete() {
                crate::errln!(
                    "notice: {} has no index warning or error in this window: nothing to add.",
                    pull.source
                );
            }
            pull.collected
        }
        _ => engine.read(&args.paths),
    };
    let report = engine.conclude(&collected);
    let invocation = Invocation {
        inputs: &args.paths,
        from_report: None,
        schema_dir: args.engine.schema_dir.as_deref(),
    };
    let next = next_steps(&report, &invocation);
    print_report(&report, args.format, &next)?;
    Ok(gate::finish(
        &report,
        args.gate
            .gate(args.fail_on_suggestions, "--fail-on-suggestions"),
    ))
}

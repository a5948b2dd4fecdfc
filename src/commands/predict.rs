//! `predict`: the missing indexes the installed Better Auth code will ask for, before any log
//! shows them; with logs, one report of both. `--write` writes the plan as `apply` does.

use crate::commands::engine_args::EngineArgs;
use crate::commands::gate::{self, GateArgs};
use crate::commands::output::{ReportFormat, print_change, print_report};
use crate::config::Config;
use crate::engine::{Collected, Engine, SchemaNeed};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor predict\n  \
    ba-index-advisor predict --format json\n  \
    ba-index-advisor predict --write\n  \
    ba-index-advisor predict logs.jsonl\n\n\
    Reads better-auth and its plugin packages as Node resolves them from the folder that holds \
    convex/, finds every adapter query in their code, and lists those no index in the schema \
    serves (tables not in the schema belong to plugins that are off and are skipped). With log \
    files, a prediction the logs show too is marked as seen.\n\n\
    Exit codes: 0 done; 1 --fail-on-suggestions (or --check) and the plan has an index to add; \
    2 no schema, packages not installed, or an input error.")]
pub struct PredictArgs {
    /// Log files or directories to merge into the report, as for `report`.
    #[arg(value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,
    /// Write the plan into the overlay `schema.ts`, as `apply` does.
    #[arg(long, conflicts_with = "dry_run")]
    pub write: bool,
    /// Print the unified diff `--write` would apply, and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 1 when the plan still has an index to add (for CI checks).
    #[arg(long, alias = "check")]
    pub fail_on_suggestions: bool,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: PredictArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let flags = args.engine.flags(None);
    let mut engine = Engine::for_command(config, flags, SchemaNeed::Required)?;
    if let Some(unsupported) = engine.predict()?.unsupported.clone() {
        crate::errln!("warning: {}", unsupported.message());
    }
    let collected = if args.logs.is_empty() {
        Collected::default()
    } else {
        engine.read(&args.logs)
    };
    if args.write || args.dry_run {
        let applied = engine.apply(args.dry_run, |engine| engine.conclude(&collected))?;
        print_change(&engine, applied.change.as_ref(), args.dry_run)?;
        return Ok(ExitCode::SUCCESS);
    }
    let report = engine.conclude(&collected);
    for package in &report.predicted_from {
        crate::errln!("read {} {}", package.name, package.version);
    }
    print_report(&report, args.format, &[])?;
    Ok(gate::finish(
        &report,
        args.gate
            .gate(args.fail_on_suggestions, "--fail-on-suggestions"),
    ))
}

//! `apply`: writes the planned indexes into the overlay `schema.ts`, from logs or a saved report.

use crate::commands::engine_args::EngineArgs;
use crate::commands::gate::{self, GateArgs};
use crate::commands::output::print_change;
use crate::config::Config;
use crate::console::err_fitted;
use crate::document::Report;
use crate::engine::{Collected, Engine, SchemaNeed};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  ba-index-advisor apply sample-logs/\n  \
    ba-index-advisor report logs.txt --format json > report.json\n  \
    ba-index-advisor apply --from-report report.json --dry-run\n\n\
    Exit codes: 0 done (or nothing to change); 1 --check and changes would be made; \
    2 usage or input error, a refused edit, or --check on logs not read in full (--allow-partial \
    accepts that).")]
pub struct ApplyArgs {
    /// Log files or directories, as for `report`.
    #[arg(value_name = "LOGS", conflicts_with = "from_report")]
    pub logs: Vec<PathBuf>,
    /// Read the findings from a saved `report --format json` instead of logs.
    #[arg(long, value_name = "FILE")]
    pub from_report: Option<PathBuf>,
    /// Print the unified diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write nothing; exit 1 when changes would be made (for CI).
    #[arg(long)]
    pub check: bool,
    /// Also add the indexes the installed Better Auth code will need (as `predict` finds them).
    #[arg(long)]
    pub predict: bool,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// Where the findings come from.
enum Findings {
    Saved(Report),
    Logs(Collected),
}

pub fn run(args: ApplyArgs, config: &Config) -> anyhow::Result<ExitCode> {
    if args.from_report.is_none() && args.logs.is_empty() && !args.predict {
        anyhow::bail!("give log files, --from-report FILE, or --predict");
    }
    let flags = args.engine.flags(None);
    let mut engine = Engine::for_command(config, flags, SchemaNeed::Required)?;
    if args.predict {
        engine.predict()?;
    }
    let findings = match &args.from_report {
        Some(path) => Findings::Saved(Engine::read_saved(path)?),
        None => Findings::Logs(engine.read(&args.logs)),
    };
    let preview = args.dry_run || args.check;
    // Planned against the schema as it is under the folder's lock: another `apply` or
    // `watch --write` may have added indexes while the logs were being read.
    let applied = engine.apply(preview, |engine| match &findings {
        Findings::Saved(saved) => engine.revise(saved.clone()),
        Findings::Logs(collected) => engine.conclude(collected),
    })?;
    let report = &applied.report;
    describe(report);
    print_change(&engine, applied.change.as_ref(), preview)?;
    Ok(gate::finish(report, args.gate.gate(args.check, "--check")))
}

/// What became of each finding, on stderr: dismissed ones with the reason, the rest with their
/// status against the schema.
fn describe(report: &Report) {
    for item in &report.ignored {
        err_fitted(&format!(
            "{} [{}]: not added: {}",
            item.table,
            item.fields.join(", "),
            item.reason
        ));
    }
    if report.suggestions.is_empty() {
        crate::errln!("no missing-index findings");
    }
    for finding in &report.suggestions {
        if let Some(status) = &finding.status {
            err_fitted(&format!(
                "{} [{}]: {}",
                finding.table,
                finding.fields.join(", "),
                status.describe()
            ));
        }
    }
}

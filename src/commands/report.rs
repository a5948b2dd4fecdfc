//! `report`: read log dumps, print findings and the index plan.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ba-index-advisor report sample-logs/ --format json")]
pub struct ReportArgs {
    /// Files, directories (recursed for *.log, *.jsonl, *.json, *.txt, *.gz) or `-` for stdin.
    #[arg(value_name = "PATHS|-", default_value = "-")]
    pub paths: Vec<PathBuf>,
}

pub fn run(_args: ReportArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("report is being written")
}

//! Not a command: `--allow-partial`, and the one way a command turns the engine's gate
//! judgement into its stderr lines and exit code.

use crate::document::Report;
use crate::engine::gate::{self, Gate};
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, Args)]
pub struct GateArgs {
    /// Accept a report built from part of what was asked for (a missing file, a partial log-store
    /// window, …): the check is judged on what was read, and the output says how much was not.
    #[arg(long)]
    pub allow_partial: bool,
}

impl GateArgs {
    /// The gate for a run that checks under `flag` when `checking`.
    pub fn gate(self, checking: bool, flag: &'static str) -> Gate {
        Gate {
            flag: checking.then_some(flag),
            allow_partial: self.allow_partial,
        }
    }
}

/// Prints what the gate says about `report` on stderr, and returns its exit code.
pub fn finish(report: &Report, gate: Gate) -> ExitCode {
    let judgement = gate::judge(report, gate);
    for message in &judgement.messages {
        crate::errln!("{message}");
    }
    ExitCode::from(judgement.exit)
}

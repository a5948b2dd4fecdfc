//! Entry point: parse arguments, set up diagnostics, dispatch, map errors to exit codes.

use ba_index_advisor::cli::{Cli, Command};
use ba_index_advisor::commands;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Report(args) => commands::report::run(args),
        Command::Watch(args) => commands::watch::run(args),
        Command::Apply(args) => commands::apply::run(args),
        Command::Init(args) => commands::init::run(args),
        Command::Doctor(args) => commands::doctor::run(args),
        Command::Pr(args) => commands::pr::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Writing to a closed pipe (`| head`) is how a reader says it has seen enough.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

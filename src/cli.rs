//! Command-line surface: clap types only. Each subcommand's arguments live beside its command.

use crate::commands;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "ba-index-advisor",
    version,
    about = "Finds Better Auth missing-index warnings in Convex logs and proposes the indexes",
    after_help = "Exit codes: 0 success; 1 findings exist and --fail-on-suggestions (or --check) was given; \
                  2 usage or input error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One-shot report on log dumps: text, JSONL, log-stream JSON or gzip.
    Report(commands::report::ReportArgs),
    /// Follow logs live, show missing-index suggestions as they happen, optionally write them.
    Watch(commands::watch::WatchArgs),
    /// Write the missing indexes into the overlay convex/betterAuth/schema.ts.
    Apply(commands::apply::ApplyArgs),
    /// Convert a generated convex/betterAuth/schema.ts into the overlay layout.
    Init(commands::init::InitArgs),
    /// Static checks of the Better Auth schema's indexes, without logs.
    Doctor(commands::doctor::DoctorArgs),
    /// Comment the suggestions on a GitHub pull request, as one comment kept up to date.
    Pr(commands::pr::PrArgs),
}

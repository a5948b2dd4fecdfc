//! Command-line surface: clap types only. Each subcommand's arguments live beside its command.

use crate::commands;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "ba-index-advisor",
    version,
    about = "Finds Better Auth missing-index warnings in Convex logs and proposes the indexes",
    after_help = "Examples:\n  \
    ba-index-advisor report sample-logs/\n  \
    ba-index-advisor apply sample-logs/ --dry-run\n  \
    ba-index-advisor ignore verification identifier --reason \"low traffic\"\n\n\
    Configuration: ba-index-advisor.toml in the current folder or the nearest one above it \
    (or --config FILE); `ba-index-advisor config` shows the effective values.\n\
    Diagnostics go to stderr: -v, -vv, -q or RUST_LOG=ba_index_advisor=debug. Colours follow \
    NO_COLOR, CLICOLOR and CLICOLOR_FORCE.\n\n\
    Exit codes: 0 success; 1 findings exist and --fail-on-suggestions (or --check) was given, or \
    `doctor --check` found a problem; 2 usage, configuration or input error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The configuration file [default: ba-index-advisor.toml in the current folder or the
    /// nearest one above it].
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        help_heading = "Global options"
    )]
    pub config: Option<PathBuf>,
    /// More diagnostics on stderr (-v info, -vv debug, -vvv trace).
    #[arg(
        short,
        long,
        global = true,
        action = clap::ArgAction::Count,
        conflicts_with = "silent",
        help_heading = "Global options"
    )]
    pub verbose: u8,
    /// Only errors on stderr. (The long form is not --quiet: `watch --quiet DURATION` predates it.)
    #[arg(short = 'q', long, global = true, help_heading = "Global options")]
    pub silent: bool,
    /// When to colour the output [default: auto, which follows NO_COLOR, CLICOLOR,
    /// CLICOLOR_FORCE and whether the output is a terminal].
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        help_heading = "Global options"
    )]
    pub color: Option<ColorWhen>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One-shot report on log dumps: text, JSONL, log-stream JSON or gzip.
    Report(commands::report::ReportArgs),
    /// Follow logs live, show missing-index suggestions as they happen, optionally write them.
    Watch(commands::watch::WatchArgs),
    /// Write the missing indexes into the component's overlay schema.ts.
    Apply(commands::apply::ApplyArgs),
    /// Convert the component's generated schema.ts into the overlay layout.
    Init(commands::init::InitArgs),
    /// Static checks of the Better Auth schema's indexes, without logs; --check fails CI on one.
    Doctor(commands::doctor::DoctorArgs),
    /// Predict the missing indexes from the installed Better Auth code, before any log shows them.
    Predict(commands::predict::PredictArgs),
    /// Comment the suggestions on a GitHub pull request, as one comment kept up to date.
    Pr(commands::pr::PrArgs),
    /// Receive a Convex log stream (webhook) and keep the suggestions in a database, on a web
    /// page and an API.
    Serve(commands::serve::ServeArgs),
    /// Decline a suggestion for good: an [[ignore]] entry in ba-index-advisor.toml (--remove
    /// takes it back).
    Ignore(commands::ignore::IgnoreArgs),
    /// Print the effective configuration and where each value comes from.
    Config(commands::config::ConfigArgs),
    /// Print a shell completion script.
    Completions(commands::completions::CompletionsArgs),
}

//! `doctor`: static, informational checks of the component's schema; no logs needed.

use crate::advise::doctor;
use crate::config::Config;
use crate::engine::{Engine, EngineFlags, SchemaNeed};
use crate::schema;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ba-index-advisor doctor --schema-dir convex/betterAuth")]
pub struct DoctorArgs {
    /// The Better Auth component folder [default: convex/betterAuth in the current directory or
    /// the nearest ancestor that has convex/].
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// Print the diagnoses as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: DoctorArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let flags = EngineFlags {
        schema_dir: args.schema_dir.as_deref(),
        ..EngineFlags::default()
    };
    let engine = Engine::for_command(config, flags, SchemaNeed::Required)?;
    let Some(component) = engine.component() else {
        return Ok(ExitCode::from(2));
    };
    let diagnoses = doctor::diagnose(&component.model);
    if args.json {
        crate::outln!("{}", serde_json::to_string_pretty(&diagnoses)?)?;
    } else if diagnoses.is_empty() {
        crate::outln!(
            "{}: no index problems found",
            component.schema.path.display()
        )?;
    } else {
        for d in &diagnoses {
            crate::outln!("{}", d.describe())?;
        }
    }
    if let schema::Layout::Generated = component.layout {
        crate::errln!(
            "note: {} is the generated file; run `ba-index-advisor init` before adding indexes",
            component.schema.path.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

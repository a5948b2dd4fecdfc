//! `init`: converts a generated `schema.ts` into the documented overlay layout.

use crate::commands::engine_args::EngineArgs;
use crate::config::Config;
use crate::engine::EngineSettings;
use crate::schema::{self, init};
use anyhow::Context;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  ba-index-advisor init --schema-dir convex/betterAuth")]
pub struct InitArgs {
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: InitArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let flags = args.engine.flags(None);
    let settings = EngineSettings::resolve(config, flags, cwd);
    let result = schema::find_dir(settings.schema_dir.as_deref(), &settings.cwd)
        .and_then(|dir| {
            let held = schema::lock::acquire(&dir)?;
            schema::load(&dir).map(|component| (held, component))
        })
        .and_then(|(_held, component)| {
            let conversion = init::plan(&component)?;
            if let Some(conversion) = &conversion {
                init::commit(&component.schema, conversion)?;
            }
            Ok((component, conversion))
        });
    match result {
        Ok((component, None)) => {
            crate::errln!(
                "{} already is an overlay: nothing to do",
                component.schema.path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Ok((component, Some(conversion))) => {
            crate::errln!(
                "moved the generated schema to {}\n{} now spreads its tables: defineSchema({{ ...tables }})\n\
                 From now on, regenerate into the new file (from {}):\n  {}\n  or, with the older CLI: {}",
                conversion.generated_path.display(),
                component.schema.path.display(),
                component.dir.display(),
                init::REGENERATE[0],
                init::REGENERATE[1],
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            crate::errln!("{}", err.render());
            Ok(ExitCode::from(2))
        }
    }
}

//! `config`: prints the effective configuration as TOML, each value marked with its origin.

use crate::config::{Config, FILE_NAME, toml_string};
use clap::Args;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor config\n  \
    ba-index-advisor config --config ci/ba-index-advisor.toml\n\n\
    Flags given to a command override these values for that run.")]
pub struct ConfigArgs {}

fn origin(from_file: bool) -> &'static str {
    if from_file {
        "# from the file"
    } else {
        "# default"
    }
}

fn path_line(out: &mut String, key: &str, value: Option<&Path>, unset: &str) {
    match value {
        Some(path) => writeln!(
            out,
            "{key} = {}  # from the file",
            toml_string(&path.display().to_string())
        ),
        None => writeln!(out, "# {key}: not set ({unset})"),
    }
    .ok();
}

/// The effective configuration as TOML (it loads back as an equivalent file).
pub fn render(config: &Config, cwd: &Path) -> String {
    let mut out = String::new();
    match &config.path {
        Some(path) => writeln!(out, "# configuration file: {}", path.display()),
        None => writeln!(
            out,
            "# no {FILE_NAME} at or above {}: the defaults",
            cwd.display()
        ),
    }
    .ok();
    // Named as discovery finds it here: `convex/auth` when convex.config.ts registers that.
    let discovered = match crate::schema::find_dir(None, cwd) {
        Ok(dir) => format!("discovered {}", crate::schema::display_path(&dir)),
        Err(_) => "none found: convex/betterAuth in the nearest folder with convex/, or the \
                   local component convex/convex.config.ts registers"
            .to_owned(),
    };
    path_line(
        &mut out,
        "schema_dir",
        config.schema_dir.as_deref(),
        &discovered,
    );
    path_line(
        &mut out,
        "rules_dir",
        config.rules_dir.as_deref(),
        "the built-in rules only",
    );
    writeln!(
        out,
        "min_count = {}  {}",
        config.min_count.unwrap_or(1),
        origin(config.min_count.is_some())
    )
    .ok();
    writeln!(
        out,
        "merge = {}  {}",
        config.merge.unwrap_or(true),
        origin(config.merge.is_some())
    )
    .ok();
    let watch = &config.watch;
    writeln!(out, "\n[watch]").ok();
    writeln!(
        out,
        "prod = {}  {}",
        watch.prod.unwrap_or(false),
        origin(watch.prod.is_some())
    )
    .ok();
    let text_line = |out: &mut String, key: &str, value: Option<String>, unset: &str| {
        match value {
            Some(value) => writeln!(out, "{key} = {value}  # from the file"),
            None => writeln!(out, "# {key}: not set ({unset})"),
        }
        .ok();
    };
    text_line(
        &mut out,
        "deployment",
        watch.deployment.as_deref().map(toml_string),
        "the one the project's env file selects",
    );
    text_line(
        &mut out,
        "history",
        watch.history.map(|h| h.to_string()),
        "no earlier entries",
    );
    path_line(
        &mut out,
        "env_file",
        watch.env_file.as_deref(),
        "the Convex CLI's default",
    );
    text_line(
        &mut out,
        "cmd",
        watch.cmd.as_deref().map(toml_string),
        "npx convex logs --jsonl",
    );
    if config.ignore.is_empty() {
        writeln!(out, "\n# no [[ignore]] entries").ok();
    }
    for entry in &config.ignore {
        let fields: Vec<String> = entry.fields.iter().map(|f| toml_string(f)).collect();
        writeln!(
            out,
            "\n[[ignore]]\ntable = {}\nfields = [{}]\nreason = {}",
            toml_string(&entry.table),
            fields.join(", "),
            toml_string(&entry.reason)
        )
        .ok();
    }
    out
}

pub fn run(_args: ConfigArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(render(config, &cwd).as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

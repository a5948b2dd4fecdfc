//! `ignore`: records a declined suggestion as an `[[ignore]]` entry in `ba-index-advisor.toml`,
//! appending to the file so its formatting and comments stay byte for byte.

use crate::atomic_write::{self, Expect};
use crate::config::{self, IgnoreEntry};
use crate::ingest::child::find_project_root;
use anyhow::Context;
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor ignore verification identifier --reason \"a handful of rows, cleaned hourly\"\n  \
    ba-index-advisor ignore session userId expiresAt --reason \"admin-only query\"\n\n\
    The entry goes to the file --config names, else the nearest ba-index-advisor.toml, else a new \
    one in the project root (the nearest folder with convex/). Ignoring the same table and fields \
    again changes nothing.")]
pub struct IgnoreArgs {
    /// The table, as the warning prints it.
    #[arg(value_name = "TABLE")]
    pub table: String,
    /// The fields, in the warning's order.
    #[arg(value_name = "FIELD", required = true)]
    pub fields: Vec<String>,
    /// Why the suggestion is declined; shown beside it in every report.
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

pub fn run(args: IgnoreArgs, explicit: Option<&Path>) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let path = match explicit {
        Some(path) => cwd.join(path),
        None => config::discover(&cwd).unwrap_or_else(|| {
            find_project_root(&cwd)
                .unwrap_or_else(|| cwd.clone())
                .join(config::FILE_NAME)
        }),
    };
    let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err).with_context(|| format!("{}: cannot read", path.display())),
    };
    let entry = IgnoreEntry {
        table: args.table,
        fields: args.fields,
        reason: args.reason,
    };
    let described = format!("{} [{}]", entry.table, entry.fields.join(", "));
    match config::append_ignore(&path, &text, &entry) {
        Err(err) => {
            crate::errln!("error: {err}");
            Ok(ExitCode::from(2))
        }
        Ok(None) => {
            crate::errln!("{described} is already ignored in {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Ok(Some(updated)) => {
            let expect = if text.is_empty() && !path.exists() {
                Expect::Absent
            } else {
                Expect::Unchanged {
                    text: text.as_bytes(),
                    modified,
                }
            };
            atomic_write::replace(&path, updated.as_bytes(), expect)?;
            crate::errln!("ignored {described} in {}", path.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

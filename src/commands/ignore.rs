//! `ignore`: records a declined suggestion as an `[[ignore]]` entry in `ba-index-advisor.toml`,
//! appending to the file so its formatting and comments stay byte for byte; `--remove` takes
//! one out the same way. A new entry is checked first: against the schema, and against the
//! order Better Auth prints fields in, so that it can match a warning at all.

use crate::advise::query::{is_printable, printable_described};
use crate::advise::status::classify;
use crate::atomic_write::{self, Expect};
use crate::commands::engine_args::EngineArgs;
use crate::config::{self, Config, IgnoreEntry};
use crate::console::err_fitted;
use crate::document::FindingStatus;
use crate::engine::{Engine, SchemaNeed};
use crate::schema::SchemaModel;
use crate::schema::locate::project_root;
use anyhow::Context;
use clap::Args;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor ignore verification identifier --reason \"a handful of rows, cleaned hourly\"\n  \
    ba-index-advisor ignore session userId expiresAt --reason \"admin-only query\"\n  \
    ba-index-advisor ignore --remove session userId expiresAt\n\n\
    The entry goes to the file --config names, else the nearest ba-index-advisor.toml, else a new \
    one in the project root (the nearest folder with convex/). Ignoring the same table and fields \
    again changes nothing.\n\n\
    Before writing, the table and fields are looked up in the Better Auth schema (refused with \
    near matches when unknown; written with a note when there is no schema to check), and the \
    list must be one Better Auth can print: equality fields in localeCompare order, then at most \
    one range or sort field. --force writes it anyway.")]
pub struct IgnoreArgs {
    /// The table, as the warning prints it.
    #[arg(value_name = "TABLE")]
    pub table: String,
    /// The fields, in the warning's order.
    #[arg(value_name = "FIELD", required = true)]
    pub fields: Vec<String>,
    /// Why the suggestion is declined; shown beside it in every report.
    #[arg(
        long,
        value_name = "TEXT",
        required_unless_present = "remove",
        value_parser = non_blank
    )]
    pub reason: Option<String>,
    /// Delete the entry for TABLE and FIELDs instead, keeping every other byte of the file.
    #[arg(long, conflicts_with_all = ["reason", "force"])]
    pub remove: bool,
    /// Write the entry even when the table, a field or the field order does not check out.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// A reason is shown beside the suggestion in every report; an empty one says nothing.
fn non_blank(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        Err("the reason must say why the suggestion is declined".into())
    } else {
        Ok(text.to_owned())
    }
}

pub fn run(args: IgnoreArgs, explicit: Option<&Path>) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let path = match explicit {
        Some(path) => cwd.join(path),
        None => config::discover(&cwd).unwrap_or_else(|| {
            project_root(&cwd)
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
    let described = format!("{} [{}]", args.table, args.fields.join(", "));
    let expect = Expect::Unchanged {
        text: text.as_bytes(),
        modified,
    };
    if args.remove {
        if !path.exists() {
            err_fitted(&format!(
                "error: {} does not exist; {described} is not ignored",
                path.display()
            ));
            return Ok(ExitCode::from(2));
        }
        return match config::remove_ignore(&path, &text, &args.table, &args.fields) {
            Err(err) => {
                crate::errln!("error: {err}");
                Ok(ExitCode::from(2))
            }
            Ok(updated) => {
                atomic_write::replace(&path, updated.as_bytes(), expect)?;
                err_fitted(&format!(
                    "{described} is no longer ignored in {}",
                    path.display()
                ));
                Ok(ExitCode::SUCCESS)
            }
        };
    }
    let Some(reason) = args.reason else {
        // clap requires --reason without --remove.
        return Ok(ExitCode::from(2));
    };
    // The file being written is the configuration: its `schema_dir` says where the schema is.
    let config = match config::parse(&path, &text) {
        Ok(_) if path.exists() => Config::read(&path)?,
        Ok(_) => Config::default(),
        Err(err) => {
            crate::errln!("error: {err}");
            return Ok(ExitCode::from(2));
        }
    };
    let flags = args.engine.flags(None);
    let engine = match Engine::for_command(&config, flags, SchemaNeed::Optional) {
        Ok(engine) => Some(engine),
        // With --force an unreadable schema does not stop the entry; it is only not checked.
        Err(err) if args.force => {
            crate::errln!("warning: {err}");
            None
        }
        Err(err) => return Err(err.into()),
    };
    let mut refusals = Vec::new();
    match engine.as_ref().and_then(Engine::component) {
        Some(component) => refusals.extend(unknown(&component.model, &args.table, &args.fields)),
        None => err_fitted(&format!(
            "note: no Better Auth schema found (pass --schema-dir); {described} could not be \
             checked against it"
        )),
    }
    if !is_printable(&args.fields) {
        refusals.push(format!(
            "Better Auth never prints {described}: it lists the equality fields in localeCompare \
             order, then at most one range or sort field (never createdAt), so no warning can \
             match this entry. For these fields it prints {}",
            printable_described(&args.fields).join(", or ")
        ));
    }
    if !refusals.is_empty() {
        let (level, code) = if args.force {
            ("warning", None)
        } else {
            ("error", Some(ExitCode::from(2)))
        };
        for refusal in &refusals {
            err_fitted(&format!("{level}: {refusal}"));
        }
        if let Some(code) = code {
            err_fitted("nothing was written; --force writes the entry anyway");
            return Ok(code);
        }
    }
    let entry = IgnoreEntry {
        table: args.table,
        fields: args.fields,
        reason,
    };
    match config::append_ignore(&path, &text, &entry) {
        Err(err) => {
            crate::errln!("error: {err}");
            Ok(ExitCode::from(2))
        }
        Ok(None) => {
            err_fitted(&format!(
                "{described} is already ignored in {}",
                path.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        Ok(Some(updated)) => {
            let expect = if text.is_empty() && !path.exists() {
                Expect::Absent
            } else {
                expect
            };
            atomic_write::replace(&path, updated.as_bytes(), expect)?;
            err_fitted(&format!("ignored {described} in {}", path.display()));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Why the table or a field is not in the schema, with near matches: the engine's own
/// classification of the list, worded as a refusal.
fn unknown(model: &SchemaModel, table: &str, fields: &[String]) -> Vec<String> {
    let did_you_mean = |near: &[String]| match near {
        [] => String::new(),
        near => format!(
            "; did you mean {}?",
            near.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        ),
    };
    match classify(table, fields, false, model) {
        FindingStatus::UnknownTable { near, .. } => vec![format!(
            "the schema has no table `{table}`{}",
            did_you_mean(&near)
        )],
        FindingStatus::UnknownField { fields } => fields
            .iter()
            .map(|f| {
                format!(
                    "{table} has no field `{}`{}",
                    f.field,
                    did_you_mean(&f.near)
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

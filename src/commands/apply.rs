//! `apply`: writes the planned indexes into the overlay `schema.ts`, from logs or a saved report.

use crate::advise::{self, PlanOptions, Query, QueryShape};
use crate::schema::{self, SchemaError, overlay, write};
use anyhow::Context;
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  ba-index-advisor apply sample-logs/\n  \
    ba-index-advisor report logs.txt --format json > report.json\n  \
    ba-index-advisor apply --from-report report.json --dry-run\n\n\
    Exit codes: 0 done (or nothing to change); 1 --check and changes would be made; \
    2 usage or input error, or a refused edit.")]
pub struct ApplyArgs {
    /// Log files or directories, as for `report`.
    #[arg(value_name = "LOGS", conflicts_with = "from_report")]
    pub logs: Vec<PathBuf>,
    /// Read the findings from a saved `report --format json` instead of logs.
    #[arg(long, value_name = "FILE")]
    pub from_report: Option<PathBuf>,
    /// Print the unified diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write nothing; exit 1 when changes would be made (for CI).
    #[arg(long)]
    pub check: bool,
    /// The Better Auth component folder [default: convex/betterAuth in the current directory or
    /// the nearest ancestor that has convex/].
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// One index per list, even when a longer list begins with it.
    #[arg(long)]
    pub no_merge: bool,
}

/// A suggestion read back from a saved report: the stable JSON fields `apply` needs.
#[derive(Debug, Clone, Deserialize)]
pub struct SavedSuggestion {
    pub table: String,
    pub fields: Vec<String>,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub legacy_underscore: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedPlanned {
    pub table: String,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SavedReport {
    #[serde(default)]
    pub suggestions: Vec<SavedSuggestion>,
    #[serde(default)]
    pub plan: Vec<SavedPlanned>,
}

impl QueryShape for SavedSuggestion {
    fn table(&self) -> &str {
        &self.table
    }
    fn fields(&self) -> &[String] {
        &self.fields
    }
}

impl Query for SavedSuggestion {
    fn legacy(&self) -> bool {
        self.legacy_underscore > 0
    }
}

/// The lists a saved report asks for: its suggestions, or its plan when it has none.
pub fn read_report(path: &Path) -> anyhow::Result<Vec<SavedSuggestion>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read the report", path.display()))?;
    let report: SavedReport = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a `report --format json` document", path.display()))?;
    if report.suggestions.is_empty() {
        return Ok(report
            .plan
            .into_iter()
            .map(|p| SavedSuggestion {
                table: p.table,
                fields: p.fields,
                count: 0,
                legacy_underscore: 0,
            })
            .collect());
    }
    Ok(report.suggestions)
}

/// The single place where `apply` reads logs: through the report pipeline.
fn suggestions_from_logs(paths: &[PathBuf]) -> anyhow::Result<Vec<SavedSuggestion>> {
    let _ = paths;
    // Wired to `commands::report::analyze(paths, &options) -> Report` once the pipeline lands:
    // map `report.suggestions` (Finding) to SavedSuggestion { table, fields, count,
    // legacy_underscore }.
    anyhow::bail!(
        "reading logs directly is not available in this build yet; run \
         `report --format json > report.json` and then `apply --from-report report.json`"
    )
}

pub fn run(args: ApplyArgs) -> anyhow::Result<ExitCode> {
    let queries = match &args.from_report {
        Some(path) => read_report(path)?,
        None if args.logs.is_empty() => {
            anyhow::bail!("give log files, or --from-report FILE")
        }
        None => suggestions_from_logs(&args.logs)?,
    };
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    match execute(&args, &queries, &cwd) {
        Ok(code) => Ok(code),
        Err(err) => {
            eprintln!("{}", err.render());
            Ok(ExitCode::from(2))
        }
    }
}

fn execute(
    args: &ApplyArgs,
    queries: &[SavedSuggestion],
    cwd: &Path,
) -> Result<ExitCode, SchemaError> {
    let dir = schema::find_dir(args.schema_dir.as_deref(), cwd)?;
    let component = schema::load(&dir)?;
    if let schema::Layout::Generated = component.layout {
        return Err(SchemaError::Generated {
            path: component.schema.path.clone(),
            steps: overlay::generated_steps(),
        });
    }
    let options = PlanOptions {
        merge: !args.no_merge,
    };
    let (statuses, plan) = advise::advise(queries, &component.model, options);
    for (q, status) in queries.iter().zip(&statuses) {
        eprintln!(
            "{} [{}]: {}",
            q.table,
            q.fields.join(", "),
            status.describe()
        );
    }
    let additions = advise::status::additions(&plan);
    let label = dir.join("schema.ts").display().to_string();
    let Some(change) = overlay::prepare(&component, &additions)? else {
        eprintln!("{label}: nothing to change");
        return Ok(ExitCode::SUCCESS);
    };
    if args.dry_run || args.check {
        print!("{}", change.unified_diff(&label));
        return Ok(if args.check {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        });
    }
    write::commit(&component.schema, &change.after)?;
    for index in &change.added {
        eprintln!(
            "added {}.{} [{}]",
            index.table,
            index.name,
            index.fields.join(", ")
        );
    }
    eprintln!("{label}: written; run `npx convex dev` (or deploy) to build the indexes");
    Ok(ExitCode::SUCCESS)
}

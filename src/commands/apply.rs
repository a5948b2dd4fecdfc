//! `apply`: writes the planned indexes into the overlay `schema.ts`, from logs or a saved report.

use crate::advise::{self, PlanOptions, Query, QueryShape};
use crate::aggregate::Ignored;
use crate::commands::report::{AnalyzeOptions, analyze};
use crate::config::{Config, Dismissals};
use crate::schema::{self, SchemaError, lock, overlay, write};
use crate::signal::SignalKind;
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
    /// Extra rule files (`*.toml`) added to the built-in ones, when reading logs.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
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
    #[serde(default)]
    pub kinds: Vec<SignalKind>,
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
    fn may_involve_created_at(&self) -> bool {
        self.kinds.is_empty() || self.kinds.contains(&SignalKind::MissingIndexWarning)
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
                kinds: Vec::new(),
            })
            .collect());
    }
    Ok(report.suggestions)
}

/// The single place where `apply` reads logs: through the report pipeline, told the schema's
/// tables so it can split dotless error messages.
fn suggestions_from_logs(
    args: &ApplyArgs,
    config: &Config,
    model: &schema::SchemaModel,
) -> anyhow::Result<Vec<SavedSuggestion>> {
    let options = AnalyzeOptions {
        rules_dir: Config::path_or(args.rules.as_deref(), config.rules_dir.as_deref()),
        plan: plan_options(args, config),
        schema_tables: Some(model.table_names()),
        dismissals: config.dismissals(),
    };
    let report = analyze(&args.logs, &options).context("cannot load rules")?;
    for error in &report.stats.errors {
        eprintln!("warning: {error}");
    }
    report_ignored(&report.ignored);
    Ok(report
        .suggestions
        .into_iter()
        .map(|f| SavedSuggestion {
            table: f.table,
            fields: f.fields,
            count: f.count,
            legacy_underscore: f.legacy_underscore,
            kinds: f.kinds,
        })
        .collect())
}

fn plan_options(args: &ApplyArgs, config: &Config) -> PlanOptions {
    PlanOptions {
        merge: config.merge(args.no_merge),
    }
}

fn report_ignored(ignored: &[Ignored]) {
    for item in ignored {
        eprintln!(
            "{} [{}]: not added: {}",
            item.table,
            item.fields.join(", "),
            item.reason
        );
    }
}

/// A saved report's suggestions less the dismissed ones (the file may predate an `ignore`).
fn dismiss_saved(queries: Vec<SavedSuggestion>, dismissals: &Dismissals) -> Vec<SavedSuggestion> {
    let mut ignored = Vec::new();
    let kept = queries
        .into_iter()
        .filter(|q| match dismissals.reason(&q.table, &q.fields, q.count) {
            Some(reason) => {
                ignored.push(Ignored {
                    table: q.table.clone(),
                    fields: q.fields.clone(),
                    count: q.count,
                    reason,
                    samples: Vec::new(),
                });
                false
            }
            None => true,
        })
        .collect();
    report_ignored(&ignored);
    kept
}

pub fn run(args: ApplyArgs, config: &Config) -> anyhow::Result<ExitCode> {
    if args.from_report.is_none() && args.logs.is_empty() {
        anyhow::bail!("give log files, or --from-report FILE");
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let schema_dir = Config::path_or(args.schema_dir.as_deref(), config.schema_dir.as_deref());
    let found = schema::find_dir(schema_dir.as_deref(), &cwd)
        .and_then(|dir| schema::load(&dir).map(|component| (dir, component)));
    let (dir, component) = match found {
        Ok(found) => found,
        Err(err) => {
            eprintln!("{}", err.render());
            return Ok(ExitCode::from(2));
        }
    };
    let queries = match &args.from_report {
        Some(path) => dismiss_saved(read_report(path)?, &config.dismissals()),
        None => suggestions_from_logs(&args, config, &component.model)?,
    };
    let options = plan_options(&args, config);
    let result = if args.dry_run || args.check {
        execute(&args, options, &queries, &component)
    } else {
        // Plan and write under the folder's lock, against the schema as it is now: another
        // `apply` or `watch --write` may have added indexes while the logs were being read.
        lock::acquire(&dir).and_then(|_held| {
            let component = schema::load(&dir)?;
            execute(&args, options, &queries, &component)
        })
    };
    match result {
        Ok(code) => Ok(code),
        Err(err) => {
            eprintln!("{}", err.render());
            Ok(ExitCode::from(2))
        }
    }
}

fn execute(
    args: &ApplyArgs,
    options: PlanOptions,
    queries: &[SavedSuggestion],
    component: &schema::Component,
) -> Result<ExitCode, SchemaError> {
    if let schema::Layout::Generated = component.layout {
        return Err(SchemaError::Generated {
            path: component.schema.path.clone(),
            steps: overlay::generated_steps(),
        });
    }
    let (statuses, plan) = advise::advise(queries, &component.model, options);
    if queries.is_empty() {
        eprintln!("no missing-index findings");
    }
    for (q, status) in queries.iter().zip(&statuses) {
        eprintln!(
            "{} [{}]: {}",
            q.table,
            q.fields.join(", "),
            status.describe()
        );
    }
    let additions = advise::status::additions(&plan.indexes);
    let label = schema::display_path(&component.schema.path);
    let Some(change) = overlay::prepare(component, &additions)? else {
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

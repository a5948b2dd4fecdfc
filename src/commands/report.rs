//! `report`: read log dumps, print findings and the index plan.

use crate::advise::{PlanOptions, build_plan};
use crate::aggregate::Aggregator;
use crate::config::{Config, Dismissals};
use crate::frame::Event;
use crate::ingest;
use crate::parse::Matcher;
use crate::parse::rules::{RuleError, RuleSet};
use crate::report::{self, Report, Stats};
use anyhow::Context;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor report sample-logs/\n  \
    npx convex logs --history --jsonl | ba-index-advisor report - --format json\n  \
    ba-index-advisor report logs.txt.gz --fail-on-suggestions")]
pub struct ReportArgs {
    /// Files, directories (recursed for *.log, *.jsonl, *.json, *.txt, *.gz) or `-` for stdin.
    #[arg(value_name = "PATHS|-", default_value = "-")]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Extra rule files (`*.toml`) added to the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// Keep one index per finding instead of merging prefixes into longer indexes.
    #[arg(long)]
    pub no_merge: bool,
    /// Exit 1 when there are suggestions (for CI checks).
    #[arg(long)]
    pub fail_on_suggestions: bool,
    /// The Better Auth component folder, to mark each finding against the schema [default:
    /// convex/betterAuth in the current directory or the nearest ancestor with convex/, if any].
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
}

/// What `analyze` needs besides the inputs.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    pub rules_dir: Option<PathBuf>,
    pub plan: PlanOptions,
    /// Tables of the user's schema, when known: they split dotless error messages.
    pub schema_tables: Option<Vec<String>>,
    /// `[[ignore]]` entries and `min_count`: moved from the suggestions to `ignored`.
    pub dismissals: Dismissals,
}

/// Loads the built-in rules plus `rules_dir`.
pub fn load_rules(rules_dir: Option<&Path>) -> Result<RuleSet, RuleError> {
    let mut rules = RuleSet::embedded()?;
    if let Some(dir) = rules_dir {
        rules.extend_from_dir(dir)?;
        tracing::info!("rules extended from {}", dir.display());
    }
    Ok(rules)
}

/// Reads every input and builds the report. Input problems are collected in
/// `stats.errors`; only a bad rule file is an error.
pub fn analyze(paths: &[PathBuf], options: &AnalyzeOptions) -> Result<Report, RuleError> {
    let matcher = Matcher::new(
        load_rules(options.rules_dir.as_deref())?,
        options.schema_tables.clone(),
    );
    let (inputs, mut errors) = ingest::expand(paths);
    tracing::debug!("{} input(s) to read", inputs.len());
    let mut aggregator = Aggregator::default();
    let mut stats = Stats::default();
    let mut legacy = 0u64;
    let mut cached_replays = 0u64;
    for input in &inputs {
        let mut on_event = |event: Event| match event {
            Event::Signal(signal) => {
                legacy += u64::from(signal.legacy_underscore);
                aggregator.add(&signal);
            }
            Event::Suspect(suspect) => stats.suspect_samples.push(suspect),
            Event::Problem { .. } => {}
        };
        let (counts, problems) = ingest::scan(input, &matcher, &mut on_event);
        tracing::debug!(
            "read {} line(s), {} record(s) from {}",
            counts.lines,
            counts.records,
            input.name()
        );
        stats.inputs += 1;
        stats.bytes += counts.bytes;
        stats.lines += counts.lines;
        stats.records += counts.records;
        stats.suspects += counts.suspects;
        cached_replays += counts.cached_replays;
        errors.extend(problems);
    }
    stats.suspect_samples.truncate(5);
    stats.signals = aggregator.signals();
    stats.errors = errors.iter().map(ToString::to_string).collect();
    let (suggestions, ignored) = aggregator.finish();
    let plan = build_plan(&suggestions, options.plan).indexes;
    let mut notes = Vec::new();
    if legacy > 0 {
        notes.push(format!(
            "{legacy} warning(s) list `_`-prefixed fields: they come from @convex-dev/better-auth < 0.11.2, \
             where no index can silence an equality + range/sort warning. The plan uses the real field \
             names; upgrade the component to >= 0.11.2 for the indexes to take effect."
        ));
    }
    if cached_replays > 0 {
        notes.push(format!(
            "{cached_replays} cached query result(s) replayed earlier log lines; they were not counted again."
        ));
    }
    let mut report = Report {
        version: report::SCHEMA_VERSION,
        suggestions,
        plan,
        ignored,
        notes,
        stats,
    };
    options.dismissals.apply_to(&mut report, options.plan);
    Ok(report)
}

pub fn run(args: ReportArgs, config: &Config) -> anyhow::Result<ExitCode> {
    if args.paths.iter().any(|p| p.as_os_str() == "-")
        && std::io::IsTerminal::is_terminal(&std::io::stdin())
    {
        anyhow::bail!(
            "no input: give log files or directories, or pipe logs in \
             (e.g. `npx convex logs --history --jsonl | ba-index-advisor report -`)"
        );
    }
    let cwd = std::env::current_dir().context("cannot read the current directory")?;
    let schema_dir = Config::path_or(args.schema_dir.as_deref(), config.schema_dir.as_deref());
    let component = crate::schema::locate::discover(schema_dir.as_deref(), &cwd)
        .map_err(|err| anyhow::anyhow!(err.render()))?;
    match &component {
        Some(c) => tracing::info!("schema {}", c.schema.path.display()),
        None => tracing::info!("no Better Auth schema found; findings are not checked against one"),
    }
    let options = AnalyzeOptions {
        rules_dir: Config::path_or(args.rules.as_deref(), config.rules_dir.as_deref()),
        plan: PlanOptions {
            merge: config.merge(args.no_merge),
        },
        schema_tables: component.as_ref().map(|c| c.model.table_names()),
        dismissals: config.dismissals(),
    };
    let mut report = analyze(&args.paths, &options).context("cannot load rules")?;
    if let Some(component) = &component {
        crate::advise::annotate(&mut report, &component.model, options.plan);
    }
    let stdout = std::io::stdout();
    let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
    let rendered = match args.format {
        Format::Table => report::table::render(&report, color),
        Format::Json => report::json::render(&report),
        Format::Markdown => report::markdown::render(&report),
    };
    let mut out = stdout.lock();
    out.write_all(rendered.as_bytes())?;
    out.flush()?;
    for error in &report.stats.errors {
        eprintln!("error: {error}");
    }
    Ok(if !report.stats.errors.is_empty() {
        ExitCode::from(2)
    } else if args.fail_on_suggestions && !report.suggestions.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

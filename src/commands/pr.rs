//! `pr`: comment the index suggestions on a pull request (one comment, kept up to date) and write
//! the same markdown to the GitHub Actions job summary.

use crate::commands::engine_args::EngineArgs;
use crate::commands::gate::{self, GateArgs};
use crate::config::Config;
use crate::document::{Report, SchemaLayout};
use crate::engine::{Engine, SchemaNeed};
use crate::env;
use crate::github::{self, GitHub, RepoName, Secret, Upsert, actions};
use crate::insights;
use crate::render::comment::{self, CommentContext};
use crate::render::next::{self, Invocation};
use anyhow::{Context, bail};
use clap::Args;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the comment says the overlay schema is, unless `--schema-dir` says otherwise.
const DEFAULT_SCHEMA_PATH: &str = "convex/betterAuth/schema.ts";
/// The log dump the comment's command names: what `npx convex logs --history --jsonl` saves.
const READER_LOGS: &str = "convex-logs.jsonl";

#[derive(Debug, Args)]
#[command(
    after_help = "In GitHub Actions no flag is needed: GITHUB_TOKEN, GITHUB_REPOSITORY, \
                        GITHUB_EVENT_PATH (the pull-request number), GITHUB_API_URL and \
                        GITHUB_STEP_SUMMARY are read from the environment.\n\n\
                        Example:\n  ba-index-advisor pr convex-logs.jsonl --fail-on-suggestions\n  \
                        ba-index-advisor pr --from-report report.json --dry-run"
)]
pub struct PrArgs {
    /// Log files or directories, as for `report`; `-` (the default) for stdin.
    #[arg(value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
    /// Use a saved `report --format json` instead of reading logs.
    #[arg(long, value_name = "FILE", conflicts_with = "logs")]
    pub from_report: Option<PathBuf>,
    /// Repository as OWNER/NAME [default: $GITHUB_REPOSITORY].
    #[arg(long, value_name = "OWNER/NAME")]
    pub repo: Option<RepoName>,
    /// Pull-request number [default: from the event in $GITHUB_EVENT_PATH].
    #[arg(long, value_name = "NUMBER")]
    pub pr: Option<u64>,
    /// REST API base URL [default: $GITHUB_API_URL, else https://api.github.com].
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// Name of the environment variable holding the token.
    #[arg(long, value_name = "NAME", default_value = "GITHUB_TOKEN")]
    pub token_env: String,
    /// The saved output of `npx convex insights --json --details` (`-`: stdin): show which
    /// suggestion is behind which insight.
    #[arg(long, value_name = "FILE|-")]
    pub insights: Option<PathBuf>,
    /// Print the comment to stdout; post nothing and write no job summary.
    #[arg(long)]
    pub dry_run: bool,
    /// Exit 1 when indexes are left to add (a blocking check).
    #[arg(long)]
    pub fail_on_suggestions: bool,
    /// Add the indexes the installed Better Auth code will need (as `predict` finds them), so a
    /// pull request that enables a plugin gets its indexes; without logs, only those.
    #[arg(long)]
    pub predict: bool,
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: PrArgs, config: &Config) -> anyhow::Result<ExitCode> {
    if args.from_report.is_none() {
        insights::check_stdin(args.insights.as_deref(), &log_inputs(&args))?;
    }
    let flags = args.engine.flags(args.insights.as_deref());
    let mut engine = Engine::for_command(config, flags, SchemaNeed::Optional)?;
    if args.predict {
        engine.predict()?;
    }
    let predict_only = args.predict && args.logs.is_empty() && args.from_report.is_none();
    let report = if predict_only {
        engine.conclude(&crate::engine::Collected::default())
    } else {
        load_report(&args, &engine)?
    };
    // The exact diff where `apply` can write one; otherwise the comment shows the plan.
    let diff = match &report.schema {
        Some(schema) if schema.layout == SchemaLayout::Overlay => Some(
            engine
                .change(&report)?
                .map(|change| change.unified_diff(&schema.path))
                .unwrap_or_default(),
        ),
        _ => None,
    };
    let schema_path = report
        .schema
        .as_ref()
        .map_or(DEFAULT_SCHEMA_PATH, |s| s.path.as_str());
    // The reader applies it in their own checkout, on a log dump of their own: not the CI
    // run's paths, which exist only on the runner.
    // The schema folder too, as the checkout names it: a runner's absolute path is dropped.
    let own_logs = [std::path::PathBuf::from(READER_LOGS)];
    let schema_dir = args
        .engine
        .schema_dir
        .as_deref()
        .map(crate::schema::display_path)
        .filter(|dir| !std::path::Path::new(dir).is_absolute())
        .map(std::path::PathBuf::from);
    let invocation = Invocation {
        inputs: &own_logs,
        from_report: None,
        schema_dir: schema_dir.as_deref(),
    };
    let apply = format!("npx {}", next::apply_command(&invocation, None));
    let composed = comment::compose(
        &report,
        CommentContext {
            diff: diff.as_deref(),
            apply_command: &apply,
            schema_path,
        },
    );
    let exit = gate::finish(
        &report,
        args.gate
            .gate(args.fail_on_suggestions, "--fail-on-suggestions"),
    );

    let token = env::nonempty(&args.token_env).map(Secret::new);
    // Logs can quote anything, a token included: nothing the tool prints or posts may carry it.
    let markdown = match &token {
        Some(token) => token.redact(&composed.markdown),
        None => composed.markdown.clone(),
    };

    if args.dry_run {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(markdown.as_bytes())?;
        stdout.flush()?;
        return Ok(exit);
    }

    let summary = actions::write_step_summary(&markdown)?;
    let Some((repo, pr)) = actions::target(args.repo.as_ref(), args.pr)? else {
        crate::errln!(
            "This run is not for a pull request (no pull-request number in the event): nothing \
             posted.{}",
            if summary {
                " The report is in the job summary."
            } else {
                ""
            }
        );
        return Ok(exit);
    };
    let Some(token) = token else {
        bail!(
            "no GitHub token: ${} is empty or unset. In a workflow, pass it with \
             `env: {}: ${{{{ secrets.GITHUB_TOKEN }}}}`, or name another variable with --token-env",
            args.token_env,
            args.token_env
        );
    };
    let api = github::api_url(args.api_url.as_deref());
    let github = GitHub::new(&api, token.clone(), github::retry_policy())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let outcome =
        runtime.block_on(github.upsert_sticky(&repo, pr, &markdown, composed.has_suggestions));
    match outcome {
        Ok(Upsert::Created { id, url }) => {
            crate::errln!(
                "Commented on {repo}#{pr}: {}",
                url.unwrap_or_else(|| format!("comment {id}"))
            );
        }
        Ok(Upsert::Updated { id, url }) => {
            crate::errln!(
                "Updated the comment on {repo}#{pr}: {}",
                url.unwrap_or_else(|| format!("comment {id}"))
            );
        }
        Ok(Upsert::NothingToUpdate) => {
            crate::errln!(
                "All clear on {repo}#{pr}, and no earlier comment to update: nothing posted."
            );
        }
        Err(err) if err.is_forbidden() => {
            let why = token.redact(&err.to_string());
            crate::errln!("warning: {why}");
            if summary {
                actions::write_step_summary(&format!(
                    "> [!WARNING]\n> This report could not be posted on the pull request: {why}\n"
                ))?;
                crate::errln!("The report was written to the job summary instead.");
            } else {
                crate::errln!(
                    "There is no job summary ($GITHUB_STEP_SUMMARY is unset); the report follows."
                );
                std::io::stdout().write_all(markdown.as_bytes())?;
            }
        }
        Err(err) => bail!("{}", token.redact(&err.to_string())),
    }
    Ok(exit)
}

/// The report, from a saved document or from logs (stdin by default). Unreadable inputs fail
/// the run rather than post a comment (or an all-clear) built from part of the logs.
fn load_report(args: &PrArgs, engine: &Engine) -> anyhow::Result<Report> {
    if let Some(path) = &args.from_report {
        // The saved report may predate an `ignore` or the schema's latest indexes.
        return Ok(engine.revise(Engine::read_saved(path)?));
    }
    let report = engine.conclude(&engine.read(&log_inputs(args)));
    if !report.stats.errors.is_empty() && !args.gate.allow_partial {
        gate::finish(
            &report,
            args.gate
                .gate(args.fail_on_suggestions, "--fail-on-suggestions"),
        );
        bail!(
            "{} input(s) could not be read; nothing was posted (--allow-partial posts what was \
             read, with the gaps named)",
            report.stats.errors.len()
        );
    }
    Ok(report)
}

/// The logs to read: stdin when none are named.
fn log_inputs(args: &PrArgs) -> Vec<PathBuf> {
    if args.logs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.logs.clone()
    }
}

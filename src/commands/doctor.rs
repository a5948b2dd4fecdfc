//! `doctor`: static checks of the component's schema, no logs needed; `--check` makes a
//! problem fail the run, for CI.

use crate::advise::doctor;
use crate::commands::engine_args::EngineArgs;
use crate::commands::gate::{self, GateArgs};
use crate::config::Config;
use crate::document::DoctorDocument;
use crate::engine::{Collected, Engine, EngineError, SchemaNeed};
use crate::render::{self, fit};
use crate::schema;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor doctor\n  \
    ba-index-advisor doctor --check --schema-dir convex/betterAuth\n  \
    ba-index-advisor doctor --check --predict\n\n\
    Errors are indexes Convex refuses to deploy: a name or a field list another index on the \
    table already has (as when a regenerated generatedSchema.ts gains an index the overlay \
    adds), an invalid or reserved name, a `_` field, an unknown field, too many fields or \
    indexes. Warnings are indexes Better Auth cannot use or does not need: a generated compound \
    index in an order Better Auth never prints (a list ignored in ba-index-advisor.toml is not \
    reported), an overlay index that is a prefix of another. Each comes with its fix.\n\n\
    When better-auth is installed, doctor also lists the indexes its code will need that the \
    schema lacks (as `predict` does); with --predict they are required and --check fails on \
    them.\n\n\
    Exit codes: 0 no problem, or problems without --check; 1 a problem (or, with --predict, an \
    index the installed code needs) and --check; 2 no schema or an unreadable one, or \
    --predict without the packages installed.")]
pub struct DoctorArgs {
    /// Log files or directories (`-`: stdin): also check that the schema serves every list they
    /// show; with --check an index still to add fails the run, and logs not read in full exit 2.
    #[arg(value_name = "LOGS")]
    pub logs: Vec<PathBuf>,
    #[command(flatten)]
    pub gate: GateArgs,
    /// Print the problems as JSON.
    #[arg(long)]
    pub json: bool,
    /// Exit 1 when a problem (error or warning) is found.
    #[arg(long)]
    pub check: bool,
    /// Require the predictions from the installed Better Auth code: refuse without the
    /// packages, and with --check fail on an index they need.
    #[arg(long)]
    pub predict: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: DoctorArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let flags = args.engine.flags(None);
    let mut engine = Engine::for_command(config, flags, SchemaNeed::Required)?;
    let from_logs = !args.logs.is_empty();
    let collected = if from_logs {
        engine.read(&args.logs)
    } else {
        Collected::default()
    };
    // Without --predict the predictions only inform: what the logs need is judged on the logs
    // alone, so it is concluded before the predictions join every document.
    let logs_only = (from_logs && !args.predict).then(|| engine.conclude(&collected));
    let predicted = match engine.predict() {
        Ok(predicted) => {
            if let Some(unsupported) = &predicted.unsupported {
                crate::errln!("warning: {}", unsupported.message());
            }
            true
        }
        Err(EngineError::Predict(err)) if !args.predict => {
            tracing::info!("no predictions: {err}");
            false
        }
        Err(err) => return Err(err.into()),
    };
    let report = (predicted || from_logs).then(|| engine.conclude(&collected));
    let logs_report = logs_only.or_else(|| report.clone().filter(|_| from_logs));
    let Some(component) = engine.component() else {
        return Ok(ExitCode::from(2));
    };
    let problems = doctor::diagnose(component, &engine.settings().advice.dismissals);
    let predicted_work = report.as_ref().is_some_and(|r| r.has_work());
    let required_work =
        (args.predict && predicted_work) || logs_report.as_ref().is_some_and(|r| r.has_work());
    let text = if args.json && args.predict {
        let report = report.as_ref().expect("--predict requires the predictions");
        format!(
            "{}\n",
            DoctorDocument {
                problems: &problems,
                predictions: &report.predictions,
                plan: &report.plan,
                predicted_from: &report.predicted_from,
            }
            .to_json()?
        )
    } else if args.json {
        format!("{}\n", serde_json::to_string_pretty(&problems)?)
    } else if problems.is_empty() && !predicted_work {
        let line = format!(
            "{}: no index problems found",
            schema::display_path(&component.schema.path)
        );
        let mut text = String::new();
        fit::push_wrapped(&mut text, &line, fit::stdout_width(), "");
        text
    } else {
        let alias = match &component.layout {
            schema::Layout::Overlay { alias, .. } => alias.as_str(),
            schema::Layout::Generated => "tables",
        };
        let width = fit::stdout_width();
        let mut text = render::doctor::text(&problems, alias, width);
        if let Some(report) = report.as_ref().filter(|r| !r.predictions.is_empty()) {
            text.push_str(&render::predictions_section(report, false, width));
            text.push_str("  add them: ba-index-advisor predict --write\n");
        }
        if let Some(report) = &logs_report {
            for index in &report.plan {
                let line = format!(
                    "{}: the logs need index `{}` {}",
                    index.table,
                    index.name,
                    render::describe_fields(&index.fields)
                );
                fit::push_wrapped(&mut text, &line, width, "");
            }
            if let Some((line, _)) = render::coverage(report) {
                fit::push_wrapped(&mut text, &line, width, "");
            }
        }
        text
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()?;
    if let schema::Layout::Generated = component.layout {
        let note = format!(
            "note: {} is the generated file; run `ba-index-advisor init` before adding indexes",
            schema::display_path(&component.schema.path)
        );
        for line in fit::wrap(&note, fit::stderr_width(), "", "  ") {
            crate::errln!("{line}");
        }
    }
    let failed = args.check && (!problems.is_empty() || required_work);
    if let Some(report) = &logs_report {
        // Logs make this a gate over them: the coverage rule decides first.
        let judged = gate::finish(report, args.gate.gate(args.check, "--check"));
        if judged != ExitCode::SUCCESS || !failed {
            return Ok(judged);
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::advise::doctor::{Diagnosis, Fix, Problem, Severity};
    use crate::document::{PackageRef, PlannedIndex};

    #[test]
    fn the_predict_document_prints_as_the_json_map_did() {
        let problems = [Problem {
            severity: Severity::Error,
            diagnosis: Diagnosis::UnknownTable {
                table: "apikey".into(),
            },
            declared: None,
            at: None,
            message: "apikey: no table".into(),
            fix: Fix::Manual {
                hint: "delete it".into(),
            },
        }];
        let plan = [PlannedIndex {
            table: "session".into(),
            name: "userId".into(),
            fields: vec!["userId".into()],
            serves: Vec::new(),
            note: None,
            exact: false,
            extends: None,
        }];
        let from = [PackageRef {
            name: "better-auth".into(),
            version: "1.3.0".into(),
        }];
        let typed = DoctorDocument {
            problems: &problems,
            predictions: &[],
            plan: &plan,
            predicted_from: &from,
        };
        let map = serde_json::json!({
            "problems": problems,
            "predictions": Vec::<crate::document::Prediction>::new(),
            "plan": plan,
            "predicted_from": from,
        });
        assert_eq!(
            typed.to_json().unwrap(),
            serde_json::to_string_pretty(&map).unwrap()
        );
    }
}

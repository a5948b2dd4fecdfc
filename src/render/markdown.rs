//! `--format markdown`: the same report for issues, PRs and job summaries.

use super::next::Step;
use super::snippet::overlay_lines;
use super::table::{callers_summary, via_summary};
use super::{describe_fields, plan_heading, risk_label};
use crate::document::Report;
use std::fmt::Write;

/// Escapes text for a Markdown table cell.
pub(crate) fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

pub(crate) fn render(report: &Report, next: &[Step]) -> String {
    let mut out = String::new();
    writeln!(out, "## Better Auth missing indexes\n").ok();
    out.push_str(&super::markdown_coverage(report));
    let impact = report.suggestions.iter().any(|f| f.impact.is_some());
    if report.suggestions.is_empty() {
        writeln!(out, "No missing-index signals found.").ok();
    } else {
        writeln!(
            out,
            "| # | Risk | Table | Fields | Count | Executions |{} Callers | Via | Status |",
            if impact { " Docs read |" } else { "" }
        )
        .ok();
        writeln!(
            out,
            "|---|---|---|---|---:|---:|{}---|---|---|",
            if impact { "---:|" } else { "" }
        )
        .ok();
        for (i, f) in report.suggestions.iter().enumerate() {
            writeln!(
                out,
                "| {} | {} | `{}` | `{}` | {} | {} |{} {} | {} | {} |",
                i + 1,
                risk_label(f.risk),
                cell(&f.table),
                cell(&describe_fields(&f.fields)),
                f.count,
                f.executions.map_or("-".to_owned(), |n| n.to_string()),
                if impact {
                    format!(" {} |", super::documents_read(f))
                } else {
                    String::new()
                },
                cell(&callers_summary(f, 3)),
                cell(&via_summary(f, 3)),
                cell(
                    &f.status
                        .as_ref()
                        .map_or_else(|| "-".to_owned(), |s| s.describe())
                ),
            )
            .ok();
        }
        if impact && report.suggestions.iter().any(super::near_limit) {
            writeln!(
                out,
                "\n{}",
                super::NEAR_LIMIT_LEGEND.replacen('!', "`!`", 1)
            )
            .ok();
        }
    }
    out.push_str(&super::predictions_section(report, true, None));
    let insights = super::joined_insights(report);
    if !insights.is_empty() {
        writeln!(out, "\n### Insights\n\n{}:\n", super::INSIGHTS_HEADING).ok();
        for (rank, finding, insight) in insights {
            writeln!(
                out,
                "- #{rank} `{}` `{}`: {}",
                cell(&finding.table),
                cell(&describe_fields(&finding.fields)),
                super::describe_insight(insight, &finding.table, true)
            )
            .ok();
        }
    }
    if !report.plan.is_empty() {
        writeln!(out, "\n### Plan\n\n{}:\n\n```ts", plan_heading(report)).ok();
        for line in overlay_lines(&report.plan) {
            writeln!(out, "{line}").ok();
        }
        writeln!(out, "```").ok();
        for index in report.plan.iter().filter(|i| i.note.is_some()) {
            writeln!(
                out,
                "\n- `{}.{}`: {}",
                index.table,
                index.name,
                index.note.as_deref().unwrap_or("")
            )
            .ok();
        }
    }
    if !report.ignored.is_empty() {
        writeln!(out, "\n### Ignored\n").ok();
        for ignored in &report.ignored {
            writeln!(
                out,
                "- `{}` `{}` ×{}: {}",
                cell(&ignored.table),
                cell(&describe_fields(&ignored.fields)),
                ignored.count,
                ignored.reason
            )
            .ok();
        }
    }
    if !report.notes.is_empty() {
        writeln!(out, "\n### Notes\n").ok();
        for note in &report.notes {
            writeln!(out, "- {note}").ok();
        }
    }
    if report.stats.suspects > 0 {
        writeln!(
            out,
            "\n### Suspects\n\n{} line(s) mention a missing index but match no rule:\n",
            report.stats.suspects
        )
        .ok();
        for suspect in &report.stats.suspect_samples {
            writeln!(
                out,
                "- `{}`: `{}`",
                suspect.location,
                cell(&suspect.text).replace('`', "'")
            )
            .ok();
        }
    }
    if !next.is_empty() {
        writeln!(out, "\n### Next\n").ok();
        for step in next {
            match &step.command {
                Some(command) => writeln!(out, "- {}: `{}`", step.why, command.replace('`', "'")),
                None => writeln!(out, "- {}", step.why),
            }
            .ok();
        }
    }
    out
}

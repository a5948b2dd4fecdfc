//! `--format table`: the terminal view.

use super::describe_fields;
use super::snippet::overlay_lines;
use crate::document::{Finding, FindingStatus, Report};
use anstyle::Style;
use std::fmt::Write;
use tabled::settings::Style as TableStyle;
use tabled::{Table, Tabled};

#[derive(Tabled)]
struct Row {
    #[tabled(rename = "#")]
    rank: usize,
    #[tabled(rename = "Risk")]
    risk: String,
    #[tabled(rename = "Table")]
    table: String,
    #[tabled(rename = "Fields")]
    fields: String,
    #[tabled(rename = "Count")]
    count: u64,
    #[tabled(rename = "Execs")]
    executions: String,
    #[tabled(rename = "Callers")]
    callers: String,
    #[tabled(rename = "Status")]
    status: String,
}

pub(super) fn callers_summary(finding: &Finding, shown: usize) -> String {
    let names: Vec<&str> = finding
        .callers
        .iter()
        .chain(&finding.component_functions)
        .map(|c| c.function.as_str())
        .collect();
    let mut unique: Vec<&str> = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        return "-".to_owned();
    }
    let extra = unique.len().saturating_sub(shown) as u64 + finding.other_callers;
    let mut text = unique
        .into_iter()
        .take(shown)
        .map(|name| shorten(name, 44))
        .collect::<Vec<_>>()
        .join(", ");
    if extra > 0 {
        write!(text, " (+{extra})").ok();
    }
    text
}

/// Cuts a cell to `max` characters, marking the cut with `…`.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}

pub fn render(report: &Report, color: bool) -> String {
    let bold = if color {
        Style::new().bold()
    } else {
        Style::new()
    };
    let mut out = String::new();
    let stats = &report.stats;
    writeln!(
        out,
        "{bold}Missing indexes{bold:#}: {} suggestion(s) from {} signal(s) in {} line(s) of {} input(s)",
        report.suggestions.len(),
        stats.signals,
        stats.lines,
        stats.inputs
    )
    .ok();
    if !report.suggestions.is_empty() {
        let rows = report.suggestions.iter().enumerate().map(|(i, f)| Row {
            rank: i + 1,
            risk: super::risk_label(f.risk).to_owned(),
            table: f.table.clone(),
            fields: describe_fields(&f.fields),
            count: f.count,
            executions: f.executions.map_or("-".to_owned(), |n| n.to_string()),
            callers: callers_summary(f, 1),
            status: f
                .status
                .as_ref()
                .map_or_else(|| "-".to_owned(), |s| s.label()),
        });
        writeln!(out, "\n{}", Table::new(rows).with(TableStyle::sharp())).ok();
    }
    if !report.plan.is_empty() {
        writeln!(out, "\n{bold}Plan{bold:#}: {}", super::plan_heading(report)).ok();
        for line in overlay_lines(&report.plan) {
            writeln!(out, "  {line}").ok();
        }
        for index in report.plan.iter().filter(|i| i.note.is_some()) {
            writeln!(
                out,
                "  note: {}.{}: {}",
                index.table,
                index.name,
                index.note.as_deref().unwrap_or_default()
            )
            .ok();
        }
    }
    if !report.ignored.is_empty() {
        writeln!(out, "\n{bold}Ignored{bold:#}").ok();
        for ignored in &report.ignored {
            writeln!(
                out,
                "  {} {} ×{}: {}",
                ignored.table,
                describe_fields(&ignored.fields),
                ignored.count,
                ignored.reason
            )
            .ok();
        }
    }
    let explained: Vec<String> = report
        .suggestions
        .iter()
        .filter_map(|f| {
            f.status
                .as_ref()
                .filter(|s| !matches!(s, FindingStatus::New))
                .map(|s| (f, s))
        })
        .map(|(f, s)| {
            format!(
                "  {} {}: {}",
                f.table,
                describe_fields(&f.fields),
                s.describe()
            )
        })
        .collect();
    if !explained.is_empty() {
        writeln!(out, "\n{bold}Status{bold:#}\n{}", explained.join("\n")).ok();
    }
    for note in &report.notes {
        writeln!(out, "\nnote: {note}").ok();
    }
    if stats.suspects > 0 {
        writeln!(
            out,
            "\n{bold}Suspects{bold:#}: {} line(s) mention a missing index but match no rule (a new upstream format?):",
            stats.suspects
        )
        .ok();
        for suspect in &stats.suspect_samples {
            writeln!(out, "  {}: {}", suspect.location, suspect.text).ok();
        }
    }
    out
}

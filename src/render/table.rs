//! `--format table`: the terminal view.

use super::describe_fields;
use super::fit::{self, push_hanging, push_wrapped};
use super::next::Step;
use super::snippet::overlay_entries;
use crate::document::{Finding, FindingStatus, Report};
use anstyle::Style;
use std::fmt::Write;
use tabled::builder::Builder;
use tabled::settings::Style as TableStyle;

/// The table's columns, as `cells` holds them.
const HEADERS: [&str; COLUMNS] = [
    "#",
    "Risk",
    "Table",
    "Fields",
    "Count",
    "Execs",
    "Docs read",
    "Callers",
    "Via",
    "Status",
];
const COLUMNS: usize = 10;
const RANK: usize = 0;
const RISK: usize = 1;
const TABLE: usize = 2;
const FIELDS: usize = 3;
const EXECS: usize = 5;
const DOCS: usize = 6;
const CALLERS: usize = 7;
const VIA: usize = 8;
const STATUS: usize = 9;

/// What to give up, in order, while the table is wider than the terminal: the least useful
/// columns first, then callers cut short, then the rest cut to a readable minimum.
enum Fit {
    Drop(usize),
    Shrink(usize, usize),
}

const FITTING: [Fit; 12] = [
    Fit::Drop(VIA),
    Fit::Drop(EXECS),
    Fit::Drop(RANK),
    Fit::Shrink(CALLERS, 24),
    Fit::Drop(RISK),
    Fit::Shrink(CALLERS, 12),
    Fit::Drop(CALLERS),
    Fit::Drop(DOCS),
    Fit::Shrink(STATUS, 12),
    Fit::Shrink(FIELDS, 16),
    Fit::Shrink(TABLE, 8),
    Fit::Shrink(STATUS, 6),
];

/// Names, the first `shown` of them, and `(+N)` for the rest.
fn summary<'a>(names: impl Iterator<Item = &'a str>, hidden_extra: u64, shown: usize) -> String {
    let mut unique: Vec<&str> = Vec::new();
    for name in names {
        if !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        return "-".to_owned();
    }
    let extra = unique.len().saturating_sub(shown) as u64 + hidden_extra;
    let mut text = unique
        .into_iter()
        .take(shown)
        .collect::<Vec<_>>()
        .join(", ");
    if extra > 0 {
        write!(text, " (+{extra})").ok();
    }
    text
}

/// The app functions that ran the query; component functions (`adapter:findOne`) are not callers.
pub(crate) fn callers_summary(finding: &Finding, shown: usize) -> String {
    summary(
        finding.callers.iter().map(|c| c.function.as_str()),
        finding.other_callers,
        shown,
    )
}

/// The component functions the query went through.
pub(crate) fn via_summary(finding: &Finding, shown: usize) -> String {
    summary(
        finding
            .component_functions
            .iter()
            .map(|c| c.function.as_str()),
        0,
        shown,
    )
}

/// Gives up columns and characters (`FITTING`) until every line of the table fits in `width`
/// columns; returns the columns to show, of those in `shown`.
fn fit_columns(
    cells: &mut [[String; COLUMNS]],
    mut shown: Vec<usize>,
    width: Option<usize>,
) -> Vec<usize> {
    let Some(width) = width else {
        return shown;
    };
    let column_width = |cells: &[[String; COLUMNS]], column: usize| {
        cells
            .iter()
            .map(|row| fit::width(&row[column]))
            .max()
            .unwrap_or(0)
    };
    // Each column takes its width plus a space either side and a border; one more border closes.
    let total = |cells: &[[String; COLUMNS]], shown: &[usize]| {
        shown
            .iter()
            .map(|&c| column_width(cells, c) + 3)
            .sum::<usize>()
            + 1
    };
    for step in &FITTING {
        let excess = total(cells, &shown).saturating_sub(width);
        if excess == 0 {
            break;
        }
        match *step {
            Fit::Drop(column) => shown.retain(|&c| c != column),
            Fit::Shrink(column, min) if shown.contains(&column) => {
                let now = column_width(cells, column);
                let target = now
                    .saturating_sub(excess)
                    .max(min)
                    .max(HEADERS[column].len());
                let cut = if column == CALLERS {
                    fit::shorten_start
                } else {
                    fit::shorten
                };
                for row in cells.iter_mut().skip(1) {
                    row[column] = cut(&row[column], target);
                }
            }
            Fit::Shrink(..) => {}
        }
    }
    shown
}

/// The table, and the columns it shows.
fn suggestions_table(report: &Report, width: Option<usize>) -> (String, Vec<usize>) {
    let mut cells: Vec<[String; COLUMNS]> = vec![HEADERS.map(str::to_owned)];
    for (i, f) in report.suggestions.iter().enumerate() {
        cells.push([
            (i + 1).to_string(),
            super::risk_label(f.risk).to_owned(),
            f.table.clone(),
            describe_fields(&f.fields),
            f.count.to_string(),
            f.executions.map_or("-".to_owned(), |n| n.to_string()),
            super::documents_read(f),
            callers_summary(f, 1),
            via_summary(f, 1),
            f.status
                .as_ref()
                .map_or_else(|| "-".to_owned(), FindingStatus::label),
        ]);
    }
    let mut shown: Vec<usize> = (0..HEADERS.len()).collect();
    // A format without usage has no Docs read to show: its width is not spent on `-`.
    if report.suggestions.iter().all(|f| f.impact.is_none()) {
        shown.retain(|&c| c != DOCS);
    }
    let shown = fit_columns(&mut cells, shown, width);
    let mut builder = Builder::default();
    for row in &cells {
        builder.push_record(shown.iter().map(|&c| row[c].clone()));
    }
    let table = builder.build().with(TableStyle::sharp()).to_string();
    (table, shown)
}

/// The report for a terminal `width` columns wide (`None`: full lines).
pub(crate) fn render(report: &Report, color: bool, width: Option<usize>, next: &[Step]) -> String {
    let bold = if color {
        Style::new().bold()
    } else {
        Style::new()
    };
    let mut out = String::new();
    let stats = &report.stats;
    let heading = if stats.predicted.is_some() && stats.inputs == 0 {
        format!(
            "{bold}Missing indexes{bold:#}: predicted from the installed Better Auth code (no logs read)"
        )
    } else {
        format!(
            "{bold}Missing indexes{bold:#}: {} suggestion(s) from {} signal(s) in {} line(s) of {} input(s)",
            report.suggestions.len(),
            stats.signals,
            stats.lines,
            stats.inputs
        )
    };
    push_hanging(&mut out, &heading, width, "", "  ");
    if let Some((line, gaps)) = super::coverage(report) {
        let warn = if color && !gaps.is_empty() {
            anstyle::AnsiColor::Yellow.on_default().bold()
        } else {
            Style::new()
        };
        push_hanging(&mut out, &format!("{warn}{line}{warn:#}"), width, "", "  ");
        for gap in gaps {
            push_wrapped(&mut out, &format!("not read: {gap}"), width, "  ");
        }
    }
    if !report.suggestions.is_empty() {
        let (table, shown) = suggestions_table(report, width);
        writeln!(out, "\n{table}").ok();
        let near_limit: Vec<&Finding> = report
            .suggestions
            .iter()
            .filter(|f| super::near_limit(f))
            .collect();
        if !near_limit.is_empty() {
            // The legend explains a column on screen; when Docs read did not fit, the worst
            // scans are still said.
            let text = if shown.contains(&DOCS) {
                super::NEAR_LIMIT_LEGEND.to_owned()
            } else {
                super::near_limit_summary(&near_limit)
            };
            push_hanging(&mut out, &text, width, "", "  ");
        }
    }
    out.push_str(&super::predictions_section(report, false, width));
    let insights = super::joined_insights(report);
    if !insights.is_empty() {
        writeln!(out).ok();
        push_hanging(
            &mut out,
            &format!("{bold}Insights{bold:#}: {}", super::INSIGHTS_HEADING),
            width,
            "",
            "  ",
        );
        for (rank, finding, insight) in insights {
            let line = format!(
                "#{rank} {} {}: {}",
                finding.table,
                describe_fields(&finding.fields),
                super::describe_insight(insight, &finding.table, false)
            );
            push_wrapped(&mut out, &line, width, "  ");
        }
    }
    if !report.plan.is_empty() {
        writeln!(out).ok();
        push_hanging(
            &mut out,
            &format!("{bold}Plan{bold:#}: {}", super::plan_heading(report)),
            width,
            "",
            "  ",
        );
        for entry in overlay_entries(&report.plan) {
            for row in fit::chain(&entry.head, &entry.calls, ",", width, "  ", "    ") {
                writeln!(out, "{row}").ok();
            }
        }
        for index in report.plan.iter().filter(|i| i.note.is_some()) {
            let line = format!(
                "note: {}.{}: {}",
                index.table,
                index.name,
                index.note.as_deref().unwrap_or_default()
            );
            push_wrapped(&mut out, &line, width, "  ");
        }
    }
    if !report.ignored.is_empty() {
        writeln!(out, "\n{bold}Ignored{bold:#}").ok();
        for ignored in &report.ignored {
            let line = format!(
                "{} {} ×{}: {}",
                ignored.table,
                describe_fields(&ignored.fields),
                ignored.count,
                ignored.reason
            );
            push_wrapped(&mut out, &line, width, "  ");
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
                "{} {}: {}",
                f.table,
                describe_fields(&f.fields),
                s.describe()
            )
        })
        .collect();
    if !explained.is_empty() {
        writeln!(out, "\n{bold}Status{bold:#}").ok();
        for line in &explained {
            push_wrapped(&mut out, line, width, "  ");
        }
    }
    for note in &report.notes {
        writeln!(out).ok();
        push_hanging(&mut out, &format!("note: {note}"), width, "", "  ");
    }
    if stats.suspects > 0 {
        writeln!(out).ok();
        let heading = format!(
            "{bold}Suspects{bold:#}: {} line(s) mention a missing index but match no rule (a new upstream format?):",
            stats.suspects
        );
        push_hanging(&mut out, &heading, width, "", "  ");
        for suspect in &stats.suspect_samples {
            let line = format!("{}: {}", suspect.location, suspect.text);
            push_wrapped(&mut out, &line, width, "  ");
        }
    }
    if !next.is_empty() {
        writeln!(out, "\n{bold}Next{bold:#}").ok();
        for step in next {
            push_wrapped(&mut out, &step.why, width, "  ");
            // A command is never broken: it has its own line, whole.
            if let Some(command) = &step.command {
                writeln!(out, "{}", fit::command(command, width, "    ")).ok();
            }
        }
    }
    out
}

//! `--format table`: the terminal view.

use super::describe_fields;
use super::next::Step;
use super::snippet::overlay_lines;
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

/// Cuts a cell to `max` characters, marking the cut with `…`.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Cuts a function name to `max` characters from the left, where its module path is: the
/// exported name at the end says more than the folders.
/// A trailing ` (+N)` count stays whole.
fn shorten_start(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_owned();
    }
    let (name, more) = match text.rfind(" (+") {
        Some(at) if text.ends_with(')') => text.split_at(at),
        _ => (text, ""),
    };
    let keep = max.saturating_sub(1 + more.chars().count()).max(1);
    let name_count = name.chars().count();
    let mut cut = String::from("…");
    cut.extend(name.chars().skip(name_count.saturating_sub(keep)));
    cut.push_str(more);
    cut
}

/// The table's width limit: `COLUMNS` when set, else the terminal's width when stdout is one;
/// piped output keeps full values.
pub(crate) fn terminal_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return Some(columns);
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return crossterm::terminal::size()
            .ok()
            .map(|(w, _)| usize::from(w));
    }
    None
}

/// Gives up columns and characters (`FITTING`) until every line of the table fits in `width`
/// characters; returns the columns to show.
fn fit(cells: &mut [[String; COLUMNS]], width: Option<usize>) -> Vec<usize> {
    let mut shown: Vec<usize> = (0..HEADERS.len()).collect();
    let Some(width) = width else {
        return shown;
    };
    let column_width = |cells: &[[String; COLUMNS]], column: usize| {
        cells
            .iter()
            .map(|row| row[column].chars().count())
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
                    shorten_start
                } else {
                    shorten
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

fn suggestions_table(report: &Report, width: Option<usize>) -> String {
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
    let mut shown = fit(&mut cells, width);
    if report.suggestions.iter().all(|f| f.impact.is_none()) {
        shown.retain(|&c| c != DOCS);
    }
    let mut builder = Builder::default();
    for row in &cells {
        builder.push_record(shown.iter().map(|&c| row[c].clone()));
    }
    builder.build().with(TableStyle::sharp()).to_string()
}

/// The report for a terminal `width` characters wide (`None`: no limit).
pub(crate) fn render(report: &Report, color: bool, width: Option<usize>, next: &[Step]) -> String {
    let bold = if color {
        Style::new().bold()
    } else {
        Style::new()
    };
    let mut out = String::new();
    let stats = &report.stats;
    if stats.predicted.is_some() && stats.inputs == 0 {
        writeln!(
            out,
            "{bold}Missing indexes{bold:#}: predicted from the installed Better Auth code (no logs read)"
        )
        .ok();
    } else {
        writeln!(
            out,
            "{bold}Missing indexes{bold:#}: {} suggestion(s) from {} signal(s) in {} line(s) of {} input(s)",
            report.suggestions.len(),
            stats.signals,
            stats.lines,
            stats.inputs
        )
        .ok();
    }
    if let Some((line, gaps)) = super::coverage(report) {
        let warn = if color && !gaps.is_empty() {
            anstyle::AnsiColor::Yellow.on_default().bold()
        } else {
            Style::new()
        };
        writeln!(out, "{warn}{line}{warn:#}").ok();
        for gap in gaps {
            writeln!(out, "  not read: {gap}").ok();
        }
    }
    if !report.suggestions.is_empty() {
        writeln!(out, "\n{}", suggestions_table(report, width)).ok();
        if report
            .suggestions
            .iter()
            .any(|f| super::documents_read(f).ends_with('!'))
        {
            writeln!(out, "{}", super::NEAR_LIMIT_LEGEND).ok();
        }
    }
    out.push_str(&super::predictions_section(report, false));
    let insights = super::joined_insights(report);
    if !insights.is_empty() {
        writeln!(out, "\n{bold}Insights{bold:#}: {}", super::INSIGHTS_HEADING).ok();
        for (rank, finding, insight) in insights {
            writeln!(
                out,
                "  #{rank} {} {}: {}",
                finding.table,
                describe_fields(&finding.fields),
                super::describe_insight(insight, &finding.table, false)
            )
            .ok();
        }
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
    if !next.is_empty() {
        writeln!(out, "\n{bold}Next{bold:#}").ok();
        for step in next {
            writeln!(out, "  {}", step.why).ok();
            if let Some(command) = &step.command {
                writeln!(out, "    $ {command}").ok();
            }
        }
    }
    out
}

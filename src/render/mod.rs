//! Renderers: pure functions of the report document (`crate::document`), and of `doctor`'s
//! problems.

pub(crate) mod comment;
pub(crate) mod doctor;
pub(crate) mod fit;
pub(crate) mod json;
pub(crate) mod markdown;
pub(crate) mod next;
pub(crate) mod snippet;
pub(crate) mod table;

use crate::aggregate::DOCUMENTS_READ_LIMIT;
use crate::document::{Finding, InsightRef, Report, Risk, SchemaLayout};

/// `[a, b]`, as the warning prints a field list.
pub(crate) fn describe_fields(fields: &[String]) -> String {
    format!("[{}]", fields.join(", "))
}

pub(crate) fn risk_label(risk: Risk) -> &'static str {
    match risk {
        Risk::Error => "error",
        Risk::Lookup => "lookup",
        Risk::Scan => "scan",
    }
}

/// Where the plan goes, and the step before it when `schema.ts` is still the generated file.
pub(crate) fn plan_heading(report: &Report) -> String {
    match &report.schema {
        Some(schema) if schema.layout == SchemaLayout::Generated => format!(
            "`{}` is the generated file: run `ba-index-advisor init` to make it the overlay, \
             then `ba-index-advisor apply` with the same logs, or add these to the overlay by hand",
            schema.path
        ),
        Some(schema) => format!("Add to the overlay `{}`", schema.path),
        None => "Add to the overlay `convex/betterAuth/schema.ts`".to_owned(),
    }
}

/// The coverage line and every gap, when the report says what it was asked to read (a
/// prediction alone reads no logs).
pub(crate) fn coverage(report: &Report) -> Option<(String, Vec<String>)> {
    let coverage = &report.coverage;
    if coverage.inputs.is_empty() && coverage.windows.is_empty() && coverage.rejected.is_empty() {
        return None;
    }
    Some((coverage.line(), coverage.gaps()))
}

/// Gaps a markdown report (and so a PR comment, which has a size limit) lists one by one.
const MARKDOWN_GAPS: usize = 20;

/// The coverage as markdown: a quiet line when complete, a warning naming every gap otherwise.
pub(crate) fn markdown_coverage(report: &Report) -> String {
    let Some((line, gaps)) = coverage(report) else {
        return String::new();
    };
    if gaps.is_empty() {
        return format!("<sub>{line}</sub>\n\n");
    }
    let mut out = format!("> [!WARNING]\n> **{line}**. Not read:\n");
    for gap in gaps.iter().take(MARKDOWN_GAPS) {
        out.push_str(&format!("> - {}\n", gap.replace('|', "\\|")));
    }
    if gaps.len() > MARKDOWN_GAPS {
        out.push_str(&format!(
            "> - … and {} more (`report --format json` lists every one under `coverage`)\n",
            gaps.len() - MARKDOWN_GAPS
        ));
    }
    out.push('\n');
    out
}

pub(crate) const NEAR_LIMIT_LEGEND: &str = "! an execution that logged it read over 80% of Convex's \
     32,000-document limit, or logged Convex's read-limit warning: past the limit the query fails";

/// Whether an execution that logged the finding logged Convex's read-limit warning or read past
/// 80% of the limit: what `!` marks.
pub(crate) fn near_limit(finding: &Finding) -> bool {
    finding.impact.as_ref().is_some_and(|impact| {
        impact.limit_warnings > 0 || impact.max_documents_read * 5 >= DOCUMENTS_READ_LIMIT * 4
    })
}

/// What `!` says, for a table that could not show the Docs read column: each marked finding
/// with the documents its executions read.
pub(crate) fn near_limit_summary(findings: &[&Finding]) -> String {
    let each: Vec<String> = findings
        .iter()
        .filter_map(|f| {
            let impact = f.impact.as_ref()?;
            let why = if impact.limit_warnings > 0 {
                "logged Convex's read-limit warning".to_owned()
            } else {
                format!(
                    "one execution read {}, over 80% of Convex's {}-document limit",
                    thousands(impact.max_documents_read),
                    thousands(DOCUMENTS_READ_LIMIT)
                )
            };
            Some(format!(
                "{} {} read {} documents ({why})",
                f.table,
                describe_fields(&f.fields),
                thousands(impact.documents_read)
            ))
        })
        .collect();
    format!(
        "Near the read limit (past it the query fails): {}",
        each.join("; ")
    )
}

/// Documents read by the executions that logged a finding, `!` when [`near_limit`]; `-` when
/// the format has no usage.
pub(crate) fn documents_read(finding: &Finding) -> String {
    let Some(impact) = &finding.impact else {
        return "-".to_owned();
    };
    format!(
        "{}{}",
        thousands(impact.documents_read),
        if near_limit(finding) { " !" } else { "" }
    )
}

pub(crate) const INSIGHTS_HEADING: &str = "the missing index behind each Convex insight";

/// Every (rank, suggestion, insight) pair, in ranking order: what the "Insights" sections list.
pub(crate) fn joined_insights(report: &Report) -> Vec<(usize, &Finding, &InsightRef)> {
    report
        .suggestions
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.insights.iter().map(move |insight| (i + 1, f, insight)))
        .collect()
}

/// `documentsReadThreshold (warning) in fn, 1 occurrence(s), 26,000 documents read from
/// member`; names in backticks when `code`.
pub(crate) fn describe_insight(insight: &InsightRef, table: &str, code: bool) -> String {
    let quote = |s: &str| {
        if code { format!("`{s}`") } else { s.to_owned() }
    };
    // An OCC insight counts conflicts, a resource insight executions (as the CLI words them).
    let counted = if insight.kind.starts_with("occ") {
        "OCC conflict(s)"
    } else {
        "occurrence(s)"
    };
    let mut text = format!(
        "{} ({}) in {}, {} {counted}",
        quote(&insight.kind),
        insight.severity,
        quote(&insight.function),
        insight.count
    );
    if let Some(documents) = insight.documents_read {
        text.push_str(&format!(
            ", {} documents read from {}",
            thousands(documents),
            quote(table)
        ));
    }
    text
}

/// `27400` → `27,400`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The predictions of a report, as lines for the table fitted to `width` (`markdown`: a Markdown
/// table); empty when `predict` did not run.
pub(crate) fn predictions_section(report: &Report, markdown: bool, width: Option<usize>) -> String {
    use std::fmt::Write;
    let Some(stats) = &report.stats.predicted else {
        return String::new();
    };
    let read: Vec<String> = report
        .predicted_from
        .iter()
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    let mut out = String::new();
    let heading = format!(
        "{} list(s) the installed code will query that no index serves ({} distinct list(s) \
         from {} of {} call(s) written literally, in {} file(s) of {})",
        report.predictions.len(),
        stats.shapes,
        stats.literal_calls,
        stats.calls,
        stats.files,
        read.join(", ")
    );
    if markdown {
        writeln!(out, "\n### Predicted\n\n{heading}.\n").ok();
        if report.predictions.is_empty() {
            return out;
        }
        writeln!(out, "| Table | Fields | Kind | Status | Logs | Called at |").ok();
        writeln!(out, "|---|---|---|---|---|---|").ok();
    } else {
        writeln!(out).ok();
        fit::push_hanging(&mut out, &format!("Predicted: {heading}"), width, "", "  ");
    }
    for p in &report.predictions {
        let risk = risk_label(p.risk);
        let kind = if p.exact && p.risk != Risk::Error {
            format!("{risk} (exact)")
        } else {
            risk.to_owned()
        };
        let status = p.status.as_ref().map_or("new".to_owned(), |s| s.label());
        let logs = if p.seen_in_logs { "seen" } else { "-" };
        let first = p.sites.first().map(ToString::to_string).unwrap_or_default();
        let more = match p.sites.len() {
            0 | 1 => String::new(),
            n => format!(" (+{} more)", n - 1),
        };
        if markdown {
            writeln!(
                out,
                "| `{}` | `{}` | {kind} | {status} | {logs} | `{first}`{more} |",
                p.table,
                describe_fields(&p.fields)
            )
            .ok();
        } else {
            let line = format!(
                "{} {}  {kind}  {status}{}  {first}{more}",
                p.table,
                describe_fields(&p.fields),
                if p.seen_in_logs { "  seen in logs" } else { "" }
            );
            fit::push_wrapped(&mut out, &line, width, "  ");
        }
    }
    out
}

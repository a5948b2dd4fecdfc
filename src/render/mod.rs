//! Renderers: pure functions of the report document (`crate::document`), and of `doctor`'s
//! problems.

pub mod comment;
pub mod doctor;
pub mod json;
pub mod markdown;
pub mod next;
pub mod snippet;
pub mod table;

use crate::aggregate::DOCUMENTS_READ_LIMIT;
use crate::document::{Finding, InsightRef, Report, Risk, SchemaLayout};

/// `[a, b]`, as the warning prints a field list.
pub fn describe_fields(fields: &[String]) -> String {
    format!("[{}]", fields.join(", "))
}

pub fn risk_label(risk: Risk) -> &'static str {
    match risk {
        Risk::Error => "error",
        Risk::Lookup => "lookup",
        Risk::Scan => "scan",
    }
}

/// Where the plan goes, and the step before it when `schema.ts` is still the generated file.
pub fn plan_heading(report: &Report) -> String {
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

pub const NEAR_LIMIT_LEGEND: &str = "! an execution that logged it read over 80% of Convex's \
     32,000-document limit, or logged Convex's read-limit warning: past the limit the query fails";

/// Documents read by the executions that logged a finding, `!` when one of them logged Convex's
/// read-limit warning or read past 80% of the limit; `-` when the format has no usage.
pub fn documents_read(finding: &Finding) -> String {
    let Some(impact) = &finding.impact else {
        return "-".to_owned();
    };
    let near_limit =
        impact.limit_warnings > 0 || impact.max_documents_read * 5 >= DOCUMENTS_READ_LIMIT * 4;
    format!(
        "{}{}",
        thousands(impact.documents_read),
        if near_limit { " !" } else { "" }
    )
}

pub const INSIGHTS_HEADING: &str = "the missing index behind each Convex insight";

/// Every (rank, suggestion, insight) pair, in ranking order: what the "Insights" sections list.
pub fn joined_insights(report: &Report) -> Vec<(usize, &Finding, &InsightRef)> {
    report
        .suggestions
        .iter()
        .enumerate()
        .flat_map(|(i, f)| f.insights.iter().map(move |insight| (i + 1, f, insight)))
        .collect()
}

/// `documentsReadThreshold (warning) in fn, 1 occurrence(s), 26,000 documents read from
/// member`; names in backticks when `code`.
pub fn describe_insight(insight: &InsightRef, table: &str, code: bool) -> String {
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
fn thousands(n: u64) -> String {
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

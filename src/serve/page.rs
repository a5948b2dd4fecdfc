//! The web page (`GET /`), rendered on the server from the documents `/api/report` answers, so
//! the first paint needs no script and `curl /` shows the suggestions. `page.html` holds the
//! style and the script, which only refreshes: it polls `/api/report` with the `ETag` this page
//! was rendered at and, when the document changed, fetches the page again and swaps its parts.
//! Every text that comes from a log or a schema goes through `escape`.

use super::state::DeploymentView;
use crate::document::{Coverage, Finding, FindingStatus, ListKey, Report};
use crate::render::{self, snippet::overlay_lines, table};
use std::fmt::Write;

const SHELL: &str = include_str!("page.html");
/// Where the rendered parts go in `page.html`.
const CONTENT: &str = "<!--content-->";
const ETAG: &str = "{{etag}}";

pub(super) struct Page<'a> {
    /// Each deployment's view and its report, in name order.
    pub deployments: &'a [(DeploymentView, Report)],
    /// The coverage of the report over all deployments.
    pub coverage: &'a Coverage,
    /// The entity tag of `/api/report` (all deployments) this page shows.
    pub etag: &'a str,
    pub now_ms: i64,
}

/// A strong entity tag of a body: its SHA-256, cut to 128 bits.
pub(super) fn etag(body: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, body.as_bytes());
    let hex: String = digest.as_ref()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// Whether a suggestion is still a missing index: everything but a list an index serves.
pub(super) fn is_missing(finding: &Finding) -> bool {
    !matches!(finding.status, Some(FindingStatus::Served { .. }))
}

/// Text for HTML: element content and quoted attribute values alike.
/// `text` escaped, its backtick spans (commands, names: code in the CLI's words) as `<code>`.
fn with_code(text: &str) -> String {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len().is_multiple_of(2) {
        // An unpaired backtick: no span to trust.
        return escape(text);
    }
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{}</code>", escape(part))
            } else {
                escape(part)
            }
        })
        .collect()
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(super) fn render(page: &Page<'_>) -> String {
    let mut content = String::new();
    header(&mut content, page);
    content.push_str("<main id=\"deployments\">\n");
    for (view, report) in page.deployments {
        deployment(&mut content, view, report, page.now_ms);
    }
    content.push_str("</main>\n");
    SHELL
        .replacen(ETAG, &escape(page.etag), 1)
        .replacen(CONTENT, &content, 1)
}

fn header(out: &mut String, page: &Page<'_>) {
    let rendered = time_element(page.now_ms, page.now_ms, "data-updated");
    if page.deployments.is_empty() {
        writeln!(
            out,
            "<p class=\"muted\" id=\"summary\">No batch received yet: point a Convex log stream \
             (webhook) at <code>/log-stream</code>. <span id=\"live\">Rendered {rendered}.</span></p>"
        )
        .ok();
    } else {
        writeln!(
            out,
            "<p class=\"muted\" id=\"summary\">{} deployment(s). <span id=\"live\">Rendered \
             {rendered}.</span></p>",
            page.deployments.len()
        )
        .ok();
    }
    out.push_str("<div id=\"coverage\">");
    let coverage = page.coverage;
    let gaps = coverage.gaps();
    let class = if gaps.is_empty() { "muted" } else { "warning" };
    write!(out, "<p class=\"{class}\">{}</p>", escape(&coverage.line())).ok();
    if !gaps.is_empty() {
        out.push_str("<ul class=\"gaps\">");
        for gap in gaps {
            write!(out, "<li>{}</li>", escape(&gap)).ok();
        }
        out.push_str("</ul>");
    }
    out.push_str("</div>\n");
}

/// `<time>` of an instant, `12:03:04 UTC (5 s ago)`; the script keeps the "ago" current.
fn time_element(ms: i64, now_ms: i64, attribute: &str) -> String {
    let iso = crate::time::format_unix_millis(ms).unwrap_or_default();
    format!(
        "<time datetime=\"{}\" {attribute}>{} ({})</time>",
        escape(&iso),
        escape(&readable(&iso)),
        ago(now_ms.saturating_sub(ms))
    )
}

/// `2026-01-15T14:03:08.126Z` → `2026-01-15 14:03:08 UTC`; any other text as it is.
fn readable(timestamp: &str) -> String {
    match timestamp.split_once('T') {
        Some((day, time)) if timestamp.ends_with('Z') && time.len() >= 8 => {
            format!("{day} {} UTC", &time[..8])
        }
        _ => timestamp.to_owned(),
    }
}

fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

/// The words of a status code, for the counts.
fn kind_words(code: &str) -> &'static str {
    match code {
        "new" => "new",
        "exact_needed" => "exact index needed",
        "upgrade_needed" => "upgrade needed",
        "unknown_field" => "unknown field",
        "unknown_table" => "unknown table",
        "staged" => "staged",
        "served" => "served",
        _ => "unchecked (no schema read)",
    }
}

/// A status's code, as the JSON's `kind` names it (`unchecked` without a schema).
fn kind(status: Option<&FindingStatus>) -> &'static str {
    match status {
        None => "unchecked",
        Some(FindingStatus::New) => "new",
        Some(FindingStatus::Served { .. }) => "served",
        Some(FindingStatus::ExactNeeded { .. }) => "exact_needed",
        Some(FindingStatus::Staged { .. }) => "staged",
        Some(FindingStatus::UnknownTable { .. }) => "unknown_table",
        Some(FindingStatus::UnknownField { .. }) => "unknown_field",
        Some(FindingStatus::UpgradeNeeded { .. }) => "upgrade_needed",
    }
}

fn summary_line(report: &Report, view: &DeploymentView) -> String {
    // What needs doing first, what is done last.
    const ORDER: [&str; 8] = [
        "new",
        "exact_needed",
        "upgrade_needed",
        "unknown_field",
        "unknown_table",
        "staged",
        "unchecked",
        "served",
    ];
    let statuses: Vec<String> = ORDER
        .iter()
        .filter_map(|code| {
            let n = report
                .suggestions
                .iter()
                .filter(|f| kind(f.status.as_ref()) == *code)
                .count();
            (n > 0).then(|| format!("{n} {}", kind_words(code)))
        })
        .collect();
    let mut line = format!(
        "{} suggestion(s): {}",
        report.suggestions.len(),
        statuses.join(", ")
    );
    let measured = report
        .suggestions
        .iter()
        .filter(|f| is_missing(f))
        .any(|f| f.impact.is_some());
    if measured {
        write!(
            line,
            " · {} documents read by the missing indexes in the last 24 h",
            render::thousands(view.documents_read_24h)
        )
        .ok();
    }
    let worst = report
        .suggestions
        .iter()
        .filter(|f| is_missing(f))
        .filter_map(|f| f.impact.as_ref().map(|i| (i.max_documents_read, f)))
        .max_by_key(|(n, _)| *n);
    if let Some((documents, finding)) = worst {
        let mark = if near_limit(documents) { " !" } else { "" };
        write!(
            line,
            " · worst execution: {} documents{mark} ({} {})",
            render::thousands(documents),
            finding.table,
            render::describe_fields(&finding.fields)
        )
        .ok();
    }
    line
}

/// Past 80% of Convex's 32,000-document limit, as the CLI's `!` says.
fn near_limit(documents: u64) -> bool {
    documents * 5 >= crate::aggregate::DOCUMENTS_READ_LIMIT * 4
}

fn deployment(out: &mut String, view: &DeploymentView, report: &Report, now_ms: i64) {
    let name = escape(&view.name);
    writeln!(out, "<section data-deployment=\"{name}\">\n<h2>{name}</h2>").ok();
    match view.heard_ms {
        Some(ms) => writeln!(
            out,
            "<p class=\"muted heard\">Last batch {}</p>",
            time_element(ms, now_ms, "data-ago")
        )
        .ok(),
        None => writeln!(
            out,
            "<p class=\"muted heard\">No batch since the start.</p>"
        )
        .ok(),
    };
    if report.suggestions.is_empty() {
        out.push_str("<p class=\"muted\">No missing index seen.</p>\n</section>\n");
        return;
    }
    writeln!(
        out,
        "<p class=\"deployment-summary\">{}</p>",
        escape(&summary_line(report, view))
    )
    .ok();
    let hours = |f: &Finding| {
        view.activity
            .iter()
            .find(|a| a.table == f.table && a.fields == f.fields)
            .map_or(&[][..], |a| a.hours.as_slice())
    };
    let ranked: Vec<(usize, &Finding)> = report.suggestions.iter().enumerate().collect();
    let (missing, served): (Vec<_>, Vec<_>) = ranked.into_iter().partition(|(_, f)| is_missing(f));
    out.push_str("<div class=\"rows\">\n");
    out.push_str(
        "<div class=\"row head\" aria-hidden=\"true\"><span>#</span><span>Table</span>\
         <span>Fields</span><span>Status</span><span class=\"num\">Count</span>\
         <span class=\"num\">Execs</span><span class=\"num\">Docs read</span>\
         <span>Callers</span><span>Seen</span><span>Last 24 h</span></div>\n",
    );
    for (rank, finding) in &missing {
        row(out, *rank + 1, finding, report, hours(finding));
    }
    out.push_str("</div>\n");
    if report
        .suggestions
        .iter()
        .any(|f| render::documents_read(f).ends_with('!'))
    {
        writeln!(
            out,
            "<p class=\"legend\">{}</p>",
            escape(render::NEAR_LIMIT_LEGEND)
        )
        .ok();
    }
    if !served.is_empty() {
        writeln!(
            out,
            "<details class=\"folded\"><summary>{} already served by an index</summary>\n\
             <div class=\"rows\">",
            served.len()
        )
        .ok();
        for (rank, finding) in &served {
            row(out, *rank + 1, finding, report, hours(finding));
        }
        out.push_str("</div>\n</details>\n");
    }
    if !view.snippet.is_empty() {
        let schema = report
            .schema
            .as_ref()
            .map_or("convex/betterAuth/schema.ts", |s| s.path.as_str());
        writeln!(
            out,
            "<p>The whole plan: paste into <code>{}</code>, inside \
             <code>defineSchema({{ ...tables, … }})</code>:</p>\n\
             <div class=\"copyable\"><pre class=\"snippet\">{}</pre>\
             <button type=\"button\" class=\"copy\" hidden>Copy</button></div>",
            escape(schema),
            escape(&view.snippet)
        )
        .ok();
    }
    out.push_str("</section>\n");
}

fn cell(out: &mut String, class: &str, label: &str, html: &str) {
    write!(
        out,
        "<span class=\"c {class}\" data-label=\"{label}\">{html}</span>"
    )
    .ok();
}

fn row(out: &mut String, rank: usize, finding: &Finding, report: &Report, hours: &[u64]) {
    let key = ListKey::new(&finding.table, &finding.fields);
    let kind = kind(finding.status.as_ref());
    write!(
        out,
        "<details class=\"suggestion\" data-key=\"{}\">\n<summary>",
        escape(&format!("{}\u{1f}{}", key.table, key.fields.join(",")))
    )
    .ok();
    cell(out, "rank", "#", &rank.to_string());
    cell(
        out,
        "table",
        "Table",
        &format!("<code>{}</code>", escape(&finding.table)),
    );
    cell(
        out,
        "fields",
        "Fields",
        &format!("<code>{}</code>", escape(&finding.fields.join(", "))),
    );
    let label = finding
        .status
        .as_ref()
        .map_or_else(|| "unchecked".to_owned(), FindingStatus::label);
    cell(
        out,
        &format!("status status-{kind}"),
        "Status",
        &format!(
            "{} <span class=\"risk\">{}</span>",
            escape(&label),
            render::risk_label(finding.risk)
        ),
    );
    cell(out, "num count", "Count", &finding.count.to_string());
    cell(
        out,
        "num execs",
        "Execs",
        &finding
            .executions
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
    );
    let documents = render::documents_read(finding);
    let docs_class = if documents.ends_with('!') {
        "num docs near-limit"
    } else {
        "num docs"
    };
    cell(out, docs_class, "Docs read", &escape(&documents));
    let mut callers = escape(&table::callers_summary(finding, 3));
    let via = table::via_summary(finding, 2);
    if via != "-" {
        write!(callers, " <span class=\"via\">via {}</span>", escape(&via)).ok();
    }
    cell(out, "callers", "Callers", &callers);
    let seen = |label: &str, timestamp: Option<&str>, location: &str| {
        let text = timestamp.map_or_else(|| location.to_owned(), readable);
        format!("<span class=\"when\">{label} {}</span>", escape(&text))
    };
    cell(
        out,
        "seen",
        "Seen",
        &format!(
            "{}{}",
            seen(
                "first",
                finding.first_seen.timestamp.as_deref(),
                &finding.first_seen.location
            ),
            seen(
                "last",
                finding.last_seen.timestamp.as_deref(),
                &finding.last_seen.location
            )
        ),
    );
    cell(out, "spark", "Last 24 h", &sparkline(hours));
    if let Some(status) = &finding.status
        && !matches!(status, FindingStatus::New)
    {
        write!(
            out,
            "<span class=\"advice\">{}</span>",
            with_code(&status.describe())
        )
        .ok();
    }
    out.push_str("</summary>\n<div class=\"more\">");
    if !finding.samples.is_empty() {
        out.push_str("<p class=\"samples\">Samples: ");
        let samples: Vec<String> = finding
            .samples
            .iter()
            .map(|s| format!("<code>{}</code>", escape(s)))
            .collect();
        out.push_str(&samples.join(", "));
        out.push_str("</p>");
    }
    let index = report.plan.iter().find(|i| i.serves.contains(&key));
    match index {
        Some(index) => {
            write!(
                out,
                "<p>The index for this row:</p><div class=\"copyable\"><pre class=\"row-snippet\">{}</pre>\
                 <button type=\"button\" class=\"copy\" hidden>Copy</button></div>",
                escape(&overlay_lines(std::slice::from_ref(index)).join("\n"))
            )
            .ok();
            if let Some(note) = &index.note {
                write!(out, "<p class=\"muted\">{}</p>", escape(note)).ok();
            }
        }
        None => out.push_str("<p class=\"muted\">No index to add for this row.</p>"),
    }
    out.push_str("</div>\n</details>\n");
}

/// Signals per hour over the last 24 h, as an inline SVG polyline.
fn sparkline(hours: &[u64]) -> String {
    let max = hours.iter().copied().max().unwrap_or(0).max(1) as f64;
    let step = if hours.len() > 1 {
        120.0 / (hours.len() - 1) as f64
    } else {
        0.0
    };
    let points: Vec<String> = hours
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                22.0 - (n as f64 / max) * 20.0
            )
        })
        .collect();
    let total: u64 = hours.iter().sum();
    format!(
        "<svg class=\"spark\" viewBox=\"0 0 120 24\" role=\"img\" aria-label=\"last 24 h: {total} \
         signal(s)\"><title>last 24 h: {total} signal(s), at most {} in an hour</title>\
         <polyline points=\"{}\"/></svg>",
        hours.iter().copied().max().unwrap_or(0),
        points.join(" ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backtick_spans_become_code_and_stay_escaped() {
        assert_eq!(
            with_code("regenerate: `cd a && b <x>`"),
            "regenerate: <code>cd a &amp;&amp; b &lt;x&gt;</code>"
        );
        assert_eq!(with_code("one ` only"), "one ` only");
    }

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn readable_times() {
        assert_eq!(
            readable("2026-01-15T14:03:08.126Z"),
            "2026-01-15 14:03:08 UTC"
        );
        assert_eq!(readable("1/15/2026, 2:03:08 PM"), "1/15/2026, 2:03:08 PM");
        assert_eq!(ago(61_000), "1 min ago");
    }
}

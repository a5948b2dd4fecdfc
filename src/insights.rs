//! Convex insights as an input: the document `npx convex insights --json --details` prints, read
//! once, and each insight joined to the missing-index suggestions it is about.
//!
//! The join rule. A resource insight (`documentsReadLimit`, `bytesReadLimit`,
//! `documentsReadThreshold`, `bytesReadThreshold`) is behind a suggestion when
//! - its function (`.js` stripped) is one of the suggestion's callers or component functions,
//!   and, when its recent events list the tables they read (`--details`), one of them read the
//!   suggestion's table; or
//! - one of its recent events' request ids is an execution that logged the suggestion.
//!
//! An OCC insight (`occRetried`, `occFailedPermanently`) is behind a suggestion when its
//! `occTableName` is the suggestion's table and its function (or one of its recent events'
//! request ids) is one that logged it: a scan without an index reads every row of the table, so
//! it conflicts with every write to that table.

use crate::aggregate::{RequestKeys, request_key};
use crate::document::{Finding, InsightRef};
use crate::frame::text::strip_js_extension;
use serde::Deserialize;
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

/// The command whose output this reads; named in errors and hints.
pub(crate) const COMMAND: &str = "npx convex insights --json --details";

#[derive(Debug, thiserror::Error)]
pub enum InsightsError {
    #[error("{path}: cannot read the insights: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not the output of `{COMMAND}`: {source}{hint}")]
    Format {
        path: String,
        source: serde_json::Error,
        hint: String,
    },
    #[error(
        "--insights -: the logs are read from stdin too; save one of them to a file \
         (e.g. `{COMMAND} > insights.json`, then `--insights insights.json`)"
    )]
    SharedStdin,
    #[error(
        "--insights -: stdin is a terminal; pipe the insights in (`{COMMAND} | ba-index-advisor \
         report logs.jsonl --insights -`) or give the saved file"
    )]
    TerminalStdin,
}

/// `{ deploymentName, dashboardUrl, insights: [...] }`, as convex >= 1.42 prints it
/// (`src/cli/insights.ts`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Insights {
    #[serde(default)]
    pub deployment_name: Option<String>,
    pub insights: Vec<Insight>,
}

/// One insight (`Insight` in convex's `src/cli/lib/insights.ts`): a resource insight has
/// `count`, an OCC insight `occCalls` and `occTableName`; `recentEvents` only with `--details`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Insight {
    pub kind: String,
    #[serde(default)]
    pub severity: String,
    pub function_id: String,
    /// `null` for the app's own functions.
    #[serde(default)]
    pub component_path: Option<String>,
    #[serde(default)]
    pub count: Option<u64>,
    #[serde(default)]
    pub occ_calls: Option<u64>,
    #[serde(default)]
    pub occ_table_name: Option<String>,
    #[serde(default)]
    pub recent_events: Option<Vec<RecentEvent>>,
}

/// A recent execution behind an insight (at most 5 per insight, upstream's `MAX_RECENT_EVENTS`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RecentEvent {
    #[serde(default)]
    pub request_id: Option<String>,
    /// Resource insights only: what the execution read, per table.
    #[serde(default)]
    pub calls: Option<Vec<TableRead>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TableRead {
    pub table_name: String,
    #[serde(default)]
    pub documents_read: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Resource,
    Occ,
    /// A kind this version does not know: never joined, listed in the note.
    Unknown,
}

impl Insight {
    fn class(&self) -> Class {
        match self.kind.as_str() {
            "documentsReadLimit"
            | "bytesReadLimit"
            | "documentsReadThreshold"
            | "bytesReadThreshold" => Class::Resource,
            "occRetried" | "occFailedPermanently" => Class::Occ,
            _ => Class::Unknown,
        }
    }

    /// The function as the logs name it: convex strips `.js` from a udf path when it prints
    /// one, and so does the framer.
    fn function(&self) -> String {
        strip_js_extension(&self.function_id).into_owned()
    }

    /// The function for people: a component's function after its path, as
    /// `betterAuth/adapter:findOne`.
    fn display_function(&self) -> String {
        match self.component_path.as_deref().filter(|c| !c.is_empty()) {
            Some(component) => format!("{component}/{}", self.function()),
            None => self.function(),
        }
    }

    fn count(&self) -> u64 {
        self.count.or(self.occ_calls).unwrap_or(0)
    }

    fn events(&self) -> &[RecentEvent] {
        self.recent_events.as_deref().unwrap_or_default()
    }

    /// Whether the function is one that logged the list, as a caller or a component function.
    fn ran(&self, finding: &Finding) -> bool {
        let function = self.function();
        let qualified = self.display_function();
        finding
            .callers
            .iter()
            .chain(&finding.component_functions)
            .map(|c| strip_js_extension(&c.function))
            .any(|c| c == function || c == qualified)
    }

    /// Whether one of the recent events is an execution that logged the list.
    fn logged(&self, requests: Option<&RequestKeys>) -> bool {
        let Some(requests) = requests else {
            return false;
        };
        self.events()
            .iter()
            .filter_map(|e| e.request_id.as_deref())
            .any(|id| requests.contains(&request_key(id)))
    }

    /// This insight as the suggestion shows it, when it is behind the suggestion.
    fn join(&self, finding: &Finding, requests: Option<&RequestKeys>) -> Option<InsightRef> {
        let reads: Vec<&TableRead> = self
            .events()
            .iter()
            .flat_map(|e| e.calls.iter().flatten())
            .collect();
        let on_table: Vec<&&TableRead> = reads
            .iter()
            .filter(|r| same_table(&r.table_name, &finding.table))
            .collect();
        let joined = match self.class() {
            Class::Resource => {
                (self.ran(finding) && (reads.is_empty() || !on_table.is_empty()))
                    || self.logged(requests)
            }
            Class::Occ => {
                self.occ_table_name
                    .as_deref()
                    .is_some_and(|t| same_table(t, &finding.table))
                    && (self.ran(finding) || self.logged(requests))
            }
            Class::Unknown => false,
        };
        joined.then(|| InsightRef {
            kind: self.kind.clone(),
            severity: self.severity.clone(),
            function: self.display_function(),
            count: self.count(),
            documents_read: (!on_table.is_empty())
                .then(|| on_table.iter().map(|r| r.documents_read).sum()),
        })
    }

    /// `documentsReadLimit messages:listAll ×3`, for the note on unjoined insights.
    fn describe(&self) -> String {
        let table = self
            .occ_table_name
            .as_deref()
            .map(|t| format!(" on {t}"))
            .unwrap_or_default();
        format!(
            "{} {} ×{}{table}",
            self.kind,
            self.display_function(),
            self.count()
        )
    }
}

/// Whether an insight's table name is the suggestion's table. `insights.ts` types `table_name`
/// and `occTableName` as plain strings and documents no form for a component's tables, so a
/// name qualified by the component's path (`betterAuth/member`, `betterAuth:member`) is taken
/// as well as the bare name the logs print.
fn same_table(name: &str, table: &str) -> bool {
    name == table
        || name
            .rsplit_once(['/', ':'])
            .is_some_and(|(_, bare)| bare == table)
}

/// Attaches to each finding the insights behind it (replacing any it had); returns the notes:
/// the insights that join no finding, and a hint when they lack `--details`. `requests` gives
/// the executions that logged a finding, where the logs carry request ids.
pub(crate) fn join<'a>(
    insights: &Insights,
    findings: &mut [Finding],
    requests: impl Fn(&Finding) -> Option<&'a RequestKeys>,
) -> Vec<String> {
    let mut joined = vec![false; insights.insights.len()];
    for finding in findings.iter_mut() {
        let requests = requests(finding);
        finding.insights = insights
            .insights
            .iter()
            .zip(joined.iter_mut())
            .filter_map(|(insight, joined)| {
                let found = insight.join(finding, requests)?;
                *joined = true;
                Some(found)
            })
            .collect();
    }
    let mut notes = Vec::new();
    let unjoined: Vec<String> = insights
        .insights
        .iter()
        .zip(&joined)
        .filter(|(_, joined)| !**joined)
        .map(|(insight, _)| insight.describe())
        .collect();
    if !unjoined.is_empty() {
        notes.push(format!(
            "{} of {} insight(s){} join no suggestion: {}. They are not about a missing Better \
             Auth index, or the executions behind them are not in these logs.",
            unjoined.len(),
            insights.insights.len(),
            insights
                .deployment_name
                .as_deref()
                .map(|d| format!(" of {d}"))
                .unwrap_or_default(),
            unjoined.join("; ")
        ));
    }
    if !insights.insights.is_empty() && insights.insights.iter().all(|i| i.recent_events.is_none())
    {
        notes.push(format!(
            "the insights carry no recent events (saved without `--details`): they were joined by \
             function alone, not by table or request id; save `{COMMAND}` instead"
        ));
    }
    notes
}

/// Reads the saved output of `npx convex insights --json --details`; `-` reads stdin.
pub(crate) fn load(path: &Path) -> Result<Insights, InsightsError> {
    let stdin = path.as_os_str() == "-";
    let shown = if stdin {
        "<stdin>".to_owned()
    } else {
        path.display().to_string()
    };
    let io = |source| InsightsError::Io {
        path: shown.clone(),
        source,
    };
    let text = if stdin {
        let mut input = std::io::stdin();
        if input.is_terminal() {
            return Err(InsightsError::TerminalStdin);
        }
        let mut text = String::new();
        input.read_to_string(&mut text).map_err(io)?;
        text
    } else {
        std::fs::read_to_string(path).map_err(io)?
    };
    parse(&text, &shown)
}

/// Parses the command's stdout; `source` names it in the error.
pub(crate) fn parse(text: &str, source: &str) -> Result<Insights, InsightsError> {
    let text = text.trim_start_matches('\u{feff}');
    serde_json::from_str(text).map_err(|error| InsightsError::Format {
        path: source.to_owned(),
        source: error,
        hint: hint_for(text),
    })
}

/// What went wrong, when the text says it: the CLI's human-readable output instead of `--json`.
fn hint_for(text: &str) -> String {
    let start = text.trim_start();
    if start.starts_with("Found ") || start.starts_with("No issues found") {
        format!(" (this is the command's text output: save `{COMMAND}` instead)")
    } else {
        String::new()
    }
}

/// `--insights -` and logs from stdin cannot share it.
pub(crate) fn check_stdin(insights: Option<&Path>, logs: &[PathBuf]) -> Result<(), InsightsError> {
    let dash = |p: &Path| p.as_os_str() == "-";
    if insights.is_some_and(dash) && logs.iter().any(|p| dash(p)) {
        return Err(InsightsError::SharedStdin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::CallerCount;

    fn finding(table: &str, callers: &[&str], via: &[&str]) -> Finding {
        let list = |names: &[&str]| {
            names
                .iter()
                .map(|f| CallerCount {
                    function: (*f).to_owned(),
                    count: 1,
                })
                .collect()
        };
        Finding {
            table: table.to_owned(),
            fields: vec!["userId".to_owned()],
            callers: list(callers),
            component_functions: list(via),
            ..Finding::default()
        }
    }

    fn insights(json: &str) -> Insights {
        parse(json, "test").expect("valid insights")
    }

    #[test]
    fn a_resource_insight_joins_by_function_and_table_read() {
        let ins = insights(
            r#"{"insights":[{"kind":"documentsReadLimit","severity":"error",
            "functionId":"sessions.js:list","componentPath":null,"count":2,"recentEvents":[
            {"request_id":"r1","calls":[{"table_name":"session","documents_read":31000},
            {"table_name":"user","documents_read":1}]},
            {"request_id":"r2","calls":[{"table_name":"session","documents_read":500}]}]}]}"#,
        );
        let mut found = vec![
            finding("session", &["sessions:list"], &["adapter:findMany"]),
            finding("account", &["sessions:list"], &[]),
        ];
        let notes = join(&ins, &mut found, |_| None);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(
            found[0].insights,
            [InsightRef {
                kind: "documentsReadLimit".into(),
                severity: "error".into(),
                function: "sessions:list".into(),
                count: 2,
                documents_read: Some(31500),
            }]
        );
        // The same function, but its events read no `account`.
        assert!(found[1].insights.is_empty());
    }

    #[test]
    fn a_request_id_joins_whatever_the_function() {
        let ins = insights(
            r#"{"insights":[{"kind":"documentsReadThreshold","severity":"warning",
            "functionId":"other:fn","count":1,"recentEvents":[{"request_id":"abc","calls":[]}]}]}"#,
        );
        let mut found = vec![finding("member", &["members:get"], &[])];
        let requests: RequestKeys = [request_key("abc")].into_iter().collect();
        join(&ins, &mut found, |_| Some(&requests));
        assert_eq!(found[0].insights.len(), 1);
        assert_eq!(found[0].insights[0].documents_read, None);
    }

    #[test]
    fn an_occ_insight_needs_the_table_and_the_function() {
        let ins = insights(
            r#"{"insights":[{"kind":"occRetried","severity":"warning","functionId":"adapter.js:create",
            "componentPath":"betterAuth","occCalls":4,"occTableName":"session","recentEvents":[]},
            {"kind":"occFailedPermanently","severity":"error","functionId":"adapter:create",
            "componentPath":"betterAuth","occCalls":1,"occTableName":"user","recentEvents":[]}]}"#,
        );
        let mut found = vec![finding("session", &[], &["adapter:create"])];
        let notes = join(&ins, &mut found, |_| None);
        assert_eq!(found[0].insights.len(), 1);
        assert_eq!(found[0].insights[0].function, "betterAuth/adapter:create");
        assert_eq!(found[0].insights[0].count, 4);
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].contains("occFailedPermanently betterAuth/adapter:create ×1 on user"),
            "{notes:?}"
        );
    }

    #[test]
    fn without_details_the_function_alone_joins_and_a_note_says_so() {
        let ins = insights(
            r#"{"deploymentName":"happy-otter-123","insights":[{"kind":"bytesReadThreshold",
            "severity":"warning","functionId":"sessions:list","componentPath":null,"count":5}]}"#,
        );
        let mut found = vec![finding("session", &["sessions:list"], &[])];
        let notes = join(&ins, &mut found, |_| None);
        assert_eq!(found[0].insights.len(), 1);
        assert!(notes[0].contains("--details"), "{notes:?}");
    }

    #[test]
    fn unknown_kinds_and_component_qualified_tables() {
        let ins = insights(
            r#"{"insights":[{"kind":"someFutureKind","severity":"warning","functionId":"a:b"},
            {"kind":"documentsReadLimit","severity":"error","functionId":"a:b","count":1,
            "recentEvents":[{"request_id":"x","calls":[{"table_name":"betterAuth/member",
            "documents_read":32001}]}]}]}"#,
        );
        let mut found = vec![finding("member", &["a:b"], &[])];
        let notes = join(&ins, &mut found, |_| None);
        assert_eq!(found[0].insights.len(), 1);
        assert_eq!(found[0].insights[0].documents_read, Some(32001));
        assert!(
            notes[0].starts_with("1 of 2 insight(s) join no suggestion: someFutureKind a:b ×0")
        );
    }

    #[test]
    fn the_text_output_is_a_clear_error() {
        let err = parse("Found 1 error in the last 72 hours:\n", "saved.txt")
            .expect_err("text is not JSON");
        let text = err.to_string();
        assert!(text.starts_with("saved.txt: not the output of `npx convex insights"));
        assert!(text.contains("text output"), "{text}");
        let err = parse(r#"{"deploymentName":"x"}"#, "f.json").expect_err("no insights");
        assert!(
            err.to_string().contains("missing field `insights`"),
            "{err}"
        );
    }

    #[test]
    fn stdin_cannot_carry_both() {
        let dash = PathBuf::from("-");
        assert!(check_stdin(Some(&dash), std::slice::from_ref(&dash)).is_err());
        assert!(check_stdin(Some(&dash), &["logs.jsonl".into()]).is_ok());
        assert!(check_stdin(Some(Path::new("i.json")), &[dash]).is_ok());
    }
}

//! Axiom's APL query API: the warnings and errors filtered on Axiom's side, paged by time, then
//! the matched executions' `function_execution` records by request id, in batches.
//!
//! `POST /v1/datasets/_apl?format=tabular` (edge deployments: `/v1/query/_apl`), body
//! `{apl, startTime, endTime}`; the tabular answer is column-major (`tables[].fields`,
//! `tables[].columns`) and says `status.isPartial` when Axiom stopped early.

use super::{Http, LogStoreError, PageEnd, Pulled, RetryPolicy, Secret, TwoPasses, Window};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

pub const DEFAULT_URL: &str = "https://api.axiom.co";
/// Rows per page: Axiom's default result limit.
pub const PAGE_ROWS: usize = 10_000;
const STORE: &str = "Axiom";

pub struct Axiom {
    http: Http,
    endpoint: String,
    /// `Bearer <token>`.
    bearer: Secret,
    org: Option<Secret>,
    dataset: String,
    page_rows: usize,
}

impl Axiom {
    pub fn new(
        url: &str,
        token: Secret,
        org: Option<Secret>,
        dataset: &str,
        retry: RetryPolicy,
    ) -> Result<Self, LogStoreError> {
        let base = url.trim_end_matches('/');
        // Edge deployments serve queries at their own path.
        let path = if base.contains(".edge.") {
            "/v1/query/_apl"
        } else {
            "/v1/datasets/_apl"
        };
        let mut secrets = vec![token.clone()];
        secrets.extend(org.clone());
        Ok(Self {
            http: Http::new(STORE, retry, secrets)?,
            endpoint: format!("{base}{path}?format=tabular"),
            bearer: Secret::new(format!("Bearer {}", token.expose())),
            org,
            dataset: dataset.to_owned(),
            page_rows: PAGE_ROWS,
        })
    }

    /// Smaller pages (tests).
    pub fn with_page_rows(mut self, rows: usize) -> Self {
        self.page_rows = rows.max(1);
        self
    }

    /// The APL of the first pass: console warnings and thrown errors that mention a needle.
    pub fn matches_apl(&self, needles: &[String]) -> String {
        let any = |field: &str| {
            needles
                .iter()
                .map(|n| format!("['{field}'] contains_cs {}", apl_string(n)))
                .collect::<Vec<_>>()
                .join(" or ")
        };
        format!(
            "{} | where (['data.topic'] == \"console\" and ({})) or (['data.topic'] == \
             \"function_execution\" and ({}))",
            self.source(),
            any("data.message"),
            any("data.error_message"),
        )
    }

    /// The APL of the second pass: what these executions cost, and their read-limit warnings.
    pub fn executions_apl(&self, ids: &[String]) -> String {
        let list = ids
            .iter()
            .map(|id| apl_string(id))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{} | where ['data.function.request_id'] in ({list}) and (['data.topic'] == \
             \"function_execution\" or ['data.system_code'] contains_cs \"TooMany\")",
            self.source()
        )
    }

    fn source(&self) -> String {
        format!(
            "['{}']",
            self.dataset.replace('\\', "\\\\").replace('\'', "\\'")
        )
    }

    /// One query, paged by `_time`: each page starts at the last row's time, and the rows
    /// already read at that instant are skipped. Returns whether `max_events` stopped it.
    pub(super) async fn paged(
        &self,
        apl: &str,
        window: &Window,
        max_events: Option<u64>,
        seen: &mut HashSet<String>,
        pulled: &mut Pulled,
    ) -> Result<PageEnd, LogStoreError> {
        let apl = format!("{apl} | sort by _time asc | limit {}", self.page_rows);
        let mut start = window.start.clone();
        let mut taken = 0u64;
        let mut end = PageEnd::default();
        loop {
            let body = json!({"apl": apl, "startTime": start, "endTime": window.end});
            let mut headers = vec![("authorization", &self.bearer)];
            if let Some(org) = &self.org {
                headers.push(("x-axiom-org-id", org));
            }
            let (answer, bytes) = self.http.post(&self.endpoint, &headers, &body).await?;
            pulled.requests += 1;
            pulled.bytes += bytes;
            end.partial |=
                answer.pointer("/status/isPartial").and_then(Value::as_bool) == Some(true);
            let rows = rows(&answer)?;
            let count = rows.len();
            let mut last_time = None;
            let mut fresh = 0;
            for row in rows {
                last_time = row.get("_time").map(time_key).or(last_time);
                let key = row.to_string();
                if !seen.insert(key) {
                    continue;
                }
                if max_events.is_some_and(|cap| taken >= cap) {
                    end.capped = true;
                    return Ok(end);
                }
                fresh += 1;
                taken += 1;
                pulled.events.push(row);
            }
            if count < self.page_rows {
                return Ok(end);
            }
            match last_time {
                Some(t) if fresh > 0 => start = t,
                _ => {
                    pulled.notes.push(format!(
                        "Axiom: more than {} events share one timestamp; the rest were skipped.",
                        self.page_rows
                    ));
                    return Ok(end);
                }
            }
        }
    }
}

/// An APL string literal.
fn apl_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A `_time` as the next page's `startTime`: Axiom answers RFC 3339; a number is Unix ms.
fn time_key(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n
            .as_i64()
            .and_then(crate::frame::json::format_unix_millis)
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

fn time_of(event: &Value) -> i64 {
    match event.get("_time") {
        Some(Value::String(s)) => super::parse_rfc3339_millis(s).unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// The rows of a tabular answer, each re-assembled as the event the Axiom sink wrote: dotted
/// field names (`data.function.request_id`) become nested objects; nulls are left out.
pub fn rows(answer: &Value) -> Result<Vec<Value>, LogStoreError> {
    let decode = |detail: &str| LogStoreError::Decode {
        store: STORE,
        detail: detail.to_owned(),
    };
    let Some(table) = answer
        .get("tables")
        .and_then(Value::as_array)
        .and_then(|t| t.first())
    else {
        return Ok(Vec::new());
    };
    let fields: Vec<&str> = table
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| decode("a table without `fields`"))?
        .iter()
        .map(|f| f.get("name").and_then(Value::as_str).unwrap_or(""))
        .collect();
    let columns = table
        .get("columns")
        .and_then(Value::as_array)
        .ok_or_else(|| decode("a table without `columns`"))?;
    if columns.len() != fields.len() {
        return Err(decode("`columns` and `fields` differ in length"));
    }
    let height = columns
        .iter()
        .map(|c| c.as_array().map_or(0, Vec::len))
        .max()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(height);
    for row in 0..height {
        let mut event = Map::new();
        for (name, column) in fields.iter().zip(columns) {
            let Some(value) = column.get(row).filter(|v| !v.is_null()) else {
                continue;
            };
            insert_path(&mut event, name, value.clone());
        }
        out.push(Value::Object(event));
    }
    Ok(out)
}

fn insert_path(obj: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => match (obj.get_mut(path), value) {
            (Some(Value::Object(existing)), Value::Object(more)) => existing.extend(more),
            (_, value) => {
                obj.insert(path.to_owned(), value);
            }
        },
        Some((head, rest)) => {
            let entry = obj
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert_path(inner, rest, value);
            }
        }
    }
}

impl TwoPasses for Axiom {
    const NAME: &'static str = "Axiom";
    const REQUEST_ID: &'static str = "/data/function/request_id";
    const PARTIAL: &'static str = "status.isPartial";

    fn matches(&self, needles: &[String]) -> String {
        self.matches_apl(needles)
    }

    fn executions(&self, ids: &[String]) -> String {
        self.executions_apl(ids)
    }

    async fn page(
        &self,
        query: &str,
        window: &Window,
        max_events: Option<u64>,
        seen: &mut HashSet<String>,
        pulled: &mut Pulled,
    ) -> Result<PageEnd, LogStoreError> {
        self.paged(query, window, max_events, seen, pulled).await
    }

    fn time_of(event: &Value) -> i64 {
        time_of(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabular_rows_are_nested_again() {
        let answer = json!({"tables": [{
            "fields": [{"name": "_time"}, {"name": "data.topic"}, {"name": "data.function.request_id"}, {"name": "data.message"}],
            "columns": [["2026-01-15T14:03:07.123Z"], ["console"], ["42"], [null]]
        }]});
        assert_eq!(
            rows(&answer).unwrap(),
            vec![
                json!({"_time": "2026-01-15T14:03:07.123Z", "data": {"topic": "console", "function": {"request_id": "42"}}})
            ]
        );
    }
}

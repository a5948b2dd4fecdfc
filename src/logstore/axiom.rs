//! Axiom's APL query API: the warnings and errors filtered on Axiom's side, paged by time
//! (exactly, however many rows share one instant), then the matched executions'
//! `function_execution` records by request id, in batches.
//!
//! `POST /v1/datasets/_apl?format=tabular` (edge deployments: `/v1/query/_apl`), body
//! `{apl, startTime, endTime}`; the tabular answer is column-major (`tables[].fields`,
//! `tables[].columns`) and says `status.isPartial` when Axiom stopped early.

use super::http::Http;
use super::{LogStoreError, PageEnd, Pulled, RetryPolicy, Secret, TwoPasses, Window};
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

    /// One query, paged by `_time` as Axiom documents it (`sort by _time asc | limit N`, then
    /// the next page from the last row's time), without losing a row however many share one
    /// instant: a full page keeps its rows before its last time T, the whole run at T is read
    /// by a query of its own, and the next page starts strictly after T.
    pub(super) async fn paged(
        &self,
        apl: &str,
        window: &Window,
        max_events: Option<u64>,
        seen: &mut HashSet<String>,
        pulled: &mut Pulled,
    ) -> Result<PageEnd, LogStoreError> {
        let mut taker = Taker {
            max_events,
            taken: 0,
            end: PageEnd::default(),
            seen,
            pulled,
        };
        let (window_start, window_end) = (window.start.to_string(), window.end.to_string());
        let mut after: Option<String> = None;
        loop {
            let (query, start) = match &after {
                None => (
                    format!("{apl} | sort by _time asc | limit {}", self.page_rows),
                    window_start.as_str(),
                ),
                Some(t) => (
                    format!(
                        "{apl} | where _time > datetime({}) | sort by _time asc | limit {}",
                        apl_string(t),
                        self.page_rows
                    ),
                    t.as_str(),
                ),
            };
            let (rows, _) = self.query(&query, start, &window_end, &mut taker).await?;
            if rows.len() < self.page_rows {
                taker.take(rows);
                return Ok(taker.end);
            }
            let Some(last) = rows.last().and_then(|r| r.get("_time")).map(time_key) else {
                // Without a time there is nowhere to go on from.
                taker.take(rows);
                taker.end.cut = true;
                return Ok(taker.end);
            };
            let at_last = rows
                .iter()
                .filter(|r| r.get("_time").map(time_key).as_deref() == Some(&last))
                .count();
            let before: Vec<Value> = rows
                .into_iter()
                .filter(|r| r.get("_time").map(time_key).as_deref() != Some(&last))
                .collect();
            if taker.take(before) {
                return Ok(taker.end);
            }
            if self
                .run(apl, &last, at_last, &window_end, &mut taker)
                .await?
            {
                return Ok(taker.end);
            }
            after = Some(last);
        }
    }

    /// Every row at the instant `at` (a page held `on_page` of them): one query restricted to
    /// it, its limit doubled from the page size until the answer is short of it, up to
    /// `RUN_CAP` rows; beyond that the run is cut. Returns whether the cap stopped it.
    async fn run(
        &self,
        apl: &str,
        at: &str,
        on_page: usize,
        end: &str,
        taker: &mut Taker<'_>,
    ) -> Result<bool, LogStoreError> {
        let cap = RUN_CAP.max(self.page_rows);
        // A page that was all one instant says the run is longer than a page.
        let mut limit = if on_page >= self.page_rows {
            self.page_rows.saturating_mul(2)
        } else {
            self.page_rows
        }
        .min(cap);
        loop {
            let query = format!(
                "{apl} | where _time == datetime({}) | sort by _time asc | limit {limit}",
                apl_string(at)
            );
            let (rows, matched) = self.query(&query, at, end, taker).await?;
            let read = rows.len() as u64;
            if rows.len() < limit || limit >= cap {
                if rows.len() >= limit {
                    taker.end.cut = true;
                    if let Some(left) = matched.filter(|&m| m > read).map(|m| m - read) {
                        *taker.end.missing.get_or_insert(0) += left;
                    }
                }
                return Ok(taker.take(rows));
            }
            limit = limit.saturating_mul(2).min(cap);
        }
    }

    /// One request: the rows, and how many rows Axiom says matched (`status.rowsMatched`).
    async fn query(
        &self,
        apl: &str,
        start: &str,
        end: &str,
        taker: &mut Taker<'_>,
    ) -> Result<(Vec<Value>, Option<u64>), LogStoreError> {
        let body = json!({"apl": apl, "startTime": start, "endTime": end});
        let mut headers = vec![("authorization", &self.bearer)];
        if let Some(org) = &self.org {
            headers.push(("x-axiom-org-id", org));
        }
        let (answer, bytes) = self.http.post(&self.endpoint, &headers, &body).await?;
        taker.pulled.requests += 1;
        taker.pulled.bytes += bytes;
        taker.end.partial |=
            answer.pointer("/status/isPartial").and_then(Value::as_bool) == Some(true);
        let matched = answer
            .pointer("/status/rowsMatched")
            .and_then(Value::as_u64);
        Ok((rows(&answer)?, matched))
    }
}

/// The longest run of rows at one instant that is read; beyond it the window is cut by paging.
const RUN_CAP: usize = 65_536;

/// Where one query's pages go: new rows only, at most `max_events`, into the pull.
struct Taker<'p> {
    max_events: Option<u64>,
    taken: u64,
    end: PageEnd,
    seen: &'p mut HashSet<String>,
    pulled: &'p mut Pulled,
}

impl Taker<'_> {
    /// Keeps the rows not seen before; returns whether the cap stopped it.
    fn take(&mut self, rows: Vec<Value>) -> bool {
        for row in rows {
            if !self.seen.insert(row.to_string()) {
                continue;
            }
            if self.max_events.is_some_and(|cap| self.taken >= cap) {
                self.end.capped = true;
                return true;
            }
            self.taken += 1;
            self.pulled.events.push(row);
        }
        false
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
            .and_then(crate::time::format_unix_millis)
            .unwrap_or_else(|| n.to_string()),
        other => other.to_string(),
    }
}

fn time_of(event: &Value) -> i64 {
    match event.get("_time") {
        Some(Value::String(s)) => crate::time::parse_rfc3339_millis(s).unwrap_or(0),
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

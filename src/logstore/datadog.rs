//! Datadog's Logs Search API: the warnings and errors filtered on Datadog's side with cursor
//! paging, then the matched executions' `function_execution` events by request id (Datadog
//! has no join), re-assembled as the flattened events the Convex log stream sends.
//!
//! `POST /api/v2/logs/events/search` on the site's API host, headers `DD-API-KEY` and
//! `DD-APPLICATION-KEY`, body `{filter: {query, from, to}, sort, page: {cursor, limit}}`; the next
//! page's cursor is `meta.page.after`, and `meta.status: "timeout"` marks a partial answer.

use super::http::Http;
use super::{LogStoreError, PageEnd, Pulled, RetryPolicy, Secret, TwoPasses, Window};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// Events per page: the API's maximum.
pub(crate) const PAGE_LIMIT: usize = 1000;
const STORE: &str = "Datadog";

/// The API host of a Datadog site.
pub(crate) fn site_url(site: &str) -> Option<&'static str> {
    Some(match site {
        "us1" => "https://api.datadoghq.com",
        "us3" => "https://api.us3.datadoghq.com",
        "us5" => "https://api.us5.datadoghq.com",
        "eu" => "https://api.datadoghq.eu",
        "ap1" => "https://api.ap1.datadoghq.com",
        _ => return None,
    })
}

pub struct Datadog {
    http: Http,
    endpoint: String,
    api_key: Secret,
    app_key: Secret,
    extra: Option<String>,
    page_limit: usize,
}

impl Datadog {
    pub fn new(
        url: &str,
        api_key: Secret,
        app_key: Secret,
        extra: Option<String>,
        retry: RetryPolicy,
    ) -> Result<Self, LogStoreError> {
        Ok(Self {
            http: Http::new(STORE, retry, vec![api_key.clone(), app_key.clone()])?,
            endpoint: format!("{}/api/v2/logs/events/search", url.trim_end_matches('/')),
            api_key,
            app_key,
            extra: extra.filter(|q| !q.trim().is_empty()),
            page_limit: PAGE_LIMIT,
        })
    }

    /// Smaller pages (tests).
    pub fn with_page_limit(mut self, limit: usize) -> Self {
        self.page_limit = limit.clamp(1, PAGE_LIMIT);
        self
    }

    /// The first pass: console lines (the message) and thrown errors (`@error_message`) that
    /// mention a needle.
    pub fn matches_query(&self, needles: &[String]) -> String {
        let mut terms: Vec<String> = needles.iter().map(|n| dd_phrase(n)).collect();
        terms.extend(
            needles
                .iter()
                .map(|n| format!("@error_message:*{}*", dd_escape(n))),
        );
        self.scoped(&format!("({})", terms.join(" OR ")))
    }

    /// The second pass: these executions' `function_execution` events, and their read-limit
    /// warnings.
    pub fn executions_query(&self, ids: &[String]) -> String {
        let ids = ids
            .iter()
            .map(|id| format!("@function.request_id:{}", dd_escape(id)))
            .collect::<Vec<_>>()
            .join(" OR ");
        self.scoped(&format!(
            "(@topic:function_execution OR @system_code:*TooMany*) ({ids})"
        ))
    }

    fn scoped(&self, query: &str) -> String {
        match &self.extra {
            Some(extra) => format!("source:convex {query} ({extra})"),
            None => format!("source:convex {query}"),
        }
    }

    pub(super) async fn paged(
        &self,
        query: &str,
        window: &Window,
        max_events: Option<u64>,
        seen: &mut HashSet<String>,
        pulled: &mut Pulled,
    ) -> Result<PageEnd, LogStoreError> {
        let mut cursor: Option<String> = None;
        let mut taken = 0u64;
        let mut end = PageEnd::default();
        loop {
            let mut page = json!({"limit": self.page_limit});
            if let Some(c) = &cursor {
                page["cursor"] = json!(c);
            }
            let body = json!({
                "filter": {
                    "query": query,
                    "from": window.start.to_string(),
                    "to": window.end.to_string(),
                },
                "sort": "timestamp",
                "page": page,
            });
            let headers = [
                ("dd-api-key", &self.api_key),
                ("dd-application-key", &self.app_key),
            ];
            let (answer, bytes) = self.http.post(&self.endpoint, &headers, &body).await?;
            pulled.requests += 1;
            pulled.bytes += bytes;
            end.partial |=
                answer.pointer("/meta/status").and_then(Value::as_str) == Some("timeout");
            let data = answer
                .get("data")
                .and_then(Value::as_array)
                .ok_or_else(|| LogStoreError::Decode {
                    store: STORE,
                    detail: "no `data` list".to_owned(),
                })?;
            for item in data {
                let id = item
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| item.to_string());
                if !seen.insert(id) {
                    continue;
                }
                if max_events.is_some_and(|cap| taken >= cap) {
                    end.capped = true;
                    return Ok(end);
                }
                taken += 1;
                pulled.events.push(event(item));
            }
            match answer.pointer("/meta/page/after").and_then(Value::as_str) {
                Some(after) if !data.is_empty() && cursor.as_deref() != Some(after) => {
                    cursor = Some(after.to_owned());
                }
                // A next page that brings nothing new, or the same cursor again: going on would
                // never end, so what is after it stays unread.
                Some(_) => {
                    end.cut = true;
                    return Ok(end);
                }
                None => return Ok(end),
            }
        }
    }
}

/// One search result as the flattened event the Convex log stream sent: the custom attributes,
/// with the reserved ones (`message`, `host`, `service`, `timestamp`) put back.
pub(crate) fn event(item: &Value) -> Value {
    let outer = item.get("attributes").and_then(Value::as_object);
    let mut flat: Map<String, Value> = outer
        .and_then(|o| o.get("attributes"))
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(outer) = outer {
        if let Some(message) = outer.get("message").and_then(Value::as_str)
            && !message.is_empty()
        {
            flat.insert("message".to_owned(), json!(message));
        }
        if let Some(host) = outer.get("host") {
            flat.entry("hostname").or_insert_with(|| host.clone());
        }
        if let Some(service) = outer.get("service") {
            flat.entry("service").or_insert_with(|| service.clone());
        }
        if !flat.get("timestamp").is_some_and(Value::is_number)
            && let Some(ms) = outer
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(crate::time::parse_rfc3339_millis)
        {
            flat.insert("timestamp".to_owned(), json!(ms));
        }
    }
    flat.entry("ddsource").or_insert_with(|| json!("convex"));
    Value::Object(flat)
}

/// A quoted phrase of Datadog's search syntax.
fn dd_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A bare value of Datadog's search syntax: its special characters (`= - ! & | > < ( ) { } [ ]
/// " * ? : \ #`) and spaces escaped with `\`; `/` is not special.
fn dd_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() || "+=-!&|><(){}[]^\"~*?:\\#".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

impl TwoPasses for Datadog {
    const NAME: &'static str = "Datadog";
    const REQUEST_ID: &'static str = "/function/request_id";
    const PARTIAL: &'static str = "meta.status: timeout";

    fn matches(&self, needles: &[String]) -> String {
        self.matches_query(needles)
    }

    fn executions(&self, ids: &[String]) -> String {
        self.executions_query(ids)
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
        event.get("timestamp").and_then(Value::as_i64).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_result_is_flattened_back() {
        let item = json!({"id": "AAA", "type": "log", "attributes": {
            "timestamp": "2026-01-15T14:03:07.123Z", "host": "happy-otter-123", "service": "my-app",
            "message": "hello", "attributes": {"topic": "console", "function": {"request_id": "7"}}
        }});
        assert_eq!(
            event(&item),
            json!({"topic": "console", "function": {"request_id": "7"}, "message": "hello",
                   "hostname": "happy-otter-123", "service": "my-app",
                   "timestamp": 1_768_485_787_123i64, "ddsource": "convex"})
        );
    }
}

//! INTEGRATION: a stand-in line scanner until `parse`'s push scanner lands on main. It knows
//! only what `watch` needs: `convex logs --jsonl` entries, and text lines (`convex logs`,
//! `convex dev`) whose Better Auth warning sits on one line, object-inspect-quoted.
//! Replace the body of [`LineScanner::scan`] with the real scanner; the rest of `watch`
//! consumes only `Signal`s.

use crate::ingest::Line;
use crate::signal::{Location, Origin, Signal, SignalKind};
use regex::Regex;
use serde::Deserialize;
use std::sync::{Arc, LazyLock};

static WARNING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"Querying without an index on table "([^"]+)"\.[\s\S]*?in order:\s*\[([^\]]*)\]"#)
        .expect("valid regex")
});

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    identifier: Option<String>,
    request_id: Option<String>,
    #[serde(default)]
    log_lines: Vec<LogLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogLine {
    #[serde(default)]
    messages: Vec<String>,
    timestamp: Option<i64>,
    udf_path: Option<String>,
}

pub struct LineScanner {
    source: Arc<str>,
    rule: Arc<str>,
}

impl LineScanner {
    pub fn new(source: &str) -> Self {
        Self {
            source: source.into(),
            rule: "better-auth/missing-index".into(),
        }
    }

    pub fn scan(&mut self, line: &Line) -> Vec<Signal> {
        let text = line.text_lossy();
        let location = Location {
            source: self.source.clone(),
            line: line.number,
        };
        if text.trim_start().starts_with('{')
            && let Ok(entry) = serde_json::from_str::<Entry>(&text)
        {
            let mut out = Vec::new();
            for log in &entry.log_lines {
                let message = log
                    .messages
                    .iter()
                    .map(|m| unquote(m))
                    .collect::<Vec<_>>()
                    .join(" ");
                let origin = Origin {
                    function: entry.identifier.clone(),
                    component_function: log.udf_path.clone(),
                    request_id: entry.request_id.clone(),
                    timestamp: log.timestamp.map(|t| t.to_string()),
                };
                out.extend(self.signals(&message, &origin, &location));
            }
            return out;
        }
        let function = text
            .split_once("[CONVEX ")
            .and_then(|(_, rest)| rest.split_once(")] "))
            .and_then(|(head, _)| head.get(2..))
            .map(str::to_owned);
        let origin = Origin {
            function,
            ..Origin::default()
        };
        self.signals(&unescape(&text), &origin, &location)
    }

    fn signals(&self, text: &str, origin: &Origin, location: &Location) -> Vec<Signal> {
        WARNING
            .captures_iter(text)
            .map(|c| {
                let fields: Vec<String> = c[2]
                    .split(',')
                    .map(|f| f.trim().trim_matches(['\'', '"']).to_owned())
                    .filter(|f| !f.is_empty())
                    .collect();
                Signal {
                    table: c[1].to_owned(),
                    legacy_underscore: fields.iter().any(|f| f.starts_with('_') && f != "_id"),
                    fields,
                    kind: SignalKind::MissingIndexWarning,
                    rule_id: self.rule.clone(),
                    origin: origin.clone(),
                    location: location.clone(),
                }
            })
            .collect()
    }
}

/// object-inspect renders a string argument single-quoted with `\n`, `\'` and `\\` escapes.
fn unquote(message: &str) -> String {
    match message
        .strip_prefix('\'')
        .and_then(|m| m.strip_suffix('\''))
    {
        Some(inner) => unescape(inner),
        None => message.to_owned(),
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> Line {
        Line {
            number: 7,
            bytes: text.as_bytes().to_vec(),
        }
    }

    const MSG: &str = r#"'Querying without an index on table "member".\nThis can cause performance issues, and may hit the document read limit.\nTo fix, add an index that begins with the following fields in order:\n[organizationId, userId]'"#;

    #[test]
    fn finds_the_warning_in_a_cli_text_line() {
        let text = format!("11/8/2025, 9:15:14 AM [CONVEX Q(org:list)] [WARN] {MSG}");
        let s = LineScanner::new("x").scan(&line(&text));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].table, "member");
        assert_eq!(s[0].fields, ["organizationId", "userId"]);
        assert_eq!(s[0].origin.function.as_deref(), Some("org:list"));
    }

    #[test]
    fn finds_the_warning_in_a_jsonl_entry() {
        let entry = serde_json::json!({"kind":"Completion","identifier":"org:list","requestId":"r1",
            "logLines":[{"messages":[MSG],"timestamp":1,"level":"WARN","udfPath":"adapter.js:findMany"}]});
        let s = LineScanner::new("x").scan(&line(&entry.to_string()));
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].fields, ["organizationId", "userId"]);
        assert_eq!(
            s[0].origin.component_function.as_deref(),
            Some("adapter.js:findMany")
        );
        assert_eq!(s[0].origin.request_id.as_deref(), Some("r1"));
    }
}

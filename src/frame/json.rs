//! JSON records → log messages: `convex logs --jsonl` entries, log-stream events (webhook v2,
//! Axiom, Datadog, legacy v1, PostHog), and JSON-array bodies of those.

mod record;

use super::text::strip_js_extension;
use crate::signal::Origin;
use serde::Deserialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// One console line or error text from a JSON record, with who logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonMessage {
    pub text: String,
    pub origin: Origin,
}

/// What a JSON record held, beyond its messages.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JsonTally {
    /// Entries of a cached query result: the backend replays the original lines, so they are
    /// not counted again.
    pub cached_replays: u64,
}

/// What one execution read, as its record reports it, keyed by its request id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionUsage {
    pub request_id: String,
    /// `usageStats.databaseReadDocuments` (`--jsonl`) or `usage.database_read_documents`.
    pub documents_read: Option<u64>,
    /// `databaseReadBytes` / `database_read_bytes`, else the I/O counter.
    pub bytes_read: Option<u64>,
    /// The execution logged one of Convex's read-limit system warnings.
    pub limit_warning: bool,
}

/// Convex's read-limit system warnings (`crates/udf/src/warnings.rs`): logged once an execution
/// passes 80% of the limit, with `systemMetadata.code` / `system_code` `warning:<Code>`.
const READ_LIMIT_CODES: [&str; 3] = ["TooManyDocumentsRead", "TooManyReads", "TooManyBytesRead"];

/// Whether a JSON line without a message needle can still carry an execution's usage or a
/// read-limit warning: a cheap byte test before a full parse.
pub fn may_carry_usage(line: &[u8]) -> bool {
    memchr::memmem::find(line, b"usageStats").is_some()
        || memchr::memmem::find(line, b"function_execution").is_some()
        || memchr::memmem::find(line, b"TooMany").is_some()
}

/// Sends the usage and read-limit warnings a record holds. Cached results read nothing.
pub fn usage(value: &Value, emit: &mut dyn FnMut(ExecutionUsage)) {
    match value {
        Value::Array(items) => items.iter().for_each(|item| usage(item, emit)),
        Value::Object(_) => {
            if let Ok(probe) = UsageProbe::deserialize(value) {
                emit_usage(probe, read_limit_warning(value), emit);
            }
        }
        _ => {}
    }
}

/// Whether a record holds one of Convex's read-limit warnings: a `--jsonl` log line's
/// `systemMetadata.code`, or a console event's `system_code` (under `data` for Axiom).
fn read_limit_warning(value: &Value) -> bool {
    let event = value.get("data").unwrap_or(value);
    let in_lines = event
        .get("logLines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|line| line.pointer("/systemMetadata/code")?.as_str())
        .any(is_read_limit_code);
    let console = event.get("topic").and_then(Value::as_str) == Some("console")
        && event
            .get("system_code")
            .and_then(Value::as_str)
            .is_some_and(is_read_limit_code);
    in_lines || console
}

/// The usage fields of a record, deserialised without building the whole value: most JSONL
/// lines carry usage and no warning, and a full `Value` for each of them would cost more than
/// the rest of the scan.
#[derive(Deserialize, Default)]
#[serde(default)]
struct UsageProbe<'a> {
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Cow<'a, str>>,
    #[serde(rename = "cachedResult")]
    cached_result: Option<bool>,
    #[serde(rename = "usageStats")]
    usage_stats: Option<CliUsage>,
    #[serde(borrow)]
    topic: Option<Cow<'a, str>>,
    #[serde(borrow)]
    function: Option<FunctionProbe<'a>>,
    usage: Option<StreamUsage>,
    #[serde(borrow)]
    data: Option<Box<UsageProbe<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct FunctionProbe<'a> {
    #[serde(borrow)]
    request_id: Option<Cow<'a, str>>,
    cached: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct CliUsage {
    database_read_documents: Option<u64>,
    database_read_bytes: Option<u64>,
    database_io_read_bytes: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StreamUsage {
    database_read_documents: Option<u64>,
    database_read_bytes: Option<u64>,
    database_io_read_bytes: Option<u64>,
}

/// The usage one JSON line reports, for a line no message needle matched. A line that may
/// carry a read-limit warning is read whole (the warning sits in its log lines).
pub fn usage_of_line(
    line: &[u8],
    text: Option<&str>,
    emit: &mut dyn FnMut(ExecutionUsage),
) -> Result<(), serde_json::Error> {
    if memchr::memmem::find(line, b"TooMany").is_some() {
        usage(&decode::<Value>(line, text)?, emit);
    } else {
        emit_usage(decode(line, text)?, false, emit);
    }
    Ok(())
}

/// Decodes a JSON line from its text when it is known to be UTF-8 (serde then skips its check
/// of every string it borrows), from its bytes otherwise.
pub fn decode<'a, T: serde::Deserialize<'a>>(
    line: &'a [u8],
    text: Option<&'a str>,
) -> Result<T, serde_json::Error> {
    match text {
        Some(text) => serde_json::from_str(text),
        None => serde_json::from_slice(line),
    }
}

fn emit_usage(
    mut probe: UsageProbe<'_>,
    limit_warning: bool,
    emit: &mut dyn FnMut(ExecutionUsage),
) {
    // Axiom nests the event under `data`.
    while probe.kind.is_none() && probe.topic.is_none() {
        match probe.data.take() {
            Some(inner) => probe = *inner,
            None => return,
        }
    }
    let cli = probe.kind.as_deref().is_some_and(is_cli_entry_kind);
    let (request_id, cached, documents, bytes) = if cli {
        let stats = probe.usage_stats;
        if stats.is_none() && !limit_warning {
            return;
        }
        let stats = stats.unwrap_or_default();
        (
            probe.request_id,
            probe.cached_result,
            stats.database_read_documents,
            stats.database_read_bytes.or(stats.database_io_read_bytes),
        )
    } else {
        let function = probe.function.unwrap_or_default();
        match probe.topic.as_deref() {
            Some("function_execution") => {
                let stats = probe.usage.unwrap_or_default();
                (
                    function.request_id,
                    function.cached,
                    stats.database_read_documents,
                    stats.database_read_bytes.or(stats.database_io_read_bytes),
                )
            }
            Some("console") if limit_warning => (function.request_id, function.cached, None, None),
            _ => return,
        }
    };
    if let (Some(request_id), false) = (request_id, cached == Some(true)) {
        emit(ExecutionUsage {
            request_id: request_id.into_owned(),
            documents_read: documents,
            bytes_read: bytes,
            limit_warning,
        });
    }
}

fn is_read_limit_code(code: &str) -> bool {
    let code = code.strip_prefix("warning:").unwrap_or(code);
    READ_LIMIT_CODES.contains(&code)
}

/// Collects the messages of one JSON line (valid UTF-8) that contain any of `needles` and sends its usage,
/// as [`messages`] and [`usage`] do on its `Value`, without building one; `false` when the line
/// is not a shape the typed decode knows (then decode a `Value`).
pub fn typed_line(
    line: &str,
    needles: &[String],
    out: &mut Vec<JsonMessage>,
    tally: &mut JsonTally,
    emit: &mut dyn FnMut(ExecutionUsage),
) -> bool {
    let Some(record) = record::Record::decode(line) else {
        return false;
    };
    record.messages(needles, out, tally);
    record.usage(emit);
    true
}

/// Collects the messages of `value` that contain any of `needles`.
pub fn messages(
    value: &Value,
    needles: &[String],
    out: &mut Vec<JsonMessage>,
    tally: &mut JsonTally,
) {
    match value {
        Value::Array(items) => {
            for item in items {
                messages(item, needles, out, tally);
            }
        }
        Value::Object(obj) => object_messages(obj, needles, out, tally),
        _ => {}
    }
}

/// Keeps `text` as one of the record's messages when it contains any of `needles`.
pub(super) fn keep_if_mentioned(
    out: &mut Vec<JsonMessage>,
    needles: &[String],
    text: &str,
    origin: Origin,
) {
    if needles.iter().any(|n| text.contains(n.as_str())) {
        out.push(JsonMessage {
            text: text.to_owned(),
            origin,
        });
    }
}

fn object_messages(
    obj: &Map<String, Value>,
    needles: &[String],
    out: &mut Vec<JsonMessage>,
    tally: &mut JsonTally,
) {
    let push = |out: &mut Vec<JsonMessage>, text: &str, origin| {
        keep_if_mentioned(out, needles, text, origin);
    };
    if let Some(kind) = str_field(obj, "kind")
        && is_cli_entry_kind(kind)
    {
        if obj.get("cachedResult").and_then(Value::as_bool) == Some(true) {
            tally.cached_replays += 1;
            return;
        }
        let identifier = str_field(obj, "identifier");
        let entry_in_component = str_field(obj, "componentPath").is_some();
        let request_id = str_field(obj, "requestId");
        // A line or error the entry itself logged, with no component function of its own.
        let entry_origin = || {
            cli_origin(
                identifier,
                entry_in_component,
                None,
                request_id,
                obj.get("timestamp")
                    .and_then(Value::as_f64)
                    .and_then(seconds_to_rfc3339),
            )
        };
        for line in obj
            .get("logLines")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(line_obj) = line.as_object() else {
                // Older backends sent plain `"[LEVEL] messages"` strings.
                if let Some(text) = line.as_str() {
                    push(out, strip_level_prefix(text), entry_origin());
                }
                continue;
            };
            let text = joined_messages(line_obj);
            let origin = cli_origin(
                identifier,
                entry_in_component,
                str_field(line_obj, "udfPath"),
                request_id,
                line_obj
                    .get("timestamp")
                    .and_then(Value::as_f64)
                    .and_then(millis_to_rfc3339),
            );
            push(out, &text, origin);
        }
        if let Some(error) = str_field(obj, "error") {
            push(out, error, entry_origin());
        }
        return;
    }
    if let Some(topic) = str_field(obj, "topic") {
        let function = obj.get("function").and_then(Value::as_object);
        let origin = stream_origin(
            function.and_then(|f| str_field(f, "path")),
            function
                .and_then(|f| str_field(f, "component_path"))
                .is_some(),
            function.and_then(|f| str_field(f, "request_id")),
            obj.get("timestamp")
                .and_then(Value::as_f64)
                .and_then(millis_to_rfc3339),
        );
        let text = match topic {
            "console" => str_field(obj, "message"),
            "function_execution" => str_field(obj, "error_message"),
            _ => None,
        };
        if let Some(text) = text {
            push(out, text, origin);
        }
        return;
    }
    if let Some(topic) = str_field(obj, "_topic") {
        let origin = Origin {
            function: str_field(obj, "_functionPath")
                .map(strip_js_extension)
                .map(Arc::from),
            component_function: None,
            request_id: None,
            timestamp: obj
                .get("_timestamp")
                .and_then(Value::as_f64)
                .and_then(millis_to_rfc3339)
                .map(Arc::from),
        };
        match topic {
            "_console" => {
                if let Some(message) = str_field(obj, "message") {
                    push(out, strip_level_prefix(message), origin);
                }
            }
            "_execution_record" => {
                if let Some(reason) = str_field(obj, "reason") {
                    push(out, reason, origin);
                }
            }
            _ => {}
        }
        return;
    }
    // Axiom nests the event under `data`; PostHog carries it as a JSON string in `body`.
    if let Some(data) = obj.get("data") {
        messages(data, needles, out, tally);
        return;
    }
    if let Some(body) = obj
        .get("body")
        .and_then(|b| b.get("stringValue"))
        .and_then(Value::as_str)
        && let Ok(inner) = serde_json::from_str::<Value>(body)
    {
        messages(&inner, needles, out, tally);
        return;
    }
    // An unknown shape: keep any string that mentions a needle, without attribution.
    for value in obj.values() {
        match value {
            Value::String(s) => push(out, s, Origin::default()),
            Value::Array(_) | Value::Object(_) => messages(value, needles, out, tally),
            _ => {}
        }
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn joined_messages(line: &Map<String, Value>) -> String {
    match line.get("messages") {
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" "),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

/// Legacy v1 messages read `[LEVEL] <messages>`.
fn strip_level_prefix(message: &str) -> &str {
    for level in ["[LOG] ", "[INFO] ", "[WARN] ", "[ERROR] ", "[DEBUG] "] {
        if let Some(rest) = message.strip_prefix(level) {
            return rest;
        }
    }
    message
}

fn millis_to_rfc3339(ms: f64) -> Option<String> {
    format_unix_millis(ms as i64)
}

fn seconds_to_rfc3339(s: f64) -> Option<String> {
    format_unix_millis((s * 1000.0).round() as i64)
}

/// `--jsonl` entries are `Completion` records (and `Progress` ones for long actions).
fn is_cli_entry_kind(kind: &str) -> bool {
    kind == "Completion" || kind == "Progress"
}

/// Who logged a line of a `--jsonl` entry: the entry's function, and the component function
/// that logged it (`udfPath`) when a component call did; an entry that is itself a component
/// function is that function.
fn cli_origin(
    identifier: Option<&str>,
    entry_in_component: bool,
    sub_function: Option<&str>,
    request_id: Option<&str>,
    timestamp: Option<String>,
) -> Origin {
    let identifier = identifier.map(str::to_owned);
    let (function, component_function) = match sub_function.map(strip_js_extension) {
        Some(sub) => (identifier, Some(sub)),
        None if entry_in_component => (None, identifier),
        None => (identifier, None),
    };
    Origin {
        function: function.map(Arc::from),
        component_function: component_function.map(Arc::from),
        request_id: request_id.map(Arc::from),
        timestamp: timestamp.map(Arc::from),
    }
}

/// Who logged a log-stream event: its function, a component function when it has a
/// `component_path`.
fn stream_origin(
    path: Option<&str>,
    in_component: bool,
    request_id: Option<&str>,
    timestamp: Option<String>,
) -> Origin {
    let path: Option<Arc<str>> = path.map(strip_js_extension).map(Arc::from);
    Origin {
        function: if in_component { None } else { path.clone() },
        component_function: if in_component { path } else { None },
        request_id: request_id.map(Arc::from),
        timestamp: timestamp.map(Arc::from),
    }
}

/// Unix milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
pub fn format_unix_millis(ms: i64) -> Option<String> {
    let days = ms.div_euclid(86_400_000);
    let of_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3_600_000,
        of_day / 60_000 % 60,
        of_day / 1000 % 60,
        of_day % 1000
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_plain_string_log_lines_are_read() {
        let entry: Value = serde_json::from_str(
            r#"{"kind":"Completion","udfType":"Query","componentPath":"betterAuth","identifier":"adapter:findOne","logLines":["[WARN] 'No index found for user.email'"],"timestamp":1768485790.123,"requestId":"r1"}"#,
        )
        .unwrap();
        let mut out = Vec::new();
        messages(
            &entry,
            &["No index found".to_owned()],
            &mut out,
            &mut JsonTally::default(),
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].text, "'No index found for user.email'");
        assert_eq!(
            out[0].origin.component_function.as_deref(),
            Some("adapter:findOne")
        );
        assert_eq!(
            out[0].origin.timestamp.as_deref(),
            Some("2026-01-15T14:03:10.123Z")
        );
    }

    type Decoded = (Vec<JsonMessage>, JsonTally, Vec<ExecutionUsage>);

    fn through_value(line: &str, needles: &[String]) -> Option<Decoded> {
        let value: Value = serde_json::from_str(line).ok()?;
        let (mut out, mut tally, mut usages) = (Vec::new(), JsonTally::default(), Vec::new());
        messages(&value, needles, &mut out, &mut tally);
        usage(&value, &mut |u| usages.push(u));
        Some((out, tally, usages))
    }

    fn through_typed(line: &str, needles: &[String]) -> Option<Decoded> {
        let (mut out, mut tally, mut usages) = (Vec::new(), JsonTally::default(), Vec::new());
        typed_line(line, needles, &mut out, &mut tally, &mut |u| {
            usages.push(u);
        })
        .then_some((out, tally, usages))
    }

    /// Every line the typed decode accepts gives what the `Value` walk gives: the real sample
    /// lines, and odd variants of them (nulls, wrong types, arrays, Axiom's `data`, escapes).
    #[test]
    fn the_typed_decode_reads_as_the_value_walk_or_declines() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
        let mut lines: Vec<String> = Vec::new();
        for name in [
            "convex-logs.jsonl",
            "webhook-v2.jsonl",
            "datadog.jsonl",
            "log-stream-v1.jsonl",
        ] {
            let text = std::fs::read_to_string(root.join(name)).unwrap();
            lines.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned),
            );
        }
        let originals = lines.clone();
        for line in &originals {
            lines.push(format!(
                r#"{{"_time":"2026-01-15T14:03:10Z","data":{line}}}"#
            ));
            lines.push(format!("[{line}]"));
            lines.push(line.replacen('{', r#"{"data":null,"#, 1));
            lines.push(line.replacen('{', r#"{"function":["x"],"#, 1));
            lines.push(line.replace(r#""cachedResult":false"#, r#""cachedResult":true"#));
            lines.push(line.replace(
                r#""systemMetadata":null"#,
                r#""systemMetadata":{"code":"warning:TooManyDocumentsRead"}"#,
            ));
            lines.push(line.replace(
                r#""system_code":null"#,
                r#""system_code":"warning:TooManyReads""#,
            ));
            lines.push(line.replace(r#""messages":["#, r#""messages":[1,"#));
            lines.push(line.replace(r#""componentPath":null"#, r#""componentPath":"betterAuth""#));
            lines.push(line.replace(r#""timestamp":"#, r#""timestamp":"x","ts":"#));
            lines.push(line.replace("userId", r"user\u0049d"));
        }
        let needles = vec!["Querying without an index".to_owned(), "Listing".to_owned()];
        let mut typed = 0;
        for line in &lines {
            let Some(decoded) = through_typed(line, &needles) else {
                continue;
            };
            typed += 1;
            assert_eq!(Some(decoded), through_value(line, &needles), "{line}");
        }
        assert!(typed > originals.len(), "{typed} of {} lines", lines.len());
    }

    #[test]
    fn formats_unix_millis() {
        assert_eq!(
            format_unix_millis(1_768_485_790_113).as_deref(),
            Some("2026-01-15T14:03:10.113Z")
        );
        assert_eq!(
            format_unix_millis(0).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            format_unix_millis(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00.000Z")
        );
    }
}

//! JSON records → log messages: `convex logs --jsonl` entries, log-stream events (webhook v2,
//! Axiom, Datadog, legacy v1, PostHog), and JSON-array bodies of those. What an execution read
//! is in `usage.rs`.

mod record;
mod usage;

pub(crate) use record::Record;
pub use usage::{ExecutionUsage, may_carry_usage, usage, usage_of_line};

use super::text::{OriginNames, strip_js_extension};
use crate::signal::Origin;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::Arc;

/// One console line or error text from a JSON record, with who logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonMessage<'a> {
    pub text: Cow<'a, str>,
    pub origin: Origin,
}

/// Who logged a message, as borrowed parts of its record: they become a shared [`Origin`]
/// only for a message that is kept.
#[derive(Debug, Clone, Default)]
struct OriginParts<'a> {
    function: Option<Cow<'a, str>>,
    component_function: Option<Cow<'a, str>>,
    request_id: Option<&'a str>,
    timestamp_ms: Option<i64>,
}

impl OriginParts<'_> {
    fn share(&self, names: &mut OriginNames) -> Origin {
        Origin {
            function: self.function.as_deref().map(|name| names.name(name)),
            component_function: self
                .component_function
                .as_deref()
                .map(|name| names.name(name)),
            request_id: self.request_id.map(Arc::from),
            timestamp: self.timestamp_ms.and_then(|ms| names.unix_millis(ms)),
        }
    }
}

/// What a JSON record held, beyond its messages.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JsonTally {
    /// Entries of a cached query result: the backend replays the original lines, so they are
    /// not counted again.
    pub cached_replays: u64,
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

/// Collects the messages of `value` that contain any of `needles`.
pub fn messages<'v>(
    value: &'v Value,
    needles: &[String],
    names: &mut OriginNames,
    out: &mut Vec<JsonMessage<'v>>,
    tally: &mut JsonTally,
) {
    match value {
        Value::Array(items) => {
            for item in items {
                messages(item, needles, names, out, tally);
            }
        }
        Value::Object(obj) => object_messages(obj, needles, names, out, tally),
        _ => {}
    }
}

/// Keeps `text` as one of the record's messages when it contains any of `needles`.
fn keep_if_mentioned<'a>(
    out: &mut Vec<JsonMessage<'a>>,
    needles: &[String],
    names: &mut OriginNames,
    text: Cow<'a, str>,
    origin: &OriginParts<'_>,
) {
    if needles.iter().any(|n| text.contains(n.as_str())) {
        out.push(JsonMessage {
            text,
            origin: origin.share(names),
        });
    }
}

fn object_messages<'v>(
    obj: &'v Map<String, Value>,
    needles: &[String],
    names: &mut OriginNames,
    out: &mut Vec<JsonMessage<'v>>,
    tally: &mut JsonTally,
) {
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
        let entry_origin = cli_origin(
            identifier,
            entry_in_component,
            None,
            request_id,
            obj.get("timestamp")
                .and_then(Value::as_f64)
                .map(seconds_to_millis),
        );
        for line in obj
            .get("logLines")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(line_obj) = line.as_object() else {
                // Older backends sent plain `"[LEVEL] messages"` strings.
                if let Some(text) = line.as_str() {
                    keep_if_mentioned(
                        out,
                        needles,
                        names,
                        strip_level_prefix(text).into(),
                        &entry_origin,
                    );
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
                    .map(millis),
            );
            keep_if_mentioned(out, needles, names, text, &origin);
        }
        if let Some(error) = str_field(obj, "error") {
            keep_if_mentioned(out, needles, names, error.into(), &entry_origin);
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
            obj.get("timestamp").and_then(Value::as_f64).map(millis),
        );
        let text = match topic {
            "console" => str_field(obj, "message"),
            "function_execution" => str_field(obj, "error_message"),
            _ => None,
        };
        if let Some(text) = text {
            keep_if_mentioned(out, needles, names, text.into(), &origin);
        }
        return;
    }
    if let Some(topic) = str_field(obj, "_topic") {
        let origin = OriginParts {
            function: str_field(obj, "_functionPath").map(strip_js_extension),
            timestamp_ms: obj.get("_timestamp").and_then(Value::as_f64).map(millis),
            ..OriginParts::default()
        };
        match topic {
            "_console" => {
                if let Some(message) = str_field(obj, "message") {
                    keep_if_mentioned(
                        out,
                        needles,
                        names,
                        strip_level_prefix(message).into(),
                        &origin,
                    );
                }
            }
            "_execution_record" => {
                if let Some(reason) = str_field(obj, "reason") {
                    keep_if_mentioned(out, needles, names, reason.into(), &origin);
                }
            }
            _ => {}
        }
        return;
    }
    // Axiom nests the event under `data`; PostHog carries it as a JSON string in `body`.
    if let Some(data) = obj.get("data") {
        messages(data, needles, names, out, tally);
        return;
    }
    if let Some(body) = obj
        .get("body")
        .and_then(|b| b.get("stringValue"))
        .and_then(Value::as_str)
        && let Ok(inner) = serde_json::from_str::<Value>(body)
    {
        // The inner value lives only here: its messages are kept as owned text.
        let mut inner_out = Vec::new();
        messages(&inner, needles, names, &mut inner_out, tally);
        out.extend(inner_out.into_iter().map(|message| JsonMessage {
            text: Cow::Owned(message.text.into_owned()),
            origin: message.origin,
        }));
        return;
    }
    // An unknown shape: keep any string that mentions a needle, without attribution.
    for value in obj.values() {
        match value {
            Value::String(s) => {
                keep_if_mentioned(out, needles, names, s.into(), &OriginParts::default())
            }
            Value::Array(_) | Value::Object(_) => messages(value, needles, names, out, tally),
            _ => {}
        }
    }
}

fn str_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

fn joined_messages(line: &Map<String, Value>) -> Cow<'_, str> {
    match line.get("messages") {
        Some(Value::Array(parts)) => join_parts(parts.iter().filter_map(Value::as_str)),
        Some(Value::String(s)) => s.into(),
        _ => Cow::Borrowed(""),
    }
}

/// A log line's `messages` joined by spaces (`console.log`'s arguments), borrowed when there is
/// one.
fn join_parts<'a>(mut parts: impl Iterator<Item = &'a str>) -> Cow<'a, str> {
    let Some(first) = parts.next() else {
        return Cow::Borrowed("");
    };
    match parts.next() {
        None => Cow::Borrowed(first),
        Some(second) => {
            let mut joined = [first, second].join(" ");
            for part in parts {
                joined.push(' ');
                joined.push_str(part);
            }
            Cow::Owned(joined)
        }
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

fn millis(ms: f64) -> i64 {
    ms as i64
}

fn seconds_to_millis(s: f64) -> i64 {
    (s * 1000.0).round() as i64
}

/// `--jsonl` entries are `Completion` records (and `Progress` ones for long actions).
fn is_cli_entry_kind(kind: &str) -> bool {
    kind == "Completion" || kind == "Progress"
}

/// Who logged a line of a `--jsonl` entry: the entry's function, and the component function
/// that logged it (`udfPath`) when a component call did; an entry that is itself a component
/// function is that function.
fn cli_origin<'a>(
    identifier: Option<&'a str>,
    entry_in_component: bool,
    sub_function: Option<&'a str>,
    request_id: Option<&'a str>,
    timestamp_ms: Option<i64>,
) -> OriginParts<'a> {
    let (function, component_function) = match sub_function.map(strip_js_extension) {
        Some(sub) => (identifier.map(Cow::Borrowed), Some(sub)),
        None if entry_in_component => (None, identifier.map(Cow::Borrowed)),
        None => (identifier.map(Cow::Borrowed), None),
    };
    OriginParts {
        function,
        component_function,
        request_id,
        timestamp_ms,
    }
}

/// Who logged a log-stream event: its function, a component function when it has a
/// `component_path`.
fn stream_origin<'a>(
    path: Option<&'a str>,
    in_component: bool,
    request_id: Option<&'a str>,
    timestamp_ms: Option<i64>,
) -> OriginParts<'a> {
    let path = path.map(strip_js_extension);
    OriginParts {
        function: if in_component { None } else { path.clone() },
        component_function: if in_component { path } else { None },
        request_id,
        timestamp_ms,
    }
}

/// Whether the one-pass reader declines `line` or reads it as the serde decode does: the same
/// messages (every one kept), tally and usage. What its property test and fuzz target check.
#[cfg(any(test, fuzzing))]
pub fn skim_agrees_with_serde(line: &str) -> bool {
    let read = |record: &Record<'_>| {
        let (mut out, mut tally, mut usages) = (Vec::new(), JsonTally::default(), Vec::new());
        let every_message = [String::new()];
        let mut names = OriginNames::default();
        record.messages(&every_message, &mut names, &mut out, &mut tally);
        record.usage(&mut |u| usages.push(u));
        let texts: Vec<(String, Origin)> = out
            .into_iter()
            .map(|message| (message.text.into_owned(), message.origin))
            .collect();
        (texts, tally, usages)
    };
    let Some(skimmed) = Record::skim(line) else {
        return true;
    };
    Record::decode(line).is_some_and(|decoded| read(&skimmed) == read(&decoded))
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
            &mut OriginNames::default(),
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

    type Decoded = (Vec<JsonMessage<'static>>, JsonTally, Vec<ExecutionUsage>);

    fn owned(messages: Vec<JsonMessage<'_>>) -> Vec<JsonMessage<'static>> {
        messages
            .into_iter()
            .map(|message| JsonMessage {
                text: Cow::Owned(message.text.into_owned()),
                origin: message.origin,
            })
            .collect()
    }

    fn through_value(line: &str, needles: &[String]) -> Option<Decoded> {
        let value: Value = serde_json::from_str(line).ok()?;
        let (mut out, mut tally, mut usages) = (Vec::new(), JsonTally::default(), Vec::new());
        messages(
            &value,
            needles,
            &mut OriginNames::default(),
            &mut out,
            &mut tally,
        );
        usage(&value, &mut |u| usages.push(u));
        Some((owned(out), tally, usages))
    }

    fn through_typed(line: &str, needles: &[String]) -> Option<Decoded> {
        let record = Record::decode(line)?;
        let (mut out, mut tally, mut usages) = (Vec::new(), JsonTally::default(), Vec::new());
        record.messages(needles, &mut OriginNames::default(), &mut out, &mut tally);
        record.usage(&mut |u| usages.push(u));
        Some((owned(out), tally, usages))
    }

    fn sample_lines() -> Vec<String> {
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
        lines
    }

    /// Every line the typed decode accepts gives what the `Value` walk gives: the real sample
    /// lines, and odd variants of them (nulls, wrong types, arrays, Axiom's `data`, escapes).
    #[test]
    fn the_typed_decode_reads_as_the_value_walk_or_declines() {
        let mut lines = sample_lines();
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

    /// Convex's read-limit warning as the real CLI prints it in `--jsonl`: `systemMetadata`
    /// null, so only its text says what it is (the reference capture of convex 1.49's
    /// `messages:listAll`). The `Value` walk, the typed decode and the one-pass reader agree;
    /// an app's own quoted `console.warn` of the same words is not the warning.
    #[test]
    fn a_read_limit_warning_with_null_system_metadata_is_known_by_its_text() {
        let line = r#"{"kind":"Completion","udfType":"Query","componentPath":null,"identifier":"messages:listAll","logLines":[{"messages":["Many documents read in a single function execution (actual: 16200, limit: 32000). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions."],"isTruncated":false,"timestamp":1768485793113,"level":"WARN","systemMetadata":null}],"timestamp":1768485793.123,"cachedResult":false,"caller":"SyncWorker","parentExecutionId":null,"executionTime":0.8,"userExecutionTime":0.011,"success":null,"error":null,"requestId":"5a5a5a5a5a5a5a5a","usageStats":{"databaseReadBytes":1077,"databaseIoReadBytes":1077,"databaseReadDocuments":3},"returnBytes":843}"#;
        let warned = |line: &str| {
            let (_, _, usages) = through_value(line, &[]).unwrap();
            let typed = through_typed(line, &[]).unwrap().2;
            let skimmed = {
                let mut usages = Vec::new();
                Record::skim(line).unwrap().usage(&mut |u| usages.push(u));
                usages
            };
            assert_eq!(usages, typed, "{line}");
            assert_eq!(usages, skimmed, "{line}");
            assert!(may_carry_usage(line.as_bytes()));
            usages.iter().any(|u| u.limit_warning)
        };
        assert!(warned(line));
        let quoted = line.replace(r#""messages":["Many"#, r#""messages":["'Many"#);
        assert!(!warned(&quoted));
        let plain = line.replace(
            r#"{"messages":["Many documents read in a single function execution (actual: 16200, limit: 32000). Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions."],"isTruncated":false,"timestamp":1768485793113,"level":"WARN","systemMetadata":null}"#,
            r#""[WARN] Many bytes read in a single function execution (actual: 14000000 bytes, limit: 16777216 bytes).""#,
        );
        assert!(warned(&plain));
        let mut usages = Vec::new();
        usage_of_line(line.as_bytes(), Some(line), &mut |u| usages.push(u)).unwrap();
        assert!(usages.iter().any(|u| u.limit_warning));
    }

    /// Every `--jsonl` line of the sample logs is read by the one-pass reader, as serde reads
    /// it; and so is each variant it does not decline, however the line was spoilt.
    #[test]
    fn the_skim_reads_as_serde_or_declines() {
        let cli_lines: Vec<String> = sample_lines()
            .into_iter()
            .filter(|line| line.contains(r#""kind":"#))
            .collect();
        assert!(cli_lines.len() >= 5);
        for line in &cli_lines {
            assert!(Record::skim(line).is_some(), "declined: {line}");
            assert!(skim_agrees_with_serde(line), "{line}");
        }
        let variants = [
            (r#""cachedResult":false"#, r#""cachedResult":true"#),
            (r#""componentPath":null"#, r#""componentPath":"betterAuth""#),
            (
                r#""systemMetadata":null"#,
                r#""systemMetadata":{"code":"warning:TooManyReads","x":[{}]}"#,
            ),
            (r#""messages":["#, r#""messages":"one","m":["#),
            (r#""messages":["#, r#""messages":null,"m":["#),
            (
                r#""logLines":["#,
                "\"logLines\":[\"[WARN] 'plain \\\" \\t'\",\t",
            ),
            (r#""timestamp":"#, "\"timestamp\" :\r\n -1.5e3 , \"t\":"),
            (
                r#""requestId":"#,
                r#""x":"\u00e9\ud83d\ude00\ud800","requestId":"#,
            ),
            (
                r#""databaseReadBytes":"#,
                r#""databaseReadBytes":12,"databaseIoReadBytes":"#,
            ),
            (r#""identifier":"#, r#""identifier":"a\/b\\c","z":"#),
        ];
        let mut skimmed = 0;
        for line in &cli_lines {
            for (from, to) in variants {
                let variant = line.replacen(from, to, 1);
                skimmed += usize::from(Record::skim(&variant).is_some());
                assert!(skim_agrees_with_serde(&variant), "{variant}");
            }
        }
        assert!(skimmed > cli_lines.len() * variants.len() / 2, "{skimmed}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]
        /// A `--jsonl` sample line with characters inserted, deleted or replaced next to the
        /// ones JSON's grammar turns on: the one-pass reader declines it or reads it as serde.
        #[test]
        fn a_spoilt_line_is_skimmed_as_serde_reads_it_or_declined(
            pick in proptest::prelude::any::<proptest::sample::Index>(),
            edits in proptest::collection::vec(
                (
                    0..3u8,
                    proptest::prelude::any::<proptest::sample::Index>(),
                    0..2usize,
                    proptest::sample::select(vec![
                        '"', '\\', '{', '}', '[', ']', ':', ',', ' ', '\n', '\r', '0', '1', '9',
                        '-', '+', '.', 'e', 'E', 'a', 'n', 't', 'u', 'l', 'x', '/', '\u{1}',
                        '\u{1f}', '\u{7f}', 'é', '\u{1F600}',
                    ]),
                ),
                1..4,
            ),
        ) {
            let lines: Vec<String> = sample_lines()
                .into_iter()
                .filter(|line| line.contains(r#""kind":"#))
                .collect();
            let mut chars: Vec<char> = lines[pick.index(lines.len())].chars().collect();
            for (kind, near, after, c) in edits {
                let significant: Vec<usize> = (0..chars.len())
                    .filter(|&i| "\"\\:,{}[]0123456789ntf.-".contains(chars[i]))
                    .collect();
                let at = match significant.len() {
                    0 => chars.len(),
                    n => (significant[near.index(n)] + after).min(chars.len()),
                };
                match kind {
                    0 => chars.insert(at, c),
                    1 if at < chars.len() => {
                        chars.remove(at);
                    }
                    _ if at < chars.len() => chars[at] = c,
                    _ => chars.push(c),
                }
            }
            let line: String = chars.into_iter().collect();
            proptest::prop_assert!(skim_agrees_with_serde(&line), "{}", line);
        }
    }
}

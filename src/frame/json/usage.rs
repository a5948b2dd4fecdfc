//! An execution's usage and Convex's read-limit warnings, as a JSON record reports them: the
//! `--jsonl` entry's `usageStats`, a log-stream `function_execution` event's `usage`, and the
//! read-limit warnings (their `warning:TooMany*` system codes, or their text).

use super::{decode, is_cli_entry_kind, joined_messages, strip_level_prefix};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

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

/// The same warnings' text, `<message> (actual: <n>, limit: <n>)…`, unquoted (an app's own
/// `console.warn` of it would be quoted by object-inspect). The CLI's log endpoint sends
/// `systemMetadata: null` on every line (convex 1.49–1.51 `--jsonl`), so there the text is
/// all there is.
const READ_LIMIT_MESSAGES: [&str; 3] = [
    "Many documents read in a single function execution (actual: ",
    "Many reads in a single function execution (actual: ",
    "Many bytes read in a single function execution (actual: ",
];

/// A literal every read-limit warning's text contains.
const READ_LIMIT_NEEDLE: &[u8] = b" in a single function execution (actual: ";

/// Whether a JSON line without a message needle can still carry an execution's usage or a
/// read-limit warning: a cheap byte test before a full parse.
pub fn may_carry_usage(line: &[u8]) -> bool {
    memchr::memmem::find(line, b"usageStats").is_some()
        || memchr::memmem::find(line, b"function_execution").is_some()
        || may_carry_read_limit_warning(line)
}

/// Whether a JSON line may hold a read-limit warning, by its code or its text.
fn may_carry_read_limit_warning(line: &[u8]) -> bool {
    memchr::memmem::find(line, b"TooMany").is_some()
        || memchr::memmem::find(line, READ_LIMIT_NEEDLE).is_some()
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
/// `systemMetadata.code` or text, or a console event's `system_code` or `message` (under
/// `data` for Axiom).
fn read_limit_warning(value: &Value) -> bool {
    let event = value.get("data").unwrap_or(value);
    let in_lines = event
        .get("logLines")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|line| match line {
            Value::Object(obj) => {
                line.pointer("/systemMetadata/code")
                    .and_then(Value::as_str)
                    .is_some_and(is_read_limit_code)
                    || is_read_limit_message(&joined_messages(obj))
            }
            Value::String(plain) => is_read_limit_message(strip_level_prefix(plain)),
            _ => false,
        });
    let console = event.get("topic").and_then(Value::as_str) == Some("console")
        && (event
            .get("system_code")
            .and_then(Value::as_str)
            .is_some_and(is_read_limit_code)
            || event
                .get("message")
                .and_then(Value::as_str)
                .is_some_and(is_read_limit_message));
    in_lines || console
}

/// The usage fields of a record, deserialised without building the whole value: most JSONL
/// lines carry usage and no warning, and a full `Value` for each of them would cost more than
/// the rest of the scan.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct UsageProbe<'a> {
    #[serde(borrow)]
    pub(super) kind: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow)]
    pub(super) request_id: Option<Cow<'a, str>>,
    #[serde(rename = "cachedResult")]
    pub(super) cached_result: Option<bool>,
    #[serde(rename = "usageStats")]
    pub(super) usage_stats: Option<CliUsage>,
    #[serde(borrow)]
    pub(super) topic: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub(super) function: Option<FunctionProbe<'a>>,
    pub(super) usage: Option<StreamUsage>,
    #[serde(borrow)]
    pub(super) data: Option<Box<UsageProbe<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct FunctionProbe<'a> {
    #[serde(borrow)]
    pub(super) request_id: Option<Cow<'a, str>>,
    pub(super) cached: Option<bool>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct CliUsage {
    pub(super) database_read_documents: Option<u64>,
    pub(super) database_read_bytes: Option<u64>,
    pub(super) database_io_read_bytes: Option<u64>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default)]
pub(super) struct StreamUsage {
    pub(super) database_read_documents: Option<u64>,
    pub(super) database_read_bytes: Option<u64>,
    pub(super) database_io_read_bytes: Option<u64>,
}

/// The usage one JSON line reports, for a line no message needle matched. A line that may
/// carry a read-limit warning is read whole (the warning sits in its log lines).
pub fn usage_of_line(
    line: &[u8],
    text: Option<&str>,
    emit: &mut dyn FnMut(ExecutionUsage),
) -> Result<(), serde_json::Error> {
    if may_carry_read_limit_warning(line) {
        usage(&decode::<Value>(line, text)?, emit);
    } else {
        emit_usage(decode(line, text)?, false, emit);
    }
    Ok(())
}

pub(super) fn emit_usage(
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

pub(super) fn is_read_limit_code(code: &str) -> bool {
    let code = code.strip_prefix("warning:").unwrap_or(code);
    READ_LIMIT_CODES.contains(&code)
}

/// Whether a log line's text is one of Convex's read-limit warnings.
pub(super) fn is_read_limit_message(message: &str) -> bool {
    READ_LIMIT_MESSAGES
        .iter()
        .any(|start| message.starts_with(start))
}

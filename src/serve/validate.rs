//! What one event of a webhook batch must be before anything of the batch is stored: a V2
//! log-stream event (the webhook sink always sends V2) with a topic Convex emits and an integer
//! `timestamp` in Unix milliseconds that is not ahead of this machine's clock by more than the
//! allowed skew.

use super::batch::BatchError;
use serde_json::Value;

/// The V2 topics of Convex's log streams (`crates/common/src/log_streaming.rs`).
pub(crate) const TOPICS: &[&str] = &[
    "console",
    "function_execution",
    "verification",
    "audit_log",
    "scheduler_stats",
    "scheduled_job_lag",
    "current_storage_usage",
    "concurrency_stats",
    "storage_api_bandwidth",
    "log_stream_egress",
    "custom_audit",
];

/// How far the events of a batch may be trusted, as of `now_ms`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules {
    pub max_events: usize,
    pub max_skew_ms: i64,
    pub max_age_ms: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Self {
            max_events: 1024,
            max_skew_ms: 300_000,
            max_age_ms: 300_000,
        }
    }
}

/// Checks the event at `index`; the first rule it breaks is the answer.
pub(crate) fn event(
    index: usize,
    event: &Value,
    rules: &Rules,
    now_ms: i64,
) -> Result<(), BatchError> {
    let Some(object) = event.as_object() else {
        return Err(BatchError::NotAnObject { index });
    };
    match object.get("topic") {
        Some(Value::String(topic)) if TOPICS.contains(&topic.as_str()) => {}
        other => {
            return Err(BatchError::UnknownTopic {
                index,
                topic: other.map(|t| shorten(&t.to_string())),
            });
        }
    }
    let Some(timestamp) = object.get("timestamp").and_then(Value::as_i64) else {
        return Err(BatchError::NoTimestamp { index });
    };
    if timestamp > now_ms.saturating_add(rules.max_skew_ms) {
        return Err(BatchError::FromTheFuture {
            index,
            ahead_secs: timestamp.saturating_sub(now_ms) / 1000,
        });
    }
    Ok(())
}

/// A topic as quoted back in an answer: whatever the sender put there, bounded.
fn shorten(text: &str) -> String {
    const LONGEST: usize = 64;
    match text.char_indices().nth(LONGEST) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

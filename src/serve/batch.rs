//! One POST of Convex's webhook log-stream sink: a JSON array of events (`format: json`) or
//! events joined by `\n` (`format: jsonl`), at most 128 of them, each carrying `convex.deployment_name`.

use serde_json::Value;

/// The name events without `convex.deployment_name` are kept under.
pub const UNNAMED_DEPLOYMENT: &str = "unknown";

#[derive(Debug)]
pub struct Batch {
    pub events: Vec<Value>,
    /// SHA-256 of the raw body: a redelivered batch has the same bytes.
    pub hash: [u8; 32],
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    #[error("the body is empty")]
    Empty,
    #[error("event {index} is not JSON: {message}")]
    NotJson { index: usize, message: String },
    #[error("event {index} is not a JSON object")]
    NotAnObject { index: usize },
    #[error("the first event is from {age_secs}s ago, older than --max-age")]
    TooOld { age_secs: i64 },
}

impl Batch {
    pub fn parse(body: &[u8]) -> Result<Self, BatchError> {
        let trimmed = body.trim_ascii();
        if trimmed.is_empty() {
            return Err(BatchError::Empty);
        }
        let events: Vec<Value> = if trimmed.starts_with(b"[") {
            serde_json::from_slice(trimmed).map_err(|e| BatchError::NotJson {
                index: 0,
                message: e.to_string(),
            })?
        } else {
            trimmed
                .split(|&b| b == b'\n')
                .filter(|line| !line.trim_ascii().is_empty())
                .enumerate()
                .map(|(index, line)| {
                    serde_json::from_slice(line).map_err(|e| BatchError::NotJson {
                        index,
                        message: e.to_string(),
                    })
                })
                .collect::<Result<_, _>>()?
        };
        if events.is_empty() {
            return Err(BatchError::Empty);
        }
        if let Some(index) = events.iter().position(|e| !e.is_object()) {
            return Err(BatchError::NotAnObject { index });
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, body);
        let mut hash = [0u8; 32];
        hash.copy_from_slice(digest.as_ref());
        Ok(Self {
            events,
            hash,
            bytes: body.len() as u64,
        })
    }

    /// The connection test Convex sends when a stream is created: it needs a 2xx, nothing else.
    pub fn is_verification(&self) -> bool {
        self.events.iter().all(|e| topic(e) == Some("verification"))
    }

    /// Rejects a batch whose first event is older than `max_age_ms` (the sink signs no
    /// timestamp, so a replayed capture is told apart only by its events' age).
    pub fn check_age(&self, now_ms: i64, max_age_ms: i64) -> Result<(), BatchError> {
        match self.events.first().and_then(timestamp_ms) {
            Some(ts) if now_ms - ts > max_age_ms => Err(BatchError::TooOld {
                age_secs: (now_ms - ts) / 1000,
            }),
            _ => Ok(()),
        }
    }
}

pub fn topic(event: &Value) -> Option<&str> {
    event.get("topic").and_then(Value::as_str)
}

/// The event's Unix milliseconds (V2 `timestamp`).
pub fn timestamp_ms(event: &Value) -> Option<i64> {
    event.get("timestamp").and_then(Value::as_i64)
}

pub fn deployment(event: &Value) -> &str {
    event
        .get("convex")
        .and_then(|c| c.get("deployment_name"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .unwrap_or(UNNAMED_DEPLOYMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_formats_read_to_the_same_events() {
        let json = br#"[{"topic":"console","timestamp":1},{"topic":"console","timestamp":2}]"#;
        let jsonl =
            b"{\"topic\":\"console\",\"timestamp\":1}\n{\"topic\":\"console\",\"timestamp\":2}";
        assert_eq!(
            Batch::parse(json).unwrap().events,
            Batch::parse(jsonl).unwrap().events
        );
    }

    #[test]
    fn a_truncated_body_is_not_a_batch() {
        assert!(matches!(
            Batch::parse(br#"[{"topic":"console","timestamp":1},{"topic":"con"#),
            Err(BatchError::NotJson { .. })
        ));
        assert!(matches!(
            Batch::parse(b"{\"topic\":\"console\"}\n{\"topic\""),
            Err(BatchError::NotJson { index: 1, .. })
        ));
        assert_eq!(Batch::parse(b" ").unwrap_err(), BatchError::Empty);
        assert_eq!(Batch::parse(b"[]").unwrap_err(), BatchError::Empty);
        assert_eq!(
            Batch::parse(b"[1]").unwrap_err(),
            BatchError::NotAnObject { index: 0 }
        );
    }

    #[test]
    fn age_is_judged_by_the_first_event() {
        let batch = Batch::parse(br#"[{"timestamp":1000},{"timestamp":900000}]"#).unwrap();
        assert!(batch.check_age(301_000, 300_000).is_ok());
        assert!(batch.check_age(301_001, 300_000).is_err());
    }
}

//! One POST of Convex's webhook log-stream sink: a JSON array of events (`format: json`) or
//! events joined by `\n` (`format: jsonl`), at most 128 of them, each carrying `convex.deployment_name`.

use super::validate::{self, Rules};
use crate::document::RejectReason;
use serde::de::{DeserializeSeed, IgnoredAny, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// The name events without `convex.deployment_name` are kept under.
pub(crate) const UNNAMED_DEPLOYMENT: &str = "unknown";

#[derive(Debug)]
pub(crate) struct Batch {
    pub events: Vec<Value>,
    /// SHA-256 of the raw body: a redelivered batch has the same bytes.
    pub hash: [u8; 32],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum BatchError {
    #[error("the body is empty")]
    Empty,
    #[error("event {index} is not JSON: {message}")]
    NotJson { index: usize, message: String },
    #[error("event {index} is not a JSON object")]
    NotAnObject { index: usize },
    #[error(
        "the body holds {events} events, over --max-batch-events {max} (Convex sends at most 128)"
    )]
    TooManyEvents { events: u64, max: usize },
    #[error("event {index} has {}, not a Convex log-stream topic", match topic {
        Some(topic) => format!("topic {topic}"),
        None => "no topic".to_owned(),
    })]
    UnknownTopic { index: usize, topic: Option<String> },
    #[error("event {index} has no integer timestamp (Unix milliseconds)")]
    NoTimestamp { index: usize },
    #[error("event {index} is dated {ahead_secs}s from now, past --max-skew")]
    FromTheFuture { index: usize, ahead_secs: i64 },
    #[error("the first event is from {age_secs}s ago, older than --max-age")]
    TooOld { age_secs: i64 },
}

impl BatchError {
    /// The reason the report's coverage and `/metrics` count it under.
    pub(crate) fn reason(&self) -> RejectReason {
        match self {
            BatchError::Empty | BatchError::NotJson { .. } | BatchError::NotAnObject { .. } => {
                RejectReason::NotABatch
            }
            BatchError::TooManyEvents { .. } => RejectReason::TooManyEvents,
            BatchError::UnknownTopic { .. } => RejectReason::UnknownTopic,
            BatchError::NoTimestamp { .. } => RejectReason::NoTimestamp,
            BatchError::FromTheFuture { .. } => RejectReason::FromTheFuture,
            BatchError::TooOld { .. } => RejectReason::TooOld,
        }
    }
}

/// A signed body that is not a batch to store, and how many events it held (0 when it could
/// not be read as events at all).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    pub error: BatchError,
    pub events: u64,
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error.reason().code(), self.error)
    }
}

/// The events of a body, or how many there were once over the cap.
enum Read {
    Events(Vec<Value>),
    Over(u64),
}

/// A JSON array read element by element: past the cap the rest is only counted, so a body of
/// millions of tiny events costs a scan, not millions of maps.
struct CappedArray(usize);

impl<'de> DeserializeSeed<'de> for CappedArray {
    type Value = Read;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Read, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for CappedArray {
    type Value = Read;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array of log-stream events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Read, A::Error> {
        let mut events = Vec::new();
        while let Some(event) = seq.next_element::<Value>()? {
            if events.len() == self.0 {
                let mut count = events.len() as u64 + 1;
                drop(events);
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                return Ok(Read::Over(count));
            }
            events.push(event);
        }
        Ok(Read::Events(events))
    }
}

fn read_array(body: &[u8], max: usize) -> Result<Read, BatchError> {
    let not_json = |e: serde_json::Error| BatchError::NotJson {
        index: 0,
        message: e.to_string(),
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let read = CappedArray(max)
        .deserialize(&mut deserializer)
        .map_err(not_json)?;
    deserializer.end().map_err(not_json)?;
    Ok(read)
}

fn read_lines(body: &[u8], max: usize) -> Result<Read, BatchError> {
    let mut events = Vec::new();
    let mut count = 0u64;
    for (index, line) in body
        .split(|&b| b == b'\n')
        .filter(|line| !line.trim_ascii().is_empty())
        .enumerate()
    {
        count += 1;
        // Past the cap a line is only counted.
        if events.len() < max {
            events.push(
                serde_json::from_slice(line).map_err(|e| BatchError::NotJson {
                    index,
                    message: e.to_string(),
                })?,
            );
        }
    }
    Ok(if count > max as u64 {
        Read::Over(count)
    } else {
        Read::Events(events)
    })
}

impl Batch {
    /// Reads and checks a signed body as `rules` require, as of `now_ms`: a batch comes back
    /// only when every event passes, so nothing of a refused body is ever stored.
    pub(crate) fn parse(body: &[u8], rules: &Rules, now_ms: i64) -> Result<Self, Refused> {
        let refused = |error, events| Refused { error, events };
        let trimmed = body.trim_ascii();
        if trimmed.is_empty() {
            return Err(refused(BatchError::Empty, 0));
        }
        let read = if trimmed.starts_with(b"[") {
            read_array(trimmed, rules.max_events)
        } else {
            read_lines(trimmed, rules.max_events)
        };
        let events = match read {
            Ok(Read::Events(events)) => events,
            Ok(Read::Over(events)) => {
                let max = rules.max_events;
                return Err(refused(BatchError::TooManyEvents { events, max }, events));
            }
            Err(error) => return Err(refused(error, 0)),
        };
        if events.is_empty() {
            return Err(refused(BatchError::Empty, 0));
        }
        let held = events.len() as u64;
        for (index, event) in events.iter().enumerate() {
            validate::event(index, event, rules, now_ms).map_err(|error| refused(error, held))?;
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, body);
        let mut hash = [0u8; 32];
        hash.copy_from_slice(digest.as_ref());
        let batch = Self { events, hash };
        if !batch.is_verification() {
            batch
                .check_age(now_ms, rules.max_age_ms)
                .map_err(|error| refused(error, held))?;
        }
        Ok(batch)
    }

    /// The connection test Convex sends when a stream is created: it needs a 2xx, nothing else.
    pub(crate) fn is_verification(&self) -> bool {
        self.events.iter().all(|e| topic(e) == Some("verification"))
    }

    /// Rejects a batch whose first event is older than `max_age_ms` (the sink signs no
    /// timestamp, so a replayed capture is told apart only by its events' age).
    fn check_age(&self, now_ms: i64, max_age_ms: i64) -> Result<(), BatchError> {
        match self.events.first().and_then(timestamp_ms) {
            Some(ts) if now_ms.saturating_sub(ts) > max_age_ms => Err(BatchError::TooOld {
                age_secs: now_ms.saturating_sub(ts) / 1000,
            }),
            _ => Ok(()),
        }
    }
}

pub(crate) fn topic(event: &Value) -> Option<&str> {
    event.get("topic").and_then(Value::as_str)
}

/// The event's Unix milliseconds (V2 `timestamp`).
pub(crate) fn timestamp_ms(event: &Value) -> Option<i64> {
    event.get("timestamp").and_then(Value::as_i64)
}

pub(crate) fn deployment(event: &Value) -> &str {
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

    const NOW: i64 = 1_768_485_789_113;

    fn parse(body: &[u8]) -> Result<Batch, Refused> {
        Batch::parse(body, &Rules::default(), NOW)
    }

    fn reason(body: &[u8]) -> (RejectReason, u64) {
        let refused = parse(body).unwrap_err();
        (refused.error.reason(), refused.events)
    }

    fn console(ts: i64) -> String {
        format!(r#"{{"topic":"console","timestamp":{ts}}}"#)
    }

    #[test]
    fn both_formats_read_to_the_same_events() {
        let json = format!("[{},{}]", console(NOW - 1), console(NOW));
        let jsonl = format!("{}\n{}", console(NOW - 1), console(NOW));
        assert_eq!(
            parse(json.as_bytes()).unwrap().events,
            parse(jsonl.as_bytes()).unwrap().events
        );
    }

    #[test]
    fn a_truncated_body_is_not_a_batch() {
        let whole = format!("[{},{}]", console(NOW), console(NOW));
        assert!(matches!(
            parse(&whole.as_bytes()[..whole.len() - 8])
                .unwrap_err()
                .error,
            BatchError::NotJson { .. }
        ));
        assert!(matches!(
            parse(format!("{}\n{{\"topic\"", console(NOW)).as_bytes())
                .unwrap_err()
                .error,
            BatchError::NotJson { index: 1, .. }
        ));
        assert_eq!(parse(b" ").unwrap_err().error, BatchError::Empty);
        assert_eq!(parse(b"[]").unwrap_err().error, BatchError::Empty);
        assert_eq!(
            parse(b"[1]").unwrap_err().error,
            BatchError::NotAnObject { index: 0 }
        );
        assert_eq!(reason(b"[1, 2]"), (RejectReason::NotABatch, 2));
        assert_eq!(reason(b"{} {}"), (RejectReason::NotABatch, 0));
    }

    #[test]
    fn every_event_needs_a_known_topic_and_an_integer_timestamp() {
        assert_eq!(
            reason(br#"{"hello":"world"}"#),
            (RejectReason::UnknownTopic, 1)
        );
        let later = format!(
            r#"[{},{{"topic":"made_up","timestamp":{NOW}}}]"#,
            console(NOW)
        );
        assert_eq!(
            parse(later.as_bytes()).unwrap_err().error,
            BatchError::UnknownTopic {
                index: 1,
                topic: Some("\"made_up\"".into())
            }
        );
        assert_eq!(
            reason(br#"[{"topic":["console"],"timestamp":1}]"#).0,
            RejectReason::UnknownTopic
        );
        // The legacy V1 shape is not what the webhook sink sends.
        let v1 = format!(r#"{{"_topic":"_console","_timestamp":{NOW}}}"#);
        assert_eq!(reason(v1.as_bytes()).0, RejectReason::UnknownTopic);
        for stamp in [
            "",
            r#","timestamp":"1768485789113""#,
            r#","timestamp":1.5"#,
            r#","timestamp":null"#,
        ] {
            let body = format!(r#"{{"topic":"console"{stamp}}}"#);
            assert_eq!(
                reason(body.as_bytes()),
                (RejectReason::NoTimestamp, 1),
                "{body}"
            );
        }
        for topic in validate::TOPICS {
            let body = format!(r#"{{"topic":"{topic}","timestamp":{NOW}}}"#);
            assert!(parse(body.as_bytes()).is_ok(), "{topic}");
        }
    }

    #[test]
    fn the_event_count_is_capped_while_reading() {
        let rules = Rules {
            max_events: 4,
            ..Rules::default()
        };
        let events = |n: usize| vec![console(NOW); n];
        let json = |n| format!("[{}]", events(n).join(","));
        let jsonl = |n| events(n).join("\n");
        for body in [json(4), jsonl(4)] {
            assert_eq!(
                Batch::parse(body.as_bytes(), &rules, NOW)
                    .unwrap()
                    .events
                    .len(),
                4
            );
        }
        for body in [json(5), jsonl(5)] {
            assert_eq!(
                Batch::parse(body.as_bytes(), &rules, NOW).unwrap_err(),
                Refused {
                    error: BatchError::TooManyEvents { events: 5, max: 4 },
                    events: 5
                }
            );
        }
        // Two million empty objects: refused for their number, counted, never built.
        let many = format!("[{}]", vec!["{}"; 2_000_000].join(","));
        let started = std::time::Instant::now();
        assert_eq!(
            reason(many.as_bytes()),
            (RejectReason::TooManyEvents, 2_000_000)
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn an_event_past_the_skew_or_a_stale_batch_is_refused() {
        let ahead = |ms: i64| format!("[{},{}]", console(NOW), console(NOW + ms));
        assert!(parse(ahead(300_000).as_bytes()).is_ok());
        assert_eq!(
            parse(ahead(86_400_000).as_bytes()).unwrap_err(),
            Refused {
                error: BatchError::FromTheFuture {
                    index: 1,
                    ahead_secs: 86_400
                },
                events: 2
            }
        );
        assert_eq!(
            reason(console(i64::MAX).as_bytes()).0,
            RejectReason::FromTheFuture
        );
    }

    #[test]
    fn age_is_judged_by_the_first_event() {
        let rules = Rules::default();
        let body = format!("[{},{}]", console(1000), console(2000));
        assert!(Batch::parse(body.as_bytes(), &rules, 301_000).is_ok());
        assert_eq!(
            Batch::parse(body.as_bytes(), &rules, 301_001)
                .unwrap_err()
                .error
                .reason(),
            RejectReason::TooOld
        );
        let verification =
            r#"{"topic":"verification","timestamp":1,"message":"Convex connection test"}"#;
        assert!(
            Batch::parse(verification.as_bytes(), &rules, NOW)
                .unwrap()
                .is_verification()
        );
    }
}

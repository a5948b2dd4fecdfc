//! The typed, borrowing decode of the JSON records the frame knows (`--jsonl` entries,
//! log-stream `console` / `function_execution` events, Axiom's `data` wrapper): only the
//! fields the frame reads are decoded, the rest skipped. It gives what the `Value` walk gives,
//! or declines: a field of an unexpected type, a duplicate key, or a shape it does not know
//! makes [`Record::decode`] return `None`, and the caller walks a `Value` as before.

use super::usage::{
    CliUsage, ExecutionUsage, FunctionProbe, StreamUsage, UsageProbe, emit_usage,
    is_read_limit_code, is_read_limit_message,
};
use super::{
    JsonMessage, JsonTally, OriginNames, cli_origin, is_cli_entry_kind, join_parts,
    keep_if_mentioned, millis, seconds_to_millis, stream_origin, strip_level_prefix,
};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

mod skim;

/// One JSON record, as far as the frame reads it. Every field the `Value` walk or the usage
/// probe looks at is here, with the type they accept, so a record this decodes is one they
/// read the same way.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct Record<'a> {
    #[serde(borrow)]
    kind: Option<Text<'a>>,
    #[serde(rename = "requestId", borrow)]
    request_id: Option<Text<'a>>,
    #[serde(rename = "cachedResult")]
    cached_result: Option<bool>,
    #[serde(rename = "usageStats")]
    usage_stats: Option<Object<CliUsage>>,
    #[serde(borrow)]
    identifier: Option<Text<'a>>,
    #[serde(rename = "componentPath", borrow)]
    component_path: Option<Text<'a>>,
    #[serde(rename = "logLines", borrow)]
    log_lines: Option<Vec<LogLine<'a>>>,
    timestamp: Option<f64>,
    #[serde(borrow)]
    error: Option<Text<'a>>,
    #[serde(borrow)]
    topic: Option<Text<'a>>,
    #[serde(borrow)]
    function: Option<Object<Function<'a>>>,
    #[serde(borrow)]
    message: Option<Text<'a>>,
    #[serde(borrow)]
    error_message: Option<Text<'a>>,
    #[serde(borrow)]
    system_code: Option<Text<'a>>,
    usage: Option<Object<StreamUsage>>,
    /// Legacy v1 events: left to the `Value` walk.
    #[serde(rename = "_topic", borrow)]
    legacy_topic: Option<Text<'a>>,
    /// Present even when null: the `Value` walk reads a null `data` as the event.
    #[serde(borrow, deserialize_with = "present")]
    data: Option<Object<Box<Record<'a>>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Function<'a> {
    #[serde(borrow)]
    path: Option<Text<'a>>,
    #[serde(borrow)]
    component_path: Option<Text<'a>>,
    #[serde(borrow)]
    request_id: Option<Text<'a>>,
    cached: Option<bool>,
}

/// A `logLines` element: an object, or an older backend's plain `"[LEVEL] messages"` string.
enum LogLine<'a> {
    Plain(Cow<'a, str>),
    Structured(StructuredLine<'a>),
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StructuredLine<'a> {
    #[serde(borrow)]
    messages: Option<Messages<'a>>,
    #[serde(rename = "udfPath", borrow)]
    udf_path: Option<Text<'a>>,
    timestamp: Option<f64>,
    #[serde(rename = "systemMetadata", borrow)]
    system_metadata: Option<Object<SystemMetadata<'a>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SystemMetadata<'a> {
    #[serde(borrow)]
    code: Option<Text<'a>>,
}

impl<'a> Record<'a> {
    /// The record on `line` when it is a `--jsonl` entry that the one-pass reader is sure of
    /// (see [`skim`]): the record serde would decode, in about two thirds of serde's time.
    pub(crate) fn skim(line: &'a str) -> Option<Self> {
        skim::record(line)
    }

    /// The record on `line` (valid UTF-8: serde skips the strings it ignores unchecked, where
    /// a `Value` would refuse invalid ones), when it is an object of a shape this decode knows.
    pub(crate) fn decode(line: &'a str) -> Option<Self> {
        // A derived struct also accepts an array (fields by position); a record is an object.
        if !line.trim_ascii_start().starts_with('{') {
            return None;
        }
        let record: Self = serde_json::from_str(line).ok()?;
        record.known().then_some(record)
    }

    /// Whether the `Value` walk would read this record as a `--jsonl` entry or a log-stream
    /// event (possibly inside Axiom's `data`), the shapes [`Record::messages`] reads.
    fn known(&self) -> bool {
        if self.is_cli_entry() || self.topic.is_some() {
            return true;
        }
        if self.legacy_topic.is_some() {
            return false;
        }
        self.data.as_ref().is_some_and(|data| data.0.known())
    }

    fn is_cli_entry(&self) -> bool {
        self.kind
            .as_ref()
            .is_some_and(|kind| is_cli_entry_kind(&kind.0))
    }

    /// The messages that contain any of `needles`, as `json::messages` collects them.
    pub(crate) fn messages<'r>(
        &'r self,
        needles: &[String],
        names: &mut OriginNames,
        out: &mut Vec<JsonMessage<'r>>,
        tally: &mut JsonTally,
    ) {
        if self.is_cli_entry() {
            if self.cached_result == Some(true) {
                tally.cached_replays += 1;
                return;
            }
            let identifier = text(&self.identifier);
            let entry_in_component = self.component_path.is_some();
            let request_id = text(&self.request_id);
            // A line or error the entry itself logged, with no component function of its own.
            let entry_origin = cli_origin(
                identifier,
                entry_in_component,
                None,
                request_id,
                self.timestamp.map(seconds_to_millis),
            );
            for line in self.log_lines.iter().flatten() {
                match line {
                    LogLine::Plain(message) => {
                        let message = strip_level_prefix(message).into();
                        keep_if_mentioned(out, needles, names, message, &entry_origin);
                    }
                    LogLine::Structured(line) => {
                        let origin = cli_origin(
                            identifier,
                            entry_in_component,
                            text(&line.udf_path),
                            request_id,
                            line.timestamp.map(millis),
                        );
                        keep_if_mentioned(out, needles, names, line.joined_messages(), &origin);
                    }
                }
            }
            if let Some(error) = text(&self.error) {
                keep_if_mentioned(out, needles, names, error.into(), &entry_origin);
            }
            return;
        }
        if let Some(topic) = text(&self.topic) {
            let function = self.function.as_ref().map(|f| &f.0);
            let origin = stream_origin(
                function.and_then(|f| text(&f.path)),
                function.is_some_and(|f| f.component_path.is_some()),
                function.and_then(|f| text(&f.request_id)),
                self.timestamp.map(millis),
            );
            let message = match topic {
                "console" => text(&self.message),
                "function_execution" => text(&self.error_message),
                _ => None,
            };
            if let Some(message) = message {
                keep_if_mentioned(out, needles, names, message.into(), &origin);
            }
            return;
        }
        if let Some(data) = &self.data {
            data.0.messages(needles, names, out, tally);
        }
    }

    /// The usage and read-limit warning the record reports, as `json::usage` sends them.
    pub(crate) fn usage(&self, emit: &mut dyn FnMut(ExecutionUsage)) {
        // As `read_limit_warning`: the event is the `data` of a record that has one.
        let limit_warning = self
            .data
            .as_ref()
            .map_or(self, |data| &data.0)
            .read_limit_warning();
        emit_usage(self.probe(), limit_warning, emit);
    }

    fn read_limit_warning(&self) -> bool {
        let in_lines = self.log_lines.iter().flatten().any(|line| match line {
            LogLine::Structured(line) => {
                line.system_metadata
                    .as_ref()
                    .and_then(|metadata| text(&metadata.0.code))
                    .is_some_and(is_read_limit_code)
                    || is_read_limit_message(&line.joined_messages())
            }
            LogLine::Plain(plain) => is_read_limit_message(strip_level_prefix(plain)),
        });
        let console = text(&self.topic) == Some("console")
            && (text(&self.system_code).is_some_and(is_read_limit_code)
                || text(&self.message).is_some_and(is_read_limit_message));
        in_lines || console
    }

    fn probe(&self) -> UsageProbe<'_> {
        UsageProbe {
            kind: borrowed_text(&self.kind),
            request_id: borrowed_text(&self.request_id),
            cached_result: self.cached_result,
            usage_stats: self.usage_stats.as_ref().map(|u| u.0),
            topic: borrowed_text(&self.topic),
            function: self.function.as_ref().map(|f| FunctionProbe {
                request_id: borrowed_text(&f.0.request_id),
                cached: f.0.cached,
            }),
            usage: self.usage.as_ref().map(|u| u.0),
            data: self.data.as_ref().map(|data| Box::new(data.0.probe())),
        }
    }
}

impl StructuredLine<'_> {
    /// `messages` joined by spaces, as `joined_messages` does.
    fn joined_messages(&self) -> Cow<'_, str> {
        match &self.messages {
            Some(Messages::Parts(parts)) => join_parts(parts.iter().map(|part| part.0.as_ref())),
            Some(Messages::One(message)) => Cow::Borrowed(message),
            None => Cow::Borrowed(""),
        }
    }
}

/// A field that is there, null included: null is refused by `T` rather than read as absent.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    deserializer: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(deserializer).map(Some)
}

fn text<'r>(field: &'r Option<Text<'_>>) -> Option<&'r str> {
    field.as_ref().map(|t| t.0.as_ref())
}

fn borrowed_text<'r>(field: &'r Option<Text<'_>>) -> Option<Cow<'r, str>> {
    text(field).map(Cow::Borrowed)
}

/// A JSON string, borrowed from the line when it has no escapes.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// A JSON object decoded as `T`; anything else (an array included) is refused.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for LogLine<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LogLineVisitor;
        impl<'de> Visitor<'de> for LogLineVisitor {
            type Value = LogLine<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a log line object or string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(LogLine::Plain(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(LogLine::Plain(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(LogLine::Plain(Cow::Owned(v)))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                StructuredLine::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(LogLine::Structured)
            }
        }
        deserializer.deserialize_any(LogLineVisitor)
    }
}

/// A log line's `messages`: an array of strings, or one string.
enum Messages<'a> {
    Parts(Vec<Text<'a>>),
    One(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Messages<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MessagesVisitor;
        impl<'de> Visitor<'de> for MessagesVisitor {
            type Value = Messages<'de>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array of strings or a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Messages::One(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Messages::One(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Messages::One(Cow::Owned(v)))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::with_capacity(seq.size_hint().unwrap_or(1));
                while let Some(part) = seq.next_element::<Text<'de>>()? {
                    parts.push(part);
                }
                Ok(Messages::Parts(parts))
            }
        }
        deserializer.deserialize_any(MessagesVisitor)
    }
}

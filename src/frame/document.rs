//! Pretty-printed JSON documents (a log-stream body saved with `jq .`): one value spans many
//! lines, so they are read as a stream of JSON values instead of lines. A top-level array is
//! visited element by element, so memory holds one event at a time.

use super::{ScanEvent, Scanner};
use serde::Deserialize;
use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::cell::Cell;
use std::fmt;
use std::io::{self, Read};
use std::rc::Rc;

/// Whether the input starts like a multi-line JSON document rather than JSONL or text: its
/// first non-blank line opens an object or array that it does not close.
pub fn looks_like_document(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .filter(|l| !l.is_empty());
    match lines.next() {
        Some(b"{") | Some(b"[") => true,
        Some(first) if first.starts_with(b"{") => !first.ends_with(b"}"),
        Some(first) if first.starts_with(b"[") => {
            let inner = first[1..].trim_ascii_start();
            inner.starts_with(b"{") && !first.ends_with(b"]")
        }
        _ => false,
    }
}

#[derive(Default)]
struct Position {
    bytes: Cell<u64>,
    newlines: Cell<u64>,
}

/// Counts bytes and newlines as serde consumes them, so each value's line is known.
struct Counting<R> {
    inner: R,
    position: Rc<Position>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let p = &self.position;
        p.bytes.set(p.bytes.get() + n as u64);
        p.newlines
            .set(p.newlines.get() + memchr::memchr_iter(b'\n', &buf[..n]).count() as u64);
        Ok(n)
    }
}

/// Scans a JSON document. Malformed JSON is reported as a problem at its line; only a failing
/// read is an error.
pub fn scan_document<R: Read>(
    reader: R,
    scanner: &mut Scanner<'_>,
    emit: &mut dyn FnMut(ScanEvent),
) -> io::Result<()> {
    let position = Rc::new(Position::default());
    let mut de = serde_json::Deserializer::from_reader(Counting {
        inner: reader,
        position: position.clone(),
    });
    let mut records = 0u64;
    let outcome = loop {
        let mut on_value = |value: Value| {
            records += 1;
            scanner.json_value(&value, position.newlines.get() + 1, emit);
        };
        if let Err(err) = (DocumentSeed {
            on_value: &mut on_value,
        })
        .deserialize(&mut de)
        {
            break Err(err);
        }
        if de.end().is_ok() {
            break Ok(());
        }
    };
    scanner.count_document(records, position.newlines.get() + 1, position.bytes.get());
    match outcome {
        Ok(()) => Ok(()),
        Err(err) if err.is_io() => Err(io::Error::other(err)),
        Err(err) => {
            emit(ScanEvent::Problem {
                line: Some(err.line() as u64),
                message: format!("invalid JSON: {err}"),
            });
            Ok(())
        }
    }
}

struct DocumentSeed<'f> {
    on_value: &'f mut dyn FnMut(Value),
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object or an array of objects")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(value) = seq.next_element::<Value>()? {
            (self.on_value)(value);
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let value = Value::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        (self.on_value)(value);
        Ok(())
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

//! A one-pass reader of the `--jsonl` entry shape, for the bulk of a JSONL dump: it builds the
//! same [`Record`] serde would, without serde's visitors, and checks the whole line as
//! serde_json checks it. It answers only when sure: a line it reads is one serde_json accepts
//! and decodes to the same record; on anything else (a log-stream event, a `\u` escape in a
//! string it keeps, an escaped key, a duplicate field, a number type it does not read, invalid
//! JSON) it declines, and the caller decodes with serde as before.

use super::{LogLine, Messages, Object, Record, StructuredLine, SystemMetadata, Text};
use crate::frame::json::usage::CliUsage;
use std::borrow::Cow;

/// The record on `line`, when it is a `--jsonl` entry this reader is sure of.
pub(super) fn record(line: &str) -> Option<Record<'_>> {
    let mut cursor = Cursor {
        text: line,
        bytes: line.as_bytes(),
        at: 0,
        depth: 0,
    };
    cursor.whitespace();
    let record = cursor.record()?;
    cursor.whitespace();
    (cursor.at == cursor.bytes.len() && record.is_cli_entry()).then_some(record)
}

/// Deeper than this, the reader declines (serde_json refuses beyond 128 levels).
const MAX_DEPTH: u32 = 64;

struct Cursor<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
    depth: u32,
}

/// Which fields of an object were already read: serde refuses a duplicate field.
#[derive(Default)]
struct Seen(u32);

impl Seen {
    fn first(&mut self, field: u32) -> Option<()> {
        let bit = 1 << field;
        (self.0 & bit == 0).then(|| self.0 |= bit)
    }
}

impl<'a> Cursor<'a> {
    fn record(&mut self) -> Option<Record<'a>> {
        let mut record = Record::default();
        let mut seen = Seen::default();
        self.object(|cursor, key| {
            match key {
                b"kind" => record.kind = cursor.field(&mut seen, 0, Self::text)?,
                b"requestId" => record.request_id = cursor.field(&mut seen, 1, Self::text)?,
                b"cachedResult" => record.cached_result = cursor.field(&mut seen, 2, Self::bool)?,
                b"usageStats" => {
                    record.usage_stats = cursor.field(&mut seen, 3, Self::cli_usage)?.map(Object)
                }
                b"identifier" => record.identifier = cursor.field(&mut seen, 4, Self::text)?,
                b"componentPath" => {
                    record.component_path = cursor.field(&mut seen, 5, Self::text)?
                }
                b"logLines" => record.log_lines = cursor.field(&mut seen, 6, Self::log_lines)?,
                b"timestamp" => record.timestamp = cursor.field(&mut seen, 7, Self::f64)?,
                b"error" => record.error = cursor.field(&mut seen, 8, Self::text)?,
                // The log-stream and Axiom shapes are left to serde.
                b"topic" | b"function" | b"message" | b"error_message" | b"system_code"
                | b"usage" | b"_topic" | b"data" => return None,
                _ => cursor.skip_value()?,
            }
            Some(())
        })?;
        Some(record)
    }

    fn cli_usage(&mut self) -> Option<CliUsage> {
        let mut usage = CliUsage::default();
        let mut seen = Seen::default();
        self.object(|cursor, key| {
            match key {
                b"databaseReadDocuments" => {
                    usage.database_read_documents = cursor.field(&mut seen, 0, Self::u64)?
                }
                b"databaseReadBytes" => {
                    usage.database_read_bytes = cursor.field(&mut seen, 1, Self::u64)?
                }
                b"databaseIoReadBytes" => {
                    usage.database_io_read_bytes = cursor.field(&mut seen, 2, Self::u64)?
                }
                _ => cursor.skip_value()?,
            }
            Some(())
        })?;
        Some(usage)
    }

    fn log_lines(&mut self) -> Option<Vec<LogLine<'a>>> {
        let mut lines = Vec::new();
        self.array(|cursor| {
            let line = match cursor.peek()? {
                b'"' => LogLine::Plain(cursor.string()?),
                b'{' => LogLine::Structured(cursor.structured_line()?),
                _ => return None,
            };
            lines.push(line);
            Some(())
        })?;
        Some(lines)
    }

    fn structured_line(&mut self) -> Option<StructuredLine<'a>> {
        let mut line = StructuredLine::default();
        let mut seen = Seen::default();
        self.object(|cursor, key| {
            match key {
                b"messages" => line.messages = cursor.field(&mut seen, 0, Self::messages)?,
                b"udfPath" => line.udf_path = cursor.field(&mut seen, 1, Self::text)?,
                b"timestamp" => line.timestamp = cursor.field(&mut seen, 2, Self::f64)?,
                b"systemMetadata" => {
                    line.system_metadata = cursor
                        .field(&mut seen, 3, Self::system_metadata)?
                        .map(Object);
                }
                _ => cursor.skip_value()?,
            }
            Some(())
        })?;
        Some(line)
    }

    fn messages(&mut self) -> Option<Messages<'a>> {
        if self.peek()? == b'"' {
            return self.string().map(Messages::One);
        }
        let mut parts = Vec::with_capacity(1);
        self.array(|cursor| {
            parts.push(cursor.text()?);
            Some(())
        })?;
        Some(Messages::Parts(parts))
    }

    fn system_metadata(&mut self) -> Option<SystemMetadata<'a>> {
        let mut metadata = SystemMetadata::default();
        let mut seen = Seen::default();
        self.object(|cursor, key| {
            match key {
                b"code" => metadata.code = cursor.field(&mut seen, 0, Self::text)?,
                _ => cursor.skip_value()?,
            }
            Some(())
        })?;
        Some(metadata)
    }

    /// A field serde reads as an `Option`; a second one of the same object is refused, as
    /// serde refuses a duplicate field.
    fn field<T>(
        &mut self,
        seen: &mut Seen,
        field: u32,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        seen.first(field)?;
        self.optional(read)
    }

    /// `null` as `None`, anything else read by `read` (serde's `Option`).
    fn optional<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            return Some(None);
        }
        read(self).map(Some)
    }

    /// An object, its members given to `member` with the cursor on the value.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a [u8]) -> Option<()>) -> Option<()> {
        self.enter(b'{')?;
        if self.after_whitespace()? == b'}' {
            self.at += 1;
            return self.leave();
        }
        loop {
            if self.after_whitespace()? != b'"' {
                return None;
            }
            let key = self.key()?;
            if self.after_whitespace()? != b':' {
                return None;
            }
            self.at += 1;
            self.whitespace();
            member(self, key)?;
            match self.after_whitespace()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return self.leave();
                }
                _ => return None,
            }
        }
    }

    /// An array, the cursor on each element when `element` is called.
    fn array(&mut self, mut element: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.enter(b'[')?;
        if self.after_whitespace()? == b']' {
            self.at += 1;
            return self.leave();
        }
        loop {
            self.whitespace();
            element(self)?;
            match self.after_whitespace()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return self.leave();
                }
                _ => return None,
            }
        }
    }

    fn enter(&mut self, open: u8) -> Option<()> {
        if self.peek()? != open || self.depth == MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        self.at += 1;
        Some(())
    }

    fn leave(&mut self) -> Option<()> {
        self.depth -= 1;
        Some(())
    }

    /// Any value, checked as serde_json checks one it ignores.
    fn skip_value(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.skip_string(),
            b'{' => self.object(|cursor, _| cursor.skip_value()),
            b'[' => self.array(Self::skip_value),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    fn text(&mut self) -> Option<Text<'a>> {
        (self.peek()? == b'"').then_some(())?;
        self.string().map(Text)
    }

    fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// A plain non-negative integer that fits (serde reads any other number differently).
    fn u64(&mut self) -> Option<u64> {
        let (digits, plain) = self.number()?;
        if !plain || digits.starts_with('-') {
            return None;
        }
        digits.parse().ok()
    }

    /// Any number as an `f64`, as serde_json gives it: a plain integer converted from its
    /// `u64`, as serde's does, and any other number converted by serde_json itself.
    fn f64(&mut self) -> Option<f64> {
        let (number, plain) = self.number()?;
        if plain && let Ok(integer) = number.parse::<u64>() {
            return Some(integer as f64);
        }
        serde_json::from_str(number).ok()
    }

    /// A number by JSON's grammar: its text, and whether it is a plain integer.
    fn number(&mut self) -> Option<(&'a str, bool)> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.at += 1;
            self.some_digits()?;
            plain = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.at += 1;
            }
            self.some_digits()?;
            plain = false;
        }
        Some((self.text.get(start..self.at)?, plain))
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
    }

    fn some_digits(&mut self) -> Option<()> {
        let start = self.at;
        self.digits();
        (self.at > start).then_some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.bytes.get(self.at..)?.starts_with(word).then_some(())?;
        self.at += word.len();
        Some(())
    }

    /// A key without escapes (a key with one is left to serde, which compares it unescaped).
    fn key(&mut self) -> Option<&'a [u8]> {
        let start = self.at + 1;
        let end = plain_run(self.bytes, start);
        (self.bytes.get(end) == Some(&b'"')).then_some(())?;
        self.at = end + 1;
        Some(&self.bytes[start..end])
    }

    /// A string the record keeps: borrowed when it has no escapes, unescaped otherwise.
    fn string(&mut self) -> Option<Cow<'a, str>> {
        let start = self.at + 1;
        let end = plain_run(self.bytes, start);
        if self.bytes.get(end) == Some(&b'"') {
            self.at = end + 1;
            return self.text.get(start..end).map(Cow::Borrowed);
        }
        self.at = end;
        self.skip_string_rest()?;
        unescape(self.text.get(start..self.at - 1)?).map(Cow::Owned)
    }

    /// A string that is skipped: escapes are checked, as serde_json checks them, not decoded.
    fn skip_string(&mut self) -> Option<()> {
        self.at += 1;
        self.skip_string_rest()
    }

    /// The rest of a string from inside it, through its closing quote.
    fn skip_string_rest(&mut self) -> Option<()> {
        loop {
            self.at = plain_run(self.bytes, self.at);
            match *self.bytes.get(self.at)? {
                b'"' => {
                    self.at += 1;
                    return Some(());
                }
                b'\\' => match *self.bytes.get(self.at + 1)? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.at += 2,
                    b'u' => {
                        let hex = self.bytes.get(self.at + 2..self.at + 6)?;
                        hex.iter().all(u8::is_ascii_hexdigit).then_some(())?;
                        self.at += 6;
                    }
                    _ => return None,
                },
                _ => return None,
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    fn after_whitespace(&mut self) -> Option<u8> {
        self.whitespace();
        self.peek()
    }
}

/// The text of a string whose escapes were checked, unescaped; `None` when it has a `\u`
/// escape, whose surrogate rules are serde's to apply.
fn unescape(escaped: &str) -> Option<String> {
    let mut text = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(at) = memchr::memchr(b'\\', rest.as_bytes()) {
        text.push_str(rest.get(..at)?);
        text.push(match *rest.as_bytes().get(at + 1)? {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return None,
            quote_slash_or_backslash => char::from(quote_slash_or_backslash),
        });
        rest = rest.get(at + 2..)?;
    }
    text.push_str(rest);
    Some(text)
}

/// The end of the run from `start` of bytes that need no attention inside a JSON string: the
/// position of the first `"`, `\` or control byte, or the end of `bytes`.
fn plain_run(bytes: &[u8], start: usize) -> usize {
    let mut at = start;
    while let Some(chunk) = bytes.get(at..at + STEP) {
        if let Some(offset) = attention(chunk) {
            return at + offset;
        }
        at += STEP;
    }
    while let Some(&byte) = bytes.get(at) {
        if byte == b'"' || byte == b'\\' || byte < 0x20 {
            break;
        }
        at += 1;
    }
    at
}

#[cfg(target_arch = "x86_64")]
use attention_sse2 as attention;
#[cfg(target_arch = "x86_64")]
const STEP: usize = 16;

#[cfg(not(target_arch = "x86_64"))]
use attention_swar as attention;
#[cfg(not(target_arch = "x86_64"))]
const STEP: usize = 8;

/// Where the first `"`, `\` or control byte of `chunk` (16 bytes) is.
#[cfg(target_arch = "x86_64")]
fn attention_sse2(chunk: &[u8]) -> Option<usize> {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };
    assert_eq!(chunk.len(), 16);
    // SAFETY: SSE2 is part of x86_64, and the load reads the 16 bytes of `chunk`, unaligned.
    let flags = unsafe {
        let v = _mm_loadu_si128(chunk.as_ptr().cast());
        let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
        let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
        let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
        _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
    };
    (flags != 0).then(|| flags.trailing_zeros() as usize)
}

/// Where the first `"`, `\` or control byte of `chunk` (8 bytes) is, eight bytes in a word.
/// Each test's lowest flag is exact (a false flag only follows a true one), so the lowest of
/// all three is.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn attention_swar(chunk: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([1; 8]);
    const HIGHS: u64 = ONES * 0x80;
    let zero_byte = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let chunk = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
    let flags = zero_byte(chunk ^ (ONES * u64::from(b'"')))
        | zero_byte(chunk ^ (ONES * u64::from(b'\\')))
        | (chunk.wrapping_sub(ONES * 0x20) & !chunk & HIGHS);
    (flags != 0).then(|| (flags.trailing_zeros() / 8) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_attention(bytes: &[u8]) -> Option<usize> {
        bytes
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
    }

    proptest::proptest! {
        /// Each way of finding the first byte that needs attention finds the one a byte loop
        /// finds, on bytes drawn mostly from those that do and their neighbours.
        #[test]
        fn the_word_and_vector_tests_find_the_first_byte_that_needs_attention(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        b'"', b'\\', 0, 0x1f, 0x20, 0x21, b'#', b'[', b']', 0x7f, 0x80, 0x9f,
                        0xa0, 0xdc, 0xe2, 0xff,
                    ]),
                    proptest::prelude::any::<u8>(),
                ],
                16,
            ),
        ) {
            let expected = first_attention(&bytes);
            let words = attention_swar(&bytes[..8])
                .or_else(|| attention_swar(&bytes[8..]).map(|at| at + 8));
            proptest::prop_assert_eq!(words, expected);
            #[cfg(target_arch = "x86_64")]
            proptest::prop_assert_eq!(attention_sse2(&bytes), expected);
            let mut padded = b"\"".repeat(3);
            padded.extend_from_slice(&bytes);
            proptest::prop_assert_eq!(
                plain_run(&padded, 3),
                3 + expected.unwrap_or(bytes.len())
            );
        }
    }
}

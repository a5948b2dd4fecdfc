//! Bytes → records → signals. The scanner is push-based: feed it chunks as they arrive (a
//! file, a gzip stream, stdin or a followed log) and it emits events.
//!
//! Most lines are not about indexes, so the scanner first finds the few lines that contain a
//! rule's needle (one pass over each block, `block_index`, which also counts its lines and
//! record headers) and only those are framed and parsed. A record is a CLI line with its
//! continuation lines, a JSONL entry, or a log-stream event; a raw multi-line warning
//! (dashboard copy, bare paste) takes its following lines.

mod block_index;
pub mod document;
pub mod json;
mod needles;
pub(crate) mod text;

use crate::document::Suspect;
use crate::parse::{Match, Matcher};
use crate::signal::{Location, Origin, Signal};
use block_index::{BlockIndex, BlockIndexer};
use memchr::memmem;
use needles::Needles;
use std::borrow::Cow;
use std::sync::{Arc, LazyLock};

/// Longest line kept in memory. Convex caps a log line at 32 KiB and an execution at 256
/// lines, so a real record is far below this; longer lines are skipped with a message.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;
/// How many suspect lines are kept as samples.
const MAX_SUSPECT_SAMPLES: usize = 5;
const SUSPECT_TEXT_CHARS: usize = 240;
/// The problem reported at an input's first invalid UTF-8 (once per input).
pub const INVALID_UTF8: &str = "invalid UTF-8; the bad bytes were replaced and reading went on";
/// Every Convex CLI record starts with this (after its timestamp).
pub(crate) const HEADER_MARK: &[u8] = b"[CONVEX ";

pub(crate) use needles::Needles as NeedleFinder;

/// A search for every literal that makes a line worth parsing.
pub(crate) fn needle_finder(matcher: &Matcher) -> NeedleFinder {
    Needles::new(&matcher.rules().needles())
}

/// Something the scanner noticed.
#[derive(Debug, Clone)]
pub enum ScanEvent {
    Signal(Signal),
    Suspect(Suspect),
    /// What one execution read, or that it hit one of Convex's read-limit warnings (JSON
    /// formats only: they carry the request id that joins it to the execution's signals).
    Usage(json::ExecutionUsage),
    /// An input problem at a line: reported, and scanning goes on.
    Problem {
        line: Option<u64>,
        message: String,
    },
}

/// Counters for the `stats` section.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ScanCounts {
    /// The input's head held NUL bytes: judged binary, not read.
    pub binary: bool,
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    pub suspects: u64,
    pub cached_replays: u64,
}

/// A raw multi-line rendering whose first line has been seen; it waits for the rest.
#[derive(Debug)]
struct Pending {
    text: String,
    origin: Origin,
    line: u64,
    lines_wanted: usize,
}

pub struct Scanner<'m> {
    matcher: &'m Matcher,
    needles: Vec<String>,
    hit_finder: Needles,
    /// Lines, headers and needle hits of each block, found in one pass.
    indexer: BlockIndexer,
    block_index: BlockIndex,
    names: text::OriginNames,
    source: Arc<str>,
    lines_done: u64,
    carry: Vec<u8>,
    skipping_overlong: bool,
    overlong_mentions_index: bool,
    pending: Option<Pending>,
    last_header: Option<Origin>,
    /// Whether `last_header` was set by this scanner (not assumed at the start of a chunk).
    header_known: bool,
    /// A line without a header of its own took its origin from before this scanner's start.
    inherited_header_used: bool,
    /// Whether the input is JSONL (its first line is JSON). Every line of a JSONL input is
    /// checked and counted; in a text input only the JSON lines that carry a needle are read.
    json_input: Option<bool>,
    seen_any: bool,
    stopped: bool,
    reported_invalid_utf8: bool,
    suspect_samples: usize,
    counts: ScanCounts,
}

impl<'m> Scanner<'m> {
    pub fn new(matcher: &'m Matcher, source: Arc<str>) -> Self {
        let needles = matcher.rules().needles();
        let hit_finder = Needles::new(&needles);
        let indexer = BlockIndexer::new(&needles, HEADER_MARK);
        Self {
            matcher,
            needles,
            hit_finder,
            indexer,
            block_index: BlockIndex::default(),
            names: text::OriginNames::default(),
            source,
            lines_done: 0,
            carry: Vec::new(),
            skipping_overlong: false,
            overlong_mentions_index: false,
            pending: None,
            last_header: None,
            header_known: false,
            inherited_header_used: false,
            json_input: None,
            seen_any: false,
            stopped: false,
            reported_invalid_utf8: false,
            suspect_samples: 0,
            counts: ScanCounts::default(),
        }
    }

    /// A scanner for a part of an input that starts at a line boundary after its head: the
    /// head checks (binary data, a byte-order mark) were made on the input's first part, and
    /// whether the input is JSONL is already known. Line numbers count from the part's start.
    pub fn for_part(matcher: &'m Matcher, source: Arc<str>, json_input: Option<bool>) -> Self {
        let mut scanner = Self::new(matcher, source);
        scanner.seen_any = true;
        scanner.json_input = json_input;
        scanner
    }

    /// Assumes the record header in force before the first byte (the one the previous part
    /// ended with); use before feeding.
    pub fn assume_header(&mut self, header: Option<Origin>) {
        self.last_header = header;
    }

    /// The record header in force after the last byte fed.
    pub fn last_header(&self) -> Option<&Origin> {
        self.last_header.as_ref()
    }

    /// Whether a line took its origin from the header assumed at the start (it had no header
    /// of its own and none came before it): then the result depends on that assumption.
    pub fn used_assumed_header(&self) -> bool {
        self.inherited_header_used
    }

    pub fn counts(&self) -> ScanCounts {
        self.counts
    }

    /// True once the input was judged unreadable (binary data); further bytes are ignored.
    pub fn stopped(&self) -> bool {
        self.stopped
    }

    pub fn feed(&mut self, mut data: &[u8], emit: &mut dyn FnMut(ScanEvent)) {
        if self.stopped || data.is_empty() {
            return;
        }
        self.counts.bytes += data.len() as u64;
        if !self.seen_any {
            self.seen_any = true;
            let head = &data[..data.len().min(8192)];
            if memchr::memchr(0, head).is_some() {
                self.stopped = true;
                self.counts.binary = true;
                emit(ScanEvent::Problem {
                    line: None,
                    message: "binary data (NUL bytes), not a log; skipped".into(),
                });
                return;
            }
            if let Some(rest) = data.strip_prefix(b"\xEF\xBB\xBF") {
                data = rest;
            }
        }
        if self.skipping_overlong || !self.carry.is_empty() {
            match memchr::memchr(b'\n', data) {
                Some(end) => {
                    self.finish_carried_line(&data[..=end], emit);
                    data = &data[end + 1..];
                }
                None => {
                    self.carry_more(data);
                    return;
                }
            }
        }
        match memchr::memrchr(b'\n', data) {
            Some(last) => {
                self.process_block(&data[..=last], emit);
                self.carry_more(&data[last + 1..]);
            }
            None => self.carry_more(data),
        }
    }

    /// Processes an unterminated last line and anything still waiting.
    pub fn finish(&mut self, emit: &mut dyn FnMut(ScanEvent)) {
        if self.skipping_overlong || !self.carry.is_empty() {
            self.finish_carried_line(b"\n", emit);
        }
        if let Some(pending) = self.pending.take() {
            self.resolve(pending, emit);
        }
    }

    fn carry_more(&mut self, data: &[u8]) {
        if self.skipping_overlong {
            self.overlong_mentions_index |= self.hit_finder.is_match(data);
            return;
        }
        if self.carry.len() + data.len() > MAX_LINE_BYTES {
            self.overlong_mentions_index =
                self.hit_finder.is_match(&self.carry) || self.hit_finder.is_match(data);
            self.skipping_overlong = true;
            self.carry = Vec::new();
            return;
        }
        self.carry.extend_from_slice(data);
    }

    fn finish_carried_line(&mut self, tail: &[u8], emit: &mut dyn FnMut(ScanEvent)) {
        if self.skipping_overlong {
            let mentions = self.overlong_mentions_index || self.hit_finder.is_match(tail);
            self.skipping_overlong = false;
            self.overlong_mentions_index = false;
            self.lines_done += 1;
            self.counts.lines += 1;
            self.pending = None;
            emit(ScanEvent::Problem {
                line: Some(self.lines_done),
                message: format!(
                    "line longer than {} MiB, skipped{}",
                    MAX_LINE_BYTES / (1024 * 1024),
                    if mentions {
                        "; it mentions a missing index that was not parsed"
                    } else {
                        ""
                    }
                ),
            });
            return;
        }
        let mut line = std::mem::take(&mut self.carry);
        line.extend_from_slice(tail);
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        self.process_block(&line, emit);
    }

    /// Scans complete lines (`block` ends with `\n`). Records are handled in line order, so
    /// what is emitted never depends on where the blocks were cut.
    fn process_block(&mut self, block: &[u8], emit: &mut dyn FnMut(ScanEvent)) {
        let first_line = self.lines_done + 1;
        let mut index = std::mem::take(&mut self.block_index);
        self.indexer.index(block, &mut index);
        let block_text = self.check_utf8(block, index.ascii, first_line, emit);

        let mut start = 0;
        if self.pending.is_some() {
            start = self.feed_pending(block, emit);
        }

        if self.json_input.is_none() {
            self.json_input = block
                .split(|&b| b == b'\n')
                .find(|line| !line.trim_ascii().is_empty())
                .map(is_json_line);
        }
        let json_input = self.json_input == Some(true);
        // Lines a pending rendering took still count, and still set the last header, exactly
        // as when the rendering and its lines arrive in one chunk.
        self.counts.records += index.headers;

        let hits = &index.hits;
        // `start` begins a line: the block's first, or the first after those a pending
        // rendering took (it stopped there because that line is JSON).
        let mut json_lines = json_input.then(|| JsonLines {
            begin: start,
            end: None,
            line_no: first_line + memchr::memchr_iter(b'\n', &block[..start]).count() as u64,
        });
        // Where the last text hit's line begins: a header on it or after it is read again only
        // when a later line needs it (a hit without a header of its own, or the block's end),
        // so a hit with its own header hands its origin on without keeping a copy.
        let mut headers_from = 0;
        let mut next_free = start;
        let mut next_hit = 0;
        loop {
            while next_hit < hits.len() && hits[next_hit].0 < next_free {
                next_hit += 1;
            }
            let hit = hits.get(next_hit).copied();
            let json_line = json_lines.as_mut().and_then(|lines| lines.current(block));
            match (json_line, hit) {
                (Some((begin, end, line_no)), hit) if hit.is_none_or(|(h, _)| begin <= h) => {
                    if let Some(lines) = json_lines.as_mut() {
                        lines.step(end);
                    }
                    let line = &block[begin..end];
                    if is_json_line(line) {
                        self.counts.records += 1;
                        let text = block_text.map(|text| &text[begin..end]);
                        // The index lists every needle: the next one at or after the line's
                        // start is on it if it is before its end.
                        let mentions = hit.is_some_and(|(h, _)| h < end);
                        self.json_line(line, text, mentions, line_no, emit);
                    }
                }
                (_, Some((pos, lines_before))) => {
                    let begin = memchr::memrchr(b'\n', &block[..pos]).map_or(0, |i| i + 1);
                    let end = line_end(block, begin);
                    next_free = end + 1;
                    let line = &block[begin..end];
                    let json = is_json_line(line);
                    if json && json_input {
                        continue;
                    }
                    let line_no = first_line + lines_before;
                    if json {
                        self.counts.records += 1;
                        let text = block_text.map(|text| &text[begin..end]);
                        self.json_line(line, text, true, line_no, emit);
                        continue;
                    }
                    let headers = headers_from..begin;
                    headers_from = begin;
                    let following = &block[(end + 1).min(block.len())..];
                    let text = match block_text {
                        Some(text) => {
                            let line = &text[begin..end];
                            let line = line.strip_suffix('\r').unwrap_or(line);
                            if index.escapes {
                                text::strip_ansi(line)
                            } else {
                                Cow::Borrowed(line)
                            }
                        }
                        None => decode_line(line),
                    };
                    self.text_hit(&text, line_no, (block, headers), following, emit);
                }
                _ => break,
            }
        }

        if index.last_header.is_some_and(|mark| mark >= headers_from)
            && let Some(origin) = last_header_in(block, headers_from..block.len(), &mut self.names)
        {
            self.last_header = Some(origin);
            self.header_known = true;
        }
        self.lines_done += index.lines;
        self.counts.lines += index.lines;
        self.block_index = index;
    }

    /// The block as text when it is valid UTF-8 (its lines are then sliced from it, not
    /// checked again); reports the input's first invalid byte.
    fn check_utf8<'b>(
        &mut self,
        block: &'b [u8],
        ascii: bool,
        first_line: u64,
        emit: &mut dyn FnMut(ScanEvent),
    ) -> Option<&'b str> {
        if ascii {
            // SAFETY: ASCII is valid UTF-8.
            return Some(unsafe { std::str::from_utf8_unchecked(block) });
        }
        let err = match std::str::from_utf8(block) {
            Ok(text) => return Some(text),
            Err(err) => err,
        };
        if !self.reported_invalid_utf8 {
            self.reported_invalid_utf8 = true;
            let line =
                first_line + memchr::memchr_iter(b'\n', &block[..err.valid_up_to()]).count() as u64;
            emit(ScanEvent::Problem {
                line: Some(line),
                message: INVALID_UTF8.into(),
            });
        }
        None
    }

    /// Gives the first lines of `block` to a pending multi-line rendering; returns the bytes used.
    fn feed_pending(&mut self, block: &[u8], emit: &mut dyn FnMut(ScanEvent)) -> usize {
        let mut used = 0;
        while let Some(pending) = self.pending.as_mut() {
            let Some(rel_end) = memchr::memchr(b'\n', &block[used..]) else {
                break;
            };
            let line = &block[used..used + rel_end];
            if self.hit_finder.is_match(line) || is_json_line(line) {
                break;
            }
            pending.text.push('\n');
            pending.text.push_str(&decode_line(line));
            pending.lines_wanted -= 1;
            used += rel_end + 1;
            if pending.lines_wanted == 0 {
                break;
            }
        }
        let still_waiting =
            self.pending.as_ref().is_some_and(|p| p.lines_wanted > 0) && used == block.len();
        if !still_waiting && let Some(pending) = self.pending.take() {
            self.resolve(pending, emit);
        }
        used
    }

    /// A line with a needle; `headers` is the part of its block from the last hit line on, where
    /// its record header is, if the line has none of its own.
    fn text_hit(
        &mut self,
        decoded: &str,
        line_no: u64,
        headers: (&[u8], std::ops::Range<usize>),
        following: &[u8],
        emit: &mut dyn FnMut(ScanEvent),
    ) {
        let split = text::split_line(decoded, &mut self.names);
        let origin = if let Some(header) = split.header {
            self.header_known = true;
            // The block index finds a CLI header again when a later line needs it; a dashboard
            // row is kept now.
            if header == text::Header::DashboardRow {
                self.last_header = Some(split.origin.clone());
            }
            split.origin
        } else {
            let (block, range) = headers;
            if let Some(origin) = last_header_in(block, range, &mut self.names) {
                self.last_header = Some(origin);
                self.header_known = true;
            }
            if !self.header_known {
                self.inherited_header_used = true;
            }
            self.last_header.clone().unwrap_or_default()
        };
        let matches = self.matcher.find(split.message);
        if !matches.is_empty() {
            self.emit_matches(&matches, origin, line_no, emit);
            return;
        }
        let wanted = self.matcher.lines_wanted(split.message, 1);
        if wanted == 0 {
            self.suspect_or_nothing(split.message, line_no, emit);
            return;
        }
        self.pending = Some(Pending {
            text: split.message.to_owned(),
            origin,
            line: line_no,
            lines_wanted: wanted,
        });
        if !following.is_empty() {
            self.feed_pending(following, emit);
        }
    }

    fn resolve(&mut self, pending: Pending, emit: &mut dyn FnMut(ScanEvent)) {
        let matches = self.matcher.find(&pending.text);
        if matches.is_empty() {
            let first = pending.text.lines().next().unwrap_or("");
            self.suspect_or_nothing(first, pending.line, emit);
        } else {
            self.emit_matches(&matches, pending.origin, pending.line, emit);
        }
    }

    /// One JSONL line; `text` is the line when its block is known to be valid UTF-8, `hit`
    /// whether a needle is on it.
    fn json_line(
        &mut self,
        line: &[u8],
        text: Option<&str>,
        hit: bool,
        line_no: u64,
        emit: &mut dyn FnMut(ScanEvent),
    ) {
        // Decoding from text skips serde's UTF-8 check of every string it borrows.
        let text = text.or_else(|| std::str::from_utf8(line).ok());
        if let Some(record) = text.and_then(json::Record::skim) {
            self.json_record(&record, hit, line_no, emit);
            return;
        }
        if !hit && json::may_carry_usage(line) {
            // No message to match, but the execution's cost, to join to its signals.
            if let Err(err) =
                json::usage_of_line(line, text, &mut |usage| emit(ScanEvent::Usage(usage)))
            {
                emit(ScanEvent::Problem {
                    line: Some(line_no),
                    message: format!("invalid JSON: {err}"),
                });
            }
            return;
        }
        if !hit {
            if let Err(err) = json::decode::<serde::de::IgnoredAny>(line, text) {
                emit(ScanEvent::Problem {
                    line: Some(line_no),
                    message: format!("invalid JSON: {err}"),
                });
            }
            return;
        }
        // The typed decode reads the shapes it knows; anything else is walked as a `Value`.
        if let Some(record) = text.and_then(json::Record::decode) {
            self.json_record(&record, true, line_no, emit);
            return;
        }
        match serde_json::from_slice::<serde_json::Value>(line) {
            Ok(value) => self.json_value(&value, line_no, emit),
            Err(err) => {
                emit(ScanEvent::Problem {
                    line: Some(line_no),
                    message: format!("invalid JSON: {err}; matched as plain text instead"),
                });
                let decoded = decode_line(line);
                let matches = self.matcher.find(&decoded);
                if matches.is_empty() {
                    self.suspect_or_nothing(&decoded, line_no, emit);
                } else {
                    self.emit_matches(&matches, Origin::default(), line_no, emit);
                }
            }
        }
    }

    /// A typed record's usage, and its messages when a needle is on its line.
    fn json_record(
        &mut self,
        record: &json::Record<'_>,
        hit: bool,
        line_no: u64,
        emit: &mut dyn FnMut(ScanEvent),
    ) {
        let mut messages = Vec::new();
        let mut tally = json::JsonTally::default();
        if hit {
            record.messages(&self.needles, &mut self.names, &mut messages, &mut tally);
        }
        record.usage(&mut |usage| emit(ScanEvent::Usage(usage)));
        self.json_messages(messages, tally, line_no, emit);
    }

    /// Messages of one decoded JSON record (a JSONL line or a document element).
    pub(crate) fn json_value(
        &mut self,
        value: &serde_json::Value,
        line_no: u64,
        emit: &mut dyn FnMut(ScanEvent),
    ) {
        let mut messages = Vec::new();
        let mut tally = json::JsonTally::default();
        json::messages(
            value,
            &self.needles,
            &mut self.names,
            &mut messages,
            &mut tally,
        );
        json::usage(value, &mut |usage| emit(ScanEvent::Usage(usage)));
        self.json_messages(messages, tally, line_no, emit);
    }

    fn json_messages(
        &mut self,
        messages: Vec<json::JsonMessage<'_>>,
        tally: json::JsonTally,
        line_no: u64,
        emit: &mut dyn FnMut(ScanEvent),
    ) {
        self.counts.cached_replays += tally.cached_replays;
        for message in messages {
            let matches = self.matcher.find(&message.text);
            if matches.is_empty() {
                self.suspect_or_nothing(&message.text, line_no, emit);
            } else {
                self.emit_matches(&matches, message.origin, line_no, emit);
            }
        }
    }

    /// Counts a document-mode record and its lines (see [`document`]).
    pub(crate) fn count_document(&mut self, records: u64, lines: u64, bytes: u64) {
        self.counts.records += records;
        self.counts.lines += lines;
        self.counts.bytes += bytes;
    }

    fn emit_matches(
        &mut self,
        matches: &[Match],
        origin: Origin,
        line: u64,
        emit: &mut dyn FnMut(ScanEvent),
    ) {
        let last = matches.len().saturating_sub(1);
        let mut origin = Some(origin);
        for (i, m) in matches.iter().enumerate() {
            // The last signal of a record takes its origin; only the others copy it.
            let origin = if i == last {
                origin.take().unwrap_or_default()
            } else {
                origin.clone().unwrap_or_default()
            };
            emit(ScanEvent::Signal(Signal {
                table: Arc::clone(&m.table),
                fields: Arc::clone(&m.fields),
                kind: m.kind,
                rule_id: Arc::clone(&m.rule_id),
                legacy_underscore: m.legacy_underscore,
                origin,
                location: Location {
                    source: self.source.clone(),
                    line,
                },
            }));
        }
    }

    fn suspect_or_nothing(&mut self, text: &str, line: u64, emit: &mut dyn FnMut(ScanEvent)) {
        if !Matcher::is_suspect(text) {
            return;
        }
        self.counts.suspects += 1;
        if self.suspect_samples < MAX_SUSPECT_SAMPLES {
            self.suspect_samples += 1;
            emit(ScanEvent::Suspect(Suspect {
                location: format!("{}:{line}", self.source),
                text: text.chars().take(SUSPECT_TEXT_CHARS).collect(),
            }));
        }
    }
}

/// Whether an input whose first bytes are `head` is JSONL, judged on its first non-blank line
/// as the scanner judges it; `None` when `head` does not hold that line whole.
pub fn json_input(head: &[u8]) -> Option<bool> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let complete = &head[..memchr::memrchr(b'\n', head)? + 1];
    complete
        .split(|&b| b == b'\n')
        .find(|line| !line.trim_ascii().is_empty())
        .map(is_json_line)
}

/// A JSONL entry, a log-stream event, or a JSON-array body of them. Such a line starts at
/// column 0 with `{"` (or `{}`), `[{` or `[]`; object-inspect bodies in CLI text are indented
/// or open on their header line, so they never look like this.
fn is_json_line(line: &[u8]) -> bool {
    let next_after = |i: usize| line[i..].trim_ascii_start().first().copied();
    match line.first() {
        Some(b'{') => matches!(next_after(1), Some(b'"' | b'}')),
        Some(b'[') => match next_after(1) {
            Some(b']') => true,
            Some(b'{') => {
                let brace = line.iter().position(|&b| b == b'{').unwrap_or(0);
                matches!(next_after(brace + 1), Some(b'"' | b'}'))
            }
            _ => false,
        },
        _ => false,
    }
}

/// A physical line as text: lossy UTF-8, without the trailing `\r`, without ANSI codes.
/// Borrowed when the line is valid UTF-8 without escape codes, as almost every line is.
fn decode_line(raw: &[u8]) -> Cow<'_, str> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    match String::from_utf8_lossy(raw) {
        Cow::Borrowed(text) => text::strip_ansi(text),
        Cow::Owned(text) => Cow::Owned(text::strip_ansi(&text).into_owned()),
    }
}

/// Where the line starting at `begin` ends (its `\n`, or the block's end).
fn line_end(block: &[u8], begin: usize) -> usize {
    begin + memchr::memchr(b'\n', &block[begin..]).unwrap_or(block.len() - begin)
}

/// The origin of the last line in `block[range]` that is a record header.
fn last_header_in(
    block: &[u8],
    range: std::ops::Range<usize>,
    names: &mut text::OriginNames,
) -> Option<Origin> {
    let mut end = range.end;
    while end > range.start {
        let mark = range.start + HEADER_FINDER_REV.rfind(&block[range.start..end])?;
        let begin = memchr::memrchr(b'\n', &block[..mark]).map_or(0, |i| i + 1);
        let line = decode_line(&block[begin..line_end(block, begin)]);
        let split = text::split_line(&line, names);
        if split.header.is_some() {
            return Some(split.origin);
        }
        if begin <= range.start {
            return None;
        }
        end = begin;
    }
    None
}

static HEADER_FINDER_REV: LazyLock<memmem::FinderRev<'static>> =
    LazyLock::new(|| memmem::FinderRev::new(HEADER_MARK));

/// A JSONL block's lines from a line start on, with their numbers: each is found from the end
/// of the one before, so a line is read once for its end and its number is not counted.
struct JsonLines {
    begin: usize,
    /// The end of the line at `begin`, once found.
    end: Option<usize>,
    line_no: u64,
}

impl JsonLines {
    /// The first line from `begin` on that starts as JSON does (`{` or `[`): its start, end
    /// and number.
    fn current(&mut self, block: &[u8]) -> Option<(usize, usize, u64)> {
        loop {
            let first = *block.get(self.begin)?;
            let end = *self.end.get_or_insert_with(|| line_end(block, self.begin));
            if first == b'{' || first == b'[' {
                return Some((self.begin, end, self.line_no));
            }
            self.step(end);
        }
    }

    /// Moves past the line that ends at `end`.
    fn step(&mut self, end: usize) {
        self.begin = end + 1;
        self.end = None;
        self.line_no += 1;
    }
}

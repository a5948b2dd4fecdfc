//! One large regular file read through a memory map on several threads: cut into parts at
//! line starts where no record can straddle the cut, each part scanned into its own sink, and
//! the parts handed back in order with the line each one starts after, so their merge is what
//! one pass would give.
//!
//! What a scanner carries from one line to the next, and how a cut keeps it exact:
//! - a raw multi-line rendering waiting for its lines: a cut is only made after
//!   `max_lines - 1` lines with no needle, so no rendering can be waiting there;
//! - the record header a line without one inherits: each part starts assuming none, and says
//!   whether a line used that assumption; such a part is scanned again, in order, with the
//!   header in force at its start: the last header line of the parts before it (rare: a hit
//!   line without a header, before any header line in its part);
//! - whether the input is JSONL, the head checks (binary data, a byte-order mark), the first
//!   invalid UTF-8: decided on the input's head, or kept for the first part only;
//! - line numbers: each part counts from its own start; the merge adds the lines before it.

use super::{Input, InputError, encoding};
use crate::frame::{self, ScanCounts, ScanEvent, Scanner, document};
use crate::parse::Matcher;
use crate::signal::Origin;
use std::fs::File;
use std::sync::Arc;

/// How a large regular file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallelism {
    /// Threads, hence parts, at most.
    pub threads: usize,
    /// A part is at least this large: a smaller file is read in one pass.
    pub min_part_bytes: u64,
    /// Bytes each thread reads at a time.
    pub block_bytes: usize,
}

const MIN_PART_BYTES: u64 = 4 * 1024 * 1024;
/// How much of the mapped file a part reads before it lets the pages go: what a part adds to
/// the resident memory, at most.
const RELEASE_BYTES: usize = 2 * 1024 * 1024;
/// How far around a nominal cut a record boundary is looked for; a part boundary that cannot
/// be placed within it is dropped (the part before it grows).
const CUT_WINDOW: usize = 256 * 1024;

impl Parallelism {
    pub fn new(threads: usize) -> Self {
        Self {
            threads: threads.max(1),
            min_part_bytes: MIN_PART_BYTES,
            block_bytes: super::CHUNK_BYTES,
        }
    }

    /// One thread per available core.
    pub fn available() -> Self {
        Self::new(std::thread::available_parallelism().map_or(1, |n| n.get()))
    }
}

impl Default for Parallelism {
    fn default() -> Self {
        Self::available()
    }
}

/// One part's sink and the number of lines before the part.
pub struct Part<S> {
    pub sink: S,
    pub line_offset: u64,
}

/// An input read in parts: the sinks in input order, the counts and the problems of the whole.
pub struct SplitScan<S> {
    pub parts: Vec<Part<S>>,
    pub counts: ScanCounts,
    pub problems: Vec<InputError>,
}

/// What scanning one part gave.
struct PartScan<S> {
    sink: S,
    counts: ScanCounts,
    problems: Vec<(Option<u64>, String)>,
    used_assumed_header: bool,
    last_header: Option<Origin>,
}

/// Reads `input` through a memory map, in as many parts as there are threads and part sizes in
/// it (one at `--threads 1`), when it is a regular file of at least one part that needs no
/// decoding (not gzip, not UTF-16, not a JSON document); `None` otherwise (read it as a
/// stream). `record` puts one event into a part's sink.
pub fn scan_split<S: Send>(
    input: &Input,
    matcher: &Matcher,
    parallelism: Parallelism,
    new_sink: &(dyn Fn() -> S + Sync),
    record: &(dyn Fn(&mut S, ScanEvent) + Sync),
) -> Option<SplitScan<S>> {
    let Input::File(path) = input else {
        return None;
    };
    let file = File::open(path).ok()?;
    let metadata = file.metadata().ok()?;
    if !metadata.is_file() {
        return None;
    }
    let len = metadata.len();
    let wanted = (len / parallelism.min_part_bytes.max(1)).min(parallelism.threads as u64);
    if wanted == 0 {
        return None;
    }
    let map = super::mapped::MappedFile::open(&file).ok()?;
    let len = len.min(map.bytes().len() as u64);
    let bytes: &[u8] = &map.bytes()[..len as usize];
    let head = &bytes[..bytes.len().min(CUT_WINDOW)];
    if head.starts_with(&[0x1f, 0x8b])
        || encoding::utf16_bom(head).is_some()
        || document::looks_like_document(head)
        || memchr::memchr(0, &head[..head.len().min(8192)]).is_some()
    {
        return None;
    }
    let json_input = frame::json_input(head)?;

    let needles = frame::needle_finder(matcher);
    let quiet_lines = matcher.rules().max_lines().saturating_sub(1);
    let mut bounds = vec![0u64];
    for k in 1..wanted {
        let nominal = len * k / wanted;
        if let Some(cut) = find_cut(bytes, nominal, quiet_lines, &needles)
            && cut > *bounds.last().unwrap_or(&0)
            && cut < len
        {
            bounds.push(cut);
        }
    }
    bounds.push(len);

    let source: Arc<str> = Arc::from(input.name().as_str());
    let ranges: Vec<(u64, u64)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let progress = super::progress_bar(len);
    let scan_part = &|matcher: &Matcher,
                      index: usize,
                      assumed: Option<Origin>,
                      progress: Option<&indicatif::ProgressBar>| {
        let (start, end) = ranges[index];
        scan_range(
            &map,
            start as usize..end as usize,
            index == 0,
            json_input,
            assumed,
            matcher,
            Arc::clone(&source),
            parallelism.block_bytes,
            progress,
            new_sink,
            record,
        )
    };
    let mut scanned: Vec<PartScan<S>> = std::thread::scope(|scope| {
        // The matcher's cache is a `RefCell`: each thread gets its own.
        let workers: Vec<_> = (0..ranges.len())
            .map(|index| {
                let matcher = matcher.fresh();
                let progress = progress.as_ref();
                scope.spawn(move || scan_part(&matcher, index, None, progress))
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    // The header in force where a part starts is the last one before it, which may lie several
    // parts back: a part without a header line of its own passes on the one it was given.
    // A rescan re-reads bytes the bar has already counted: it goes without one.
    let mut in_force: Option<Origin> = None;
    for (index, part) in scanned.iter_mut().enumerate() {
        if part.used_assumed_header && in_force.is_some() {
            *part = scan_part(matcher, index, in_force.clone(), None);
        }
        in_force = part.last_header.clone().or(in_force);
    }

    let name = input.name();
    let mut counts = ScanCounts::default();
    let mut parts = Vec::with_capacity(scanned.len());
    let mut problems = Vec::new();
    let mut reported_invalid_utf8 = false;
    for part in scanned {
        let line_offset = counts.lines;
        for (line, message) in part.problems {
            if message == frame::INVALID_UTF8 {
                if reported_invalid_utf8 {
                    continue;
                }
                reported_invalid_utf8 = true;
            }
            problems.push(InputError::Content {
                path: name.clone(),
                line: line.map(|l| l + line_offset),
                message,
            });
        }
        counts.binary |= part.counts.binary;
        counts.bytes += part.counts.bytes;
        counts.lines += part.counts.lines;
        counts.records += part.counts.records;
        counts.suspects += part.counts.suspects;
        counts.cached_replays += part.counts.cached_replays;
        parts.push(Part {
            sink: part.sink,
            line_offset,
        });
    }
    super::in_line_order(&mut problems);
    Some(SplitScan {
        parts,
        counts,
        problems,
    })
}

/// The first line start at or after `nominal` that follows `quiet_lines` lines without a
/// needle, looked for within `CUT_WINDOW` bytes either side.
fn find_cut(
    bytes: &[u8],
    nominal: u64,
    quiet_lines: usize,
    needles: &frame::NeedleFinder,
) -> Option<u64> {
    let len = bytes.len() as u64;
    let window_start = nominal.saturating_sub(CUT_WINDOW as u64);
    let window_end = (nominal + CUT_WINDOW as u64).min(len);
    let window = &bytes[window_start as usize..window_end as usize];
    let from = usize::try_from(nominal - window_start).ok()?;
    // Line starts at or after `nominal`: just after a `\n` at or after `nominal - 1`.
    let mut search = from.saturating_sub(1);
    while let Some(newline) = memchr::memchr(b'\n', &window[search..]) {
        let cut = search + newline + 1;
        search = cut;
        if window_start + cut as u64 >= len {
            return None;
        }
        // The lines before the cut: the one its `\n` ends, and `quiet_lines - 1` more.
        let quiet_start = match quiet_lines.checked_sub(1) {
            None => cut,
            Some(more) => match memchr::memrchr_iter(b'\n', &window[..cut - 1]).nth(more) {
                Some(newline) => newline + 1,
                None if window_start == 0 => 0,
                None => continue,
            },
        };
        if !needles.is_match(&window[quiet_start..cut]) {
            return Some(window_start + cut as u64);
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn scan_range<S>(
    map: &super::mapped::MappedFile,
    part: std::ops::Range<usize>,
    first: bool,
    json_input: bool,
    assumed: Option<Origin>,
    matcher: &Matcher,
    source: Arc<str>,
    block_bytes: usize,
    progress: Option<&indicatif::ProgressBar>,
    new_sink: &(dyn Fn() -> S + Sync),
    record: &(dyn Fn(&mut S, ScanEvent) + Sync),
) -> PartScan<S> {
    let mut scanner = if first {
        Scanner::new(matcher, source)
    } else {
        Scanner::for_part(matcher, source, Some(json_input))
    };
    scanner.assume_header(assumed);
    let mut sink = new_sink();
    let mut problems = Vec::new();
    let mut emit = |event: ScanEvent| match event {
        ScanEvent::Problem { line, message } => problems.push((line, message)),
        other => record(&mut sink, other),
    };
    let mut released_to = part.start;
    let mut at = part.start;
    for block in map.bytes()[part.clone()].chunks(block_bytes.max(1)) {
        if scanner.stopped() {
            break;
        }
        scanner.feed(block, &mut emit);
        at += block.len();
        if at - released_to >= RELEASE_BYTES {
            map.release(released_to..at);
            released_to = at;
        }
        if let Some(bar) = progress {
            bar.inc(block.len() as u64);
        }
    }
    map.release(released_to..part.end);
    scanner.finish(&mut emit);
    PartScan {
        counts: scanner.counts(),
        used_assumed_header: scanner.used_assumed_header(),
        last_header: scanner.last_header().cloned(),
        sink,
        problems,
    }
}

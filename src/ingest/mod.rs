//! Opens inputs: files, directories (recursed), gzip (by magic bytes, concatenated members
//! too) and stdin; and drives the frame scanner over their bytes in fixed-size chunks.

pub mod child;
pub(crate) mod encoding;
pub mod follow;
pub(crate) mod lines;
pub mod live;
mod mapped;
pub(crate) mod split;
pub(crate) mod stdin;

pub use split::{Parallelism, scan_split};

use crate::document::{InputCoverage, InputState};
use crate::frame::{ScanCounts, ScanEvent, Scanner, document};
use crate::parse::Matcher;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use thiserror::Error;

/// Extensions a directory is searched for.
pub const LOG_EXTENSIONS: &[&str] = &["log", "jsonl", "json", "txt", "gz"];
const CHUNK_BYTES: usize = 256 * 1024;
/// Inputs at least this large get a progress bar (when stderr is a terminal).
const PROGRESS_MIN_BYTES: u64 = 64 * 1024 * 1024;

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "<stdin>".to_owned(),
            Input::File(path) => path.display().to_string(),
        }
    }
}

#[derive(Debug, Error)]
pub enum InputError {
    #[error("{path}: no such file or directory")]
    Missing { path: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: corrupt gzip data ({source}); signals before the damage were kept")]
    CorruptGzip {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: empty input")]
    Empty { path: String },
    #[error("{path}: directory has no *.log, *.jsonl, *.json, *.txt or *.gz files")]
    EmptyDirectory { path: String },
    /// A problem inside an input that did not stop the reading.
    #[error("{path}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
    Content {
        path: String,
        line: Option<u64>,
        message: String,
    },
}

impl InputError {
    /// What this error leaves unread, for the report's coverage.
    pub fn coverage(&self) -> InputCoverage {
        let (name, state, detail) = match self {
            InputError::Missing { path } => (path, InputState::Missing, None),
            InputError::EmptyDirectory { path } => (
                path,
                InputState::Missing,
                Some("a directory with no *.log, *.jsonl, *.json, *.txt or *.gz files".to_owned()),
            ),
            InputError::Io { path, source } => (path, io_state(source), Some(source.to_string())),
            InputError::CorruptGzip { path, source } => (
                path,
                InputState::Partial,
                Some(format!("corrupt gzip data: {source}")),
            ),
            InputError::Empty { path } => (path, InputState::Empty, None),
            InputError::Content { path, message, .. } => {
                (path, InputState::Partial, Some(message.clone()))
            }
        };
        InputCoverage {
            name: name.clone(),
            state,
            detail,
            ..InputCoverage::default()
        }
    }
}

fn io_state(error: &io::Error) -> InputState {
    match error.kind() {
        io::ErrorKind::NotFound => InputState::Missing,
        io::ErrorKind::PermissionDenied => InputState::Permission,
        _ => InputState::Unreadable,
    }
}

/// How one input was read, from what its scan counted and met: the report's coverage of it.
pub fn coverage(
    input: &Input,
    counts: &ScanCounts,
    problems: &[InputError],
    signals: u64,
) -> InputCoverage {
    coverage_named(
        input.name(),
        *input == Input::Stdin,
        counts,
        problems,
        signals,
    )
}

/// `coverage`, for a source named `name` (a live run's file, command or pipe); `pipe`: an
/// empty one is a closed pipe, not an empty file.
pub fn coverage_named(
    name: String,
    pipe: bool,
    counts: &ScanCounts,
    problems: &[InputError],
    signals: u64,
) -> InputCoverage {
    let mut covered = InputCoverage {
        name,
        bytes: counts.bytes,
        lines: counts.lines,
        ..InputCoverage::default()
    };
    // The error that stopped the reading, if one did: it says more than any line's problem.
    let fatal = problems
        .iter()
        .find(|p| !matches!(p, InputError::Content { .. }))
        .map(InputError::coverage);
    let unread = problems
        .iter()
        .filter(|p| matches!(p, InputError::Content { .. }))
        .count() as u64;
    if let Some(fatal) = fatal {
        covered.state = fatal.state;
        covered.detail = fatal.detail;
    } else if counts.binary {
        covered.state = InputState::Binary;
    } else if counts.bytes == 0 {
        covered.state = InputState::Empty;
        covered.detail = pipe.then(|| {
            "the pipe closed without a byte: did the command before it fail, or print nothing \
             for this deployment?"
                .to_owned()
        });
    } else if unread > 0 {
        covered.state = InputState::Partial;
        covered.detail = problems.iter().find_map(|p| match p {
            InputError::Content { message, .. } => Some(message.clone()),
            _ => None,
        });
    } else if counts.records == 0 && signals == 0 {
        covered.state = InputState::NotConvex;
    }
    covered.unread = unread;
    covered
}

/// Turns command-line paths into inputs: `-` is stdin, directories are recursed in name order.
pub fn expand(paths: &[PathBuf]) -> (Vec<Input>, Vec<InputError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => errors.push(InputError::Missing {
                path: path.display().to_string(),
            }),
            Err(source) => errors.push(InputError::Io {
                path: path.display().to_string(),
                source,
            }),
            Ok(md) if md.is_dir() => {
                let before = inputs.len();
                walk(path, &mut inputs, &mut errors);
                if inputs.len() == before {
                    errors.push(InputError::EmptyDirectory {
                        path: path.display().to_string(),
                    });
                }
            }
            Ok(_) => inputs.push(Input::File(path.clone())),
        }
    }
    (inputs, errors)
}

fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(source) => {
            errors.push(InputError::Io {
                path: dir.display().to_string(),
                source,
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(&path, inputs, errors);
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| LOG_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            inputs.push(Input::File(path));
        }
    }
}

/// Reads one input to the end, sending every event to `emit`. Problems inside the input are
/// returned alongside the counts; an error means the input could not be read at all.
pub fn scan(
    input: &Input,
    matcher: &Matcher,
    emit: &mut dyn FnMut(ScanEvent),
) -> (ScanCounts, Vec<InputError>) {
    let name = input.name();
    let mut problems = Vec::new();
    let (raw, len): (Box<dyn Read>, Option<u64>) = match input {
        Input::Stdin => (Box::new(io::stdin().lock()), None),
        Input::File(path) => match File::open(path) {
            Ok(file) => {
                let len = file.metadata().ok().map(|m| m.len());
                (Box::new(file), len)
            }
            Err(source) => {
                problems.push(if source.kind() == io::ErrorKind::NotFound {
                    InputError::Missing { path: name }
                } else {
                    InputError::Io { path: name, source }
                });
                return (ScanCounts::default(), problems);
            }
        },
    };
    let raw = with_progress(raw, len);
    let mut scanner = Scanner::new(matcher, Arc::from(name.as_str()));
    let mut on_event = |event: ScanEvent| match event {
        ScanEvent::Problem { line, message } => problems.push(InputError::Content {
            path: name.clone(),
            line,
            message,
        }),
        other => emit(other),
    };
    let result = read_all(raw, &mut scanner, &mut on_event);
    scanner.finish(&mut on_event);
    let counts = scanner.counts();
    in_line_order(&mut problems);
    match result {
        Ok(gzip) => {
            // An empty file is a mistake worth flagging; an empty pipe is a quiet log.
            if counts.bytes == 0 && !gzip && *input != Input::Stdin {
                problems.push(InputError::Empty { path: name.clone() });
            }
        }
        Err(ReadFailure { gzip: true, source }) => problems.push(InputError::CorruptGzip {
            path: name.clone(),
            source,
        }),
        Err(ReadFailure {
            gzip: false,
            source,
        }) => problems.push(InputError::Io {
            path: name.clone(),
            source,
        }),
    }
    (counts, problems)
}

/// An input's problems by line (stable): a scanner reports some when the block holding them
/// is scanned, which depends on where the blocks were cut.
fn in_line_order(problems: &mut [InputError]) {
    problems.sort_by_key(|problem| match problem {
        InputError::Content { line, .. } => *line,
        _ => None,
    });
}

struct ReadFailure {
    gzip: bool,
    source: io::Error,
}

/// Feeds the scanner; returns whether the input was gzip.
fn read_all(
    raw: Box<dyn Read>,
    scanner: &mut Scanner<'_>,
    emit: &mut dyn FnMut(ScanEvent),
) -> Result<bool, ReadFailure> {
    let mut raw = BufReader::with_capacity(CHUNK_BYTES, raw);
    let head = raw.fill_buf().map_err(|source| ReadFailure {
        gzip: false,
        source,
    })?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let fail = |source| ReadFailure { gzip, source };
    let mut reader: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(
            CHUNK_BYTES,
            MultiGzDecoder::new(raw),
        ))
    } else {
        Box::new(raw)
    };
    if encoding::utf16_bom(reader.fill_buf().map_err(fail)?).is_some() {
        // One read may return less than the sample (a pipe, a gzip member): gather it, then
        // put it back in front of the rest.
        let mut head = Vec::with_capacity(encoding::SNIFF_BYTES);
        (&mut reader)
            .take(encoding::SNIFF_BYTES as u64)
            .read_to_end(&mut head)
            .map_err(fail)?;
        let complete = head.len() < encoding::SNIFF_BYTES;
        let order = encoding::utf16_text(&head, complete);
        let rest: Box<dyn BufRead> = Box::new(BufReader::with_capacity(
            CHUNK_BYTES,
            io::Cursor::new(head).chain(reader),
        ));
        reader = match order {
            Some(order) => Box::new(BufReader::with_capacity(
                CHUNK_BYTES,
                encoding::Utf16ToUtf8::new(rest, order),
            )),
            None => {
                tracing::info!(
                    "a UTF-16 byte-order mark, but the text after it is not UTF-16: read as UTF-8"
                );
                rest
            }
        };
    }
    let head = reader.fill_buf().map_err(fail)?;
    if document::looks_like_document(head) {
        document::scan_document(reader, scanner, emit).map_err(fail)?;
        return Ok(gzip);
    }
    let mut chunk = vec![0u8; CHUNK_BYTES];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(gzip),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(e)),
        };
        scanner.feed(&chunk[..n], emit);
        if scanner.stopped() {
            return Ok(gzip);
        }
    }
}

fn with_progress(raw: Box<dyn Read>, len: Option<u64>) -> Box<dyn Read> {
    match len.and_then(progress_bar) {
        Some(bar) => Box::new(ProgressRead { inner: raw, bar }),
        None => raw,
    }
}

/// A progress bar over `len` bytes, for an input large enough to want one when stderr is a
/// terminal; `None` otherwise. Parts of a split file share one (`ProgressBar` is `Sync`).
pub(crate) fn progress_bar(len: u64) -> Option<indicatif::ProgressBar> {
    if len < PROGRESS_MIN_BYTES || !io::IsTerminal::is_terminal(&io::stderr()) {
        return None;
    }
    Some(
        indicatif::ProgressBar::new(len).with_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        ),
    )
}

struct ProgressRead {
    inner: Box<dyn Read>,
    bar: indicatif::ProgressBar,
}

impl Read for ProgressRead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.bar.finish_and_clear();
        } else {
            self.bar.inc(n as u64);
        }
        Ok(n)
    }
}

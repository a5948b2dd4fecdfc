//! What the live sources (`watch`: a followed file, stdin, a supervised child process) send:
//! complete lines, skipped over-long lines, and notices about what happened to the source.

use super::lines::Piece;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

pub use super::lines::Line;

/// Where a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    File,
    Stdin,
    ChildStdout,
    ChildStderr,
    /// Events pulled from a log store, one JSON record a line.
    LogStore,
}

impl Stream {
    pub fn name(self) -> &'static str {
        match self {
            Stream::File => "file",
            Stream::Stdin => "stdin",
            Stream::ChildStdout => "stdout",
            Stream::ChildStderr => "stderr",
            Stream::LogStore => "log store",
        }
    }
}

/// Everything a live source reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Line {
        stream: Stream,
        line: Line,
    },
    /// A line over the length cap was skipped.
    Overlong {
        stream: Stream,
        number: u64,
        dropped: u64,
    },
    Notice(Notice),
}

impl Event {
    pub(crate) fn from_piece(stream: Stream, piece: Piece) -> Self {
        match piece {
            Piece::Line(line) => Event::Line { stream, line },
            Piece::Overlong { number, dropped } => Event::Overlong {
                stream,
                number,
                dropped,
            },
        }
    }
}

/// Why a supervised child stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExitReason {
    Code(i32),
    Signal(i32),
    Unknown,
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Code(code) => write!(f, "exited with status {code}"),
            ExitReason::Signal(sig) => write!(f, "was killed by signal {sig}"),
            ExitReason::Unknown => f.write_str("exited"),
        }
    }
}

/// Something that happened to a source, for the user to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    FileMissing {
        path: PathBuf,
    },
    FileOpened {
        path: PathBuf,
        offset: u64,
    },
    FileRotated {
        path: PathBuf,
    },
    FileTruncated {
        path: PathBuf,
    },
    FileRemoved {
        path: PathBuf,
    },
    /// No change notifications: the periodic re-check still follows the file.
    WatchUnavailable {
        error: String,
    },
    StdinClosed,
    /// What a pull from a log store (`watch --from`) read, or why it failed.
    LogStore {
        message: String,
    },
    /// A read error on a source that ends it (stdin).
    InputError {
        message: String,
    },
    ChildStarted {
        command: String,
        pid: u32,
    },
    ChildExited {
        reason: ExitReason,
        ran_for: Duration,
        stderr_tail: Vec<String>,
    },
    ChildRestarting {
        delay: Duration,
    },
    /// A recognised problem with a fix, e.g. "run `npx convex login`".
    ChildHint {
        message: String,
    },
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::FileMissing { path } => {
                write!(f, "{} does not exist yet; waiting for it", path.display())
            }
            Notice::FileOpened { path, offset } => {
                write!(f, "following {} from byte {offset}", path.display())
            }
            Notice::FileRotated { path } => {
                write!(f, "{} was rotated; reading the new file", path.display())
            }
            Notice::FileTruncated { path } => write!(
                f,
                "{} was truncated; reading from its start (lines written just before a \
                 copytruncate can be lost)",
                path.display()
            ),
            Notice::FileRemoved { path } => {
                write!(
                    f,
                    "{} was removed; waiting for it to reappear",
                    path.display()
                )
            }
            Notice::WatchUnavailable { error } => write!(
                f,
                "file notifications unavailable ({error}); re-checking periodically"
            ),
            Notice::StdinClosed => f.write_str("stdin closed"),
            Notice::LogStore { message } => f.write_str(message),
            Notice::InputError { message } => f.write_str(message),
            Notice::ChildStarted { command, pid } => write!(f, "started `{command}` (pid {pid})"),
            Notice::ChildExited {
                reason,
                ran_for,
                stderr_tail,
            } => {
                write!(
                    f,
                    "log command {reason} after {:.1}s",
                    ran_for.as_secs_f64()
                )?;
                if !stderr_tail.is_empty() {
                    write!(f, "; its last stderr lines:")?;
                    for line in stderr_tail {
                        write!(f, "\n    {line}")?;
                    }
                }
                Ok(())
            }
            Notice::ChildRestarting { delay } => {
                write!(f, "restarting the log command in {} ms", delay.as_millis())
            }
            Notice::ChildHint { message } => f.write_str(message),
        }
    }
}

//! Follows a file like `tail -F`: survives rename rotation, copytruncate, a file that appears
//! later and partial last lines. File-system events are only wake-up hints; every hint and a
//! periodic tick reconcile the open handle against `stat` of the path.

use super::lines::{LineSplitter, Piece};
use super::live::{Event, Notice, Stream};
use notify::{EventKind, RecursiveMode, Watcher};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

/// Bytes read per `poll` before handing control back, so a huge backlog streams through a
/// bounded channel instead of piling up in memory.
const READ_BUDGET: usize = 1024 * 1024;
const CHUNK: usize = 64 * 1024;
/// The reconcile period with `--poll`, which bounds its latency.
const POLL_TICK: Duration = Duration::from_millis(40);

#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    #[error("cannot open {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot stat {path}: {source}")]
    Stat { path: PathBuf, source: io::Error },
}

#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Read the existing contents first instead of starting at the end.
    pub from_start: bool,
    /// Use notify's polling watcher (network file systems, WSL, some containers).
    pub poll: bool,
    /// The safety-net reconcile interval; events can be lost, the tick cannot.
    pub tick: Duration,
    pub max_line: usize,
}

impl Default for FollowOptions {
    fn default() -> Self {
        Self {
            from_start: false,
            poll: false,
            tick: Duration::from_millis(250),
            max_line: super::lines::DEFAULT_MAX_LINE,
        }
    }
}

#[derive(Debug)]
struct OpenFile {
    file: File,
    ino: u64,
    dev: u64,
    offset: u64,
}

/// The synchronous core: owns the handle, the offset and the partial line.
#[derive(Debug)]
pub struct Follower {
    path: PathBuf,
    open: Option<OpenFile>,
    splitter: LineSplitter,
    /// The path is currently absent and the user has been told.
    absence_reported: bool,
    pending_notices: Vec<Notice>,
}

impl Follower {
    /// Opens the file if it exists: at its end (after the last complete line), or at its start
    /// with `from_start`. A missing file is not an error; it is picked up when it appears.
    pub fn new(path: PathBuf, from_start: bool, max_line: usize) -> Result<Self, FollowError> {
        let mut follower = Self {
            path,
            open: None,
            splitter: LineSplitter::new(max_line),
            absence_reported: false,
            pending_notices: Vec::new(),
        };
        match File::open(&follower.path) {
            Ok(file) => follower.adopt(file, !from_start)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                follower.absence_reported = true;
                follower.pending_notices.push(Notice::FileMissing {
                    path: follower.path.clone(),
                });
            }
            Err(source) => {
                return Err(FollowError::Open {
                    path: follower.path.clone(),
                    source,
                });
            }
        }
        Ok(follower)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn adopt(&mut self, mut file: File, at_end: bool) -> Result<(), FollowError> {
        let md = file.metadata().map_err(|source| FollowError::Stat {
            path: self.path.clone(),
            source,
        })?;
        let (offset, lines_before) = if at_end {
            self.skip_complete_lines(&mut file)?
        } else {
            (0, 0)
        };
        self.splitter.discard_partial();
        self.splitter.set_next_number(lines_before + 1);
        self.pending_notices.push(Notice::FileOpened {
            path: self.path.clone(),
            offset,
        });
        self.open = Some(OpenFile {
            file,
            ino: md.ino(),
            dev: md.dev(),
            offset,
        });
        Ok(())
    }

    /// Counts the complete lines already in the file and positions the handle after the last
    /// one, so an unterminated last line is emitted whole once its writer finishes it.
    fn skip_complete_lines(&self, file: &mut File) -> Result<(u64, u64), FollowError> {
        let mut buf = vec![0u8; CHUNK];
        let (mut pos, mut lines, mut after_last_newline) = (0u64, 0u64, 0u64);
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(self.read_error(source)),
            };
            for i in memchr::memchr_iter(b'\n', &buf[..n]) {
                lines += 1;
                after_last_newline = pos + i as u64 + 1;
            }
            pos += n as u64;
        }
        file.seek(SeekFrom::Start(after_last_newline))
            .map_err(|source| self.read_error(source))?;
        Ok((after_last_newline, lines))
    }

    fn read_error(&self, source: io::Error) -> FollowError {
        FollowError::Read {
            path: self.path.clone(),
            source,
        }
    }

    /// Reads what is new and reconciles with the path. Returns `true` when more work is ready
    /// right away (the read budget ran out, or the file was switched).
    pub fn poll(&mut self, out: &mut Vec<Event>) -> Result<bool, FollowError> {
        out.extend(self.pending_notices.drain(..).map(Event::Notice));
        if self.drain(out, READ_BUDGET)? {
            return Ok(true);
        }
        let md = match std::fs::metadata(&self.path) {
            Ok(md) => md,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Keep the old handle: a rotated file may still get its writer's last lines.
                if !self.absence_reported {
                    self.absence_reported = true;
                    out.push(Event::Notice(Notice::FileRemoved {
                        path: self.path.clone(),
                    }));
                }
                return Ok(false);
            }
            Err(source) => {
                return Err(FollowError::Stat {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        self.absence_reported = false;
        match &mut self.open {
            Some(open) if (open.ino, open.dev) != (md.ino(), md.dev()) => {
                // Rename rotation: the old handle is drained above; its unterminated tail will
                // never be finished by anyone, so it counts as a line.
                self.splitter
                    .finish(&mut |p| out.push(Event::from_piece(Stream::File, p)));
                self.open = None;
                out.push(Event::Notice(Notice::FileRotated {
                    path: self.path.clone(),
                }));
                self.reopen()
            }
            Some(open) if md.len() < open.offset => {
                // copytruncate: same inode, shorter than what we read.
                open.file
                    .seek(SeekFrom::Start(0))
                    .map_err(|source| FollowError::Read {
                        path: self.path.clone(),
                        source,
                    })?;
                open.offset = 0;
                self.splitter.discard_partial();
                self.splitter.set_next_number(1);
                out.push(Event::Notice(Notice::FileTruncated {
                    path: self.path.clone(),
                }));
                Ok(true)
            }
            Some(_) => Ok(false),
            None => self.reopen(),
        }
    }

    /// Opens the (new) file at the path from offset 0.
    fn reopen(&mut self) -> Result<bool, FollowError> {
        match File::open(&self.path) {
            Ok(file) => {
                self.adopt(file, false)?;
                Ok(true)
            }
            // Gone again between stat and open: the next tick retries.
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(FollowError::Open {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Reads up to `budget` bytes from the open handle; `true` if the budget ran out.
    fn drain(&mut self, out: &mut Vec<Event>, budget: usize) -> Result<bool, FollowError> {
        let Some(open) = self.open.as_mut() else {
            return Ok(false);
        };
        let mut buf = vec![0u8; CHUNK];
        let mut read = 0;
        while read < budget {
            let n = match open.file.read(&mut buf) {
                Ok(0) => return Ok(false),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(FollowError::Read {
                        path: self.path.clone(),
                        source,
                    });
                }
            };
            open.offset += n as u64;
            read += n;
            self.splitter.push(&buf[..n], &mut |p: Piece| {
                out.push(Event::from_piece(Stream::File, p))
            });
        }
        Ok(true)
    }
}

/// Follows `path` until `cancel` fires or the receiver goes away, sending lines and notices.
pub async fn follow(
    path: PathBuf,
    options: FollowOptions,
    tx: mpsc::Sender<Event>,
    cancel: CancellationToken,
) -> Result<(), FollowError> {
    let wake = Arc::new(Notify::new());
    let mut follower = Follower::new(path.clone(), options.from_start, options.max_line)?;
    // Keep the watcher alive for the whole loop; dropping it stops the notifications.
    let _watcher = match watch_parent(&path, options.poll, options.tick, wake.clone()) {
        Ok(w) => Some(w),
        Err(error) => {
            let notice = Notice::WatchUnavailable {
                error: error.to_string(),
            };
            if tx.send(Event::Notice(notice)).await.is_err() {
                return Ok(());
            }
            None
        }
    };
    // Without inotify, the tick is what finds new data: keep it short (one stat per tick).
    let period = if options.poll {
        options.tick.min(POLL_TICK)
    } else {
        options.tick
    };
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut out = Vec::new();
    loop {
        loop {
            let more = follower.poll(&mut out)?;
            for event in out.drain(..) {
                if tx.send(event).await.is_err() {
                    return Ok(());
                }
            }
            if !more || cancel.is_cancelled() {
                break;
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = wake.notified() => {}
            _ = tick.tick() => {}
        }
    }
}

/// Watches the parent directory, not the file: an inotify watch follows the inode, so after a
/// rename it would report on the rotated file and never on the new one.
fn watch_parent(
    path: &Path,
    poll: bool,
    tick: Duration,
    wake: Arc<Notify>,
) -> notify::Result<Box<dyn Watcher + Send>> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_os_string());
    let handler = move |res: notify::Result<notify::Event>| {
        let relevant = match &res {
            Ok(event) => {
                !matches!(event.kind, EventKind::Access(_))
                    && (event.paths.is_empty()
                        || event
                            .paths
                            .iter()
                            .any(|p| name.is_none() || p.file_name() == name.as_deref()))
            }
            // An error (e.g. queue overflow) may hide events: look.
            Err(_) => true,
        };
        if relevant {
            wake.notify_one();
        }
    };
    let mut watcher: Box<dyn Watcher + Send> = if poll {
        let interval = tick.min(POLL_TICK);
        Box::new(notify::PollWatcher::new(
            handler,
            notify::Config::default().with_poll_interval(interval),
        )?)
    } else {
        Box::new(notify::recommended_watcher(handler)?)
    };
    watcher.watch(&dir, RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

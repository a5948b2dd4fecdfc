//! One writer at a time per component folder: `apply` and `watch --write` hold an advisory
//! `flock` on the folder itself across read → plan → write, so neither loses the other's index.

use super::error::SchemaError;
use rustix::fs::{FlockOperation, Mode, OFlags};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

/// How long to wait for another writer. A holder only re-reads, verifies and renames one small
/// file, so a wait this long means a stuck process, not a busy one.
const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(10);

/// Held while it lives; dropping it closes the descriptor, which releases the lock.
#[derive(Debug)]
pub(crate) struct SchemaLock {
    _fd: OwnedFd,
}

/// Locks `dir` (the folder holding `schema.ts`). The folder is locked rather than the file,
/// because a write replaces the file by a rename and so changes its inode; locking the folder
/// also leaves no lock file behind in the user's project.
pub(crate) fn acquire(dir: &Path) -> Result<SchemaLock, SchemaError> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let fail = |source: std::io::Error| SchemaError::Lock {
        path: dir.to_path_buf(),
        reason: source.to_string(),
    };
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| fail(e.into()))?;
    let started = Instant::now();
    loop {
        match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(SchemaLock { _fd: fd }),
            Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) => {}
            Err(e) => return Err(fail(e.into())),
        }
        if started.elapsed() >= WAIT {
            return Err(SchemaError::Lock {
                path: dir.to_path_buf(),
                reason: format!(
                    "another ba-index-advisor process has been editing it for over {} s",
                    WAIT.as_secs()
                ),
            });
        }
        std::thread::sleep(POLL);
    }
}

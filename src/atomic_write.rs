//! The one way this tool replaces a file: a temporary file in the same folder, fsynced, given
//! the old file's permissions, then renamed over the target, so a reader sees the old file or
//! the new one and never half of either. Used for `schema.ts`, `ba-index-advisor.toml` and
//! saved reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{} is read-only; nothing was written", path.display())]
    ReadOnly { path: PathBuf },
    #[error("{}: the file changed while it was being edited; nothing was written", path.display())]
    Changed { path: PathBuf },
    #[error("{}: cannot write: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What the file on disk must still be for the write to go ahead.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Expect<'a> {
    /// Whatever is there is replaced (a report the tool itself owns).
    Anything,
    /// No file yet.
    Absent,
    /// Exactly what was read, with the same modification time (a file the user also edits).
    Unchanged {
        text: &'a [u8],
        modified: Option<SystemTime>,
    },
}

/// Replaces `path` with `bytes` atomically. A read-only file is refused even with `Anything`:
/// the rename would replace it anyway, because only the folder's permissions govern a rename.
pub(crate) fn replace(path: &Path, bytes: &[u8], expect: Expect<'_>) -> Result<(), WriteError> {
    let io = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let existing = std::fs::metadata(path).ok();
    if existing
        .as_ref()
        .is_some_and(|m| m.permissions().readonly())
    {
        return Err(WriteError::ReadOnly {
            path: path.to_path_buf(),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".ba-index-advisor-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    if let Some(meta) = &existing {
        std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(io)?;
    }
    let changed = match expect {
        Expect::Anything => false,
        Expect::Absent => path.exists(),
        Expect::Unchanged { text, modified } => {
            let now = std::fs::read(path).map_err(io)?;
            let now_modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
            now != text || now_modified != modified
        }
    };
    if changed {
        return Err(WriteError::Changed {
            path: path.to_path_buf(),
        });
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

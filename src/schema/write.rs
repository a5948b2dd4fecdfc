//! Writes a verified change: a temp file in the same folder, then a rename, keeping the file's
//! permissions, and only if the file on disk is still the one that was read and is writable.

use super::error::SchemaError;
use super::locate::SourceFile;
use std::io::Write;
use std::path::Path;

fn io(path: &Path) -> impl Fn(std::io::Error) -> SchemaError + '_ {
    move |source| SchemaError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// Replaces `file` on disk with `text`, atomically.
pub fn commit(file: &SourceFile, text: &str) -> Result<(), SchemaError> {
    write_new(&file.path, text, Some(file))
}

/// Writes `text` to `path` atomically. With `expected`, refuses when the file on disk no longer
/// matches what was read (content or modification time). A read-only file is refused too: the
/// rename would replace it even so, because only the folder's permissions govern a rename.
pub fn write_new(
    path: &Path,
    text: &str,
    expected: Option<&SourceFile>,
) -> Result<(), SchemaError> {
    let existing = std::fs::metadata(path).ok();
    if existing
        .as_ref()
        .is_some_and(|m| m.permissions().readonly())
    {
        return Err(SchemaError::ReadOnly {
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
        .map_err(io(path))?;
    tmp.write_all(text.as_bytes()).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    if let Some(meta) = &existing {
        std::fs::set_permissions(tmp.path(), meta.permissions()).map_err(io(path))?;
    }
    if let Some(expected) = expected {
        let now = std::fs::read(path).map_err(io(path))?;
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        if now != expected.text.as_bytes() || modified != expected.modified {
            return Err(SchemaError::Changed {
                path: path.to_path_buf(),
            });
        }
    } else if path.exists() {
        return Err(SchemaError::Changed {
            path: path.to_path_buf(),
        });
    }
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

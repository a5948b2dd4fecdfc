//! Writes a verified change of a schema file, only if the file on disk is still the one that
//! was read (through the one atomic write, `crate::atomic_write`).

use super::error::SchemaError;
use super::locate::SourceFile;
use crate::atomic_write::{self, Expect, WriteError};
use std::path::Path;

impl From<WriteError> for SchemaError {
    fn from(err: WriteError) -> Self {
        match err {
            WriteError::ReadOnly { path } => SchemaError::ReadOnly { path },
            WriteError::Changed { path } => SchemaError::Changed { path },
            WriteError::Io { path, source } => SchemaError::Write { path, source },
        }
    }
}

/// Replaces `file` on disk with `text`, atomically.
pub fn commit(file: &SourceFile, text: &str) -> Result<(), SchemaError> {
    let expect = Expect::Unchanged {
        text: file.text.as_bytes(),
        modified: file.modified,
    };
    Ok(atomic_write::replace(&file.path, text.as_bytes(), expect)?)
}

/// Writes a new file (`init`'s generated file), refusing to replace one that appeared.
pub fn create(path: &Path, text: &str) -> Result<(), SchemaError> {
    Ok(atomic_write::replace(
        path,
        text.as_bytes(),
        Expect::Absent,
    )?)
}

//! Typed schema errors, and their one rendering at the edge: `file:line:col`, a code frame and a
//! hint where there is a fix.

use crate::position::{floor_char_boundary, line_col};
use std::ops::Range;
use std::path::PathBuf;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum SchemaError {
    #[error("no Better Auth component folder found: {hint}")]
    NotFound { hint: String },
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: syntax error: {message}", path.display())]
    Syntax {
        path: PathBuf,
        src: String,
        range: Range<usize>,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{}:{line}:{col}: {message}", path.display())]
    Unsupported {
        path: PathBuf,
        src: String,
        range: Range<usize>,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{} is the generated Better Auth schema, not an overlay: it would be overwritten on the next `generate`\n{steps}", path.display())]
    Generated { path: PathBuf, steps: String },
    #[error("{} is the app's own schema, not Better Auth's: {}", path.display(), match component {
        Some(dir) => format!("the Better Auth component folder is {} (registered in convex.config.ts); pass --schema-dir {}", super::locate::display_path(dir), super::locate::display_path(dir)),
        None => "convex.config.ts registers no local component folder with a schema.ts; pass --schema-dir with the Better Auth component folder".to_owned(),
    })]
    AppSchema {
        path: PathBuf,
        component: Option<PathBuf>,
    },
    #[error("{} already is an overlay (it imports `tables` from {source_module})", path.display())]
    AlreadyOverlay {
        path: PathBuf,
        source_module: String,
    },
    #[error("index {table}.{name} breaks a Convex limit: {reason}")]
    Limit {
        table: String,
        name: String,
        reason: String,
    },
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is read-only; nothing was written (make it writable to let the advisor edit it)", path.display())]
    ReadOnly { path: PathBuf },
    #[error("{}: cannot lock the folder for editing: {reason}", path.display())]
    Lock { path: PathBuf, reason: String },
    #[error("{}: the file changed while it was being edited; nothing was written", path.display())]
    Changed { path: PathBuf },
    #[error("{}: the edit did not verify: {message}; nothing was written", path.display())]
    Verify { path: PathBuf, message: String },
    #[error("edits overlap at bytes {0:?}")]
    Overlap(Range<usize>),
}

impl SchemaError {
    pub fn syntax(path: PathBuf, src: &str, range: Range<usize>, message: String) -> Self {
        let (line, col) = line_col(src, range.start);
        SchemaError::Syntax {
            path,
            src: src.to_string(),
            range,
            line,
            col,
            message,
        }
    }

    pub fn unsupported(path: PathBuf, src: &str, range: Range<usize>, message: String) -> Self {
        let (line, col) = line_col(src, range.start);
        SchemaError::Unsupported {
            path,
            src: src.to_string(),
            range,
            line,
            col,
            message,
        }
    }

    /// The message, plus a code frame for errors that point into a file.
    pub fn render(&self) -> String {
        use annotate_snippets::{AnnotationKind, Level, Renderer, Snippet};
        match self {
            SchemaError::Syntax {
                path,
                src,
                range,
                message,
                ..
            }
            | SchemaError::Unsupported {
                path,
                src,
                range,
                message,
                ..
            } => {
                let start = floor_char_boundary(src, range.start.min(src.len()));
                let end = floor_char_boundary(src, range.end.clamp(start, src.len()));
                let path = path.display().to_string();
                let report = &[Level::ERROR.primary_title(self.to_string()).element(
                    Snippet::source(src.as_str())
                        .path(path.as_str())
                        .annotation(AnnotationKind::Primary.span(start..end).label(message)),
                )];
                Renderer::plain().render(report).to_string()
            }
            // The same `error:` prefix annotate-snippets gives the errors above.
            other => format!("error: {other}"),
        }
    }
}

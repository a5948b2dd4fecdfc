//! The value every log format is reduced to: one missing-index signal with where it came from.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// A place in an input: the file (or `<stdin>`) and a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Location {
    pub source: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.line)
    }
}

/// What kind of upstream message produced the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalKind {
    /// The thrown `No index found for <table>.<field>` error: the operation failed outright.
    UniqueFieldError,
    /// The `Querying without an index on table "<t>"` warning: a full table scan happened.
    MissingIndexWarning,
}

/// Who logged the line: the app function at the top of the execution, and the component
/// function (e.g. `adapter:findOne`) when the format names it. Shared strings: a scanner hands
/// the same function name and timestamp to many signals without copying them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub function: Option<Arc<str>>,
    pub component_function: Option<Arc<str>>,
    pub request_id: Option<Arc<str>>,
    /// As printed: opaque locale text for CLI output, RFC 3339 for JSON formats.
    pub timestamp: Option<Arc<str>>,
}

/// One missing-index signal, normalised: fields are in index order with version quirks removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signal {
    /// Shared with the matcher's cache and the aggregate's key: a signal copies no string.
    pub table: Arc<str>,
    pub fields: Arc<[String]>,
    pub kind: SignalKind,
    pub rule_id: Arc<str>,
    /// The list was printed by `@convex-dev/better-auth` < 0.11.2 (`_`-prefixed range/sort fields).
    pub legacy_underscore: bool,
    pub origin: Origin,
    pub location: Location,
}

//! What is never suggested: a list no index can be (no fields, `_id`, `_creationTime`), the
//! configuration's `[[ignore]]` entries, and findings seen fewer than `min_count` times. Every
//! such decision is `dismissed`: the aggregate, `advise::conclude` and `watch` all ask it.

use crate::config::{FILE_NAME, IgnoreEntry};

#[derive(Debug, Clone)]
pub struct Dismissals {
    pub ignore: Vec<IgnoreEntry>,
    pub min_count: u64,
}

impl Default for Dismissals {
    fn default() -> Self {
        Self {
            ignore: Vec::new(),
            min_count: 1,
        }
    }
}

impl Dismissals {
    /// The reason an `[[ignore]]` entry gives for exactly this (table, fields), if any.
    pub fn ignored(&self, table: &str, fields: &[String]) -> Option<String> {
        self.ignore
            .iter()
            .find(|entry| entry.table == table && entry.fields == fields)
            .map(|entry| format!("ignored in {FILE_NAME}: {}", entry.reason))
    }
}

/// Why a list is dismissed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dismissed {
    /// No index can be this list, whatever the configuration says.
    Unindexable(&'static str),
    /// The configuration: an `[[ignore]]` entry or `min_count`.
    Configured(String),
}

impl Dismissed {
    pub fn reason(&self) -> &str {
        match self {
            Dismissed::Unindexable(reason) => reason,
            Dismissed::Configured(reason) => reason,
        }
    }

    pub fn into_reason(self) -> String {
        match self {
            Dismissed::Unindexable(reason) => reason.to_owned(),
            Dismissed::Configured(reason) => reason,
        }
    }
}

/// Whether and why (table, fields) is dismissed: first a list no index can be, then the
/// `settings` (`None` where the configuration is not known, as in the aggregate). `count` is
/// `None` while it still grows (a live run: `min_count` is left to the concluded report);
/// `Some(0)` means "unknown" (a plan read back from a saved report) and never falls under
/// `min_count`.
pub fn dismissed(
    settings: Option<&Dismissals>,
    table: &str,
    fields: &[String],
    count: Option<u64>,
) -> Option<Dismissed> {
    if let Some(reason) = unindexable(fields) {
        return Some(Dismissed::Unindexable(reason));
    }
    let settings = settings?;
    if let Some(reason) = settings.ignored(table, fields) {
        return Some(Dismissed::Configured(reason));
    }
    let count = count.filter(|&count| count > 0 && count < settings.min_count)?;
    Some(Dismissed::Configured(format!(
        "seen {count} time(s), fewer than min_count = {}",
        settings.min_count
    )))
}

/// Why a field list is never turned into an index, if it is not.
fn unindexable(fields: &[String]) -> Option<&'static str> {
    if fields.is_empty() {
        return Some("the warning lists no fields");
    }
    if fields.iter().any(|f| f == "_id" || f == "id") {
        return Some(
            "`_id` is never indexed: it is a document id lookup (a `[_id]` warning comes from \
             @convex-dev/better-auth 0.8.x; upgrade, or read the document with `ctx.db.get`)",
        );
    }
    if fields.iter().any(|f| f == "_creationTime") {
        return Some("`_creationTime` is appended to every Convex index implicitly");
    }
    None
}

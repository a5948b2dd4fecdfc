//! What is never suggested: the configuration's `[[ignore]]` entries and findings seen fewer
//! than `min_count` times. Applied in one place, `advise::conclude`.

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

    /// Why this finding is left out of the plan, if it is. A `count` of 0 means "unknown" (a
    /// plan read back from a saved report) and never falls under `min_count`.
    pub fn reason(&self, table: &str, fields: &[String], count: u64) -> Option<String> {
        self.ignored(table, fields).or_else(|| {
            (count > 0 && count < self.min_count).then(|| {
                format!(
                    "seen {count} time(s), fewer than min_count = {}",
                    self.min_count
                )
            })
        })
    }
}

//! The report document (the stable JSON contract) and its renderers.

pub mod json;
pub mod markdown;
pub mod table;

use crate::advise::PlannedIndex;
use crate::aggregate::{Finding, Ignored};
use serde::Serialize;

/// Version of the JSON document; bumped only on a breaking change.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Suspect {
    pub location: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub inputs: u64,
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    pub signals: u64,
    pub suspects: u64,
    pub suspect_samples: Vec<Suspect>,
    /// Input problems, each as `file[:line]: message`.
    pub errors: Vec<String>,
}

/// Everything `report` found: serialised as-is for `--format json`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub version: u32,
    pub suggestions: Vec<Finding>,
    pub plan: Vec<PlannedIndex>,
    pub ignored: Vec<Ignored>,
    pub notes: Vec<String>,
    pub stats: Stats,
}

/// `[a, b]`, as the warning prints a field list.
pub fn describe_fields(fields: &[String]) -> String {
    format!("[{}]", fields.join(", "))
}

/// `.index("a_b", ["a", "b"])`
pub fn index_call(index: &PlannedIndex) -> String {
    let fields: Vec<String> = index.fields.iter().map(|f| format!("{f:?}")).collect();
    format!(".index({:?}, [{}])", index.name, fields.join(", "))
}

pub fn risk_label(risk: crate::aggregate::Risk) -> &'static str {
    match risk {
        crate::aggregate::Risk::Error => "error",
        crate::aggregate::Risk::Lookup => "lookup",
        crate::aggregate::Risk::Scan => "scan",
    }
}

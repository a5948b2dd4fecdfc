//! The index plan: which `.index(name, fields)` calls to add, and which findings each serves.
//!
//! Better Auth's `findIndex` takes an index when its fields *begin with* the printed list, in
//! order, so a list that is a prefix of another on the same table is served by the longer index.
//! The exception: a query that bounds or sorts by `createdAt` needs an index of exactly its
//! fields, and the warning does not say which case it was; `--no-merge` keeps one index each.

use crate::aggregate::Finding;
use serde::Serialize;

#[derive(Debug, Clone, Copy)]
pub struct PlanOptions {
    pub merge: bool,
}

impl Default for PlanOptions {
    fn default() -> Self {
        Self { merge: true }
    }
}

/// A (table, fields) pair a planned index answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Served {
    pub table: String,
    pub fields: Vec<String>,
}

/// One index to add to the overlay schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedIndex {
    pub table: String,
    pub name: String,
    pub fields: Vec<String>,
    pub serves: Vec<Served>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct IndexPlan {
    pub indexes: Vec<PlannedIndex>,
}

/// Better Auth's generator names an index by joining its fields with `_`.
pub fn index_name(fields: &[String]) -> String {
    fields.join("_")
}

fn is_strict_prefix(short: &[String], long: &[String]) -> bool {
    short.len() < long.len() && long.starts_with(short)
}

/// A (table, fields) query the plan can serve: a finding, or a suggestion read back from a
/// saved report.
pub trait QueryShape {
    fn table(&self) -> &str;
    fn fields(&self) -> &[String];
}

impl QueryShape for Finding {
    fn table(&self) -> &str {
        &self.table
    }
    fn fields(&self) -> &[String] {
        &self.fields
    }
}

/// Builds the plan from ranked findings. Planned indexes keep the findings' ranking order.
pub fn build_plan<Q: QueryShape>(findings: &[Q], options: PlanOptions) -> IndexPlan {
    let mut indexes: Vec<PlannedIndex> = Vec::new();
    for finding in findings {
        let target = if options.merge {
            // The longest list on the same table that this one is a prefix of; ties go to the
            // higher-ranked finding, which comes first.
            findings
                .iter()
                .filter(|f| {
                    f.table() == finding.table() && is_strict_prefix(finding.fields(), f.fields())
                })
                .fold(finding, |best, f| {
                    if f.fields().len() > best.fields().len() {
                        f
                    } else {
                        best
                    }
                })
        } else {
            finding
        };
        let served = Served {
            table: finding.table().to_string(),
            fields: finding.fields().to_vec(),
        };
        if let Some(existing) = indexes
            .iter_mut()
            .find(|i| i.table == target.table() && i.fields == target.fields())
        {
            existing.serves.push(served);
        } else {
            indexes.push(PlannedIndex {
                table: target.table().to_string(),
                name: index_name(target.fields()),
                fields: target.fields().to_vec(),
                serves: vec![served],
                note: None,
            });
        }
    }
    for index in &mut indexes {
        if index.serves.len() > 1 {
            index.note = Some(format!(
                "also serves {}: an index serves every list it begins with, unless the query \
                 bounds or sorts by createdAt (then the index must equal the list; use --no-merge)",
                index
                    .serves
                    .iter()
                    .filter(|s| s.fields != index.fields)
                    .map(|s| format!("[{}]", s.fields.join(", ")))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    IndexPlan { indexes }
}

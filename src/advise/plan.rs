//! The index plan: which `.index(name, fields)` calls to add, and which findings each serves.
//!
//! Better Auth's `findIndex` takes an index when its fields *begin with* the printed list, in
//! order, so a list that is a prefix of another on the same table is served by the longer index.
//! The exception: a query that bounds or sorts by `createdAt` needs an index of exactly its
//! fields, and the warning does not say which case it was; `--no-merge` keeps one index each.

use crate::document::{Finding, ListKey, PlannedIndex};
use crate::schema::SchemaModel;

/// Better Auth's generator names an index by joining its fields with `_`.
pub fn index_name(fields: &[String]) -> String {
    fields.join("_")
}

fn is_strict_prefix(short: &[String], long: &[String]) -> bool {
    short.len() < long.len() && long.starts_with(short)
}

/// Builds the plan from ranked findings (merging prefixes when `merge`). Planned indexes keep the
/// findings' ranking order.
pub(crate) fn build_plan(findings: &[&Finding], merge: bool) -> Vec<PlannedIndex> {
    let mut indexes: Vec<PlannedIndex> = Vec::new();
    for finding in findings {
        let target = if merge {
            // The longest list on the same table that this one is a prefix of; ties go to the
            // higher-ranked finding, which comes first.
            findings
                .iter()
                .filter(|f| {
                    f.table == finding.table && is_strict_prefix(&finding.fields, &f.fields)
                })
                .fold(finding, |best, f| {
                    if f.fields.len() > best.fields.len() {
                        f
                    } else {
                        best
                    }
                })
        } else {
            finding
        };
        let served = ListKey {
            table: finding.table.clone(),
            fields: finding.fields.clone(),
        };
        if let Some(existing) = indexes
            .iter_mut()
            .find(|i| i.table == target.table && i.fields == target.fields)
        {
            existing.serves.push(served);
        } else {
            indexes.push(PlannedIndex {
                table: target.table.clone(),
                name: index_name(&target.fields),
                fields: target.fields.clone(),
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
    indexes
}

/// Fields joined with `_` (the generator's rule); a name taken on the table (in the schema, or
/// earlier in the plan) gets `_2`, `_3`...
pub(crate) fn name_uniquely(indexes: &mut [PlannedIndex], model: Option<&SchemaModel>) {
    let mut taken: Vec<(String, String)> = model
        .into_iter()
        .flat_map(|m| &m.tables)
        .flat_map(|t| t.indexes.iter().map(|i| (t.name.clone(), i.name.clone())))
        .collect();
    for index in indexes {
        let base = index_name(&index.fields);
        let mut name = base.clone();
        let mut n = 2;
        while taken.iter().any(|(t, i)| *t == index.table && *i == name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        taken.push((index.table.clone(), name.clone()));
        index.name = name;
    }
}

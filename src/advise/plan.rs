//! The index plan: which `.index(name, fields)` calls to add or extend, and which findings each
//! serves. Stated once, so that the schema after many runs is the schema after one run over all
//! the logs.
//!
//! Better Auth's `findIndex` takes an index when its fields *begin with* the printed list, in
//! order, so a list that is a prefix of another on the same table is served by the longer index.
//! The exception: a query that bounds or sorts by `createdAt` needs an index of exactly its
//! fields; the warning does not say which case it was, and `--no-merge` keeps one index each.
//!
//! The plan is made against the overlay as it is now. An index this tool wrote earlier (its
//! mark, `schema::marker`, or a name the tool would have given it) whose fields begin a planned
//! index is extended in place rather than joined by a second index it would make redundant; an
//! index written by hand is never edited, and the plan says what `doctor` will then report.

use crate::document::{ExtendedIndex, Finding, FindingStatus, ListKey, PlannedIndex};
use crate::schema::SchemaModel;
use crate::schema::model::{Declared, Index};

/// Better Auth's generator names an index by joining its fields with `_`.
pub fn index_name(fields: &[String]) -> String {
    fields.join("_")
}

fn is_strict_prefix(short: &[String], long: &[String]) -> bool {
    short.len() < long.len() && long.starts_with(short)
}

/// Whether this tool wrote `index` into the overlay: it carries the tool's mark, or (a schema
/// written before the mark existed) the name the tool gives its fields, `_2`, `_3`... included.
pub(crate) fn written_by_tool(index: &Index) -> bool {
    if index.declared != Declared::Overlay {
        return false;
    }
    if index.marker.is_some() {
        return true;
    }
    let base = index_name(&index.fields);
    index.name == base
        || index
            .name
            .strip_prefix(&base)
            .and_then(|rest| rest.strip_prefix('_'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether a finding needs an index, and whether only one of exactly its fields serves it.
fn need(finding: &Finding) -> Option<bool> {
    if !finding
        .status
        .as_ref()
        .is_none_or(FindingStatus::needs_index)
    {
        return None;
    }
    Some(
        matches!(finding.status, Some(FindingStatus::ExactNeeded { .. }))
            || finding.exact == Some(true),
    )
}

/// The plan for ranked suggestions against `model` (the overlay as it is now), merging prefixes
/// and extending the tool's own indexes when `merge`. Planned indexes keep the ranking order:
/// those for lists any index beginning with them serves first, then the exact ones.
pub(crate) fn plan(
    suggestions: &[Finding],
    model: Option<&SchemaModel>,
    merge: bool,
) -> Vec<PlannedIndex> {
    let needing: Vec<(&Finding, bool)> = suggestions
        .iter()
        .filter_map(|f| need(f).map(|exact| (f, exact)))
        .collect();
    let general = needing.iter().filter(|(_, exact)| !exact);
    let exact = needing.iter().filter(|(_, exact)| *exact);
    let mut indexes: Vec<PlannedIndex> = Vec::new();
    for &(finding, is_exact) in general.chain(exact) {
        // A list any index beginning with it serves goes to the longest list on its table that
        // begins with it (exact ones included); ties go to the higher-ranked finding.
        let target = if merge && !is_exact {
            needing
                .iter()
                .map(|(f, _)| *f)
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
        let served = ListKey::new(&finding.table, &finding.fields);
        let target_exact = needing
            .iter()
            .any(|(f, exact)| *exact && f.table == target.table && f.fields == target.fields);
        if let Some(existing) = indexes
            .iter_mut()
            .find(|i| i.table == target.table && i.fields == target.fields)
        {
            existing.serves.push(served);
            continue;
        }
        indexes.push(PlannedIndex {
            table: target.table.clone(),
            name: index_name(&target.fields),
            fields: target.fields.clone(),
            serves: vec![served],
            note: None,
            exact: target_exact,
            extends: None,
        });
    }
    let mut notes: Vec<Vec<String>> = indexes.iter().map(|i| why(i, suggestions)).collect();
    if let Some(model) = model {
        if merge {
            for (index, notes) in indexes.iter_mut().zip(&mut notes) {
                notes.extend(against_overlay(index, model, suggestions));
            }
        }
        for (index, notes) in indexes.iter().zip(&mut notes) {
            if index.extends.is_none() {
                notes.extend(hand_written_prefixes(index, model));
            }
        }
    }
    for (index, notes) in indexes.iter_mut().zip(notes) {
        if !notes.is_empty() {
            index.note = Some(notes.join("; "));
        }
    }
    name_uniquely(&mut indexes, model);
    indexes
}

/// Why the index is the one planned: the shorter lists it also serves, or the generated index
/// that begins with an exact list and yet did not serve it.
fn why(index: &PlannedIndex, suggestions: &[Finding]) -> Vec<String> {
    let mut notes = Vec::new();
    let shorter: Vec<String> = index
        .serves
        .iter()
        .filter(|s| s.fields != index.fields)
        .map(|s| format!("[{}]", s.fields.join(", ")))
        .collect();
    if !shorter.is_empty() {
        notes.push(format!(
            "also serves {}: an index serves every list it begins with, unless the query \
             bounds or sorts by createdAt (then the index must equal the list; use --no-merge)",
            shorter.join(", ")
        ));
    }
    let begun_by = suggestions
        .iter()
        .filter(|f| f.table == index.table && f.fields == index.fields)
        .find_map(|f| match &f.status {
            Some(FindingStatus::ExactNeeded { index }) => Some(index.as_str()),
            _ => None,
        });
    if let Some(begun_by) = begun_by {
        notes.push(format!(
            "`{begun_by}` begins with these fields, yet the warning fired: the query bounds or \
             sorts by createdAt, and then Better Auth only takes an index of exactly these fields"
        ));
    }
    notes
}

/// The overlay indexes on the planned index's table that Better Auth can use.
fn overlay_indexes<'m>(index: &PlannedIndex, model: &'m SchemaModel) -> Vec<&'m Index> {
    model
        .table(&index.table)
        .map(|t| {
            t.indexes
                .iter()
                .filter(|i| i.declared == Declared::Overlay && !i.staged)
                .collect()
        })
        .unwrap_or_default()
}

/// The tool's own index this one extends in place: the longest overlay index the tool wrote whose
/// fields begin the planned ones, unless a query needs exactly its fields.
fn against_overlay(
    index: &mut PlannedIndex,
    model: &SchemaModel,
    suggestions: &[Finding],
) -> Option<String> {
    let needed_exactly = |fields: &[String]| {
        suggestions
            .iter()
            .any(|f| f.table == index.table && f.fields == fields && f.exact == Some(true))
    };
    let extended = overlay_indexes(index, model)
        .into_iter()
        .filter(|i| written_by_tool(i) && !i.marker.is_some_and(|m| m.exact))
        .filter(|i| is_strict_prefix(&i.fields, &index.fields) && !needed_exactly(&i.fields))
        .max_by_key(|i| i.fields.len())?;
    index.extends = Some(ExtendedIndex {
        name: extended.name.clone(),
        fields: extended.fields.clone(),
    });
    index.extension()
}

/// What `doctor` will say of each index written by hand whose fields begin the planned ones.
fn hand_written_prefixes(index: &PlannedIndex, model: &SchemaModel) -> Vec<String> {
    overlay_indexes(index, model)
        .into_iter()
        .filter(|i| !written_by_tool(i) && is_strict_prefix(&i.fields, &index.fields))
        .map(|i| {
            format!(
                "`{}` [{}] begins these fields but was written by hand, so it is left as it is: \
                 once this index is added, `doctor` reports `{}` as a prefix of `{}` (delete it \
                 unless a query bounds or sorts by createdAt)",
                i.name,
                i.fields.join(", "),
                i.name,
                index_name(&index.fields)
            )
        })
        .collect()
}

/// Fields joined with `_` (the generator's rule); a name taken on the table (in the schema, or
/// earlier in the plan) gets `_2`, `_3`... The name of an index the plan extends is free again.
pub(crate) fn name_uniquely(indexes: &mut [PlannedIndex], model: Option<&SchemaModel>) {
    let extended: Vec<(String, String)> = indexes
        .iter()
        .filter_map(|i| Some((i.table.clone(), i.extends.as_ref()?.name.clone())))
        .collect();
    let mut taken: Vec<(String, String)> = model
        .into_iter()
        .flat_map(|m| &m.tables)
        .flat_map(|t| t.indexes.iter().map(|i| (t.name.clone(), i.name.clone())))
        .filter(|taken| !extended.contains(taken))
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

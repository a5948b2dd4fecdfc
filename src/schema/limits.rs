//! Convex's limits on indexes, checked before any write so a deploy never rejects our edit.
//!
//! Sources (checked against Convex's docs):
//! - docs.convex.dev/using/indexes, "Defining indexes": an index name "must be unique per
//!   table"; its "Limits" section: at most 16 fields per index, at most 32 indexes per table,
//!   no duplicate fields in one index, and no reserved fields (those starting with `_`).
//!   `_creationTime` is appended to every index automatically.
//! - docs.convex.dev/production/state/limits, "Database": indexes per table 32, fields per
//!   index 16.
//! - convex-js `src/server/system_fields.ts`, `SystemIndexes`: `by_id` and `by_creation_time`
//!   are system indexes every table has, so those names are taken.
//! - Index names follow Convex's identifier rule (convex-backend `common/src/identifier.rs`):
//!   ASCII letters, digits and `_`, starting with a letter (so never with `_`), at most 64
//!   characters.
//! - What a deployment refuses when it reads the schema (convex-backend
//!   `crates/common/src/schemas/json.rs`, `TableDefinition::try_from`, with the messages of
//!   `bootstrap_model/index/index_validation_error.rs`): two definitions of one index name on a
//!   table (`IndexNamesNotUnique`: `Table "<t>" has two or more definitions of index "<i>".`),
//!   and two indexes, staged ones included, with the same field list (`IndexNotUnique`:
//!   `In table "<t>" index "<a>" and index "<b>" have the same fields. Indexes must be unique
//!   within a table.`). The `convex` CLI checks names once more when it writes a component's
//!   data model (`cli/codegen_templates/dataModel.ts`: `Duplicate index name <i> in table <t>.`).

use super::model::Table;

pub(crate) const MAX_FIELDS_PER_INDEX: usize = 16;
pub(crate) const MAX_INDEXES_PER_TABLE: usize = 32;
pub(crate) const MAX_IDENTIFIER_LEN: usize = 64;
pub(crate) const RESERVED_INDEX_NAMES: &[&str] = &["by_id", "by_creation_time"];

/// Why a name is not a valid Convex index name, if it is not.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Some("the name is empty".into()),
        Some('_') => return Some("names starting with `_` are reserved for system use".into()),
        Some(c) if !c.is_ascii_alphabetic() => {
            return Some("a name must start with an ASCII letter".into());
        }
        _ => {}
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!(
            "`{bad}` is not allowed: use letters, digits and `_`"
        ));
    }
    if name.len() > MAX_IDENTIFIER_LEN {
        return Some(format!("longer than {MAX_IDENTIFIER_LEN} characters"));
    }
    if RESERVED_INDEX_NAMES.contains(&name) {
        return Some(format!(
            "`{name}` is a system index every table already has"
        ));
    }
    None
}

/// Why a field list cannot be a Convex index's fields, if it cannot.
pub(crate) fn fields_problem(fields: &[String]) -> Option<String> {
    if fields.is_empty() {
        return Some("an index needs at least one field".into());
    }
    if fields.len() > MAX_FIELDS_PER_INDEX {
        return Some(format!(
            "{} fields; Convex allows {MAX_FIELDS_PER_INDEX}",
            fields.len()
        ));
    }
    if let Some(f) = fields.iter().find(|f| f.starts_with('_')) {
        return Some(format!(
            "`{f}`: `_id`, `_creationTime` and other `_` fields are reserved (Convex appends \
             `_creationTime` to every index itself)"
        ));
    }
    for (i, f) in fields.iter().enumerate() {
        if fields[..i].contains(f) {
            return Some(format!("`{f}` is listed twice"));
        }
    }
    None
}

/// Why a table with `count` indexes (staged ones included) is refused, if it is.
pub(crate) fn count_problem(count: usize) -> Option<String> {
    (count > MAX_INDEXES_PER_TABLE)
        .then(|| format!("the table has {count} indexes; Convex allows {MAX_INDEXES_PER_TABLE}"))
}

/// An earlier index on the same table that a new one collides with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Clash<T> {
    /// Same name: a deployment refuses two definitions of one index name.
    Name(T),
    /// Same fields under another name: a deployment refuses two indexes with one field list.
    Fields(T),
}

/// The first of `earlier` (a tag, name and fields for each index) that an index `(name,
/// fields)` collides with. A name clash is reported first: the deployment keeps one index per
/// name before it compares field lists.
pub(crate) fn clash<T: Copy>(
    earlier: &[(T, &str, &[String])],
    name: &str,
    fields: &[String],
) -> Option<Clash<T>> {
    if let Some((t, _, _)) = earlier.iter().find(|(_, n, _)| *n == name) {
        return Some(Clash::Name(*t));
    }
    earlier
        .iter()
        .find(|(_, _, f)| *f == fields)
        .map(|(t, _, _)| Clash::Fields(*t))
}

/// Checks adding `additions` (name, fields) to `table`. Returns the first broken limit.
pub(crate) fn check(table: &Table, additions: &[(String, Vec<String>)]) -> Result<(), String> {
    let mut taken: Vec<((), &str, &[String])> = table
        .indexes
        .iter()
        .map(|i| ((), i.name.as_str(), i.fields.as_slice()))
        .collect();
    for (name, fields) in additions {
        if let Some(problem) = name_problem(name) {
            return Err(format!("index name `{name}`: {problem}"));
        }
        if let Some(problem) = fields_problem(fields) {
            return Err(format!("index `{name}`: {problem}"));
        }
        match clash(&taken, name, fields) {
            Some(Clash::Name(())) => {
                return Err(format!("index name `{name}` is already used on this table"));
            }
            Some(Clash::Fields(())) => {
                return Err(format!(
                    "an index on [{}] already exists on this table",
                    fields.join(", ")
                ));
            }
            None => {}
        }
        taken.push(((), name, fields));
    }
    count_problem(taken.len()).map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{Declared, Index};

    fn table(indexes: &[(&str, &[&str])]) -> Table {
        Table {
            name: "t".into(),
            fields: None,
            indexes: indexes
                .iter()
                .map(|(n, f)| Index {
                    name: n.to_string(),
                    fields: f.iter().map(|s| s.to_string()).collect(),
                    staged: false,
                    declared: Declared::Generated,
                    span: None,
                    marker: None,
                })
                .collect(),
        }
    }

    fn add(name: &str, fields: &[&str]) -> Vec<(String, Vec<String>)> {
        vec![(name.into(), fields.iter().map(|s| s.to_string()).collect())]
    }

    #[test]
    fn rejects_reserved_and_malformed_names() {
        for bad in ["by_id", "by_creation_time", "_x", "1a", "a-b", ""] {
            assert!(check(&table(&[]), &add(bad, &["a"])).is_err(), "{bad}");
        }
        assert!(check(&table(&[]), &add(&"a".repeat(65), &["a"])).is_err());
        assert!(check(&table(&[]), &add("userId_expiresAt", &["userId"])).is_ok());
    }

    #[test]
    fn rejects_system_fields_duplicates_and_sizes() {
        assert!(check(&table(&[]), &add("a", &["_id"])).is_err());
        assert!(check(&table(&[]), &add("a", &["_creationTime"])).is_err());
        assert!(check(&table(&[]), &add("a", &["x", "x"])).is_err());
        assert!(check(&table(&[("x", &["x"])]), &add("x", &["y"])).is_err());
        assert!(check(&table(&[("x", &["x"])]), &add("y", &["x"])).is_err());
        let many: Vec<String> = (0..17).map(|i| format!("f{i}")).collect();
        assert!(check(&table(&[]), &[("a".into(), many)]).is_err());
        let full: Vec<(String, Vec<String>)> = (0..33)
            .map(|i| (format!("i{i}"), vec![format!("f{i}")]))
            .collect();
        assert!(check(&table(&[]), &full).is_err());
    }
}

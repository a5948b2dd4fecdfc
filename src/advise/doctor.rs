//! `doctor`: static checks of the schema, without logs. Informational only.

use crate::schema::model::{Declared, Index, SchemaModel};
use serde::Serialize;
use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Diagnosis {
    /// A generated compound index whose field order cannot serve a list Better Auth prints for
    /// the same fields (the generator sorts fields by code unit; `findIndex` wants equality
    /// fields by `localeCompare`, then the range field, then the sort field).
    UnservedOrder {
        table: String,
        index: String,
        fields: Vec<String>,
        cannot_serve: Vec<Vec<String>>,
    },
    /// A custom index whose fields are a strict prefix of another index on the same table.
    RedundantIndex {
        table: String,
        index: String,
        fields: Vec<String>,
        covered_by: String,
    },
}

impl Diagnosis {
    pub fn describe(&self) -> String {
        match self {
            Diagnosis::UnservedOrder {
                table,
                index,
                fields,
                cannot_serve,
            } => format!(
                "{table}.{index} [{}] cannot serve {}: Better Auth lists equality fields first \
                 (alphabetically), then the range or sort field, and an index serves only lists \
                 it begins with",
                fields.join(", "),
                cannot_serve
                    .iter()
                    .map(|l| match l.split_last() {
                        Some((last, eq)) if !eq.is_empty() => format!(
                            "[{}] (eq on {} plus a range or sort on {last})",
                            l.join(", "),
                            eq.join(", ")
                        ),
                        _ => format!("[{}]", l.join(", ")),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Diagnosis::RedundantIndex {
                table,
                index,
                fields,
                covered_by,
            } => format!(
                "{table}.{index} [{}] is a prefix of {covered_by}, which serves the same lists; \
                 keep it only if a query bounds or sorts by createdAt (then the index must match \
                 exactly)",
                fields.join(", ")
            ),
        }
    }
}

/// `a.localeCompare(b)` for ASCII identifiers: case-insensitive first, lower case first on ties.
fn locale_cmp(a: &str, b: &str) -> Ordering {
    a.to_lowercase()
        .cmp(&b.to_lowercase())
        .then_with(|| b.cmp(a))
}

/// Every list Better Auth can print for exactly this set of fields: all of them as equality
/// fields, or all but one as equality fields followed by that one as range or sort field.
fn printable_lists(fields: &[String]) -> Vec<Vec<String>> {
    let mut sorted = fields.to_vec();
    sorted.sort_by(|a, b| locale_cmp(a, b));
    let mut lists = vec![sorted.clone()];
    for last in &sorted {
        let mut list: Vec<String> = sorted.iter().filter(|f| *f != last).cloned().collect();
        list.push(last.clone());
        if !lists.contains(&list) {
            lists.push(list);
        }
    }
    lists
}

/// Whether Better Auth plausibly puts `field` last as a range field: it bounds dates and
/// counts, which the generator stores as `v.number()`. Lists ending in a string field would
/// need a sort on it, which Better Auth's own queries do not do; listing every reversed pair of
/// every compound index would bury the real finds (`expiresAt_userId` vs `[userId, expiresAt]`).
fn may_be_bounded(table: &crate::schema::model::Table, field: &str) -> bool {
    table
        .fields
        .iter()
        .flatten()
        .find(|f| f.name == field)
        .is_none_or(|f| f.kind == "number" || f.kind == "unknown")
}

pub fn diagnose(model: &SchemaModel) -> Vec<Diagnosis> {
    let mut out = Vec::new();
    for table in &model.tables {
        let live: Vec<&Index> = table.indexes.iter().filter(|i| !i.staged).collect();
        for index in &live {
            if index.declared == Declared::Generated && index.fields.len() >= 2 {
                let cannot_serve: Vec<Vec<String>> = printable_lists(&index.fields)
                    .into_iter()
                    .filter(|l| !live.iter().any(|i| i.fields.starts_with(l)))
                    .filter(|l| l.len() < 2 || may_be_bounded(table, &l[l.len() - 1]))
                    .collect();
                if !cannot_serve.is_empty() {
                    out.push(Diagnosis::UnservedOrder {
                        table: table.name.clone(),
                        index: index.name.clone(),
                        fields: index.fields.clone(),
                        cannot_serve,
                    });
                }
            }
            if index.declared == Declared::Overlay
                && let Some(longer) = live.iter().find(|o| {
                    o.fields.len() > index.fields.len() && o.fields.starts_with(&index.fields)
                })
            {
                out.push(Diagnosis::RedundantIndex {
                    table: table.name.clone(),
                    index: index.name.clone(),
                    fields: index.fields.clone(),
                    covered_by: longer.name.clone(),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_at_user_id_cannot_serve_user_id_then_expires_at() {
        let lists = printable_lists(&["expiresAt".into(), "userId".into()]);
        assert!(lists.contains(&vec!["userId".to_string(), "expiresAt".to_string()]));
        assert!(lists.contains(&vec!["expiresAt".to_string(), "userId".to_string()]));
    }

    fn table(name: &str, fields: &[(&str, &str)], index: &[&str]) -> crate::schema::model::Table {
        crate::schema::model::Table {
            name: name.into(),
            fields: Some(
                fields
                    .iter()
                    .map(|(n, k)| crate::schema::model::Field {
                        name: (*n).into(),
                        kind: (*k).into(),
                        optional: false,
                    })
                    .collect(),
            ),
            indexes: vec![Index {
                name: index.join("_"),
                fields: index.iter().map(|f| (*f).into()).collect(),
                staged: false,
                declared: Declared::Generated,
            }],
        }
    }

    #[test]
    fn only_orders_ending_in_a_boundable_field_are_reported() {
        let model = SchemaModel {
            tables: vec![
                table(
                    "session",
                    &[("expiresAt", "number"), ("userId", "string")],
                    &["expiresAt", "userId"],
                ),
                table(
                    "user",
                    &[("email", "string"), ("name", "string")],
                    &["email", "name"],
                ),
            ],
            regenerate: None,
        };
        let found = diagnose(&model);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].describe().starts_with("session.expiresAt_userId"));
    }

    #[test]
    fn locale_order_is_case_insensitive() {
        let lists = printable_lists(&["Zeta".into(), "alpha".into(), "beta".into()]);
        assert_eq!(lists[0], vec!["alpha", "beta", "Zeta"]);
    }
}

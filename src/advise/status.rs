//! Schema-aware advice: what each finding means against the component's current schema, and
//! the plan that remains once indexes that already serve a finding are taken out.
//!
//! Better Auth's `findIndex` (adapter-utils.ts, v0.12.5) takes the first non-staged index whose
//! fields begin with the printed list, in order; when the query bounds or sorts by `createdAt`
//! the index must have exactly those fields. Staged indexes are not returned by
//! `TableDefinition[" indexes"]()`, so they never serve.

use crate::document::{Finding, FindingStatus, SignalKind, UnknownField};
use crate::schema::model::{Declared, SchemaModel, Table};

/// Levenshtein distance, by characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Candidates within a small edit distance, or equal ignoring case, closest first.
pub fn near_matches<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Vec<String> {
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let lower = name.to_lowercase();
    let mut found: Vec<(usize, &str)> = candidates
        .filter(|c| *c != name)
        .filter_map(|c| {
            let d = distance(&lower, &c.to_lowercase());
            (d <= limit || c.to_lowercase().contains(&lower) || lower.contains(&c.to_lowercase()))
                .then_some((d, c))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .take(3)
        .map(|(_, c)| c.to_string())
        .collect()
}

fn begins_with(index: &[String], fields: &[String]) -> bool {
    index.starts_with(fields)
}

/// Classifies one (table, fields) list against the schema.
pub fn classify(
    table: &str,
    fields: &[String],
    legacy: bool,
    model: &SchemaModel,
) -> FindingStatus {
    let Some(t) = model.table(table) else {
        return FindingStatus::UnknownTable {
            near: near_matches(table, model.tables.iter().map(|t| t.name.as_str())),
        };
    };
    let unknown: Vec<UnknownField> = fields
        .iter()
        .filter(|f| !t.has_field(f))
        .map(|f| UnknownField {
            field: f.clone(),
            near: near_matches(
                f,
                t.fields.iter().flatten().map(|field| field.name.as_str()),
            ),
        })
        .collect();
    if !unknown.is_empty() {
        return FindingStatus::UnknownField { fields: unknown };
    }
    let status = by_index(t, fields);
    if legacy {
        return FindingStatus::UpgradeNeeded {
            index: match status {
                FindingStatus::Served { index } | FindingStatus::ExactNeeded { index } => {
                    Some(index)
                }
                _ => None,
            },
        };
    }
    status
}

fn by_index(t: &Table, fields: &[String]) -> FindingStatus {
    let live = || t.indexes.iter().filter(|i| !i.staged);
    if let Some(exact) = live().find(|i| i.fields == fields) {
        return FindingStatus::Served {
            index: exact.name.clone(),
        };
    }
    // An overlay index may be newer than the logs, so Better Auth's prefix rule says it serves.
    if let Some(i) =
        live().find(|i| i.declared == Declared::Overlay && begins_with(&i.fields, fields))
    {
        return FindingStatus::Served {
            index: i.name.clone(),
        };
    }
    if let Some(i) = t
        .indexes
        .iter()
        .find(|i| i.staged && begins_with(&i.fields, fields))
    {
        return FindingStatus::Staged {
            index: i.name.clone(),
        };
    }
    // A generated index was deployed when the warning fired: the prefix rule did not apply, so
    // the query bounds or sorts by createdAt.
    if let Some(i) = live().find(|i| begins_with(&i.fields, fields)) {
        return FindingStatus::ExactNeeded {
            index: i.name.clone(),
        };
    }
    FindingStatus::New
}

/// What a finding means against the schema: `classify`, except that a unique-field error
/// (which never comes from a `createdAt` query) whose field begins a generated index is served:
/// the deployment that logged it predates the index.
pub fn status_of(finding: &Finding, model: &SchemaModel) -> FindingStatus {
    let may_involve_created_at =
        finding.kinds.is_empty() || finding.kinds.contains(&SignalKind::MissingIndexWarning);
    match classify(
        &finding.table,
        &finding.fields,
        finding.legacy_underscore > 0,
        model,
    ) {
        FindingStatus::ExactNeeded { index } if !may_involve_created_at => {
            FindingStatus::Served { index }
        }
        status => status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::model::{Field, Index};

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn model() -> SchemaModel {
        let field = |n: &str| Field {
            name: n.into(),
            kind: "string".into(),
            optional: false,
        };
        let index = |n: &str, f: &[&str], staged, origin| Index {
            name: n.into(),
            fields: s(f),
            staged,
            declared: origin,
            span: None,
        };
        SchemaModel {
            tables: vec![Table {
                name: "session".into(),
                fields: Some(
                    ["userId", "expiresAt", "token", "createdAt"]
                        .map(field)
                        .to_vec(),
                ),
                indexes: vec![
                    index(
                        "expiresAt_userId",
                        &["expiresAt", "userId"],
                        false,
                        Declared::Generated,
                    ),
                    index("token", &["token"], false, Declared::Generated),
                    index(
                        "userId_createdAt",
                        &["userId", "createdAt"],
                        false,
                        Declared::Overlay,
                    ),
                    index(
                        "token_expiresAt",
                        &["token", "expiresAt"],
                        true,
                        Declared::Overlay,
                    ),
                ],
            }],
        }
    }

    #[test]
    fn prefix_rule_is_order_sensitive() {
        let m = model();
        assert_eq!(
            classify("session", &s(&["userId", "expiresAt"]), false, &m),
            FindingStatus::New
        );
        assert_eq!(
            classify("session", &s(&["userId"]), false, &m),
            FindingStatus::Served {
                index: "userId_createdAt".into()
            }
        );
        assert_eq!(
            classify("session", &s(&["expiresAt"]), false, &m),
            FindingStatus::ExactNeeded {
                index: "expiresAt_userId".into()
            }
        );
        assert_eq!(
            classify("session", &s(&["token", "expiresAt"]), false, &m),
            FindingStatus::Staged {
                index: "token_expiresAt".into()
            }
        );
    }

    #[test]
    fn unknown_names_get_near_matches() {
        let m = model();
        assert_eq!(
            classify("sesion", &s(&["userId"]), false, &m),
            FindingStatus::UnknownTable {
                near: s(&["session"])
            }
        );
        let FindingStatus::UnknownField { fields } =
            classify("session", &s(&["userID"]), false, &m)
        else {
            panic!("expected unknown field");
        };
        assert_eq!(fields[0].near, s(&["userId"]));
    }

    #[test]
    fn legacy_lists_need_an_upgrade() {
        assert_eq!(
            classify("session", &s(&["token"]), true, &model()),
            FindingStatus::UpgradeNeeded {
                index: Some("token".into())
            }
        );
    }

    #[test]
    fn a_taken_name_gets_a_suffix() {
        use crate::advise::plan::name_uniquely;
        use crate::document::PlannedIndex;
        let mut m = model();
        m.tables[0].indexes.push(Index {
            name: "userId_expiresAt".into(),
            fields: s(&["expiresAt"]),
            staged: false,
            declared: Declared::Overlay,
            span: None,
        });
        let mut plan = vec![PlannedIndex {
            table: "session".into(),
            name: String::new(),
            fields: s(&["userId", "expiresAt"]),
            serves: vec![],
            note: None,
        }];
        name_uniquely(&mut plan, Some(&m));
        assert_eq!(plan[0].name, "userId_expiresAt_2");
    }
}

//! Schema-aware advice: what each finding means against the component's current schema, and
//! the plan that remains once indexes that already serve a finding are taken out.
//!
//! Better Auth's `findIndex` (adapter-utils.ts, v0.12.5) takes the first non-staged index whose
//! fields begin with the printed list, in order; when the query bounds or sorts by `createdAt`
//! the index must have exactly those fields. Staged indexes are not returned by
//! `TableDefinition[" indexes"]()`, so they never serve.

use super::plan::{IndexPlan, PlanOptions, PlannedIndex, QueryShape, build_plan, index_name};
use crate::schema::model::{Origin, SchemaModel, Table};
use crate::schema::overlay::NewIndex;
use serde::{Deserialize, Serialize};

/// What a finding means against the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingStatus {
    /// No index serves it: add one.
    New,
    /// `index` begins with the listed fields, so Better Auth uses it.
    Served { index: String },
    /// A generated index begins with these fields, and the warning still fired: the query bounds
    /// or sorts by `createdAt`, which needs an index of exactly these fields.
    ExactNeeded { index: String },
    /// `index` would serve it but is declared `staged: true`; remove that to enable it.
    Staged { index: String },
    /// The table is not in the schema (a typo, or a plugin table not generated yet).
    UnknownTable { near: Vec<String> },
    /// Fields the table does not declare, each with near matches.
    UnknownField { fields: Vec<UnknownField> },
    /// Logged by `@convex-dev/better-auth` < 0.11.2, which prefixed range/sort fields with `_`:
    /// no index silences those warnings until the package is upgraded.
    UpgradeNeeded {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        index: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownField {
    pub field: String,
    pub near: Vec<String>,
}

impl FindingStatus {
    /// Whether the finding still needs a new index in the overlay.
    pub fn needs_index(&self) -> bool {
        matches!(
            self,
            FindingStatus::New
                | FindingStatus::ExactNeeded { .. }
                | FindingStatus::UpgradeNeeded { index: None }
        )
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            FindingStatus::New => "new: no index serves this list".into(),
            FindingStatus::Served { index } => format!("already served by index `{index}`"),
            FindingStatus::ExactNeeded { index } => format!(
                "exact index needed: `{index}` begins with these fields, but a query that bounds \
                 or sorts by createdAt needs an index of exactly these fields"
            ),
            FindingStatus::Staged { index } => {
                format!("index `{index}` is staged: remove `staged: true` to enable it")
            }
            FindingStatus::UnknownTable { near } if near.is_empty() => {
                "unknown table: not in the schema (a plugin table that has not been generated? \
                 enable the plugin, then regenerate the schema)"
                    .into()
            }
            FindingStatus::UnknownTable { near } => with_near("unknown table", near),
            FindingStatus::UnknownField { fields } => fields
                .iter()
                .map(|f| with_near(&format!("unknown field `{}`", f.field), &f.near))
                .collect::<Vec<_>>()
                .join("; "),
            FindingStatus::UpgradeNeeded { index } => format!(
                "upgrade @convex-dev/better-auth to 0.11.2 or later: older versions print \
                 `_`-prefixed fields no index can match{}",
                index
                    .as_ref()
                    .map(|i| format!(" (index `{i}` already serves the real list)"))
                    .unwrap_or_default()
            ),
        }
    }
}

fn with_near(what: &str, near: &[String]) -> String {
    if near.is_empty() {
        what.to_string()
    } else {
        format!("{what} (did you mean {}?)", near.join(", "))
    }
}

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
    if let Some(i) = live().find(|i| i.origin == Origin::Overlay && begins_with(&i.fields, fields))
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

/// A list as the advice needs it: a finding or a suggestion from a saved report.
pub trait Query: QueryShape {
    fn legacy(&self) -> bool;
}

impl Query for crate::aggregate::Finding {
    fn legacy(&self) -> bool {
        self.legacy_underscore > 0
    }
}

/// Statuses (one per query, in order) and the plan of indexes still needed.
pub fn advise<Q: Query>(
    queries: &[Q],
    model: &SchemaModel,
    options: PlanOptions,
) -> (Vec<FindingStatus>, IndexPlan) {
    let statuses: Vec<FindingStatus> = queries
        .iter()
        .map(|q| classify(q.table(), q.fields(), q.legacy(), model))
        .collect();
    let pick = |exact: bool| -> Vec<&Q> {
        queries
            .iter()
            .zip(&statuses)
            .filter(|(_, s)| {
                s.needs_index() && matches!(s, FindingStatus::ExactNeeded { .. }) == exact
            })
            .map(|(q, _)| q)
            .collect()
    };
    let mut plan = build_plan(&pick(false), options);
    let exact = build_plan(&pick(true), PlanOptions { merge: false });
    for mut index in exact.indexes {
        if let Some(same) = plan
            .indexes
            .iter_mut()
            .find(|i| i.table == index.table && i.fields == index.fields)
        {
            same.serves.append(&mut index.serves);
            continue;
        }
        let existing = model
            .table(&index.table)
            .and_then(|t| {
                t.indexes
                    .iter()
                    .find(|i| begins_with(&i.fields, &index.fields))
            })
            .map_or_else(String::new, |i| i.name.clone());
        index.note = Some(format!(
            "`{existing}` begins with these fields, yet the warning fired: the query bounds or \
             sorts by createdAt, and then Better Auth only takes an index of exactly these fields"
        ));
        plan.indexes.push(index);
    }
    name_uniquely(&mut plan.indexes, model);
    (statuses, plan)
}

impl<Q: QueryShape> QueryShape for &Q {
    fn table(&self) -> &str {
        (*self).table()
    }
    fn fields(&self) -> &[String] {
        (*self).fields()
    }
}

/// Fields joined with `_` (the generator's rule); a name taken on the table gets `_2`, `_3`...
fn name_uniquely(indexes: &mut [PlannedIndex], model: &SchemaModel) {
    let mut taken: Vec<(String, String)> = model
        .tables
        .iter()
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

/// The indexes to write for a plan.
pub fn additions(plan: &IndexPlan) -> Vec<NewIndex> {
    plan.indexes
        .iter()
        .map(|i| NewIndex {
            table: i.table.clone(),
            name: i.name.clone(),
            fields: i.fields.clone(),
        })
        .collect()
}

/// Marks each suggestion of a report with its status and keeps only the indexes still needed.
pub fn annotate(report: &mut crate::report::Report, model: &SchemaModel, options: PlanOptions) {
    let (statuses, plan) = advise(&report.suggestions, model, options);
    for (finding, status) in report.suggestions.iter_mut().zip(statuses) {
        finding.status = Some(status);
    }
    report.plan = plan.indexes;
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
            origin,
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
                        Origin::Generated,
                    ),
                    index("token", &["token"], false, Origin::Generated),
                    index(
                        "userId_createdAt",
                        &["userId", "createdAt"],
                        false,
                        Origin::Overlay,
                    ),
                    index(
                        "token_expiresAt",
                        &["token", "expiresAt"],
                        true,
                        Origin::Overlay,
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
        let mut m = model();
        m.tables[0].indexes.push(Index {
            name: "userId_expiresAt".into(),
            fields: s(&["expiresAt"]),
            staged: false,
            origin: Origin::Overlay,
        });
        let mut plan = vec![PlannedIndex {
            table: "session".into(),
            name: String::new(),
            fields: s(&["userId", "expiresAt"]),
            serves: vec![],
            note: None,
        }];
        name_uniquely(&mut plan, &m);
        assert_eq!(plan[0].name, "userId_expiresAt_2");
    }
}

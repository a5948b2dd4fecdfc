//! The checks: Convex's own refusals on every index, then the warnings on the live ones (a
//! generated order Better Auth never prints, an overlay index another one begins with), each
//! with the fix the overlay can make.

use super::{Diagnosis, Fix, NewIndex, Other, Problem, Severity};
use crate::advise::Dismissals;
use crate::advise::plan::{index_name, name_uniquely};
use crate::advise::query::printable_lists;
use crate::document::PlannedIndex;
use crate::schema::limits::{self, Clash};
use crate::schema::model::{Declared, Index, SchemaModel, Table};
use crate::schema::{Component, Site, display_path};

/// Whether Better Auth plausibly puts `field` last as a range field: it bounds dates and
/// counts, which the generator stores as `v.number()`. Lists ending in a string field would
/// need a sort on it, which Better Auth's own queries do not do; listing every reversed pair of
/// every compound index would bury the real finds (`expiresAt_userId` vs `[userId, expiresAt]`).
fn may_be_bounded(table: &Table, field: &str) -> bool {
    table
        .fields
        .iter()
        .flatten()
        .find(|f| f.name == field)
        .is_none_or(|f| f.kind == "number" || f.kind == "unknown")
}

/// Whether the table declares the field an index path starts with (`a.b` indexes into `a`).
fn declares(table: &Table, path: &str) -> bool {
    table.has_field(path.split('.').next().unwrap_or(path))
}

/// The checks, on the component as read: positions come from its files.
pub(crate) fn diagnose(component: &Component, dismissals: &Dismissals) -> Vec<Problem> {
    let overlay = display_path(&component.schema.path);
    check(&component.model, dismissals, &overlay, &|i| {
        component.site(i)
    })
}

/// A free name for `fields` on `table`: the generator's `_`-join, suffixed when taken.
fn free_name(model: &SchemaModel, table: &str, fields: &[String]) -> String {
    let mut planned = [PlannedIndex {
        table: table.to_string(),
        name: String::new(),
        fields: fields.to_vec(),
        serves: Vec::new(),
        note: None,
        exact: false,
        extends: None,
    }];
    name_uniquely(&mut planned, Some(model));
    let [planned] = planned;
    planned.name
}

/// What the command says when the generated file itself is wrong: the overlay cannot undo an
/// index the generated file declares.
const REGENERATE: &str = "the generated file declares this index, and the overlay cannot undo \
    it: regenerate the schema (`npx auth generate --output generatedSchema.ts` in the component \
    folder) or report it to @convex-dev/better-auth";

struct Checker<'a> {
    model: &'a SchemaModel,
    overlay: &'a str,
    site: &'a dyn Fn(&Index) -> Option<Site>,
    out: Vec<Problem>,
}

impl Checker<'_> {
    fn push(&mut self, severity: Severity, diagnosis: Diagnosis, index: Option<&Index>, fix: Fix) {
        self.out.push(Problem {
            severity,
            message: diagnosis.describe(),
            diagnosis,
            declared: index.map(|i| i.declared),
            at: index.and_then(|i| (self.site)(i)),
            fix,
        });
    }

    /// Replace the overlay call with one declaring `fields` (under its own name when that is
    /// valid and free), or delete it when another index already has `fields`.
    fn rewrite(&self, table: &Table, index: &Index, fields: Vec<String>) -> Fix {
        let Some(at) = (self.site)(index) else {
            return Fix::Manual {
                hint: format!("change or delete `{}` on {}", index.name, table.name),
            };
        };
        if fields.is_empty()
            || table
                .indexes
                .iter()
                .any(|o| !std::ptr::eq(o, index) && o.fields == fields)
        {
            return Fix::Remove { at };
        }
        // A name that only spelled out the old fields (the generator's habit) follows them.
        let keep = limits::name_problem(&index.name).is_none()
            && (fields == index.fields || index.name != index_name(&index.fields))
            && !table
                .indexes
                .iter()
                .any(|o| !std::ptr::eq(o, index) && o.name == index.name);
        let name = if keep {
            index.name.clone()
        } else {
            free_name(self.model, &table.name, &fields)
        };
        if limits::name_problem(&name).is_some() || limits::fields_problem(&fields).is_some() {
            return Fix::Manual {
                hint: format!("rewrite `{}` at {}:{} by hand", at.code, at.file, at.line),
            };
        }
        Fix::Replace {
            at,
            with: NewIndex { name, fields },
        }
    }

    /// Convex's own checks on one index; whether it found a problem.
    fn refused(
        &mut self,
        table: &Table,
        index: &Index,
        earlier: &[(&Index, &str, &[String])],
    ) -> bool {
        let named = |reason: String| Diagnosis::Refused {
            table: table.name.clone(),
            index: index.name.clone(),
            fields: index.fields.clone(),
            reason,
        };
        let generated = index.declared == Declared::Generated;
        let manual = || Fix::Manual {
            hint: REGENERATE.to_string(),
        };
        if let Some(reason) = limits::fields_problem(&index.fields) {
            let mut fields: Vec<String> = Vec::new();
            for f in &index.fields {
                if !f.starts_with('_') && !fields.contains(f) {
                    fields.push(f.clone());
                }
            }
            let fix = if generated {
                manual()
            } else {
                self.rewrite(table, index, fields)
            };
            self.push(
                Severity::Error,
                named(format!("its fields: {reason}")),
                Some(index),
                fix,
            );
            return true;
        }
        if let Some(reason) = limits::name_problem(&index.name) {
            let fix = if generated {
                manual()
            } else {
                self.rewrite(table, index, index.fields.clone())
            };
            self.push(
                Severity::Error,
                named(format!("its name: {reason}")),
                Some(index),
                fix,
            );
            return true;
        }
        if let Some(field) = index.fields.iter().find(|f| !declares(table, f)) {
            let near = crate::advise::status::near_matches(
                field,
                table.fields.iter().flatten().map(|f| f.name.as_str()),
            );
            let fix = match (generated, near.first()) {
                (true, _) => manual(),
                (false, Some(near)) => {
                    let fields: Vec<String> = index
                        .fields
                        .iter()
                        .map(|f| if f == field { near.clone() } else { f.clone() })
                        .collect();
                    self.rewrite(table, index, fields)
                }
                (false, None) => match (self.site)(index) {
                    Some(at) => Fix::Remove { at },
                    None => Fix::Manual {
                        hint: format!("delete `{}` on {}", index.name, table.name),
                    },
                },
            };
            let diagnosis = Diagnosis::UnknownField {
                table: table.name.clone(),
                index: index.name.clone(),
                fields: index.fields.clone(),
                field: field.clone(),
                near,
            };
            self.push(Severity::Error, diagnosis, Some(index), fix);
            return true;
        }
        if generated {
            return false;
        }
        let Some(clash) = limits::clash(earlier, &index.name, &index.fields) else {
            return false;
        };
        let (Clash::Name(other) | Clash::Fields(other)) = clash;
        let described = Other {
            index: other.name.clone(),
            fields: other.fields.clone(),
            declared: other.declared,
            at: (self.site)(other),
        };
        let (table_name, name, fields) =
            (table.name.clone(), index.name.clone(), index.fields.clone());
        let diagnosis = match clash {
            Clash::Name(_) => Diagnosis::DuplicateName {
                table: table_name,
                index: name,
                fields,
                other: described,
            },
            Clash::Fields(_) => Diagnosis::DuplicateFields {
                table: table_name,
                index: name,
                fields,
                other: described,
            },
        };
        // Fields another index has: delete this one, which adds nothing. A taken name with
        // fields of its own: keep the fields under a free name.
        let fix = self.rewrite(table, index, index.fields.clone());
        self.push(Severity::Error, diagnosis, Some(index), fix);
        true
    }
}

fn check(
    model: &SchemaModel,
    dismissals: &Dismissals,
    overlay: &str,
    site: &dyn Fn(&Index) -> Option<Site>,
) -> Vec<Problem> {
    let mut c = Checker {
        model,
        overlay,
        site,
        out: Vec::new(),
    };
    for table in &model.tables {
        let mut flagged: Vec<&Index> = Vec::new();
        // `model::build` gives an overlay entry on a table the generated file lacks no fields.
        if table.fields.as_ref().is_some_and(Vec::is_empty)
            && let Some(first) = table.indexes.first()
            && table
                .indexes
                .iter()
                .all(|i| i.declared == Declared::Overlay)
        {
            c.push(
                Severity::Error,
                Diagnosis::UnknownTable {
                    table: table.name.clone(),
                },
                Some(first),
                Fix::Manual {
                    hint: format!(
                        "enable the Better Auth plugin that adds `{0}` and regenerate \
                         generatedSchema.ts, or delete the `{0}` entry from {1}",
                        table.name, c.overlay
                    ),
                },
            );
            continue;
        }
        let mut earlier: Vec<(&Index, &str, &[String])> = Vec::new();
        for index in &table.indexes {
            if c.refused(table, index, &earlier) {
                flagged.push(index);
            }
            earlier.push((index, &index.name, &index.fields));
        }
        if let Some(reason) = limits::count_problem(table.indexes.len()) {
            c.push(
                Severity::Error,
                Diagnosis::TooManyIndexes {
                    table: table.name.clone(),
                    count: table.indexes.len(),
                    reason,
                },
                None,
                Fix::Manual {
                    hint: format!(
                        "delete the overlay indexes {} does not need (staged ones count too)",
                        table.name
                    ),
                },
            );
        }
        let live: Vec<&Index> = table.indexes.iter().filter(|i| !i.staged).collect();
        let after = table
            .indexes
            .iter()
            .rev()
            .find(|i| i.declared == Declared::Overlay)
            .and_then(|i| (c.site)(i));
        for index in &live {
            if flagged.iter().any(|f| std::ptr::eq(*f, *index)) {
                continue;
            }
            if index.declared == Declared::Generated && index.fields.len() >= 2 {
                let cannot_serve: Vec<Vec<String>> = printable_lists(&index.fields)
                    .into_iter()
                    .filter(|l| !live.iter().any(|i| i.fields.starts_with(l)))
                    .filter(|l| l.len() < 2 || may_be_bounded(table, &l[l.len() - 1]))
                    // A list the team declined in ba-index-advisor.toml is not a problem.
                    .filter(|l| dismissals.ignored(&table.name, l).is_none())
                    .collect();
                if !cannot_serve.is_empty() {
                    let mut planned: Vec<PlannedIndex> = cannot_serve
                        .iter()
                        .map(|l| PlannedIndex {
                            table: table.name.clone(),
                            name: String::new(),
                            fields: l.clone(),
                            serves: Vec::new(),
                            note: None,
                            exact: false,
                            extends: None,
                        })
                        .collect();
                    name_uniquely(&mut planned, Some(model));
                    let fix = Fix::Add {
                        file: c.overlay.to_string(),
                        table: table.name.clone(),
                        indexes: planned
                            .into_iter()
                            .map(|p| NewIndex {
                                name: p.name,
                                fields: p.fields,
                            })
                            .collect(),
                        after: after.clone(),
                    };
                    c.push(
                        Severity::Warning,
                        Diagnosis::UnservedOrder {
                            table: table.name.clone(),
                            index: index.name.clone(),
                            fields: index.fields.clone(),
                            cannot_serve,
                        },
                        Some(index),
                        fix,
                    );
                }
            }
            // An index the tool wrote for a createdAt query serves it only as it is.
            let exact = index.marker.is_some_and(|m| m.exact);
            if index.declared == Declared::Overlay
                && !exact
                && let Some(longer) = live.iter().find(|o| {
                    o.fields.len() > index.fields.len() && o.fields.starts_with(&index.fields)
                })
            {
                let fix = match (c.site)(index) {
                    Some(at) => Fix::Remove { at },
                    None => Fix::Manual {
                        hint: format!("delete `{}` on {}", index.name, table.name),
                    },
                };
                c.push(
                    Severity::Warning,
                    Diagnosis::RedundantIndex {
                        table: table.name.clone(),
                        index: index.name.clone(),
                        fields: index.fields.clone(),
                        covered_by: longer.name.clone(),
                    },
                    Some(index),
                    fix,
                );
            }
        }
    }
    // Errors first: they stop the deploy.
    c.out.sort_by_key(|p| p.severity);
    c.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn index(name: &str, fields: &[&str], declared: Declared) -> Index {
        Index {
            name: name.into(),
            fields: s(fields),
            staged: false,
            declared,
            span: None,
            marker: None,
        }
    }

    fn table(name: &str, fields: &[(&str, &str)], indexes: Vec<Index>) -> Table {
        Table {
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
            indexes,
        }
    }

    fn run(tables: Vec<Table>) -> Vec<Problem> {
        check(
            &SchemaModel {
                tables,
                regenerate: None,
            },
            &Dismissals::default(),
            "schema.ts",
            &|_| None,
        )
    }

    #[test]
    fn only_orders_ending_in_a_boundable_field_are_reported() {
        let found = run(vec![
            table(
                "session",
                &[("expiresAt", "number"), ("userId", "string")],
                vec![index(
                    "expiresAt_userId",
                    &["expiresAt", "userId"],
                    Declared::Generated,
                )],
            ),
            table(
                "user",
                &[("email", "string"), ("name", "string")],
                vec![index("email_name", &["email", "name"], Declared::Generated)],
            ),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.starts_with("session.expiresAt_userId"));
        assert_eq!(
            found[0].fix,
            Fix::Add {
                file: "schema.ts".into(),
                table: "session".into(),
                indexes: vec![NewIndex {
                    name: "userId_expiresAt".into(),
                    fields: s(&["userId", "expiresAt"]),
                }],
                after: None,
            }
        );
    }

    #[test]
    fn an_overlay_index_named_like_a_generated_one_is_an_error() {
        let key = [("key", "string"), ("referenceId", "string")];
        let same = run(vec![table(
            "apikey",
            &key,
            vec![
                index("key", &["key"], Declared::Generated),
                index("key", &["key"], Declared::Overlay),
            ],
        )]);
        assert_eq!(same.len(), 1, "{same:?}");
        assert_eq!(same[0].severity, Severity::Error);
        assert!(matches!(same[0].diagnosis, Diagnosis::DuplicateName { .. }));
        let other = run(vec![table(
            "apikey",
            &key,
            vec![
                index("key", &["key"], Declared::Generated),
                index("key", &["key", "referenceId"], Declared::Overlay),
            ],
        )]);
        assert!(matches!(
            other[0].diagnosis,
            Diagnosis::DuplicateName { .. }
        ));
    }

    #[test]
    fn an_overlay_entry_on_a_table_the_generated_file_lacks_is_one_error() {
        let mut apikey = table("apikey", &[], vec![]);
        apikey.indexes = vec![
            index("key", &["key"], Declared::Overlay),
            index("referenceId", &["referenceId"], Declared::Overlay),
        ];
        let found = run(vec![apikey]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].diagnosis,
            Diagnosis::UnknownTable {
                table: "apikey".into()
            }
        );
    }

    #[test]
    fn limits_apply_to_every_index() {
        let found = run(vec![table(
            "session",
            &[("userId", "string")],
            vec![
                index("by_creation_time", &["userId"], Declared::Overlay),
                index("userId_ct", &["userId", "_creationTime"], Declared::Overlay),
                index("usrId", &["usrId"], Declared::Overlay),
            ],
        )]);
        let kinds: Vec<&str> = found
            .iter()
            .map(|p| match p.diagnosis {
                Diagnosis::Refused { .. } => "refused",
                Diagnosis::UnknownField { .. } => "unknown",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["refused", "refused", "unknown"], "{found:#?}");
    }
}

//! Schema-aware advice: what each finding means against the component's current schema, and
//! the plan that remains once indexes that already serve a finding are taken out.
//!
//! Better Auth's `findIndex` (adapter-utils.ts, v0.12.5) takes the first non-staged index whose
//! fields begin with the printed list, in order; when the query bounds or sorts by `createdAt`
//! the index must have exactly those fields. Staged indexes are not returned by
//! `TableDefinition[" indexes"]()`, so they never serve.

use crate::document::{Finding, FindingStatus, Regenerate, SignalKind, UnknownField};
use crate::parse::knowledge::{Feature, Knowledge, Name, Rename};
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

/// Classifies one (table, fields) list against the schema. An unknown table or field is
/// explained from `rules/knowledge.toml`, loaded once.
pub fn classify(
    table: &str,
    fields: &[String],
    legacy: bool,
    model: &SchemaModel,
) -> FindingStatus {
    let knowledge = Knowledge::embedded().ok();
    let Some(t) = model.table(table) else {
        let name = Name {
            table: table.to_owned(),
            field: None,
        };
        let explained = knowledge.map(|k| explain(&name, model, k));
        let near = near_matches(table, model.tables.iter().map(|t| t.name.as_str()));
        return FindingStatus::UnknownTable {
            near: with_rename_first(near, &explained),
            hint: explained.and_then(|e| e.hint),
        };
    };
    let unknown: Vec<UnknownField> = fields
        .iter()
        .filter(|f| !t.has_field(f))
        .map(|f| {
            let name = Name {
                table: table.to_owned(),
                field: Some(f.clone()),
            };
            let explained = knowledge.map(|k| explain(&name, model, k));
            let near = near_matches(
                f,
                t.fields.iter().flatten().map(|field| field.name.as_str()),
            );
            UnknownField {
                field: f.clone(),
                near: with_rename_first(near, &explained),
                hint: explained.and_then(|e| e.hint),
            }
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

/// Why a table or field the logs name is missing from the schema.
#[derive(Debug, Default)]
struct Explained {
    /// The name a known rename gives it, when the schema has that name: a near match.
    renamed: Option<String>,
    hint: Option<String>,
}

fn with_rename_first(mut near: Vec<String>, explained: &Option<Explained>) -> Vec<String> {
    if let Some(renamed) = explained.as_ref().and_then(|e| e.renamed.as_ref()) {
        near.retain(|n| n != renamed);
        near.insert(0, renamed.clone());
    }
    near
}

/// Explains `name` (not in the schema), in this order of evidence:
/// 1. a known rename whose other name the schema has: the logs and the schema come from
///    different versions;
/// 2. the plugins (or plugin options) that add it: enable one, then regenerate;
/// 3. a known rename of the logged (old) name, though the schema has neither name;
/// 4. for a table, or a field with no near match: regenerate, in case the Better Auth
///    configuration changed since the schema was generated.
fn explain(name: &Name, model: &SchemaModel, k: &Knowledge) -> Explained {
    let regenerate = regenerate_of(model, k).quoted;
    let renamed = |other_in_schema: bool| {
        k.renames_of(name)
            .filter(|r| {
                let other = if &r.from == name { &r.to } else { &r.from };
                in_schema(other, model) == other_in_schema
            })
            .find_map(|r| explain_rename(name, r, model, &regenerate))
    };
    if let Some(explained) = renamed(true) {
        return explained;
    }
    let features = match &name.field {
        None => k.adding_table(&name.table),
        Some(field) => k.adding_field(&name.table, field),
    };
    if !features.is_empty() {
        return Explained {
            renamed: None,
            hint: Some(enable_then_regenerate(&features, &regenerate)),
        };
    }
    if let Some(explained) = renamed(false) {
        return explained;
    }
    let hint = match &name.field {
        None => format!(
            "not in the schema (a plugin table that has not been generated? enable the \
             plugin, then regenerate: {regenerate})"
        ),
        Some(_) => {
            let t = model.table(&name.table);
            let near = t.map(|t| {
                near_matches(
                    name.field.as_deref().unwrap_or_default(),
                    t.fields.iter().flatten().map(|f| f.name.as_str()),
                )
            });
            if near.is_some_and(|n| !n.is_empty()) {
                return Explained::default();
            }
            format!(
                "not in the schema (added by a plugin, a newer Better Auth or \
                 `additionalFields` since the schema was generated? regenerate: {regenerate})"
            )
        }
    };
    Explained {
        renamed: None,
        hint: Some(hint),
    }
}

/// The command that regenerates the schema: what the generated file's header says, else the
/// documented one (local-install docs), run in the component folder. Quoted in backticks: a
/// command is code, never wrapped inside (`render::fit`).
fn regenerate_of(model: &SchemaModel, k: &Knowledge) -> Regenerate {
    match &model.regenerate {
        Some(command) => Regenerate {
            quoted: format!("`{command}`"),
            lines: vec![command.clone()],
        },
        None => {
            let r = &k.regenerate;
            let command = format!("cd {} && {}", r.folder, r.command);
            Regenerate {
                quoted: format!("`{command}` (before {}: `{}`)", r.since, r.older),
                lines: vec![command, format!("# before {}: {}", r.since, r.older)],
            }
        }
    }
}

/// The regenerate command the advice for `model` quotes, for a renderer that prints it once.
pub(crate) fn regenerate(model: &SchemaModel) -> Option<Regenerate> {
    Knowledge::embedded().ok().map(|k| regenerate_of(model, k))
}

fn enable_then_regenerate(features: &[&Feature], regenerate: &str) -> String {
    let named: Vec<String> = features
        .iter()
        .map(|f| format!("{} ({})", f.what, f.enable))
        .collect();
    let (list, which) = match named.split_last() {
        Some((last, rest)) if !rest.is_empty() => (format!("{} or {last}", rest.join(", ")), "one"),
        _ => (named.concat(), "it"),
    };
    format!(
        "added by {list}; enable {which} in your Better Auth config, then regenerate: {regenerate}"
    )
}

fn in_schema(name: &Name, model: &SchemaModel) -> bool {
    let table = model.table(&name.table);
    match &name.field {
        None => table.is_some(),
        Some(field) => table
            .and_then(|t| t.fields.as_ref())
            .is_some_and(|fields| fields.iter().any(|f| &f.name == field)),
    }
}

/// How `other` reads next to `name`: `referenceId` on the same table, `teamMember.teamId` on
/// another.
fn shown(other: &Name, name: &Name) -> String {
    match &other.field {
        Some(field) if other.table == name.table => format!("`{field}`"),
        Some(field) => format!("`{}.{field}`", other.table),
        None => format!("`{}`", other.table),
    }
}

fn explain_rename(
    name: &Name,
    rename: &Rename,
    model: &SchemaModel,
    regenerate: &str,
) -> Option<Explained> {
    let logged_old = &rename.from == name;
    let other = if logged_old { &rename.to } else { &rename.from };
    let has_other = in_schema(other, model);
    // A near match names something in the same place: another table, or a field of this one.
    let renamed = (has_other && (other.field.is_none() || other.table == name.table))
        .then(|| other.field.clone().unwrap_or_else(|| other.table.clone()));
    let release = &rename.release;
    let hint = if logged_old {
        let verb = if other.table == name.table || other.field.is_none() {
            "renamed to"
        } else {
            "moved to"
        };
        let to = shown(other, name);
        if has_other {
            format!(
                "{verb} {to} in {release}, and your schema has the new name: these logs come \
                 from code older than the schema (nothing to do if they predate your upgrade; \
                 otherwise deploy the upgraded app)"
            )
        } else {
            format!(
                "{verb} {to} in {release}; your schema has neither name: upgrade, then \
                 regenerate: {regenerate}"
            )
        }
    } else if has_other {
        let logged = match &name.field {
            Some(field) => format!("`{field}`"),
            None => format!("`{}`", name.table),
        };
        format!(
            "{logged} replaced {} in {release}, and your generated schema still has the old \
             name: it predates the upgrade; regenerate: {regenerate}",
            shown(other, name)
        )
    } else {
        // The new name was logged and the schema has neither: the plugin is not generated.
        return None;
    };
    Some(Explained {
        renamed,
        hint: Some(hint),
    })
}

fn by_index(t: &Table, fields: &[String]) -> FindingStatus {
    let live = || t.indexes.iter().filter(|i| !i.staged);
    if let Some(exact) = live().find(|i| i.fields == fields) {
        return FindingStatus::Served {
            index: exact.name.clone(),
        };
    }
    // A generated index was deployed when the warning fired: the prefix rule did not apply, so
    // the query bounds or sorts by createdAt, and a longer overlay index does not serve it
    // either.
    if let Some(i) =
        live().find(|i| i.declared == Declared::Generated && begins_with(&i.fields, fields))
    {
        return FindingStatus::ExactNeeded {
            index: i.name.clone(),
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
    FindingStatus::New
}

/// What a finding means against the schema: `classify`, except that a unique-field error
/// (which never comes from a `createdAt` query) whose field begins a generated index is served:
/// the deployment that logged it predates the index. A predicted query says itself whether it
/// bounds or sorts by `createdAt` (`Finding::exact`): then only an index of exactly its fields
/// serves; otherwise any index beginning with them does.
pub fn status_of(finding: &Finding, model: &SchemaModel) -> FindingStatus {
    let may_involve_created_at = finding.exact.unwrap_or(
        finding.kinds.is_empty() || finding.kinds.contains(&SignalKind::MissingIndexWarning),
    );
    match classify(
        &finding.table,
        &finding.fields,
        finding.legacy_underscore > 0,
        model,
    ) {
        FindingStatus::ExactNeeded { index } if !may_involve_created_at => {
            FindingStatus::Served { index }
        }
        FindingStatus::Served { index } if finding.exact == Some(true) => {
            let exact = model
                .table(&finding.table)
                .and_then(|t| t.indexes.iter().find(|i| i.name == index))
                .is_some_and(|i| i.fields == finding.fields);
            if exact {
                FindingStatus::Served { index }
            } else {
                FindingStatus::ExactNeeded { index }
            }
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
            marker: None,
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
            regenerate: None,
        }
    }

    /// A table of string fields and no index.
    fn table(name: &str, fields: &[&str]) -> Table {
        Table {
            name: name.into(),
            fields: Some(
                fields
                    .iter()
                    .map(|f| Field {
                        name: (*f).into(),
                        kind: "string".into(),
                        optional: false,
                    })
                    .collect(),
            ),
            indexes: Vec::new(),
        }
    }

    /// The model of a 0.12 component folder: its generated file's header names the command.
    fn generated(tables: Vec<Table>) -> SchemaModel {
        SchemaModel {
            tables,
            regenerate: Some(REGENERATE.into()),
        }
    }

    const REGENERATE: &str =
        "cd convex/betterAuth && npx auth generate --output generatedSchema.ts";

    fn hints(status: &FindingStatus) -> Vec<Option<String>> {
        match status {
            FindingStatus::UnknownTable { hint, .. } => vec![hint.clone()],
            FindingStatus::UnknownField { fields } => {
                fields.iter().map(|f| f.hint.clone()).collect()
            }
            other => panic!("expected an unknown table or field, got {other:?}"),
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
        // No header to read the command from: the documented one, with the older form.
        assert_eq!(
            classify("sesion", &s(&["userId"]), false, &m),
            FindingStatus::UnknownTable {
                near: s(&["session"]),
                hint: Some(
                    "not in the schema (a plugin table that has not been generated? enable the \
                     plugin, then regenerate: `cd convex/betterAuth && npx auth generate --output \
                     generatedSchema.ts` (before @convex-dev/better-auth 0.12: `npx \
                     @better-auth/cli generate -y --output generatedSchema.ts`))"
                        .into()
                ),
            }
        );
        let FindingStatus::UnknownField { fields } =
            classify("session", &s(&["userID"]), false, &m)
        else {
            panic!("expected unknown field");
        };
        assert_eq!(fields[0].near, s(&["userId"]));
        assert_eq!(fields[0].hint, None, "a near match says enough");
    }

    #[test]
    fn a_plugin_field_names_its_plugin_and_the_command_that_regenerates() {
        let m = generated(vec![table("user", &["name", "email"])]);
        let status = classify("user", &s(&["email", "phoneNumber"]), false, &m);
        assert_eq!(
            status.describe(),
            "unknown field `phoneNumber`: added by the phone-number plugin (`phoneNumber()` from \
             `better-auth/plugins`); enable it in your Better Auth config, then regenerate: `cd \
             convex/betterAuth && npx auth generate --output generatedSchema.ts`"
        );
        let FindingStatus::UnknownField { fields } = status else {
            panic!("expected unknown field");
        };
        assert_eq!(fields.len(), 1, "email is known");
        assert!(fields[0].near.is_empty());
    }

    #[test]
    fn a_plugin_table_names_every_plugin_that_adds_it() {
        let m = generated(vec![table("user", &["name"])]);
        let hint = hints(&classify("oauthAccessToken", &s(&["userId"]), false, &m))
            .remove(0)
            .unwrap();
        assert!(
            hint.starts_with(
                "added by the oidc-provider plugin (`oidcProvider()` from `better-auth/plugins`), \
                 the MCP plugin (`mcp()` from `better-auth/plugins`) or the OAuth provider plugin \
                 (`oauthProvider()` from `@better-auth/oauth-provider`); enable one in your \
                 Better Auth config, then regenerate: "
            ),
            "{hint}"
        );
        assert!(hint.ends_with(&format!("`{REGENERATE}`")), "{hint}");
    }

    #[test]
    fn an_old_field_name_against_a_newer_schema_is_a_rename_and_a_near_match() {
        // @better-auth/api-key 1.5.0 renamed apikey.userId to referenceId.
        let m = generated(vec![table("apikey", &["configId", "referenceId", "key"])]);
        let FindingStatus::UnknownField { fields } = classify("apikey", &s(&["userId"]), false, &m)
        else {
            panic!("expected unknown field");
        };
        assert_eq!(fields[0].near, s(&["referenceId"]));
        let hint = fields[0].hint.as_deref().unwrap();
        assert!(
            hint.starts_with(
                "renamed to `referenceId` in @better-auth/api-key 1.5.0, and your schema has the \
                 new name: these logs come from code older than the schema"
            ),
            "{hint}"
        );
    }

    #[test]
    fn a_new_field_name_against_an_older_schema_says_regenerate() {
        let m = generated(vec![table("apikey", &["userId", "key"])]);
        let FindingStatus::UnknownField { fields } =
            classify("apikey", &s(&["referenceId"]), false, &m)
        else {
            panic!("expected unknown field");
        };
        assert_eq!(fields[0].near, s(&["userId"]));
        assert_eq!(
            fields[0].hint.as_deref(),
            Some(
                format!(
                    "`referenceId` replaced `userId` in @better-auth/api-key 1.5.0, and your \
                     generated schema still has the old name: it predates the upgrade; \
                     regenerate: `{REGENERATE}`"
                )
                .as_str()
            )
        );
    }

    #[test]
    fn renamed_and_moved_names_across_tables() {
        let m = generated(vec![
            table("oauthClient", &["clientId"]),
            table("member", &["organizationId", "userId"]),
            table("teamMember", &["teamId", "userId"]),
        ]);
        let FindingStatus::UnknownTable { near, hint } =
            classify("oauthApplication", &s(&["clientId"]), false, &m)
        else {
            panic!("expected unknown table");
        };
        assert_eq!(near.first().map(String::as_str), Some("oauthClient"));
        assert!(
            hint.unwrap()
                .starts_with("renamed to `oauthClient` in @better-auth/oauth-provider")
        );
        let FindingStatus::UnknownField { fields } = classify("member", &s(&["teamId"]), false, &m)
        else {
            panic!("expected unknown field");
        };
        assert!(
            fields[0].near.is_empty(),
            "another table's field is no near match"
        );
        assert!(
            fields[0]
                .hint
                .as_deref()
                .unwrap()
                .starts_with("moved to `teamMember.teamId` in Better Auth 1.3.0"),
            "{:?}",
            fields[0].hint
        );
    }

    #[test]
    fn a_hint_is_left_out_of_the_json_when_there_is_none_and_read_back_when_there_is() {
        let bare = FindingStatus::UnknownTable {
            near: Vec::new(),
            hint: None,
        };
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"kind":"unknown_table","near":[]}"#
        );
        let saved: FindingStatus =
            serde_json::from_str(r#"{"kind":"unknown_field","fields":[{"field":"a","near":[]}]}"#)
                .unwrap();
        assert_eq!(hints(&saved), vec![None]);
        let hinted = classify(
            "user",
            &s(&["username"]),
            false,
            &generated(vec![table("user", &[])]),
        );
        let json = serde_json::to_string(&hinted).unwrap();
        assert!(
            json.contains(r#""hint":"added by the username plugin"#),
            "{json}"
        );
        let back: FindingStatus = serde_json::from_str(&json).unwrap();
        assert_eq!(back, hinted);
    }

    #[test]
    fn a_predicted_query_knows_whether_only_an_exact_index_serves_it() {
        let m = model();
        let predicted = |fields: &[&str], exact| Finding {
            table: "session".into(),
            fields: s(fields),
            kinds: vec![SignalKind::MissingIndexWarning],
            exact: Some(exact),
            ..Finding::default()
        };
        // A generated index beginning with the list serves a query without createdAt.
        assert_eq!(
            status_of(&predicted(&["expiresAt"], false), &m),
            FindingStatus::Served {
                index: "expiresAt_userId".into()
            }
        );
        // With createdAt, an overlay index that only begins with the list does not.
        assert_eq!(
            status_of(&predicted(&["userId"], true), &m),
            FindingStatus::ExactNeeded {
                index: "userId_createdAt".into()
            }
        );
        assert_eq!(
            status_of(&predicted(&["token"], true), &m),
            FindingStatus::Served {
                index: "token".into()
            }
        );
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
            marker: None,
        });
        let mut plan = vec![PlannedIndex {
            table: "session".into(),
            name: String::new(),
            fields: s(&["userId", "expiresAt"]),
            serves: vec![],
            note: None,
            exact: false,
            extends: None,
        }];
        name_uniquely(&mut plan, Some(&m));
        assert_eq!(plan[0].name, "userId_expiresAt_2");
    }
}

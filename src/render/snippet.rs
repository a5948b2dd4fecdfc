//! The plan as an overlay snippet: one property per table, every index of that table chained on
//! it, so the lines can be pasted into `defineSchema({ ...tables, <here> })` as they are.

use crate::document::PlannedIndex;
use crate::schema::marker::Marker;
use crate::schema::overlay::{is_identifier, marker_of};

/// A JavaScript string literal (JSON's escapes are a subset of JavaScript's).
fn js_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// `.index("a_b", ["a", "b"] /* added by ba-index-advisor */)`: the call `apply` writes, mark
/// included, so an index pasted from a snippet is known as the tool's by later runs.
pub(crate) fn index_call(index: &PlannedIndex) -> String {
    call(&index.name, &index.fields, Some(marker_of(index)))
}

/// `.index("a_b", ["a", "b"])`, with the tool's mark when given.
pub(crate) fn call(name: &str, fields: &[String], marker: Option<Marker>) -> String {
    let fields: Vec<String> = fields.iter().map(|f| js_string(f)).collect();
    let mark = marker
        .map(|m| format!(" {}", m.comment()))
        .unwrap_or_default();
    format!(".index({}, [{}]{mark})", js_string(name), fields.join(", "))
}

/// One table's property of the snippet: `key: access`, then its chained calls, then `,`.
pub(crate) struct OverlayEntry {
    pub head: String,
    pub calls: Vec<String>,
}

/// One entry per table, in plan order.
pub(crate) fn overlay_entries(plan: &[PlannedIndex]) -> Vec<OverlayEntry> {
    let mut tables: Vec<&str> = Vec::new();
    for index in plan {
        if !tables.contains(&index.table.as_str()) {
            tables.push(&index.table);
        }
    }
    tables
        .into_iter()
        .map(|table| {
            let calls = plan
                .iter()
                .filter(|i| i.table == table)
                .map(index_call)
                .collect();
            let (key, access) = if is_identifier(table) {
                (table.to_owned(), format!("tables.{table}"))
            } else {
                (js_string(table), format!("tables[{}]", js_string(table)))
            };
            OverlayEntry {
                head: format!("{key}: {access}"),
                calls,
            }
        })
        .collect()
}

/// One line per table, in plan order: `member: tables.member.index(…).index(…),`.
pub(crate) fn overlay_lines(plan: &[PlannedIndex]) -> Vec<String> {
    overlay_entries(plan)
        .into_iter()
        .map(|entry| format!("{}{},", entry.head, entry.calls.concat()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planned(table: &str, name: &str, fields: &[&str]) -> PlannedIndex {
        PlannedIndex {
            table: table.into(),
            name: name.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            serves: Vec::new(),
            note: None,
            exact: false,
            extends: None,
        }
    }

    #[test]
    fn one_property_per_table() {
        let plan = [
            planned("invitation", "email", &["email"]),
            planned("member", "userId", &["userId"]),
            planned(
                "invitation",
                "organizationId_status",
                &["organizationId", "status"],
            ),
        ];
        assert_eq!(
            overlay_lines(&plan),
            [
                r#"invitation: tables.invitation.index("email", ["email"] /* added by ba-index-advisor */).index("organizationId_status", ["organizationId", "status"] /* added by ba-index-advisor */),"#,
                r#"member: tables.member.index("userId", ["userId"] /* added by ba-index-advisor */),"#,
            ]
        );
    }
}

//! An unknown table or field explains itself in what `report` prints: the plugin that adds it,
//! a rename across versions, and the command that regenerates the schema
//! (`rules/knowledge.toml`). Run on a project folder holding real generator output
//! (tests/fixtures/knowledge/) and logs in the real `npx convex logs --jsonl` format.

use crate::common::{bin, json, root};
use std::path::Path;

/// A `--jsonl` line of sample-logs/convex-logs.jsonl (a `member` warning from
/// `adapter.js:findOne`), with another table and field list.
fn jsonl_warning(table: &str, fields: &str) -> String {
    let sample = std::fs::read_to_string(root().join("sample-logs/convex-logs.jsonl")).unwrap();
    let line = sample
        .lines()
        .find(|l| l.contains(r#"table \"member\""#) && l.contains("adapter.js:findOne"))
        .expect("a member warning from adapter.js:findOne in sample-logs/convex-logs.jsonl");
    line.replace(r#"table \"member\""#, &format!(r#"table \"{table}\""#))
        .replace("[organizationId, userId]", &format!("[{fields}]"))
}

/// `convex/betterAuth` as the local-install docs lay it out: the generator's file and the
/// overlay that spreads it.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let component = dir.path().join("convex/betterAuth");
    std::fs::create_dir_all(&component).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/knowledge/generatedSchema.ts"),
        component.join("generatedSchema.ts"),
    )
    .unwrap();
    std::fs::write(
        component.join("schema.ts"),
        "import { defineSchema } from \"convex/server\";\n\
         import { tables } from \"./generatedSchema\";\n\n\
         const schema = defineSchema({\n  ...tables,\n});\n\nexport default schema;\n",
    )
    .unwrap();
    let logs = [
        jsonl_warning("user", "phoneNumber"),
        jsonl_warning("apikey", "userId"),
        jsonl_warning("member", "organizationId, userId"),
    ];
    std::fs::write(dir.path().join("logs.jsonl"), logs.join("\n") + "\n").unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = bin().current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const PHONE: &str = "added by the phone-number plugin (`phoneNumber()` from `better-auth/plugins`); \
                     enable it in your Better Auth config, then regenerate: `cd convex/betterAuth && \
                     npx auth generate --output generatedSchema.ts`";
const API_KEY: &str = "renamed to `referenceId` in @better-auth/api-key 1.5.0, and your schema has \
                       the new name: these logs come from code older than the schema (nothing to \
                       do if they predate your upgrade; otherwise deploy the upgraded app)";
const MEMBER: &str = "added by the organization plugin (`organization()` from \
                      `better-auth/plugins`); enable it in your Better Auth config, then \
                      regenerate: `cd convex/betterAuth && npx auth generate --output \
                      generatedSchema.ts`";

#[test]
fn the_table_report_says_which_plugin_or_rename_and_how_to_regenerate() {
    let dir = project();
    let text = run(dir.path(), &["report", "logs.jsonl", "--color", "never"]);
    for line in [
        format!("  user [phoneNumber]: unknown field `phoneNumber`: {PHONE}"),
        format!("  apikey [userId]: unknown field `userId` (did you mean referenceId?): {API_KEY}"),
        format!("  member [organizationId, userId]: unknown table: {MEMBER}"),
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing line:\n{line}\nin:\n{text}"
        );
    }
    assert!(
        !text.contains("Plan:"),
        "nothing to add for unknown names:\n{text}"
    );
}

#[test]
fn the_json_report_carries_the_hint_and_the_renamed_near_match() {
    let dir = project();
    let report = json(run(dir.path(), &["report", "logs.jsonl", "--format", "json"]).as_bytes());
    let status = |table: &str| {
        report["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["table"] == table)
            .unwrap_or_else(|| panic!("no {table} suggestion in {report:#}"))["status"]
            .clone()
    };
    assert_eq!(
        status("user"),
        serde_json::json!({"kind": "unknown_field", "fields": [
            {"field": "phoneNumber", "near": [], "hint": PHONE}
        ], "advice": format!("unknown field `phoneNumber`: {PHONE}")})
    );
    assert_eq!(
        status("apikey"),
        serde_json::json!({"kind": "unknown_field", "fields": [
            {"field": "userId", "near": ["referenceId"], "hint": API_KEY}
        ], "advice": format!("unknown field `userId` (did you mean referenceId?): {API_KEY}")})
    );
    assert_eq!(
        status("member"),
        serde_json::json!({"kind": "unknown_table", "near": [], "hint": MEMBER,
            "advice": format!("unknown table: {MEMBER}")})
    );
    assert_eq!(report["plan"], serde_json::json!([]));
}

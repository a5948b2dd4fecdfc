//! One engine, one answer: for random logs (CLI text, `--jsonl`, log-stream JSONL; warnings and
//! unique-field errors; tables and fields the schema has and has not; lists a generated index
//! begins with) against random schema folders (overlay with either generated-file name, or a
//! `schema.ts` that is still the generated file; custom indexes; dismissals), every front-end
//! gives the same answer: `report`'s plan and statuses, the indexes `apply` writes, the file
//! `watch - --write` leaves, its `--save` document and live statuses, and the indexes in the
//! `pr` comment. After `apply`, `report --fail-on-suggestions` passes.

use crate::common::bin;
use ba_index_advisor::schema;
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// Real generator output (organization, admin, username plugins).
const GENERATED: &str = include_str!("../fixtures/engine/generatedSchema.ts");

/// Tables with fields the generated schema declares, and names it does not.
const TABLES: &[(&str, &[&str])] = &[
    (
        "user",
        &["email", "name", "username", "role", "banned", "createdAt"],
    ),
    (
        "session",
        &[
            "userId",
            "expiresAt",
            "token",
            "activeOrganizationId",
            "createdAt",
        ],
    ),
    ("member", &["organizationId", "userId", "role", "createdAt"]),
    (
        "invitation",
        &[
            "organizationId",
            "email",
            "status",
            "inviterId",
            "expiresAt",
        ],
    ),
    ("verification", &["identifier", "expiresAt"]),
    // Not generated: the api-key plugin's table, and a typo.
    ("apikey", &["userId", "referenceId"]),
    ("membr", &["userId"]),
];
/// Fields no table declares (a plugin enabled without regenerating).
const UNKNOWN_FIELDS: &[&str] = &["phoneNumber", "referenceId"];

#[derive(Debug, Clone, Copy)]
enum Format {
    CliText,
    CliJsonl,
    WebhookJsonl,
}

#[derive(Debug, Clone)]
struct Warning {
    table: String,
    fields: Vec<String>,
    /// A `No index found for table.field` error instead of the warning (JSONL only).
    unique_error: bool,
    repeat: usize,
}

#[derive(Debug, Clone)]
enum Layout {
    Overlay { generated_name: &'static str },
    Generated,
}

#[derive(Debug, Clone)]
struct Case {
    format: Format,
    warnings: Vec<Warning>,
    layout: Layout,
    custom: Vec<(String, Vec<String>)>,
    ignore: Option<usize>,
    min_count: Option<u64>,
}

fn warning() -> impl Strategy<Value = Warning> {
    (
        0..TABLES.len(),
        proptest::collection::vec(0..8usize, 1..4),
        any::<bool>(),
        1..4usize,
    )
        .prop_map(|(t, picks, unique_error, repeat)| {
            let (table, pool) = TABLES[t];
            let mut fields: Vec<String> = Vec::new();
            for pick in picks {
                let field = pool
                    .get(pick)
                    .copied()
                    .unwrap_or(UNKNOWN_FIELDS[pick % UNKNOWN_FIELDS.len()]);
                if !fields.iter().any(|f| f == field) {
                    fields.push(field.to_owned());
                }
            }
            if unique_error {
                fields.truncate(1);
            }
            Warning {
                table: table.to_owned(),
                fields,
                unique_error,
                repeat,
            }
        })
}

fn case() -> impl Strategy<Value = Case> {
    let format = prop_oneof![
        Just(Format::CliText),
        Just(Format::CliJsonl),
        Just(Format::WebhookJsonl)
    ];
    let layout = prop_oneof![
        Just(Layout::Overlay {
            generated_name: "generatedSchema"
        }),
        Just(Layout::Overlay {
            generated_name: "schema.generated"
        }),
        Just(Layout::Generated),
    ];
    (
        format,
        proptest::collection::vec(warning(), 1..7),
        layout,
        proptest::collection::vec(warning(), 0..3),
        proptest::option::of(0..7usize),
        proptest::option::of(1..3u64),
    )
        .prop_map(
            |(format, warnings, layout, custom, ignore, min_count)| Case {
                format,
                warnings,
                layout,
                custom: custom
                    .into_iter()
                    .filter(|w| TABLES[..5].iter().any(|(t, _)| *t == w.table))
                    .filter(|w| {
                        !w.fields
                            .iter()
                            .any(|f| UNKNOWN_FIELDS.contains(&f.as_str()))
                    })
                    .map(|w| (w.table, w.fields))
                    .collect(),
                ignore,
                min_count,
            },
        )
}

/// The component's message, as object-inspect quotes it in a console line.
fn inspected(w: &Warning) -> String {
    format!(
        "'Querying without an index on table \"{}\".\\nThis can cause performance issues, and \
         may hit the document read limit.\\nTo fix, add an index that begins with the following \
         fields in order:\\n[{}]'",
        w.table,
        w.fields.join(", ")
    )
}

/// One log in the case's format, built on lines captured from the real CLI and log stream.
fn log(case: &Case) -> String {
    let mut out = String::new();
    let mut request = 1_000_000_000_000_000u64;
    for w in &case.warnings {
        for _ in 0..w.repeat {
            request += 1;
            let line = match case.format {
                Format::CliText => format!(
                    "1/15/2026, 2:03:08 PM [CONVEX Q(organizations/invitations/queries:list)] \
                     [WARN] {}",
                    inspected(w)
                ),
                Format::CliJsonl if w.unique_error => serde_json::json!({
                    "kind": "Completion", "udfType": "Mutation", "componentPath": null,
                    "identifier": "auth:signUp", "logLines": [], "timestamp": 1768485806.123,
                    "cachedResult": false, "caller": "SyncWorker", "parentExecutionId": null,
                    "executionTime": 0.0123, "success": null,
                    "error": format!(
                        "Uncaught Error: No index found for {}.{}\n    at paginate \
                         (../../node_modules/@convex-dev/better-auth/src/client/adapter-utils.ts:497:15)\n",
                        w.table, w.fields[0]
                    ),
                    "requestId": request.to_string(), "executionId": "e",
                })
                .to_string(),
                Format::CliJsonl => serde_json::json!({
                    "kind": "Completion", "udfType": "Query", "componentPath": null,
                    "identifier": "organizations/invitations/queries:list",
                    "logLines": [{
                        "messages": [inspected(w)], "isTruncated": false,
                        "timestamp": 1768485788126u64, "level": "WARN", "systemMetadata": null,
                        "componentPath": "betterAuth", "udfPath": "adapter.js:findMany"
                    }],
                    "timestamp": 1768485788.123, "cachedResult": false, "caller": "SyncWorker",
                    "parentExecutionId": null, "executionTime": 0.0123, "success": null,
                    "error": null, "requestId": request.to_string(), "executionId": "e",
                })
                .to_string(),
                Format::WebhookJsonl => serde_json::json!({
                    "timestamp": 1768485788126u64, "topic": "console",
                    "function": {
                        "path": "adapter.js:findMany", "type": "query", "cached": false,
                        "request_id": request.to_string(), "component_path": "betterAuth"
                    },
                    "log_level": "WARN", "message": inspected(w), "is_truncated": false,
                    "system_code": null,
                    "convex": {"deployment_name": "happy-otter-123", "deployment_type": "prod"}
                })
                .to_string(),
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// A project folder for the case: `convex/betterAuth` and, maybe, `ba-index-advisor.toml`.
fn project(case: &Case) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    match case.layout {
        Layout::Generated => std::fs::write(dir.join("schema.ts"), GENERATED).unwrap(),
        Layout::Overlay { generated_name } => {
            std::fs::write(dir.join(format!("{generated_name}.ts")), GENERATED).unwrap();
            let mut props = String::new();
            let mut tables: Vec<&str> = Vec::new();
            for (table, _) in &case.custom {
                if !tables.contains(&table.as_str()) {
                    tables.push(table);
                }
            }
            for (n, table) in tables.iter().enumerate() {
                let calls: String = case
                    .custom
                    .iter()
                    .filter(|(t, _)| t == table)
                    .enumerate()
                    .map(|(k, (_, fields))| {
                        format!(
                            "\n    .index(\"custom_{n}_{k}\", [{}])",
                            fields
                                .iter()
                                .map(|f| format!("\"{f}\""))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
                    .collect();
                props.push_str(&format!("  {table}: tables.{table}{calls},\n"));
            }
            std::fs::write(
                dir.join("schema.ts"),
                format!(
                    "import {{ defineSchema }} from \"convex/server\";\nimport {{ tables }} from \
                     \"./{generated_name}\";\n\nconst schema = defineSchema({{\n  ...tables,\n{props}}});\n\nexport default schema;\n"
                ),
            )
            .unwrap();
        }
    }
    let mut config = String::new();
    if let Some(min) = case.min_count {
        config.push_str(&format!("min_count = {min}\n"));
    }
    if let Some(w) = case.ignore.and_then(|i| case.warnings.get(i)) {
        config.push_str(&format!(
            "\n[[ignore]]\ntable = \"{}\"\nfields = [{}]\nreason = \"declined\"\n",
            w.table,
            w.fields
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    std::fs::write(tmp.path().join("ba-index-advisor.toml"), config).unwrap();
    tmp
}

fn copy_project(from: &Path) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(from.join("convex/betterAuth")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    std::fs::copy(
        from.join("ba-index-advisor.toml"),
        tmp.path().join("ba-index-advisor.toml"),
    )
    .unwrap();
    tmp
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], stdin: &str) -> Run {
    let out = bin()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_STEP_SUMMARY")
        .args(args)
        .write_stdin(stdin)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file of the component folder, by name.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir.join("convex/betterAuth"))
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

type IndexSet = BTreeSet<(String, String, Vec<String>)>;

fn indexes(dir: &Path) -> IndexSet {
    let component = schema::load(&dir.join("convex/betterAuth")).unwrap();
    component
        .model
        .tables
        .iter()
        .flat_map(|t| {
            t.indexes
                .iter()
                .map(|i| (t.name.clone(), i.name.clone(), i.fields.clone()))
        })
        .collect()
}

fn plan(report: &Value) -> IndexSet {
    report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["table"].as_str().unwrap().to_owned(),
                i["name"].as_str().unwrap().to_owned(),
                serde_json::from_value(i["fields"].clone()).unwrap(),
            )
        })
        .collect()
}

/// The `.index("name", [...])` calls a line holds. A line that starts a property (`key: …`)
/// names the table; a continuation line (`    .index(…)`) belongs to the last one named.
fn index_calls(line: &str, table: &mut String) -> Vec<(String, String, Vec<String>)> {
    let rest = match line.split_once(':') {
        Some((key, rest)) if !key.contains(".index(") => {
            *table = key.trim().trim_matches('"').to_owned();
            rest
        }
        _ => line,
    };
    rest.split(".index(")
        .skip(1)
        .map(|call| {
            let (name, rest) = call.split_once(',').unwrap();
            let list = &rest[rest.find('[').unwrap() + 1..rest.find(']').unwrap()];
            let fields = list
                .split(',')
                .map(|f| f.trim().trim_matches('"').to_owned())
                .filter(|f| !f.is_empty())
                .collect();
            (
                table.clone(),
                name.trim().trim_matches('"').to_owned(),
                fields,
            )
        })
        .collect()
}

/// The indexes the PR comment asks for: `+` lines of the diff less `-` lines, or the snippet.
fn comment_indexes(markdown: &str) -> IndexSet {
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut fence: Option<&str> = None;
    let mut table = String::new();
    for line in markdown.lines() {
        match fence {
            None if line.starts_with("```diff") => fence = Some("diff"),
            None if line.starts_with("```ts") => fence = Some("ts"),
            Some(_) if line.starts_with("```") => fence = None,
            Some("diff") if line.starts_with("+++") || line.starts_with("---") => {}
            Some("diff") if line.starts_with('+') => {
                added.extend(index_calls(&line[1..], &mut table))
            }
            Some("diff") if line.starts_with('-') => {
                removed.extend(index_calls(&line[1..], &mut table))
            }
            Some("diff") if !line.is_empty() => {
                index_calls(&line[1..], &mut table);
            }
            Some("ts") => added.extend(index_calls(line, &mut table)),
            _ => {}
        }
    }
    for r in &removed {
        if let Some(at) = added.iter().position(|a| a == r) {
            added.remove(at);
        }
    }
    added.into_iter().collect()
}

fn statuses(report: &Value) -> Vec<(Value, Value, Value)> {
    report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["table"].clone(), s["fields"].clone(), s["status"].clone()))
        .collect()
}

fn check(case: &Case) {
    let logs = log(case);
    let base = project(case);
    let overlay = matches!(case.layout, Layout::Overlay { .. });
    let before = indexes(base.path());

    // report
    let report = run(base.path(), &["report", "-", "--format", "json"], &logs);
    assert_eq!(report.code, 0, "{}", report.stderr);
    let r0: Value = serde_json::from_str(&report.stdout).unwrap();
    let planned = plan(&r0);
    for (table, _, fields) in &planned {
        assert!(
            TABLES[..5].iter().any(|(t, _)| t == table)
                && !fields.iter().any(|f| UNKNOWN_FIELDS.contains(&f.as_str())),
            "planned an index on an unknown table or field: {table} {fields:?}"
        );
    }

    // pr: the same schema reading, the same plan, the same gate.
    let pr = run(
        base.path(),
        &["pr", "--dry-run", "--fail-on-suggestions"],
        &logs,
    );
    assert_eq!(pr.code, i32::from(!planned.is_empty()), "{}", pr.stderr);
    assert_eq!(comment_indexes(&pr.stdout), planned, "{}", pr.stdout);
    if !overlay && !planned.is_empty() {
        // init, then apply, each run the same way.
        assert!(
            pr.stdout
                .contains("npx ba-index-advisor init\nnpx ba-index-advisor apply"),
            "{}",
            pr.stdout
        );
    }

    // apply, on its own copy.
    let applied = copy_project(base.path());
    let log_file = applied.path().join("logs.txt");
    std::fs::write(&log_file, &logs).unwrap();
    let apply = run(applied.path(), &["apply", "logs.txt"], "");
    std::fs::remove_file(&log_file).unwrap();
    if overlay {
        assert_eq!(apply.code, 0, "{}", apply.stderr);
        let added: IndexSet = indexes(applied.path())
            .difference(&before)
            .cloned()
            .collect();
        assert_eq!(added, planned, "apply wrote other indexes than the plan");
    } else {
        assert_eq!(apply.code, 2, "apply must refuse the generated layout");
        assert_eq!(files(applied.path()), files(base.path()));
    }

    // watch --write, on another copy, from a pipe.
    let watched = copy_project(base.path());
    let watch = run(
        watched.path(),
        &[
            "watch",
            "-",
            "--write",
            "--format",
            "json",
            "--save",
            "saved.json",
        ],
        &logs,
    );
    // A plan it cannot write (the generated layout) fails watch --write as it fails apply.
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(watched.path().join("saved.json")).unwrap())
            .unwrap();
    let unwritable = !overlay && !plan(&saved).is_empty();
    assert_eq!(
        watch.code,
        if unwritable { 2 } else { 0 },
        "{}\nsaved: {saved}",
        watch.stderr
    );
    assert_eq!(
        files(watched.path()),
        files(applied.path()),
        "watch --write and apply left different files"
    );

    // After apply: the gate passes, and watch's saved document is report's.
    let after = run(
        applied.path(),
        &["report", "-", "--format", "json", "--fail-on-suggestions"],
        &logs,
    );
    let r1: Value = serde_json::from_str(&after.stdout).unwrap();
    assert_eq!(after.code, i32::from(!plan(&r1).is_empty()));
    if overlay {
        assert_eq!(
            after.code, 0,
            "report still fails after apply: {}",
            after.stdout
        );
    }
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(watched.path().join("saved.json")).unwrap())
            .unwrap();
    for key in ["suggestions", "plan", "ignored", "notes", "schema"] {
        assert_eq!(
            saved[key], r1[key],
            "watch --save differs from report in `{key}`"
        );
    }
    assert_eq!(saved["stats"]["signals"], r1["stats"]["signals"]);

    // Live statuses: the final event of each suggestion carries report's status; one report
    // dismisses (below `min_count`) says why.
    let events: Vec<Value> = watch
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["event"] == "final")
        .collect();
    for item in r1["ignored"].as_array().unwrap() {
        if let Some(e) = events
            .iter()
            .find(|e| e["table"] == item["table"] && e["fields"] == item["fields"])
        {
            assert_eq!(e["reason"], item["reason"], "{e}");
        }
    }
    let finals: Vec<(Value, Value, Value)> = events
        .iter()
        .filter(|e| !e["finding_status"].is_null())
        .map(|e| {
            (
                e["table"].clone(),
                e["fields"].clone(),
                e["finding_status"].clone(),
            )
        })
        .collect();
    let mut expected = statuses(&r1);
    let mut live = finals;
    expected.sort_by_key(|s| s.0.to_string() + &s.1.to_string());
    live.sort_by_key(|s| s.0.to_string() + &s.1.to_string());
    assert_eq!(live, expected, "live statuses differ from report's");
}

proptest! {
    // PROPTEST_CASES=N runs more cases (24 by default: each spawns the binary a dozen times).
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(24),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_front_end_gives_the_same_answer(case in case()) {
        check(&case);
    }
}

#[test]
fn after_apply_the_gate_passes_on_the_same_logs() {
    let case = Case {
        format: Format::CliJsonl,
        warnings: vec![
            Warning {
                table: "member".into(),
                fields: vec!["organizationId".into(), "userId".into()],
                unique_error: false,
                repeat: 3,
            },
            Warning {
                table: "session".into(),
                fields: vec!["expiresAt".into()],
                unique_error: false,
                repeat: 1,
            },
        ],
        layout: Layout::Overlay {
            generated_name: "generatedSchema",
        },
        custom: Vec::new(),
        ignore: None,
        min_count: None,
    };
    let project = project(&case);
    let logs = log(&case);
    let gate = ["report", "-", "--fail-on-suggestions"];
    assert_eq!(run(project.path(), &gate, &logs).code, 1);
    std::fs::write(project.path().join("logs.jsonl"), &logs).unwrap();
    assert_eq!(run(project.path(), &["apply", "logs.jsonl"], "").code, 0);
    let after = run(project.path(), &gate, &logs);
    assert_eq!(after.code, 0, "{}", after.stdout);
    assert!(after.stdout.contains("served by"), "{}", after.stdout);
}

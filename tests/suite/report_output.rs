//! What `report` shows a person: a table that fits 80, 100 and 120 columns (`COLUMNS`), piped
//! output with full values, app callers apart from component functions, the next command for
//! each situation, the component folder found through `convex/convex.config.ts`, and a notice
//! when the input holds no Convex log output.

use crate::common::{bin, register_component, root};
use std::path::Path;

fn report(cwd: &Path, columns: Option<&str>, args: &[&str]) -> (i32, String, String) {
    let mut cmd = bin();
    cmd.current_dir(cwd).env("NO_COLOR", "1").args(args);
    match columns {
        Some(c) => cmd.env("COLUMNS", c),
        None => cmd.env_remove("COLUMNS"),
    };
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn table_lines(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| l.starts_with(['┌', '│', '├', '└']))
        .collect()
}

/// A project whose Better Auth component lives in `convex/<folder>`, optionally registered in
/// `convex/convex.config.ts` as the local-install docs show.
fn project(folder: &str, registered: bool) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex").join(folder);
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["schema.ts", "generatedSchema.ts"] {
        std::fs::copy(
            root().join("tests/fixtures/schema/documented").join(name),
            dir.join(name),
        )
        .unwrap();
    }
    register_component(tmp.path(), folder, registered);
    tmp
}

#[test]
fn the_table_fits_80_100_and_120_columns() {
    let log = root().join("sample-logs/convex-logs.jsonl");
    let log = log.to_str().unwrap();
    for columns in [80, 100, 120] {
        let (code, out, _) = report(root(), Some(&columns.to_string()), &["report", log]);
        assert_eq!(code, 0);
        let table = table_lines(&out);
        assert!(table.len() > 4);
        for line in &table {
            assert!(
                line.chars().count() <= columns,
                "{columns} columns: {line} is {} wide",
                line.chars().count()
            );
        }
        insta::assert_snapshot!(format!("table_{columns}_columns"), table.join("\n"));
    }
}

#[test]
fn piped_output_keeps_full_values() {
    let log = root().join("sample-logs/convex-logs.jsonl");
    let (_, out, _) = report(root(), None, &["report", log.to_str().unwrap()]);
    assert!(
        out.contains("organizations/invitations/queries:listInvitations (+1)"),
        "{out}"
    );
    assert!(!table_lines(&out).iter().any(|l| l.contains('…')), "{out}");
}

#[test]
fn callers_are_app_functions_and_component_functions_have_their_own_column() {
    let log = root().join("sample-logs/convex-logs.jsonl");
    let (_, out, _) = report(root(), None, &["report", log.to_str().unwrap()]);
    let header = table_lines(&out)[1];
    assert!(
        header.contains("Callers") && header.contains("Via"),
        "{header}"
    );
    let rate_limit = table_lines(&out)
        .into_iter()
        .find(|l| l.contains("rateLimit"))
        .unwrap();
    // Only the component's own deleteMany ran that query: no app caller.
    let column = |name: &str| header.split('│').position(|h| h.trim() == name).unwrap();
    let cells: Vec<&str> = rate_limit.split('│').map(str::trim).collect();
    assert_eq!(cells[column("Callers")], "-", "{rate_limit}");
    assert_eq!(cells[column("Via")], "adapter:deleteMany", "{rate_limit}");
    let (_, markdown, _) = report(
        root(),
        None,
        &["report", "--format", "markdown", log.to_str().unwrap()],
    );
    assert!(
        markdown
            .contains("| `rateLimit` | `[lastRequest]` | 1 | 1 | 3,500 | - | adapter:deleteMany |"),
        "{markdown}"
    );
}

#[test]
fn every_report_ends_with_the_next_command() {
    let log = root().join("sample-logs/convex-logs.jsonl");
    let log = log.to_str().unwrap();
    // Overlay found: apply with the same inputs.
    let overlay = project("betterAuth", false);
    let (_, out, _) = report(overlay.path(), None, &["report", log]);
    assert!(
        out.ends_with(&format!(
            "Next\n  write the 1 planned index(es) into convex/betterAuth/schema.ts\n    $ \
             ba-index-advisor apply {log}\n"
        )),
        "{out}"
    );
    // No schema anywhere: --schema-dir.
    let nowhere = tempfile::tempdir().unwrap();
    let (_, out, _) = report(nowhere.path(), None, &["report", log]);
    assert!(
        out.contains(&format!(
            "$ ba-index-advisor apply --schema-dir <folder> {log}"
        )),
        "{out}"
    );
    // The generated layout: init first.
    let generated = tempfile::tempdir().unwrap();
    let dir = generated.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/schema/generated_schema_ts/schema.ts"),
        dir.join("schema.ts"),
    )
    .unwrap();
    let (_, out, _) = report(generated.path(), None, &["report", log]);
    let next = out.split("\nNext\n").nth(1).unwrap();
    let init = next.find("$ ba-index-advisor init").unwrap();
    let apply = next
        .find(&format!("$ ba-index-advisor apply {log}"))
        .unwrap();
    assert!(init < apply, "{next}");
}

#[test]
fn the_component_folder_is_found_through_convex_config() {
    let log = root().join("sample-logs/convex-logs.jsonl");
    let log = log.to_str().unwrap();
    let registered = project("authComponent", true);
    let (_, out, _) = report(
        registered.path(),
        None,
        &["report", "--format", "json", log],
    );
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"]["path"], "convex/authComponent/schema.ts");
    assert_eq!(doc["suggestions"][0]["status"]["kind"], "served");
    // Not registered: not found, and the next step says how to name it.
    let unregistered = project("authComponent", false);
    let (_, out, _) = report(unregistered.path(), None, &["report", log]);
    assert!(out.contains("--schema-dir <folder>"), "{out}");
    // apply writes into the registered folder.
    let (code, _, err) = report(registered.path(), None, &["apply", log]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("convex/authComponent/schema.ts: written"),
        "{err}"
    );
}

/// `--schema-dir convex` in an app whose component is `convex/auth`: the app's own
/// `convex/schema.ts` (a `messages` table) is not read as the generated Better Auth schema and
/// no `init` is advised; the error names the folder discovery finds. `config` and `--help`
/// name that folder too, not the documented `convex/betterAuth`.
#[test]
fn the_apps_own_schema_is_named_as_such_with_the_component_folder() {
    let log = root().join("sample-logs/convex-logs.jsonl");
    let log = log.to_str().unwrap();
    let app = project("auth", true);
    std::fs::write(
        app.path().join("convex/schema.ts"),
        "import { defineSchema, defineTable } from \"convex/server\";\nimport { v } from \
         \"convex/values\";\n\nexport default defineSchema({\n  messages: defineTable({ body: \
         v.string() }),\n});\n",
    )
    .unwrap();
    let (code, out, err) = report(app.path(), None, &["report", "--schema-dir", "convex", log]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("convex/schema.ts is the app's own schema"),
        "{err}"
    );
    assert!(err.contains("--schema-dir convex/auth"), "{err}");
    assert!(!format!("{out}{err}").contains("init"), "{out}{err}");

    let (code, out, err) = report(app.path(), None, &["config"]);
    assert_eq!(code, 0, "{err}");
    let line = out.lines().find(|l| l.contains("schema_dir")).unwrap();
    assert!(
        line.contains("convex/auth") && !line.contains("betterAuth"),
        "{line}"
    );
    for command in ["report", "apply", "doctor"] {
        let (_, help, _) = report(app.path(), None, &[command, "--help"]);
        assert!(help.contains("[here: convex/auth]"), "{command}: {help}");
    }
}

#[test]
fn input_without_convex_logs_is_never_silent() {
    let empty = bin()
        .args(["report", "-", "--fail-on-suggestions"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&empty.stderr);
    assert!(
        stderr.contains("error: --fail-on-suggestions: not everything asked for was read")
            && stderr.contains("<stdin>: empty (the pipe closed without a byte: did the command"),
        "{stderr}"
    );
    // Without the gate an empty pipe is a quiet log: a warning, exit 0.
    let quiet = bin()
        .args(["report", "-"])
        .write_stdin("")
        .output()
        .unwrap();
    assert_eq!(quiet.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&quiet.stderr)
            .contains("warning: not everything asked for was read")
    );
    let other = bin()
        .args(["report", "-"])
        .write_stdin("Compiling convex functions...\nsome other tool's output\n")
        .output()
        .unwrap();
    assert_eq!(other.status.code(), Some(0));
    assert!(
        String::from_utf8_lossy(&other.stderr)
            .contains("<stdin>: not Convex log output (2 line(s)"),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
}

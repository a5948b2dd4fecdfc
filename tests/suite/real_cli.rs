//! End to end with the real Convex CLI: `convex logs --history [--jsonl]` (npm `convex`,
//! installed with Node 22 by scripts/node-toolchain.sh) polls a fake deployment on loopback
//! that serves Better Auth warnings; its stdout is piped straight into `report -`.

use crate::common::{json, node, root, suggestions, toolchain};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cli_into_report(cli_flags: &[&str]) -> serde_json::Value {
    let mut fake = node()
        .arg(root().join("tests/support/fake-deployment.mjs"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the fake deployment");
    let mut polls = BufReader::new(fake.stdout.take().unwrap()).lines();
    let _fake = Killed(fake);
    let first = polls.next().unwrap().unwrap();
    let port = first
        .strip_prefix("listening ")
        .expect("fake deployment announces its port");

    let mut cli = node();
    cli.arg(toolchain().join("node_modules/convex/bin/main.js"))
        .args([
            "logs",
            "--url",
            &format!("http://127.0.0.1:{port}"),
            "--admin-key",
            "fakekey",
            "--history",
        ])
        .args(cli_flags)
        .env("LANG", "en_US.UTF-8")
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut cli = cli.spawn().expect("start convex logs");
    let cli_stdout = cli.stdout.take().unwrap();

    let report = Command::new(assert_cmd::cargo::cargo_bin!("ba-index-advisor"))
        .args(["report", "-", "--format", "json"])
        .stdin(Stdio::from(cli_stdout))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start ba-index-advisor");

    // The CLI tails forever: once it has asked for the second batch, the first is printed.
    for line in polls.by_ref() {
        if line.unwrap() == "poll 2" {
            break;
        }
    }
    drop(Killed(cli));
    let out = report.wait_with_output().unwrap();
    assert!(out.status.success(), "report failed: {:?}", out.status);
    json(&out.stdout)
}

fn fields(list: &[&str]) -> Vec<String> {
    list.iter().map(|f| (*f).to_owned()).collect()
}

#[test]
fn text_output_of_the_real_cli() {
    let report = cli_into_report(&[]);
    let found = suggestions(&report);
    assert!(
        found.contains(&("member".into(), fields(&["organizationId", "userId"]), 7)),
        "{found:?}"
    );
    assert!(
        found.contains(&("user".into(), fields(&["email"]), 1)),
        "{found:?}"
    );
    let member = &report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["table"] == "member")
        .unwrap();
    assert_eq!(member["first_seen"]["timestamp"], "1/15/2026, 2:03:08 PM");
    assert_eq!(
        member["callers"][0]["function"],
        "organizations/invitations/queries:listInvitations"
    );
    assert_eq!(report["stats"]["suspects"], 1);
}

#[test]
fn jsonl_output_of_the_real_cli() {
    let report = cli_into_report(&["--jsonl"]);
    let found = suggestions(&report);
    assert!(
        found.contains(&("member".into(), fields(&["organizationId", "userId"]), 7)),
        "{found:?}"
    );
    // JSONL knows the cached replay and the component function.
    assert!(
        found.contains(&("session".into(), fields(&["userId", "expiresAt"]), 2)),
        "{found:?}"
    );
    let member = &report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["table"] == "member")
        .unwrap();
    assert_eq!(member["risk"], "lookup");
    assert_eq!(member["executions"], 7);
    assert_eq!(
        member["component_functions"][0]["function"],
        "adapter:findOne"
    );
    assert_eq!(
        member["first_seen"]["timestamp"],
        "2026-01-15T14:03:08.126Z"
    );
}

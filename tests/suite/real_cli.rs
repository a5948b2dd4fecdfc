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
    scenario_into_report("scenario", cli_flags)
}

fn scenario_into_report(scenario: &str, cli_flags: &[&str]) -> serde_json::Value {
    let mut fake = node()
        .arg(root().join("tests/support/fake-deployment.mjs"))
        .arg(scenario)
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

/// The version of the `convex` CLI the toolchain installed, from its own package.json.
fn installed_cli_version() -> (u64, u64, u64) {
    let manifest = std::fs::read_to_string(toolchain().join("node_modules/convex/package.json"))
        .expect("the toolchain's convex package.json");
    let version = json(manifest.as_bytes())["version"]
        .as_str()
        .expect("a version")
        .to_owned();
    let mut parts = version
        .split(['.', '-'])
        .map(|p| p.parse::<u64>().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
}

/// convex 1.51 prints an `Init` function as `I(path)`; the knowledge records the CLI releases
/// whose formats were checked, and this capture is from one of them.
#[test]
fn the_real_cli_is_1_51_or_newer_and_recorded_as_checked() {
    let (major, minor, patch) = installed_cli_version();
    assert!((major, minor) >= (1, 51), "convex {major}.{minor}.{patch}");
    let knowledge = std::fs::read_to_string(root().join("rules/knowledge.toml")).unwrap();
    let knowledge: toml::Table = toml::from_str(&knowledge).unwrap();
    let checked: Vec<&str> = knowledge["convex"]["cli_formats_checked"]
        .as_array()
        .expect("[convex] cli_formats_checked")
        .iter()
        .filter_map(toml::Value::as_str)
        .collect();
    let installed = format!("{major}.{minor}.{patch}");
    assert!(checked.contains(&installed.as_str()), "{checked:?}");
}

fn member_by_user(report: &serde_json::Value) -> &serde_json::Value {
    report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["table"] == "member" && s["fields"] == serde_json::json!(["userId"]))
        .unwrap_or_else(|| panic!("no member [userId]: {report}"))
}

/// A warning under the real CLI's `I(init)` header keeps its caller, as one under `Q(...)`.
#[test]
fn text_of_the_real_cli_keeps_an_init_functions_caller() {
    let report = scenario_into_report("convex-1.51", &[]);
    let member = member_by_user(&report);
    assert_eq!(member["count"], 2, "{member}");
    let callers = caller_functions(member);
    assert!(callers.contains(&"init"), "{callers:?}");
    assert!(callers.contains(&"members:mine"), "{callers:?}");
    assert_eq!(report["stats"]["suspects"], 0);
}

/// The real CLI's `--jsonl` sends `systemMetadata: null` on Convex's read-limit warnings: each
/// execution that logged one is counted by its text, and the list is at the read limit.
#[test]
fn jsonl_of_the_real_cli_counts_read_limit_warnings_without_system_metadata() {
    let report = scenario_into_report("convex-1.51", &["--jsonl"]);
    let member = member_by_user(&report);
    assert_eq!(member["impact"]["limit_warnings"], 2, "{member}");
    assert_eq!(member["impact"]["executions_measured"], 2, "{member}");
    assert_eq!(member["impact"]["max_documents_read"], 27500, "{member}");
    let callers = caller_functions(member);
    assert!(callers.contains(&"init"), "{callers:?}");
}

/// The functions a suggestion's callers name.
fn caller_functions(finding: &serde_json::Value) -> Vec<&str> {
    finding["callers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["function"].as_str())
        .collect()
}

//! `report` on every bundled real-format log (sample-logs/, made by scripts/make-sample-logs.sh
//! with the real convex CLI and client): one JSON snapshot per format, plus the facts a user
//! relies on asserted directly.

use crate::common::{self, bin, json, suggestions};

fn report(path: &str) -> serde_json::Value {
    let out = bin()
        .args(["report", path, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{path}: exit {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn s(fields: &[&str]) -> Vec<String> {
    fields.iter().map(|f| (*f).to_owned()).collect()
}

/// The scenario's current-version findings, which every full format must yield.
fn assert_scenario(path: &str, report: &serde_json::Value) {
    let found = suggestions(report);
    let count = |table: &str, fields: &[&str]| {
        found
            .iter()
            .find(|(t, f, _)| t == table && *f == s(fields))
            .map(|(_, _, c)| *c)
            .unwrap_or_else(|| {
                panic!("{path}: no suggestion for {table} {fields:?}; got {found:?}")
            })
    };
    assert_eq!(count("member", &["organizationId", "userId"]), 7, "{path}");
    assert_eq!(
        count("invitation", &["organizationId", "status"]),
        3,
        "{path}"
    );
    assert_eq!(
        count("invitation", &["email", "organizationId", "status"]),
        3,
        "{path}"
    );
    assert_eq!(
        count("invitation", &["email", "organizationId"]),
        1,
        "{path}"
    );
    assert_eq!(count("rateLimit", &["lastRequest"]), 1, "{path}");
    assert_eq!(count("user", &["email"]), 1, "{path}");
    // Unique-field errors rank first: they fail the operation outright.
    assert_eq!(report["suggestions"][0]["risk"], "error", "{path}");
    assert_eq!(
        report["stats"]["suspects"], 1,
        "{path}: the first-sentence quote is a suspect"
    );
    let plan: Vec<&str> = report["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        plan.contains(&"email_organizationId_status"),
        "{path}: {plan:?}"
    );
    assert!(
        !plan.contains(&"email_organizationId"),
        "{path}: the prefix merges into the longer index"
    );
}

macro_rules! format_case {
    ($name:ident, $path:literal, $session_count:expr) => {
        #[test]
        fn $name() {
            let report = report($path);
            assert_scenario($path, &report);
            let session = suggestions(&report)
                .into_iter()
                .find(|(t, _, _)| t == "session")
                .map(|(_, f, c)| (f, c));
            assert_eq!(
                session,
                Some((s(&["userId", "expiresAt"]), $session_count)),
                "{}",
                $path
            );
            insta::assert_json_snapshot!(report);
        }
    };
}

// The CLI text has no cachedResult flag, so the replayed session line counts again there.
format_case!(cli_text_en_us, "sample-logs/convex-logs.txt", 3);
format_case!(
    cli_text_de_colour,
    "sample-logs/convex-dev-de-colour.log",
    3
);
format_case!(cli_jsonl, "sample-logs/convex-logs.jsonl", 2);
format_case!(client_echo, "sample-logs/client-echo.log", 3);
format_case!(dashboard_copy, "sample-logs/dashboard-copy.txt", 3);

macro_rules! stream_case {
    ($name:ident, $path:literal) => {
        #[test]
        fn $name() {
            let report = report($path);
            assert_scenario($path, &report);
            // Log streams carry the legacy scenario too: `_expiresAt` folds into `expiresAt`.
            let session = suggestions(&report)
                .into_iter()
                .find(|(t, _, _)| t == "session")
                .unwrap();
            assert_eq!(session.1, s(&["userId", "expiresAt"]));
            assert_eq!(session.2, 4, "{}", $path);
            let ignored = &report["ignored"][0];
            assert_eq!(
                (ignored["table"].as_str(), ignored["fields"][0].as_str()),
                (Some("user"), Some("_id"))
            );
            insta::assert_json_snapshot!(report);
        }
    };
}

stream_case!(webhook_v2_jsonl, "sample-logs/webhook-v2.jsonl");
stream_case!(
    webhook_v2_json_array_body,
    "sample-logs/webhook-v2-body.json"
);
stream_case!(axiom_pretty_printed, "sample-logs/axiom.json");
stream_case!(datadog, "sample-logs/datadog.jsonl");
stream_case!(log_stream_v1, "sample-logs/log-stream-v1.jsonl");

#[test]
fn legacy_text_in_japanese_locale() {
    let report = report("sample-logs/legacy-0.9-ja.log");
    assert_eq!(
        suggestions(&report),
        vec![
            ("twoFactor".into(), s(&["userId"]), 1),
            ("session".into(), s(&["userId", "expiresAt"]), 1)
        ]
    );
    assert_eq!(report["suggestions"][1]["legacy_underscore"], 1);
    assert_eq!(
        report["suggestions"][1]["first_seen"]["timestamp"],
        "2026/1/16 0:03:07"
    );
    assert!(report["notes"][0].as_str().unwrap().contains(">= 0.11.2"));
    insta::assert_json_snapshot!(report);
}

#[test]
fn concatenated_gzip_members_are_all_read() {
    let report = report("sample-logs/rotated-en-gb.log.gz");
    assert_scenario("gz", &report);
    let two_factor = suggestions(&report)
        .into_iter()
        .find(|(t, _, _)| t == "twoFactor");
    assert_eq!(
        two_factor.map(|x| x.2),
        Some(1),
        "the second gzip member was read"
    );
    insta::assert_json_snapshot!(report);
}

#[test]
fn bare_pasted_warning() {
    let report = report("sample-logs/bare-warning.txt");
    assert_eq!(
        suggestions(&report),
        vec![("apikey".into(), s(&["referenceId"]), 1)]
    );
    assert_eq!(
        report["suggestions"][0]["samples"][0],
        "sample-logs/bare-warning.txt:1"
    );
}

/// A warning pasted without a header, after a dashboard row: it is that row's execution, as a
/// continuation of a CLI record is its header's.
#[test]
fn a_pasted_warning_after_a_dashboard_row_is_that_rows_execution() {
    let dashboard =
        std::fs::read_to_string(common::root().join("sample-logs/dashboard-copy.txt")).unwrap();
    let bare =
        std::fs::read_to_string(common::root().join("sample-logs/bare-warning.txt")).unwrap();
    let row: String = dashboard.split_inclusive('\n').take(2).collect();
    let out = bin()
        .args(["report", "-", "--format", "json"])
        .write_stdin(format!("{row}{bare}"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let report = json(&out.stdout);
    let apikey = &report["suggestions"][0];
    assert_eq!(apikey["table"], "apikey");
    assert_eq!(apikey["first_seen"]["timestamp"], "Jan 15, 14:03:08.126");
    assert_eq!(
        apikey["component_functions"][0]["function"],
        "adapter:findOne"
    );
}

#[test]
fn stdin_and_directory_inputs() {
    let text = std::fs::read(common::root().join("sample-logs/convex-logs.txt")).unwrap();
    let out = bin()
        .args(["report", "-", "--format", "json"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_stdin = json(&out.stdout);
    assert_eq!(from_stdin["suggestions"][0]["samples"][0], "<stdin>:32");
    assert_scenario("stdin", &from_stdin);

    let dir = report("sample-logs");
    // Every sample, insights.json included: it is read like any *.json, and holds no log line.
    assert_eq!(dir["stats"]["inputs"], 14);
    assert_eq!(dir["stats"]["errors"].as_array().unwrap().len(), 0);
}

#[test]
fn crlf_line_endings() {
    let text =
        std::fs::read_to_string(common::root().join("sample-logs/dashboard-copy.txt")).unwrap();
    let crlf = text.replace('\n', "\r\n");
    let out = bin()
        .args(["report", "-", "--format", "json"])
        .write_stdin(crlf)
        .output()
        .unwrap();
    assert_scenario("crlf", &json(&out.stdout));
}

#[test]
fn table_is_the_default_and_markdown_is_available() {
    let out = bin()
        .args(["report", "sample-logs/convex-logs.jsonl"])
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.contains("│ member     │ [organizationId, userId]"),
        "{table}"
    );
    assert!(
        table.contains(
            r#"member: tables.member.index("organizationId_userId", ["organizationId", "userId"] /* added by ba-index-advisor */)"#
        ),
        "{table}"
    );
    let out = bin()
        .args([
            "report",
            "sample-logs/convex-logs.jsonl",
            "--format",
            "markdown",
        ])
        .output()
        .unwrap();
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        md.contains("| 2 | lookup | `member` | `[organizationId, userId]` | 7 |"),
        "{md}"
    );
}

#[test]
fn fail_on_suggestions_exits_1() {
    bin()
        .args([
            "report",
            "sample-logs/bare-warning.txt",
            "--fail-on-suggestions",
        ])
        .assert()
        .code(1);
    bin()
        .args(["report", "-", "--fail-on-suggestions"])
        .write_stdin("1/15/2026, 2:03:07 PM [CONVEX Q(messages:list)] [LOG] 'Listing messages'\n")
        .assert()
        .code(0);
}

#[test]
fn no_merge_keeps_one_index_per_finding() {
    let out = bin()
        .args([
            "report",
            "sample-logs/convex-logs.jsonl",
            "--format",
            "json",
            "--no-merge",
        ])
        .output()
        .unwrap();
    let plan: Vec<String> = json(&out.stdout)["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        plan.contains(&"email_organizationId".to_owned()),
        "{plan:?}"
    );
    assert!(
        plan.contains(&"email_organizationId_status".to_owned()),
        "{plan:?}"
    );
}

#[test]
fn utf16_with_bom_as_windows_powershell_redirects_it() {
    let text = std::fs::read_to_string(common::root().join("sample-logs/convex-logs.txt")).unwrap();
    for little_endian in [true, false] {
        let mut bytes = if little_endian {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for unit in text.replace('\n', "\r\n").encode_utf16() {
            bytes.extend(if little_endian {
                unit.to_le_bytes()
            } else {
                unit.to_be_bytes()
            });
        }
        let out = bin()
            .args(["report", "-", "--format", "json"])
            .write_stdin(bytes)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_scenario("utf-16", &json(&out.stdout));
    }
}

/// GitHub drops the cells of a row beyond its header's count, and a short row shifts columns:
/// every markdown table the tool prints has as many cells per row as its header.
#[test]
fn every_markdown_table_has_as_many_cells_per_row_as_its_header() {
    let nowhere = tempfile::tempdir().unwrap();
    let cells = |row: &str| {
        let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
        let mut count = 1;
        let mut escaped = false;
        for c in inner.chars() {
            match c {
                '\\' if !escaped => escaped = true,
                '|' if !escaped => count += 1,
                _ => escaped = false,
            }
        }
        count
    };
    let mut tables = 0;
    for entry in std::fs::read_dir(crate::common::root().join("sample-logs")).unwrap() {
        let log = entry.unwrap().path();
        for args in [
            &["report", "--format", "markdown"][..],
            &["pr", "--dry-run"][..],
        ] {
            let out = crate::common::bin()
                .current_dir(nowhere.path())
                .env_remove("GITHUB_STEP_SUMMARY")
                .args(args)
                .arg(&log)
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            let mut header: Option<usize> = None;
            for line in text.lines() {
                if !line.starts_with('|') {
                    header = None;
                    continue;
                }
                match header {
                    None => {
                        header = Some(cells(line));
                        tables += 1;
                    }
                    Some(n) => assert_eq!(cells(line), n, "{args:?} on {}: {line}", log.display()),
                }
            }
        }
    }
    assert!(tables >= 20, "only {tables} tables seen");
}

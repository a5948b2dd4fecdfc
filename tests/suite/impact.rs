//! What the scans cost: each suggestion's `impact`, computed here independently from the
//! executions in the real-format samples (the real `convex logs --jsonl` output, and a webhook
//! log stream), must equal the report's; executions are joined across Progress/Completion
//! entries and across files; cached results read nothing; text logs carry no impact.

use crate::common::{bin, json, root};
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

type List = (String, Vec<String>);

/// The (table, fields) lists a message names: the warning's table and list, or the error's
/// `table.field`.
fn lists_in(message: &str) -> Vec<List> {
    let warning = Regex::new(r#"on table "([^"]+)"\..*\[([^\]]*)\]"#).unwrap();
    let error = Regex::new(r"No index found for (\w+)\.(\w+)").unwrap();
    // Before 0.12 the error had no dot: `No index found for twoFactoruserId`.
    let dotless = Regex::new(r"No index found for (twoFactor|user|session)(\w+)").unwrap();
    let flat = message.replace("\\n", " ").replace('\n', " ");
    if let Some(c) = warning.captures(&flat) {
        let fields = c[2].split(", ").map(str::to_owned).collect();
        return vec![(c[1].to_owned(), fields)];
    }
    error
        .captures(&flat)
        .or_else(|| dotless.captures(&flat))
        .map(|c| vec![(c[1].to_owned(), vec![c[2].to_owned()])])
        .unwrap_or_default()
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Expected {
    documents_read: u64,
    executions_measured: u64,
    max_documents_read: u64,
    limit_warnings: u64,
}

/// From the records themselves: which requests logged each list, and what each request read.
fn expected(records: &[Value]) -> BTreeMap<List, Expected> {
    let mut requests: BTreeMap<List, BTreeSet<String>> = BTreeMap::new();
    let mut reads: HashMap<String, u64> = HashMap::new();
    let mut limit: BTreeSet<String> = BTreeSet::new();
    for r in records {
        if let Some(kind) = r["kind"].as_str() {
            // `convex logs --jsonl`
            if r["cachedResult"] == true || !(kind == "Completion" || kind == "Progress") {
                continue;
            }
            let id = r["requestId"].as_str().unwrap().to_owned();
            if let Some(n) = r["usageStats"]["databaseReadDocuments"].as_u64() {
                reads.insert(id.clone(), n);
            }
            for line in r["logLines"].as_array().into_iter().flatten() {
                if line["systemMetadata"]["code"] == "warning:TooManyDocumentsRead" {
                    limit.insert(id.clone());
                }
                for message in line["messages"].as_array().into_iter().flatten() {
                    for list in lists_in(message.as_str().unwrap()) {
                        requests.entry(list).or_default().insert(id.clone());
                    }
                }
            }
            for list in lists_in(r["error"].as_str().unwrap_or("")) {
                requests.entry(list).or_default().insert(id.clone());
            }
        } else if let Some(topic) = r["topic"].as_str() {
            // A log stream (webhook v2).
            let Some(id) = r["function"]["request_id"].as_str().map(str::to_owned) else {
                continue;
            };
            match topic {
                "function_execution" => {
                    // A cached result read nothing.
                    if r["function"]["cached"] == true {
                        continue;
                    }
                    if let Some(n) = r["usage"]["database_read_documents"].as_u64() {
                        reads.insert(id.clone(), n);
                    }
                    for list in lists_in(r["error_message"].as_str().unwrap_or("")) {
                        requests.entry(list).or_default().insert(id.clone());
                    }
                }
                "console" => {
                    if r["system_code"] == "warning:TooManyDocumentsRead" {
                        limit.insert(id.clone());
                    }
                    for list in lists_in(r["message"].as_str().unwrap_or("")) {
                        requests.entry(list).or_default().insert(id.clone());
                    }
                }
                _ => {}
            }
        }
    }
    requests
        .into_iter()
        .map(|(list, ids)| {
            let measured: Vec<u64> = ids.iter().filter_map(|id| reads.get(id).copied()).collect();
            (
                list,
                Expected {
                    documents_read: measured.iter().sum(),
                    executions_measured: measured.len() as u64,
                    max_documents_read: measured.iter().copied().max().unwrap_or(0),
                    limit_warnings: ids.iter().filter(|id| limit.contains(*id)).count() as u64,
                },
            )
        })
        .collect()
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn report(args: &[&str]) -> Value {
    let out = bin()
        .args(["report", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&out.stdout)
}

fn impacts(report: &Value) -> BTreeMap<List, Expected> {
    report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| !s["impact"].is_null())
        .map(|s| {
            let list = (
                s["table"].as_str().unwrap().to_owned(),
                serde_json::from_value(s["fields"].clone()).unwrap(),
            );
            let i = &s["impact"];
            (
                list,
                Expected {
                    documents_read: i["documents_read"].as_u64().unwrap(),
                    executions_measured: i["executions_measured"].as_u64().unwrap(),
                    max_documents_read: i["max_documents_read"].as_u64().unwrap(),
                    limit_warnings: i["limit_warnings"].as_u64().unwrap(),
                },
            )
        })
        .collect()
}

#[test]
fn impact_is_what_each_lists_executions_read() {
    for sample in [
        "sample-logs/convex-logs.jsonl",
        "sample-logs/webhook-v2.jsonl",
    ] {
        let path = root().join(sample);
        let mut want = expected(&records(&path));
        // `[userId, _expiresAt]` from the old component is reported under its real name.
        if let Some(legacy) = want.remove(&(
            "session".to_owned(),
            vec!["userId".to_owned(), "_expiresAt".to_owned()],
        )) {
            let real = want
                .entry((
                    "session".to_owned(),
                    vec!["userId".to_owned(), "expiresAt".to_owned()],
                ))
                .or_default();
            real.documents_read += legacy.documents_read;
            real.executions_measured += legacy.executions_measured;
            real.max_documents_read = real.max_documents_read.max(legacy.max_documents_read);
        }
        want.retain(|(_, fields), _| !fields.iter().any(|f| f == "_id"));
        let got = impacts(&report(&[path.to_str().unwrap()]));
        assert_eq!(got, want, "{sample}");
        let member = &got[&(
            "member".to_owned(),
            vec!["organizationId".to_owned(), "userId".to_owned()],
        )];
        assert_eq!(
            member.limit_warnings, 1,
            "{sample}: the run near the read limit"
        );
    }
}

#[test]
fn suggestions_rank_by_risk_then_documents_read() {
    let doc = report(&[root()
        .join("sample-logs/convex-logs.jsonl")
        .to_str()
        .unwrap()]);
    let order: Vec<(String, u64)> = doc["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["risk"].as_str().unwrap().to_owned(),
                s["impact"]["documents_read"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = order.clone();
    let rank = |r: &str| ["error", "lookup", "scan"].iter().position(|x| *x == r);
    sorted.sort_by(|a, b| rank(&a.0).cmp(&rank(&b.0)).then(b.1.cmp(&a.1)));
    assert_eq!(order, sorted);
    // Two session scans of 21,000 documents outrank three invitation scans of 4,800.
    let tables: Vec<&str> = doc["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["table"].as_str().unwrap())
        .collect();
    assert_eq!(&tables[..3], ["user", "member", "session"]);
}

/// The HTTP action's warning arrives in a Progress entry, its usage in the Completion entry of
/// the same request: in one file, in two files, in either order.
#[test]
fn an_execution_is_joined_across_entries_and_files() {
    let lines: Vec<String> = std::fs::read_to_string(root().join("sample-logs/convex-logs.jsonl"))
        .unwrap()
        .lines()
        .filter(|l| l.contains("abcabcabcabcabca"))
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 2, "the Progress and Completion entries");
    let dir = tempfile::tempdir().unwrap();
    let one = dir.path().join("one.jsonl");
    std::fs::write(&one, lines.join("\n") + "\n").unwrap();
    let progress = dir.path().join("a-progress.jsonl");
    let completion = dir.path().join("b-completion.jsonl");
    std::fs::write(&progress, format!("{}\n", lines[0])).unwrap();
    std::fs::write(&completion, format!("{}\n", lines[1])).unwrap();
    let member = (
        "member".to_owned(),
        vec!["organizationId".to_owned(), "userId".to_owned()],
    );
    let want = Expected {
        documents_read: 400,
        executions_measured: 1,
        max_documents_read: 400,
        limit_warnings: 0,
    };
    for args in [
        vec![one.to_str().unwrap()],
        vec![progress.to_str().unwrap(), completion.to_str().unwrap()],
        vec![completion.to_str().unwrap(), progress.to_str().unwrap()],
    ] {
        assert_eq!(impacts(&report(&args))[&member], want, "{args:?}");
    }
}

#[test]
fn cached_results_read_nothing_and_text_logs_carry_no_impact() {
    let doc = report(&[root()
        .join("sample-logs/convex-logs.jsonl")
        .to_str()
        .unwrap()]);
    let session = doc["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["table"] == "session")
        .unwrap();
    // Two executions read 12,000 and 9,000; the cached replay of the first is not a third.
    assert_eq!(session["executions"], 2);
    assert_eq!(session["impact"]["documents_read"], 21_000);
    let text = report(&[root().join("sample-logs/convex-logs.txt").to_str().unwrap()]);
    assert!(
        text["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s.get("impact").is_none())
    );
    let out = bin()
        .args(["report"])
        .arg(root().join("sample-logs/convex-logs.txt"))
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("Docs read"));
}

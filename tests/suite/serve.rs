//! `serve`: the real binary on an ephemeral loopback port, fed signed batches shaped like Convex's
//! webhook log-stream sink (the events of `sample-logs/webhook-v2.jsonl`, re-stamped to now),
//! over real HTTP. Its `/api/report` is checked against `report --format json` over a file
//! holding exactly the acknowledged events, across `kill -9` and restarts.

use crate::common::{bin, root};
use ba_index_advisor::serve::signature::sign;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const DEPLOYMENT: &str = "happy-otter-123";
const STREAM: &str = "log-stream";

/// A running `serve`, killed on drop.
struct Daemon {
    child: Child,
    url: String,
    stderr: mpsc::Receiver<String>,
}

impl Daemon {
    fn start(db: &Path, extra: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_ba-index-advisor"));
        command
            .current_dir(root())
            .arg("serve")
            .args(
                (!extra.contains(&"--listen"))
                    .then_some(["--listen", "127.0.0.1:0"])
                    .into_iter()
                    .flatten(),
            )
            .arg("--db")
            .arg(db)
            .args(extra)
            .env("BA_INDEX_ADVISOR_WEBHOOK_SECRET", SECRET)
            .env_remove("BA_INDEX_ADVISOR_API_TOKEN")
            .env_remove("GITHUB_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("spawn serve");
        let stderr = crate::common::lines_of(child.stderr.take().unwrap());
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut seen = Vec::new();
        let url = loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match stderr.recv_timeout(left) {
                Ok(line) => match line.strip_prefix("serve: listening on ") {
                    Some(url) => break url.to_owned(),
                    None => seen.push(line),
                },
                Err(_) => panic!("serve did not start:\n{}", seen.join("\n")),
            }
        };
        Self { child, url, stderr }
    }

    fn kill_9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM, then the exit status and what it printed after it.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        rustix::process::kill_process(
            rustix::process::Pid::from_child(&self.child),
            rustix::process::Signal::TERM,
        )
        .unwrap();
        let status = self.child.wait().unwrap();
        // The channel closes at the end of the pipe, once the reader has forwarded every line.
        let lines = self.stderr.iter().collect();
        (status, lines)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// The real-format sample's events, moved into the last few minutes (the sample spans an hour;
/// `--max-age` refuses a batch whose first event is over 5 minutes old), order kept.
fn events() -> Vec<Value> {
    let text = std::fs::read_to_string(root().join("sample-logs/webhook-v2.jsonl")).unwrap();
    let mut events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stamps = || events.iter().filter_map(|e| e["timestamp"].as_i64());
    let (first, last) = (stamps().min().unwrap(), stamps().max().unwrap());
    let start = now_ms() - 200_000;
    for event in &mut events {
        if let Some(ts) = event["timestamp"].as_i64() {
            event["timestamp"] = json!(start + (ts - first) * 180_000 / (last - first).max(1));
        }
    }
    events
}

#[derive(Clone, Copy)]
enum Format {
    Json,
    Jsonl,
}

/// A body as the sink serialises it: one JSON array, or the events joined by `\n` with no
/// trailing newline.
fn body(events: &[Value], format: Format) -> Vec<u8> {
    match format {
        Format::Json => serde_json::to_vec(events).unwrap(),
        Format::Jsonl => events
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")
            .into_bytes(),
    }
}

async fn post(url: &str, body: &[u8], signature: Option<&str>) -> (u16, String) {
    let mut request = client()
        .post(format!("{url}/log-stream"))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-webhook-signature", signature);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn post_signed(url: &str, body: &[u8]) -> u16 {
    let (status, text) = post(url, body, Some(&sign(SECRET, body))).await;
    assert!(status == 200 || status >= 400, "{status} {text}");
    status
}

async fn get(url: &str, path: &str) -> (u16, String) {
    let response = client().get(format!("{url}{path}")).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn served_report(url: &str, query: &str) -> Value {
    let (status, text) = get(url, &format!("/api/report{query}")).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// `report --format json` over a JSONL file holding exactly `events`, in order, with its
/// locations named as the daemon names the stream (`source`), and the two input counters that
/// describe files rather than batches (`inputs`: one file vs. one per batch; `bytes`: the
/// file's size vs. none, as for any pulled event) taken from `served`.
fn expected_report(dir: &Path, events: &[Value], source: &str, served: &Value) -> Value {
    expected_report_with(dir, events, source, served, &[])
}

fn expected_report_with(
    dir: &Path,
    events: &[Value],
    source: &str,
    served: &Value,
    flags: &[&str],
) -> Value {
    let file = dir.join("acknowledged.jsonl");
    std::fs::write(&file, body(events, Format::Jsonl)).unwrap();
    let out = bin()
        .args(["report", "--format", "json"])
        .args(flags)
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success() || out.status.code() == Some(1));
    let text = String::from_utf8(out.stdout)
        .unwrap()
        .replace(&format!("\"{}:", file.display()), &format!("\"{source}:"));
    let mut report: Value = serde_json::from_str(&text).unwrap();
    report["stats"]["inputs"] = served["stats"]["inputs"].clone();
    report["stats"]["bytes"] = served["stats"]["bytes"].clone();
    // A batch is not a named input: the file's coverage lists the file, the server's none. Both
    // read everything they were given.
    assert_eq!(report["coverage"]["complete"], json!(true), "{report:#}");
    assert_eq!(served["coverage"]["complete"], json!(true), "{served:#}");
    report["coverage"] = served["coverage"].clone();
    report
}

/// The served document without what a refused body changes (its coverage), which is all a
/// refused body may change.
fn without_coverage(mut report: Value) -> Value {
    report.as_object_mut().unwrap().remove("coverage");
    report
}

/// Everything the database holds, read beside the running daemon.
fn database(db: &Path) -> Vec<String> {
    let connection = rusqlite::Connection::open(db).unwrap();
    let mut all = Vec::new();
    for query in [
        "SELECT hex(hash) || ' ' || received_ms FROM batches ORDER BY hash",
        "SELECT id || ' ' || deployment || ' ' || stream_line || ' ' || deployment_line || ' ' \
         || ifnull(timestamp_ms, '-') || ' ' || ifnull(pending_since_ms, '-') || ' ' || event \
         FROM events ORDER BY id",
        "SELECT deployment || ' ' || inputs || ' ' || bytes || ' ' || lines || ' ' || records \
         || ' ' || suspects || ' ' || cached_replays FROM totals ORDER BY deployment",
    ] {
        let mut select = connection.prepare(query).unwrap();
        let rows = select.query_map([], |r| r.get::<_, String>(0)).unwrap();
        all.extend(rows.map(Result::unwrap));
    }
    all
}

/// Executions waiting in the database for a signal naming them.
fn pending_rows(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM events WHERE pending_since_ms IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

/// The value of one sample line of `/metrics` (`name{labels}`), 0 when absent.
fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0)
}

/// Rows in the database's tables, read beside the running daemon (WAL allows it).
fn rows(db: &Path) -> (i64, i64, i64) {
    let connection = rusqlite::Connection::open(db).unwrap();
    let count = |table: &str| {
        connection
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    (count("batches"), count("events"), count("totals"))
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state/state.db");
    (dir, db)
}

#[tokio::test(flavor = "multi_thread")]
async fn signed_batches_in_both_formats_are_the_report_of_their_events() {
    let (dir, db) = temp_db();
    let daemon = Daemon::start(&db, &[], &[]);
    let events = events();
    for (i, chunk) in events.chunks(8).enumerate() {
        let format = if i % 2 == 0 {
            Format::Json
        } else {
            Format::Jsonl
        };
        assert_eq!(post_signed(&daemon.url, &body(chunk, format)).await, 200);
    }
    let served = served_report(&daemon.url, "").await;
    assert!(
        !served["suggestions"].as_array().unwrap().is_empty(),
        "the sample has suggestions"
    );
    assert_eq!(
        served,
        expected_report(dir.path(), &events, STREAM, &served)
    );
    let one = served_report(&daemon.url, &format!("?deployment={DEPLOYMENT}")).await;
    assert_eq!(one, expected_report(dir.path(), &events, DEPLOYMENT, &one));
    assert_eq!(served["stats"]["inputs"], json!(7));
    let (status, _) = get(&daemon.url, "/api/report?deployment=nobody").await;
    assert_eq!(status, 404);

    // The same batch again (the sink's at-least-once delivery): 200, counted once.
    let before = rows(&db);
    assert_eq!(
        post_signed(&daemon.url, &body(&events[..8], Format::Json)).await,
        200
    );
    assert_eq!(served_report(&daemon.url, "").await, served);
    assert_eq!(rows(&db), before);
    let (_, metrics) = get(&daemon.url, "/metrics").await;
    assert!(metrics.contains("ba_index_advisor_batches_total{result=\"committed\"} 7"));
    assert!(metrics.contains("ba_index_advisor_batches_total{result=\"duplicate\"} 1"));
    assert!(metrics.contains(&format!("ba_index_advisor_events_total {}", events.len())));
    assert!(metrics.contains("ba_index_advisor_suggestions{status=\"unchecked\"}"));
    // Only what the engine keeps is stored: not the sample's plain log lines.
    assert!((before.1 as usize) < events.len(), "{before:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_batches_leave_the_database_unchanged() {
    let (_dir, db) = temp_db();
    let daemon = Daemon::start(&db, &["--max-body", "4KiB"], &[]);
    let events = events();
    assert_eq!(
        post_signed(&daemon.url, &body(&events[..4], Format::Json)).await,
        200
    );
    let before = (rows(&db), served_report(&daemon.url, "").await);
    let batch = body(&events[4..8], Format::Json);
    let cases: Vec<(&str, Vec<u8>, Option<String>, u16)> = vec![
        ("no signature", batch.clone(), None, 401),
        (
            "a signature under another secret",
            batch.clone(),
            Some(sign("fedcba9876543210fedcba9876543210", &batch)),
            401,
        ),
        (
            "a signature of other bytes",
            batch.clone(),
            Some(sign(SECRET, &body(&events[4..9], Format::Jsonl))),
            401,
        ),
        (
            "a truncated body under the whole body's signature",
            batch[..batch.len() / 2].to_vec(),
            Some(sign(SECRET, &batch)),
            401,
        ),
        (
            "a truncated body, signed",
            batch[..batch.len() / 2].to_vec(),
            Some(sign(SECRET, &batch[..batch.len() / 2])),
            400,
        ),
        (
            "a body over --max-body",
            body(&events, Format::Json),
            Some(sign(SECRET, &body(&events, Format::Json))),
            413,
        ),
        (
            "a body that is not a batch",
            b"[1, 2]".to_vec(),
            Some(sign(SECRET, b"[1, 2]")),
            400,
        ),
    ];
    for (what, body, signature, expected) in cases {
        let (status, text) = post(&daemon.url, &body, signature.as_deref()).await;
        assert_eq!(status, expected, "{what}: {text}");
    }
    // A captured batch replayed after --max-age (default 5 min), signed: refused.
    let mut old = events[4..8].to_vec();
    for event in &mut old {
        event["timestamp"] = json!(now_ms() - 6 * 60 * 1000);
    }
    let old = body(&old, Format::Json);
    assert_eq!(post_signed(&daemon.url, &old).await, 400);
    let after = served_report(&daemon.url, "").await;
    assert_eq!(
        (rows(&db), without_coverage(after.clone())),
        (before.0, without_coverage(before.1.clone()))
    );
    // The signed bodies refused for what they held are in the coverage; unsigned ones are not.
    assert_eq!(
        after["coverage"]["rejected"],
        json!([
            {"reason": "not_a_batch", "bodies": 2, "events": 2},
            {"reason": "too_old", "bodies": 1, "events": 4}
        ])
    );
    let (_, metrics) = get(&daemon.url, "/metrics").await;
    assert!(metrics.contains("ba_index_advisor_signatures_rejected_total 4"));
    assert!(metrics.contains("ba_index_advisor_batches_total{result=\"rejected\"} 8"));
    // Nothing was stored behind the answers: a restart reads the same state.
    daemon.kill_9();
    let daemon = Daemon::start(&db, &[], &[]);
    assert_eq!(served_report(&daemon.url, "").await, before.1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_verification_event_answers_200_and_stores_nothing() {
    let (_dir, db) = temp_db();
    let daemon = Daemon::start(&db, &[], &[]);
    let verification = json!([{
        "timestamp": now_ms(),
        "topic": "verification",
        "message": "Convex connection test",
        "convex": {"deployment_name": DEPLOYMENT, "deployment_type": "prod"}
    }]);
    let body = serde_json::to_vec(&verification).unwrap();
    assert_eq!(post_signed(&daemon.url, &body).await, 200);
    assert_eq!(rows(&db), (0, 0, 0));
    let (status, health) = get(&daemon.url, "/healthz").await;
    assert_eq!((status, health.as_str()), (200, "ok\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_batches_from_many_clients_are_counted_exactly_once() {
    let (dir, db) = temp_db();
    let daemon = Daemon::start(&db, &[], &[]);
    let base = events();
    // 24 distinct batches over 3 deployments, each sent twice at the same time.
    let batches: Vec<Vec<Value>> = (0..24)
        .map(|k| {
            base.iter()
                .map(|event| {
                    let mut event = event.clone();
                    event["convex"]["deployment_name"] = json!(format!("deployment-{}", k % 3));
                    if let Some(id) = event["function"]["request_id"].as_str() {
                        event["function"]["request_id"] = json!(format!("{id}-{k}"));
                    }
                    event
                })
                .collect()
        })
        .collect();
    let mut tasks = Vec::new();
    for (k, batch) in batches.iter().enumerate() {
        let format = if k % 2 == 0 {
            Format::Json
        } else {
            Format::Jsonl
        };
        let body = body(batch, format);
        for _ in 0..2 {
            let url = daemon.url.clone();
            let body = body.clone();
            tasks.push(tokio::spawn(async move { post_signed(&url, &body).await }));
        }
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), 200);
    }
    let (_, metrics) = get(&daemon.url, "/metrics").await;
    assert!(metrics.contains("ba_index_advisor_batches_total{result=\"committed\"} 24"));
    assert!(metrics.contains("ba_index_advisor_batches_total{result=\"duplicate\"} 24"));
    assert_eq!(rows(&db).0, 24);
    // The order of concurrent batches is the server's: compare what does not depend on it.
    let all: Vec<Value> = batches.concat();
    let served = served_report(&daemon.url, "").await;
    let expected = expected_report(dir.path(), &all, STREAM, &served);
    assert_eq!(
        crate::common::suggestions(&served),
        crate::common::suggestions(&expected)
    );
    assert_eq!(served["plan"], expected["plan"]);
    assert_eq!(served["stats"]["records"], json!(all.len()));
    for d in 0..3 {
        let mine: Vec<Value> = batches
            .iter()
            .skip(d)
            .step_by(3)
            .flatten()
            .cloned()
            .collect();
        let name = format!("deployment-{d}");
        let one = served_report(&daemon.url, &format!("?deployment={name}")).await;
        let expected = expected_report(dir.path(), &mine, &name, &one);
        assert_eq!(
            crate::common::suggestions(&one),
            crate::common::suggestions(&expected)
        );
        assert_eq!(one["stats"]["records"], json!(mine.len()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_after_a_200_loses_nothing_acknowledged() {
    let (dir, db) = temp_db();
    let events = events();
    let batches: Vec<&[Value]> = events.chunks(6).collect();
    let mut acknowledged: Vec<Value> = Vec::new();
    let mut daemon = Daemon::start(&db, &[], &[]);
    for (i, batch) in batches.iter().enumerate() {
        let format = if i % 3 == 0 {
            Format::Jsonl
        } else {
            Format::Json
        };
        assert_eq!(post_signed(&daemon.url, &body(batch, format)).await, 200);
        acknowledged.extend(batch.iter().cloned());
        // Killed right after a 200 on odd batches, between batches on every third.
        if i % 2 == 1 || i % 3 == 2 {
            daemon.kill_9();
            daemon = Daemon::start(&db, &[], &[]);
            let served = served_report(&daemon.url, "").await;
            assert_eq!(
                served,
                expected_report(dir.path(), &acknowledged, STREAM, &served),
                "after batch {i}"
            );
        }
    }
    // A redelivery of a batch acknowledged before a crash is still recognised.
    assert_eq!(
        post_signed(&daemon.url, &body(batches[1], Format::Json)).await,
        200
    );
    let served = served_report(&daemon.url, "").await;
    assert_eq!(
        served,
        expected_report(dir.path(), &acknowledged, STREAM, &served)
    );
    let one = served_report(&daemon.url, &format!("?deployment={DEPLOYMENT}")).await;
    assert_eq!(
        one,
        expected_report(dir.path(), &acknowledged, DEPLOYMENT, &one)
    );

    // SIGTERM: a clean stop, and the state is still all there.
    let (status, said) = daemon.terminate();
    assert!(status.success(), "{status:?} {said:?}");
    assert!(said.iter().any(|l| l == "serve: stopped"), "{said:?}");
    let daemon = Daemon::start(&db, &[], &[]);
    assert_eq!(served_report(&daemon.url, "").await, served);
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_beyond_loopback_need_the_token() {
    let (_dir, db) = temp_db();
    let refused = bin()
        .args(["serve", "--listen", "0.0.0.0:0", "--db"])
        .arg(&db)
        .env("BA_INDEX_ADVISOR_WEBHOOK_SECRET", SECRET)
        .env_remove("BA_INDEX_ADVISOR_API_TOKEN")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("BA_INDEX_ADVISOR_API_TOKEN"));
    let no_secret = bin()
        .args(["serve", "--db"])
        .arg(&db)
        .env_remove("BA_INDEX_ADVISOR_WEBHOOK_SECRET")
        .output()
        .unwrap();
    assert_eq!(no_secret.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&no_secret.stderr).contains("no webhook secret"));

    let daemon = Daemon::start(&db, &[], &[("BA_INDEX_ADVISOR_API_TOKEN", "read-token-1")]);
    for path in ["/", "/api/report", "/api/deployments", "/metrics"] {
        assert_eq!(get(&daemon.url, path).await.0, 401, "{path}");
        let response = client()
            .get(format!("{}{path}", daemon.url))
            .bearer_auth("read-token-1")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
    }
    assert_eq!(get(&daemon.url, "/healthz").await.0, 200);
    // Batches are authenticated by their signature, not the read token.
    let events = events();
    assert_eq!(
        post_signed(&daemon.url, &body(&events[..4], Format::Json)).await,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_secret_and_its_successor_are_both_accepted() {
    let (_dir, db) = temp_db();
    let next = "ffffffffffffffffffffffffffffffff";
    let daemon = Daemon::start(
        &db,
        &["--secret-env", "ROTATING"],
        &[("ROTATING", &format!("{SECRET},{next}"))],
    );
    let events = events();
    let first = body(&events[..4], Format::Json);
    let second = body(&events[4..8], Format::Json);
    assert_eq!(
        post(&daemon.url, &first, Some(&sign(SECRET, &first)))
            .await
            .0,
        200
    );
    assert_eq!(
        post(&daemon.url, &second, Some(&sign(next, &second)))
            .await
            .0,
        200
    );
    assert_eq!(rows(&db).0, 2);
}

/// A warning from an app function (`function`, so it is a caller) for a list of `table`,
/// dated now, shaped as the sink sends a console event.
fn warning(table: &str, fields: &[&str], function: &str, request: &str) -> Value {
    let mut event = events()
        .into_iter()
        .find(|e| e["log_level"] == "WARN")
        .unwrap();
    event["function"] = json!({
        "path": function, "type": "query", "cached": false, "request_id": request,
        "mutation_queue_length": null, "mutation_retry_count": null,
    });
    event["message"] = json!(format!(
        "'Querying without an index on table \"{table}\".\\nThis can cause performance issues, \
         and may hit the document read limit.\\nTo fix, add an index that begins with the \
         following fields in order:\\n[{}]'",
        fields.join(", ")
    ));
    event["timestamp"] = json!(now_ms());
    event
}

/// The rows the page should show for a report: the ranking, with the rows an index already
/// serves folded after the rest, as (table, fields, count).
fn page_order(report: &Value) -> Vec<(String, String, String)> {
    let all = report["suggestions"].as_array().unwrap();
    let served = |s: &&Value| s["status"]["kind"] == "served";
    all.iter()
        .filter(|s| !served(s))
        .chain(all.iter().filter(served))
        .map(|s| {
            (
                s["table"].as_str().unwrap().to_owned(),
                s["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(", "),
                s["count"].to_string(),
            )
        })
        .collect()
}

fn shown_rows(section: &Value) -> Vec<(String, String, String)> {
    section["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["sparkline"], json!(1), "{r:#}");
            (
                r["table"].as_str().unwrap().to_owned(),
                r["fields"].as_str().unwrap().to_owned(),
                r["count"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// At one viewport: no horizontal scrolling, no cell past the right edge, the rows in the
/// report's ranking, and the impact, the legend, a caller and an unknown field's advice as text.
async fn check_viewport(daemon: &Daemon, seen: &Value, width: u64, unknown_advice: &str) {
    assert_eq!(seen["innerWidth"], json!(width), "{seen:#}");
    assert!(
        seen["scrollWidth"].as_u64().unwrap() <= width,
        "scrolls sideways at {width}px: {}",
        seen["scrollWidth"]
    );
    assert_eq!(seen["overflowing"], json!([]), "cut off at {width}px");
    let text = seen["text"].as_str().unwrap();
    // The advice's backtick spans are shown as code, without the backticks.
    let unknown_advice = unknown_advice.replace('`', "");
    for visible in [
        "27,400 !",
        "! an execution that logged it read over 80% of Convex's 32,000-document limit",
        "users:byPhone",
        unknown_advice.as_str(),
        "documents read by the missing indexes in the last 24 h",
        "worst execution: 26,000 documents !",
        "Last batch",
    ] {
        assert!(
            text.contains(visible),
            "{visible:?} is not visible at {width}px:\n{text}"
        );
    }
    let sections = seen["sections"].as_array().unwrap();
    assert_eq!(
        sections
            .iter()
            .map(|s| s["deployment"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [DEPLOYMENT, "quiet-lynx-456"]
    );
    for section in sections {
        let name = section["deployment"].as_str().unwrap();
        let report = served_report(&daemon.url, &format!("?deployment={name}")).await;
        let expected = page_order(&report);
        assert!(!expected.is_empty());
        assert_eq!(shown_rows(section), expected, "{name} at {width}px");
        let (_, views) = get(&daemon.url, "/api/deployments").await;
        let views: Vec<Value> = serde_json::from_str(&views).unwrap();
        let view = views.iter().find(|v| v["name"] == name).unwrap();
        // No plan, no snippet.
        assert_eq!(
            section["snippet"].as_str().unwrap_or(""),
            view["snippet"].as_str().unwrap()
        );
    }
}

/// The page in a real headless browser (Debian's chromium, installed by the project's script)
/// at 1280 × 900 and 390 × 844: every suggestion of every deployment in the report's ranking
/// (served rows folded last) with its impact, callers, advice and sparkline, no horizontal
/// scrolling, a row's own snippet, the copy button's clipboard; a batch posted while the page
/// is open shows up without a reload; no console error. The screenshots are kept.
#[tokio::test(flavor = "multi_thread")]
async fn the_page_shows_impact_and_advice_live_on_a_phone_and_a_desktop() {
    let (dir, db) = temp_db();
    let daemon = Daemon::start(
        &db,
        &["--schema-dir", "tests/fixtures/schema/documented"],
        &[],
    );
    let mut events = events();
    events.push(warning(
        "user",
        &["phoneNumber"],
        "users:byPhone",
        "9000000000000001",
    ));
    let other: Vec<Value> = events
        .iter()
        .map(|event| {
            let mut event = event.clone();
            event["convex"]["deployment_name"] = json!("quiet-lynx-456");
            event
        })
        .collect();
    for chunk in events.chunks(16).chain(other[..26].chunks(13)) {
        assert_eq!(
            post_signed(&daemon.url, &body(chunk, Format::Json)).await,
            200
        );
    }
    let report = served_report(&daemon.url, &format!("?deployment={DEPLOYMENT}")).await;
    let unknown = report["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"]["kind"] == "unknown_field")
        .expect("an unknown-field row");
    let unknown_advice = unknown["status"]["advice"].as_str().unwrap().to_owned();
    assert!(
        unknown_advice.starts_with("unknown field `phoneNumber`: added by"),
        "{unknown_advice}"
    );

    crate::common::toolchain();
    let browser = std::process::Command::new("bash")
        .arg(root().join("scripts/browser-toolchain.sh"))
        .output()
        .unwrap();
    assert!(
        browser.status.success(),
        "scripts/browser-toolchain.sh failed:\n{}",
        String::from_utf8_lossy(&browser.stderr)
    );
    let playwright = String::from_utf8(browser.stdout).unwrap();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-page");
    std::fs::create_dir_all(&shots).unwrap();
    eprintln!("screenshots: {}", shots.display());
    let mut node = crate::common::node()
        .arg(root().join("tests/support/serve-page.mjs"))
        .arg(format!("{}/", daemon.url))
        .arg(dir.path().join("chromium-profile"))
        .arg(&shots)
        .env("PLAYWRIGHT_DIR", playwright.trim())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = crate::common::lines_of(node.stdout.take().unwrap());
    let problems = crate::common::lines_of(node.stderr.take().unwrap());
    let next = |phase: &str| -> Value {
        let line = lines
            .recv_timeout(Duration::from_secs(120))
            .unwrap_or_else(|_| {
                panic!(
                    "no {phase} line from the browser:\n{}",
                    problems.try_iter().collect::<Vec<_>>().join("\n")
                )
            });
        let value: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(value["phase"], phase, "{value:#}");
        value
    };
    let ready = next("ready");
    check_viewport(&daemon, &ready["wide"], 1280, &unknown_advice).await;
    let first = &ready["wide"]["sections"][0]["rows"][0];
    assert!(
        first["snippet"].is_string() || first["advice"].is_string(),
        "{first:#}"
    );

    // A new list while the page is open: it appears without a reload.
    let fresh = warning(
        "invitation",
        &["inviterId"],
        "invitations:byInviter",
        "9000000000000002",
    );
    assert_eq!(
        post_signed(&daemon.url, &body(&[fresh], Format::Json)).await,
        200
    );
    use std::io::Write as _;
    writeln!(
        node.stdin.as_mut().unwrap(),
        "{}",
        json!({"table": "invitation", "fields": "inviterId"})
    )
    .unwrap();
    let done = next("done");
    assert!(node.wait().unwrap().success());
    assert_eq!(done["errors"], json!([]), "{done:#}");
    assert_eq!(done["reloaded"], json!(false));
    assert_eq!(
        done["openKept"],
        json!(true),
        "the open row closed on refresh"
    );
    assert!(done["appearedMs"].as_u64().unwrap() < 8000, "{done:#}");
    eprintln!("the new row showed after {} ms", done["appearedMs"]);
    assert_eq!(done["coverage"], json!("Coverage: complete"));
    check_viewport(&daemon, &done["narrow"], 390, &unknown_advice).await;
    assert_eq!(done["copied"], done["narrow"]["sections"][0]["snippet"]);
    assert!(
        done["copied"].as_str().unwrap().contains(".index("),
        "{done:#}"
    );
    for shot in ["page-1280.png", "page-390.png"] {
        assert!(std::fs::metadata(shots.join(shot)).unwrap().len() > 10_000);
    }
}

/// Without scripts the page already holds every suggestion (the server renders it), escaped.
#[tokio::test(flavor = "multi_thread")]
async fn a_plain_fetch_of_the_page_holds_the_suggestions() {
    let (_dir, db) = temp_db();
    let daemon = Daemon::start(&db, &[], &[]);
    let mut events = events();
    events.push(warning(
        "user",
        &["<img src=x onerror=alert(1)>"],
        "users:<script>",
        "9000000000000003",
    ));
    assert_eq!(
        post_signed(&daemon.url, &body(&events, Format::Json)).await,
        200
    );
    let (status, html) = get(&daemon.url, "/").await;
    assert_eq!(status, 200);
    let report = served_report(&daemon.url, &format!("?deployment={DEPLOYMENT}")).await;
    let suggestions = crate::common::suggestions(&report);
    assert!(suggestions.len() > 3);
    for (table, fields, count) in suggestions {
        let fields = fields.join(", ").replace('<', "&lt;").replace('>', "&gt;");
        assert!(
            html.contains(&format!("<code>{table}</code>"))
                && html.contains(&format!("<code>{fields}</code>"))
                && html.contains(&format!("data-label=\"Count\">{count}<")),
            "{table} [{fields}] ×{count} is not in the page:\n{html}"
        );
    }
    assert!(html.contains("27,400 !"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("users:&lt;script&gt;"));
    assert!(!html.contains("<img src=x"));
    assert!(!html.contains("users:<script>"));
}

/// `HEAD` answers every GET route with the GET's status and headers and no body; other methods
/// are refused with `Allow`; `/api/report` answers 304 to its own `ETag`.
#[tokio::test(flavor = "multi_thread")]
async fn head_answers_every_read_and_the_report_has_an_etag() {
    let (_dir, db) = temp_db();
    let daemon = Daemon::start(&db, &[], &[]);
    assert_eq!(
        post_signed(&daemon.url, &body(&events(), Format::Json)).await,
        200
    );
    for path in [
        "/",
        "/api/report",
        &format!("/api/report?deployment={DEPLOYMENT}"),
        "/api/deployments",
        "/metrics",
        "/healthz",
    ] {
        let got = client()
            .get(format!("{}{path}", daemon.url))
            .send()
            .await
            .unwrap();
        let head = client()
            .head(format!("{}{path}", daemon.url))
            .send()
            .await
            .unwrap();
        assert_eq!(got.status(), 200, "{path}");
        assert_eq!(head.status(), 200, "HEAD {path}");
        for header in ["content-type", "content-length", "etag", "cache-control"] {
            assert_eq!(
                head.headers().get(header),
                got.headers().get(header),
                "HEAD {path}: {header}"
            );
        }
        assert!(head.headers().get("content-length").is_some(), "{path}");
        assert_eq!(head.bytes().await.unwrap().len(), 0, "HEAD {path}");
    }
    let refused = client()
        .delete(format!("{}/api/report", daemon.url))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 405);
    assert_eq!(refused.headers()["allow"], "GET, HEAD");

    let first = client()
        .get(format!("{}/api/report", daemon.url))
        .send()
        .await
        .unwrap();
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = client()
        .get(format!("{}/api/report", daemon.url))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), tag);
    assert_eq!(again.bytes().await.unwrap().len(), 0);
    // A batch changes the document, and so its tag.
    let more = [warning(
        "user",
        &["phoneNumber"],
        "users:byPhone",
        "9000000000000004",
    )];
    assert_eq!(
        post_signed(&daemon.url, &body(&more, Format::Json)).await,
        200
    );
    let changed = client()
        .get(format!("{}/api/report", daemon.url))
        .header("if-none-match", &tag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), tag);
}

/// `--listen localhost:PORT` resolves the host name and serves on it.
#[tokio::test(flavor = "multi_thread")]
async fn listen_accepts_a_host_name() {
    let (_dir, db) = temp_db();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("localhost:{port}");
    let daemon = Daemon::start(&db, &["--listen", &listen], &[]);
    assert_eq!(daemon.url, format!("http://127.0.0.1:{port}"));
    let (status, body) = get(&format!("http://localhost:{port}"), "/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let (_, exit) = daemon.terminate();
    assert!(exit.iter().any(|l| l == "serve: stopped"), "{exit:?}");
}

/// `--github-issue`: one issue opened when the first plan appears, then the same issue updated
/// when the plan changes, against a fake GitHub API on loopback.
#[tokio::test(flavor = "multi_thread")]
async fn the_github_issue_is_opened_once_and_updated_when_the_plan_changes() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const TOKEN: &str = "ghs_SERVE_TEST_TOKEN_0123456789";
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&github)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/app/issues"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"number": 3, "body": "an unrelated issue"},
            {"number": 4, "body": "<!-- ba-index-advisor -->", "pull_request": {}},
            {"number": 9, "body": "<!-- ba-index-advisor -->\nearlier plan",
             "html_url": "https://github.com/acme/app/issues/9"}
        ])))
        .with_priority(2)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/acme/app/issues"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 9})))
        .mount(&github)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/app/issues/9"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"number": 9})))
        .mount(&github)
        .await;

    let (_dir, db) = temp_db();
    let api = github.uri();
    let daemon = Daemon::start(
        &db,
        &[
            "--github-issue",
            "acme/app",
            "--github-api-url",
            &api,
            "--notify-every",
            "200ms",
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    let events = events();
    // Nothing to say yet: no request at all.
    assert_eq!(
        post_signed(&daemon.url, &body(&events[..2], Format::Json)).await,
        200
    );
    let writes = |requests: &[wiremock::Request]| -> Vec<(String, Value)> {
        requests
            .iter()
            .filter(|r| r.method.as_str() != "GET")
            .map(|r| {
                assert_eq!(
                    r.headers.get("authorization").unwrap().to_str().unwrap(),
                    format!("Bearer {TOKEN}")
                );
                (
                    format!("{} {}", r.method, r.url.path()),
                    serde_json::from_slice(&r.body).unwrap(),
                )
            })
            .collect()
    };
    let wait_for = |n: usize| {
        let github = &github;
        async move {
            for _ in 0..300 {
                let requests = github.received_requests().await.unwrap();
                if writes(&requests).len() >= n {
                    return writes(&requests);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("GitHub saw fewer than {n} write(s)");
        }
    };
    let half = events.len() / 2;
    assert_eq!(
        post_signed(&daemon.url, &body(&events[2..half], Format::Json)).await,
        200
    );
    let first = wait_for(1).await;
    assert_eq!(first[0].0, "POST /repos/acme/app/issues");
    let text = first[0].1["body"].as_str().unwrap();
    assert!(text.starts_with("<!-- ba-index-advisor -->"), "{text}");
    let report = served_report(&daemon.url, "").await;
    for index in report["plan"].as_array().unwrap() {
        assert!(
            text.contains(index["name"].as_str().unwrap()),
            "{index} missing from:\n{text}"
        );
    }
    assert!(first[0].1["title"].as_str().is_some());

    assert_eq!(
        post_signed(&daemon.url, &body(&events[half..], Format::Json)).await,
        200
    );
    let second = wait_for(2).await;
    assert_eq!(second.len(), 2, "{second:?}");
    assert_eq!(second[1].0, "PATCH /repos/acme/app/issues/9");
    let text = second[1].1["body"].as_str().unwrap();
    let report = served_report(&daemon.url, "").await;
    for index in report["plan"].as_array().unwrap() {
        assert!(text.contains(index["name"].as_str().unwrap()), "{text}");
    }
    // A redelivered batch changes no plan: no further write.
    assert_eq!(
        post_signed(&daemon.url, &body(&events[half..], Format::Json)).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(writes(&github.received_requests().await.unwrap()).len(), 2);
}

/// `serve`'s GitHub client retries with the policy `pr` uses: its first backoff from
/// BA_INDEX_ADVISOR_RETRY_BASE_MS.
#[tokio::test(flavor = "multi_thread")]
async fn the_github_issue_retries_with_the_environments_backoff() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let github = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"number": 9})))
        .with_priority(2)
        .mount(&github)
        .await;
    let (_dir, db) = temp_db();
    let api = github.uri();
    let daemon = Daemon::start(
        &db,
        &["--github-issue", "acme/app", "--github-api-url", &api],
        &[
            ("GITHUB_TOKEN", "ghs_SERVE_RETRY_TOKEN"),
            ("BA_INDEX_ADVISOR_RETRY_BASE_MS", "1"),
        ],
    );
    let events = events();
    assert_eq!(
        post_signed(&daemon.url, &body(&events, Format::Json)).await,
        200
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.contains("is up to date")) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match daemon.stderr.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => panic!("no issue update:\n{}", seen.join("\n")),
        }
    }
    assert!(
        seen.iter().any(|l| l.contains(
            "GitHub answered 502 to open an issue on acme/app; retrying in 0.0s (retry 1 of 3)"
        )),
        "{}",
        seen.join("\n")
    );
}

/// An execution's usage that arrives before the warning naming its request (here in an earlier
/// batch, with a crash in between) still joins the warning's impact, as in the file report.
#[tokio::test(flavor = "multi_thread")]
async fn usage_that_arrives_before_its_warning_still_counts_after_a_crash() {
    let (dir, db) = temp_db();
    let reversed: Vec<Value> = events().into_iter().rev().collect();
    let mut daemon = Daemon::start(&db, &[], &[]);
    for (i, chunk) in reversed.chunks(5).enumerate() {
        assert_eq!(
            post_signed(&daemon.url, &body(chunk, Format::Json)).await,
            200
        );
        if i % 4 == 1 {
            daemon.kill_9();
            daemon = Daemon::start(&db, &[], &[]);
        }
    }
    let served = served_report(&daemon.url, "").await;
    assert!(
        served["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["impact"]["documents_read"].as_u64() > Some(0)),
        "{served:#}"
    );
    assert_eq!(
        served,
        expected_report(dir.path(), &reversed, STREAM, &served)
    );
}

/// With `--schema-dir`, the statuses are those `report --schema-dir` gives.
#[tokio::test(flavor = "multi_thread")]
async fn statuses_follow_the_schema_dir() {
    let (dir, db) = temp_db();
    let schema = ["--schema-dir", "tests/fixtures/schema/documented"];
    let daemon = Daemon::start(&db, &schema, &[]);
    let events = events();
    for chunk in events.chunks(20) {
        assert_eq!(
            post_signed(&daemon.url, &body(chunk, Format::Jsonl)).await,
            200
        );
    }
    let served = served_report(&daemon.url, "").await;
    assert!(
        served["suggestions"][0]["status"]["kind"].is_string(),
        "{served:#}"
    );
    assert_eq!(
        served,
        expected_report_with(dir.path(), &events, STREAM, &served, &schema)
    );
    let (_, metrics) = get(&daemon.url, "/metrics").await;
    assert!(!metrics.contains("status=\"unchecked\""), "{metrics}");
    let mut by_status = std::collections::BTreeMap::<String, u64>::new();
    for suggestion in served["suggestions"].as_array().unwrap() {
        *by_status
            .entry(suggestion["status"]["kind"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert!(by_status.len() > 1, "{by_status:?}");
    for (status, n) in by_status {
        assert!(
            metrics.contains(&format!(
                "ba_index_advisor_suggestions{{status=\"{status}\"}} {n}\n"
            )),
            "{metrics}"
        );
    }
}

/// A signed body is stored only when it is a Convex batch. Each malformed body answers 400 with
/// its reason and changes nothing but the counts of refused bodies: not the database, not the
/// report, not the event counters; the refusals are counted by reason in `/metrics` and in the
/// report's `coverage.rejected`. A real batch, byte for byte, still answers 200.
#[tokio::test(flavor = "multi_thread")]
async fn bodies_that_are_not_convex_batches_answer_400_and_store_nothing() {
    let (_dir, db) = temp_db();
    // The fixture is a real body from January 2026: old, so --max-age is widened for it.
    let daemon = Daemon::start(&db, &["--max-age", "3650d"], &[]);
    let events = events();
    assert_eq!(
        post_signed(&daemon.url, &body(&events[..8], Format::Json)).await,
        200
    );
    let snapshot = || async {
        let (_, metrics) = get(&daemon.url, "/metrics").await;
        let counts = [
            "ba_index_advisor_events_total",
            "ba_index_advisor_events_kept_total",
            "ba_index_advisor_batches_total{result=\"committed\"}",
        ]
        .map(|name| metric(&metrics, name));
        (
            database(&db),
            without_coverage(served_report(&daemon.url, "").await),
            counts,
        )
    };
    let before = snapshot().await;
    assert!(!before.0.is_empty());

    let edit = |change: &dyn Fn(&mut Value)| -> Vec<Value> {
        events[8..16]
            .iter()
            .map(|event| {
                let mut event = event.clone();
                change(&mut event);
                event
            })
            .collect()
    };
    let no_topic = edit(&|e| {
        e.as_object_mut().unwrap().remove("topic");
    });
    let no_timestamp = edit(&|e| {
        e.as_object_mut().unwrap().remove("timestamp");
    });
    let tomorrow = edit(&|e| e["timestamp"] = json!(now_ms() + 24 * 3_600_000));
    // The cap (1024 by default) and a thousand more, each a real event.
    let over_cap: Vec<Value> = events.iter().cycle().take(1024 + 1000).cloned().collect();
    let tiny = format!("[{}]", vec!["{}"; 2_000_000].join(","));
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "a lone object",
            br#"{"hello":"world"}"#.to_vec(),
            "unknown_topic",
        ),
        (
            "two million empty objects",
            tiny.into_bytes(),
            "too_many_events",
        ),
        (
            "a thousand events over the cap",
            body(&over_cap, Format::Jsonl),
            "too_many_events",
        ),
        (
            "events without a topic",
            body(&no_topic, Format::Json),
            "unknown_topic",
        ),
        (
            "events without a timestamp",
            body(&no_timestamp, Format::Jsonl),
            "no_timestamp",
        ),
        (
            "a batch dated 24 h ahead",
            body(&tomorrow, Format::Json),
            "from_the_future",
        ),
    ];
    for (what, body, reason) in &cases {
        let started = std::time::Instant::now();
        let (status, text) = post(&daemon.url, body, Some(&sign(SECRET, body))).await;
        assert_eq!(status, 400, "{what}: {text}");
        assert!(text.starts_with(&format!("{reason}: ")), "{what}: {text}");
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{what}: {:?}",
            started.elapsed()
        );
        assert_eq!(snapshot().await, before, "{what} changed the state");
    }

    let (_, metrics) = get(&daemon.url, "/metrics").await;
    let held = 8u64;
    for (reason, bodies, events) in [
        ("not_a_batch", 0, 0),
        ("too_many_events", 2, 2_000_000 + 2024),
        ("unknown_topic", 2, 1 + held),
        ("no_timestamp", 1, held),
        ("from_the_future", 1, held),
        ("too_old", 0, 0),
    ] {
        let label = format!("{{reason=\"{reason}\"}}");
        assert_eq!(
            metric(
                &metrics,
                &format!("ba_index_advisor_rejected_bodies_total{label}")
            ),
            bodies,
            "{reason}\n{metrics}"
        );
        assert_eq!(
            metric(
                &metrics,
                &format!("ba_index_advisor_rejected_events_total{label}")
            ),
            events,
            "{reason}\n{metrics}"
        );
    }
    let report = served_report(&daemon.url, "").await;
    assert_eq!(report["coverage"]["complete"], json!(false));
    assert_eq!(
        report["coverage"]["rejected"],
        json!([
            {"reason": "too_many_events", "bodies": 2, "events": 2_002_024},
            {"reason": "unknown_topic", "bodies": 2, "events": 9},
            {"reason": "no_timestamp", "bodies": 1, "events": 8},
            {"reason": "from_the_future", "bodies": 1, "events": 8}
        ])
    );

    // A real batch, as the sink sent it.
    let real = std::fs::read(root().join("sample-logs/webhook-v2-body.json")).unwrap();
    let (status, text) = post(&daemon.url, &real, Some(&sign(SECRET, &real))).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(rows(&db).0, 2);
}

/// Usage waiting for a warning is dropped on a clock: an idle server prunes it within
/// `--pending-ttl` and a tick, with no batch arriving to trigger it.
#[tokio::test(flavor = "multi_thread")]
async fn an_idle_server_prunes_pending_executions_within_the_ttl() {
    let (_dir, db) = temp_db();
    let daemon = Daemon::start(&db, &["--pending-ttl", "1s"], &[]);
    let mut execution = events()
        .into_iter()
        .find(|e| e["topic"] == "function_execution")
        .unwrap();
    execution["function"]["request_id"] = json!("no-warning-names-this");
    assert_eq!(
        post_signed(&daemon.url, &body(&[execution], Format::Json)).await,
        200
    );
    let committed = std::time::Instant::now();
    assert_eq!(pending_rows(&db), 1);
    let (_, metrics) = get(&daemon.url, "/metrics").await;
    assert_eq!(metric(&metrics, "ba_index_advisor_pending_executions"), 1);
    // Only the database is watched meanwhile: nothing is sent to the server.
    while pending_rows(&db) > 0 {
        assert!(
            committed.elapsed() < Duration::from_secs(3),
            "still pending after {:?}",
            committed.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(committed.elapsed() >= Duration::from_millis(900));
    let (_, metrics) = get(&daemon.url, "/metrics").await;
    assert_eq!(metric(&metrics, "ba_index_advisor_pending_executions"), 0);
}

/// The database, its WAL and its shared-memory index are readable by their owner only, and a
/// database left with a wider mode is narrowed on start.
#[tokio::test(flavor = "multi_thread")]
async fn the_database_files_are_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let (_dir, db) = temp_db();
    let mode = |suffix: &str| {
        let path = format!("{}{suffix}", db.display());
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
    };
    let daemon = Daemon::start(&db, &[], &[]);
    let events = events();
    assert_eq!(
        post_signed(&daemon.url, &body(&events[..8], Format::Json)).await,
        200
    );
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(suffix), 0o600, "state.db{suffix}");
    }
    daemon.kill_9();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", db.display());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let _daemon = Daemon::start(&db, &[], &[]);
    for suffix in ["", "-wal", "-shm"] {
        assert_eq!(mode(suffix), 0o600, "state.db{suffix} after a restart");
    }
}

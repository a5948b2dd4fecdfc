//! Sustained rate of one `serve`: signed batches of 128 webhook-v2 events (a log stream's mix:
//! each execution's `function_execution`, plain `console` lines, and a Better Auth warning in
//! one execution out of `WARN_EVERY`) posted by several clients over loopback, each counted
//! when its 200 arrives, i.e. after its SQLite commit. The baseline, measured in the same run
//! over the same events, is `report --format json` reading them as one JSONL file: the engine
//! alone, without HTTP, signatures or the database.
//!
//! Run: `cargo bench --bench serve_rate` (add `-- BATCHES CLIENTS`, default 2000 and 8).

use ba_index_advisor::serve::signature::sign;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const BATCH: usize = 128;
/// One execution in this many logs a missing-index warning.
const WARN_EVERY: usize = 20;

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn convex() -> Value {
    json!({"deployment_name": "happy-otter-123", "deployment_type": "prod", "deployment_ref": null,
           "project_name": "my-app", "project_slug": "my-app", "deployment_region": null})
}

/// Execution `i`: a console line (a warning every `WARN_EVERY`), then its `function_execution`.
fn execution(i: usize, now_ms: i64) -> [Value; 2] {
    let request_id = format!("{i:016x}");
    let warning = i.is_multiple_of(WARN_EVERY);
    let (path, component, level, message) = if warning {
        let table = ["session", "member", "account", "verification"][i / WARN_EVERY % 4];
        (
            "adapter.js:findOne",
            Some("betterAuth"),
            "WARN",
            format!(
                "'Querying without an index on table \"{table}\".\\nThis can cause performance \
                 issues, and may hit the document read limit.\\nTo fix, add an index that begins \
                 with the following fields in order:\\n[userId]'"
            ),
        )
    } else {
        ("messages:list", None, "LOG", format!("'listing {i}'"))
    };
    let mut function = json!({"path": path, "type": "query", "cached": false,
        "request_id": request_id, "mutation_queue_length": null, "mutation_retry_count": null});
    if let Some(component) = component {
        function["component_path"] = json!(component);
    }
    let console = json!({"timestamp": now_ms, "topic": "console", "function": function,
        "log_level": level, "message": message, "is_truncated": false, "system_code": null,
        "convex": convex()});
    let execution = json!({"timestamp": now_ms, "topic": "function_execution",
        "function": {"path": "messages:list", "type": "query", "cached": false,
                     "request_id": request_id, "mutation_queue_length": null,
                     "mutation_retry_count": null},
        "execution_time_ms": 12, "user_execution_time_ms": 11, "status": "success",
        "run_reason": "initialSubscription",
        "usage": {"database_io_read_bytes": 107800, "database_io_write_bytes": 0,
                  "database_read_documents": 200, "database_write_documents": 0},
        "convex": convex()});
    [console, execution]
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .filter_map(|a| a.parse::<usize>().ok());
    let batches = args.next().unwrap_or(2000);
    let clients = args.next().unwrap_or(8).max(1);
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let events: Vec<Value> = (0..batches * BATCH / 2)
        .flat_map(|i| execution(i, now_ms))
        .collect();
    let bodies: Vec<Vec<u8>> = events
        .chunks(BATCH)
        .map(|chunk| serde_json::to_vec(chunk).unwrap())
        .collect();
    let dir = tempfile::tempdir().unwrap();

    // Baseline: the engine alone over the same events as one file.
    let file = dir.path().join("events.jsonl");
    let jsonl: Vec<String> = events.iter().map(Value::to_string).collect();
    std::fs::write(&file, jsonl.join("\n")).unwrap();
    let started = Instant::now();
    let report = Command::new(env!("CARGO_BIN_EXE_ba-index-advisor"))
        .args(["report", "--format", "json"])
        .arg(&file)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(report.code().is_some_and(|c| c <= 1));
    let engine_alone = started.elapsed();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ba-index-advisor"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(dir.path().join("state.db"))
        .env("BA_INDEX_ADVISOR_WEBHOOK_SECRET", SECRET)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    let _daemon = Killed(child);
    let mut lines = stderr.lines();
    let url = loop {
        let line = lines.next().expect("serve exited").unwrap();
        if let Some(url) = line.strip_prefix("serve: listening on ") {
            break url.to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));

    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let elapsed = runtime.block_on(async {
        let client = reqwest::Client::new();
        let started = Instant::now();
        let mut tasks = Vec::new();
        for c in 0..clients {
            let mine: Vec<Vec<u8>> = bodies.iter().skip(c).step_by(clients).cloned().collect();
            let client = client.clone();
            let url = format!("{url}/log-stream");
            tasks.push(tokio::spawn(async move {
                for body in mine {
                    let signature = sign(SECRET, &body);
                    let status = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("x-webhook-signature", signature)
                        .body(body)
                        .send()
                        .await
                        .unwrap()
                        .status();
                    assert_eq!(status.as_u16(), 200);
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        started.elapsed()
    });

    let db = dir.path().join("state.db");
    let connection = rusqlite::Connection::open(&db).unwrap();
    let count = |sql: &str| -> i64 { connection.query_row(sql, [], |r| r.get(0)).unwrap() };
    let kept = count("SELECT count(*) FROM events");
    let pending = count("SELECT count(*) FROM events WHERE pending_since_ms IS NOT NULL");
    let size = count("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    let per_sec = |n: usize, d: Duration| n as f64 / d.as_secs_f64();
    let served = per_sec(events.len(), elapsed);
    ba_index_advisor::outln!(
        "serve: {} batches of {BATCH} events ({} events, 1 execution in {WARN_EVERY} warns) \
         from {clients} clients in {:.2}s: {:.0} batches/s, {:.0} events/s",
        bodies.len(),
        events.len(),
        elapsed.as_secs_f64(),
        per_sec(bodies.len(), elapsed),
        served
    )
    .unwrap();
    ba_index_advisor::outln!(
        "database: {kept} events kept ({pending} of them usage waiting up to 10 minutes \
         for a signal), {:.1} MiB",
        size as f64 / 1_048_576.0
    )
    .unwrap();
    ba_index_advisor::outln!(
        "baseline: report --format json over the same events as one file: {:.2}s, {:.0} \
         events/s; serve runs at {:.2}x the engine alone",
        engine_alone.as_secs_f64(),
        per_sec(events.len(), engine_alone),
        served / per_sec(events.len(), engine_alone)
    )
    .unwrap();
}

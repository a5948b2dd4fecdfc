//! Append → event latency of `watch --file`: a JSONL warning line is appended to a followed
//! file and the time until `watch --format json` prints its event is measured. The baseline,
//! measured in the same run on the same file, is coreutils `tail -F` printing the line.
//!
//! Run: `cargo bench --profile dev --bench watch_latency` (add `-- 300` for more samples).

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn warning_line(i: usize) -> String {
    let msg = format!(
        "'Querying without an index on table \"t{i}\".\\nThis can cause performance issues, and \
         may hit the document read limit.\\nTo fix, add an index that begins with the following \
         fields in order:\\n[userId]'"
    );
    serde_json::json!({
        "kind": "Completion", "udfType": "Query", "componentPath": null,
        "identifier": "bench:q", "requestId": format!("r{i}"), "timestamp": 1.0,
        "logLines": [{ "messages": [msg], "isTruncated": false, "timestamp": 1,
                       "level": "WARN", "systemMetadata": null }],
    })
    .to_string()
}

/// Timestamped stdout lines of a child.
fn stamped_lines(child: &mut Child) -> mpsc::Receiver<(Instant, String)> {
    let out = child.stdout.take().expect("piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx
}

/// Appends `n` lines, each after the previous one was seen; returns the latencies.
fn measure(
    path: &Path,
    rx: &mpsc::Receiver<(Instant, String)>,
    n: usize,
    offset: usize,
    seen: impl Fn(&str, usize) -> bool,
) -> Vec<Duration> {
    let mut out = Vec::with_capacity(n);
    let mut file = OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open log");
    for k in 0..n {
        let i = offset + k;
        // Irregular gaps, so appends do not line up with any timer.
        std::thread::sleep(Duration::from_millis(15 + (k as u64 * 7) % 23));
        let line = warning_line(i) + "\n";
        let start = Instant::now();
        file.write_all(line.as_bytes()).expect("append");
        loop {
            let (at, text) = rx
                .recv_timeout(Duration::from_secs(10))
                .expect("no output within 10 s");
            if seen(&text, i) {
                out.push(at.duration_since(start));
                break;
            }
        }
    }
    out
}

fn summary(name: &str, mut d: Vec<Duration>) -> f64 {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    let pct = |p: f64| ms(d[((d.len() - 1) as f64 * p).round() as usize]);
    println!(
        "{name:<22} n={:<4} median {:>7.2} ms  p90 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms",
        d.len(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        ms(d[d.len() - 1])
    );
    pct(0.5)
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("convex/betterAuth")).expect("mkdir");
    let log = dir.path().join("app.log");
    std::fs::write(&log, "").expect("create log");

    let mut tail = Command::new("tail")
        .args(["-F", "-n", "0"])
        .arg(&log)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tail -F");
    let tail_rx = stamped_lines(&mut tail);
    let _tail = Killed(tail);
    std::thread::sleep(Duration::from_millis(300));
    let baseline = measure(&log, &tail_rx, n, 0, |l, i| {
        l.contains(&format!("\"t{i}\\\""))
    });
    let base = summary("tail -F (baseline)", baseline);

    let mut offset = n;
    for (name, extra) in [
        ("watch --file", None),
        ("watch --file --poll", Some("--poll")),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ba-index-advisor"));
        cmd.args(["watch", "--format", "json", "--file"])
            .arg(&log)
            .arg("--project")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if let Some(flag) = extra {
            cmd.arg(flag);
        }
        let mut watch = cmd.spawn().expect("start watch");
        let rx = stamped_lines(&mut watch);
        let _watch = Killed(watch);
        std::thread::sleep(Duration::from_millis(500));
        let table = |i: usize| format!("\"table\":\"t{i}\"");
        let got = measure(&log, &rx, n, offset, |l, i| l.contains(&table(i)));
        offset += n;
        let median = summary(name, got);
        println!("{:<22} median ratio to baseline: {:.1}x", "", median / base);
    }
}

//! Bad input never panics: each case names the file (and line), the good inputs are still
//! read, and the exit code is 2.

mod common;
use common::{bin, json, suggestions};
use std::io::Write;

const WARNING: &str = r#"1/15/2026, 2:03:08 PM [CONVEX Q(members:get)] [WARN] 'Querying without an index on table "member".\nThis can cause performance issues, and may hit the document read limit.\nTo fix, add an index that begins with the following fields in order:\n[organizationId, userId]'"#;

struct Run {
    code: i32,
    stderr: String,
    report: serde_json::Value,
}

fn run(args: &[&str]) -> Run {
    let out = bin()
        .arg("report")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    Run {
        code: out.status.code().unwrap(),
        report: json(&out.stdout),
        stderr,
    }
}

fn member_count(report: &serde_json::Value) -> u64 {
    suggestions(report)
        .iter()
        .find(|(t, _, _)| t == "member")
        .map_or(0, |s| s.2)
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

#[test]
fn binary_file_is_skipped_and_others_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let bin_file = write(
        &dir,
        "image.log",
        &[0x89, b'P', b'N', b'G', 0, 0, 0, 13, 0xff, 0xfe],
    );
    let good = write(&dir, "good.log", format!("{WARNING}\n").as_bytes());
    let run = run(&[&bin_file, &good]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("error: {bin_file}: binary data")),
        "{}",
        run.stderr
    );
    assert_eq!(member_count(&run.report), 1);
}

#[test]
fn invalid_utf8_between_good_lines_keeps_reading() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = format!("{WARNING}\n").into_bytes();
    bytes.extend_from_slice(b"garbage \xff\xfe\xc3\x28 bytes\n");
    bytes.extend_from_slice(format!("{WARNING}\n{WARNING}\n").as_bytes());
    let file = write(&dir, "mixed.log", &bytes);
    let run = run(&[&file]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("error: {file}:2: invalid UTF-8")),
        "{}",
        run.stderr
    );
    assert_eq!(member_count(&run.report), 3);
}

#[test]
fn a_100_mb_single_line_is_skipped_with_its_line_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.log");
    let mut file = std::fs::File::create(&path).unwrap();
    writeln!(file, "{WARNING}").unwrap();
    let block = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        file.write_all(&block).unwrap();
    }
    file.write_all(b"\n").unwrap();
    writeln!(file, "{WARNING}").unwrap();
    drop(file);
    let path = path.display().to_string();
    let run = run(&[&path]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "error: {path}:2: line longer than 16 MiB, skipped"
        )),
        "{}",
        run.stderr
    );
    assert_eq!(
        member_count(&run.report),
        2,
        "the lines around the long one still count"
    );
    assert_eq!(run.report["stats"]["lines"], 3);
}

#[test]
fn truncated_json_is_reported_and_its_warning_still_counts() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"topic":"console","log_level":"WARN","function":{"path":"a:b","request_id":"r1"},"message":"'Querying without an index on table \"member\".\\nThis can cause performance issues, and may hit the document read limit.\\nTo fix, add an index that begins with the following fields in order:\\n[organizationId, userId]'"}"#;
    let truncated_plain = r#"{"topic":"console","log_level":"LOG","message":"'hel"#;
    // Cut after the field list: the message is whole, the JSON is not.
    let truncated_warning = &good[..good.len() - 2];
    let file = write(
        &dir,
        "stream.jsonl",
        format!("{good}\n{truncated_plain}\n{truncated_warning}\n{good}\n").as_bytes(),
    );
    let run = run(&[&file]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("error: {file}:2: invalid JSON: EOF while parsing")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("error: {file}:3: invalid JSON")),
        "{}",
        run.stderr
    );
    assert_eq!(member_count(&run.report), 3);
}

#[test]
fn empty_missing_and_directory_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let empty = write(&dir, "empty.log", b"");
    let good = write(&dir, "good.txt", format!("{WARNING}\n").as_bytes());
    let no_logs = dir.path().join("nothing-here");
    std::fs::create_dir(&no_logs).unwrap();
    std::fs::write(no_logs.join("notes.md"), "not a log").unwrap();
    let no_logs = no_logs.display().to_string();
    let missing = dir.path().join("missing.log").display().to_string();
    let run = run(&[&empty, &missing, &no_logs, &good]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!("error: {empty}: empty input")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("error: {missing}: no such file or directory")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("error: {no_logs}: directory has no")),
        "{}",
        run.stderr
    );
    assert_eq!(member_count(&run.report), 1);
}

#[test]
fn corrupt_gzip_keeps_what_was_decoded() {
    let dir = tempfile::tempdir().unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for _ in 0..2000 {
        writeln!(encoder, "{WARNING}").unwrap();
    }
    let mut gz = encoder.finish().unwrap();
    let cut = gz.len() * 3 / 4;
    gz.truncate(cut);
    gz.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let file = write(&dir, "broken.log.gz", &gz);
    let run = run(&[&file]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains(&format!("error: {file}: corrupt gzip data")),
        "{}",
        run.stderr
    );
    let kept = member_count(&run.report);
    assert!(kept > 0 && kept < 2000, "kept {kept} of 2000");
}

#[test]
fn a_bad_rule_file_is_reported_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "custom.toml",
        b"[[rule]]\nid = \"mine\"\ndescription = \"d\"\nversions = \"*\"\nkind = \"missing_index_warning\"\nneedle = \"Slow\"\npattern = 'Slow (?P<table>\\w+'\n",
    );
    let out = bin()
        .args(["report", "sample-logs/bare-warning.txt", "--rules"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("custom.toml:7: pattern does not compile"),
        "{stderr}"
    );
}

#[test]
fn a_runtime_rule_adds_a_new_message_format() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir,
        "future.toml",
        br#"[[rule]]
id = "future/index-hint"
description = "a hypothetical future wording"
versions = ">=0.13.0"
kind = "missing_index_warning"
needle = "Missing index on"
pattern = 'Missing index on (?P<table>\w+) for \[(?P<fields>[^\]]*)\]'
fields_separator = ","
"#,
    );
    let out = bin()
        .args(["report", "-", "--format", "json", "--rules"])
        .arg(dir.path())
        .write_stdin("1/15/2026, 2:03:08 PM [CONVEX Q(a:b)] [WARN] 'Missing index on member for [organizationId, userId]'\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(member_count(&json(&out.stdout)), 1);
}

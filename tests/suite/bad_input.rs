//! Bad input never panics: each case names the file (and line), the good inputs are still
//! read, and the exit code is 2.

use crate::common::{self, bin, json, suggestions};
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

/// Every sample log with CRLF line endings finds exactly what it finds with LF.
#[test]
fn crlf_line_endings_find_the_same_as_lf() {
    let dir = tempfile::tempdir().unwrap();
    let samples = common::root().join("sample-logs");
    let mut names: Vec<_> = std::fs::read_dir(&samples)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".gz"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    for name in names {
        let lf = std::fs::read(samples.join(&name)).unwrap();
        let mut crlf = Vec::with_capacity(lf.len() * 2);
        for &b in &lf {
            if b == b'\n' {
                crlf.push(b'\r');
            }
            crlf.push(b);
        }
        let lf_path = write(&dir, &format!("lf-{name}"), &lf);
        let crlf_path = write(&dir, &format!("crlf-{name}"), &crlf);
        let (lf_run, crlf_run) = (run(&[&lf_path]), run(&[&crlf_path]));
        assert_eq!(crlf_run.code, lf_run.code, "{name}: {}", crlf_run.stderr);
        assert_eq!(
            suggestions(&crlf_run.report),
            suggestions(&lf_run.report),
            "{name}"
        );
        assert_eq!(
            crlf_run.report["stats"]["lines"], lf_run.report["stats"]["lines"],
            "{name}"
        );
    }
}

#[test]
fn malformed_json_lines_are_reported_and_good_ones_still_count() {
    let dir = tempfile::tempdir().unwrap();
    let good = r#"{"topic":"console","log_level":"WARN","message":"'Querying without an index on table \"member\".\\nThis can cause performance issues, and may hit the document read limit.\\nTo fix, add an index that begins with the following fields in order:\\n[organizationId, userId]'"}"#;
    let bad = [
        r#"{"topic":"console",,"message":"x"}"#,
        r#"{"topic": console}"#,
        r#"[{"topic":"console"},]"#,
        r#"{"message": 42, "topic": ["not", "a", "string"]}"#,
        r#"{"message": "Querying without an index on table \"member\" but no fields"}"#,
        r#"{"}"#,
    ];
    let mut text = format!("{good}\n");
    for line in bad {
        text.push_str(line);
        text.push('\n');
        text.push_str(good);
        text.push('\n');
    }
    let file = write(&dir, "malformed.jsonl", text.as_bytes());
    let run = run(&[&file]);
    assert_eq!(run.code, 2);
    for line in [2, 4, 6, 12] {
        assert!(
            run.stderr
                .contains(&format!("error: {file}:{line}: invalid JSON")),
            "line {line}:\n{}",
            run.stderr
        );
    }
    assert_eq!(member_count(&run.report), 7, "{}", run.stderr);
}

/// A file that cannot be opened. Root ignores permission bits, so under root a Unix socket
/// named like a log stands in for the `chmod 000` file: opening it fails the same way.
#[cfg(unix)]
#[test]
fn an_unreadable_input_is_an_error_and_others_still_count() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let good = write(&dir, "good.txt", format!("{WARNING}\n").as_bytes());
    let locked = dir.path().join("locked.log");
    let _socket;
    if rustix::process::geteuid().is_root() {
        _socket = std::os::unix::net::UnixListener::bind(&locked).unwrap();
    } else {
        std::fs::write(&locked, format!("{WARNING}\n")).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    }
    let locked = locked.display().to_string();
    let run = run(&[&locked, &good]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!("error: {locked}: ")),
        "{}",
        run.stderr
    );
    assert_eq!(member_count(&run.report), 1);
}

/// A project holding the `documented` overlay fixture, and a saved report asking for indexes.
fn schema_project() -> (tempfile::TempDir, std::path::PathBuf, String) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = common::root().join("tests/fixtures/schema/documented");
    for name in ["schema.ts", "generatedSchema.ts"] {
        std::fs::copy(fixture.join(name), dir.join(name)).unwrap();
    }
    let report = common::root()
        .join("tests/fixtures/schema/report.json")
        .display()
        .to_string();
    (tmp, dir, report)
}

fn apply(project: &std::path::Path, report: &str) -> (i32, String) {
    let out = bin()
        .current_dir(project)
        .args(["apply", "--from-report", report])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap(), stderr)
}

#[cfg(unix)]
#[test]
fn a_read_only_schema_is_refused_and_left_unchanged() {
    use std::os::unix::fs::PermissionsExt;
    let (tmp, dir, report) = schema_project();
    let path = dir.join("schema.ts");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = std::fs::read(&path).unwrap();
    let (code, stderr) = apply(tmp.path(), &report);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("schema.ts is read-only; nothing was written"),
        "{stderr}"
    );
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o444);
    assert_no_temp_files(&dir);
}

/// `chattr +i`: even root cannot replace the file. Needs root and a file system with
/// attributes; elsewhere the test says why it did nothing.
#[cfg(target_os = "linux")]
#[test]
fn an_immutable_schema_fails_to_write_and_is_left_unchanged() {
    struct Mutable<'a>(&'a std::path::Path);
    impl Drop for Mutable<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(self.0)
                .status();
        }
    }
    let (tmp, dir, report) = schema_project();
    let path = dir.join("schema.ts");
    let made_immutable = std::process::Command::new("chattr")
        .arg("+i")
        .arg(&path)
        .output()
        .is_ok_and(|o| o.status.success());
    if !made_immutable {
        eprintln!("skipped: `chattr +i` is unavailable here (needs root and ext4/xfs/btrfs)");
        return;
    }
    let _undo = Mutable(&path);
    let before = std::fs::read(&path).unwrap();
    let (code, stderr) = apply(tmp.path(), &report);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("schema.ts: cannot write: "), "{stderr}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_no_temp_files(&dir);
}

fn assert_no_temp_files(dir: &std::path::Path) {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["generatedSchema.ts", "schema.ts"]);
}

/// An error is printed once, with one `error:` prefix: the missing report's OS error is not
/// repeated after the message that already names it, and a `--schema-dir` without a schema is
/// an `error:` like any other.
#[test]
fn errors_are_printed_once_with_one_prefix() {
    let (tmp, _dir, _report) = schema_project();
    let (code, stderr) = apply(tmp.path(), "nope.json");
    assert_eq!(code, 2, "{stderr}");
    let os_error = std::io::Error::from(std::io::ErrorKind::NotFound).to_string();
    let os_error = std::fs::read("nope-at-all.json")
        .err()
        .map_or(os_error, |e| e.to_string());
    assert_eq!(stderr.matches(os_error.as_str()).count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: nope.json"), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");

    let out = bin()
        .current_dir(tmp.path())
        .args(["doctor", "--schema-dir", "no/such/folder"])
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
}

//! A log's encoding as written to a file: UTF-16 when its byte-order mark and its bytes agree
//! (what Windows PowerShell 5's `>` writes), UTF-8 otherwise, whatever mark it starts with.

use crate::common::{bin, json, root, suggestions};
use std::io::Write;
use std::path::Path;

/// `report FILE --format json`: the exit code, the report and stderr.
fn report(file: &Path) -> (i32, serde_json::Value, String) {
    let out = bin()
        .args(["report", "--format", "json"])
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().expect("an exit code, not a signal"),
        json(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn sample(name: &str) -> String {
    std::fs::read_to_string(root().join("sample-logs").join(name)).unwrap()
}

/// What Windows PowerShell 5's `npx convex logs > logs.txt` leaves: UTF-16LE ("Unicode") with
/// its byte-order mark and CRLF line ends.
fn powershell_utf16le(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    for unit in text.replace('\n', "\r\n").encode_utf16() {
        bytes.extend(unit.to_le_bytes());
    }
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn a_utf16le_file_with_its_mark_reads_like_the_utf8_original() {
    let dir = tempfile::tempdir().unwrap();
    let (_, want, _) = report(&root().join("sample-logs/convex-logs.txt"));
    let text = sample("convex-logs.txt");
    let plain = write(dir.path(), "logs.txt", &powershell_utf16le(&text));
    // Gzip hands the decoder a few bytes at a time: the sample is gathered, not one read.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&powershell_utf16le(&text)).unwrap();
    let zipped = write(dir.path(), "logs.txt.gz", &gz.finish().unwrap());
    for file in [plain, zipped] {
        let (code, got, stderr) = report(&file);
        assert_eq!(code, 0, "{}: {stderr}", file.display());
        assert_eq!(suggestions(&got), suggestions(&want), "{}", file.display());
        assert!(!suggestions(&got).is_empty());
    }
}

#[test]
fn a_utf16_mark_before_utf8_text_is_read_as_utf8_with_the_usual_notice() {
    let dir = tempfile::tempdir().unwrap();
    for sample_name in ["convex-logs.txt", "convex-logs.jsonl"] {
        let (_, want, _) = report(&root().join("sample-logs").join(sample_name));
        for mark in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let mut bytes = mark.to_vec();
            bytes.extend_from_slice(sample(sample_name).as_bytes());
            let file = write(dir.path(), sample_name, &bytes);
            let (code, got, stderr) = report(&file);
            assert_eq!(
                suggestions(&got),
                suggestions(&want),
                "{sample_name} after {mark:x?}"
            );
            // The mark's bytes are not UTF-8: reported as any invalid bytes are, and reading
            // went on (exit 2, as for every input problem).
            assert_eq!(code, 2, "{stderr}");
            assert!(
                stderr.contains(&format!("{}:1: invalid UTF-8", file.display())),
                "{stderr}"
            );
        }
    }
}

#[test]
fn a_utf8_mark_is_no_input_problem() {
    let dir = tempfile::tempdir().unwrap();
    for sample_name in ["convex-logs.txt", "convex-logs.jsonl"] {
        let (_, want, _) = report(&root().join("sample-logs").join(sample_name));
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(sample(sample_name).as_bytes());
        let (code, got, stderr) = report(&write(dir.path(), sample_name, &bytes));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(suggestions(&got), suggestions(&want), "{sample_name}");
    }
}

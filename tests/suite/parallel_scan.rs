//! A large file read in parts on several threads gives exactly the report of one pass: the
//! same suggestions, counts, executions, callers, first/last seen, samples (line numbers
//! included), suspects, problems and stats. The logs are runs of real lines from
//! `sample-logs/` (CLI records with continuation lines, raw multi-line dashboard and pasted
//! warnings, `--jsonl`, log-stream and webhook JSONL), cut at random line and byte offsets, with
//! CLI warnings from many callers; the library's part and block sizes are forced down to a
//! few bytes, so part edges fall inside records of every kind.

use ba_index_advisor::config::Config;
use ba_index_advisor::engine::{Engine, EngineFlags, EngineSettings, SchemaNeed};
use ba_index_advisor::ingest::{self, Input, Parallelism};
use proptest::prelude::*;
use proptest::test_runner::{Config as RunnerConfig, TestRunner};
use std::path::{Path, PathBuf};

const TEXT_SAMPLES: &[&str] = &[
    "convex-logs.txt",
    "dashboard-copy.txt",
    "bare-warning.txt",
    "client-echo.log",
    "convex-dev-de-colour.log",
    "legacy-0.9-ja.log",
];
const JSONL_SAMPLES: &[&str] = &[
    "convex-logs.jsonl",
    "log-stream-v1.jsonl",
    "webhook-v2.jsonl",
    "datadog.jsonl",
];

fn sample_lines(name: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-logs")
        .join(name);
    let bytes = std::fs::read(path).unwrap();
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

/// One piece of a generated log.
#[derive(Debug, Clone)]
enum Piece {
    /// `len` consecutive lines of a sample, from line `from` (both wrap around).
    Run {
        jsonl: bool,
        sample: usize,
        from: usize,
        len: usize,
    },
    /// The CLI's one-line warning, from one of many callers.
    CliWarning {
        caller: usize,
        table: usize,
    },
    /// Bytes that are not UTF-8, on a line of their own.
    InvalidUtf8,
    Blank,
}

fn piece(jsonl: bool) -> impl Strategy<Value = Piece> {
    let samples = if jsonl {
        JSONL_SAMPLES.len()
    } else {
        TEXT_SAMPLES.len()
    };
    prop_oneof![
        6 => (0..samples, 0..200usize, 1..12usize).prop_map(move |(sample, from, len)| Piece::Run { jsonl, sample, from, len }),
        // A text run inside a JSONL input, and the other way round.
        1 => (0..TEXT_SAMPLES.len(), 0..200usize, 1..6usize).prop_map(|(sample, from, len)| Piece::Run { jsonl: false, sample, from, len }),
        1 => (0..JSONL_SAMPLES.len(), 0..200usize, 1..4usize).prop_map(|(sample, from, len)| Piece::Run { jsonl: true, sample, from, len }),
        3 => (0..26usize, 0..4usize).prop_map(|(caller, table)| Piece::CliWarning { caller, table }),
        1 => Just(Piece::InvalidUtf8),
        1 => Just(Piece::Blank),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    pieces: Vec<Piece>,
    /// Cut the last line short (no final newline).
    unterminated: bool,
    threads: usize,
    min_part_bytes: u64,
    block_bytes: usize,
}

fn case() -> impl Strategy<Value = Case> {
    any::<bool>().prop_flat_map(|jsonl| {
        (
            proptest::collection::vec(piece(jsonl), 1..40),
            any::<bool>(),
            2..7usize,
            1..400u64,
            1..600usize,
        )
            .prop_map(
                move |(pieces, unterminated, threads, min_part_bytes, block_bytes)| Case {
                    pieces,
                    unterminated,
                    threads,
                    min_part_bytes,
                    block_bytes,
                },
            )
    })
}

const TABLES: &[(&str, &str)] = &[
    ("member", "organizationId, userId"),
    ("session", "userId, _expiresAt"),
    ("invitation", "email, organizationId, status"),
    ("user", "_id"),
];

fn log(case: &Case, text: &[Vec<Vec<u8>>], jsonl: &[Vec<Vec<u8>>]) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in &case.pieces {
        match piece {
            Piece::Run {
                jsonl: json,
                sample,
                from,
                len,
            } => {
                let lines = if *json {
                    &jsonl[*sample]
                } else {
                    &text[*sample]
                };
                for i in 0..*len {
                    let line = &lines[(from + i) % lines.len()];
                    out.extend_from_slice(line);
                    if !line.ends_with(b"\n") {
                        out.push(b'\n');
                    }
                }
            }
            Piece::CliWarning { caller, table } => {
                let (table, fields) = TABLES[*table];
                out.extend_from_slice(
                    format!(
                        "1/15/2026, 2:{caller:02}:08 PM [CONVEX Q(module{caller}:query)] [WARN] \
                         'Querying without an index on table \"{table}\".\\nThis can cause \
                         performance issues, and may hit the document read limit.\\nTo fix, add \
                         an index that begins with the following fields in order:\\n[{fields}]'\n"
                    )
                    .as_bytes(),
                );
            }
            Piece::InvalidUtf8 => out.extend_from_slice(b"bad \xff\xfe bytes\n"),
            Piece::Blank => out.extend_from_slice(b"\r\n"),
        }
    }
    if case.unterminated && out.ends_with(b"\n") {
        out.pop();
    }
    out
}

fn engine(dir: &Path) -> Engine {
    let settings =
        EngineSettings::resolve(&Config::default(), EngineFlags::default(), dir.to_owned());
    Engine::open(settings, SchemaNeed::Optional).unwrap()
}

/// The whole report document, as JSON.
fn report(engine: &Engine, paths: &[PathBuf]) -> serde_json::Value {
    serde_json::to_value(engine.conclude(&engine.read(paths))).unwrap()
}

/// How many parts the file is read in.
fn parts(engine: &Engine, path: &Path, parallelism: Parallelism) -> usize {
    ingest::scan_split(
        &Input::File(path.to_owned()),
        &engine.matcher(),
        parallelism,
        &|| (),
        &|_, _| {},
    )
    .map_or(1, |split| split.parts.len())
}

/// The case's log written as two inputs (the second is the first's second half), read by the
/// parallel engine and by the one-pass engine: both reports, and whether the first was split.
fn both_reports(
    case: &Case,
    dir: &Path,
    one_pass: &Engine,
    parallel: &mut Engine,
) -> (serde_json::Value, serde_json::Value, bool) {
    let parallelism = Parallelism {
        threads: case.threads,
        min_part_bytes: case.min_part_bytes,
        block_bytes: case.block_bytes,
    };
    parallel.set_parallelism(parallelism);
    let text: Vec<_> = TEXT_SAMPLES.iter().map(|s| sample_lines(s)).collect();
    let jsonl: Vec<_> = JSONL_SAMPLES.iter().map(|s| sample_lines(s)).collect();
    let first = dir.join("first.log");
    let second = dir.join("second.log");
    let bytes = log(case, &text, &jsonl);
    std::fs::write(&first, &bytes).unwrap();
    // A second input after the first: its parts merge after the first file's.
    std::fs::write(&second, &bytes[bytes.len() / 2..]).unwrap();
    let paths = [first.clone(), second];
    let expected = report(one_pass, &paths);
    let split = parts(parallel, &first, parallelism) > 1;
    (report(parallel, &paths), expected, split)
}

/// Found by the property below: the part before a warning without a header held no header line
/// of its own, so the header in force came from a part further back.
#[test]
fn a_header_several_parts_back_reaches_a_warning_without_one() {
    let run = |sample, from, len| Piece::Run {
        jsonl: false,
        sample,
        from,
        len,
    };
    let case = Case {
        pieces: vec![
            Piece::CliWarning {
                caller: 0,
                table: 0,
            },
            run(2, 0, 1),
            run(1, 0, 3),
            Piece::Run {
                jsonl: true,
                sample: 1,
                from: 45,
                len: 1,
            },
            run(0, 24, 3),
            run(4, 58, 2),
            run(2, 85, 3),
            run(1, 135, 1),
            run(2, 84, 4),
            run(0, 13, 2),
            run(0, 29, 6),
        ],
        unterminated: false,
        threads: 5,
        min_part_bytes: 1,
        block_bytes: 1,
    };
    let dir = tempfile::tempdir().unwrap();
    let mut one_pass = engine(dir.path());
    one_pass.set_threads(1);
    let mut parallel = engine(dir.path());
    let (got, expected, split) = both_reports(&case, dir.path(), &one_pass, &mut parallel);
    assert!(split);
    assert_eq!(got, expected);
    let apikey = got["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["table"] == "apikey")
        .unwrap();
    assert_eq!(apikey["first_seen"]["timestamp"], "15.1.2026, 15:03:17");
}

#[test]
fn parts_read_in_parallel_give_the_one_pass_report() {
    let dir = tempfile::tempdir().unwrap();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(RunnerConfig {
        cases,
        ..RunnerConfig::default()
    });
    let mut one_pass = engine(dir.path());
    one_pass.set_threads(1);
    let parallel = std::cell::RefCell::new(engine(dir.path()));
    let split_cases = std::cell::Cell::new(0u32);
    let all_cases = std::cell::Cell::new(0u32);
    runner
        .run(&case(), |case| {
            let (got, expected, split) =
                both_reports(&case, dir.path(), &one_pass, &mut parallel.borrow_mut());
            all_cases.set(all_cases.get() + 1);
            if split {
                split_cases.set(split_cases.get() + 1);
            }
            prop_assert_eq!(got, expected);
            Ok(())
        })
        .unwrap();
    let (split_cases, all_cases) = (split_cases.get(), all_cases.get());
    assert!(
        split_cases * 2 >= all_cases,
        "only {split_cases} of {all_cases} inputs were split: the property says little"
    );
}

/// A raw multi-line warning (a dashboard copy) and a CLI record with continuation lines,
/// repeated, with part edges forced into every line of them in turn.
#[test]
fn every_edge_inside_a_multi_line_record() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dashboard.txt");
    let dashboard =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/dashboard-copy.txt"))
            .unwrap();
    let cli =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs/convex-logs.txt"))
            .unwrap();
    let mut bytes = Vec::new();
    for _ in 0..3 {
        bytes.extend_from_slice(&dashboard);
        bytes.extend_from_slice(&cli);
    }
    std::fs::write(&path, &bytes).unwrap();
    let paths = [path.clone()];
    let mut one_pass = engine(dir.path());
    one_pass.set_threads(1);
    let expected = report(&one_pass, &paths);
    assert!(
        expected["suggestions"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "the samples have suggestions"
    );
    let mut split_at_least_once = false;
    let mut parallel = engine(dir.path());
    for part in (97..bytes.len() as u64 / 2).step_by(89) {
        let parallelism = Parallelism {
            threads: 8,
            min_part_bytes: part,
            block_bytes: 61,
        };
        parallel.set_parallelism(parallelism);
        split_at_least_once |= parts(&parallel, &path, parallelism) > 1;
        assert_eq!(report(&parallel, &paths), expected, "parts of {part} bytes");
    }
    assert!(split_at_least_once);
}

/// Small inputs (every sample log: text, JSONL, gzip, a JSON document) are read side by side,
/// one per thread, and merged in input order: the report is the one-thread report.
#[test]
fn inputs_read_side_by_side_give_the_one_thread_report() {
    let dir = tempfile::tempdir().unwrap();
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let paths = [samples.clone(), samples.join("convex-logs.txt"), samples];
    let mut one_thread = engine(dir.path());
    one_thread.set_threads(1);
    let expected = report(&one_thread, &paths);
    assert!(expected["stats"]["inputs"].as_u64().is_some_and(|n| n > 10));
    for threads in [2, 3, 8] {
        let mut side_by_side = engine(dir.path());
        side_by_side.set_threads(threads);
        assert_eq!(report(&side_by_side, &paths), expected, "{threads} threads");
    }
}

/// What a user runs: `report --threads 3` on a file large enough to split (real CLI and
/// dashboard lines, over 8 MiB) prints the `--threads 1` document; `--threads 0` is refused.
#[test]
fn the_binary_gives_the_same_document_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-logs");
    let mut round = std::fs::read(samples.join("convex-logs.txt")).unwrap();
    round.extend(std::fs::read(samples.join("dashboard-copy.txt")).unwrap());
    let mut bytes = Vec::new();
    while bytes.len() < 9 * 1024 * 1024 {
        bytes.extend_from_slice(&round);
    }
    std::fs::write(&path, &bytes).unwrap();
    let run = |threads: &str| {
        let out = crate::common::bin()
            .current_dir(dir.path())
            .env("RUST_LOG", "ba_index_advisor=debug")
            .args([
                "report",
                "big.log",
                "--format",
                "json",
                "--threads",
                threads,
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        (out.stdout, stderr.contains("big.log read in 2 part(s)"))
    };
    let (one, split) = run("1");
    assert!(!split);
    let report: serde_json::Value = serde_json::from_slice(&one).unwrap();
    assert!(
        report["suggestions"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    let (three, split) = run("3");
    assert!(split, "a 9 MiB file is read in two parts of at least 4 MiB");
    assert_eq!(
        String::from_utf8(three).unwrap(),
        String::from_utf8(one).unwrap()
    );
    crate::common::bin()
        .current_dir(dir.path())
        .args(["report", "big.log", "--threads", "0"])
        .assert()
        .code(2);
}

/// A file of 64 MiB or more read in parts shows one progress bar, advanced by every part, when
/// stderr is a terminal, and none on a pipe.
#[test]
fn a_split_file_shows_its_progress_on_a_terminal_only() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.log");
    let round = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-logs")
            .join("convex-logs.txt"),
    )
    .unwrap();
    let mut bytes = Vec::with_capacity(66 * 1024 * 1024);
    while bytes.len() < 65 * 1024 * 1024 {
        bytes.extend_from_slice(&round);
    }
    std::fs::write(&path, &bytes).unwrap();
    drop(bytes);
    let args = ["report", "big.log", "--format", "json", "--threads", "2"];

    let piped = crate::common::bin()
        .current_dir(dir.path())
        .env("RUST_LOG", "ba_index_advisor=debug")
        .args(args)
        .output()
        .unwrap();
    let piped_stderr = String::from_utf8_lossy(&piped.stderr);
    assert!(piped.status.success(), "{piped_stderr}");
    assert!(piped_stderr.contains("big.log read in 2 part(s)"));
    assert!(
        !piped_stderr.contains("MiB"),
        "no bar on a pipe: {piped_stderr}"
    );

    let (status, output) = crate::common::run_in_pty(&args, |cmd| {
        cmd.cwd(dir.path());
        cmd.env("RUST_LOG", "ba_index_advisor=debug");
    });
    assert!(status.success(), "{status:?}: {output}");
    assert!(output.contains("big.log read in 2 part(s)"), "{output}");
    assert!(
        output.contains("/65.0"),
        "a bar over the whole file: {output}"
    );
    assert!(output.contains("eta"), "{output}");
}

/// A file truncated while it is read (a log rotated with `copytruncate`) ends the command with a
/// clear message and exit code 2, never a crash by SIGBUS: the file is read through a memory
/// map. Whenever the truncation lands (before the read, during it, after it), the command exits
/// by itself and says what happened.
#[test]
fn a_file_truncated_while_it_is_read_is_a_clear_error() {
    use std::os::unix::process::ExitStatusExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rotating.log");
    let line =
        b"1/15/2026, 2:03:19 PM [CONVEX Q(messages:list)] [LOG] 'Listing messages' { count: 3 }\n";
    let mut bytes = Vec::with_capacity(64 << 20);
    while bytes.len() < 64 << 20 {
        bytes.extend_from_slice(line);
    }
    let mut outcomes = Vec::new();
    for delay_ms in [40, 120, 300] {
        std::fs::write(&path, &bytes).unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_ba-index-advisor"))
            .args(["report", "--threads", "1", "--format", "json"])
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.signal(), None, "killed by a signal: {stderr}");
        match out.status.code() {
            Some(0) => outcomes.push("read before the truncation"),
            Some(2) if stderr.contains("an input file shrank while it was being read") => {
                assert!(out.stdout.is_empty(), "a partial report was printed");
                outcomes.push("truncated during the read");
            }
            Some(2) if stderr.contains("empty input") => outcomes.push("truncated before"),
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
    eprintln!("outcomes: {outcomes:?}");
}

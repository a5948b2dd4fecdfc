//! Never an all-clear from data that was not read: every gate front-end (`report`, `apply
//! --check`, `pr`, `doctor --check` with logs, piped `watch`) × every coverage gap (a missing file, an unreadable file, a
//! binary file, a file with no Convex output, an empty pipe). Under a gate each exits 2 and names
//! the gap; `--allow-partial` exits as the plan says and says how much was missing; without a
//! gate the warning is printed (and an input that could not be read at all is still exit 2).

use crate::common::bin;
use std::path::{Path, PathBuf};

/// A warning the fixture schema serves no index for: the plan has work.
const WARNING: &str = r#"1/15/2026, 2:03:08 PM [CONVEX Q(sessions:get)] [WARN] 'Querying without an index on table "session".\nThis can cause performance issues, and may hit the document read limit.\nTo fix, add an index that begins with the following fields in order:\n[userId, token]'"#;

#[derive(Clone, Copy, Debug)]
enum Gap {
    Missing,
    Unreadable,
    Binary,
    NotConvex,
    EmptyStdin,
}

impl Gap {
    /// What the gap line names, and whether it is an input that could not be read at all.
    fn named(self) -> (&'static str, bool) {
        match self {
            Gap::Missing => ("nope.log: missing", true),
            Gap::Unreadable => ("unreadable", true),
            Gap::Binary => (": binary data, not a log", true),
            Gap::NotConvex => (": not Convex log output", false),
            Gap::EmptyStdin => ("<stdin>: empty", false),
        }
    }
}

const GAPS: [Gap; 5] = [
    Gap::Missing,
    Gap::Unreadable,
    Gap::Binary,
    Gap::NotConvex,
    Gap::EmptyStdin,
];

#[derive(Clone, Copy, Debug)]
enum Front {
    Report,
    ApplyCheck,
    Pr,
    Doctor,
    Watch,
}

struct Project {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

fn project() -> Project {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().to_path_buf();
    let dir = root.join("convex/betterAuth");
    std::fs::create_dir_all(&dir).unwrap();
    let fixture = crate::common::root().join("tests/fixtures/schema/documented");
    for name in ["schema.ts", "generatedSchema.ts"] {
        std::fs::copy(fixture.join(name), dir.join(name)).unwrap();
    }
    std::fs::write(root.join("good.log"), format!("{WARNING}\n")).unwrap();
    std::fs::write(root.join("plain.log"), "hello\nworld\n").unwrap();
    std::fs::write(root.join("garbage.log"), b"\x89PNG\0\0\0\r\xff\xfe").unwrap();
    Project { _tmp: tmp, root }
}

/// The input that has `gap`, as a path argument, and the bytes for stdin. `None` when the
/// front-end cannot be given it (`watch` reads only a pipe).
fn input(front: Front, gap: Gap, root: &Path) -> Option<(Vec<String>, Vec<u8>)> {
    let stdin_of = |name: &str| std::fs::read(root.join(name)).unwrap();
    if let Front::Watch = front {
        return match gap {
            Gap::Binary => Some((vec![], stdin_of("garbage.log"))),
            Gap::NotConvex => Some((vec![], stdin_of("plain.log"))),
            Gap::EmptyStdin => Some((vec![], Vec::new())),
            Gap::Missing | Gap::Unreadable => None,
        };
    }
    let path = match gap {
        Gap::Missing => "nope.log".to_owned(),
        // Opens, then every read fails (EIO): root can read a mode-000 file, this it cannot.
        Gap::Unreadable => "/proc/self/mem".to_owned(),
        Gap::Binary => "garbage.log".to_owned(),
        Gap::NotConvex => "plain.log".to_owned(),
        Gap::EmptyStdin => "-".to_owned(),
    };
    Some((vec!["good.log".to_owned(), path], Vec::new()))
}

struct Outcome {
    code: i32,
    stderr: String,
}

fn run(front: Front, gate: bool, allow: bool, root: &Path, gap: Gap) -> Option<Outcome> {
    let (paths, stdin) = input(front, gap, root)?;
    let mut cmd = bin();
    cmd.current_dir(root).env_remove("GITHUB_EVENT_PATH");
    match front {
        Front::Report => {
            cmd.arg("report").args(&paths);
            if gate {
                cmd.arg("--fail-on-suggestions");
            }
        }
        Front::ApplyCheck => {
            cmd.arg("apply").args(&paths);
            cmd.arg(if gate { "--check" } else { "--dry-run" });
        }
        Front::Pr => {
            cmd.arg("pr").args(&paths).arg("--dry-run");
            if gate {
                cmd.arg("--fail-on-suggestions");
            }
        }
        Front::Doctor => {
            cmd.arg("doctor").args(&paths);
            if gate {
                cmd.arg("--check");
            }
        }
        Front::Watch => {
            cmd.args(["watch", "-"]);
            if gate {
                cmd.arg("--fail-on-suggestions");
            }
        }
    }
    if allow {
        cmd.arg("--allow-partial");
    }
    let out = cmd.write_stdin(stdin).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    Some(Outcome {
        code: out.status.code().unwrap(),
        stderr,
    })
}

const FRONTS: [Front; 5] = [
    Front::Report,
    Front::ApplyCheck,
    Front::Pr,
    Front::Doctor,
    Front::Watch,
];

#[test]
fn every_gate_exits_2_and_names_the_gap() {
    let project = project();
    for front in FRONTS {
        for gap in GAPS {
            let Some(run) = run(front, true, false, &project.root, gap) else {
                continue;
            };
            let (named, _) = gap.named();
            assert_eq!(run.code, 2, "{front:?} × {gap:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("not everything asked for was read")
                    || run.stderr.contains("could not be read"),
                "{front:?} × {gap:?}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains(named),
                "{front:?} × {gap:?}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn allow_partial_exits_as_the_plan_says_and_says_what_was_missing() {
    let project = project();
    for front in FRONTS {
        for gap in GAPS {
            let Some(run) = run(front, true, true, &project.root, gap) else {
                continue;
            };
            let (named, _) = gap.named();
            // `watch` read only the gap: no plan. The others also read good.log, whose
            // warning the schema does not serve.
            let plan_exit = if matches!(front, Front::Watch) { 0 } else { 1 };
            assert_eq!(run.code, plan_exit, "{front:?} × {gap:?}: {}", run.stderr);
            assert!(
                run.stderr.contains("warning: --allow-partial") && run.stderr.contains(named),
                "{front:?} × {gap:?}: {}",
                run.stderr
            );
            assert!(
                run.stderr.contains("1 of 2 input(s) read in full")
                    || run.stderr.contains("0 of 1 input(s) read in full"),
                "{front:?} × {gap:?}: {}",
                run.stderr
            );
        }
    }
}

#[test]
fn without_a_gate_the_gap_is_a_warning() {
    let project = project();
    for front in [Front::Report, Front::ApplyCheck, Front::Pr, Front::Doctor] {
        for gap in GAPS {
            let Some(run) = run(front, false, false, &project.root, gap) else {
                continue;
            };
            let (named, unreadable) = gap.named();
            assert!(
                run.stderr.contains(named),
                "{front:?} × {gap:?}: {}",
                run.stderr
            );
            // An input that could not be read at all is an input error whatever the gate;
            // `pr` posts nothing then.
            let expected = if unreadable { 2 } else { 0 };
            assert_eq!(run.code, expected, "{front:?} × {gap:?}: {}", run.stderr);
        }
    }
}

#[test]
fn the_report_document_records_each_input_and_its_state() {
    let project = project();
    let out = bin()
        .current_dir(&project.root)
        .args(["report", "good.log", "nope.log", "garbage.log", "plain.log"])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = crate::common::json(&out.stdout);
    assert_eq!(report["version"], 2);
    let coverage = &report["coverage"];
    assert_eq!(coverage["complete"], false);
    let states: Vec<(&str, &str)> = coverage["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["state"].as_str().unwrap()))
        .collect();
    assert_eq!(
        states,
        [
            ("nope.log", "missing"),
            ("good.log", "read"),
            ("garbage.log", "binary"),
            ("plain.log", "not_convex"),
        ]
    );
    let table = bin()
        .current_dir(&project.root)
        .args(["report", "good.log", "plain.log"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&table.stdout);
    assert!(
        stdout.contains("Coverage: INCOMPLETE: 1 of 2 input(s) read in full")
            && stdout.contains("not read: plain.log: not Convex log output"),
        "{stdout}"
    );
    let markdown = bin()
        .current_dir(&project.root)
        .args(["report", "good.log", "plain.log", "--format", "markdown"])
        .output()
        .unwrap();
    let markdown = String::from_utf8_lossy(&markdown.stdout);
    assert!(
        markdown.contains("> [!WARNING]") && markdown.contains("> - plain.log: not Convex"),
        "{markdown}"
    );
}

#[test]
fn a_markdown_report_lists_twenty_gaps_and_counts_the_rest() {
    let project = project();
    let missing: Vec<String> = (0..25).map(|i| format!("missing-{i:02}.log")).collect();
    let out = bin()
        .current_dir(&project.root)
        .arg("report")
        .arg("good.log")
        .args(&missing)
        .args(["--format", "markdown"])
        .output()
        .unwrap();
    let markdown = String::from_utf8_lossy(&out.stdout);
    assert!(
        markdown.contains("> - missing-19.log: missing"),
        "{markdown}"
    );
    assert!(!markdown.contains("> - missing-20.log"), "{markdown}");
    assert!(markdown.contains("> - … and 5 more"), "{markdown}");
    // stderr still names every gap.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not read: missing-24.log: missing"),
        "{stderr}"
    );
}

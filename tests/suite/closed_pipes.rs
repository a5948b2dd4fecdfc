//! A reader that stops reading (`| head`, a supervisor gone) closes the binary's stdout or
//! stderr: the binary must end without a panic (exit 101) or a signal, however early the pipe
//! closes. Each command runs many times, closing at different points, since where a write
//! meets the closed pipe depends on timing.

use crate::common::root;
use std::io::{Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

/// How many times each command runs.
const RUNS: usize = 50;

#[derive(Debug, Clone, Copy)]
enum Close {
    /// Read `n` bytes of stdout, then close it; stderr is read to the end.
    Stdout(usize),
    /// Close stderr at once; stdout is read to the end.
    Stderr,
    /// Close stderr at once, read `n` bytes of stdout, then close it.
    Both(usize),
}

impl Close {
    /// Run `i`'s choice: every way of closing, after 0 to a few thousand bytes.
    fn nth(i: usize) -> Self {
        let bytes = [0, 1, 16, 200, 4096][(i / 3) % 5];
        match i % 3 {
            0 => Close::Stdout(bytes),
            1 => Close::Stderr,
            _ => Close::Both(bytes),
        }
    }
}

/// Runs the binary with `args` in the repository root, feeding `stdin`, closing as `close`
/// says; panics if it died of a panic or a signal.
fn run_closing(args: &[&str], stdin: Option<&[u8]>, close: Close) {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("ba-index-advisor"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let feeder = stdin.map(|bytes| {
        let mut pipe = child.stdin.take().unwrap();
        let bytes = bytes.to_vec();
        // The binary may stop reading before the end once its stdout is gone.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&bytes);
        })
    });
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let read_some = |pipe: &mut std::process::ChildStdout, n: usize| {
        let mut buf = vec![0u8; n];
        let mut got = 0;
        while got < n {
            match pipe.read(&mut buf[got..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => got += k,
            }
        }
    };
    let mut errors = String::new();
    match close {
        Close::Stdout(n) => {
            read_some(&mut stdout, n);
            drop(stdout);
            stderr.read_to_string(&mut errors).unwrap();
        }
        Close::Stderr => {
            drop(stderr);
            std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
        }
        Close::Both(n) => {
            drop(stderr);
            read_some(&mut stdout, n);
            drop(stdout);
        }
    }
    let status = child.wait().unwrap();
    if let Some(feeder) = feeder {
        feeder.join().unwrap();
    }
    assert_eq!(
        status.signal(),
        None,
        "{args:?} with {close:?}: killed by a signal"
    );
    assert_ne!(
        status.code(),
        Some(101),
        "{args:?} with {close:?}: panicked\n{errors}"
    );
    assert!(
        !errors.contains("panicked"),
        "{args:?} with {close:?}: {errors}"
    );
}

fn many(args: &[&str], stdin: Option<&[u8]>) {
    for i in 0..RUNS {
        run_closing(args, stdin, Close::nth(i));
    }
}

#[test]
fn report_table_survives_closed_pipes() {
    many(&["report", "sample-logs/"], None);
}

#[test]
fn report_json_survives_closed_pipes() {
    many(&["report", "sample-logs/", "--format", "json"], None);
}

/// An input that cannot be read makes `report` write to stderr after stdout.
#[test]
fn report_errors_survive_closed_pipes() {
    many(&["report", "sample-logs/", "sample-logs/no-such.log"], None);
}

/// `watch -` on piped logs, with an invalid line so that it also writes a notice to stderr.
#[test]
fn watch_lines_from_stdin_survive_closed_pipes() {
    let mut logs = std::fs::read(root().join("sample-logs/convex-logs.txt")).unwrap();
    logs.extend_from_slice(b"garbage \xff\xfe bytes\n");
    many(&["watch", "-", "--format", "lines"], Some(&logs));
}

//! The log-command supervisor, with real child processes run by `sh -c`.

use ba_index_advisor::ingest::child::{Backoff, ChildError, LogCommand, supervise};
use ba_index_advisor::ingest::live::{Event, ExitReason, Notice, Stream};
use std::path::Path;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(15);

struct Supervised {
    rx: mpsc::Receiver<Event>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), ChildError>>,
}

fn start(script: &str, backoff: Backoff) -> Supervised {
    let (tx, rx) = mpsc::channel(64);
    let cancel = CancellationToken::new();
    let command = LogCommand::shell(script, std::env::temp_dir());
    let task = tokio::spawn(supervise(command, backoff, 1 << 20, tx, cancel.clone()));
    Supervised { rx, cancel, task }
}

impl Supervised {
    async fn next(&mut self) -> Event {
        tokio::time::timeout(WAIT, self.rx.recv())
            .await
            .expect("timed out")
            .expect("supervisor ended")
    }

    async fn stop(self) -> Result<(), ChildError> {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("supervisor did not stop")
            .expect("supervisor panicked")
    }
}

fn fast_backoff() -> Backoff {
    Backoff {
        initial: Duration::from_millis(20),
        max: Duration::from_millis(80),
        healthy_after: Duration::from_secs(60),
    }
}

/// Dead or a zombie waiting for a reaper: either way no longer running.
fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

async fn wait_not_running(pid: u32) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while is_running(pid) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "pid {pid} still running"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn streams_stdout_and_stderr_lines() {
    let mut s = start(
        "printf 'out1\\nout2\\n'; printf 'err1\\n' >&2; exec sleep 60",
        fast_backoff(),
    );
    let mut lines = Vec::new();
    while lines.len() < 3 {
        if let Event::Line { stream, line } = s.next().await {
            lines.push((stream, line.text_lossy().into_owned()));
        }
    }
    lines.sort_by_key(|(s, l)| (s.name(), l.clone()));
    assert_eq!(
        lines,
        vec![
            (Stream::ChildStderr, "err1".into()),
            (Stream::ChildStdout, "out1".into()),
            (Stream::ChildStdout, "out2".into()),
        ]
    );
    s.stop().await.expect("clean stop");
}

#[tokio::test]
async fn restarts_with_doubling_backoff_and_says_why() {
    let mut s = start("echo 'boom' >&2; exit 3", fast_backoff());
    let mut delays = Vec::new();
    let mut exits = Vec::new();
    while delays.len() < 4 {
        match s.next().await {
            Event::Notice(Notice::ChildRestarting { delay }) => delays.push(delay.as_millis()),
            Event::Notice(Notice::ChildExited {
                reason,
                stderr_tail,
                ..
            }) => exits.push((reason, stderr_tail)),
            _ => {}
        }
    }
    assert_eq!(delays, vec![20, 40, 80, 80]);
    assert_eq!(exits[0], (ExitReason::Code(3), vec!["boom".to_string()]));
    s.stop().await.expect("clean stop");
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("grandchild.pid");
    let script = format!(
        "sleep 300 & echo $! > '{}'; echo ready; wait",
        pidfile.display()
    );
    let mut s = start(&script, fast_backoff());
    loop {
        if let Event::Line { line, .. } = s.next().await
            && line.bytes == b"ready"
        {
            break;
        }
    }
    let grandchild: u32 = read_pid(&pidfile);
    assert!(is_running(grandchild));
    s.stop().await.expect("clean stop");
    wait_not_running(grandchild).await;
}

#[tokio::test]
async fn a_group_that_ignores_sigterm_is_killed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pidfile = dir.path().join("grandchild.pid");
    let script = format!(
        "trap '' TERM; sh -c \"trap '' TERM; sleep 300\" & echo $! > '{}'; echo ready; wait",
        pidfile.display()
    );
    let mut s = start(&script, fast_backoff());
    loop {
        if let Event::Line { line, .. } = s.next().await
            && line.bytes == b"ready"
        {
            break;
        }
    }
    let grandchild = read_pid(&pidfile);
    s.stop().await.expect("clean stop");
    wait_not_running(grandchild).await;
}

#[tokio::test]
async fn exit_is_reported_even_if_a_grandchild_holds_the_pipe() {
    let mut s = start("sleep 300 & echo bye; exit 0", fast_backoff());
    loop {
        if let Event::Notice(Notice::ChildExited { reason, .. }) = s.next().await {
            assert_eq!(reason, ExitReason::Code(0));
            break;
        }
    }
    s.stop().await.expect("clean stop");
}

#[tokio::test]
async fn missing_program_is_a_clear_error() {
    let (tx, _rx) = mpsc::channel(8);
    let command = LogCommand {
        program: "ba-index-advisor-no-such-program".into(),
        args: vec![],
        cwd: std::env::temp_dir(),
    };
    let err = supervise(command, fast_backoff(), 1024, tx, CancellationToken::new())
        .await
        .expect_err("must fail");
    assert!(matches!(err, ChildError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("Node.js"), "{err}");
}

#[tokio::test]
async fn not_logged_in_stops_with_a_hint_and_the_cli_output() {
    let (tx, mut rx) = mpsc::channel(64);
    let command = LogCommand::shell(
        "echo '✖ You are not logged in.' >&2; exit 1",
        std::env::temp_dir(),
    );
    let drain = tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let err = tokio::time::timeout(
        WAIT,
        supervise(command, fast_backoff(), 1024, tx, CancellationToken::new()),
    )
    .await
    .expect("timed out")
    .expect_err("must fail");
    let text = err.to_string();
    assert!(text.contains("npx convex login"), "{text}");
    assert!(text.contains("You are not logged in."), "{text}");
    drain.await.expect("drain");
}

fn read_pid(path: &Path) -> u32 {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(std::time::Instant::now() < deadline, "no pid file");
        std::thread::sleep(Duration::from_millis(20));
    }
}

//! Supervises the log command (`npx convex logs --jsonl`, or the user's `--cmd`): runs it in its
//! own process group, streams stdout and stderr line by line, restarts it with backoff, says
//! why it stopped, and on cancel stops the whole group (npx starts node as a grandchild).

use super::lines::LineSplitter;
use super::live::{Event, ExitReason, Notice, Stream};
use std::collections::VecDeque;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Stderr lines kept to explain an exit.
const STDERR_TAIL: usize = 8;
/// How long the group gets between SIGTERM and SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    #[error(
        "`{program}` was not found on PATH: install Node.js 22 or newer (it provides `npx`), \
         or give the log command with --cmd"
    )]
    NotFound { program: String },
    #[error("cannot start `{command}`: {source}")]
    Spawn { command: String, source: io::Error },
    #[error("waiting for `{command}` failed: {source}")]
    Wait { command: String, source: io::Error },
    /// The command failed in a way a restart cannot fix.
    #[error("{hint}{}", render_tail("the log command", .stderr_tail))]
    NeedsSetup {
        hint: String,
        stderr_tail: Vec<String>,
    },
}

fn render_tail(who: &str, tail: &[String]) -> String {
    if tail.is_empty() {
        return String::new();
    }
    let mut s = format!("\n{who} printed:");
    for line in tail {
        s.push_str("\n    ");
        s.push_str(line);
    }
    s
}

/// Which deployment `npx convex logs` reads; passed through as the CLI's own flags.
#[derive(Debug, Clone, Default)]
pub struct Deployment {
    pub prod: bool,
    pub deployment: Option<String>,
    pub history: Option<u32>,
    pub env_file: Option<PathBuf>,
}

/// A command line and the folder it runs in.
#[derive(Debug, Clone)]
pub struct LogCommand {
    pub program: String,
    pub args: Vec<String>,
    pub cwd: PathBuf,
}

impl LogCommand {
    /// `npx convex logs --jsonl` plus the deployment flags. JSONL is the only CLI format that
    /// is locale-independent and keeps component paths.
    pub fn convex_logs(deployment: &Deployment, cwd: PathBuf) -> Self {
        Self::convex(&["logs", "--jsonl"], deployment, deployment.history, cwd)
    }

    /// `npx convex insights --json --details` for the deployment `convex logs` reads: the same
    /// selection flags (`addDeploymentSelectionOptions` in both commands), without `--history`,
    /// which only `logs` takes.
    pub fn convex_insights(deployment: &Deployment, cwd: PathBuf) -> Self {
        Self::convex(&["insights", "--json", "--details"], deployment, None, cwd)
    }

    fn convex(
        command: &[&str],
        deployment: &Deployment,
        history: Option<u32>,
        cwd: PathBuf,
    ) -> Self {
        let mut args: Vec<String> = std::iter::once("convex")
            .chain(command.iter().copied())
            .map(String::from)
            .collect();
        if deployment.prod {
            args.push("--prod".into());
        }
        if let Some(name) = &deployment.deployment {
            args.extend(["--deployment".into(), name.clone()]);
        }
        if let Some(n) = history {
            args.extend(["--history".into(), n.to_string()]);
        }
        if let Some(file) = &deployment.env_file {
            args.extend(["--env-file".into(), file.display().to_string()]);
        }
        Self {
            program: "npx".into(),
            args,
            cwd,
        }
    }

    /// The user's replacement command, run by `sh -c`.
    pub fn shell(command: &str, cwd: PathBuf) -> Self {
        Self {
            program: "sh".into(),
            args: vec!["-c".into(), command.into()],
            cwd,
        }
    }

    pub fn display(&self) -> String {
        if self.program == "sh" && self.args.len() == 2 && self.args[0] == "-c" {
            return self.args[1].clone();
        }
        std::iter::once(self.program.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Restart delays: `initial`, doubling up to `max`; back to `initial` after a run that lasted
/// `healthy_after`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub healthy_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
        }
    }
}

#[derive(Debug)]
struct BackoffState {
    policy: Backoff,
    next: Duration,
}

impl BackoffState {
    fn new(policy: Backoff) -> Self {
        Self {
            policy,
            next: policy.initial,
        }
    }

    /// The delay before the next start, given how long the last run lasted.
    fn after_run(&mut self, ran_for: Duration) -> Duration {
        if ran_for >= self.policy.healthy_after {
            self.next = self.policy.initial;
        }
        let delay = self.next;
        self.next = (self.next * 2).min(self.policy.max);
        delay
    }
}

/// Recognises the Convex CLI's set-up failures in its stderr (texts from convex 1.49's
/// `cli.bundle.cjs`) and the shell's "command not found" (exit 127).
fn diagnose(reason: &ExitReason, stderr_tail: &[String]) -> Option<String> {
    let text = stderr_tail.join("\n");
    if text.contains("You are not logged in")
        || text.contains("no access token provided")
        || text.contains("invalid access token")
    {
        return Some(
            "the Convex CLI is not logged in: run `npx convex login` (or set CONVEX_DEPLOY_KEY), \
             then start watch again"
                .into(),
        );
    }
    if text.contains("No CONVEX_DEPLOYMENT set") {
        return Some(
            "no Convex deployment is configured here: run `npx convex dev` once in the project \
             (it writes CONVEX_DEPLOYMENT to .env.local), or pass --deployment NAME or --env-file"
                .into(),
        );
    }
    if *reason == ExitReason::Code(127) {
        return Some(
            "the log command was not found (exit status 127): is Node.js 22+ installed and on \
             PATH? `npx` needs `node`"
                .into(),
        );
    }
    None
}

/// Runs `command` until `cancel` fires, restarting it with backoff. Returns an error only for
/// what a restart cannot fix: the program is missing, or the CLI needs setting up.
pub async fn supervise(
    command: LogCommand,
    backoff: Backoff,
    max_line: usize,
    tx: mpsc::Sender<Event>,
    cancel: CancellationToken,
) -> Result<(), ChildError> {
    let mut state = BackoffState::new(backoff);
    loop {
        let started = Instant::now();
        let outcome = run_once(&command, max_line, &tx, &cancel).await?;
        let Some((reason, stderr_tail)) = outcome else {
            return Ok(());
        };
        let ran_for = started.elapsed();
        let hint = diagnose(&reason, &stderr_tail);
        let exited = Notice::ChildExited {
            reason,
            ran_for,
            stderr_tail: stderr_tail.clone(),
        };
        if tx.send(Event::Notice(exited)).await.is_err() {
            return Ok(());
        }
        if let Some(hint) = hint {
            return Err(ChildError::NeedsSetup { hint, stderr_tail });
        }
        let delay = state.after_run(ran_for);
        if tx
            .send(Event::Notice(Notice::ChildRestarting { delay }))
            .await
            .is_err()
        {
            return Ok(());
        }
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// Starts `command` with both output pipes, in a process group of its own.
fn spawn(command: &LogCommand) -> Result<Child, ChildError> {
    let mut cmd = Command::new(&command.program);
    cmd.args(&command.args)
        .current_dir(&command.cwd)
        // Plain text: chalk honours FORCE_COLOR=0 (the Convex CLI ignores NO_COLOR).
        .env("FORCE_COLOR", "0")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        // Our own group: Ctrl-C in the terminal reaches only us, and we stop the whole group.
        .process_group(0);
    cmd.spawn().map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            ChildError::NotFound {
                program: command.program.clone(),
            }
        } else {
            ChildError::Spawn {
                command: command.display(),
                source,
            }
        }
    })
}

/// One run. `Ok(None)`: cancelled (or nobody listens any more), the group is stopped.
/// `Ok(Some(..))`: the command ended by itself.
async fn run_once(
    command: &LogCommand,
    max_line: usize,
    tx: &mpsc::Sender<Event>,
    cancel: &CancellationToken,
) -> Result<Option<(ExitReason, Vec<String>)>, ChildError> {
    let mut child = spawn(command)?;
    let pid = child.id().unwrap_or(0);
    let started = Notice::ChildStarted {
        command: command.display(),
        pid,
    };
    if tx.send(Event::Notice(started)).await.is_err() {
        stop_group(&mut child, pid).await;
        return Ok(None);
    }
    let mut stdout = Pipe::new(child.stdout.take(), max_line);
    let mut stderr = Pipe::new(child.stderr.take(), max_line);
    let mut stderr_tail: VecDeque<String> = VecDeque::with_capacity(STDERR_TAIL);
    let mut status = None;
    // Read both pipes to EOF and reap the child; a grandchild that keeps a pipe open after
    // the child exited is killed with the group below.
    while !(stdout.done && stderr.done && status.is_some()) {
        let (mut out_events, mut err_events) = (Vec::new(), Vec::new());
        tokio::select! {
            _ = cancel.cancelled() => {
                stop_group(&mut child, pid).await;
                return Ok(None);
            }
            r = stdout.read(&mut out_events, Stream::ChildStdout), if !stdout.done => r,
            r = stderr.read(&mut err_events, Stream::ChildStderr), if !stderr.done => r,
            s = child.wait(), if status.is_none() => {
                status = Some(s.map_err(|source| ChildError::Wait { command: command.display(), source })?);
                // Whatever is left of the group has no reason to live.
                kill_group(pid, rustix::process::Signal::KILL);
            }
        }
        for event in out_events.into_iter().chain(err_events) {
            if let Event::Line {
                stream: Stream::ChildStderr,
                line,
            } = &event
            {
                if stderr_tail.len() == STDERR_TAIL {
                    stderr_tail.pop_front();
                }
                stderr_tail.push_back(line.text_lossy().into_owned());
            }
            if tx.send(event).await.is_err() {
                stop_group(&mut child, pid).await;
                return Ok(None);
            }
        }
    }
    let reason = status.map(exit_reason).unwrap_or(ExitReason::Unknown);
    Ok(Some((reason, stderr_tail.into())))
}

/// How one run of a one-shot command (`npx convex insights`) ended.
#[derive(Debug)]
pub enum Captured {
    /// Exit status 0, with everything it printed on stdout.
    Printed(Vec<u8>),
    /// Any other end, with its last stderr lines.
    Failed {
        reason: ExitReason,
        stderr_tail: Vec<String>,
    },
    /// Still running after the time limit; its group was stopped.
    TimedOut(Duration),
}

impl std::fmt::Display for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Captured::Printed(stdout) => write!(f, "printed {} byte(s)", stdout.len()),
            Captured::Failed {
                reason,
                stderr_tail,
            } => write!(f, "{reason}{}", render_tail("it", stderr_tail)),
            Captured::TimedOut(limit) => write!(
                f,
                "did not finish within {} s and was stopped",
                limit.as_secs()
            ),
        }
    }
}

/// Runs `command` to its end, in its own process group like the log command, and keeps its
/// stdout. `Ok(None)`: cancelled, the group is stopped.
pub async fn capture(
    command: &LogCommand,
    limit: Duration,
    cancel: &CancellationToken,
) -> Result<Option<Captured>, ChildError> {
    let mut child = spawn(command)?;
    let pid = child.id().unwrap_or(0);
    let (mut stdout, mut stderr) = (child.stdout.take(), child.stderr.take());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = tokio::select! {
        _ = cancel.cancelled() => {
            stop_group(&mut child, pid).await;
            return Ok(None);
        }
        _ = tokio::time::sleep(limit) => {
            stop_group(&mut child, pid).await;
            return Ok(Some(Captured::TimedOut(limit)));
        }
        (status, _, _) = async {
            tokio::join!(
                child.wait(),
                read_all(stdout.as_mut(), &mut out),
                read_all(stderr.as_mut(), &mut err),
            )
        } => status,
    };
    kill_group(pid, rustix::process::Signal::KILL);
    let status = status.map_err(|source| ChildError::Wait {
        command: command.display(),
        source,
    })?;
    if status.success() {
        return Ok(Some(Captured::Printed(out)));
    }
    let text = String::from_utf8_lossy(&err);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let stderr_tail = lines[lines.len().saturating_sub(STDERR_TAIL)..]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
    Ok(Some(Captured::Failed {
        reason: exit_reason(status),
        stderr_tail,
    }))
}

/// A pipe to its end; a read error ends it like EOF.
async fn read_all<R: tokio::io::AsyncRead + Unpin>(reader: Option<&mut R>, into: &mut Vec<u8>) {
    if let Some(reader) = reader {
        let _ = reader.read_to_end(into).await;
    }
}

/// Runs `command` now and then every `every` until `cancel` fires, sending how each run ended.
/// A run that fails is reported and the next one still happens.
pub async fn repeat(
    command: LogCommand,
    every: Duration,
    limit: Duration,
    tx: mpsc::Sender<Result<Captured, ChildError>>,
    cancel: CancellationToken,
) {
    loop {
        let run = match capture(&command, limit, &cancel).await {
            Ok(None) => return,
            Ok(Some(captured)) => Ok(captured),
            Err(err) => Err(err),
        };
        if tx.send(run).await.is_err() {
            return;
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}

fn exit_reason(status: std::process::ExitStatus) -> ExitReason {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitReason::Code(code),
        (None, Some(sig)) => ExitReason::Signal(sig),
        _ => ExitReason::Unknown,
    }
}

/// One of the child's output pipes, split into lines.
struct Pipe<R> {
    reader: Option<R>,
    splitter: LineSplitter,
    buf: Vec<u8>,
    done: bool,
}

impl<R: tokio::io::AsyncRead + Unpin> Pipe<R> {
    fn new(reader: Option<R>, max_line: usize) -> Self {
        Self {
            done: reader.is_none(),
            reader,
            splitter: LineSplitter::new(max_line),
            buf: vec![0u8; 64 * 1024],
        }
    }

    /// Cancel-safe: a read that loses the `select!` race consumed no bytes.
    async fn read(&mut self, events: &mut Vec<Event>, stream: Stream) {
        let Some(reader) = self.reader.as_mut() else {
            self.done = true;
            return;
        };
        match reader.read(&mut self.buf).await {
            Ok(n) if n > 0 => self.splitter.push(&self.buf[..n], &mut |p| {
                events.push(Event::from_piece(stream, p))
            }),
            // EOF, or a broken pipe: either way this stream has ended.
            _ => {
                self.splitter
                    .finish(&mut |p| events.push(Event::from_piece(stream, p)));
                self.reader = None;
                self.done = true;
            }
        }
    }
}

fn kill_group(pid: u32, signal: rustix::process::Signal) {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    // ESRCH: the group is already gone, which is the goal.
    let _ = rustix::process::kill_process_group(pid, signal);
}

/// SIGTERM to the whole group, a grace period, then SIGKILL; always reaps the child.
pub(crate) async fn stop_group(child: &mut Child, pid: u32) {
    kill_group(pid, rustix::process::Signal::TERM);
    if tokio::time::timeout(TERM_GRACE, child.wait())
        .await
        .is_err()
    {
        kill_group(pid, rustix::process::Signal::KILL);
        let _ = child.wait().await;
    }
    // The leader may exit on TERM while a member ignores it.
    kill_group(pid, rustix::process::Signal::KILL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets_after_a_healthy_run() {
        let mut b = BackoffState::new(Backoff::default());
        let short = Duration::from_secs(1);
        let delays: Vec<u128> = (0..11).map(|_| b.after_run(short).as_millis()).collect();
        assert_eq!(
            delays,
            [
                100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000
            ]
        );
        assert_eq!(b.after_run(Duration::from_secs(61)).as_millis(), 100);
        assert_eq!(b.after_run(short).as_millis(), 200);
    }

    #[test]
    fn convex_logs_passes_deployment_flags_through() {
        let d = Deployment {
            prod: true,
            deployment: Some("dev/james".into()),
            history: Some(50),
            env_file: Some(".env.staging".into()),
        };
        assert_eq!(
            LogCommand::convex_logs(&d, ".".into()).display(),
            "npx convex logs --jsonl --prod --deployment dev/james --history 50 --env-file .env.staging"
        );
        // `insights` selects the deployment the same way; `--history` is a `logs` flag.
        assert_eq!(
            LogCommand::convex_insights(&d, ".".into()).display(),
            "npx convex insights --json --details --prod --deployment dev/james --env-file .env.staging"
        );
    }

    #[tokio::test]
    async fn capture_keeps_stdout_and_explains_a_failure() {
        let cancel = CancellationToken::new();
        let limit = Duration::from_secs(20);
        let ok = LogCommand::shell("printf '{}'", ".".into());
        match capture(&ok, limit, &cancel).await {
            Ok(Some(Captured::Printed(out))) => assert_eq!(out, b"{}"),
            other => panic!("{other:?}"),
        }
        let fails = LogCommand::shell("echo one >&2; echo 'not logged in' >&2; exit 1", ".".into());
        let failed = capture(&fails, limit, &cancel).await;
        let Ok(Some(failed @ Captured::Failed { .. })) = failed else {
            panic!("{failed:?}");
        };
        assert_eq!(
            failed.to_string(),
            "exited with status 1\nit printed:\n    one\n    not logged in"
        );
        let slow = LogCommand::shell("sleep 30", ".".into());
        let timed_out = capture(&slow, Duration::from_millis(200), &cancel).await;
        assert!(
            matches!(timed_out, Ok(Some(Captured::TimedOut(_)))),
            "{timed_out:?}"
        );
    }

    #[test]
    fn recognises_cli_setup_failures() {
        let tail = |s: &str| vec![s.to_string()];
        assert!(
            diagnose(&ExitReason::Code(1), &tail("✖ You are not logged in."))
                .is_some_and(|h| h.contains("npx convex login"))
        );
        assert!(
            diagnose(
                &ExitReason::Code(1),
                &tail(
                    "✖ No CONVEX_DEPLOYMENT set, run `npx convex dev` to configure a Convex project"
                )
            )
            .is_some_and(|h| h.contains("--deployment"))
        );
        assert!(diagnose(&ExitReason::Code(127), &[]).is_some());
        assert!(diagnose(&ExitReason::Code(1), &tail("network error")).is_none());
    }
}

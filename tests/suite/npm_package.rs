//! The npm packages and the GitHub Action, with the toolchain's Node 22 and npm
//! (scripts/node-toolchain.sh). scripts/npm-pack.sh packs the test-built binary; a fresh npm
//! project installs the tarballs with the registry out of reach; through the launcher the
//! binary must look the same (output, exit codes, Ctrl-C). The launcher's platform resolution
//! runs under node:test. The action's steps (action/steps.sh) run as a runner runs them, against
//! a fake npm registry and the fake GitHub API of `pr_github`.

use crate::common::{lines, root, toolchain};
use crate::pr_github::{self, LIST, MARKER, TOKEN};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const BIN: &str = env!("CARGO_BIN_EXE_ba-index-advisor");
const WAIT: Duration = Duration::from_secs(60);
/// Nothing listens on the discard port on loopback: npm must never need the registry here.
const NO_REGISTRY: &str = "http://127.0.0.1:9/";

/// This module's shared fixtures (the tarballs, the installed project), under the target
/// directory, emptied once per run.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("npm_package");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
}

/// PATH with the toolchain's `node`, `npm` and `npx` first (the machine's own Node may be older
/// or absent), then `extra` (what a runner's GITHUB_PATH added), then the inherited PATH.
fn path_with(extra: &[PathBuf]) -> OsString {
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    dirs.push(toolchain().join("node_modules/.bin"));
    dirs.extend(std::env::split_paths(&inherited));
    std::env::join_paths(dirs).unwrap()
}

/// A command run with the toolchain's Node and npm, npm kept away from the user's config and
/// cache (`home` gets its own) and from the registry unless `registry` names one.
fn with_npm(program: impl AsRef<OsStr>, home: &Path, registry: &str) -> Command {
    std::fs::create_dir_all(home).unwrap();
    let npmrc = home.join(".npmrc");
    if !npmrc.exists() {
        std::fs::write(&npmrc, "").unwrap();
    }
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("PATH", path_with(&[]))
        .env("HOME", home)
        .env("npm_config_userconfig", &npmrc)
        .env("npm_config_cache", home.join("npm-cache"))
        .env("npm_config_registry", registry)
        .env("npm_config_update_notifier", "false")
        .env("npm_config_fund", "false")
        .env("npm_config_audit", "false");
    if let Some(tmp) = std::env::var_os("TMPDIR") {
        cmd.env("TMPDIR", tmp);
    }
    cmd
}

fn tool(name: &str) -> PathBuf {
    toolchain().join("node_modules/.bin").join(name)
}

fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

struct Packed {
    main: PathBuf,
    linux_x64: PathBuf,
}

/// `scripts/npm-pack.sh --no-build --binary linux-x64=<the test-built binary>`, once per run.
fn packed() -> &'static Packed {
    static PACKED: OnceLock<Packed> = OnceLock::new();
    PACKED.get_or_init(|| {
        let out_dir = scratch().join("tarballs");
        let out = run(
            with_npm("bash", &scratch().join("home-pack"), NO_REGISTRY)
                .arg(root().join("scripts/npm-pack.sh"))
                .args(["--no-build", "--binary"])
                .arg(format!("linux-x64={BIN}"))
                .arg(&out_dir),
            "scripts/npm-pack.sh",
        );
        let main = out_dir.join(format!("ba-index-advisor-{VERSION}.tgz"));
        let linux_x64 = out_dir.join(format!("ba-index-advisor-cli-linux-x64-{VERSION}.tgz"));
        // The script prints what it packed, platform packages first.
        assert_eq!(
            text(&out.stdout).lines().collect::<Vec<_>>(),
            [linux_x64.to_str().unwrap(), main.to_str().unwrap()]
        );
        Packed { main, linux_x64 }
    })
}

/// A fresh npm project with `tarballs` installed, the registry out of reach (`--offline`, and an
/// unreachable registry besides): what `npm install OUTDIR/*.tgz` gives a user.
fn project(name: &str, tarballs: &[&Path]) -> PathBuf {
    let dir = scratch().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("package.json"),
        "{ \"name\": \"convex-app\", \"private\": true }\n",
    )
    .unwrap();
    run(
        with_npm(tool("npm"), &dir.join(".home"), NO_REGISTRY)
            .current_dir(&dir)
            .args(["install", "--offline", "--loglevel=error"])
            .args(tarballs),
        "npm install of the tarballs",
    );
    dir
}

/// The project with the main package and the linux-x64 package, shared by the tests.
fn installed() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let packed = packed();
        project("installed", &[&packed.main, &packed.linux_x64])
    })
}

/// `npx ba-index-advisor <args>` in `project`, offline.
fn npx(project: &Path) -> Command {
    let mut cmd = with_npm(tool("npx"), &project.join(".home"), NO_REGISTRY);
    cmd.current_dir(project)
        .env("npm_config_offline", "true")
        .arg("ba-index-advisor");
    cmd
}

/// The binary itself, in the same folder and environment as `npx`.
fn direct(project: &Path) -> Command {
    let mut cmd = with_npm(BIN, &project.join(".home"), NO_REGISTRY);
    cmd.current_dir(project);
    cmd
}

fn sample(name: &str) -> PathBuf {
    root().join("sample-logs").join(name)
}

#[test]
fn npm_versions_are_in_step_with_cargo_toml() {
    let read = |dir: &str| -> Value {
        serde_json::from_str(
            &std::fs::read_to_string(root().join("npm").join(dir).join("package.json")).unwrap(),
        )
        .unwrap()
    };
    let main = read("ba-index-advisor");
    assert_eq!(
        main["version"], VERSION,
        "npm/ba-index-advisor/package.json"
    );
    let mut platforms = Vec::new();
    for entry in std::fs::read_dir(root().join("npm")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.starts_with("cli-") {
            let manifest = read(&name);
            assert_eq!(manifest["version"], VERSION, "npm/{name}/package.json");
            platforms.push(manifest["name"].as_str().unwrap().to_owned());
        }
    }
    platforms.sort();
    assert_eq!(platforms.len(), 6);
    let expected: serde_json::Map<String, Value> = platforms
        .iter()
        .map(|name| (name.clone(), json!(VERSION)))
        .collect();
    assert_eq!(main["optionalDependencies"], Value::Object(expected));
    // The script that keeps them in step agrees.
    let out = run(
        with_npm(tool("node"), &scratch().join("home-version"), NO_REGISTRY)
            .arg(root().join("scripts/npm-version.mjs"))
            .arg("--check"),
        "scripts/npm-version.mjs --check",
    );
    assert_eq!(
        text(&out.stdout),
        format!("npm packages at {VERSION}, in step with Cargo.toml\n")
    );
}

#[test]
fn npm_version_script_sets_the_cargo_version_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path();
    let cargo = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let bumped = cargo.replacen(
        &format!("version = \"{VERSION}\""),
        "version = \"9.8.7-rc.1\"",
        1,
    );
    assert_ne!(cargo, bumped);
    std::fs::write(copy.join("Cargo.toml"), bumped).unwrap();
    std::fs::create_dir_all(copy.join("scripts")).unwrap();
    std::fs::copy(
        root().join("scripts/npm-version.mjs"),
        copy.join("scripts/npm-version.mjs"),
    )
    .unwrap();
    let mut dirs = Vec::new();
    for entry in std::fs::read_dir(root().join("npm")).unwrap() {
        let name = entry.unwrap().file_name();
        std::fs::create_dir_all(copy.join("npm").join(&name)).unwrap();
        std::fs::copy(
            root().join("npm").join(&name).join("package.json"),
            copy.join("npm").join(&name).join("package.json"),
        )
        .unwrap();
        dirs.push(name.into_string().unwrap());
    }
    let script = |args: &[&str]| {
        with_npm(tool("node"), &copy.join(".home"), NO_REGISTRY)
            .arg(copy.join("scripts/npm-version.mjs"))
            .args(args)
            .output()
            .unwrap()
    };

    let check = script(&["--check"]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(
        text(&check.stderr),
        "npm-version: not at Cargo.toml's version 9.8.7-rc.1: npm/cli-darwin-arm64/package.json, \
         npm/cli-darwin-x64/package.json, npm/cli-linux-arm64/package.json, \
         npm/cli-linux-x64/package.json, npm/cli-linux-x64-musl/package.json, \
         npm/cli-win32-x64/package.json, npm/ba-index-advisor/package.json\n\
         Run `node scripts/npm-version.mjs` to bring them in step.\n"
    );
    assert!(script(&[]).status.success());
    assert!(script(&["--check"]).status.success());
    for dir in dirs {
        let manifest: Value = serde_json::from_str(
            &std::fs::read_to_string(copy.join("npm").join(&dir).join("package.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(manifest["version"], "9.8.7-rc.1", "{dir}");
        if let Some(deps) = manifest["optionalDependencies"].as_object() {
            assert_eq!(deps.len(), 6);
            assert!(deps.values().all(|v| v == "9.8.7-rc.1"));
        }
    }
}

#[test]
fn launcher_resolves_every_platform_under_node_test() {
    let out = with_npm(tool("node"), &scratch().join("home-node-test"), NO_REGISTRY)
        .arg("--test")
        .arg(root().join("npm/ba-index-advisor/test/platform.test.js"))
        .output()
        .unwrap();
    let report = text(&out.stdout);
    assert!(
        out.status.success(),
        "node --test failed:\n{report}\n{}",
        text(&out.stderr)
    );
    // Every supported pair ran, and musl detection and the missing-package error with them.
    for name in [
        "runs @ba-index-advisor/cli-linux-x64 on linux-x64 (glibc)",
        "runs @ba-index-advisor/cli-linux-x64-musl on linux-x64 (musl)",
        "runs @ba-index-advisor/cli-linux-arm64 on linux-arm64 (glibc)",
        "runs @ba-index-advisor/cli-darwin-x64 on darwin-x64",
        "runs @ba-index-advisor/cli-darwin-arm64 on darwin-arm64",
        "runs @ba-index-advisor/cli-win32-x64 on win32-x64",
        "reads musl from ldd (the musl loader itself)",
        "asks Node's report without ldd: the musl loader among shared objects means musl",
        "names the fix when the platform package is missing (--no-optional)",
    ] {
        assert!(
            report
                .lines()
                .any(|l| l.trim_start().starts_with("ok ") && l.ends_with(&format!(" - {name}"))),
            "{name}:\n{report}"
        );
    }
    assert!(report.contains("# fail 0"), "{report}");
}

#[test]
fn packed_binary_is_the_test_binary_and_executable() {
    let binary =
        installed().join("node_modules/@ba-index-advisor/cli-linux-x64/bin/ba-index-advisor");
    let meta = std::fs::metadata(&binary).unwrap();
    assert_eq!(meta.permissions().mode() & 0o111, 0o111, "not executable");
    let same = {
        let mut a = BufReader::new(std::fs::File::open(&binary).unwrap());
        let mut b = BufReader::new(std::fs::File::open(BIN).unwrap());
        let (mut x, mut y) = (vec![0; 1 << 20], vec![0; 1 << 20]);
        loop {
            let n = read_full(&mut a, &mut x);
            let m = read_full(&mut b, &mut y);
            if n != m || x[..n] != y[..m] {
                break false;
            }
            if n == 0 {
                break true;
            }
        }
    };
    assert!(same, "{} differs from {BIN}", binary.display());
    // The main package carries the launcher, not a binary, and no tests.
    let launcher = installed().join("node_modules/ba-index-advisor");
    assert!(launcher.join("bin/ba-index-advisor.js").is_file());
    assert!(launcher.join("lib/platform.js").is_file());
    assert!(!launcher.join("test").exists());
    // The platform packages of other machines were skipped, offline, without a failure.
    let scope: Vec<_> = std::fs::read_dir(installed().join("node_modules/@ba-index-advisor"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(scope, ["cli-linux-x64"]);
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]).unwrap() {
            0 => break,
            n => filled += n,
        }
    }
    filled
}

/// Runs `args` through `npx ba-index-advisor` and directly; both must print the same and exit
/// the same. Returns the exit code.
fn same_through_npx(args: &[&OsStr]) -> i32 {
    let project = installed();
    let via = npx(project).args(args).output().unwrap();
    let own = direct(project).args(args).output().unwrap();
    let shown = format!(
        "npx ba-index-advisor {args:?}\n--- npx stderr:\n{}\n--- binary stderr:\n{}",
        text(&via.stderr),
        text(&own.stderr)
    );
    assert_eq!(via.status.code(), own.status.code(), "{shown}");
    assert_eq!(text(&via.stdout), text(&own.stdout), "{shown}");
    assert_eq!(text(&via.stderr), text(&own.stderr), "{shown}");
    own.status.code().unwrap()
}

#[test]
fn npx_prints_what_the_binary_prints() {
    assert_eq!(same_through_npx(&["--version".as_ref()]), 0);
    let out = npx(installed()).arg("--version").output().unwrap();
    assert_eq!(text(&out.stdout), format!("ba-index-advisor {VERSION}\n"));

    let logs = sample("convex-logs.jsonl");
    assert_eq!(same_through_npx(&["report".as_ref(), logs.as_os_str()]), 0);
    let out = npx(installed()).arg("report").arg(&logs).output().unwrap();
    assert!(text(&out.stdout).starts_with("Missing indexes: 7 suggestion(s)"));
}

#[test]
fn exit_codes_pass_through_the_launcher() {
    let logs = sample("convex-logs.jsonl");
    assert_eq!(
        same_through_npx(&[
            "report".as_ref(),
            logs.as_os_str(),
            "--fail-on-suggestions".as_ref()
        ]),
        1,
        "indexes left to add under --fail-on-suggestions"
    );
    assert_eq!(
        same_through_npx(&["report".as_ref(), "--no-such-flag".as_ref()]),
        2,
        "a usage error"
    );
    assert_eq!(
        same_through_npx(&["report".as_ref(), "missing.log".as_ref()]),
        2,
        "an input error"
    );
}

#[test]
fn missing_platform_package_names_the_fix() {
    // As after `npm install --omit=optional`: the launcher without a platform package.
    let project = project("no-platform", &[&packed().main]);
    assert!(!project.join("node_modules/@ba-index-advisor").exists());
    let out = npx(&project).arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(
            "ba-index-advisor: no binary for linux-x64 (glibc): the package \
             @ba-index-advisor/cli-linux-x64 is not installed.\n"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("(--no-optional, --omit=optional, omit=optional in .npmrc)"));
    assert!(stderr.contains("  npm install --include=optional ba-index-advisor\n"));
    assert!(stderr.contains(&format!(
        "  npm install --save-optional @ba-index-advisor/cli-linux-x64@{VERSION}\n"
    )));
}

/// Starts `watch -` under `cmd`, feeds it real CLI log lines (stdin stays open), and returns
/// once it printed its first suggestion.
fn watching(mut cmd: Command) -> (Child, std::process::ChildStdin, mpsc::Receiver<String>) {
    let mut child = cmd
        .args(["watch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let rx = lines(&mut child);
    let mut stdin = child.stdin.take().unwrap();
    stdin
        .write_all(&std::fs::read(sample("convex-logs.txt")).unwrap())
        .unwrap();
    stdin.flush().unwrap();
    let first = rx.recv_timeout(WAIT).expect("watch printed no suggestion");
    assert!(first.starts_with("new "), "{first}");
    (child, stdin, rx)
}

/// Waits for the child with a deadline (killing it on timeout), then reads the rest of stdout.
fn finish(
    mut child: Child,
    rx: &mpsc::Receiver<String>,
) -> (std::process::ExitStatus, Vec<String>) {
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = rustix::process::kill_process_group(pid(&child), rustix::process::Signal::KILL);
            let _ = child.kill();
            panic!("still running {WAIT:?} after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut rest = Vec::new();
    while let Ok(line) = rx.recv_timeout(WAIT) {
        rest.push(line);
    }
    (status, rest)
}

fn pid(child: &Child) -> rustix::process::Pid {
    rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap()
}

#[test]
fn sigint_to_the_launcher_stops_watch_cleanly() {
    // `node <launcher> watch -`, and SIGINT to the launcher alone (as `kill -INT` sends it): it
    // must reach the binary, which stops, prints its summary and exits 0, and so does the launcher.
    let project = installed();
    let mut cmd = with_npm(tool("node"), &project.join(".home"), NO_REGISTRY);
    cmd.current_dir(project)
        .arg(project.join("node_modules/ba-index-advisor/bin/ba-index-advisor.js"))
        .process_group(0);
    let (child, stdin, rx) = watching(cmd);
    rustix::process::kill_process(pid(&child), rustix::process::Signal::INT).unwrap();
    let (status, rest) = finish(child, &rx);
    drop(stdin);
    assert_eq!(status.code(), Some(0), "{status}: {rest:#?}");
    assert!(
        rest.iter().any(|l| l == "summary: 7 suggestion(s)"),
        "{rest:#?}"
    );
}

#[test]
fn ctrl_c_under_npx_stops_watch_cleanly() {
    // Ctrl-C in a terminal signals the whole foreground process group: npm, the `sh -c` npm runs
    // bins with, the launcher and the binary. npm ends as its shell did (killed by SIGINT: `sh`
    // does not wait for its child), but the binary gets the signal too (twice: directly and from
    // the launcher), stops and prints its summary.
    let project = installed();
    let mut cmd = npx(project);
    cmd.process_group(0);
    let (child, stdin, rx) = watching(cmd);
    rustix::process::kill_process_group(pid(&child), rustix::process::Signal::INT).unwrap();
    let (_status, rest) = finish(child, &rx);
    drop(stdin);
    assert!(
        rest.iter().any(|l| l == "summary: 7 suggestion(s)"),
        "{rest:#?}"
    );
}

/// Starts `serve` on an ephemeral loopback port under `cmd` (its own process group, stderr
/// piped through every layer), and returns once the binary says where it listens.
fn serving(mut cmd: Command, db: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = cmd
        .env("BA_INDEX_ADVISOR_WEBHOOK_SECRET", "0123456789abcdef")
        .env_remove("BA_INDEX_ADVISOR_API_TOKEN")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .unwrap();
    let rx = crate::common::lines_of(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    loop {
        match rx.recv_timeout(WAIT) {
            Ok(line) if line.starts_with("serve: listening on ") => break,
            Ok(line) => seen.push(line),
            Err(_) => panic!("serve did not start under {cmd:?}:\n{}", seen.join("\n")),
        }
    }
    assert!(db.parent().unwrap().exists());
    (child, rx)
}

/// SIGTERM to `child` alone, then every line the binary printed until the last process holding
/// the pipe (the binary) closed it, with a deadline.
fn terminated(child: &mut Child, rx: &mpsc::Receiver<String>) -> Vec<String> {
    rustix::process::kill_process(pid(child), rustix::process::Signal::TERM).unwrap();
    let deadline = Instant::now() + WAIT;
    let mut rest = Vec::new();
    loop {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => rest.push(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ =
                    rustix::process::kill_process_group(pid(child), rustix::process::Signal::KILL);
                panic!(
                    "the server still runs {WAIT:?} after SIGTERM to {}: {rest:#?}",
                    child.id()
                );
            }
        }
    }
    let _ = child.wait();
    rest
}

#[test]
fn sigterm_to_the_shell_above_the_launcher_stops_serve_gracefully() {
    // `sh -c "node <launcher> serve …; …"`: the shell must wait for the launcher (the command is
    // not its last word, so it cannot exec it), and a SIGTERM to the shell kills the shell alone.
    // The launcher, orphaned, stops the binary, which finishes as on its own SIGTERM.
    let project = installed();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let launcher = project.join("node_modules/ba-index-advisor/bin/ba-index-advisor.js");
    let mut cmd = with_npm("sh", &project.join(".home"), NO_REGISTRY);
    cmd.current_dir(project).arg("-c").arg(format!(
        "node '{}' serve --listen 127.0.0.1:0 --db '{}'; echo \"launcher exited $?\" >&2",
        launcher.display(),
        db.display()
    ));
    let (mut child, rx) = serving(cmd, &db);
    let rest = terminated(&mut child, &rx);
    assert!(
        rest.iter()
            .any(|l| l == "serve: stopping; finishing the batches in flight"),
        "{rest:#?}"
    );
    assert!(rest.iter().any(|l| l == "serve: stopped"), "{rest:#?}");
    // The shell died of the signal before it could say how the launcher ended.
    assert!(
        !rest.iter().any(|l| l.starts_with("launcher exited")),
        "{rest:#?}"
    );
}

#[test]
fn sigterm_to_npx_stops_serve_gracefully() {
    // A supervisor's SIGTERM to the top `npx` process only: npm does not pass it through its
    // `sh -c`; the launcher notices it was orphaned and stops the binary gracefully.
    let project = installed();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("state.db");
    let mut cmd = npx(project);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db);
    let (mut child, rx) = serving(cmd, &db);
    let rest = terminated(&mut child, &rx);
    assert!(rest.iter().any(|l| l == "serve: stopped"), "{rest:#?}");
}

/// A fake npm registry on loopback serving the packed tarballs: each package's packument (its
/// package.json with `dist.tarball`), the tarballs, and 404 for anything else, such as the other
/// platforms' packages.
struct Registry {
    base: String,
    packages: Vec<(Value, String, Vec<u8>)>,
}

impl Registry {
    /// Serves the launcher and the linux-x64 package on `server`.
    async fn serve(server: &MockServer, packed: &Packed) {
        let tarballs = [
            ("ba-index-advisor", packed.main.as_path()),
            ("cli-linux-x64", packed.linux_x64.as_path()),
        ];
        let packages = tarballs
            .iter()
            .map(|(dir, tarball)| {
                let manifest: Value = serde_json::from_str(
                    &std::fs::read_to_string(root().join("npm").join(dir).join("package.json"))
                        .unwrap(),
                )
                .unwrap();
                let file = tarball.file_name().unwrap().to_str().unwrap().to_owned();
                (manifest, file, std::fs::read(tarball).unwrap())
            })
            .collect();
        Mock::given(any())
            .respond_with(Registry {
                base: server.uri(),
                packages,
            })
            .mount(server)
            .await;
    }
}

impl wiremock::Respond for Registry {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        // npm asks for `@scope%2fname`.
        let path = request.url.path().replace("%2f", "/").replace("%2F", "/");
        for (manifest, file, bytes) in &self.packages {
            let name = manifest["name"].as_str().unwrap();
            if path == format!("/{name}") {
                let mut version = manifest.clone();
                version["dist"] = json!({ "tarball": format!("{}/{name}/-/{file}", self.base) });
                return ResponseTemplate::new(200).set_body_json(json!({
                    "name": name,
                    "dist-tags": { "latest": VERSION },
                    "versions": { VERSION: version },
                }));
            }
            if path == format!("/{name}/-/{file}") {
                return ResponseTemplate::new(200)
                    .insert_header("content-type", "application/octet-stream")
                    .set_body_bytes(bytes.clone());
            }
        }
        ResponseTemplate::new(404).set_body_json(json!({ "error": "Not found" }))
    }
}

/// action.yml's script steps: the argument of `steps.sh` and the `env:` each gets there, as
/// `(variable, expression)`. The test checks action.yml says exactly this, then runs them so.
const ACTION_STEPS: &[(&str, &[(&str, &str)])] = &[
    ("resolve", &[("INPUT_VERSION", "inputs.version")]),
    (
        "install",
        &[
            ("BA_VERSION", "steps.resolve.outputs.version"),
            ("BA_INSTALL_DIR", "steps.resolve.outputs.dir"),
            ("BA_CACHE_HIT", "steps.cache.outputs.cache-hit"),
        ],
    ),
    (
        "pr",
        &[
            ("GITHUB_TOKEN", "inputs.token"),
            ("BA_INSTALL_DIR", "steps.resolve.outputs.dir"),
            ("INPUT_LOGS", "inputs.logs"),
            ("INPUT_SCHEMA_DIR", "inputs.schema-dir"),
            ("INPUT_FAIL_ON_SUGGESTIONS", "inputs.fail-on-suggestions"),
            ("INPUT_ARGS", "inputs.args"),
        ],
    ),
];

fn action_yml() -> String {
    std::fs::read_to_string(root().join("action.yml")).unwrap()
}

#[test]
fn action_yml_wires_its_steps_as_the_test_runs_them() {
    let yml = action_yml();
    let has = |line: &str| {
        assert!(
            yml.lines().any(|l| l.trim() == line),
            "action.yml has no line `{line}`"
        );
    };
    has("using: composite");
    for (step, env) in ACTION_STEPS {
        has(&format!(
            "run: bash \"$GITHUB_ACTION_PATH/action/steps.sh\" {step}"
        ));
        for (var, expr) in *env {
            has(&format!("{var}: ${{{{ {expr} }}}}"));
        }
    }
    assert_eq!(yml.matches("run: ").count(), ACTION_STEPS.len());
    // Nothing else splices an input into a script; the cache keys on what `resolve` computed.
    has("uses: actions/cache@v4");
    has("path: ${{ steps.resolve.outputs.dir }}");
    has("key: ${{ steps.resolve.outputs.cache-key }}");
    has("working-directory: ${{ inputs.working-directory }}");
    has("default: ${{ github.token }}");
    // Every declared input reaches a step.
    let inputs = yml
        .split("\ninputs:\n")
        .nth(1)
        .unwrap()
        .split("\noutputs:\n")
        .next()
        .unwrap();
    let declared: Vec<&str> = inputs
        .lines()
        .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| !name.starts_with(' '))
        .collect();
    assert_eq!(
        declared,
        [
            "logs",
            "schema-dir",
            "fail-on-suggestions",
            "version",
            "args",
            "working-directory",
            "token"
        ]
    );
    for input in declared {
        assert!(
            yml.contains(&format!("${{{{ inputs.{input} }}}}")),
            "input {input} is never used"
        );
    }
}

/// What a GitHub Actions runner provides to a composite action's steps.
struct Runner {
    workspace: PathBuf,
    temp: PathBuf,
    home: PathBuf,
    github_path: PathBuf,
    summary: PathBuf,
    event: PathBuf,
    api: String,
    registry: String,
}

impl Runner {
    fn new(dir: &Path, api: String, registry: String) -> Self {
        let workspace = dir.join("workspace");
        let temp = dir.join("runner-temp");
        std::fs::create_dir_all(&workspace).unwrap();
        std::fs::create_dir_all(&temp).unwrap();
        let runner = Runner {
            workspace,
            github_path: temp.join("github_path"),
            summary: temp.join("step_summary.md"),
            event: pr_github::pull_request_event(&temp),
            temp,
            home: dir.join("home"),
            api,
            registry,
        };
        std::fs::write(&runner.github_path, "").unwrap();
        runner
    }

    /// Runs the action once with `inputs` (action.yml's defaults filled in) and the cache
    /// answering `cache_hit`: each script step in order with the variables a runner sets and
    /// the step's `env:` evaluated. Stops at the first failing step, as a runner does.
    async fn action(&self, inputs: &[(&str, &str)], cache_hit: bool) -> Ran {
        let mut inputs: HashMap<&str, &str> = inputs.iter().copied().collect();
        for (name, default) in [
            ("schema-dir", ""),
            ("fail-on-suggestions", "false"),
            ("version", ""),
            ("args", ""),
            ("working-directory", "."),
            ("token", TOKEN),
        ] {
            inputs.entry(name).or_insert(default);
        }
        let mut resolved = HashMap::new();
        let mut steps = Vec::new();
        for (step, env) in ACTION_STEPS {
            let mut cmd = with_npm("bash", &self.home, &self.registry);
            let output_file = self.temp.join(format!("output-{step}"));
            std::fs::write(&output_file, "").unwrap();
            // GITHUB_PATH entries come before PATH, the latest first.
            let mut added: Vec<PathBuf> = std::fs::read_to_string(&self.github_path)
                .unwrap()
                .lines()
                .map(PathBuf::from)
                .collect();
            added.reverse();
            cmd.env("PATH", path_with(&added))
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTION_PATH", root())
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_REPOSITORY", "acme/web")
                .env("GITHUB_EVENT_NAME", "pull_request")
                .env("GITHUB_EVENT_PATH", &self.event)
                .env("GITHUB_API_URL", &self.api)
                .env("GITHUB_STEP_SUMMARY", &self.summary)
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_PATH", &self.github_path)
                .env("GITHUB_ENV", self.temp.join("github_env"))
                .env("RUNNER_TEMP", &self.temp)
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_ARCH", "X64")
                .env("BA_INDEX_ADVISOR_RETRY_BASE_MS", "1");
            for (var, expr) in *env {
                let value = if let Some(input) = expr.strip_prefix("inputs.") {
                    inputs[input].to_owned()
                } else if let Some(out) = expr.strip_prefix("steps.resolve.outputs.") {
                    resolved.get(out).cloned().unwrap_or_default()
                } else if *expr == "steps.cache.outputs.cache-hit" {
                    cache_hit.to_string()
                } else {
                    panic!("no value for {expr}")
                };
                cmd.env(var, value);
            }
            let cwd = if *step == "pr" {
                self.workspace.join(inputs["working-directory"])
            } else {
                self.workspace.clone()
            };
            cmd.current_dir(cwd)
                .arg(root().join("action/steps.sh"))
                .arg(step);
            let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
                .await
                .unwrap();
            if *step == "resolve" {
                for line in std::fs::read_to_string(&output_file).unwrap().lines() {
                    let (name, value) = line.split_once('=').unwrap();
                    resolved.insert(name.to_owned(), value.to_owned());
                }
            }
            let failed = !out.status.success();
            for text in [&out.stdout, &out.stderr] {
                assert!(
                    !String::from_utf8_lossy(text).contains(TOKEN),
                    "the token leaked"
                );
            }
            steps.push((*step, out));
            if failed {
                break;
            }
        }
        Ran { steps, resolved }
    }
}

/// What one run of the action did: each step's output, and the outputs of `resolve`.
struct Ran {
    steps: Vec<(&'static str, Output)>,
    resolved: HashMap<String, String>,
}

impl Ran {
    fn step(&self, name: &str) -> &Output {
        &self
            .steps
            .iter()
            .find(|(step, _)| *step == name)
            .unwrap_or_else(|| panic!("step {name} did not run:\n{}", self.log()))
            .1
    }

    /// The step's exit code, after every earlier step succeeded.
    fn code(&self, name: &str) -> Option<i32> {
        self.step(name).status.code()
    }

    fn stdout(&self, name: &str) -> String {
        text(&self.step(name).stdout)
    }

    fn stderr(&self, name: &str) -> String {
        text(&self.step(name).stderr)
    }

    /// Everything the steps printed, as a job log shows it.
    fn log(&self) -> String {
        self.steps
            .iter()
            .map(|(step, out)| {
                format!(
                    "--- {step} ({})\n{}{}",
                    out.status,
                    text(&out.stdout),
                    text(&out.stderr)
                )
            })
            .collect()
    }
}

fn requested(server_requests: &[Request]) -> Vec<String> {
    server_requests
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn action_installs_from_npm_and_comments_on_the_pull_request() {
    let packed = tokio::task::spawn_blocking(packed).await.unwrap();
    let npm = MockServer::start().await;
    Registry::serve(&npm, packed).await;
    let github = MockServer::start().await;
    pr_github::list_returns(&github, json!([])).await;
    Mock::given(method("POST"))
        .and(path(LIST))
        .respond_with(pr_github::created(31))
        .mount(&github)
        .await;

    let tmp = tempfile::tempdir().unwrap();
    let runner = Runner::new(tmp.path(), github.uri(), format!("{}/", npm.uri()));
    std::fs::create_dir_all(runner.workspace.join("app/logs")).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/pr/e2e-run.log"),
        runner.workspace.join("app/logs/e2e-run.log"),
    )
    .unwrap();

    // First run: the version this copy of the action ships, not cached yet.
    let ran = runner
        .action(
            &[("logs", "logs/*.log"), ("working-directory", "app")],
            false,
        )
        .await;
    assert_eq!(ran.code("pr"), Some(0), "{}", ran.log());
    let dir = runner.temp.join("ba-index-advisor").join(VERSION);
    assert_eq!(ran.resolved["version"], VERSION);
    assert_eq!(ran.resolved["dir"], dir.to_str().unwrap());
    assert_eq!(
        ran.resolved["cache-key"],
        format!("ba-index-advisor-npm-{VERSION}-linux-x64-glibc")
    );
    assert_eq!(
        std::fs::read_to_string(&runner.github_path).unwrap(),
        format!("{}\n", dir.join("node_modules/.bin").display())
    );
    assert_eq!(
        ran.stdout("resolve"),
        format!("ba-index-advisor {VERSION} for linux-x64-glibc\n")
    );
    // npm installed the launcher and this platform's package (of six), then the binary ran.
    let install = ran.stdout("install");
    assert!(
        install.contains("added 2 packages")
            && install.ends_with(&format!("\nba-index-advisor {VERSION}\n")),
        "{}",
        ran.log()
    );
    // The glob was expanded in the working directory.
    assert!(
        ran.stdout("pr")
            .starts_with("ba-index-advisor pr logs/e2e-run.log\n"),
        "{}",
        ran.log()
    );
    assert!(
        ran.stderr("pr").contains("Commented on acme/web#7"),
        "{}",
        ran.log()
    );

    // npm installed the main package and this platform's package from the registry.
    let fetched = requested(&npm.received_requests().await.unwrap());
    for wanted in [
        "GET /ba-index-advisor".to_owned(),
        format!("GET /ba-index-advisor/-/ba-index-advisor-{VERSION}.tgz"),
        format!(
            "GET /@ba-index-advisor/cli-linux-x64/-/ba-index-advisor-cli-linux-x64-{VERSION}.tgz"
        ),
    ] {
        assert!(fetched.contains(&wanted), "{wanted} not in {fetched:#?}");
    }
    assert_eq!(fetched.iter().filter(|r| r.ends_with(".tgz")).count(), 2);

    // The comment, as `pr` posts it.
    let (lines, reqs) = pr_github::requests(&github).await;
    assert_eq!(
        lines,
        [format!("GET {LIST}?per_page=100"), format!("POST {LIST}")]
    );
    let body = pr_github::body_of(&reqs[1])["body"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(body.starts_with(MARKER));
    assert!(body.contains("**1 index to add**"), "{body}");
    // The reader's own command, never the runner's log paths.
    assert!(
        body.contains("npx ba-index-advisor apply convex-logs.jsonl")
            && !body.contains("logs/e2e-run.log"),
        "{body}"
    );
    let summary = std::fs::read_to_string(&runner.summary).unwrap();
    assert!(summary.contains("**1 index to add**"));

    // Second run: `latest` from the registry, the install restored from the cache, and a
    // blocking check. The comment is updated in place, and the step fails with exit 1.
    let github = MockServer::start().await;
    let old = format!("{MARKER}\nold");
    pr_github::list_returns(&github, pr_github::comments(&[(31, &old)])).await;
    Mock::given(method("PATCH"))
        .and(path("/repos/acme/web/issues/comments/31"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(pr_github::comments(&[(31, "x")])[0].clone()),
        )
        .mount(&github)
        .await;
    npm.reset().await;
    Registry::serve(&npm, packed).await;
    let runner = Runner {
        api: github.uri(),
        ..runner
    };
    let ran = runner
        .action(
            &[
                ("logs", "logs/e2e-run.log"),
                ("working-directory", "app"),
                ("version", "latest"),
                ("fail-on-suggestions", "true"),
                ("args", "--no-merge"),
            ],
            true,
        )
        .await;
    assert_eq!(ran.code("pr"), Some(1), "{}", ran.log());
    assert_eq!(ran.resolved["version"], VERSION);
    assert_eq!(
        ran.stdout("install"),
        format!("ba-index-advisor {VERSION} restored from the cache\nba-index-advisor {VERSION}\n")
    );
    assert!(
        ran.stdout("pr")
            .starts_with("ba-index-advisor pr logs/e2e-run.log --fail-on-suggestions --no-merge\n"),
        "{}",
        ran.log()
    );
    assert_eq!(
        requested(&npm.received_requests().await.unwrap()),
        ["GET /ba-index-advisor"],
        "`latest` is looked up, nothing is downloaded"
    );
    let (lines, _) = pr_github::requests(&github).await;
    assert_eq!(
        lines,
        [
            format!("GET {LIST}?per_page=100"),
            "PATCH /repos/acme/web/issues/comments/31".to_owned()
        ]
    );
}

#[test]
fn action_rejects_bad_inputs_with_an_annotation() {
    // `pr` checks its inputs before it runs anything: no install is needed to get there.
    let tmp = tempfile::tempdir().unwrap();
    let step = |logs: &str, fail_on_suggestions: &str| {
        with_npm("bash", &tmp.path().join("home"), NO_REGISTRY)
            .current_dir(tmp.path())
            .env("BA_INSTALL_DIR", tmp.path().join("nowhere"))
            .env("INPUT_LOGS", logs)
            .env("INPUT_FAIL_ON_SUGGESTIONS", fail_on_suggestions)
            .arg(root().join("action/steps.sh"))
            .arg("pr")
            .output()
            .unwrap()
    };
    let out = step("convex-logs.jsonl", "yes please");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        "::error title=ba-index-advisor::fail-on-suggestions must be true or false, not 'yes please'\n"
    );
    let out = step(" \n ", "false");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stdout),
        "::error title=ba-index-advisor::the logs input is empty: name the log files to read\n"
    );
}

//! The completion scripts `completions bash|zsh` prints, loaded into a real bash and a real
//! zsh and asked to complete: a subcommand, a subcommand's option, and an option's values.
//! (tests/suite/cli_help.rs snapshots the scripts' text; this checks that they work.)

use crate::common::{bin, root};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The script the binary prints for `shell`, written to `dir`.
fn script(shell: &str, dir: &Path) -> PathBuf {
    let out = bin().args(["completions", shell]).output().unwrap();
    assert!(out.status.success(), "completions {shell}: {out:?}");
    let path = dir.join(format!("completions.{shell}"));
    std::fs::write(&path, &out.stdout).unwrap();
    path
}

/// Runs `cmd` to its end, killing it after a minute: a shell stuck in a broken script fails
/// the test rather than hanging it.
fn run(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{cmd:?} did not finish in a minute");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// What bash offers for the last of `words`: the script is sourced, the function it
/// registered for `ba-index-advisor` (`complete -p`) is called as bash's programmable
/// completion calls it, and COMPREPLY is printed.
fn bash_complete(script: &Path, words: &[&str]) -> Vec<String> {
    const DRIVER: &str = r#"
source "$1" || exit 3
shift
spec=$(complete -p ba-index-advisor) || exit 4
fn=${spec#*-F }
fn=${fn%% *}
COMP_WORDS=("$@")
COMP_CWORD=$(( $# - 1 ))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
"$fn" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
"#;
    let mut cmd = Command::new("bash");
    cmd.args(["--norc", "--noprofile", "-c", DRIVER, "bash"])
        .arg(script)
        .args(words);
    let out = run(cmd);
    assert!(
        out.status.success(),
        "bash completing {words:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&out)
}

/// A zsh, installed by scripts/zsh.sh when the machine has none; failing to is a failure.
fn zsh() -> &'static Path {
    static ZSH: OnceLock<PathBuf> = OnceLock::new();
    ZSH.get_or_init(|| {
        let out = Command::new("bash")
            .arg(root().join("scripts/zsh.sh"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "scripts/zsh.sh: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// What an interactive zsh offers when Tab is pressed after `line`, with the script loaded
/// under compinit (tests/support/zsh-complete.zsh).
fn zsh_complete(script: &Path, line: &str) -> Vec<String> {
    let mut cmd = Command::new(zsh());
    cmd.arg("-f")
        .arg(root().join("tests/support/zsh-complete.zsh"))
        .arg(script)
        .arg(line);
    let out = run(cmd);
    assert!(
        out.status.success(),
        "zsh completing {line:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    lines(&out)
}

fn has(candidates: &[String], want: &str) -> bool {
    candidates.iter().any(|c| c == want)
}

#[test]
fn bash_completes_subcommands_options_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = script("bash", dir.path());
    let subcommands = bash_complete(&script, &["ba-index-advisor", "rep"]);
    assert_eq!(subcommands, ["report"]);
    let options = bash_complete(&script, &["ba-index-advisor", "report", "--fo"]);
    assert!(has(&options, "--format"), "{options:?}");
    assert!(
        !has(&options, "--rules"),
        "filtered by the prefix: {options:?}"
    );
    let values = bash_complete(&script, &["ba-index-advisor", "report", "--format", ""]);
    assert_eq!(values, ["table", "json", "markdown"]);
    // Another subcommand's options are its own.
    let watch = bash_complete(&script, &["ba-index-advisor", "watch", "--wr"]);
    assert!(has(&watch, "--write"), "{watch:?}");
}

#[test]
fn zsh_completes_subcommands_options_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let script = script("zsh", dir.path());
    let subcommands = zsh_complete(&script, "ba-index-advisor rep");
    assert_eq!(subcommands, ["report"]);
    let options = zsh_complete(&script, "ba-index-advisor report --fo");
    assert!(has(&options, "--format"), "{options:?}");
    assert!(
        !has(&options, "--rules"),
        "filtered by the prefix: {options:?}"
    );
    let values = zsh_complete(&script, "ba-index-advisor report --format ");
    assert_eq!(values, ["table", "json", "markdown"]);
    let watch = zsh_complete(&script, "ba-index-advisor watch --wr");
    assert!(has(&watch, "--write"), "{watch:?}");
}

/// The checks above see a broken script: cut in half, neither shell offers `--format`.
#[test]
fn a_broken_script_offers_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh"] {
        let whole = std::fs::read_to_string(script(shell, dir.path())).unwrap();
        let broken = dir.path().join(format!("broken.{shell}"));
        std::fs::write(&broken, &whole[..whole.len() / 2]).unwrap();
        let offered = if shell == "bash" {
            let mut cmd = Command::new("bash");
            cmd.args(["--norc", "--noprofile", "-c"]).arg(format!(
                "source {} 2>/dev/null; complete -p ba-index-advisor",
                broken.display()
            ));
            lines(&run(cmd))
        } else {
            zsh_complete(&broken, "ba-index-advisor report --fo")
        };
        assert!(!has(&offered, "--format"), "{shell}: {offered:?}");
        if shell == "bash" {
            assert!(offered.is_empty(), "nothing registered: {offered:?}");
        }
    }
}

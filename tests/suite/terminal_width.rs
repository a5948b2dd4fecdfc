//! Every line every command prints to a terminal fits it: `report`, `doctor`, `predict`,
//! `apply --dry-run`, `ignore`, `config` and `watch`'s live view, on every bundled sample, in a
//! real pseudo-terminal at 60, 80 and 120 columns. Nothing is snapshotted: each line's display
//! width is computed (escape sequences stripped, wide characters two columns). Code is never
//! broken: every `.index(…)` call, backtick span and `$` command the same run prints piped is
//! found whole on one line of the terminal's output, and no wrapped prose loses a word. Piped,
//! lines stay whole.

use crate::cli_schema::project;
use crate::common::{bin, root, run_in_pty_sized, run_program_in_pty};
use regex::Regex;
use std::path::Path;
use unicode_width::UnicodeWidthStr;

const WIDTHS: [u16; 3] = [60, 80, 120];

/// A suggestion that is declined, with a reason long enough to need wrapping.
const CONFIG: &str = r#"[[ignore]]
table = "session"
fields = ["userId", "expiresAt"]
reason = "sessions are listed once per sign-in from the admin page only, and the table stays small enough that a scan is fine for now"
"#;

/// A project the commands run in: a schema fixture (`documented`: the component's 0.12.5
/// example, without the organization plugin, so its tables' suggestions explain how to
/// regenerate; `alias_import`: a real app's, where `apply` has indexes to add), a configuration
/// with an ignored suggestion, the bundled samples under `sample-logs/` and the pinned Better
/// Auth packages.
fn workspace_with(case: &str) -> tempfile::TempDir {
    let (tmp, _) = project(case);
    std::fs::write(tmp.path().join("ba-index-advisor.toml"), CONFIG).unwrap();
    let samples = tmp.path().join("sample-logs");
    std::fs::create_dir(&samples).unwrap();
    for name in samples_names() {
        std::fs::copy(root().join("sample-logs").join(&name), samples.join(&name)).unwrap();
    }
    std::os::unix::fs::symlink(
        crate::predict::packages().join("node_modules"),
        tmp.path().join("node_modules"),
    )
    .unwrap();
    tmp
}

fn workspace() -> tempfile::TempDir {
    workspace_with("documented")
}

fn samples_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("sample-logs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    names
}

/// stdout then stderr of a piped run, with `env` set.
fn piped_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut cmd = bin();
    cmd.current_dir(dir)
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1");
    for (key, value) in env {
        cmd.env(key, value);
    }
    let out = cmd.args(args).output().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn piped(dir: &Path, args: &[&str]) -> String {
    piped_with(dir, args, &[])
}

/// Everything the run wrote to a terminal `cols` wide, as the lines it drew: split at newlines
/// and carriage returns, escape sequences (colours, cursor moves) removed.
fn on_terminal(cols: u16, dir: &Path, args: &[&str], color: bool) -> Vec<String> {
    let (_, raw) = run_in_pty_sized(cols, args, |cmd| {
        cmd.cwd(dir);
        if color {
            cmd.env_remove("NO_COLOR");
        }
    });
    screen_lines(&raw)
}

fn screen_lines(raw: &str) -> Vec<String> {
    let escape = Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07").unwrap();
    escape
        .replace_all(raw, "")
        .split('\n')
        .flat_map(|line| line.split('\r'))
        .map(str::to_owned)
        .collect()
}

fn is_table_row(line: &str) -> bool {
    line.starts_with(['│', '┌', '├', '└'])
}

/// The code a piped run prints outside its table: each `.index(…)` call (with the tool's mark),
/// each backtick span, each `$ command`.
fn code_in(piped: &str) -> Vec<String> {
    let call = Regex::new(r#"\.index\("[^"]*", \[[^\]]*\](?: /\*[^*]*\*/)?\)"#).unwrap();
    let span = Regex::new(r"`[^`]+`").unwrap();
    let mut code = Vec::new();
    for line in piped.lines().filter(|l| !is_table_row(l)) {
        code.extend(call.find_iter(line).map(|m| m.as_str().to_owned()));
        code.extend(span.find_iter(line).map(|m| m.as_str().to_owned()));
        if let Some(command) = line.trim_start().strip_prefix("$ ") {
            code.push(command.to_owned());
        }
    }
    code
}

/// The words of `text`, one space apart; a chain broken before a call reads as one.
fn words(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" .index(", ".index(")
}

/// A line wider than the terminal is a single piece of code that is wider by itself: no
/// indentation left, and one call, one backtick span, one command or one word.
fn one_wide_token(line: &str, commands: &[String]) -> bool {
    let call = Regex::new(r#"^\.index\("[^"]*", \[[^\]]*\](?: /\*[^*]*\*/)?\)\S*$"#).unwrap();
    let span = Regex::new(r"^`[^`]+`\S*$").unwrap();
    !line.starts_with(' ')
        && (!line.contains(' ')
            || call.is_match(line)
            || span.is_match(line)
            || commands.iter().any(|c| c == line))
}

/// The checks every command's terminal output passes, against the same run piped. `verbatim`
/// are lines printed as a file holds them (a diff's), exempt from the width.
fn check_fits(label: &str, cols: u16, lines: &[String], piped: &str, verbatim: &[&str]) {
    let screen = lines.join("\n");
    let code = code_in(piped);
    let commands: Vec<String> = piped
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("$ "))
        .map(str::to_owned)
        .collect();
    for line in lines {
        let width = line.trim_end().width();
        assert!(
            width <= usize::from(cols)
                || one_wide_token(line.trim_end(), &commands)
                || verbatim.contains(&line.as_str()),
            "{label} at {cols} columns: a line {width} wide:\n{line}\n---\n{screen}"
        );
    }
    for piece in &code {
        assert!(
            lines.iter().any(|l| l.contains(piece.as_str())),
            "{label} at {cols} columns: `{piece}` is not whole on one line:\n{screen}"
        );
    }
    // Wrapping moves words to the next line; it never drops one.
    let all = words(&screen);
    for line in piped.lines().filter(|l| !is_table_row(l)) {
        let line = line.trim_start();
        let line = line.strip_prefix("$ ").unwrap_or(line);
        if line.starts_with("! ") {
            continue; // the legend of a column that may not fit: `report`'s own test
        }
        let expected = words(line);
        assert!(
            all.contains(&expected),
            "{label} at {cols} columns: lost words of\n{expected}\n---\n{screen}"
        );
    }
}

/// Runs `args` piped and at each width, and checks each terminal run.
fn fits(dir: &Path, args: &[&str], color: bool) -> Vec<(u16, Vec<String>)> {
    let reference = piped(dir, args);
    WIDTHS
        .iter()
        .map(|&cols| {
            let lines = on_terminal(cols, dir, args, color);
            check_fits(&args.join(" "), cols, &lines, &reference, &[]);
            (cols, lines)
        })
        .collect()
}

#[test]
fn report_fits_every_width_and_says_what_the_table_dropped() {
    let dir = workspace();
    let mut widest_piped = 0;
    for sample in samples_names() {
        let path = format!("sample-logs/{sample}");
        let args = ["report", path.as_str()];
        let reference = piped(dir.path(), &args);
        widest_piped = widest_piped.max(reference.lines().map(|l| l.width()).max().unwrap_or(0));
        // Piped, nothing is wrapped: the same as an unlimited terminal.
        assert_eq!(
            reference,
            piped_with(dir.path(), &args, &[("COLUMNS", "100000")]),
            "{sample}"
        );
        for (cols, lines) in fits(dir.path(), &args, true) {
            let header = lines
                .iter()
                .find(|l| l.starts_with("│ "))
                .cloned()
                .unwrap_or_default();
            let legend = lines.iter().any(|l| l.starts_with("! an execution"));
            let marked = lines.iter().any(|l| is_table_row(l) && l.contains(" ! "));
            let summary = lines.iter().any(|l| l.starts_with("Near the read limit"));
            let near_limit = reference.contains("\n! an execution");
            if header.contains("Docs read") {
                assert_eq!(
                    legend, marked,
                    "{sample} at {cols}: the legend is for a `!`"
                );
                assert!(!summary, "{sample} at {cols}");
            } else {
                assert!(!legend, "{sample} at {cols}: a legend without its column");
                assert_eq!(
                    summary, near_limit,
                    "{sample} at {cols}: the dropped column's warning is said"
                );
            }
        }
    }
    assert!(
        widest_piped > 120,
        "piped lines keep their length ({widest_piped})"
    );
}

#[test]
fn doctor_fits_every_width() {
    // Problems with fixes: a reserved name, a duplicate of a generated index, an unknown field.
    let (faulty, component) = project("documented");
    let schema = component.join("schema.ts");
    let text = std::fs::read_to_string(&schema).unwrap();
    let custom = "  user: tables.user.index(\"custom_index\", [\"foo\"]),\n";
    assert!(text.contains(custom));
    std::fs::write(
        &schema,
        text.replace(
            custom,
            &format!(
                "{custom}  session: tables.session\n    .index(\"by_creation_time\", \
                 [\"ipAddress\"])\n    .index(\"by_token\", [\"token\"])\n    \
                 .index(\"usrAgent\", [\"usrAgent\"]),\n"
            ),
        ),
    )
    .unwrap();
    let lines = fits(faulty.path(), &["doctor"], false);
    assert!(
        lines[0].1.iter().any(|l| l.contains("fix:")),
        "{:?}",
        lines[0].1
    );
    let dir = workspace();
    for sample in samples_names() {
        let path = format!("sample-logs/{sample}");
        fits(dir.path(), &["doctor", &path], false);
    }
}

#[test]
fn predict_fits_every_width() {
    let dir = workspace();
    fits(dir.path(), &["predict"], false);
    for sample in samples_names() {
        let path = format!("sample-logs/{sample}");
        fits(dir.path(), &["predict", &path], false);
    }
}

/// The diff `apply --dry-run` prints is the file's own lines, as wide as the file has them (the
/// edit decides their layout, not the terminal); what `apply` says around it fits.
#[test]
fn apply_dry_run_fits_every_width() {
    let mut diffs = 0;
    for case in ["documented", "alias_import"] {
        let dir = workspace_with(case);
        for sample in samples_names() {
            let path = format!("sample-logs/{sample}");
            let args = ["apply", "--dry-run", path.as_str()];
            let out = bin()
                .current_dir(dir.path())
                .env_remove("COLUMNS")
                .args(args)
                .output()
                .unwrap();
            let diff = String::from_utf8_lossy(&out.stdout).into_owned();
            diffs += usize::from(diff.starts_with("--- a/"));
            let diff_lines: Vec<&str> = diff.lines().collect();
            let reference = piped(dir.path(), &args);
            for cols in WIDTHS {
                let lines = on_terminal(cols, dir.path(), &args, false);
                check_fits(&args.join(" "), cols, &lines, &reference, &diff_lines);
            }
        }
    }
    assert!(diffs > 0, "some sample needs an index in some schema");
}

#[test]
fn ignore_fits_every_width() {
    // Refused: an order Better Auth never prints, a table the schema lacks; then written. Each
    // run starts from the same file.
    for args in [
        &[
            "ignore",
            "session",
            "userId",
            "token",
            "expiresAt",
            "--reason",
            "x",
        ][..],
        &[
            "ignore",
            "membr",
            "organizationId",
            "userId",
            "--reason",
            "x",
        ],
        &["ignore", "session", "ipAddress", "--reason", "admin only"],
    ] {
        for cols in WIDTHS {
            let (before, fresh) = (workspace(), workspace());
            let reference = piped(before.path(), args).replace(
                &before.path().display().to_string(),
                &fresh.path().display().to_string(),
            );
            let lines = on_terminal(cols, fresh.path(), args, false);
            check_fits(&args.join(" "), cols, &lines, &reference, &[]);
        }
    }
}

#[test]
fn config_fits_every_width_and_reads_back_the_same() {
    let dir = workspace();
    let reference = piped(dir.path(), &["config"]);
    let read = |text: &str| text.parse::<toml::Table>().unwrap();
    for cols in WIDTHS {
        let lines = on_terminal(cols, dir.path(), &["config"], false);
        for line in &lines {
            assert!(
                line.trim_end().width() <= usize::from(cols),
                "config at {cols}: {line}"
            );
        }
        // A long value is fitted, not changed: the terminal's text is the same TOML.
        assert_eq!(
            read(&lines.join("\n")),
            read(&reference),
            "config at {cols}"
        );
    }
}

/// `watch -` with the sample piped into it (`zcat` for a gzipped one), through a shell: the
/// input ends, and so does the run.
fn watch_script(sample: &str, format: &str) -> String {
    let reader = if sample.ends_with(".gz") {
        "zcat"
    } else {
        "cat"
    };
    format!("{reader} sample-logs/{sample} | \"$BIN\" watch - {format}")
}

/// The final events of the same watch run piped: each suggestion's reason and callers.
fn watch_reference(dir: &Path, sample: &str) -> Vec<serde_json::Value> {
    let out = std::process::Command::new("sh")
        .args(["-c", &watch_script(sample, "--format json")])
        .env("BIN", env!("CARGO_BIN_EXE_ba-index-advisor"))
        .current_dir(dir)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "final")
        .collect()
}

#[test]
fn the_watch_live_view_fits_every_width_and_keeps_its_advice() {
    let dir = workspace();
    for sample in samples_names() {
        let events = watch_reference(dir.path(), &sample);
        assert!(!events.is_empty() || sample == "insights.json", "{sample}");
        let script = watch_script(&sample, "");
        for cols in WIDTHS {
            let (_, raw) = run_program_in_pty(cols, "sh", &["-c", &script], |cmd| {
                cmd.cwd(dir.path());
                cmd.env("BIN", env!("CARGO_BIN_EXE_ba-index-advisor"));
            });
            let lines = screen_lines(&raw);
            let screen = lines.join("\n");
            for line in &lines {
                let width = line.trim_end().width();
                assert!(
                    width <= usize::from(cols) || one_wide_token(line.trim_end(), &[]),
                    "watch on {sample} at {cols}: a line {width} wide:\n{line}\n---\n{screen}"
                );
            }
            let all = words(&screen);
            let callers_shown = lines
                .iter()
                .any(|l| l.starts_with("STATUS ") && l.contains("CALLERS"));
            for event in &events {
                // A reason keeps its advice: every word of it, its code whole on one line.
                if let Some(reason) = event["reason"].as_str() {
                    assert!(
                        all.contains(&words(reason)),
                        "watch on {sample} at {cols}: cut reason\n{reason}\n---\n{screen}"
                    );
                    for piece in code_in(reason) {
                        assert!(
                            lines.iter().any(|l| l.contains(&piece)),
                            "watch on {sample} at {cols}: `{piece}` broken\n{screen}"
                        );
                    }
                }
                // Callers are cut on the left, as `report` cuts them.
                let callers: Vec<&str> = event["callers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|c| c.as_str())
                    .collect();
                if callers_shown && !callers.is_empty() {
                    let joined = callers.join(", ");
                    let status = event["status"].as_str().unwrap();
                    let cut_on_left = |row: &str| {
                        let row = row.trim_end();
                        row.ends_with(&joined)
                            || row
                                .rsplit_once('…')
                                .is_some_and(|(_, kept)| !kept.is_empty() && joined.ends_with(kept))
                    };
                    assert!(
                        lines
                            .iter()
                            .filter(|l| l.starts_with(status))
                            .any(|l| cut_on_left(l)),
                        "watch on {sample} at {cols}: callers {joined}\n{screen}"
                    );
                }
            }
        }
    }
}

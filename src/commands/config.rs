//! `config`: prints the effective configuration as TOML, each value marked with its origin.

use crate::config::{Config, FILE_NAME, toml_string};
use crate::render::fit;
use clap::Args;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor config\n  \
    ba-index-advisor config --config ci/ba-index-advisor.toml\n\n\
    Flags given to a command override these values for that run.")]
pub struct ConfigArgs {}

fn origin(from_file: bool) -> &'static str {
    if from_file {
        "# from the file"
    } else {
        "# default"
    }
}

/// A TOML comment, wrapped onto more `#` rows when it is wider than `width`.
fn comment(out: &mut String, text: &str, width: Option<usize>) {
    fit::push_hanging(out, &format!("# {text}"), width, "", "#   ");
}

/// `key = value  # note` on one row when it fits in `width`; otherwise the note goes on its own
/// row above, and a string value too wide for its row is written as a multi-line string whose
/// line-ending backslashes TOML reads back as the same string.
fn assignment(out: &mut String, key: &str, value: &str, note: Option<&str>, width: Option<usize>) {
    let line = format!("{key} = {value}");
    let whole = match note {
        Some(note) => format!("{line}  {note}"),
        None => line.clone(),
    };
    let Some(max) = width.filter(|&max| fit::width(&whole) > max) else {
        writeln!(out, "{whole}").ok();
        return;
    };
    if let Some(note) = note {
        fit::push_hanging(out, note, width, "", "#   ");
    }
    let body = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        // Rows are cut at single spaces, each kept before its backslash: other spacing would
        // not read back the same.
        .filter(|b| fit::width(&line) > max && !b.contains("  ") && b.trim() == *b);
    let Some(body) = body else {
        writeln!(out, "{line}").ok();
        return;
    };
    // `\` then a newline: TOML drops the newline and the next row's indentation, so each row
    // ends with the space the text had there.
    writeln!(out, "{key} = \"\"\"\\").ok();
    let rows = fit::wrap(body, Some(max.saturating_sub(4)), "  ", "  ");
    let last = rows.len().saturating_sub(1);
    for (i, row) in rows.iter().enumerate() {
        if i == last {
            writeln!(out, "{row}\"\"\"").ok();
        } else {
            writeln!(out, "{row} \\").ok();
        }
    }
}

fn path_line(out: &mut String, key: &str, value: Option<&Path>, unset: &str, width: Option<usize>) {
    match value {
        Some(path) => assignment(
            out,
            key,
            &toml_string(&path.display().to_string()),
            Some("# from the file"),
            width,
        ),
        None => comment(out, &format!("{key}: not set ({unset})"), width),
    }
}

/// The effective configuration as TOML (it loads back as an equivalent file), fitted to
/// `width` (`None`: one row per value).
pub fn render(config: &Config, cwd: &Path, width: Option<usize>) -> String {
    let mut out = String::new();
    let heading = match &config.path {
        Some(path) => format!("configuration file: {}", path.display()),
        None => format!("no {FILE_NAME} at or above {}: the defaults", cwd.display()),
    };
    comment(&mut out, &heading, width);
    // Named as discovery finds it here: `convex/auth` when convex.config.ts registers that.
    let discovered = match crate::schema::find_dir(None, cwd) {
        Ok(dir) => format!("discovered {}", crate::schema::display_path(&dir)),
        Err(_) => "none found: convex/betterAuth in the nearest folder with convex/, or the \
                   local component convex/convex.config.ts registers"
            .to_owned(),
    };
    path_line(
        &mut out,
        "schema_dir",
        config.schema_dir.as_deref(),
        &discovered,
        width,
    );
    path_line(
        &mut out,
        "rules_dir",
        config.rules_dir.as_deref(),
        "the built-in rules only",
        width,
    );
    assignment(
        &mut out,
        "min_count",
        &config.min_count.unwrap_or(1).to_string(),
        Some(origin(config.min_count.is_some())),
        width,
    );
    assignment(
        &mut out,
        "merge",
        &config.merge.unwrap_or(true).to_string(),
        Some(origin(config.merge.is_some())),
        width,
    );
    let watch = &config.watch;
    writeln!(out, "\n[watch]").ok();
    assignment(
        &mut out,
        "prod",
        &watch.prod.unwrap_or(false).to_string(),
        Some(origin(watch.prod.is_some())),
        width,
    );
    let text_line = |out: &mut String, key: &str, value: Option<String>, unset: &str| match value {
        Some(value) => assignment(out, key, &value, Some("# from the file"), width),
        None => comment(out, &format!("{key}: not set ({unset})"), width),
    };
    text_line(
        &mut out,
        "deployment",
        watch.deployment.as_deref().map(toml_string),
        "the one the project's env file selects",
    );
    text_line(
        &mut out,
        "history",
        watch.history.map(|h| h.to_string()),
        "no earlier entries",
    );
    path_line(
        &mut out,
        "env_file",
        watch.env_file.as_deref(),
        "the Convex CLI's default",
        width,
    );
    text_line(
        &mut out,
        "cmd",
        watch.cmd.as_deref().map(toml_string),
        "npx convex logs --jsonl",
    );
    if config.ignore.is_empty() {
        writeln!(out, "\n# no [[ignore]] entries").ok();
    }
    for entry in &config.ignore {
        let fields: Vec<String> = entry.fields.iter().map(|f| toml_string(f)).collect();
        writeln!(out, "\n[[ignore]]").ok();
        assignment(&mut out, "table", &toml_string(&entry.table), None, width);
        assignment(
            &mut out,
            "fields",
            &format!("[{}]", fields.join(", ")),
            None,
            width,
        );
        assignment(&mut out, "reason", &toml_string(&entry.reason), None, width);
    }
    out
}

pub fn run(_args: ConfigArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let cwd = std::env::current_dir()?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(render(config, &cwd, fit::stdout_width()).as_bytes())?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

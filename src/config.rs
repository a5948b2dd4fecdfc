//! The project file `ba-index-advisor.toml`: discovery (walking up from the current folder),
//! strict parsing with positioned errors, and the dismissals (`[[ignore]]`, `min_count`) that
//! every command applies to its report in one place.

use crate::advise::Dismissals;
use crate::position::line_col;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The file name looked for in the current folder and each of its ancestors.
pub const FILE_NAME: &str = "ba-index-advisor.toml";

/// The file as written. Paths are kept as written; `Config` resolves them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub schema_dir: Option<PathBuf>,
    pub rules_dir: Option<PathBuf>,
    pub min_count: Option<u64>,
    pub merge: Option<bool>,
    #[serde(default)]
    pub watch: WatchConfig,
    #[serde(default)]
    pub ignore: Vec<IgnoreEntry>,
}

/// `[watch]`: the deployment `watch` follows by default (passed to `npx convex logs`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    pub prod: Option<bool>,
    pub deployment: Option<String>,
    pub history: Option<u32>,
    pub env_file: Option<PathBuf>,
    pub cmd: Option<String>,
}

/// One `[[ignore]]` entry: a suggestion the team declined, and why.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IgnoreEntry {
    pub table: String,
    pub fields: Vec<String>,
    pub reason: String,
}

/// A configuration problem, rendered as `file:line:col: message`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{column}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
}

/// The effective project configuration: the file's values with paths resolved against the
/// file's folder, or the defaults when there is no file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file read, if any.
    pub path: Option<PathBuf>,
    pub schema_dir: Option<PathBuf>,
    pub rules_dir: Option<PathBuf>,
    pub min_count: Option<u64>,
    pub merge: Option<bool>,
    pub watch: WatchConfig,
    pub ignore: Vec<IgnoreEntry>,
}

impl Config {
    /// `explicit` (from `--config`) or the nearest `ba-index-advisor.toml` at or above `cwd`;
    /// the defaults when neither exists.
    pub fn load(explicit: Option<&Path>, cwd: &Path) -> Result<Self, ConfigError> {
        let path = match explicit {
            Some(path) => Some(cwd.join(path)),
            None => discover(cwd),
        };
        match path {
            Some(path) => Self::read(&path),
            None => {
                tracing::debug!("no {FILE_NAME} found at or above {}", cwd.display());
                Ok(Self::default())
            }
        }
    }

    pub fn read(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let raw = parse(path, &text)?;
        tracing::info!(
            "configuration from {} ({} ignore entries)",
            path.display(),
            raw.ignore.len()
        );
        let dir = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: Option<PathBuf>| p.map(|p| dir.join(p));
        Ok(Self {
            path: Some(path.to_path_buf()),
            schema_dir: resolve(raw.schema_dir),
            rules_dir: resolve(raw.rules_dir),
            min_count: raw.min_count,
            merge: raw.merge,
            watch: WatchConfig {
                env_file: resolve(raw.watch.env_file),
                ..raw.watch
            },
            ignore: raw.ignore,
        })
    }

    /// The dismissals every command applies to its findings.
    pub fn dismissals(&self) -> Dismissals {
        Dismissals {
            ignore: self.ignore.clone(),
            min_count: self.min_count.unwrap_or(1),
        }
    }

    /// `--no-merge` wins; then the file's `merge`; then merging.
    pub fn merge(&self, no_merge_flag: bool) -> bool {
        !no_merge_flag && self.merge.unwrap_or(true)
    }

    /// A flag's path, else the file's.
    pub fn path_or(flag: Option<&Path>, file: Option<&Path>) -> Option<PathBuf> {
        flag.or(file).map(Path::to_path_buf)
    }
}

/// The nearest `ba-index-advisor.toml` at or above `start`.
pub fn discover(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|candidate| candidate.is_file())
}

/// Parses the file's text strictly: an unknown key or a wrong type is an error at its position.
pub fn parse(path: &Path, text: &str) -> Result<RawConfig, ConfigError> {
    toml::from_str(text).map_err(|err| {
        let (line, column) = err.span().map_or((1, 1), |span| line_col(text, span.start));
        ConfigError::Invalid {
            path: path.to_path_buf(),
            line,
            column,
            message: err.message().trim_end().to_owned(),
        }
    })
}

/// Appends an `[[ignore]]` entry to the text of a config file, leaving every existing byte as
/// it was. Returns `None` when an entry for this (table, fields) already exists.
pub fn append_ignore(
    path: &Path,
    text: &str,
    entry: &IgnoreEntry,
) -> Result<Option<String>, ConfigError> {
    let raw = parse(path, text)?;
    if raw
        .ignore
        .iter()
        .any(|e| e.table == entry.table && e.fields == entry.fields)
    {
        return Ok(None);
    }
    let mut out = text.to_owned();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let fields: Vec<String> = entry.fields.iter().map(|f| toml_string(f)).collect();
    out.push_str(&format!(
        "[[ignore]]\ntable = {}\nfields = [{}]\nreason = {}\n",
        toml_string(&entry.table),
        fields.join(", "),
        toml_string(&entry.reason)
    ));
    // The appended text must leave a valid file (an inline `ignore = [...]` array would clash).
    parse(path, &out)?;
    Ok(Some(out))
}

/// A TOML basic string. JSON's escapes are a subset of TOML's.
pub fn toml_string(value: &str) -> String {
    serde_json::Value::String(value.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appended_strings_round_trip() {
        let entry = IgnoreEntry {
            table: "user".into(),
            fields: vec!["email".into(), "a\"b\\c\n".into()],
            reason: "née \u{1}".into(),
        };
        let text = append_ignore(Path::new("x.toml"), "# c\nmin_count = 2", &entry)
            .unwrap()
            .unwrap();
        assert!(text.starts_with("# c\nmin_count = 2\n\n[[ignore]]\n"));
        let raw = parse(Path::new("x.toml"), &text).unwrap();
        assert_eq!(raw.ignore, vec![entry.clone()]);
        assert_eq!(
            append_ignore(Path::new("x.toml"), &text, &entry).unwrap(),
            None
        );
    }
}

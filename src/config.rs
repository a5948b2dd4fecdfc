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
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
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

/// Why an `[[ignore]]` entry was not removed.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{table} [{}] is not ignored in {}{}", fields.join(", "), path.display(), ignored_hint(table, ignored))]
    NotIgnored {
        path: PathBuf,
        table: String,
        fields: Vec<String>,
        /// The lists the file does ignore on that table.
        ignored: Vec<Vec<String>>,
    },
    #[error("{}:{line}: this entry is not written as an `[[ignore]]` table this tool can remove \
             byte for byte ({why}); delete it by hand", path.display())]
    NotRemovable {
        path: PathBuf,
        line: usize,
        why: String,
    },
}

fn ignored_hint(table: &str, ignored: &[Vec<String>]) -> String {
    if ignored.is_empty() {
        return String::new();
    }
    let lists: Vec<String> = ignored
        .iter()
        .map(|f| format!("{table} [{}]", f.join(", ")))
        .collect();
    format!(" (it ignores {})", lists.join(", "))
}

/// A table header line: `[name]` or `[[name]]`, with the name as written, or `None`.
fn header(line: &str) -> Option<(bool, &str)> {
    let t = line.trim();
    let (array, open, close) = if t.starts_with("[[") {
        (true, 2, "]]")
    } else if t.starts_with('[') {
        (false, 1, "]")
    } else {
        return None;
    };
    let end = t.find(close)?;
    let rest = t[end + close.len()..].trim_start();
    (rest.is_empty() || rest.starts_with('#')).then(|| (array, t[open..end].trim()))
}

fn is_ignore_header(line: &str) -> bool {
    matches!(
        header(line),
        Some((true, "ignore" | "\"ignore\"" | "'ignore'"))
    )
}

/// Lines of `text` with their byte offsets; each line includes its `\n`.
fn lines_at(text: &str) -> Vec<(usize, &str)> {
    let mut at = 0;
    text.split_inclusive('\n')
        .map(|line| {
            let start = at;
            at += line.len();
            (start, line)
        })
        .collect()
}

fn blank_or_comment(line: &str) -> bool {
    let t = line.trim();
    t.is_empty() || t.starts_with('#')
}

/// Removes the `[[ignore]]` entry for exactly (table, fields) from the text of a config file:
/// its header, its keys, and the blank line before the header that separated it (as `ignore`
/// appends it). Every other byte stays. The result is parsed again and must hold the same
/// configuration minus that entry, or nothing is removed.
pub fn remove_ignore(
    path: &Path,
    text: &str,
    table: &str,
    fields: &[String],
) -> Result<String, RemoveError> {
    #[derive(Deserialize)]
    struct Located {
        #[serde(default)]
        ignore: Vec<LocatedEntry>,
    }
    #[derive(Deserialize)]
    struct LocatedEntry {
        table: toml::Spanned<String>,
    }
    let raw = parse(path, text)?;
    let Some(k) = raw
        .ignore
        .iter()
        .position(|e| e.table == table && e.fields == fields)
    else {
        return Err(RemoveError::NotIgnored {
            path: path.to_path_buf(),
            table: table.to_string(),
            fields: fields.to_vec(),
            ignored: raw
                .ignore
                .iter()
                .filter(|e| e.table == table)
                .map(|e| e.fields.clone())
                .collect(),
        });
    };
    let located: Located = toml::from_str(text).map_err(|err| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: 1,
        column: 1,
        message: err.message().trim_end().to_owned(),
    })?;
    let at = located.ignore.get(k).map_or(0, |e| e.table.span().start);
    let (line, _) = line_col(text, at);
    let not_removable = |why: &str| RemoveError::NotRemovable {
        path: path.to_path_buf(),
        line,
        why: why.to_string(),
    };
    let lines = lines_at(text);
    // The entry's header: the nearest header line above its `table` key.
    let Some(h) = lines
        .iter()
        .rposition(|(start, l)| *start <= at && header(l).is_some())
        .filter(|&h| is_ignore_header(lines[h].1))
    else {
        return Err(not_removable(
            "it is written inline, as `ignore = [...]` or a dotted key",
        ));
    };
    // Its keys: up to the next header, less the blank lines and comments that lead into it.
    let next = lines[h + 1..]
        .iter()
        .position(|(_, l)| header(l).is_some())
        .map_or(lines.len(), |n| h + 1 + n);
    let mut end = next;
    while end > h + 1 && blank_or_comment(lines[end - 1].1) {
        end -= 1;
    }
    // One blank line separated the entry from its neighbours: the one above it, or, for the
    // first entry of the file, those below it.
    let mut start = lines[h].0;
    if h > 0 && lines[h - 1].1.trim().is_empty() {
        start = lines[h - 1].0;
    } else if start == 0 {
        while end < lines.len() && lines[end].1.trim().is_empty() {
            end += 1;
        }
    }
    let end = lines.get(end).map_or(text.len(), |(offset, _)| *offset);
    let out = format!("{}{}", &text[..start], &text[end..]);
    let mut expected = raw;
    expected.ignore.remove(k);
    match parse(path, &out) {
        Ok(got) if got == expected => Ok(out),
        _ => Err(not_removable(
            "its text could not be told apart from the entries around it",
        )),
    }
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

    fn entry(table: &str, fields: &[&str]) -> IgnoreEntry {
        IgnoreEntry {
            table: table.into(),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            reason: "r".into(),
        }
    }

    #[test]
    fn removing_an_appended_entry_gives_back_the_file() {
        let path = Path::new("x.toml");
        let before = "# c\nmin_count = 2 # two\n\n[watch]\nprod = true\n";
        let one = append_ignore(path, before, &entry("user", &["email"]))
            .unwrap()
            .unwrap();
        let two = append_ignore(path, &one, &entry("session", &["userId"]))
            .unwrap()
            .unwrap();
        let removed = remove_ignore(path, &two, "session", &["userId".into()]).unwrap();
        assert_eq!(removed, one);
        let removed = remove_ignore(path, &removed, "user", &["email".into()]).unwrap();
        assert_eq!(removed, before);
        // The first entry of a file takes the blank line after it.
        let first = append_ignore(path, "", &entry("user", &["email"]))
            .unwrap()
            .unwrap();
        let both = append_ignore(path, &first, &entry("session", &["userId"]))
            .unwrap()
            .unwrap();
        let rest = remove_ignore(path, &both, "user", &["email".into()]).unwrap();
        assert_eq!(
            rest,
            "[[ignore]]\ntable = \"session\"\nfields = [\"userId\"]\nreason = \"r\"\n"
        );
    }

    #[test]
    fn an_inline_entry_is_not_removed() {
        let text = "ignore = [{ table = \"user\", fields = [\"email\"], reason = \"r\" }]\n";
        let err = remove_ignore(Path::new("x.toml"), text, "user", &["email".into()]);
        assert!(
            matches!(err, Err(RemoveError::NotRemovable { line: 1, .. })),
            "{err:?}"
        );
        let err = remove_ignore(Path::new("x.toml"), text, "user", &["name".into()]);
        assert!(
            matches!(err, Err(RemoveError::NotIgnored { .. })),
            "{err:?}"
        );
    }
}

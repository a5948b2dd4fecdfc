//! The rule set: log patterns from `rules/*.toml`, embedded at build time, plus any
//! `--rules DIR` adds at run time. A bad rule file is reported with file:line. The table names
//! come from `rules/knowledge.toml` (`knowledge.rs`).

use super::knowledge::Knowledge;
use crate::position::line_col;
use crate::signal::SignalKind;
use regex::Regex;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use thiserror::Error;
use toml::Spanned;

/// The rule files shipped in the binary, as (name, contents).
const EMBEDDED_RULES: &[(&str, &str)] = &[(
    "rules/better-auth.toml",
    include_str!("../../rules/better-auth.toml"),
)];

#[derive(Debug, Error)]
pub enum RuleError {
    #[error("{file}:{line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    description: String,
    versions: String,
    kind: Spanned<String>,
    needle: Spanned<String>,
    pattern: Spanned<String>,
    #[serde(default = "one_line")]
    lines: usize,
    #[serde(default)]
    fields_separator: Option<String>,
    #[serde(default)]
    strip_legacy_underscore: bool,
}

fn one_line() -> usize {
    1
}

/// One compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Arc<str>,
    pub description: String,
    pub versions: String,
    pub kind: SignalKind,
    pub needle: String,
    pub pattern: Pattern,
    /// How many physical lines the message spans when printed raw (unquoted).
    pub lines: usize,
    pub fields_separator: Option<String>,
    pub strip_legacy_underscore: bool,
    pub source: String,
}

/// A rule's pattern. A rule file given at run time is compiled as it is read, so a bad pattern
/// is reported at its line; an embedded rule is compiled when its needle is first found (its
/// tests compile it), so a log where it never appears does not pay for it: a Unicode `\w`
/// costs about a millisecond.
#[derive(Debug, Clone)]
pub struct Pattern {
    source: Arc<str>,
    /// Shared by the clones each thread's matcher makes, so it is compiled once.
    compiled: Arc<OnceLock<Regex>>,
}

impl Pattern {
    pub fn regex(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&self.source).expect("an embedded rule's pattern compiles (tested)")
        })
    }
}

/// When a rule file's patterns are compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compile {
    /// Now, each checked for its captures.
    Now,
    /// On first use: the embedded files, checked by their tests.
    OnFirstUse,
}

#[derive(Debug, Clone)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Every table Better Auth or a known plugin creates (`rules/knowledge.toml`).
    pub known_tables: Vec<String>,
}

impl RuleSet {
    /// The rules shipped in the binary.
    pub fn embedded() -> Result<Self, RuleError> {
        let mut rules = Vec::new();
        for (name, text) in EMBEDDED_RULES {
            rules.extend(parse_rule_file(name, text, Compile::OnFirstUse)?);
        }
        Ok(Self {
            rules,
            known_tables: Knowledge::embedded()?.known_tables(),
        })
    }

    /// Adds every `*.toml` rule file in `dir` (sorted by name); ids must stay unique.
    pub fn extend_from_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let io = |source| RuleError::Io {
            path: dir.to_owned(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).map_err(|source| RuleError::Io {
                path: path.clone(),
                source,
            })?;
            let name = path.display().to_string();
            for rule in parse_rule_file(&name, &text, Compile::Now)? {
                if self.rules.iter().any(|r| r.id == rule.id) {
                    return Err(RuleError::Invalid {
                        line: line_col(&text, find_id_offset(&text, &rule.id)).0,
                        file: name,
                        message: format!("rule id `{}` is already defined", rule.id),
                    });
                }
                self.rules.push(rule);
            }
        }
        Ok(())
    }

    /// Every literal that marks a line worth parsing: the rules' needles plus the phrases
    /// that make a line a suspect when no rule matches it.
    pub fn needles(&self) -> Vec<String> {
        let mut needles: Vec<String> = SUSPECT_PHRASES.iter().map(|s| (*s).to_owned()).collect();
        for rule in &self.rules {
            if !needles.iter().any(|n| rule.needle.contains(n.as_str())) {
                needles.push(rule.needle.clone());
            }
        }
        needles
    }

    /// The most physical lines any rule's raw rendering spans.
    pub fn max_lines(&self) -> usize {
        self.rules.iter().map(|r| r.lines).max().unwrap_or(1)
    }
}

/// A line mentioning one of these that matches no rule is reported as a suspect, so a change
/// in upstream's wording cannot pass silently.
pub const SUSPECT_PHRASES: &[&str] = &["without an index", "No index found"];

fn find_id_offset(text: &str, id: &str) -> usize {
    text.find(&format!("\"{id}\"")).unwrap_or(0)
}

pub(super) fn toml_error(file: &str, text: &str, err: &toml::de::Error) -> RuleError {
    RuleError::Invalid {
        file: file.to_owned(),
        line: err.span().map_or(1, |s| line_col(text, s.start).0),
        message: err.message().to_owned(),
    }
}

fn parse_rule_file(file: &str, text: &str, compile: Compile) -> Result<Vec<Rule>, RuleError> {
    let parsed: RuleFile = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
    let invalid = |offset: usize, message: String| RuleError::Invalid {
        file: file.to_owned(),
        line: line_col(text, offset).0,
        message,
    };
    let mut rules: Vec<Rule> = Vec::new();
    for spanned in parsed.rule {
        let raw = spanned.into_inner();
        let id = raw.id.get_ref().trim();
        if id.is_empty() {
            return Err(invalid(raw.id.span().start, "rule id is empty".into()));
        }
        if rules.iter().any(|r| &*r.id == id) {
            return Err(invalid(
                raw.id.span().start,
                format!("rule id `{id}` is defined twice"),
            ));
        }
        let kind = match raw.kind.get_ref().as_str() {
            "missing_index_warning" => SignalKind::MissingIndexWarning,
            "unique_field_error" => SignalKind::UniqueFieldError,
            other => {
                return Err(invalid(
                    raw.kind.span().start,
                    format!(
                        "unknown kind `{other}`; expected `missing_index_warning` or `unique_field_error`"
                    ),
                ));
            }
        };
        let pattern = Pattern {
            source: Arc::from(raw.pattern.get_ref().as_str()),
            compiled: Arc::default(),
        };
        if compile == Compile::Now {
            let regex = Regex::new(raw.pattern.get_ref()).map_err(|e| {
                invalid(
                    raw.pattern.span().start,
                    format!("pattern does not compile: {e}"),
                )
            })?;
            let names: Vec<&str> = regex.capture_names().flatten().collect();
            let has = |n: &str| names.contains(&n);
            if !(has("table") && has("fields") || has("table_and_field")) {
                return Err(invalid(
                    raw.pattern.span().start,
                    "pattern needs named captures `table` and `fields`, or `table_and_field`"
                        .into(),
                ));
            }
            let _ = pattern.compiled.set(regex);
        }
        let needle = raw.needle.get_ref();
        if needle.is_empty() {
            return Err(invalid(raw.needle.span().start, "needle is empty".into()));
        }
        if raw.lines == 0 {
            return Err(invalid(
                raw.id.span().start,
                "lines must be at least 1".into(),
            ));
        }
        rules.push(Rule {
            id: Arc::from(id),
            description: raw.description,
            versions: raw.versions,
            kind,
            needle: needle.clone(),
            pattern,
            lines: raw.lines,
            fields_separator: raw.fields_separator,
            strip_legacy_underscore: raw.strip_legacy_underscore,
            source: file.to_owned(),
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_load() {
        let set = RuleSet::embedded().unwrap();
        assert_eq!(set.rules.len(), 3);
        assert!(set.known_tables.contains(&"member".to_owned()));
        // What a rule file read at run time is checked for, the embedded ones are here.
        let compiled: usize = EMBEDDED_RULES
            .iter()
            .map(|(name, text)| parse_rule_file(name, text, Compile::Now).unwrap().len())
            .sum();
        assert_eq!(compiled, set.rules.len());
    }

    #[test]
    fn bad_regex_is_reported_at_its_line() {
        let text = "[[rule]]\nid = \"x\"\ndescription = \"d\"\nversions = \"*\"\nkind = \"missing_index_warning\"\nneedle = \"n\"\npattern = '(?P<table>'\n";
        let err = parse_rule_file("custom.toml", text, Compile::Now)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("custom.toml:7: pattern does not compile"),
            "{err}"
        );
    }

    #[test]
    fn unknown_key_is_reported_at_its_line() {
        let text = "[[rule]]\nid = \"x\"\ncolour = 1\n";
        let err = parse_rule_file("custom.toml", text, Compile::Now)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("custom.toml:3:"), "{err}");
        assert!(err.contains("colour"), "{err}");
    }
}

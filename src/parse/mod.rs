//! Logical message text → missing-index matches, driven by the rules in `rules/*.toml`.

pub(crate) mod knowledge;
pub mod rules;
pub(crate) mod unescape;

use crate::signal::SignalKind;
use rules::{Rule, RuleSet, SUSPECT_PHRASES};
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::cell::RefCell;
use std::sync::Arc;

/// Distinct message texts whose matches are remembered. A busy log repeats the same few
/// warnings thousands of times, so the regexes then run once per distinct text.
const CACHE_ENTRIES: usize = 4096;

/// How many escape layers are peeled before giving up: object-inspect, JSON, and JSON printed
/// as text once more.
const MAX_ESCAPE_LAYERS: usize = 3;

/// One rule match in a message, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Match {
    pub rule_id: Arc<str>,
    pub kind: SignalKind,
    pub table: Arc<str>,
    pub fields: Arc<[String]>,
    pub legacy_underscore: bool,
}

/// Applies the rule set to message texts.
#[derive(Debug)]
pub struct Matcher {
    rules: RuleSet,
    /// Table names for splitting `<table><field>`, longest first.
    tables: Vec<String>,
    cache: RefCell<FxHashMap<Box<str>, Arc<[Match]>>>,
}

impl Matcher {
    /// `schema_tables` are the tables of the user's schema, when one was found; they take
    /// precedence over Better Auth's known tables for splitting dotless error messages.
    pub fn new(rules: RuleSet, schema_tables: Option<Vec<String>>) -> Self {
        let mut tables = schema_tables.unwrap_or_else(|| rules.known_tables.clone());
        tables.sort_by_key(|t| std::cmp::Reverse(t.len()));
        Self {
            rules,
            tables,
            cache: RefCell::default(),
        }
    }

    /// The same rules with an empty cache of its own: one per thread of a parallel scan (the
    /// cache is a `RefCell`).
    pub fn fresh(&self) -> Self {
        Self {
            rules: self.rules.clone(),
            tables: self.tables.clone(),
            cache: RefCell::default(),
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Every match in `text`, trying it as is and then after each layer of unescaping.
    pub fn find(&self, text: &str) -> Arc<[Match]> {
        if let Some(found) = self.cache.borrow().get(text) {
            return Arc::clone(found);
        }
        let found: Arc<[Match]> = self.find_uncached(text).into();
        let mut cache = self.cache.borrow_mut();
        if cache.len() >= CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(Box::from(text), Arc::clone(&found));
        found
    }

    fn find_uncached(&self, text: &str) -> Vec<Match> {
        let mut current = match unescape::join_concatenations(text) {
            Some(joined) => Cow::Owned(joined),
            None => Cow::Borrowed(text),
        };
        for _ in 0..=MAX_ESCAPE_LAYERS {
            let found = self.find_in_layer(&current);
            if !found.is_empty() {
                return found;
            }
            match unescape::unescape_layer(&current) {
                Some(next) => current = Cow::Owned(next),
                None => break,
            }
        }
        Vec::new()
    }

    fn find_in_layer(&self, text: &str) -> Vec<Match> {
        let mut found = Vec::new();
        for rule in &self.rules.rules {
            if !text.contains(rule.needle.as_str()) {
                continue;
            }
            for caps in rule.pattern.regex().captures_iter(text) {
                // Dotted and dotless error rules can both see one message; keep the first.
                let start = caps.get(0).map_or(0, |m| m.start());
                if found
                    .iter()
                    .any(|(s, m): &(usize, Match)| *s == start && m.kind == rule.kind)
                {
                    continue;
                }
                if let Some(m) = self.normalise(rule, &caps) {
                    found.push((start, m));
                }
            }
        }
        found.sort_by_key(|(start, _)| *start);
        found.into_iter().map(|(_, m)| m).collect()
    }

    fn normalise(&self, rule: &Rule, caps: &regex::Captures<'_>) -> Option<Match> {
        let (table, raw_fields) = if let Some(joined) = caps.name("table_and_field") {
            let joined = joined.as_str();
            let table = self
                .tables
                .iter()
                .find(|t| joined.len() > t.len() && joined.starts_with(t.as_str()))?;
            (table.clone(), vec![joined[table.len()..].to_owned()])
        } else {
            let table = caps.name("table")?.as_str().trim().to_owned();
            let list = caps.name("fields")?.as_str();
            let fields = match &rule.fields_separator {
                Some(sep) => list
                    .split(sep.as_str())
                    .map(|f| f.trim().to_owned())
                    .collect(),
                None => vec![list.trim().to_owned()],
            };
            (table, fields)
        };
        let mut fields: Vec<String> = raw_fields.into_iter().filter(|f| !f.is_empty()).collect();
        let mut legacy_underscore = false;
        if rule.strip_legacy_underscore {
            for field in fields.iter_mut().skip(1) {
                if let Some(stripped) = field.strip_prefix('_')
                    && !stripped.is_empty()
                    && !stripped.starts_with('_')
                {
                    *field = stripped.to_owned();
                    legacy_underscore = true;
                }
            }
        }
        Some(Match {
            rule_id: rule.id.clone(),
            kind: rule.kind,
            table: table.into(),
            fields: fields.into(),
            legacy_underscore,
        })
    }

    /// How many more physical lines would complete a raw (unquoted, multi-line) rendering
    /// that starts in `text`; 0 when none would.
    pub fn lines_wanted(&self, text: &str, lines_so_far: usize) -> usize {
        self.rules
            .rules
            .iter()
            .filter(|r| r.lines > lines_so_far && text.contains(r.needle.as_str()))
            .map(|r| r.lines - lines_so_far)
            .max()
            .unwrap_or(0)
    }

    /// A text that mentions a missing index in words but matched no rule.
    pub fn is_suspect(text: &str) -> bool {
        SUSPECT_PHRASES.iter().any(|p| text.contains(p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher() -> Matcher {
        Matcher::new(RuleSet::embedded().unwrap(), None)
    }

    const ISSUE_157: &str = r#"'Querying without an index on table "member".\nThis can cause performance issues, and may hit the document read limit.\nTo fix, add an index that begins with the following fields in order:\n[organizationId, userId]'"#;

    #[test]
    fn object_inspect_rendering_from_issue_157() {
        let found = matcher().find(ISSUE_157);
        assert_eq!(found.len(), 1);
        assert_eq!(&*found[0].table, "member");
        assert_eq!(*found[0].fields, ["organizationId", "userId"]);
        assert!(!found[0].legacy_underscore);
    }

    #[test]
    fn legacy_underscore_is_stripped_after_the_first_field() {
        let text = ISSUE_157.replace("[organizationId, userId]", "[userId, _expiresAt]");
        let found = matcher().find(&text);
        assert_eq!(*found[0].fields, ["userId", "expiresAt"]);
        assert!(found[0].legacy_underscore);
    }

    #[test]
    fn id_only_list_is_kept_verbatim() {
        let text = ISSUE_157.replace("[organizationId, userId]", "[_id]");
        assert_eq!(*matcher().find(&text)[0].fields, ["_id"]);
    }

    #[test]
    fn first_sentence_alone_is_not_a_signal() {
        let text = "'Querying without an index on table \"member\".'";
        assert!(matcher().find(text).is_empty());
        assert!(Matcher::is_suspect(text));
    }

    #[test]
    fn dotted_and_dotless_unique_errors() {
        let m = matcher();
        let dotted = m.find("Uncaught Error: No index found for user.email\n    at paginate");
        assert_eq!(
            (&*dotted[0].table, dotted[0].fields.to_vec()),
            ("user", vec!["email".to_owned()])
        );
        let dotless = m.find("[Error: No index found for twoFactoruserId]");
        assert_eq!(dotless.len(), 1);
        assert_eq!(
            (&*dotless[0].table, dotless[0].fields.to_vec()),
            ("twoFactor", vec!["userId".to_owned()])
        );
    }

    #[test]
    fn dotless_split_prefers_schema_tables() {
        let m = Matcher::new(
            RuleSet::embedded().unwrap(),
            Some(vec!["users".into(), "user".into()]),
        );
        let found = m.find("No index found for usersemail");
        assert_eq!(&*found[0].table, "users");
        assert_eq!(*found[0].fields, ["email"]);
    }
}

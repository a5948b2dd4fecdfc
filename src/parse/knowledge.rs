//! What Better Auth's schema holds and where each part comes from: `rules/knowledge.toml`,
//! embedded at build time and parsed once, here only. `advise::status` explains unknown
//! tables and fields with it; the parser splits dotless error messages with its table names.

use super::rules::{RuleError, toml_error};
use crate::position::line_col;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use toml::Spanned;

const EMBEDDED: (&str, &str) = (
    "rules/knowledge.toml",
    include_str!("../../rules/knowledge.toml"),
);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKnowledge {
    core_tables: Vec<String>,
    core_tables_source: Spanned<String>,
    convex: Option<RawConvex>,
    regenerate: RawRegenerate,
    #[serde(default)]
    feature: Vec<RawFeature>,
    #[serde(default)]
    rename: Vec<RawRename>,
    predict: Option<RawPredict>,
    #[serde(default)]
    unique: Vec<RawUnique>,
    #[serde(default)]
    query: Vec<RawQuery>,
}

/// The `convex` CLI releases whose formats the frame was checked against: a record for the
/// tests and the reader, validated here so that it stays well-formed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConvex {
    cli_formats_checked: Spanned<Vec<String>>,
    source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPredict {
    packages: Vec<String>,
    component: String,
    source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUnique {
    table: String,
    fields: Vec<String>,
    source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuery {
    table: Spanned<String>,
    #[serde(rename = "where")]
    clauses: Vec<String>,
    sort: Option<String>,
    why: String,
    source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegenerate {
    folder: String,
    command: String,
    since: String,
    older: String,
    source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFeature {
    id: Spanned<String>,
    what: String,
    enable: String,
    #[serde(default)]
    tables: Vec<String>,
    #[serde(default)]
    fields: BTreeMap<String, Vec<String>>,
    source: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRename {
    from: Spanned<String>,
    to: Spanned<String>,
    #[serde(rename = "in")]
    release: String,
    source: Spanned<String>,
}

/// How to regenerate the component's schema when its generated file does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Regenerate {
    /// The documented component folder, where the command runs.
    pub folder: String,
    pub command: String,
    /// The first release that runs `command`.
    pub since: String,
    /// The command before `since`.
    pub older: String,
}

/// A plugin, or a plugin option, that adds tables or fields to Better Auth's schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Feature {
    pub id: String,
    /// "the phone-number plugin", as a user reads it.
    pub what: String,
    /// How to turn it on: "`phoneNumber()` from `better-auth/plugins`".
    pub enable: String,
    pub tables: Vec<String>,
    /// Fields it adds to tables it does not create, by table.
    pub fields: BTreeMap<String, Vec<String>>,
    pub source: String,
}

/// A table, or a field of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    pub table: String,
    pub field: Option<String>,
}

impl Name {
    fn parse(text: &str) -> Option<Self> {
        let ok = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
        match text.split_once('.') {
            Some((table, field)) if ok(table) && ok(field) && !field.contains('.') => Some(Self {
                table: table.to_owned(),
                field: Some(field.to_owned()),
            }),
            None if ok(text) => Some(Self {
                table: text.to_owned(),
                field: None,
            }),
            _ => None,
        }
    }
}

/// A table or field that a release renamed (or moved to another table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rename {
    pub from: Name,
    pub to: Name,
    /// The release that made the change: "@better-auth/api-key 1.5.0".
    pub release: String,
    pub source: String,
}

/// What `predict` reads: the packages, and what their code cannot show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PredictKnowledge {
    /// The packages whose code holds adapter calls.
    pub packages: Vec<String>,
    /// The Convex component, whose version is reported.
    pub component: String,
    /// `(table, field)` pairs Better Auth declares `unique`.
    pub unique: Vec<(String, String)>,
    /// Queries built from the request, with why they are expected.
    pub queries: Vec<KnownQuery>,
}

/// A request-driven query: its table, where clauses (`field` or `field operator`) and sort.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KnownQuery {
    pub table: String,
    pub clauses: Vec<(String, Option<String>)>,
    pub sort: Option<String>,
    pub why: String,
    /// 1-based line of the entry in the knowledge file.
    pub line: u64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Knowledge {
    pub core_tables: Vec<String>,
    pub regenerate: Regenerate,
    pub features: Vec<Feature>,
    pub renames: Vec<Rename>,
    pub predict: PredictKnowledge,
}

impl Knowledge {
    /// The knowledge shipped in the binary, parsed on first use.
    pub(crate) fn embedded() -> Result<&'static Knowledge, RuleError> {
        static PARSED: OnceLock<Knowledge> = OnceLock::new();
        if let Some(knowledge) = PARSED.get() {
            return Ok(knowledge);
        }
        let (file, text) = EMBEDDED;
        let parsed = Self::parse(file, text)?;
        Ok(PARSED.get_or_init(|| parsed))
    }

    /// Parses a knowledge file; every entry must name its source.
    pub(crate) fn parse(file: &str, text: &str) -> Result<Self, RuleError> {
        let raw: RawKnowledge = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        let invalid = |offset: usize, message: String| RuleError::Invalid {
            file: file.to_owned(),
            line: line_col(text, offset).0,
            message,
        };
        let cited = |source: &Spanned<String>| {
            if source.get_ref().trim().is_empty() {
                Err(invalid(source.span().start, "source is empty".into()))
            } else {
                Ok(source.get_ref().clone())
            }
        };
        cited(&raw.core_tables_source)?;
        cited(&raw.regenerate.source)?;
        if let Some(convex) = &raw.convex {
            cited(&convex.source)?;
            let checked = convex.cli_formats_checked.get_ref();
            let is_version = |v: &String| {
                let parts: Vec<&str> = v.split('.').collect();
                parts.len() == 3 && parts.iter().all(|p| p.parse::<u64>().is_ok())
            };
            if checked.is_empty() || !checked.iter().all(is_version) {
                return Err(invalid(
                    convex.cli_formats_checked.span().start,
                    "cli_formats_checked lists `major.minor.patch` releases".into(),
                ));
            }
        }
        let mut features: Vec<Feature> = Vec::with_capacity(raw.feature.len());
        for f in raw.feature {
            if features.iter().any(|known| &known.id == f.id.get_ref()) {
                return Err(invalid(
                    f.id.span().start,
                    format!("feature `{}` is defined twice", f.id.get_ref()),
                ));
            }
            if f.tables.is_empty() && f.fields.is_empty() {
                return Err(invalid(
                    f.id.span().start,
                    format!("feature `{}` adds no table and no field", f.id.get_ref()),
                ));
            }
            features.push(Feature {
                source: cited(&f.source)?,
                id: f.id.into_inner(),
                what: f.what,
                enable: f.enable,
                tables: f.tables,
                fields: f.fields,
            });
        }
        let mut renames = Vec::with_capacity(raw.rename.len());
        for r in raw.rename {
            let name = |spanned: &Spanned<String>| {
                Name::parse(spanned.get_ref()).ok_or_else(|| {
                    invalid(
                        spanned.span().start,
                        format!("`{}` is not `table` or `table.field`", spanned.get_ref()),
                    )
                })
            };
            let (from, to) = (name(&r.from)?, name(&r.to)?);
            if from.field.is_some() != to.field.is_some() || from == to {
                return Err(invalid(
                    r.from.span().start,
                    "a rename goes from a table to another table, or from a field to another field"
                        .into(),
                ));
            }
            renames.push(Rename {
                source: cited(&r.source)?,
                from,
                to,
                release: r.release,
            });
        }
        let mut predict = PredictKnowledge::default();
        if let Some(p) = raw.predict {
            cited(&p.source)?;
            predict.packages = p.packages;
            predict.component = p.component;
        }
        for u in raw.unique {
            cited(&u.source)?;
            predict
                .unique
                .extend(u.fields.into_iter().map(|f| (u.table.clone(), f)));
        }
        for q in raw.query {
            let clauses = q
                .clauses
                .iter()
                .map(|c| match c.split_once(' ') {
                    Some((field, operator)) => (field.to_owned(), Some(operator.to_owned())),
                    None => (c.clone(), None),
                })
                .collect();
            predict.queries.push(KnownQuery {
                source: cited(&q.source)?,
                line: line_col(text, q.table.span().start).0 as u64,
                table: q.table.into_inner(),
                clauses,
                sort: q.sort,
                why: q.why,
            });
        }
        Ok(Self {
            predict,
            core_tables: raw.core_tables,
            regenerate: Regenerate {
                folder: raw.regenerate.folder,
                command: raw.regenerate.command,
                since: raw.regenerate.since,
                older: raw.regenerate.older,
            },
            features,
            renames,
        })
    }

    /// Every table name Better Auth or a known plugin creates, each once, core tables first.
    pub(crate) fn known_tables(&self) -> Vec<String> {
        let mut tables = self.core_tables.clone();
        let more = self.features.iter().flat_map(|f| f.tables.iter()).chain(
            self.renames
                .iter()
                .flat_map(|r| [&r.from.table, &r.to.table]),
        );
        for table in more {
            if !tables.contains(table) {
                tables.push(table.clone());
            }
        }
        tables
    }

    /// The features that create `table`.
    pub(crate) fn adding_table(&self, table: &str) -> Vec<&Feature> {
        self.features
            .iter()
            .filter(|f| f.tables.iter().any(|t| t == table))
            .collect()
    }

    /// The features that add `field` to `table`.
    pub(crate) fn adding_field(&self, table: &str, field: &str) -> Vec<&Feature> {
        self.features
            .iter()
            .filter(|f| {
                f.fields
                    .get(table)
                    .is_some_and(|fields| fields.iter().any(|x| x == field))
            })
            .collect()
    }

    /// The renames whose old or new name is `name`.
    pub(crate) fn renames_of<'a>(
        &'a self,
        name: &'a Name,
    ) -> impl Iterator<Item = &'a Rename> + 'a {
        self.renames
            .iter()
            .filter(move |r| &r.from == name || &r.to == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_knowledge_parses_and_cites_every_entry() {
        let k = Knowledge::embedded().unwrap();
        assert!(k.features.iter().all(|f| !f.source.is_empty()));
        assert!(k.renames.iter().all(|r| !r.source.is_empty()));
        let phone = k.adding_field("user", "phoneNumber");
        assert_eq!(phone.len(), 1);
        assert_eq!(phone[0].id, "phone-number");
        let apikey = Name::parse("apikey.userId").unwrap();
        assert_eq!(
            k.renames_of(&apikey).next().map(|r| &r.to),
            Name::parse("apikey.referenceId").as_ref()
        );
    }

    #[test]
    fn the_predict_section_names_packages_unique_fields_and_request_driven_queries() {
        let p = &Knowledge::embedded().unwrap().predict;
        assert_eq!(p.packages.first().map(String::as_str), Some("better-auth"));
        assert_eq!(p.component, "@convex-dev/better-auth");
        assert!(
            p.unique
                .contains(&("session".to_owned(), "token".to_owned()))
        );
        let members = p.queries.iter().find(|q| q.table == "member").unwrap();
        assert!(members.line > 1 && !members.source.is_empty());
        assert_eq!(members.clauses[0], ("organizationId".to_owned(), None));
    }

    #[test]
    fn known_tables_cover_every_table_the_parser_knew_before() {
        // The list `known_tables` held before the plugins were described one by one.
        let before = [
            "user",
            "session",
            "account",
            "verification",
            "twoFactor",
            "jwks",
            "rateLimit",
            "passkey",
            "apikey",
            "organization",
            "member",
            "invitation",
            "team",
            "teamMember",
            "organizationRole",
            "ssoProvider",
            "subscription",
            "oauthApplication",
            "oauthAccessToken",
            "oauthConsent",
            "deviceCode",
            "walletAddress",
            "scimProvider",
        ];
        let known = Knowledge::embedded().unwrap().known_tables();
        for table in before {
            assert!(known.iter().any(|t| t == table), "{table}");
        }
    }

    #[test]
    fn an_uncited_entry_is_reported_at_its_line() {
        let text = "core_tables = []\ncore_tables_source = \"x\"\n[regenerate]\nfolder = \"f\"\n\
                    command = \"c\"\nsince = \"s\"\nolder = \"o\"\nsource = \"x\"\n\
                    [[rename]]\nfrom = \"a.b\"\nto = \"a.c\"\nin = \"1\"\nsource = \" \"\n";
        let err = Knowledge::parse("k.toml", text).unwrap_err().to_string();
        assert_eq!(err, "k.toml:13: source is empty");
    }

    #[test]
    fn a_rename_from_a_table_to_a_field_is_refused() {
        let text = "core_tables = []\ncore_tables_source = \"x\"\n[regenerate]\nfolder = \"f\"\n\
                    command = \"c\"\nsince = \"s\"\nolder = \"o\"\nsource = \"x\"\n\
                    [[rename]]\nfrom = \"a\"\nto = \"a.c\"\nin = \"1\"\nsource = \"y\"\n";
        let err = Knowledge::parse("k.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("k.toml:10: a rename goes"), "{err}");
    }
}

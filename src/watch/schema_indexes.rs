//! The indexes per table that `watch` checks suggestions against, re-read from the Better Auth
//! schema files (through the schema editor's model) whenever they change on disk. `parse` is a
//! light regex reader kept for unit tests of the status tracker.

use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::SystemTime;

static TABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)(?:^|[{,])\s*["']?(\w+)["']?\s*:\s*(?:tables\s*\.\s*\w+|defineTable\s*\()"#)
        .expect("valid regex")
});
static INDEX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"\.index\(\s*["']([^"']+)["']\s*,\s*(\{[^}]*\}|\[[^\]]*\])"#).expect("valid regex")
});
static STRING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"["']([^"']+)["']"#).expect("valid regex"));

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexDef {
    pub name: String,
    pub fields: Vec<String>,
    /// `staged: true` indexes serve no query until the flag is removed.
    pub staged: bool,
}

/// The indexes per table across the schema files `watch` looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaIndexes {
    pub by_table: BTreeMap<String, Vec<IndexDef>>,
}

impl SchemaIndexes {
    pub fn parse(src: &str) -> Self {
        let tables: Vec<(usize, String)> = TABLE
            .captures_iter(src)
            .filter_map(|c| Some((c.get(0)?.start(), c[1].to_owned())))
            .collect();
        let mut out = Self::default();
        for c in INDEX.captures_iter(src) {
            let Some(at) = c.get(0).map(|m| m.start()) else {
                continue;
            };
            let Some((_, table)) = tables.iter().rev().find(|(start, _)| *start < at) else {
                continue;
            };
            let spec = &c[2];
            let list = match (spec.find('['), spec.find(']')) {
                (Some(a), Some(b)) if a < b => &spec[a..b],
                _ => continue,
            };
            let fields = STRING
                .captures_iter(list)
                .map(|f| f[1].to_owned())
                .collect();
            let staged = spec.contains("staged") && spec.contains("true");
            out.by_table
                .entry(table.clone())
                .or_default()
                .push(IndexDef {
                    name: c[1].to_owned(),
                    fields,
                    staged,
                });
        }
        out
    }

    /// The indexes of the schema editor's model (overlay plus generatedSchema.ts).
    pub fn from_model(model: &crate::schema::SchemaModel) -> Self {
        let by_table = model
            .tables
            .iter()
            .map(|t| {
                let defs = t
                    .indexes
                    .iter()
                    .map(|i| IndexDef {
                        name: i.name.clone(),
                        fields: i.fields.clone(),
                        staged: i.staged,
                    })
                    .collect();
                (t.name.clone(), defs)
            })
            .collect();
        Self { by_table }
    }

    pub fn merge(&mut self, other: SchemaIndexes) {
        for (table, defs) in other.by_table {
            let entry = self.by_table.entry(table).or_default();
            for def in defs {
                if !entry.contains(&def) {
                    entry.push(def);
                }
            }
        }
    }

    /// The best index serving a warning's field list: an exact match first, then one that
    /// begins with the list (Better Auth's `findIndex` rule).
    pub fn serving(&self, table: &str, fields: &[String]) -> Option<&IndexDef> {
        let defs = self.by_table.get(table)?;
        defs.iter()
            .filter(|d| d.fields.starts_with(fields))
            .min_by_key(|d| (d.staged, d.fields.len() != fields.len(), d.fields.len()))
    }
}

/// Watches the schema files by modification time and size; `reload` says when they changed.
#[derive(Debug)]
pub struct SchemaFiles {
    paths: Vec<PathBuf>,
    stamps: Vec<Option<(SystemTime, u64)>>,
    read_once: bool,
    error: Option<String>,
}

impl SchemaFiles {
    /// `convex/betterAuth/schema.ts` (the overlay) and `generatedSchema.ts` beside it.
    pub fn for_overlay(overlay: &Path) -> Self {
        let mut paths = vec![overlay.to_path_buf()];
        if let Some(dir) = overlay.parent() {
            paths.push(dir.join("generatedSchema.ts"));
        }
        Self {
            stamps: vec![None; paths.len()],
            paths,
            read_once: false,
            error: None,
        }
    }

    pub fn overlay(&self) -> &Path {
        &self.paths[0]
    }

    /// Re-reads the files if any changed since the last call (the first call always reads).
    pub fn reload(&mut self) -> Option<SchemaIndexes> {
        let stamps: Vec<_> = self
            .paths
            .iter()
            .map(|p| {
                std::fs::metadata(p)
                    .ok()
                    .and_then(|m| Some((m.modified().ok()?, m.len())))
            })
            .collect();
        if self.read_once && stamps == self.stamps {
            return None;
        }
        self.read_once = true;
        self.stamps = stamps;
        let dir = match self.paths[0].parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !self.paths[0].exists() {
            return Some(SchemaIndexes::default());
        }
        match crate::schema::load(&dir) {
            Ok(component) => Some(SchemaIndexes::from_model(&component.model)),
            // Half-saved or broken: keep what was last read, and say why.
            Err(err) => {
                self.error = Some(err.to_string());
                None
            }
        }
    }

    /// Why the last change on disk could not be read, once.
    pub fn take_error(&mut self) -> Option<String> {
        self.error.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_one_line_overlay() {
        let src = r#"export default defineSchema({ ...tables, member: tables.member.index("a_b", ["a", "b"]) });"#;
        let idx = SchemaIndexes::parse(src);
        assert_eq!(idx.by_table["member"][0].fields, ["a", "b"]);
    }

    #[test]
    fn reads_overlay_and_generated_indexes() {
        let src = r#"
export default defineSchema({
  ...tables,
  member: tables.member.index("organizationId_userId", ["organizationId", "userId"]),
  session: tables.session
    .index("by_token", ["token"])
    .index("userId_x", { fields: ["userId", "x"], staged: true }),
});
export const tables = {
  user: defineTable({ email: v.string() }).index("email_name", ["email", "name"]),
};"#;
        let idx = SchemaIndexes::parse(src);
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            idx.serving("member", &f(&["organizationId"]))
                .map(|d| d.name.as_str()),
            Some("organizationId_userId")
        );
        assert!(
            idx.serving("session", &f(&["userId"]))
                .is_some_and(|d| d.staged)
        );
        assert!(idx.serving("user", &f(&["email"])).is_some());
        assert!(idx.serving("user", &f(&["name"])).is_none());
    }
}

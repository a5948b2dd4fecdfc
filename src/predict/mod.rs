//! Predictions: the lists Better Auth's installed code will ask an index for, before any log
//! shows them. Finds the packages as Node resolves them from the project, reads their published
//! code (`extract.rs`), adds the request-driven queries of `rules/knowledge.toml`, and turns
//! every query into the list the component needs (`advise::query`). Serving them against the
//! schema is the engine's, as for log findings.

pub(crate) mod extract;

use crate::advise::query::{self, Clause, Needed, Query};
use crate::document::{CallSite, PackageRef, PredictStats, SignalKind};
use crate::parse::knowledge::PredictKnowledge;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error(
        "no `better-auth` package is installed for {from} (looked in node_modules there and in \
         every folder above it); run `npm install` in the project first"
    )]
    NotInstalled { from: String },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// One list the installed code needs, with every place that asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredictedList {
    pub needed: Needed,
    pub sites: Vec<CallSite>,
    /// A site is a single-row lookup (see [`crate::document::Risk::of`]).
    pub lookup: bool,
}

/// What the prediction read and found.
#[derive(Debug, Clone, Default)]
pub struct Predicted {
    /// Every list needed, in (table, fields) order; served or not.
    pub lists: Vec<PredictedList>,
    pub stats: PredictStats,
    /// The packages read, and the component when it is installed.
    pub packages: Vec<PackageRef>,
    /// The installed `better-auth` is outside the range the installed component peers: the
    /// pair is unsupported upstream, and the lists are what that code would query.
    pub unsupported: Option<Unsupported>,
}

/// An installed `better-auth` the installed component does not support.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub better_auth: String,
    pub component: PackageRef,
    /// The component's `peerDependencies["better-auth"]`.
    pub range: String,
}

impl Unsupported {
    /// The plain words `predict` and `doctor` print.
    pub fn message(&self) -> String {
        format!(
            "better-auth {} is unsupported upstream with {} {} (it peers better-auth {}); the \
             newest supported release is {NEWEST_SUPPORTED}. The predicted lists are what \
             better-auth {}'s code would query.",
            self.better_auth,
            self.component.name,
            self.component.version,
            self.range,
            self.better_auth
        )
    }
}

/// The newest better-auth release within `@convex-dev/better-auth` 0.12.5's peer range
/// (`>=1.6.11 <1.7.0`), from the registry's version list; `rules/knowledge.toml` records what
/// 1.7 changes.
const NEWEST_SUPPORTED: &str = "1.6.34";

/// Whether `version` satisfies an npm range of comparators (`>=1.6.11 <1.7.0`, alternatives
/// joined by `||`). `None` when the range uses a form this does not read (`^`, `~`, `x`).
fn satisfies(version: &str, range: &str) -> Option<bool> {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let core = v.split(['-', '+']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u64>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    };
    let have = parse(version)?;
    let mut any = false;
    for alternative in range.split("||") {
        let mut all = true;
        for comparator in alternative.split_whitespace() {
            let (op, rest) = [">=", "<=", ">", "<", "="]
                .iter()
                .find_map(|op| comparator.strip_prefix(op).map(|rest| (*op, rest)))
                .unwrap_or(("=", comparator));
            let want = parse(rest)?;
            all &= match op {
                ">=" => have >= want,
                "<=" => have <= want,
                ">" => have > want,
                "<" => have < want,
                _ => have == want,
            };
        }
        any |= all;
    }
    Some(any)
}

/// The installed component's `peerDependencies["better-auth"]`.
fn peer_range(package: &Path, peer: &str) -> Option<String> {
    let text = std::fs::read_to_string(package.join("package.json")).ok()?;
    let manifest: serde_json::Value = serde_json::from_str(&text).ok()?;
    manifest["peerDependencies"][peer]
        .as_str()
        .map(str::to_owned)
}

/// The package folder `name` resolves to from `from`, as Node looks it up: `node_modules/<name>`
/// in `from` and in each folder above it.
pub(crate) fn resolve(from: &Path, name: &str) -> Option<PathBuf> {
    from.ancestors()
        .map(|dir| dir.join("node_modules").join(name))
        .find(|dir| dir.join("package.json").is_file())
}

fn version(package: &Path) -> Result<String, PredictError> {
    let path = package.join("package.json");
    let text = std::fs::read_to_string(&path).map_err(|source| PredictError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned()))
}

/// The package's published JavaScript (`dist/`, else the whole package), sorted.
fn code_files(package: &Path) -> Vec<PathBuf> {
    let root = if package.join("dist").is_dir() {
        package.join("dist")
    } else {
        package.to_path_buf()
    };
    let mut files = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "node_modules" {
                    stack.push(path);
                }
            } else if (name.ends_with(".mjs") || name.ends_with(".js")) && !name.contains(".d.") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Reads the installed packages from `project` (the folder that holds `convex/`).
pub(crate) fn predict(
    project: &Path,
    knowledge: &PredictKnowledge,
) -> Result<Predicted, PredictError> {
    let mut predicted = Predicted::default();
    let mut found: BTreeMap<crate::document::ListKey, PredictedList> = BTreeMap::new();
    let unique = |table: &str, field: &str| {
        knowledge
            .unique
            .iter()
            .any(|(t, f)| t == table && f == field)
    };
    let mut read_any = false;
    for name in &knowledge.packages {
        let Some(dir) = resolve(project, name) else {
            continue;
        };
        read_any |= name == "better-auth";
        predicted.packages.push(PackageRef {
            name: name.clone(),
            version: version(&dir)?,
        });
        predicted.stats.packages += 1;
        let files = code_files(&dir);
        let mut sources = Vec::with_capacity(files.len());
        for file in &files {
            let text = std::fs::read_to_string(file).map_err(|source| PredictError::Io {
                path: file.display().to_string(),
                source,
            })?;
            sources.push(text);
        }
        let mut scope = extract::PackageScope::default();
        for src in &sources {
            extract::learn(src, &mut scope);
        }
        for (file, src) in files.iter().zip(&sources) {
            predicted.stats.files += 1;
            let relative = file
                .strip_prefix(&dir)
                .unwrap_or(file)
                .to_string_lossy()
                .replace('\\', "/");
            for call in extract::calls(src, &scope) {
                predicted.stats.calls += 1;
                if call.queries.is_empty() {
                    continue;
                }
                predicted.stats.literal_calls += 1;
                let site = CallSite {
                    package: name.clone(),
                    file: relative.clone(),
                    line: call.line,
                };
                for q in &call.queries {
                    for needed in query::needed(q, &unique) {
                        add(&mut found, needed, &site, call.lookup);
                    }
                }
            }
        }
    }
    if !read_any {
        return Err(PredictError::NotInstalled {
            from: project.display().to_string(),
        });
    }
    if let Some(dir) = resolve(project, &knowledge.component) {
        let component = PackageRef {
            name: knowledge.component.clone(),
            version: version(&dir)?,
        };
        let better_auth = predicted
            .packages
            .iter()
            .find(|p| p.name == "better-auth")
            .map(|p| p.version.clone());
        if let (Some(better_auth), Some(range)) = (better_auth, peer_range(&dir, "better-auth"))
            && satisfies(&better_auth, &range) == Some(false)
        {
            predicted.unsupported = Some(Unsupported {
                better_auth,
                component: component.clone(),
                range,
            });
        }
        predicted.packages.push(component);
    }
    for known in &knowledge.queries {
        let q = Query {
            table: known.table.clone(),
            clauses: known
                .clauses
                .iter()
                .map(|(field, operator)| Clause {
                    field: field.clone(),
                    operator: operator.clone(),
                    or: false,
                })
                .collect(),
            sort: known.sort.clone(),
        };
        let site = CallSite {
            package: "ba-index-advisor".to_owned(),
            file: "rules/knowledge.toml".to_owned(),
            line: known.line,
        };
        // The documented list endpoints page through `findMany`.
        for needed in query::needed(&q, &unique) {
            add(&mut found, needed, &site, false);
        }
    }
    predicted.stats.shapes = found.len() as u64;
    predicted.lists = found.into_values().collect();
    Ok(predicted)
}

/// Adds a call site to the list it needs. Two queries that need the same list make one: an
/// index of exactly those fields serves both, and a unique field's error outranks a scan.
fn add(
    found: &mut BTreeMap<crate::document::ListKey, PredictedList>,
    needed: Needed,
    site: &CallSite,
    lookup: bool,
) {
    let key = crate::document::ListKey::new(&needed.table, &needed.fields);
    let list = found.entry(key).or_insert_with(|| PredictedList {
        needed: needed.clone(),
        sites: Vec::new(),
        lookup: false,
    });
    list.lookup |= lookup;
    list.needed.exact |= needed.exact;
    if needed.kind == SignalKind::UniqueFieldError {
        list.needed.kind = SignalKind::UniqueFieldError;
    }
    if !list.sites.contains(site) {
        list.sites.push(site.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::satisfies;

    #[test]
    fn npm_comparator_ranges_are_read() {
        let range = ">=1.6.11 <1.7.0";
        assert_eq!(satisfies("1.6.34", range), Some(true));
        assert_eq!(satisfies("1.6.11", range), Some(true));
        assert_eq!(satisfies("1.7.29", range), Some(false));
        assert_eq!(satisfies("1.6.10", range), Some(false));
        assert_eq!(satisfies("1.7.0-beta.1", "<1.7.0 || >=1.7.0"), Some(true));
        assert_eq!(satisfies("1.6.1", "^1.6.0"), None);
    }
}

//! Finds the Better Auth component folder and reads its `schema.ts` and the generated file it
//! imports `tables` from.

use super::error::SchemaError;
use super::model::{self, Declared, Index, SchemaModel, Table};
use super::ts::{self, ParsedFile};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The documented local-install folder (labs.convex.dev/better-auth/features/local-install).
pub const DEFAULT_DIR: &str = "convex/betterAuth";

/// One source file as read, with what is needed to notice a change before writing it back.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    pub modified: Option<SystemTime>,
    pub parsed: ParsedFile,
}

impl SourceFile {
    pub fn read(path: &Path) -> Result<Self, SchemaError> {
        let io = |source| SchemaError::Io {
            path: path.to_path_buf(),
            source,
        };
        let text = std::fs::read_to_string(path).map_err(io)?;
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let parsed = ts::parse(&text)
            .map_err(|e| SchemaError::syntax(path.to_path_buf(), &text, e.range, e.message))?;
        Ok(SourceFile {
            path: path.to_path_buf(),
            text,
            modified,
            parsed,
        })
    }
}

/// What kind of `schema.ts` the folder has.
#[derive(Debug, Clone)]
pub enum Layout {
    /// The documented layout: `schema.ts` imports `tables` from the generated file.
    Overlay {
        generated: SourceFile,
        alias: String,
    },
    /// `schema.ts` is the generator's output itself (tables defined inline).
    Generated,
}

#[derive(Debug, Clone)]
pub struct Component {
    pub dir: PathBuf,
    pub schema: SourceFile,
    pub layout: Layout,
    pub model: SchemaModel,
}

/// Where an index is written, as a person finds it: the file (relative to the current folder
/// when inside it), the 1-based line and column of the call's `.`, and the call as written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Site {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub code: String,
}

impl Component {
    /// The file that declares indexes of this origin: the overlay for `Overlay`; for
    /// `Generated`, the generated file, or `schema.ts` itself when it is the generated file.
    pub fn declaring_file(&self, declared: Declared) -> &SourceFile {
        match (&self.layout, declared) {
            (Layout::Overlay { generated, .. }, Declared::Generated) => generated,
            _ => &self.schema,
        }
    }

    /// Where `index` is written, when it was read from a file.
    pub fn site(&self, index: &Index) -> Option<Site> {
        let file = self.declaring_file(index.declared);
        let span = index.span.clone()?;
        let code = file.text.get(span.clone())?;
        let (line, column) = crate::position::line_col(&file.text, span.start);
        // `./generatedSchema` resolves to `dir/./generatedSchema.ts`; show it without the `.`.
        let path: PathBuf = file.path.components().collect();
        Some(Site {
            file: display_path(&path),
            line,
            column,
            code: code.to_string(),
        })
    }
}

/// `--schema-dir`, else `convex/betterAuth` in `cwd` or the nearest ancestor that has `convex/`.
pub fn find_dir(explicit: Option<&Path>, cwd: &Path) -> Result<PathBuf, SchemaError> {
    if let Some(dir) = explicit {
        return if dir.join("schema.ts").is_file() {
            Ok(dir.to_path_buf())
        } else {
            Err(SchemaError::NotFound {
                hint: format!("{} has no schema.ts", dir.display()),
            })
        };
    }
    for ancestor in cwd.ancestors() {
        let convex = ancestor.join("convex");
        if convex.is_dir() {
            let dir = ancestor.join(DEFAULT_DIR);
            if dir.join("schema.ts").is_file() {
                return Ok(dir);
            }
            if let Some(dir) = registered_component(&convex) {
                return Ok(dir);
            }
            return Err(SchemaError::NotFound {
                hint: format!(
                    "{} has no schema.ts, and convex/convex.config.ts registers no local component \
                     folder that has one; is Better Auth installed locally? Pass --schema-dir",
                    dir.display()
                ),
            });
        }
    }
    Err(SchemaError::NotFound {
        hint: format!(
            "no convex/ folder in {} or above; pass --schema-dir",
            cwd.display()
        ),
    })
}

/// The local component folder the app registers in `convex/convex.config.ts`
/// (`import betterAuth from "./authComponent/convex.config"; app.use(betterAuth)`), when it is not
/// the documented `convex/betterAuth`. Among several local components, the one whose schema
/// imports generated `tables` or whose folder is named after Better Auth wins.
fn registered_component(convex: &Path) -> Option<PathBuf> {
    let config = ["convex.config.ts", "convex.config.js"]
        .iter()
        .map(|name| convex.join(name))
        .find(|p| p.is_file())?;
    let text = std::fs::read_to_string(&config).ok()?;
    let parsed = ts::parse(&text).ok()?;
    let mut candidates: Vec<PathBuf> = parsed
        .imports
        .iter()
        .filter_map(|import| {
            let source = import.source.strip_prefix("./")?;
            let folder = source
                .strip_suffix("/convex.config")
                .or_else(|| source.strip_suffix("/convex.config.js"))
                .or_else(|| source.strip_suffix("/convex.config.ts"))?;
            let dir = convex.join(folder);
            dir.join("schema.ts").is_file().then_some(dir)
        })
        .collect();
    let score = |dir: &PathBuf| {
        let overlay = std::fs::read_to_string(dir.join("schema.ts"))
            .ok()
            .and_then(|t| ts::parse(&t).ok())
            .is_some_and(|f| model::tables_import(&f).is_some());
        let named = dir
            .file_name()
            .is_some_and(|n| n.to_string_lossy().to_lowercase().contains("auth"));
        (overlay, named)
    };
    candidates.sort_by_key(|dir| std::cmp::Reverse(score(dir)));
    candidates.into_iter().next()
}

/// The generator's header: "This file is auto-generated. Do not edit this file manually."
pub fn has_generated_header(file: &ParsedFile) -> bool {
    file.comments
        .iter()
        .any(|c| c.contains("auto-generated") && c.contains("Do not edit"))
}

/// Resolves `./generatedSchema` or `./schema.generated` (with or without `.ts`/`.js`).
fn resolve_module(dir: &Path, source: &str) -> Option<PathBuf> {
    let base = dir.join(source);
    let stem = source
        .strip_suffix(".js")
        .or_else(|| source.strip_suffix(".ts"))
        .unwrap_or(source);
    [
        base.clone(),
        dir.join(format!("{stem}.ts")),
        dir.join(format!("{source}.ts")),
        base.join("index.ts"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

pub fn load(dir: &Path) -> Result<Component, SchemaError> {
    let schema = SourceFile::read(&dir.join("schema.ts"))?;
    let import = model::tables_import(&schema.parsed).map(|(l, s)| (l.to_string(), s.to_string()));
    let (layout, generated_tables): (Layout, Vec<Table>) = match import {
        Some((alias, source)) => {
            let path = resolve_module(dir, &source).ok_or_else(|| SchemaError::NotFound {
                hint: format!(
                    "{} imports `tables` from {source:?}, which is not a file in {}",
                    schema.path.display(),
                    dir.display()
                ),
            })?;
            let generated = SourceFile::read(&path)?;
            let tables = model::generated_tables(&generated.parsed);
            (Layout::Overlay { generated, alias }, tables)
        }
        None => (Layout::Generated, model::generated_tables(&schema.parsed)),
    };
    let model = match &layout {
        Layout::Overlay { .. } => model::build(&schema.parsed, &generated_tables),
        Layout::Generated => SchemaModel {
            tables: generated_tables,
        },
    };
    Ok(Component {
        dir: dir.to_path_buf(),
        schema,
        layout,
        model,
    })
}

/// For `report`: the component when one is given or found, `None` when there is none to find.
/// An explicit `--schema-dir` that cannot be read is an error; so is a found file that does not
/// parse, because advice against a misread schema would be wrong.
pub fn discover(explicit: Option<&Path>, cwd: &Path) -> Result<Option<Component>, SchemaError> {
    match find_dir(explicit, cwd) {
        Ok(dir) => load(&dir).map(Some),
        Err(SchemaError::NotFound { .. }) if explicit.is_none() => Ok(None),
        Err(err) => Err(err),
    }
}

/// A path as a user reads it: relative to the current directory when it is inside it.
pub fn display_path(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(cwd).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

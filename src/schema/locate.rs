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
    if let Some(root) = project_root(cwd) {
        let dir = root.join(DEFAULT_DIR);
        if dir.join("schema.ts").is_file() {
            return Ok(dir);
        }
        if let Some(dir) = registered_component(&root.join("convex")) {
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
    Err(SchemaError::NotFound {
        hint: format!(
            "no convex/ folder in {} or above; pass --schema-dir",
            cwd.display()
        ),
    })
}

/// The project: the nearest folder at or above `start` that holds `convex/`.
pub fn project_root(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("convex").is_dir())
        .map(Path::to_path_buf)
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

/// The shell line the generator's header gives for regenerating the file, its lines joined with
/// `&&`. The header's wording by `@convex-dev/better-auth` version (the generator,
/// `src/client/create-schema.ts`):
/// - 0.12: a block comment, "To regenerate the schema, from your project root:", then
///   ` *   cd convex/betterAuth` (left out when run from the root) and
///   ` *   npx auth generate --output generatedSchema.ts`;
/// - 0.10–0.11: a block comment, "To regenerate the schema, run:", then the command in
///   backticks: `` `npx @better-auth/cli generate --output <file> -y` ``;
/// - 0.8–0.9: the same as three `//` comments. A bare `generate` printed `--output undefined`,
///   which is not part of what was run.
pub fn regenerate_command(file: &ParsedFile) -> Option<String> {
    if !has_generated_header(file) {
        return None;
    }
    let lines: Vec<&str> = file
        .comments
        .iter()
        .flat_map(|c| c.lines())
        .map(|line| {
            let line = line.trim();
            let line = line.strip_prefix("/**").unwrap_or(line);
            let line = line.strip_suffix("*/").unwrap_or(line);
            let line = line.strip_prefix("//").unwrap_or(line);
            line.trim().trim_start_matches('*').trim().trim_matches('`')
        })
        .collect();
    let start = lines
        .iter()
        .position(|l| l.starts_with("To regenerate the schema"))?;
    let commands: Vec<String> = lines[start + 1..]
        .iter()
        .skip_while(|l| l.is_empty())
        .take_while(|l| l.starts_with("cd ") || l.starts_with("npx "))
        .map(|l| l.replace(" --output undefined", ""))
        .collect();
    (!commands.is_empty()).then(|| commands.join(" && "))
}

/// A header command without `cd` writes its `--output` file (or `schema.ts`) where it runs,
/// which the local-install docs make the component folder (`cd convex/betterAuth`); a relative
/// `--output` path with a folder in it was run from elsewhere and stays as written. An absolute
/// `--output` (the 0.10–0.11 generator wrote the path it was given, `/home/…/generatedSchema.ts`,
/// from another machine as often as not) becomes the file's name, run in the component folder.
fn in_folder(command: String, dir: &Path) -> String {
    let output = command
        .split_whitespace()
        .skip_while(|word| *word != "--output")
        .nth(1)
        .map(str::to_owned);
    let absolute = output
        .as_deref()
        .filter(|o| o.starts_with('/') || Path::new(o).is_absolute())
        .and_then(|o| Some((o, Path::new(o).file_name()?.to_str()?)));
    let command = match absolute {
        Some((path, name)) => {
            command.replacen(&format!("--output {path}"), &format!("--output {name}"), 1)
        }
        None => command,
    };
    let in_other_folder = absolute.is_none() && output.as_deref().is_some_and(|o| o.contains('/'));
    if command.starts_with("cd ") || in_other_folder {
        command
    } else {
        format!("cd {} && {command}", display_path(dir))
    }
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

/// Whether `dir` is an app's Convex folder: its `convex.config.ts` calls `defineApp` (a
/// component's calls `defineComponent`).
fn is_app_folder(dir: &Path) -> bool {
    ["convex.config.ts", "convex.config.js"].iter().any(|name| {
        std::fs::read_to_string(dir.join(name)).is_ok_and(|text| text.contains("defineApp"))
    })
}

pub fn load(dir: &Path) -> Result<Component, SchemaError> {
    let schema = SourceFile::read(&dir.join("schema.ts"))?;
    let import = model::tables_import(&schema.parsed).map(|(l, s)| (l.to_string(), s.to_string()));
    // `--schema-dir convex`: the app's own schema is neither the generated file nor an overlay.
    if import.is_none() && !has_generated_header(&schema.parsed) && is_app_folder(dir) {
        return Err(SchemaError::AppSchema {
            path: schema.path,
            component: registered_component(dir),
        });
    }
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
    let mut model = match &layout {
        Layout::Overlay { .. } => model::build(&schema.parsed, &generated_tables),
        Layout::Generated => SchemaModel {
            tables: generated_tables,
            regenerate: None,
        },
    };
    model.regenerate = regenerate_command(match &layout {
        Layout::Overlay { generated, .. } => &generated.parsed,
        Layout::Generated => &schema.parsed,
    })
    .map(|command| in_folder(command, dir));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn header_command(text: &str) -> Option<String> {
        regenerate_command(&ts::parse(text).unwrap())
    }

    #[test]
    fn the_header_of_each_generator_version_gives_its_command() {
        // v0.12.5 (examples/next/convex/betterAuth/generatedSchema.ts).
        let v012 = "/**\n * This file is auto-generated. Do not edit this file manually.\n \
                    * To regenerate the schema, from your project root:\n *\n \
                    *   cd convex/betterAuth\n *   npx auth generate --output generatedSchema.ts\n \
                    *\n * To customize the schema, generate to an alternate file and import\n */\n";
        assert_eq!(
            header_command(v012).as_deref(),
            Some("cd convex/betterAuth && npx auth generate --output generatedSchema.ts")
        );
        // v0.10–v0.11: a block comment, the command in backticks, then ` * ` with a space.
        let v011 = "/**\n * This file is auto-generated. Do not edit this file manually.\n \
                    * To regenerate the schema, run:\n \
                    * `npx @better-auth/cli generate --output generatedSchema.ts -y`\n * \n */\n";
        assert_eq!(
            header_command(v011).as_deref(),
            Some("npx @better-auth/cli generate --output generatedSchema.ts -y")
        );
        // v0.8–v0.9: line comments; a bare `generate` printed `--output undefined`.
        let v09 = "// This file is auto-generated. Do not edit this file manually.\n\
                   // To regenerate the schema, run:\n\
                   // `npx @better-auth/cli generate --output undefined -y`\n\nconst a = 1;\n";
        assert_eq!(
            header_command(v09).as_deref(),
            Some("npx @better-auth/cli generate -y")
        );
        assert_eq!(
            header_command("// To regenerate the schema, run:\n// `npx x`\n"),
            None
        );
    }

    #[test]
    fn a_command_without_cd_runs_in_the_component_folder() {
        let dir = Path::new("/nowhere/convex/betterAuth");
        assert_eq!(
            in_folder(
                "npx @better-auth/cli generate --output generatedSchema.ts -y".into(),
                dir
            ),
            "cd /nowhere/convex/betterAuth && npx @better-auth/cli generate --output generatedSchema.ts -y"
        );
        let from_root =
            "npx @better-auth/cli generate --output ./src/convex/betterAuth/generatedSchema.ts -y";
        assert_eq!(in_folder(from_root.into(), dir), from_root);
        // The 0.11 generator wrote the absolute path it was given: the component folder's own
        // file name, not another machine's path, is what to run.
        let absolute = "npx @better-auth/cli generate --output /home/me/app/convex/betterAuth/generatedSchema.ts -y";
        assert_eq!(
            in_folder(absolute.into(), dir),
            "cd /nowhere/convex/betterAuth && npx @better-auth/cli generate --output generatedSchema.ts -y"
        );
    }
}

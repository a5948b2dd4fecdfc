//! Flags and `ba-index-advisor.toml` resolved once into the value the engine runs on: a flag
//! wins over the file, the file over the default.

use crate::advise::AdviceSettings;
use crate::config::Config;
use std::path::{Path, PathBuf};

/// The flags a command may give that the engine cares about.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineFlags<'a> {
    pub schema_dir: Option<&'a Path>,
    pub rules: Option<&'a Path>,
    pub no_merge: bool,
    /// `--insights FILE|-`: the saved output of `npx convex insights --json --details`.
    pub insights: Option<&'a Path>,
}

#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Where the component folder is looked for when none is named.
    pub cwd: PathBuf,
    /// `--schema-dir`, else the file's `schema_dir`: a folder that must hold `schema.ts`.
    pub schema_dir: Option<PathBuf>,
    /// Extra rule files added to the built-in ones.
    pub rules_dir: Option<PathBuf>,
    /// Convex insights to join to the suggestions (`-`: stdin), read when the engine opens.
    pub insights: Option<PathBuf>,
    pub advice: AdviceSettings,
}

impl EngineSettings {
    pub fn resolve(config: &Config, flags: EngineFlags<'_>, cwd: PathBuf) -> Self {
        Self {
            cwd,
            schema_dir: Config::path_or(flags.schema_dir, config.schema_dir.as_deref()),
            rules_dir: Config::path_or(flags.rules, config.rules_dir.as_deref()),
            insights: flags.insights.map(Path::to_path_buf),
            advice: AdviceSettings {
                merge: config.merge(flags.no_merge),
                dismissals: config.dismissals(),
            },
        }
    }
}

//! Not a command: the flags every command that runs the engine shares, declared once (as
//! ripgrep resolves its low-level arguments once) and turned into `EngineFlags` in one place.

use crate::engine::EngineFlags;
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Engine")]
pub struct EngineArgs {
    /// The Better Auth component folder holding schema.ts [default: convex/betterAuth in the
    /// current directory or the nearest ancestor with convex/, or the local component that
    /// convex/convex.config.ts registers].
    #[arg(long, value_name = "DIR")]
    pub schema_dir: Option<PathBuf>,
    /// Extra rule files (`*.toml`) added to the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
    /// One index per list, even when a longer list begins with it (no prefix merging).
    #[arg(long)]
    pub no_merge: bool,
}

impl EngineArgs {
    /// The engine's flags, with the insights a command may also give.
    pub fn flags<'a>(&'a self, insights: Option<&'a Path>) -> EngineFlags<'a> {
        EngineFlags {
            schema_dir: self.schema_dir.as_deref(),
            rules: self.rules.as_deref(),
            no_merge: self.no_merge,
            insights,
        }
    }
}

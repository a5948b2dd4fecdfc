//! `completions`: prints a shell completion script generated from the CLI definition.

use crate::cli::Cli;
use clap::{Args, CommandFactory};
use clap_complete::Shell;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    ba-index-advisor completions bash > ~/.local/share/bash-completion/completions/ba-index-advisor\n  \
    ba-index-advisor completions zsh > \"${fpath[1]}/_ba-index-advisor\"\n  \
    ba-index-advisor completions fish > ~/.config/fish/completions/ba-index-advisor.fish\n  \
    ba-index-advisor completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The script for `shell`, as `completions` prints it.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "ba-index-advisor", &mut out);
    out
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script(args.shell))?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

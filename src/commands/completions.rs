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

const BIN: &str = "ba-index-advisor";

/// The script for `shell`, as `completions` prints it.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, BIN, &mut out);
    if shell == Shell::Bash {
        out = bash_states_spelled_one_way(out);
    }
    out
}

/// clap_complete (4.6.11 and 4.6.12) spells a bash completion state two ways when the binary's
/// name has a hyphen: the loop over the typed words sets `ba__index__advisor__subcmd__report`,
/// while the case arms escape the whole path at once, `ba__subcmd__index__subcmd__advisor__
/// subcmd__report`. No arm matches, so no subcommand's options or values complete
/// (clap-rs/clap#6421, open). The arms are respelled the way the loop spells the state.
fn bash_states_spelled_one_way(script: Vec<u8>) -> Vec<u8> {
    let sep = "__subcmd__";
    String::from_utf8_lossy(&script)
        .replace(
            &format!("{}{sep}", BIN.replace('-', sep)),
            &format!("{}{sep}", BIN.replace('-', "__")),
        )
        .into_bytes()
}

pub fn run(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&script(args.shell))?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

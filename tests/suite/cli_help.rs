//! Snapshots of what `--help` and `completions` print, rendered at a fixed width so they do not
//! depend on the terminal. Every subcommand's help must carry a real example.

use ba_index_advisor::cli::Cli;
use ba_index_advisor::commands::completions::script;
use clap::CommandFactory;
use clap_complete::Shell;

fn command() -> clap::Command {
    Cli::command().term_width(100)
}

#[test]
fn top_level_help() {
    let help = command().render_long_help().to_string();
    assert!(help.contains("Exit codes: 0 success"));
    insta::assert_snapshot!("help", help);
}

#[test]
fn every_subcommand_help_shows_an_example() {
    let mut cli = command();
    cli.build();
    let names: Vec<String> = cli
        .get_subcommands()
        .map(|s| s.get_name().to_owned())
        .filter(|n| n != "help")
        .collect();
    assert_eq!(
        names,
        [
            "report",
            "watch",
            "apply",
            "init",
            "doctor",
            "predict",
            "pr",
            "serve",
            "ignore",
            "config",
            "completions"
        ]
    );
    for name in names {
        let sub = cli.find_subcommand_mut(&name).unwrap();
        let help = sub.render_long_help().to_string();
        assert!(
            help.contains(&format!("ba-index-advisor {name}")),
            "`{name} --help` has no example:\n{help}"
        );
        insta::assert_snapshot!(format!("help_{name}"), help);
    }
}

#[test]
fn bash_completions() {
    let text = String::from_utf8(script(Shell::Bash)).unwrap();
    assert!(text.contains("ba__index__advisor__subcmd__ignore"));
    insta::assert_snapshot!("completions_bash", text);
}

#[test]
fn zsh_completions() {
    let text = String::from_utf8(script(Shell::Zsh)).unwrap();
    assert!(text.contains("#compdef ba-index-advisor"));
    insta::assert_snapshot!("completions_zsh", text);
}

#[test]
fn completions_command_prints_the_same_script() {
    let out = assert_cmd::cargo::cargo_bin_cmd!("ba-index-advisor")
        .args(["completions", "fish"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, script(Shell::Fish));
    let help = assert_cmd::cargo::cargo_bin_cmd!("ba-index-advisor")
        .arg("--help")
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    assert!(
        String::from_utf8(help.stdout)
            .unwrap()
            .contains("Exit codes:")
    );
}

#[test]
fn global_flags_parse_beside_every_subcommand_flag() {
    use clap::Parser;
    Cli::command().debug_assert();
    // `watch --quiet SECS` is watch's own; the global -q is `--silent`.
    let cli = Cli::try_parse_from(["ba-index-advisor", "watch", "-", "-q", "--quiet", "5", "-v"]);
    assert!(cli.is_err(), "-q and -v conflict");
    let cli =
        Cli::try_parse_from(["ba-index-advisor", "watch", "-", "-q", "--quiet", "5"]).unwrap();
    assert!(cli.global.silent);
}

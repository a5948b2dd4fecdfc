//! Entry point: parse arguments, set up diagnostics and colours, load the configuration,
//! dispatch, map errors to exit codes.

// A closed stdout or stderr must not panic: write through `errln!` / `outln!` (console.rs).
#![warn(clippy::print_stdout, clippy::print_stderr)]

use ba_index_advisor::cli::{Cli, ColorWhen, Command, GlobalArgs};
use ba_index_advisor::commands;
use ba_index_advisor::config::Config;
use ba_index_advisor::engine::EngineError;
use ba_index_advisor::schema::SchemaError;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = parse();
    set_color(cli.global.color);
    init_tracing(&cli.global);
    match dispatch(cli) {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let schema = err.chain().find_map(|cause| {
                cause
                    .downcast_ref::<SchemaError>()
                    .or(match cause.downcast_ref::<EngineError>() {
                        Some(EngineError::Schema(schema)) => Some(schema),
                        _ => None,
                    })
            });
            match schema {
                // A schema error carries its own `file:line:col`, code frame and hint.
                Some(schema) => ba_index_advisor::errln!("{}", schema.render()),
                None => ba_index_advisor::errln!("error: {}", chain(&err)),
            }
            ExitCode::from(2)
        }
    }
}

/// The arguments, with `--help` naming the component folder discovery finds from here (say
/// `convex/auth`, registered in convex.config.ts) beside `--schema-dir`'s documented default.
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let mut command = Cli::command();
    let found = std::env::current_dir()
        .ok()
        .and_then(|cwd| ba_index_advisor::schema::find_dir(None, &cwd).ok());
    if let Some(dir) = found {
        let shown = ba_index_advisor::schema::display_path(&dir);
        let names: Vec<String> = command
            .get_subcommands()
            .filter(|sub| sub.get_arguments().any(|arg| arg.get_id() == "schema_dir"))
            .map(|sub| sub.get_name().to_owned())
            .collect();
        for name in names {
            command = command.mut_subcommand(name, |sub| {
                sub.mut_arg("schema_dir", |arg| {
                    let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                    arg.help(format!("{help} [here: {shown}]"))
                })
            });
        }
    }
    let matches = command.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit())
}

/// The error and its causes joined by `: `, each once: a typed error that already prints its
/// source (`{path}: cannot read the report: {source}`) is not followed by the source again.
fn chain(err: &anyhow::Error) -> String {
    let mut out = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
    }
    out
}

fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let explicit = cli.global.config.as_deref();
    let config = || -> anyhow::Result<Config> {
        let cwd = std::env::current_dir()?;
        Ok(Config::load(explicit, &cwd)?)
    };
    match cli.command {
        Command::Report(args) => commands::report::run(args, &config()?),
        Command::Watch(args) => commands::watch::run(args, &config()?),
        Command::Apply(args) => commands::apply::run(args, &config()?),
        Command::Init(args) => commands::init::run(args, &config()?),
        Command::Doctor(args) => commands::doctor::run(args, &config()?),
        Command::Predict(args) => commands::predict::run(args, &config()?),
        Command::Pr(args) => commands::pr::run(args, &config()?),
        Command::Serve(args) => commands::serve::run(args, &config()?),
        Command::Ignore(args) => commands::ignore::run(args, explicit),
        Command::Config(args) => commands::config::run(args, &config()?),
        Command::Completions(args) => commands::completions::run(args),
    }
}

/// `--color` sets the choice for every stream; without it anstream decides per stream from
/// NO_COLOR, CLICOLOR, CLICOLOR_FORCE and whether the stream is a terminal.
fn set_color(when: Option<ColorWhen>) {
    let choice = match when {
        None | Some(ColorWhen::Auto) => anstream::ColorChoice::Auto,
        Some(ColorWhen::Always) => anstream::ColorChoice::Always,
        Some(ColorWhen::Never) => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// Diagnostics go to stderr: RUST_LOG when set, else warnings, raised by -v, lowered by -q.
fn init_tracing(global: &GlobalArgs) {
    use tracing_subscriber::EnvFilter;
    let level = match (global.silent, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(format!("ba_index_advisor={level}")),
    };
    let ansi = anstream::AutoStream::choice(&std::io::stderr()) != anstream::ColorChoice::Never;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .init();
}

/// Writing to a closed pipe (`| head`) is how a reader says it has seen enough.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

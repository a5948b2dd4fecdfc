//! One module per subcommand: argument types and the glue from arguments to the library.
//! `log_store` and `output` are not commands: the `--from axiom|datadog` arguments, and the
//! `--format` and printing of the report, that the commands share.

pub mod apply;
pub mod completions;
pub mod config;
pub mod doctor;
pub mod engine_args;
pub mod gate;
pub mod ignore;
pub mod init;
pub mod log_store;
pub mod output;
pub mod pr;
pub mod predict;
pub mod report;
pub mod serve;
pub mod watch;

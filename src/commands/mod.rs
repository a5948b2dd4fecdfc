//! One module per subcommand: argument types and the glue from arguments to the library.
//! `log_store` is not a command: the `--from axiom|datadog` arguments the commands share.

pub mod apply;
pub mod completions;
pub mod config;
pub mod doctor;
pub mod ignore;
pub mod init;
pub mod log_store;
pub mod pr;
pub mod predict;
pub mod report;
pub mod serve;
pub mod watch;

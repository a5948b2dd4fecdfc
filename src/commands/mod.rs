//! One module per subcommand: argument types and the glue from arguments to the library.

pub mod apply;
pub mod completions;
pub mod config;
pub mod doctor;
pub mod ignore;
pub mod init;
pub mod pr;
pub mod report;
pub mod watch;

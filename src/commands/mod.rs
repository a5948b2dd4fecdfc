//! One module per subcommand: argument types and the glue from arguments to the library.

pub mod report;
pub mod watch;

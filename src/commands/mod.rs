//! One module per subcommand: argument types and the glue from arguments to the library.

pub mod apply;
pub mod doctor;
pub mod init;
pub mod pr;
pub mod report;
pub mod watch;

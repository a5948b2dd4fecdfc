//! One module per subcommand: argument types and the glue from arguments to the library.

pub mod pr;
pub mod report;

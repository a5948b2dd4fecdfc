//! ba-index-advisor: reads Convex logs, finds the Better Auth component's missing-index
//! warnings, and proposes (or writes) the `.index(...)` additions the overlay schema needs.
//!
//! Data flows one way: `ingest` → `frame` → `parse` → `aggregate` → `advise` → `report`.

pub mod advise;
pub mod aggregate;
pub mod cli;
pub mod commands;
pub mod config;
pub mod frame;
pub mod github;
pub mod ingest;
pub mod parse;
pub mod position;
pub mod report;
pub mod schema;
pub mod signal;
pub mod watch;

//! ba-index-advisor: reads Convex logs, finds the Better Auth component's missing-index
//! warnings, and proposes (or writes) the `.index(...)` additions the overlay schema needs.
//!
//! Data flows one way, and every command runs the same `engine`:
//!
//! ```text
//! ingest → frame → parse → aggregate ─┐
//!                           schema ───┴→ advise → document → render (table, json, markdown, comment)
//!                                                      └──→ schema::overlay edit → atomic_write
//! ```
//!
//! `document` (the report contract) and `signal` sit below every stage; `commands` are thin
//! front-ends that resolve their settings, call the engine and render. See ARCHITECTURE.md.

// A closed stdout or stderr must not panic: write through `errln!` / `outln!` (console.rs).
#![warn(clippy::print_stdout, clippy::print_stderr)]
#![warn(unreachable_pub)]

pub mod advise;
pub(crate) mod aggregate;
pub(crate) mod atomic_write;
pub mod cli;
pub mod commands;
pub mod config;
pub mod console;
pub mod document;
pub(crate) mod duration;
pub mod engine;
pub(crate) mod env;
pub mod frame;
pub(crate) mod github;
pub mod ingest;
pub(crate) mod insights;
pub mod logstore;
pub mod parse;
pub(crate) mod position;
pub(crate) mod predict;
pub(crate) mod render;
pub mod schema;
pub(crate) mod secret;
pub mod serve;
pub(crate) mod signal;
pub mod time;
pub(crate) mod transport;
pub(crate) mod watch;

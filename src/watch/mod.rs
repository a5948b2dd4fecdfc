//! The live loop behind `watch`: tracks each suggestion's status (new → written → served →
//! resolved / still firing) from the signals `frame::Scanner` finds in source lines, and
//! renders the live view.
//!
//! One seam waits for code being written elsewhere and is marked `INTEGRATION`:
//! `schema_indexes` (to be replaced by the schema model from `schema/`).

pub mod schema_indexes;
pub mod tracker;
pub mod view;

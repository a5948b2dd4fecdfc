//! The live loop behind `watch`: turns source lines into signals, tracks each suggestion's
//! status (new → written → served → resolved / still firing), and renders the live view.
//!
//! Two seams wait for code being written elsewhere and are marked `INTEGRATION`: `scan`
//! (to be replaced by the `parse` pipeline's push scanner) and `schema_indexes` (to be
//! replaced by the schema model from `schema/`).

pub mod scan;
pub mod schema_indexes;
pub mod tracker;
pub mod view;

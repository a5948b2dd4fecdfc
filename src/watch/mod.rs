//! The live loop behind `watch`: tracks each suggestion's status (new → written → served →
//! resolved / still firing) from the signals `frame::Scanner` finds in source lines, and
//! renders the live view.

pub(crate) mod live;
pub mod tracker;
pub mod view;

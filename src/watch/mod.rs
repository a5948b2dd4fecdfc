//! The live loop behind `watch`: where its lines come from (`source`), the run that feeds them
//! through the scanner and keeps the engine's answer current (`live`), each suggestion's status
//! (new → written → served → resolved / still firing, `tracker`) and the live view (`view`).

pub(crate) mod live;
pub(crate) mod source;
pub(crate) mod tracker;
pub(crate) mod view;

//! The Better Auth component's schema: reading it (through oxc, in `ts` only), modelling it,
//! checking Convex's limits, and writing indexes into the overlay.

pub(crate) mod edit;
pub(crate) mod error;
pub(crate) mod init;
pub(crate) mod limits;
pub mod locate;
pub(crate) mod lock;
pub mod marker;
pub mod model;
pub mod overlay;
pub mod ts;
pub mod write;

pub use error::SchemaError;
pub use locate::{Component, Layout, Site, display_path, find_dir, load};
pub use model::SchemaModel;
pub use overlay::Change;

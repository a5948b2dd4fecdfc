//! The Better Auth component's schema: reading it (through oxc, in `ts` only), modelling it,
//! checking Convex's limits, and writing indexes into the overlay.

pub mod edit;
pub mod error;
pub mod init;
pub mod limits;
pub mod locate;
pub mod lock;
pub mod model;
pub mod overlay;
pub mod ts;
pub mod write;

pub use error::SchemaError;
pub use locate::{Component, Layout, Site, display_path, find_dir, load};
pub use model::SchemaModel;
pub use overlay::Change;

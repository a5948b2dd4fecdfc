//! Turns findings into advice: the smallest set of indexes that silences them.

pub mod doctor;
pub mod plan;
pub mod status;

pub use plan::{IndexPlan, PlanOptions, PlannedIndex, QueryShape, build_plan, index_name};
pub use status::{FindingStatus, Query, advise, annotate};

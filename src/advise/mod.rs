//! Turns findings into advice: the smallest set of indexes that silences them.

pub mod plan;

pub use plan::{IndexPlan, PlanOptions, PlannedIndex, build_plan, index_name};

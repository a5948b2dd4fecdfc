//! Renderers: pure functions of the report document (`crate::document`), and of `doctor`'s
//! problems.

pub mod comment;
pub mod doctor;
pub mod json;
pub mod markdown;
pub mod next;
pub mod snippet;
pub mod table;

use crate::document::{Report, Risk, SchemaLayout};

/// `[a, b]`, as the warning prints a field list.
pub fn describe_fields(fields: &[String]) -> String {
    format!("[{}]", fields.join(", "))
}

pub fn risk_label(risk: Risk) -> &'static str {
    match risk {
        Risk::Error => "error",
        Risk::Lookup => "lookup",
        Risk::Scan => "scan",
    }
}

/// Where the plan goes, and the step before it when `schema.ts` is still the generated file.
pub fn plan_heading(report: &Report) -> String {
    match &report.schema {
        Some(schema) if schema.layout == SchemaLayout::Generated => format!(
            "`{}` is the generated file: run `ba-index-advisor init` to make it the overlay, \
             then `ba-index-advisor apply` with the same logs, or add these to the overlay by hand",
            schema.path
        ),
        Some(schema) => format!("Add to the overlay `{}`", schema.path),
        None => "Add to the overlay `convex/betterAuth/schema.ts`".to_owned(),
    }
}

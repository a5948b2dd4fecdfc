//! `doctor`: static checks of the schema, without logs. Errors are indexes Convex refuses to
//! deploy; warnings are indexes Better Auth cannot use or does not need. Each problem carries
//! the exact fix: the overlay call to delete or replace, or the `.index(...)` call to add.
//!
//! This module holds what a problem is; `check.rs` finds them, `describe.rs` words them.

mod check;
mod describe;

pub(crate) use check::diagnose;

use crate::schema::Site;
use crate::schema::model::Declared;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Severity {
    /// Convex refuses to deploy the schema.
    Error,
    /// The schema deploys, but an index is missing for a list Better Auth prints, or unneeded.
    Warning,
}

/// The index another one collides with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Other {
    pub index: String,
    pub fields: Vec<String>,
    pub declared: Declared,
    pub at: Option<Site>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Diagnosis {
    /// A generated compound index whose field order cannot serve a list Better Auth prints for
    /// the same fields (the generator sorts fields by code unit; `findIndex` wants equality
    /// fields by `localeCompare`, then the range field, then the sort field).
    UnservedOrder {
        table: String,
        index: String,
        fields: Vec<String>,
        cannot_serve: Vec<Vec<String>>,
    },
    /// A custom index whose fields are a strict prefix of another index on the same table.
    RedundantIndex {
        table: String,
        index: String,
        fields: Vec<String>,
        covered_by: String,
    },
    /// An overlay index named like an index declared before it on the same table (typically a
    /// regenerated `generatedSchema.ts` that gained an index the overlay already adds).
    DuplicateName {
        table: String,
        index: String,
        fields: Vec<String>,
        other: Other,
    },
    /// An overlay index with the field list of an index declared before it on the same table.
    DuplicateFields {
        table: String,
        index: String,
        fields: Vec<String>,
        other: Other,
    },
    /// A name or field list Convex refuses (`schema::limits`).
    Refused {
        table: String,
        index: String,
        fields: Vec<String>,
        reason: String,
    },
    /// An index field the table does not declare.
    UnknownField {
        table: String,
        index: String,
        fields: Vec<String>,
        field: String,
        near: Vec<String>,
    },
    /// An overlay entry on a table the generated file does not declare: `tables.<table>` is
    /// undefined, so its `.index(...)` calls throw while the schema loads.
    UnknownTable { table: String },
    /// More indexes on one table than Convex allows.
    TooManyIndexes {
        table: String,
        count: usize,
        reason: String,
    },
}

/// An index to write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct NewIndex {
    pub name: String,
    pub fields: Vec<String>,
}

/// The edit that solves a problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub(crate) enum Fix {
    /// Delete this `.index(...)` call from the overlay.
    Remove { at: Site },
    /// Replace this `.index(...)` call with one declaring `with`.
    Replace { at: Site, with: NewIndex },
    /// Add these indexes to the table's entry in the overlay `file`; `after` is the table's
    /// last overlay index, when it has one, to chain them on.
    Add {
        file: String,
        table: String,
        indexes: Vec<NewIndex>,
        after: Option<Site>,
    },
    /// Nothing in the overlay fixes it.
    Manual { hint: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    pub severity: Severity,
    #[serde(flatten)]
    pub diagnosis: Diagnosis,
    /// Who declares the index, and where (`None` for a whole-table problem).
    pub declared: Option<Declared>,
    pub at: Option<Site>,
    pub message: String,
    pub fix: Fix,
}

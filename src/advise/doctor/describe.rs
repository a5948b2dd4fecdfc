//! The words of each diagnosis: the `message` of a problem, quoting what Convex says when it
//! refuses the deploy.

use super::Diagnosis;
use crate::schema::Site;
use crate::schema::model::Declared;

fn list(fields: &[String]) -> String {
    format!("[{}]", fields.join(", "))
}

fn origin(declared: Declared, at: Option<&Site>) -> String {
    let who = match declared {
        Declared::Generated => "the generated file",
        Declared::Overlay => "the overlay",
    };
    match at {
        Some(at) => format!("{who} ({}:{})", at.file, at.line),
        None => who.to_string(),
    }
}

impl Diagnosis {
    pub(crate) fn describe(&self) -> String {
        match self {
            Diagnosis::UnservedOrder {
                table,
                index,
                fields,
                cannot_serve,
            } => format!(
                "{table}.{index} [{}] cannot serve {}: Better Auth lists equality fields first \
                 (alphabetically), then the range or sort field, and an index serves only lists \
                 it begins with",
                fields.join(", "),
                cannot_serve
                    .iter()
                    .map(|l| match l.split_last() {
                        Some((last, eq)) if !eq.is_empty() => format!(
                            "[{}] (eq on {} plus a range or sort on {last})",
                            l.join(", "),
                            eq.join(", ")
                        ),
                        _ => list(l),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Diagnosis::RedundantIndex {
                table,
                index,
                fields,
                covered_by,
            } => format!(
                "{table}.{index} [{}] is a prefix of {covered_by}, which serves the same lists; \
                 keep it only if a query bounds or sorts by createdAt (then the index must match \
                 exactly)",
                fields.join(", ")
            ),
            Diagnosis::DuplicateName {
                table,
                index,
                fields,
                other,
            } => format!(
                "{table}.{index} {}: {} already declares an index named `{index}` on {table} \
                 {}; Convex refuses the deploy (the CLI: \"Duplicate index name {index} in \
                 table {table}.\"; the deployment: \"Table \\\"{table}\\\" has two or more \
                 definitions of index \\\"{index}\\\".\")",
                list(fields),
                origin(other.declared, other.at.as_ref()),
                list(&other.fields),
            ),
            Diagnosis::DuplicateFields {
                table,
                index,
                fields,
                other,
            } => {
                // The deployment walks the indexes in name order and names the later one first.
                let (first, second) = if index.as_str() > other.index.as_str() {
                    (index, &other.index)
                } else {
                    (&other.index, index)
                };
                format!(
                    "{table}.{index} {}: {} already declares these fields as `{}`; Convex \
                     refuses the deploy (\"In table \\\"{table}\\\" index \\\"{first}\\\" and \
                     index \\\"{second}\\\" have the same fields. Indexes must be unique within \
                     a table.\")",
                    list(fields),
                    origin(other.declared, other.at.as_ref()),
                    other.index,
                )
            }
            Diagnosis::Refused {
                table,
                index,
                fields,
                reason,
            } => format!(
                "{table}.{index} {}: Convex refuses this index: {reason}",
                list(fields)
            ),
            Diagnosis::UnknownField {
                table,
                index,
                fields,
                field,
                near,
            } => {
                let hint = match near.as_slice() {
                    [] => String::new(),
                    near => format!(
                        " (did you mean {}?)",
                        near.iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                };
                format!(
                    "{table}.{index} {}: {table} has no field `{field}`{hint}; Convex refuses an \
                     index on a field the schema does not declare (\"In table \\\"{table}\\\" the \
                     index \\\"{index}\\\" is invalid because it references the field {field} \
                     that does not exist.\")",
                    list(fields)
                )
            }
            Diagnosis::UnknownTable { table } => format!(
                "{table}: the generated file declares no table `{table}`, so the overlay's \
                 `.index(...)` calls on it throw while the schema loads, before Convex sees it"
            ),
            Diagnosis::TooManyIndexes { table, reason, .. } => {
                format!("{table}: Convex refuses this table: {reason}")
            }
        }
    }
}

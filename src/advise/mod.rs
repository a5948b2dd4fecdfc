//! Turns findings into advice: dismissals, each finding's status against the schema, and the
//! smallest set of indexes that silences what is left. `conclude` is the only way in.

pub(crate) mod dismiss;
pub(crate) mod doctor;
pub(crate) mod plan;
pub(crate) mod query;
pub mod status;

pub use dismiss::{Dismissals, Dismissed, dismissed};
pub use plan::index_name;
pub use status::status_of;

use crate::document::{Finding, Ignored, PlannedIndex};
use crate::schema::SchemaModel;

/// How findings become advice: resolved once from flags and the configuration.
#[derive(Debug, Clone)]
pub struct AdviceSettings {
    /// Merge a list into a longer list on the same table that begins with it.
    pub merge: bool,
    pub dismissals: Dismissals,
}

impl Default for AdviceSettings {
    fn default() -> Self {
        Self {
            merge: true,
            dismissals: Dismissals::default(),
        }
    }
}

/// The advice for a set of findings.
#[derive(Debug, Clone, Default)]
pub struct Advice {
    /// The findings kept, in ranking order, each with its status when a schema was given.
    pub suggestions: Vec<Finding>,
    /// The findings dismissed by the settings, appended to those given.
    pub ignored: Vec<Ignored>,
    /// The indexes still to add, named uniquely against the schema.
    pub plan: Vec<PlannedIndex>,
}

/// Dismisses, classifies and plans. Without a schema every kept finding needs an index.
pub fn conclude(
    findings: Vec<Finding>,
    mut ignored: Vec<Ignored>,
    model: Option<&SchemaModel>,
    settings: &AdviceSettings,
) -> Advice {
    let mut suggestions = Vec::with_capacity(findings.len());
    for mut finding in findings {
        let dismissed = dismiss::dismissed(
            Some(&settings.dismissals),
            &finding.table,
            &finding.fields,
            Some(finding.count),
        );
        match dismissed {
            Some(dismissed) => ignored.push(Ignored {
                table: finding.table,
                fields: finding.fields,
                count: finding.count,
                reason: dismissed.into_reason(),
                samples: finding.samples,
            }),
            None => {
                finding.status = model.map(|m| status_of(&finding, m));
                suggestions.push(finding);
            }
        }
    }
    let plan = plan::plan(&suggestions, model, settings.merge);
    Advice {
        suggestions,
        ignored,
        plan,
    }
}

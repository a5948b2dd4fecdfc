//! The report document: the stable JSON contract that the stages produce and every renderer,
//! front-end and saved-report reader consumes. Nothing here depends on a stage.

mod coverage;

pub use coverage::{
    Coverage, InputCoverage, InputState, RejectReason, Rejected, WindowCoverage, WindowState,
};
use serde::{Deserialize, Serialize};

/// Version of the JSON document; bumped only on a breaking change. 2: `coverage`, which every
/// gate judges (a version-1 document carries none, so it reads as complete).
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Suspect {
    pub location: String,
    pub text: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Stats {
    pub inputs: u64,
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    pub signals: u64,
    pub suspects: u64,
    pub suspect_samples: Vec<Suspect>,
    /// Input problems, each as `file[:line]: message`.
    pub errors: Vec<String>,
    /// What `predict` read, when it ran.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub predicted: Option<PredictStats>,
}

/// What the prediction read from the installed packages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredictStats {
    /// Packages whose code was read.
    pub packages: u64,
    /// JavaScript files parsed.
    pub files: u64,
    /// Adapter calls with a where clause or a sort.
    pub calls: u64,
    /// Those whose table, fields, operators and sort all resolved to literals.
    pub literal_calls: u64,
    /// Distinct (table, fields) lists those calls need, served or not.
    pub shapes: u64,
}

/// A list Better Auth's installed code will ask an index for, that no index in the schema
/// serves: found before any log shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Prediction {
    pub table: String,
    pub fields: Vec<String>,
    /// What the component does without the index: warn and scan, or throw (a unique field).
    pub kind: Option<SignalKind>,
    /// As a suggestion's: an error, a single-row lookup (a call the component runs as
    /// `findOne`, `updateOne` or `deleteOne`), or a scan.
    #[serde(default)]
    pub risk: Risk,
    /// The query bounds or sorts by `createdAt`: only an index of exactly these fields serves.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
    /// Where the installed code makes the call, or the knowledge entry that names it.
    pub sites: Vec<CallSite>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<FindingStatus>,
    /// The logs read with the prediction show this list too.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub seen_in_logs: bool,
}

/// `package/file:line` of one adapter call.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(default)]
pub struct CallSite {
    pub package: String,
    /// Relative to the package's folder; for a knowledge entry, `rules/knowledge.toml`.
    pub file: String,
    pub line: u64,
}

impl std::fmt::Display for CallSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}:{}", self.package, self.file, self.line)
    }
}

/// A package the prediction read, with its installed version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRef {
    pub name: String,
    pub version: String,
}

/// Everything the engine concluded: serialised as-is for `--format json`, read back by
/// `--from-report`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    #[serde(default = "current_version")]
    pub version: u32,
    #[serde(default)]
    pub suggestions: Vec<Finding>,
    /// The indexes still to add: empty once the schema serves every suggestion.
    #[serde(default)]
    pub plan: Vec<PlannedIndex>,
    #[serde(default)]
    pub ignored: Vec<Ignored>,
    #[serde(default)]
    pub notes: Vec<String>,
    #[serde(default)]
    pub stats: Stats,
    /// What was asked for and how much of it was read.
    #[serde(default)]
    pub coverage: Coverage,
    /// The component schema the findings were checked against, when one was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<SchemaRef>,
    /// Lists the installed Better Auth code will need and no index serves (`predict`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predictions: Vec<Prediction>,
    /// The packages (Better Auth, its plugins, the component) the predictions were read from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predicted_from: Vec<PackageRef>,
}

/// `doctor --json --predict`: the schema's problems beside what the installed code predicts.
/// The problem type is a parameter because it is `advise::doctor::Problem`, and this module
/// depends on no stage.
#[derive(Debug, Clone, Serialize)]
pub struct DoctorDocument<'a, Problem> {
    pub problems: &'a [Problem],
    pub predictions: &'a [Prediction],
    pub plan: &'a [PlannedIndex],
    pub predicted_from: &'a [PackageRef],
}

impl<Problem: Serialize> DoctorDocument<'_, Problem> {
    /// The document as printed. It was first a `json!` map, whose objects sort their keys at
    /// every depth; going through a `Value` keeps those bytes.
    pub fn to_json(&self) -> serde_json::Result<String> {
        serde_json::to_string_pretty(&serde_json::to_value(self)?)
    }
}

/// Which schema a report was checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaRef {
    /// `schema.ts`, as the user reads the path.
    pub path: String,
    pub layout: SchemaLayout,
    /// The command that regenerates the schema, as the statuses' advice quotes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regenerate: Option<Regenerate>,
}

/// The regenerate command an advice quotes: `quoted` is the text inside every advice that names
/// it, `lines` the same command as shell lines (an alternative as a `#` comment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Regenerate {
    pub quoted: String,
    pub lines: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SchemaLayout {
    /// `schema.ts` spreads the generated `tables` and adds indexes: `apply` can edit it.
    Overlay,
    /// `schema.ts` is the generator's output: `init` must convert it before `apply`.
    Generated,
}

fn current_version() -> u32 {
    SCHEMA_VERSION
}

impl Report {
    /// Whether the plan still has an index to add: what `--fail-on-suggestions` fails on.
    pub fn has_work(&self) -> bool {
        !self.plan.is_empty()
    }
}

pub use crate::signal::SignalKind;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    /// The operation threw (`No index found for …`).
    Error,
    /// A single-row lookup that can miss rows past the 200-row read cap.
    Lookup,
    /// A scan: slow and costly, but answers correctly.
    #[default]
    Scan,
}

/// The component's functions whose missing index means a single-row lookup (`listOne` with
/// `numItems: 1`): past the 200-row read cap they can answer "not found" wrongly.
const LOOKUP_FUNCTIONS: &[&str] = &["findOne", "updateOne", "deleteOne"];

impl Risk {
    /// The one rule `report` and `predict` label a list by: an error when the component throws
    /// for it, a lookup when a single-row component function ran it, else a scan.
    pub(crate) fn of(throws: bool, lookup: bool) -> Self {
        if throws {
            Self::Error
        } else if lookup {
            Self::Lookup
        } else {
            Self::Scan
        }
    }

    /// Whether `function` is one of the component's single-row functions: `adapter:findOne`,
    /// `adapter.js:findOne`, `lib:findOne` (0.7.x) and `betterAuth/adapter:findOne` all are.
    pub(crate) fn is_lookup_function(function: &str) -> bool {
        let export = function.rsplit(':').next().unwrap_or(function);
        LOOKUP_FUNCTIONS.contains(&export)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallerCount {
    pub function: String,
    pub count: u64,
}

/// Every occurrence of one (table, fields) pair. Every field but `table` and `fields` may be
/// missing from a saved report written by hand or by an older version.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Finding {
    pub table: String,
    pub fields: Vec<String>,
    pub count: u64,
    /// Distinct request ids, where the format carries them (JSONL, log streams).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executions: Option<u64>,
    /// What the executions that logged this list read, where the format carries usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub impact: Option<Impact>,
    /// The Convex insights (`npx convex insights`) this missing index is behind, when insights
    /// were given (`crate::insights` states the join).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub insights: Vec<InsightRef>,
    pub risk: Risk,
    pub kinds: Vec<SignalKind>,
    pub callers: Vec<CallerCount>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub other_callers: u64,
    pub component_functions: Vec<CallerCount>,
    pub first_seen: Seen,
    pub last_seen: Seen,
    pub samples: Vec<String>,
    /// Occurrences printed by `@convex-dev/better-auth` < 0.11.2: no index silences those.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub legacy_underscore: u64,
    pub rules: Vec<String>,
    /// What the finding means against the schema, when one was read (`advise::status`).
    /// Written with its `advice` (`FindingStatus::describe`, the words every renderer prints),
    /// so a reader of the JSON shows what the CLI shows; read back, `advice` is ignored.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "status_with_advice"
    )]
    pub status: Option<FindingStatus>,
    /// Known only for a predicted query: whether it bounds or sorts by `createdAt`, so that only
    /// an index of exactly these fields serves it (`None`: from logs, which do not say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact: Option<bool>,
}

/// The read cost of the executions that logged one list, joined by request id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Impact {
    /// Sum of documents read over the distinct executions whose usage was found.
    pub documents_read: u64,
    /// The same for bytes; absent when the format reports none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_read: Option<u64>,
    pub executions_measured: u64,
    /// The worst single execution.
    pub max_documents_read: u64,
    /// Executions that also logged one of Convex's read-limit warnings.
    pub limit_warnings: u64,
}

/// One Convex insight joined to a suggestion.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InsightRef {
    /// As `npx convex insights --json` names it: `documentsReadLimit`, `bytesReadLimit`,
    /// `documentsReadThreshold`, `bytesReadThreshold`, `occRetried`, `occFailedPermanently`.
    pub kind: String,
    /// `error` or `warning`, as the insight says.
    pub severity: String,
    /// The function, `.js` stripped; a component's function after its component path and `/`.
    pub function: String,
    /// Occurrences over the insight's 72 hours (OCC conflicts for an OCC insight).
    pub count: u64,
    /// Documents the insight's recent events read from this suggestion's table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub documents_read: Option<u64>,
}

impl InsightRef {
    /// Whether the function failed on Convex's read limit (the `*Limit` kinds; the
    /// `*Threshold` kinds are past 80% of it).
    pub fn at_read_limit(&self) -> bool {
        matches!(self.kind.as_str(), "documentsReadLimit" | "bytesReadLimit")
    }
}

impl Finding {
    /// Whether an insight says a function behind this list already failed on the read limit.
    pub fn behind_read_limit(&self) -> bool {
        self.insights.iter().any(InsightRef::at_read_limit)
    }
}

/// A status as the document writes it: its fields, then `advice` (also how `watch --format json`
/// writes a suggestion's `finding_status`).
pub(crate) fn status_with_advice<S: serde::Serializer>(
    status: &Option<FindingStatus>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct WithAdvice<'a> {
        #[serde(flatten)]
        status: &'a FindingStatus,
        advice: String,
    }
    match status {
        Some(status) => WithAdvice {
            status,
            advice: status.describe(),
        }
        .serialize(serializer),
        None => serializer.serialize_none(),
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A signal that never becomes a suggestion, with the reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Ignored {
    pub table: String,
    pub fields: Vec<String>,
    pub count: u64,
    pub reason: String,
    pub samples: Vec<String>,
}

/// The key everything is about: a table and the field list a query needs an index to begin
/// with (a finding, a prediction, what a planned index serves).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ListKey {
    pub table: String,
    pub fields: Vec<String>,
}

impl ListKey {
    pub fn new(table: &str, fields: &[String]) -> Self {
        Self {
            table: table.to_owned(),
            fields: fields.to_vec(),
        }
    }
}

/// One index to add to the overlay schema: an entry of the plan, and what the schema editor
/// writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedIndex {
    pub table: String,
    pub name: String,
    pub fields: Vec<String>,
    pub serves: Vec<ListKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Only an index of exactly these fields serves one of `serves` (a query that bounds or
    /// sorts by `createdAt`): written with the exact mark, so no later run extends it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
    /// The overlay index this tool wrote earlier whose fields begin these: the edit replaces that
    /// call with this one instead of adding a second index beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extends: Option<ExtendedIndex>,
}

impl PlannedIndex {
    /// What replacing the index it extends means, for the plan's note and the PR comment.
    pub fn extension(&self) -> Option<String> {
        let old = self.extends.as_ref()?;
        Some(format!(
            "extends `{}` [{}] in place: this tool wrote it, and every list it serves begins \
             these fields too, so one index serves both; Convex backfills a changed index when \
             the schema is pushed",
            old.name,
            old.fields.join(", ")
        ))
    }
}

/// An index of the overlay that a planned index replaces in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtendedIndex {
    pub name: String,
    pub fields: Vec<String>,
}

/// What a finding means against the schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingStatus {
    /// No index serves it: add one.
    New,
    /// `index` begins with the listed fields, so Better Auth uses it.
    Served { index: String },
    /// A generated index begins with these fields, and the warning still fired: the query bounds
    /// or sorts by `createdAt`, which needs an index of exactly these fields.
    ExactNeeded { index: String },
    /// `index` would serve it but is declared `staged: true`; remove that to enable it.
    Staged { index: String },
    /// The table is not in the schema (a typo, or a plugin table not generated yet).
    UnknownTable {
        near: Vec<String>,
        /// Why, and what to do: the plugin that adds the table, a rename across versions, and
        /// the command that regenerates the schema (`rules/knowledge.toml`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// Fields the table does not declare, each with near matches.
    UnknownField { fields: Vec<UnknownField> },
    /// Logged by `@convex-dev/better-auth` < 0.11.2, which prefixed range/sort fields with `_`:
    /// no index silences those warnings until the package is upgraded.
    UpgradeNeeded {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        index: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnknownField {
    pub field: String,
    /// Fields of the table with a similar name; a known rename of this one comes first.
    pub near: Vec<String>,
    /// Why, and what to do: the plugin that adds the field, a rename across versions, and the
    /// command that regenerates the schema (`rules/knowledge.toml`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl FindingStatus {
    /// Whether the finding still needs a new index in the overlay.
    pub fn needs_index(&self) -> bool {
        matches!(
            self,
            FindingStatus::New
                | FindingStatus::ExactNeeded { .. }
                | FindingStatus::UpgradeNeeded { index: None }
        )
    }

    /// A few words for a table cell.
    pub fn label(&self) -> String {
        match self {
            FindingStatus::New => "new".into(),
            FindingStatus::Served { index } => format!("served by {index}"),
            FindingStatus::ExactNeeded { .. } => "exact index needed".into(),
            FindingStatus::Staged { index } => format!("staged: {index}"),
            FindingStatus::UnknownTable { .. } => "unknown table".into(),
            FindingStatus::UnknownField { .. } => "unknown field".into(),
            FindingStatus::UpgradeNeeded { .. } => "upgrade needed".into(),
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            FindingStatus::New => "new: no index serves this list".into(),
            FindingStatus::Served { index } => format!("already served by index `{index}`"),
            FindingStatus::ExactNeeded { index } => format!(
                "exact index needed: `{index}` begins with these fields, but a query that bounds \
                 or sorts by createdAt needs an index of exactly these fields"
            ),
            FindingStatus::Staged { index } => {
                format!("index `{index}` is staged: remove `staged: true` to enable it")
            }
            FindingStatus::UnknownTable { near, hint: None } if near.is_empty() => {
                "unknown table: not in the schema (a plugin table that has not been generated? \
                 enable the plugin, then regenerate the schema)"
                    .into()
            }
            FindingStatus::UnknownTable { near, hint } => {
                with_hint(with_near("unknown table", near), hint.as_deref())
            }
            FindingStatus::UnknownField { fields } => fields
                .iter()
                .map(|f| {
                    with_hint(
                        with_near(&format!("unknown field `{}`", f.field), &f.near),
                        f.hint.as_deref(),
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
            FindingStatus::UpgradeNeeded { index } => format!(
                "upgrade @convex-dev/better-auth to 0.11.2 or later: older versions print \
                 `_`-prefixed fields no index can match{}",
                index
                    .as_ref()
                    .map(|i| format!(" (index `{i}` already serves the real list)"))
                    .unwrap_or_default()
            ),
        }
    }
}

fn with_hint(what: String, hint: Option<&str>) -> String {
    match hint {
        Some(hint) => format!("{what}: {hint}"),
        None => what,
    }
}

fn with_near(what: &str, near: &[String]) -> String {
    if near.is_empty() {
        what.to_string()
    } else {
        format!("{what} (did you mean {}?)", near.join(", "))
    }
}

impl PlannedIndex {
    /// An index to write that no finding asked for yet (`serves` empty).
    pub fn new(table: &str, name: &str, fields: &[String]) -> Self {
        Self {
            table: table.to_owned(),
            name: name.to_owned(),
            fields: fields.to_vec(),
            serves: Vec::new(),
            note: None,
            exact: false,
            extends: None,
        }
    }
}

//! The one engine every command runs on: read logs into signals and aggregate them
//! (`Collected`), conclude them against the component schema into the report document (status,
//! dismissals, plan), and turn the plan into a verified edit of `schema.ts` written atomically.
//! Front-ends differ only in where their bytes come from and where the document goes.

mod collect;
pub(crate) mod gate;
mod settings;

pub use collect::Collected;
pub use gate::{Gate, Judgement};
pub use settings::{EngineFlags, EngineSettings};

use crate::advise::{self, AdviceSettings};
use crate::aggregate;
use crate::config::Config;
use crate::document::{
    Finding, FindingStatus, ListKey, Prediction, Report, SCHEMA_VERSION, SchemaLayout, SchemaRef,
};
use crate::ingest;
use crate::insights::{self, Insights, InsightsError};
use crate::parse::Matcher;
use crate::parse::rules::{RuleError, RuleSet};
use crate::predict::Predicted;
use crate::schema::{self, Change, Component, Layout, SchemaError};
use std::path::{Path, PathBuf};
use std::rc::Rc;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot load rules: {0}")]
    Rules(#[from] RuleError),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error(transparent)]
    Insights(#[from] InsightsError),
    #[error("{path}: cannot read the report: {source}")]
    ReportIo {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot read the current folder: {0}")]
    Cwd(std::io::Error),
    #[error(transparent)]
    Predict(#[from] crate::predict::PredictError),
    #[error("{path}: not a `report --format json` document: {source}")]
    ReportFormat {
        path: String,
        source: serde_json::Error,
    },
}

/// Whether a command can run without a component schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaNeed {
    /// Read it when one is named or found; go on without one otherwise.
    Optional,
    /// `apply` and `watch --write`: without a schema there is nothing to edit.
    Required,
}

pub struct Engine {
    settings: EngineSettings,
    matcher: Rc<Matcher>,
    component: Option<Component>,
    /// Convex insights joined to every document this engine concludes.
    insights: Option<Insights>,
    /// What the installed Better Auth code will query, merged into every document this engine
    /// concludes once `predict` has run.
    predicted: Option<Predicted>,
    /// How a large log file is read: split over threads, or in one pass.
    parallelism: ingest::Parallelism,
}

/// What `apply` did, or would do.
#[derive(Debug)]
pub struct Applied {
    /// The report concluded against the schema as it was under the lock.
    pub report: Report,
    /// The verified rewrite; `None` when the schema already has every planned index.
    pub change: Option<Change>,
}

impl Engine {
    pub fn open(settings: EngineSettings, need: SchemaNeed) -> Result<Self, EngineError> {
        let mut rules = RuleSet::embedded()?;
        if let Some(dir) = &settings.rules_dir {
            rules.extend_from_dir(dir)?;
            tracing::info!("rules extended from {}", dir.display());
        }
        let component = match need {
            SchemaNeed::Optional => {
                schema::locate::discover(settings.schema_dir.as_deref(), &settings.cwd)?
            }
            SchemaNeed::Required => Some(schema::load(&schema::find_dir(
                settings.schema_dir.as_deref(),
                &settings.cwd,
            )?)?),
        };
        match &component {
            Some(c) => tracing::info!("schema {}", c.schema.path.display()),
            None => tracing::info!("no Better Auth schema found; findings are not checked"),
        }
        let matcher = Rc::new(Matcher::new(
            rules,
            component.as_ref().map(|c| c.model.table_names()),
        ));
        let insights = settings
            .insights
            .as_deref()
            .map(insights::load)
            .transpose()?;
        Ok(Self {
            settings,
            matcher,
            component,
            insights,
            predicted: None,
            parallelism: ingest::Parallelism::available(),
        })
    }

    /// `open`, for a command run in the current folder with these flags.
    pub fn for_command(
        config: &Config,
        flags: EngineFlags<'_>,
        need: SchemaNeed,
    ) -> Result<Self, EngineError> {
        let cwd = std::env::current_dir().map_err(EngineError::Cwd)?;
        Self::open(EngineSettings::resolve(config, flags, cwd), need)
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    pub fn component(&self) -> Option<&Component> {
        self.component.as_ref()
    }

    /// Reads the installed Better Auth packages, from the folder that holds `convex/`, for the
    /// lists their code will ask an index for; every document concluded from now on carries them.
    pub fn predict(&mut self) -> Result<&Predicted, EngineError> {
        let from = self
            .component
            .as_ref()
            .map(|c| c.dir.as_path())
            .unwrap_or(&self.settings.cwd);
        let project = schema::locate::project_root(from).unwrap_or_else(|| from.to_path_buf());
        let knowledge = &crate::parse::knowledge::Knowledge::embedded()?.predict;
        let predicted = crate::predict::predict(&project, knowledge)?;
        tracing::info!(
            "predicted from {} package(s), {} file(s), {} call(s)",
            predicted.stats.packages,
            predicted.stats.files,
            predicted.stats.calls
        );
        Ok(self.predicted.insert(predicted))
    }

    /// Replaces the insights joined to the suggestions (`watch --insights-every` keeps the
    /// latest result).
    pub fn set_insights(&mut self, insights: Option<Insights>) {
        self.insights = insights;
    }

    pub fn insights(&self) -> Option<&Insights> {
        self.insights.as_ref()
    }

    /// The rules, for a live source's own `Scanner`; its events go to `Collected::record`.
    pub fn matcher(&self) -> Rc<Matcher> {
        Rc::clone(&self.matcher)
    }

    /// `--threads`: how many threads read one large file (1: one pass, as a pipe is read).
    pub fn set_threads(&mut self, threads: usize) {
        self.parallelism.threads = threads.max(1);
    }

    /// How large files are read; tests force small parts and blocks through it.
    pub fn set_parallelism(&mut self, parallelism: ingest::Parallelism) {
        self.parallelism = parallelism;
    }

    /// Reads every input to the end. Unreadable inputs are recorded as problems. With more
    /// than one thread, a large file is read in parts over all of them, and the other inputs
    /// are read side by side, one per thread; either way each input's findings are merged in
    /// input order, so the result is the one-thread result.
    pub fn read(&self, paths: &[PathBuf]) -> Collected {
        let (inputs, errors) = ingest::expand(paths);
        tracing::debug!("{} input(s) to read", inputs.len());
        let mut collected = Collected::default();
        for error in errors {
            collected.cover_input(error.coverage());
            collected.problem(error.to_string());
        }
        if self.parallelism.threads < 2 {
            for input in &inputs {
                let read = self
                    .read_split(input)
                    .unwrap_or_else(|| read_input(&self.matcher, input));
                collected.append_input(read);
            }
            return collected;
        }
        let mut reads: Vec<Option<InputRead>> =
            inputs.iter().map(|input| self.read_split(input)).collect();
        let waiting: Vec<usize> = (0..inputs.len()).filter(|&i| reads[i].is_none()).collect();
        if let [only] = waiting[..] {
            reads[only] = Some(read_input(&self.matcher, &inputs[only]));
        } else if !waiting.is_empty() {
            for (index, read) in self.read_side_by_side(&inputs, &waiting) {
                reads[index] = Some(read);
            }
        }
        for read in reads.into_iter().flatten() {
            collected.append_input(read);
        }
        collected
    }

    /// `input` read through a memory map in parts over the threads, when it is a large file.
    fn read_split(&self, input: &ingest::Input) -> Option<InputRead> {
        let split = ingest::scan_split(
            input,
            &self.matcher,
            self.parallelism,
            &Collected::default,
            &|part: &mut Collected, event| {
                part.record(event);
            },
        )?;
        tracing::debug!("{} read in {} part(s)", input.name(), split.parts.len());
        let mut parts = split.parts.into_iter();
        let mut collected = parts.next().map(|first| first.sink).unwrap_or_default();
        for part in parts {
            collected.append_part(part.sink, part.line_offset);
        }
        Some(InputRead {
            coverage: ingest::coverage(input, &split.counts, &split.problems, collected.signals()),
            collected,
            counts: split.counts,
            problems: split.problems,
        })
    }

    /// The inputs at `waiting`, each read whole by one of the threads (each with its own
    /// matcher: the cache is a `RefCell`).
    fn read_side_by_side(
        &self,
        inputs: &[ingest::Input],
        waiting: &[usize],
    ) -> Vec<(usize, InputRead)> {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let threads = self.parallelism.threads.min(waiting.len());
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    let matcher = self.matcher.fresh();
                    let next = &next;
                    scope.spawn(move || {
                        let mut done = Vec::new();
                        loop {
                            let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&index) = waiting.get(k) else {
                                return done;
                            };
                            done.push((index, read_input(&matcher, &inputs[index])));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| {
                    w.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    }

    /// Reads decoded JSON records pulled from a log store (`source` names them in locations):
    /// each goes through the frame's JSON path, as a line of an export would.
    pub fn read_events(
        &self,
        source: &str,
        events: impl IntoIterator<Item = serde_json::Value>,
    ) -> Collected {
        let mut collected = Collected::default();
        let events: Vec<serde_json::Value> = events.into_iter().collect();
        let counts = self.scan_events(source, 1, &events, |_, event| {
            collected.record(event);
        });
        collected.add_input(counts);
        collected
    }

    /// The frame's JSON path over decoded records, one at a time: `each` gets the index of the
    /// record behind every event, so a front-end that keeps records (`serve`) keeps only those
    /// the engine would. `first_line` numbers the first record in locations (a stream continues
    /// where its last batch ended). Returns the counters `read_events` adds as one input.
    pub fn scan_events(
        &self,
        source: &str,
        first_line: u64,
        events: &[serde_json::Value],
        mut each: impl FnMut(usize, crate::frame::ScanEvent),
    ) -> crate::frame::ScanCounts {
        let mut scanner = crate::frame::Scanner::new(&self.matcher, source.into());
        for (i, event) in events.iter().enumerate() {
            scanner.json_value(event, first_line + i as u64, &mut |e| each(i, e));
        }
        let records = events.len() as u64;
        scanner.count_document(records, records, 0);
        scanner.counts()
    }

    /// The report document for what was collected, against the schema as last read.
    pub fn conclude(&self, collected: &Collected) -> Report {
        self.conclude_with(collected, &self.settings.advice)
    }

    /// `conclude`, with other advice settings (a stricter `min_count` for `watch --write`).
    pub fn conclude_with(&self, collected: &Collected, advice: &AdviceSettings) -> Report {
        let (mut findings, ignored) = collected.aggregator.finish(&collected.usage);
        let mut notes = Vec::new();
        if collected.legacy_underscore > 0 {
            notes.push(format!(
                "{} warning(s) list `_`-prefixed fields: they come from @convex-dev/better-auth \
                 < 0.11.2, where no index can silence an equality + range/sort warning. The plan \
                 uses the real field names; upgrade the component to >= 0.11.2 for the indexes \
                 to take effect.",
                collected.legacy_underscore
            ));
        }
        if collected.cached_replays > 0 {
            notes.push(format!(
                "{} cached query result(s) replayed earlier log lines; they were not counted again.",
                collected.cached_replays
            ));
        }
        let repeated = findings
            .iter()
            .filter(|f| f.executions.is_some_and(|e| f.count >= 2 * e))
            .count();
        if repeated > 0 {
            notes.push(format!(
                "{repeated} suggestion(s) logged the same warning many times within one execution, as \
                 @convex-dev/better-auth < 0.11.0 does (once per document scanned): they are ranked by \
                 executions and documents read, not by lines."
            ));
        }
        notes.extend(collected.notes.iter().cloned());
        notes.extend(self.join_insights(&mut findings, |f| {
            collected.aggregator.requests(&f.table, &f.fields)
        }));
        let mut stats = collected.stats.clone();
        stats.signals = collected.signals();
        let coverage = collected.coverage.clone();
        self.document(findings, ignored, notes, stats, coverage, advice)
    }

    /// A saved report, concluded again against the current schema and dismissals: its
    /// suggestions, or its plan's lists when it has none.
    pub fn revise(&self, saved: Report) -> Report {
        let mut findings = if saved.suggestions.is_empty() {
            saved
                .plan
                .iter()
                .map(|p| Finding {
                    table: p.table.clone(),
                    fields: p.fields.clone(),
                    ..Finding::default()
                })
                .collect()
        } else {
            saved.suggestions
        };
        let mut notes = saved.notes;
        // A saved report keeps no request ids: insights join it by function and table. A report
        // saved with the same insights already has their notes.
        for note in self.join_insights(&mut findings, |_| None) {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        self.document(
            findings,
            saved.ignored,
            notes,
            saved.stats,
            saved.coverage,
            &self.settings.advice,
        )
    }

    /// Joins the insights, if any, to the findings and ranks them again (a read-limit insight
    /// moves a finding up); returns the notes the join adds.
    fn join_insights<'a>(
        &self,
        findings: &mut [Finding],
        requests: impl Fn(&Finding) -> Option<&'a crate::aggregate::RequestKeys>,
    ) -> Vec<String> {
        let Some(insights) = &self.insights else {
            return Vec::new();
        };
        let notes = insights::join(insights, findings, requests);
        aggregate::rank(findings);
        notes
    }

    /// Reads a `report --format json` document back.
    pub fn read_saved(path: &Path) -> Result<Report, EngineError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| EngineError::ReportIo {
            path: shown.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| EngineError::ReportFormat {
            path: shown,
            source,
        })
    }

    fn document(
        &self,
        findings: Vec<Finding>,
        ignored: Vec<crate::document::Ignored>,
        notes: Vec<String>,
        stats: crate::document::Stats,
        coverage: crate::document::Coverage,
        advice: &AdviceSettings,
    ) -> Report {
        let model = self.component.as_ref().map(|c| &c.model);
        let mut findings = findings;
        let mut stats = stats;
        let from_logs = findings.len();
        if let Some(predicted) = &self.predicted {
            stats.predicted = Some(predicted.stats.clone());
            findings.extend(
                predicted
                    .lists
                    .iter()
                    .filter(|p| !logged(&findings[..from_logs], &p.needed))
                    .map(|p| Finding {
                        table: p.needed.table.clone(),
                        fields: p.needed.fields.clone(),
                        kinds: vec![p.needed.kind],
                        exact: Some(p.needed.exact),
                        ..Finding::default()
                    })
                    .collect::<Vec<_>>(),
            );
        }
        let concluded = advise::conclude(findings, ignored, model, advice);
        let (suggestions, predictions) = self.split_predictions(concluded.suggestions);
        Report {
            version: SCHEMA_VERSION,
            predictions,
            predicted_from: self
                .predicted
                .as_ref()
                .map(|p| p.packages.clone())
                .unwrap_or_default(),
            suggestions,
            plan: concluded.plan,
            ignored: concluded.ignored,
            notes,
            stats,
            coverage: coverage.settled(),
            schema: self.component.as_ref().map(schema_ref),
        }
    }

    /// Takes the predicted findings back out of the concluded suggestions, as predictions: those
    /// the schema does not serve, on tables and fields it has (another table is a plugin that
    /// is off). A prediction the logs show too stays a suggestion and is marked seen.
    fn split_predictions(&self, concluded: Vec<Finding>) -> (Vec<Finding>, Vec<Prediction>) {
        let Some(predicted) = &self.predicted else {
            return (concluded, Vec::new());
        };
        let mut suggestions = Vec::new();
        let mut by_list: std::collections::HashMap<ListKey, Option<FindingStatus>> =
            std::collections::HashMap::new();
        let mut seen = std::collections::HashSet::new();
        for finding in concluded {
            let key = ListKey::new(&finding.table, &finding.fields);
            if finding.exact.is_some() {
                by_list.insert(key, finding.status);
            } else {
                by_list.insert(key.clone(), finding.status.clone());
                seen.insert(key);
                suggestions.push(finding);
            }
        }
        let predictions = predicted
            .lists
            .iter()
            .filter_map(|p| {
                let key = ListKey::new(&p.needed.table, &p.needed.fields);
                // Dismissed by the settings: listed with the ignored findings.
                let status = by_list.get(&key)?.clone();
                let kept = match &status {
                    None => true,
                    Some(FindingStatus::Served { .. })
                    | Some(FindingStatus::UnknownTable { .. })
                    | Some(FindingStatus::UnknownField { .. }) => false,
                    Some(_) => true,
                };
                kept.then(|| Prediction {
                    table: p.needed.table.clone(),
                    fields: p.needed.fields.clone(),
                    kind: Some(p.needed.kind),
                    risk: crate::document::Risk::of(
                        p.needed.kind == crate::document::SignalKind::UniqueFieldError,
                        p.lookup,
                    ),
                    exact: p.needed.exact,
                    sites: p.sites.clone(),
                    status,
                    seen_in_logs: seen.contains(&key),
                })
            })
            .collect();
        (suggestions, predictions)
    }

    /// The verified rewrite of the overlay that adds the report's plan; `None` when there is
    /// nothing to add. A generated `schema.ts` or a missing schema is an error.
    pub fn change(&self, report: &Report) -> Result<Option<Change>, SchemaError> {
        let component = self.required()?;
        schema::overlay::prepare(component, &report.plan)
    }

    /// Under the folder's lock: re-reads the schema (another writer may have added indexes),
    /// concludes again with `conclude`, and writes the plan's indexes unless `dry_run`. The
    /// report returned is the one planned before the write; the engine then holds the schema
    /// as written.
    pub fn apply(
        &mut self,
        dry_run: bool,
        conclude: impl Fn(&Engine) -> Report,
    ) -> Result<Applied, SchemaError> {
        let dir = self.required()?.dir.clone();
        let _held = if dry_run {
            None
        } else {
            Some(schema::lock::acquire(&dir)?)
        };
        self.component = Some(schema::load(&dir)?);
        let report = conclude(self);
        let change = self.change(&report)?;
        if let (false, Some(change)) = (dry_run, &change) {
            schema::write::commit(&self.required()?.schema, &change.after)?;
            self.component = Some(schema::load(&dir)?);
        }
        Ok(Applied { report, change })
    }

    /// Re-reads the schema from disk. On an error the last schema read is kept.
    pub fn reload_schema(&mut self) -> Result<(), SchemaError> {
        let dir = match &self.component {
            Some(c) => c.dir.clone(),
            None => match schema::find_dir(self.settings.schema_dir.as_deref(), &self.settings.cwd)
            {
                Ok(dir) => dir,
                Err(SchemaError::NotFound { .. }) => return Ok(()),
                Err(err) => return Err(err),
            },
        };
        self.component = Some(schema::load(&dir)?);
        Ok(())
    }

    /// Whether the schema's files on disk are not those last read: `None` when they are, else
    /// how they are now, to tell this change from the next. While no schema was found, every
    /// call is a change: one may have appeared.
    pub(crate) fn schema_changed(&self) -> Option<SchemaVersion> {
        let Some(component) = &self.component else {
            return Some(SchemaVersion(Vec::new()));
        };
        let mut files = vec![&component.schema];
        if let Layout::Overlay { generated, .. } = &component.layout {
            files.push(generated);
        }
        let read: Vec<_> = files
            .iter()
            .map(|f| f.modified.map(|m| (m, f.text.len() as u64)))
            .collect();
        let now: Vec<_> = files
            .iter()
            .map(|f| {
                std::fs::metadata(&f.path)
                    .ok()
                    .and_then(|m| Some((m.modified().ok()?, m.len())))
            })
            .collect();
        (read != now).then_some(SchemaVersion(now))
    }

    fn required(&self) -> Result<&Component, SchemaError> {
        let component = self
            .component
            .as_ref()
            .ok_or_else(|| SchemaError::NotFound {
                hint: "pass --schema-dir".to_owned(),
            })?;
        if let Layout::Generated = component.layout {
            return Err(SchemaError::Generated {
                path: component.schema.path.clone(),
                steps: schema::overlay::generated_steps(),
            });
        }
        Ok(component)
    }
}

/// The schema's files on disk (modification time and size), as `Engine::schema_changed` saw
/// them: equal values are the same version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaVersion(Vec<Option<(std::time::SystemTime, u64)>>);

/// Whether the logs already hold a finding for this list.
fn logged(findings: &[Finding], needed: &crate::advise::query::Needed) -> bool {
    findings
        .iter()
        .any(|f| f.table == needed.table && f.fields == needed.fields)
}

/// One input read to the end on its own.
pub(crate) struct InputRead {
    collected: Collected,
    coverage: crate::document::InputCoverage,
    counts: crate::frame::ScanCounts,
    problems: Vec<ingest::InputError>,
}

fn read_input(matcher: &Matcher, input: &ingest::Input) -> InputRead {
    let mut collected = Collected::default();
    let (counts, problems) = ingest::scan(input, matcher, &mut |event| {
        collected.record(event);
    });
    tracing::debug!(
        "read {} line(s), {} record(s) from {}",
        counts.lines,
        counts.records,
        input.name()
    );
    InputRead {
        coverage: ingest::coverage(input, &counts, &problems, collected.signals()),
        collected,
        counts,
        problems,
    }
}

impl Collected {
    /// Appends one input read on its own, after the inputs already collected.
    fn append_input(&mut self, read: InputRead) {
        self.append_part(read.collected, 0);
        self.add_input(read.counts);
        self.cover_input(read.coverage);
        for problem in read.problems {
            self.problem(problem.to_string());
        }
    }
}

fn schema_ref(component: &Component) -> SchemaRef {
    SchemaRef {
        path: schema::display_path(&component.schema.path),
        layout: match component.layout {
            Layout::Overlay { .. } => SchemaLayout::Overlay,
            Layout::Generated => SchemaLayout::Generated,
        },
        regenerate: crate::advise::status::regenerate(&component.model),
    }
}

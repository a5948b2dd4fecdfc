//! `serve`: the daemon behind a Convex log stream. Signed batches from the webhook sink go
//! through the engine's JSON path into a `Collected` per deployment, kept durable in SQLite;
//! the report document, a web page and metrics are served over HTTP, and a GitHub issue can be
//! kept up to date with the plan.

pub(crate) mod batch;
mod http;
mod notify;
mod page;
pub mod signature;
mod state;
pub(crate) mod store;
mod validate;

pub use notify::IssueTarget;
pub use state::Outcome;

use crate::engine::{Engine, EngineError, EngineSettings, SchemaNeed};
use crate::secret::Secret;
use batch::Batch;
use signature::Verifier;
use state::State;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use store::{Database, StoreError};
use tokio::sync::oneshot;

/// Everything `serve` runs with, resolved by the command.
#[derive(Debug)]
pub struct ServeSettings {
    pub listen: SocketAddr,
    pub db: PathBuf,
    pub verifier: Verifier,
    /// Required for reads when listening beyond loopback.
    pub api_token: Option<Secret>,
    pub max_body: u64,
    pub max_age: Duration,
    /// More events than this in one body are refused (Convex sends at most 128).
    pub max_batch_events: usize,
    /// How far ahead of this clock an event may be dated.
    pub max_skew: Duration,
    /// How long an execution's usage waits for a signal naming its request.
    pub pending_ttl: Duration,
    pub issue: Option<IssueTarget>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Database(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "refusing to listen on {addr} without a read token: set BA_INDEX_ADVISOR_API_TOKEN (the \
         page, /api and /metrics then need `Authorization: Bearer <token>`), or listen on a \
         loopback address behind a proxy"
    )]
    NoToken { addr: SocketAddr },
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("the state thread stopped")]
    StateGone,
}

/// Batches committed in one transaction at most, when that many wait at once.
const MAX_GROUP: usize = 64;

/// A request to the state thread, with where its answer goes.
enum Job {
    Ingest {
        batch: Batch,
        reply: oneshot::Sender<Result<Outcome, String>>,
    },
    /// The rendered `report --format json` document; `None` for an unknown deployment.
    Report {
        deployment: Option<String>,
        reply: oneshot::Sender<Option<String>>,
    },
    /// The page's per-deployment extras, as JSON.
    Deployments { reply: oneshot::Sender<String> },
    /// The web page, rendered on the state thread.
    Page { reply: oneshot::Sender<String> },
    /// A signed body refused before the state saw it: counted in the report's coverage.
    Refused {
        reason: crate::document::RejectReason,
        events: u64,
    },
    /// What `/metrics` reads from the state.
    Gauges { reply: oneshot::Sender<Gauges> },
    /// The document over all deployments, for the GitHub issue.
    Plan {
        reply: oneshot::Sender<crate::document::Report>,
    },
}

/// The state's side of `/metrics`.
#[derive(Debug, Default)]
struct Gauges {
    /// Suggestions over all deployments per status kind.
    statuses: Vec<(String, u64)>,
    /// Refused bodies, as the report over all deployments counts them.
    rejected: Vec<crate::document::Rejected>,
    /// Executions whose usage waits for a signal.
    pending: u64,
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Runs the daemon until SIGTERM or Ctrl-C: stops accepting, lets in-flight batches finish,
/// then closes the database.
pub fn run(settings: ServeSettings, engine: EngineSettings) -> Result<(), ServeError> {
    if !settings.listen.ip().is_loopback() && settings.api_token.is_none() {
        return Err(ServeError::NoToken {
            addr: settings.listen,
        });
    }
    let (jobs, receiver) = mpsc::channel::<Job>();
    let (ready_tx, ready_rx) = mpsc::channel::<Result<u64, ServeError>>();
    let db = settings.db.clone();
    let pending_ttl = settings.pending_ttl;
    let worker = std::thread::Builder::new()
        .name("serve-state".into())
        .spawn(move || state_thread(engine, &db, pending_ttl, receiver, ready_tx))
        .map_err(ServeError::Runtime)?;
    let kept = ready_rx.recv().map_err(|_| ServeError::StateGone)??;
    crate::errln!(
        "serve: {} holds {kept} kept event(s)",
        settings.db.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    let served = runtime.block_on(http::serve(settings, jobs));
    // Every sender is gone once the server has stopped: the state thread drains and closes.
    drop(runtime);
    let _ = worker.join();
    crate::errln!("serve: stopped");
    served
}

fn state_thread(
    settings: EngineSettings,
    db: &std::path::Path,
    pending_ttl: Duration,
    jobs: mpsc::Receiver<Job>,
    ready: mpsc::Sender<Result<u64, ServeError>>,
) {
    let pending_ms = i64::try_from(pending_ttl.as_millis()).unwrap_or(i64::MAX);
    let opened = Engine::open(settings, SchemaNeed::Optional)
        .map_err(ServeError::from)
        .and_then(|engine| Ok(State::open(engine, Database::open(db)?, pending_ms)?));
    let mut state = match opened {
        Ok(state) => {
            let _ = ready.send(state.stored_events().map_err(ServeError::from));
            state
        }
        Err(err) => {
            let _ = ready.send(Err(err));
            return;
        }
    };
    // Pending usage is dropped on a clock, not on the next batch: an idle server holds it no
    // longer than its TTL plus one tick.
    let tick = (pending_ttl / 10).clamp(Duration::from_millis(50), Duration::from_secs(60));
    let tick_ms = tick.as_millis() as i64;
    let mut last_forget = now_ms();
    let mut deferred = std::collections::VecDeque::new();
    loop {
        let job = match deferred.pop_front() {
            Some(job) => Some(job),
            None => match jobs.recv_timeout(tick) {
                Ok(job) => Some(job),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            },
        };
        match job {
            Some(Job::Ingest { batch, reply }) => {
                ingest(&mut state, (batch, reply), &jobs, &mut deferred);
            }
            Some(job) => answer(&mut state, job),
            None => {}
        }
        let now = now_ms();
        if now - last_forget >= tick_ms {
            last_forget = now;
            if let Err(err) = state.forget(now) {
                tracing::warn!("cannot forget old batch hashes and unmatched usage: {err}");
            }
        }
    }
}

type IngestReply = oneshot::Sender<Result<Outcome, String>>;

/// One batch, with whatever other batches already wait joining its transaction.
fn ingest(
    state: &mut State,
    first: (Batch, IngestReply),
    jobs: &mpsc::Receiver<Job>,
    deferred: &mut std::collections::VecDeque<Job>,
) {
    let mut group = vec![first];
    while group.len() < MAX_GROUP {
        match jobs.try_recv() {
            Ok(Job::Ingest { batch, reply }) => group.push((batch, reply)),
            Ok(other) => deferred.push_back(other),
            Err(_) => break,
        }
    }
    let (batches, replies): (Vec<Batch>, Vec<_>) = group.into_iter().unzip();
    let outcomes = state.ingest_group(&batches, now_ms());
    for (reply, outcome) in replies.into_iter().zip(outcomes) {
        let _ = reply.send(outcome);
    }
}

/// A read (or a refusal to count), answered from the live state.
fn answer(state: &mut State, job: Job) {
    match job {
        Job::Ingest { reply, .. } => {
            let _ = reply.send(Err("a batch reached the read path".to_owned()));
        }
        Job::Report { deployment, reply } => {
            let report = state.report(deployment.as_deref());
            let _ = reply.send(report.as_ref().map(crate::render::json::render));
        }
        Job::Deployments { reply } => {
            let now = now_ms();
            let views: Vec<_> = state
                .deployment_names()
                .iter()
                .filter_map(|name| state.view(name, now))
                .collect();
            let _ = reply.send(serde_json::to_string(&views).unwrap_or_default());
        }
        Job::Page { reply } => {
            let _ = reply.send(state.page(now_ms()));
        }
        Job::Refused { reason, events } => state.refused(reason, events),
        Job::Gauges { reply } => {
            let report = state.report(None);
            let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
            let (suggestions, rejected) = report
                .map(|r| (r.suggestions, r.coverage.rejected))
                .unwrap_or_default();
            for finding in suggestions {
                let kind = finding
                    .status
                    .as_ref()
                    .and_then(|s| serde_json::to_value(s).ok())
                    .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned))
                    .unwrap_or_else(|| "unchecked".to_owned());
                *counts.entry(kind).or_default() += 1;
            }
            let _ = reply.send(Gauges {
                statuses: counts.into_iter().collect(),
                rejected,
                pending: state.pending(),
            });
        }
        Job::Plan { reply } => {
            if let Some(report) = state.report(None) {
                let _ = reply.send(report);
            }
        }
    }
}

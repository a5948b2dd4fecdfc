//! The HTTP side of `serve`, on hyper's HTTP/1 server: the log-stream endpoint (size, signature
//! and every event checked before the state thread sees a batch), the report API, the page, metrics and
//! health; `HEAD` on every read. Routing is a `match` on six paths, which needs no framework.

use super::batch::Batch;
use super::signature::{self, Verifier};
use super::validate::Rules;
use super::{Gauges, Job, Outcome, ServeError, ServeSettings, notify, now_ms};
use crate::document::RejectReason;
use crate::secret::Secret;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderValue, IF_NONE_MATCH,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use tokio::sync::{Notify, oneshot};

/// How long in-flight batches get to finish after SIGTERM (the sink's own timeout is 30 s).
const DRAIN: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Counters {
    committed: AtomicU64,
    duplicate: AtomicU64,
    rejected: AtomicU64,
    verification: AtomicU64,
    events: AtomicU64,
    kept: AtomicU64,
    bad_signatures: AtomicU64,
}

struct App {
    jobs: mpsc::Sender<Job>,
    verifier: Verifier,
    token: Option<Secret>,
    max_body: u64,
    rules: Rules,
    counters: Counters,
    /// Woken after a batch that kept something: the plan may have changed.
    changed: Arc<Notify>,
}

type Reply = Response<Full<Bytes>>;

pub(super) async fn serve(
    settings: ServeSettings,
    jobs: mpsc::Sender<Job>,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|source| ServeError::Listen {
            addr: settings.listen,
            source,
        })?;
    let local = listener.local_addr().map_err(|source| ServeError::Listen {
        addr: settings.listen,
        source,
    })?;
    let changed = Arc::new(Notify::new());
    let app = Arc::new(App {
        jobs: jobs.clone(),
        verifier: settings.verifier,
        token: settings.api_token,
        max_body: settings.max_body,
        rules: Rules {
            max_events: settings.max_batch_events,
            max_skew_ms: millis(settings.max_skew),
            max_age_ms: millis(settings.max_age),
        },
        counters: Counters::default(),
        changed: Arc::clone(&changed),
    });
    let notifier = settings
        .issue
        .map(|target| tokio::spawn(notify::run(target, jobs.clone(), changed)));
    drop(jobs);
    crate::errln!("serve: listening on http://{local}");
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut stop = std::pin::pin!(shutdown_signal());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(err) => {
                        tracing::warn!("accept: {err}");
                        continue;
                    }
                };
                let app = Arc::clone(&app);
                let service = hyper::service::service_fn(move |request| {
                    let app = Arc::clone(&app);
                    async move { Ok::<_, std::convert::Infallible>(handle(&app, request).await) }
                });
                let connection = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service);
                let watched = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(err) = watched.await {
                        tracing::debug!("connection: {err}");
                    }
                });
            }
            () = &mut stop => break,
        }
    }
    drop(listener);
    crate::errln!("serve: stopping; finishing the batches in flight");
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after {}s; closing", DRAIN.as_secs());
    }
    if let Some(notifier) = notifier {
        notifier.abort();
    }
    drop(app);
    Ok(())
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

async fn handle(app: &App, request: Request<Incoming>) -> Reply {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or("").to_owned();
    // HEAD is GET without the body: hyper sends the same head (Content-Length included) and
    // drops the body.
    let read = matches!(*request.method(), Method::GET | Method::HEAD);
    match (request.method(), path.as_str()) {
        (&Method::POST, "/log-stream") => log_stream(app, request).await,
        (_, "/healthz") if read => text(StatusCode::OK, "text/plain", "ok\n".into()),
        (_, "/" | "/api/report" | "/api/deployments" | "/metrics") if read => {
            if !authorized(app, &request) {
                let mut reply = text(
                    StatusCode::UNAUTHORIZED,
                    "text/plain",
                    "a bearer token is required\n".into(),
                );
                reply
                    .headers_mut()
                    .insert("www-authenticate", HeaderValue::from_static("Bearer"));
                return reply;
            }
            match path.as_str() {
                "/" => {
                    ask(app, |reply| Job::Page { reply })
                        .await
                        .map_or_else(unavailable, |html| {
                            let mut reply = text(StatusCode::OK, "text/html; charset=utf-8", html);
                            no_cache(&mut reply);
                            reply
                        })
                }
                "/api/report" => report(app, &query, &request).await,
                "/api/deployments" => ask(app, |reply| Job::Deployments { reply })
                    .await
                    .map_or_else(unavailable, |json| {
                        text(StatusCode::OK, "application/json", json)
                    }),
                _ => metrics(app).await,
            }
        }
        (_, "/log-stream" | "/healthz" | "/" | "/api/report" | "/api/deployments" | "/metrics") => {
            let mut reply = text(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                "method not allowed\n".into(),
            );
            let allow = if path == "/log-stream" {
                "POST"
            } else {
                "GET, HEAD"
            };
            reply
                .headers_mut()
                .insert(hyper::header::ALLOW, HeaderValue::from_static(allow));
            reply
        }
        _ => text(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    }
}

/// Browsers and proxies ask again each time (the state changes with every batch).
fn no_cache(reply: &mut Reply) {
    reply
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

fn authorized(app: &App, request: &Request<Incoming>) -> bool {
    let Some(token) = &app.token else {
        return true;
    };
    let given = request
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    signature::same_secret(given.trim().as_bytes(), token.expose().as_bytes())
}

async fn log_stream(app: &App, request: Request<Incoming>) -> Reply {
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > app.max_body) {
        return reject(
            app,
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is over --max-body",
        );
    }
    let header = request
        .headers()
        .get(signature::HEADER)
        .map(|v| v.as_bytes().to_vec());
    let body = match Limited::new(request.into_body(), app.max_body as usize)
        .collect()
        .await
    {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => {
            return reject(
                app,
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is over --max-body",
            );
        }
        Err(err) => {
            return reject(
                app,
                StatusCode::BAD_REQUEST,
                &format!("cannot read the body: {err}"),
            );
        }
    };
    if !app.verifier.verify(header.as_deref(), &body) {
        app.counters.bad_signatures.fetch_add(1, Ordering::Relaxed);
        return reject(
            app,
            StatusCode::UNAUTHORIZED,
            "missing or bad x-webhook-signature",
        );
    }
    let batch = match Batch::parse(&body, &app.rules, now_ms()) {
        Ok(batch) => batch,
        Err(refused) => {
            // Not awaited: the state thread takes jobs in order, so a later read counts it.
            let _ = app.jobs.send(Job::Refused {
                reason: refused.error.reason(),
                events: refused.events,
            });
            return reject(app, StatusCode::BAD_REQUEST, &refused.to_string());
        }
    };
    if batch.is_verification() {
        app.counters.verification.fetch_add(1, Ordering::Relaxed);
        return text(StatusCode::OK, "text/plain", "verified\n".into());
    }
    match ask(app, |reply| Job::Ingest { batch, reply }).await {
        Some(Ok(Outcome::Committed { events, kept })) => {
            app.counters.committed.fetch_add(1, Ordering::Relaxed);
            app.counters.events.fetch_add(events, Ordering::Relaxed);
            app.counters.kept.fetch_add(kept, Ordering::Relaxed);
            if kept > 0 {
                app.changed.notify_one();
            }
            text(StatusCode::OK, "text/plain", "committed\n".into())
        }
        Some(Ok(Outcome::Duplicate)) => {
            app.counters.duplicate.fetch_add(1, Ordering::Relaxed);
            text(StatusCode::OK, "text/plain", "already committed\n".into())
        }
        Some(Err(err)) => {
            tracing::error!("cannot commit a batch: {err}");
            // A 5xx makes the sink retry the batch later.
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "cannot commit the batch now\n".into(),
            )
        }
        None => unavailable(),
    }
}

async fn report(app: &App, query: &str, request: &Request<Incoming>) -> Reply {
    let deployment = query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == "deployment").then(|| percent_decode(value))
    });
    match ask(app, |reply| Job::Report { deployment, reply }).await {
        Some(Some(json)) => {
            // The document's own bytes name its version: a client that holds them gets a 304.
            let tag = super::page::etag(&json);
            let fresh = request
                .headers()
                .get(IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|given| given.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
            let mut reply = if fresh {
                let mut reply = Response::new(Full::new(Bytes::new()));
                *reply.status_mut() = StatusCode::NOT_MODIFIED;
                reply
            } else {
                text(StatusCode::OK, "application/json", json)
            };
            no_cache(&mut reply);
            if let Ok(value) = HeaderValue::from_str(&tag) {
                reply.headers_mut().insert(ETAG, value);
            }
            reply
        }
        Some(None) => text(
            StatusCode::NOT_FOUND,
            "text/plain",
            "no batch from that deployment\n".into(),
        ),
        None => unavailable(),
    }
}

async fn metrics(app: &App) -> Reply {
    let Some(Gauges {
        statuses,
        rejected,
        pending,
    }) = ask(app, |reply| Job::Gauges { reply }).await
    else {
        return unavailable();
    };
    let c = &app.counters;
    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    let mut out = String::new();
    out.push_str("# HELP ba_index_advisor_batches_total Log-stream batches received, by result.\n");
    out.push_str("# TYPE ba_index_advisor_batches_total counter\n");
    for (result, n) in [
        ("committed", load(&c.committed)),
        ("duplicate", load(&c.duplicate)),
        ("rejected", load(&c.rejected)),
        ("verification", load(&c.verification)),
    ] {
        out.push_str(&format!(
            "ba_index_advisor_batches_total{{result=\"{result}\"}} {n}\n"
        ));
    }
    out.push_str("# HELP ba_index_advisor_events_total Events in committed batches.\n");
    out.push_str("# TYPE ba_index_advisor_events_total counter\n");
    out.push_str(&format!(
        "ba_index_advisor_events_total {}\n",
        load(&c.events)
    ));
    out.push_str("# HELP ba_index_advisor_events_kept_total Events kept in the database.\n");
    out.push_str("# TYPE ba_index_advisor_events_kept_total counter\n");
    out.push_str(&format!(
        "ba_index_advisor_events_kept_total {}\n",
        load(&c.kept)
    ));
    out.push_str(
        "# HELP ba_index_advisor_signatures_rejected_total Batches with a missing or bad signature.\n",
    );
    out.push_str("# TYPE ba_index_advisor_signatures_rejected_total counter\n");
    out.push_str(&format!(
        "ba_index_advisor_signatures_rejected_total {}\n",
        load(&c.bad_signatures)
    ));
    let refused = |reason: RejectReason| rejected.iter().find(|r| r.reason == reason);
    out.push_str(
        "# HELP ba_index_advisor_rejected_bodies_total Signed bodies refused before anything was \
         stored, by reason.\n",
    );
    out.push_str("# TYPE ba_index_advisor_rejected_bodies_total counter\n");
    for reason in RejectReason::ALL {
        out.push_str(&format!(
            "ba_index_advisor_rejected_bodies_total{{reason=\"{}\"}} {}\n",
            reason.code(),
            refused(reason).map_or(0, |r| r.bodies)
        ));
    }
    out.push_str(
        "# HELP ba_index_advisor_rejected_events_total Events in refused bodies, by reason.\n",
    );
    out.push_str("# TYPE ba_index_advisor_rejected_events_total counter\n");
    for reason in RejectReason::ALL {
        out.push_str(&format!(
            "ba_index_advisor_rejected_events_total{{reason=\"{}\"}} {}\n",
            reason.code(),
            refused(reason).map_or(0, |r| r.events)
        ));
    }
    out.push_str(
        "# HELP ba_index_advisor_pending_executions Executions whose usage waits for a signal \
         naming them.\n",
    );
    out.push_str("# TYPE ba_index_advisor_pending_executions gauge\n");
    out.push_str(&format!("ba_index_advisor_pending_executions {pending}\n"));
    out.push_str(
        "# HELP ba_index_advisor_suggestions Suggestions over all deployments, by status.\n",
    );
    out.push_str("# TYPE ba_index_advisor_suggestions gauge\n");
    for (status, n) in statuses {
        out.push_str(&format!(
            "ba_index_advisor_suggestions{{status=\"{status}\"}} {n}\n"
        ));
    }
    text(StatusCode::OK, "text/plain; version=0.0.4", out)
}

/// Sends a job to the state thread and waits for its answer; `None` when the thread is gone.
async fn ask<T>(app: &App, job: impl FnOnce(oneshot::Sender<T>) -> Job) -> Option<T> {
    let (reply, answer) = oneshot::channel();
    app.jobs.send(job(reply)).ok()?;
    answer.await.ok()
}

fn reject(app: &App, status: StatusCode, why: &str) -> Reply {
    app.counters.rejected.fetch_add(1, Ordering::Relaxed);
    tracing::info!("batch rejected ({status}): {why}");
    text(status, "text/plain", format!("{why}\n"))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn unavailable() -> Reply {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "text/plain",
        "the state is unavailable\n".into(),
    )
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(body)));
    *reply.status_mut() = status;
    reply
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    reply
}

/// `%XX` and `+` in a query value (deployment names are plain, but a client may encode them).
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

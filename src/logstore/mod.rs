//! The only module that speaks HTTP to a log store (Axiom, Datadog): queries filtered on the
//! store's side to the warning and error texts, then the matched executions' records by request
//! id, re-assembled as the JSON each sink writes so the frame reads them like an export.

pub mod axiom;
pub mod datadog;

pub use crate::retry::RetryPolicy;
pub use crate::secret::Secret;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::collections::HashSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A configured store.
pub enum LogStore {
    Axiom(axiom::Axiom),
    Datadog(datadog::Datadog),
}

impl LogStore {
    /// The matches in `window` (at most `max_events`), then their executions.
    pub async fn pull(
        &self,
        needles: &[String],
        window: &Window,
        max_events: Option<u64>,
    ) -> Result<Pulled, LogStoreError> {
        match self {
            LogStore::Axiom(store) => two_passes(store, needles, window, max_events).await,
            LogStore::Datadog(store) => two_passes(store, needles, window, max_events).await,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            LogStore::Axiom(_) => "Axiom",
            LogStore::Datadog(_) => "Datadog",
        }
    }
}

/// What a store brings to the pull both stores make: its two queries, its paging, and where
/// its events keep their request id and time.
pub(crate) trait TwoPasses {
    const NAME: &'static str;
    /// JSON pointer to a pulled event's request id.
    const REQUEST_ID: &'static str;
    /// The first pass: the events whose text carries a needle.
    fn matches(&self, needles: &[String]) -> String;
    /// The second pass: the execution records of these request ids.
    fn executions(&self, ids: &[String]) -> String;
    /// One query, every page, at most `max_events` new events; whether the cap stopped it.
    async fn page(
        &self,
        query: &str,
        window: &Window,
        max_events: Option<u64>,
        seen: &mut HashSet<String>,
        pulled: &mut Pulled,
    ) -> Result<bool, LogStoreError>;
    fn time_of(event: &serde_json::Value) -> i64;
}

/// The matches in `window` (filtered on the store's side), then the execution records of their
/// request ids in batches, in time order.
async fn two_passes<S: TwoPasses>(
    store: &S,
    needles: &[String],
    window: &Window,
    max_events: Option<u64>,
) -> Result<Pulled, LogStoreError> {
    let mut pulled = Pulled::default();
    let mut seen = HashSet::new();
    let capped = store
        .page(
            &store.matches(needles),
            window,
            max_events,
            &mut seen,
            &mut pulled,
        )
        .await?;
    if capped {
        pulled.notes.push(format!(
            "{}: stopped at --max-events {}; later matches were not read.",
            S::NAME,
            max_events.unwrap_or_default()
        ));
    }
    let mut ids = Vec::new();
    let mut id_set = HashSet::new();
    for event in &pulled.events {
        if let Some(id) = event
            .pointer(S::REQUEST_ID)
            .and_then(serde_json::Value::as_str)
            && id_set.insert(id.to_owned())
        {
            ids.push(id.to_owned());
        }
    }
    for batch in ids.chunks(ID_BATCH) {
        store
            .page(
                &store.executions(batch),
                window,
                None,
                &mut seen,
                &mut pulled,
            )
            .await?;
    }
    pulled.events.sort_by_key(S::time_of);
    Ok(pulled)
}

/// `watch --from`: pulls `first`, then every `every` the time since the last pull, and sends
/// each new event as a JSON line. Windows overlap by up to a minute, for events the store
/// indexed late; an event already sent in the previous pull is not sent again.
pub async fn poll(
    store: LogStore,
    needles: Vec<String>,
    first: Window,
    every: Duration,
    max_events: Option<u64>,
    tx: tokio::sync::mpsc::Sender<crate::ingest::live::Event>,
    cancel: tokio_util::sync::CancellationToken,
) -> Result<(), LogStoreError> {
    use crate::ingest::live::{Event, Line, Notice, Stream};
    let overlap = every.min(Duration::from_secs(60));
    let mut window = first;
    let mut previous: std::collections::HashSet<String> = Default::default();
    let mut number = 0u64;
    loop {
        let pulled_at = SystemTime::now();
        let notice = match store.pull(&needles, &window, max_events).await {
            Ok(pulled) => {
                let mut sent = 0usize;
                let mut keys = std::collections::HashSet::new();
                for event in pulled.events {
                    let line = event.to_string();
                    if previous.contains(&line) || !keys.insert(line.clone()) {
                        continue;
                    }
                    number += 1;
                    sent += 1;
                    let event = Event::Line {
                        stream: Stream::LogStore,
                        line: Line {
                            number,
                            bytes: line.into_bytes(),
                        },
                    };
                    if tx.send(event).await.is_err() {
                        return Ok(());
                    }
                }
                previous = keys;
                for note in pulled.notes {
                    let _ = tx
                        .send(Event::Notice(Notice::LogStore { message: note }))
                        .await;
                }
                let end = window.end.clone();
                let start_ms = parse_rfc3339_millis(&end).unwrap_or(0) - overlap.as_millis() as i64;
                window.start = crate::frame::json::format_unix_millis(start_ms).unwrap_or(end);
                format!(
                    "{}: {sent} new event(s) in {} request(s), {} byte(s)",
                    store.name(),
                    pulled.requests,
                    pulled.bytes
                )
            }
            // Credentials do not heal by waiting.
            Err(err @ LogStoreError::Unauthorized { .. }) => return Err(err),
            // The next pull covers this window again.
            Err(err) => format!("{err}; trying again in {}s", every.as_secs()),
        };
        let _ = tx
            .send(Event::Notice(Notice::LogStore { message: notice }))
            .await;
        tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            _ = tokio::time::sleep(every) => {}
        }
        let now = SystemTime::now().max(pulled_at);
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        window.end = crate::frame::json::format_unix_millis(now_ms).unwrap_or_default();
    }
}

/// Request ids per second-pass query: short enough for a query string limit, few enough requests.
pub const ID_BATCH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum LogStoreError {
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error("{store}: network error after {attempts} attempt(s): {source}")]
    Network {
        store: &'static str,
        attempts: u32,
        source: reqwest::Error,
    },
    #[error("{store}: rate limited: {detail}")]
    RateLimited { store: &'static str, detail: String },
    #[error("{store}: answered {status} after {attempts} attempt(s)")]
    Server {
        store: &'static str,
        status: StatusCode,
        attempts: u32,
    },
    #[error("{store}: rejected the credentials ({status}): {message}")]
    Unauthorized {
        store: &'static str,
        status: StatusCode,
        message: String,
    },
    #[error("{store}: answered {status}: {message}")]
    Unexpected {
        store: &'static str,
        status: StatusCode,
        message: String,
    },
    #[error("{store}: unexpected answer: {detail}")]
    Decode { store: &'static str, detail: String },
}

/// The stores' retries: one more than GitHub's, and a rate limit may take up to two minutes to
/// reset.
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        max_wait: Duration::from_secs(120),
        ..RetryPolicy::default()
    }
}

/// What a pull brought back: the re-assembled events, in time order, and what to tell the user.
#[derive(Debug, Default)]
pub struct Pulled {
    pub events: Vec<serde_json::Value>,
    /// Partial answers, the event cap.
    pub notes: Vec<String>,
    pub requests: u64,
    /// Response bytes received.
    pub bytes: u64,
}

/// The time window of a pull, as RFC 3339 instants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start: String,
    pub end: String,
}

impl Window {
    /// `--since 30d` (s, m, h, d, w) back from `now`.
    pub fn since(spec: &str, now: SystemTime) -> Result<Self, String> {
        let spec = spec.trim();
        let split = spec
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("`{spec}`: give a unit, e.g. 30d, 12h, 45m"))?;
        let (n, unit) = spec.split_at(split);
        let n: u64 = n
            .parse()
            .map_err(|_| format!("`{spec}` is not a duration such as 30d, 12h or 45m"))?;
        let secs = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86_400,
            "w" => n * 7 * 86_400,
            _ => return Err(format!("`{spec}`: the unit is one of s, m, h, d, w")),
        };
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the clock is before 1970".to_owned())?
            .as_millis() as i64;
        let fmt = |ms: i64| crate::frame::json::format_unix_millis(ms).unwrap_or_default();
        Ok(Self {
            start: fmt(now_ms - (secs as i64) * 1000),
            end: fmt(now_ms),
        })
    }

    /// `--start T --end T`: RFC 3339 instants, checked here so a typo fails before a request.
    pub fn between(start: &str, end: &str) -> Result<Self, String> {
        for t in [start, end] {
            if parse_rfc3339_millis(t).is_none() {
                return Err(format!(
                    "`{t}` is not an RFC 3339 time such as 2026-01-15T00:00:00Z"
                ));
            }
        }
        Ok(Self {
            start: start.to_owned(),
            end: end.to_owned(),
        })
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` → Unix milliseconds.
pub fn parse_rfc3339_millis(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| text.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut rest = &text[19..];
    let mut ms = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(frac.len());
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", &frac[..digits.min(3)]);
        ms = padded.parse::<i64>().ok()?;
        rest = &frac[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (rest.get(1..3)?.parse::<i64>().ok()? * 60
                + rest.get(4..6)?.parse::<i64>().ok()?)
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60) * 1000) + ms)
}

/// An HTTP client for one store, with bounded retries.
pub(crate) struct Http {
    client: reqwest::Client,
    store: &'static str,
    retry: RetryPolicy,
    secrets: Vec<Secret>,
}

impl Http {
    pub(crate) fn new(
        store: &'static str,
        retry: RetryPolicy,
        secrets: Vec<Secret>,
    ) -> Result<Self, LogStoreError> {
        // reqwest is built with `rustls-no-provider`: install one (a second install is harmless).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("ba-index-advisor/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(120))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(LogStoreError::Client)?;
        Ok(Self {
            client,
            store,
            retry,
            secrets,
        })
    }

    fn redact(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |t, s| s.redact(&t))
    }

    /// POSTs `body` as JSON with `headers` (name, secret value); returns the decoded answer and
    /// its size, retrying 429 (after `Retry-After` / `X-RateLimit-Reset`), 5xx and network errors.
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: &[(&str, &Secret)],
        body: &serde_json::Value,
    ) -> Result<(serde_json::Value, u64), LogStoreError> {
        let store = self.store;
        let mut retry = 0;
        loop {
            let mut request = self.client.post(url).json(body);
            for (name, value) in headers {
                request = request.header(*name, value.expose());
            }
            let (wait, why) = match request.send().await {
                Err(source) => {
                    if retry >= self.retry.max_retries
                        || !(source.is_connect() || source.is_timeout())
                    {
                        return Err(LogStoreError::Network {
                            store,
                            attempts: retry + 1,
                            source: source.without_url(),
                        });
                    }
                    (self.retry.backoff(retry), "a network error".to_owned())
                }
                Ok(response) if response.status().is_success() => {
                    let bytes = response.bytes().await.map_err(|e| LogStoreError::Decode {
                        store,
                        detail: e.without_url().to_string(),
                    })?;
                    let value =
                        serde_json::from_slice(&bytes).map_err(|e| LogStoreError::Decode {
                            store,
                            detail: format!("not JSON: {e}"),
                        })?;
                    return Ok((value, bytes.len() as u64));
                }
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let text = response.text().await.unwrap_or_default();
                    let message = self.redact(&text.chars().take(300).collect::<String>());
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        let wait = rate_limit_wait(&headers, SystemTime::now())
                            .unwrap_or_else(|| self.retry.backoff(retry));
                        if wait > self.retry.max_wait || retry >= self.retry.max_retries {
                            return Err(LogStoreError::RateLimited {
                                store,
                                detail: format!(
                                    "gave up after {} attempt(s); the limit resets in {}s ({})",
                                    retry + 1,
                                    wait.as_secs(),
                                    message.trim()
                                ),
                            });
                        }
                        (wait, "429 (rate limited)".to_owned())
                    } else if status.is_server_error() {
                        if retry >= self.retry.max_retries {
                            return Err(LogStoreError::Server {
                                store,
                                status,
                                attempts: retry + 1,
                            });
                        }
                        (self.retry.backoff(retry), status.as_u16().to_string())
                    } else if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
                        return Err(LogStoreError::Unauthorized {
                            store,
                            status,
                            message: message.trim().to_owned(),
                        });
                    } else {
                        return Err(LogStoreError::Unexpected {
                            store,
                            status,
                            message: message.trim().to_owned(),
                        });
                    }
                }
            };
            retry += 1;
            crate::errln!(
                "{store} answered {why}; retrying in {:.1}s (retry {retry} of {})",
                wait.as_secs_f64(),
                self.retry.max_retries
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// How long the store asks us to wait: `Retry-After` seconds, else `X-RateLimit-Reset` — a Unix
/// epoch second (Axiom) or seconds until the reset (Datadog); a value below 10⁹ is the latter.
pub fn rate_limit_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    if let Some(secs) = get("retry-after") {
        return Some(Duration::from_secs_f64(secs));
    }
    let reset = get("x-ratelimit-reset")?;
    if reset < 1e9 {
        return Some(Duration::from_secs_f64(reset));
    }
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    Some(Duration::from_secs_f64((reset - now).max(0.0) + 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_through_the_frame_formatter() {
        for ms in [0i64, 1_768_485_787_123, 951_782_400_000] {
            let text = crate::frame::json::format_unix_millis(ms).unwrap();
            assert_eq!(parse_rfc3339_millis(&text), Some(ms), "{text}");
        }
        assert_eq!(parse_rfc3339_millis("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339_millis("yesterday"), None);
    }

    #[test]
    fn reset_is_an_epoch_or_a_delay() {
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset", "3".parse().unwrap());
        assert_eq!(
            rate_limit_wait(&h, SystemTime::now()),
            Some(Duration::from_secs(3))
        );
        h.insert("retry-after", "1".parse().unwrap());
        assert_eq!(
            rate_limit_wait(&h, SystemTime::now()),
            Some(Duration::from_secs(1))
        );
    }
}

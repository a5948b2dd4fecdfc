//! The one HTTP transport of the GitHub and log-store clients: the reqwest client (timeouts,
//! user agent), one request sent and retried per [`RetryPolicy`] (rate limits, 5xx answers,
//! timeouts and refused connections), the body read with its size, and the callers' secrets
//! redacted from whatever a server sent back. Each client keeps only its URLs, JSON shapes and
//! the mapping of a [`Failure`] to its own error type.

use crate::secret::Secret;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Scales the retry backoff (milliseconds for the first retry); lets tests retry instantly.
pub(crate) const RETRY_BASE_ENV: &str = "BA_INDEX_ADVISOR_RETRY_BASE_MS";
const USER_AGENT: &str = concat!("ba-index-advisor/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// First backoff for 5xx and network errors; doubled on each retry.
    pub base_backoff: Duration,
    /// The longest single wait. A rate limit that resets later than this fails instead of
    /// stalling the run (GitHub's primary limit can take up to an hour to reset).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            base_backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub(crate) fn backoff(&self, retry: u32) -> Duration {
        self.base_backoff
            .saturating_mul(1u32 << retry.min(16))
            .min(self.max_wait)
    }

    /// This policy with its first backoff from [`RETRY_BASE_ENV`] when that is set.
    pub(crate) fn with_env_base(self) -> Self {
        self.with_base_ms(crate::env::nonempty(RETRY_BASE_ENV).as_deref())
    }

    fn with_base_ms(mut self, ms: Option<&str>) -> Self {
        if let Some(ms) = ms.and_then(|v| v.parse::<u64>().ok()) {
            self.base_backoff = Duration::from_millis(ms);
        }
        self
    }
}

/// Why a request did not succeed, for the caller to map to its own error.
#[derive(Debug)]
pub(crate) enum Failure {
    /// A network error that is not a timeout or a refused connection, or the last retry's.
    Network {
        attempts: u32,
        source: reqwest::Error,
    },
    /// Rate limited: the wait asked for is longer than the policy allows (`too_long`), or the
    /// retries ran out. `body` is the server's answer, redacted.
    RateLimited {
        wait: Duration,
        too_long: bool,
        attempts: u32,
        body: String,
    },
    /// A 5xx on every attempt.
    Server { status: StatusCode, attempts: u32 },
    /// An answer that retrying cannot change; `body` redacted.
    Status { status: StatusCode, body: String },
}

/// A successful answer's body could not be read or was not the JSON expected.
#[derive(Debug)]
pub(crate) enum BodyError {
    Read(reqwest::Error),
    Json(serde_json::Error),
}

/// One HTTP client for one service, with its retry policy and the secrets its answers must
/// never show.
pub(crate) struct Transport {
    client: reqwest::Client,
    service: &'static str,
    retry: RetryPolicy,
    secrets: Vec<Secret>,
}

impl Transport {
    pub(crate) fn new(
        service: &'static str,
        timeout: Duration,
        retry: RetryPolicy,
        secrets: Vec<Secret>,
    ) -> Result<Self, reqwest::Error> {
        // reqwest is built with `rustls-no-provider`: without a process-wide provider, building
        // a client panics ("No provider set"). A second install is harmless, so ignore its Err.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(timeout)
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        Ok(Self {
            client,
            service,
            retry,
            secrets,
        })
    }

    pub(crate) fn retry(&self) -> RetryPolicy {
        self.retry
    }

    /// Every secret of this client replaced in `text`.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.secrets
            .iter()
            .fold(text.to_owned(), |t, s| s.redact(&t))
    }

    /// Sends the request `build` makes (built again for each attempt) until it succeeds, an
    /// answer is final, or the policy gives up. `action` names the request in the retry lines.
    pub(crate) async fn send(
        &self,
        action: Option<&(dyn fmt::Display + Sync)>,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, Failure> {
        let policy = self.retry;
        let mut retry = 0;
        loop {
            let (wait, why) = match build(&self.client).send().await {
                Err(source) => {
                    if retry >= policy.max_retries || !(source.is_connect() || source.is_timeout())
                    {
                        return Err(Failure::Network {
                            attempts: retry + 1,
                            source: source.without_url(),
                        });
                    }
                    (policy.backoff(retry), "a network error".to_owned())
                }
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    let body = self.redact(&response.text().await.unwrap_or_default());
                    if is_rate_limited(status, &headers) {
                        let wait = rate_limit_wait(&headers, SystemTime::now())
                            .unwrap_or_else(|| policy.backoff(retry));
                        let too_long = wait > policy.max_wait;
                        if too_long || retry >= policy.max_retries {
                            return Err(Failure::RateLimited {
                                wait,
                                too_long,
                                attempts: retry + 1,
                                body,
                            });
                        }
                        (wait, format!("{} (rate limited)", status.as_u16()))
                    } else if status.is_server_error() {
                        if retry >= policy.max_retries {
                            return Err(Failure::Server {
                                status,
                                attempts: retry + 1,
                            });
                        }
                        (policy.backoff(retry), status.as_u16().to_string())
                    } else {
                        return Err(Failure::Status { status, body });
                    }
                }
            };
            retry += 1;
            let to = action.map(|a| format!(" to {a}")).unwrap_or_default();
            crate::errln!(
                "{} answered {why}{to}; retrying in {:.1}s (retry {retry} of {})",
                self.service,
                wait.as_secs_f64(),
                policy.max_retries
            );
            tokio::time::sleep(wait).await;
        }
    }
}

/// A successful answer's JSON and its size in bytes.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    response: reqwest::Response,
) -> Result<(T, u64), BodyError> {
    let bytes = response
        .bytes()
        .await
        .map_err(|e| BodyError::Read(e.without_url()))?;
    let value = serde_json::from_slice(&bytes).map_err(BodyError::Json)?;
    Ok((value, bytes.len() as u64))
}

/// 429 always; 403 when the server says it is a limit, not a permission (GitHub's secondary
/// limits send `retry-after`, its primary limit `x-ratelimit-remaining: 0`).
pub(crate) fn is_rate_limited(status: StatusCode, headers: &HeaderMap) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status == StatusCode::FORBIDDEN
            && (headers.contains_key("retry-after")
                || header_str(headers, "x-ratelimit-remaining") == Some("0")))
}

/// How long the server asks us to wait, `None` when it does not say (use the backoff):
/// `retry-after` seconds, else `x-ratelimit-reset` unless `x-ratelimit-remaining` says requests
/// are left (a 429 from another limit than the one counted). The reset is a Unix epoch second
/// (GitHub, Axiom) or the seconds until the reset (Datadog); a value below 10⁹ is the latter.
pub(crate) fn rate_limit_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let seconds = |name: &str| {
        header_str(headers, name)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    if let Some(secs) = seconds("retry-after") {
        return Some(Duration::from_secs_f64(secs));
    }
    if header_str(headers, "x-ratelimit-remaining").is_some_and(|left| left.trim() != "0") {
        return None;
    }
    let reset = seconds("x-ratelimit-reset")?;
    if reset < 1e9 {
        return Some(Duration::from_secs_f64(reset));
    }
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs_f64();
    // One extra second: the reset instant is rounded down to the second.
    Some(Duration::from_secs_f64((reset - now).max(0.0) + 1.0))
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    /// A header map from name–value pairs (the GitHub client's tests use it too).
    pub(crate) fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 10,
            base_backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(5),
        };
        assert_eq!(policy.backoff(0), Duration::from_secs(1));
        assert_eq!(policy.backoff(1), Duration::from_secs(2));
        assert_eq!(policy.backoff(2), Duration::from_secs(4));
        assert_eq!(policy.backoff(3), Duration::from_secs(5));
        assert_eq!(policy.backoff(40), Duration::from_secs(5));
    }

    #[test]
    fn the_environment_sets_only_the_first_backoff() {
        let stores = RetryPolicy {
            max_retries: 4,
            max_wait: Duration::from_secs(120),
            ..RetryPolicy::default()
        };
        let fast = stores.with_base_ms(Some("1"));
        assert_eq!(fast.base_backoff, Duration::from_millis(1));
        assert_eq!((fast.max_retries, fast.max_wait), (4, stores.max_wait));
        assert_eq!(stores.with_base_ms(Some("soon")), stores);
        assert_eq!(stores.with_base_ms(None), stores);
    }

    #[test]
    fn retry_after_wins_over_every_reset() {
        let now = UNIX_EPOCH + Duration::from_secs(1_000);
        let github = headers(&[
            ("retry-after", "7"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "2000"),
        ]);
        assert_eq!(rate_limit_wait(&github, now), Some(Duration::from_secs(7)));
        let datadog = headers(&[("retry-after", "1"), ("x-ratelimit-reset", "3")]);
        assert_eq!(rate_limit_wait(&datadog, now), Some(Duration::from_secs(1)));
        let fraction = headers(&[("retry-after", "0.5")]);
        assert_eq!(
            rate_limit_wait(&fraction, now),
            Some(Duration::from_millis(500))
        );
    }

    #[test]
    fn an_epoch_reset_waits_until_a_second_after_it() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        // GitHub and Axiom: the epoch second the window resets at.
        let exhausted = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1700000010"),
        ]);
        assert_eq!(
            rate_limit_wait(&exhausted, now),
            Some(Duration::from_secs(11))
        );
        let past = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1699999900"),
        ]);
        assert_eq!(rate_limit_wait(&past, now), Some(Duration::from_secs(1)));
        let unsaid = headers(&[("x-ratelimit-reset", "1700000010")]);
        assert_eq!(rate_limit_wait(&unsaid, now), Some(Duration::from_secs(11)));
    }

    #[test]
    fn a_small_reset_is_a_delay() {
        // Datadog: the seconds until the window resets.
        let now = SystemTime::now();
        let datadog = headers(&[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "3")]);
        assert_eq!(rate_limit_wait(&datadog, now), Some(Duration::from_secs(3)));
        let bare = headers(&[("x-ratelimit-reset", "3")]);
        assert_eq!(rate_limit_wait(&bare, now), Some(Duration::from_secs(3)));
    }

    #[test]
    fn a_reset_is_ignored_while_requests_are_left_or_when_unreadable() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let left = headers(&[
            ("x-ratelimit-remaining", "12"),
            ("x-ratelimit-reset", "1700000010"),
        ]);
        assert_eq!(rate_limit_wait(&left, now), None);
        assert_eq!(rate_limit_wait(&headers(&[]), now), None);
        let garbage = headers(&[("retry-after", "-1"), ("x-ratelimit-reset", "soon")]);
        assert_eq!(rate_limit_wait(&garbage, now), None);
    }

    #[test]
    fn a_403_is_a_rate_limit_only_when_the_server_says_so() {
        assert!(is_rate_limited(
            StatusCode::TOO_MANY_REQUESTS,
            &headers(&[])
        ));
        assert!(!is_rate_limited(StatusCode::FORBIDDEN, &headers(&[])));
        assert!(!is_rate_limited(
            StatusCode::FORBIDDEN,
            &headers(&[("x-ratelimit-remaining", "41")])
        ));
        assert!(is_rate_limited(
            StatusCode::FORBIDDEN,
            &headers(&[("x-ratelimit-remaining", "0")])
        ));
        assert!(is_rate_limited(
            StatusCode::FORBIDDEN,
            &headers(&[("retry-after", "60")])
        ));
    }

    #[test]
    fn every_secret_is_redacted() {
        let transport = Transport::new(
            "Datadog",
            Duration::from_secs(1),
            RetryPolicy::default(),
            vec![Secret::new("api-key-1"), Secret::new("app-key-2")],
        )
        .unwrap();
        assert_eq!(
            transport.redact("bad api-key-1 and app-key-2"),
            "bad *** and ***"
        );
    }
}

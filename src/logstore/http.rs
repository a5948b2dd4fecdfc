//! The HTTP client of a log store, over `transport.rs`: the stores' retries and timeout, a JSON
//! POST, and a transport failure mapped to `LogStoreError`.

use super::LogStoreError;
use crate::secret::Secret;
use crate::transport::{BodyError, Failure, RetryPolicy, Transport};
use reqwest::StatusCode;
use std::time::Duration;

/// The stores' retries: one more than GitHub's, and a rate limit may take up to two minutes to
/// reset; the first backoff as the environment sets it.
pub fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        max_wait: Duration::from_secs(120),
        ..RetryPolicy::default()
    }
    .with_env_base()
}

/// The longest a query may take: a store answers a long range slowly before it gives up.
const TIMEOUT: Duration = Duration::from_secs(120);

/// An HTTP client for one store, with bounded retries.
pub(crate) struct Http {
    transport: Transport,
    store: &'static str,
}

impl Http {
    pub(crate) fn new(
        store: &'static str,
        retry: RetryPolicy,
        secrets: Vec<Secret>,
    ) -> Result<Self, LogStoreError> {
        let transport =
            Transport::new(store, TIMEOUT, retry, secrets).map_err(LogStoreError::Client)?;
        Ok(Self { transport, store })
    }

    /// POSTs `body` as JSON with `headers` (name, secret value); returns the decoded answer and
    /// its size.
    pub(crate) async fn post(
        &self,
        url: &str,
        headers: &[(&str, &Secret)],
        body: &serde_json::Value,
    ) -> Result<(serde_json::Value, u64), LogStoreError> {
        let store = self.store;
        let build = |client: &reqwest::Client| {
            headers
                .iter()
                .fold(client.post(url).json(body), |request, (name, value)| {
                    request.header(*name, value.expose())
                })
        };
        let response = self
            .transport
            .send(None, build)
            .await
            .map_err(|failure| failed(store, failure))?;
        crate::transport::read_json(response)
            .await
            .map_err(|e| LogStoreError::Decode {
                store,
                detail: match e {
                    BodyError::Read(e) => e.to_string(),
                    BodyError::Json(e) => format!("not JSON: {e}"),
                },
            })
    }
}

fn failed(store: &'static str, failure: Failure) -> LogStoreError {
    // The start of a store's error body says what is wrong; the rest can be a page of HTML.
    let message = |body: &str| body.chars().take(300).collect::<String>().trim().to_owned();
    match failure {
        Failure::Network { attempts, source } => LogStoreError::Network {
            store,
            attempts,
            source,
        },
        Failure::RateLimited {
            wait,
            attempts,
            body,
            ..
        } => LogStoreError::RateLimited {
            store,
            detail: format!(
                "gave up after {attempts} attempt(s); the limit resets in {}s ({})",
                wait.as_secs(),
                message(&body)
            ),
        },
        Failure::Server { status, attempts } => LogStoreError::Server {
            store,
            status,
            attempts,
        },
        Failure::Status { status, body }
            if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) =>
        {
            LogStoreError::Unauthorized {
                store,
                status,
                message: message(&body),
            }
        }
        Failure::Status { status, body } => LogStoreError::Unexpected {
            store,
            status,
            message: message(&body),
        },
    }
}

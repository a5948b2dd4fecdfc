//! How the HTTP clients (GitHub, the log stores) retry rate limits, 5xx answers and network
//! errors.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}

//! The time window of a pull: its instants as Unix milliseconds, cut into slices and halves
//! for the queries, and written as RFC 3339 only in a query, the coverage or a message.

use crate::time::Timestamp;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time window of a pull.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Window {
    /// `--since 30d` (s, m, h, d, w) back from `now`.
    pub fn since(spec: &str, now: SystemTime) -> Result<Self, String> {
        let back = crate::duration::parse_duration(spec)?;
        let now_ms = now
            .duration_since(UNIX_EPOCH)
            .map_err(|_| "the clock is before 1970".to_owned())?
            .as_millis() as i64;
        Ok(Self {
            start: Timestamp::from_millis(now_ms - back.as_millis() as i64),
            end: Timestamp::from_millis(now_ms),
        })
    }

    /// `--start T --end T`: RFC 3339 instants, checked here so a typo fails before a request.
    pub fn between(start: &str, end: &str) -> Result<Self, String> {
        let parse = |t: &str| {
            Timestamp::parse(t).ok_or_else(|| {
                format!("`{t}` is not an RFC 3339 time such as 2026-01-15T00:00:00Z")
            })
        };
        Ok(Self {
            start: parse(start)?,
            end: parse(end)?,
        })
    }

    /// Start and end as Unix milliseconds.
    pub fn millis(&self) -> (i64, i64) {
        (self.start.millis(), self.end.millis())
    }

    /// Consecutive windows of at most `longest` that cover this one, earliest first. The first
    /// and last keep this window's own instants as written.
    pub fn slices(&self, longest: Duration) -> Vec<Window> {
        let (start, end) = self.millis();
        let step = (longest.as_millis() as i64).max(1000);
        if end - start <= step {
            return vec![self.clone()];
        }
        let mut out = Vec::new();
        let mut at = start;
        while at < end {
            let next = (at + step).min(end);
            out.push(Window {
                start: if at == start {
                    self.start.clone()
                } else {
                    Timestamp::from_millis(at)
                },
                end: if next == end {
                    self.end.clone()
                } else {
                    Timestamp::from_millis(next)
                },
            });
            at = next;
        }
        out
    }

    /// The two halves of this window, unless a half would be shorter than `shortest`.
    pub fn halves(&self, shortest: Duration) -> Option<(Window, Window)> {
        let (start, end) = self.millis();
        let middle = start + (end - start) / 2;
        if middle - start < shortest.as_millis() as i64 {
            return None;
        }
        let middle = Timestamp::from_millis(middle);
        Some((
            Window {
                start: self.start.clone(),
                end: middle.clone(),
            },
            Window {
                start: middle,
                end: self.end.clone(),
            },
        ))
    }

    /// The same start, and an end `by` later.
    pub fn extended(&self, by: Duration) -> Window {
        Window {
            start: self.start.clone(),
            end: Timestamp::from_millis(self.end.millis() + by.as_millis() as i64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_window_edge_to_edge() {
        let window = Window::between("2026-01-15T00:00:00Z", "2026-01-17T06:30:00+00:00").unwrap();
        let slices = window.slices(Duration::from_secs(86_400));
        let starts: Vec<String> = slices.iter().map(|s| s.start.to_string()).collect();
        assert_eq!(
            starts,
            [
                "2026-01-15T00:00:00Z",
                "2026-01-16T00:00:00.000Z",
                "2026-01-17T00:00:00.000Z"
            ]
        );
        assert_eq!(slices[2].end.to_string(), "2026-01-17T06:30:00+00:00");
        assert!(slices.windows(2).all(|w| w[0].end == w[1].start));
        assert_eq!(
            window.slices(Duration::from_secs(30 * 86_400)),
            vec![window.clone()]
        );
        let (earlier, later) = slices[2].halves(Duration::from_secs(60)).unwrap();
        assert_eq!(earlier.end.to_string(), "2026-01-17T03:15:00.000Z");
        assert_eq!(later.start, earlier.end);
        let minute = Window::between("2026-01-15T00:00:00Z", "2026-01-15T00:01:00Z").unwrap();
        assert_eq!(minute.halves(Duration::from_secs(60)), None);
    }

    #[test]
    fn a_typo_fails_before_a_request() {
        let err = Window::between("2026-01-15", "2026-01-16T00:00:00Z").unwrap_err();
        assert!(
            err.contains("`2026-01-15` is not an RFC 3339 time"),
            "{err}"
        );
    }
}

//! RFC 3339 both ways: Unix milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ` for records and queries,
//! RFC 3339 text → Unix milliseconds for flags and the stores' answers, and [`Timestamp`], an
//! instant kept as milliseconds and written only where it is shown or sent.

use std::fmt;
use std::sync::Arc;

/// The length of [`write_unix_millis`]'s text.
pub(crate) const UNIX_MILLIS_LEN: usize = 24;

/// Unix milliseconds → `YYYY-MM-DDTHH:MM:SS.mmmZ` (proleptic Gregorian, UTC).
pub fn format_unix_millis(ms: i64) -> Option<String> {
    write_unix_millis(ms, &mut [0; UNIX_MILLIS_LEN]).map(str::to_owned)
}

/// [`format_unix_millis`] into `out`, digit by digit: a JSON record carries one timestamp per
/// log line, and `format!` cost more than decoding the line.
pub(crate) fn write_unix_millis(ms: i64, out: &mut [u8; UNIX_MILLIS_LEN]) -> Option<&str> {
    let days = ms.div_euclid(86_400_000);
    let of_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let fields = [
        (year, 4, b'-'),
        (month, 2, b'-'),
        (day, 2, b'T'),
        (of_day / 3_600_000, 2, b':'),
        (of_day / 60_000 % 60, 2, b':'),
        (of_day / 1000 % 60, 2, b'.'),
        (of_day % 1000, 3, b'Z'),
    ];
    let mut at = 0;
    for (mut value, digits, separator) in fields {
        for slot in out[at..at + digits].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
        out[at + digits] = separator;
        at += digits + 1;
    }
    std::str::from_utf8(out).ok()
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

/// An instant as Unix milliseconds. One the user gave (`--start`, `--end`) remembers its text,
/// so queries, the coverage and messages echo the flag as written; any other is written as
/// [`format_unix_millis`] writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    millis: i64,
    written: Option<Arc<str>>,
}

impl Timestamp {
    pub fn from_millis(millis: i64) -> Self {
        Self {
            millis,
            written: None,
        }
    }

    /// An RFC 3339 instant, kept with its text.
    pub fn parse(text: &str) -> Option<Self> {
        Some(Self {
            millis: parse_rfc3339_millis(text)?,
            written: Some(Arc::from(text)),
        })
    }

    pub fn millis(&self) -> i64 {
        self.millis
    }
}

impl fmt::Display for Timestamp {
    /// Nothing for an instant outside years 0 to 9999, which no flag can give.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.written {
            Some(text) => f.write_str(text),
            None => {
                let mut buffer = [0; UNIX_MILLIS_LEN];
                f.write_str(write_unix_millis(self.millis, &mut buffer).unwrap_or_default())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_unix_millis() {
        assert_eq!(
            format_unix_millis(1_768_485_790_113).as_deref(),
            Some("2026-01-15T14:03:10.113Z")
        );
        assert_eq!(
            format_unix_millis(0).as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        assert_eq!(
            format_unix_millis(951_782_400_000).as_deref(),
            Some("2000-02-29T00:00:00.000Z")
        );
    }

    #[test]
    fn rfc3339_round_trips_through_the_formatter() {
        for ms in [0i64, 1_768_485_787_123, 951_782_400_000] {
            let text = format_unix_millis(ms).unwrap();
            assert_eq!(parse_rfc3339_millis(&text), Some(ms), "{text}");
        }
        assert_eq!(parse_rfc3339_millis("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339_millis("yesterday"), None);
    }

    #[test]
    fn a_timestamp_is_written_as_given_or_formatted() {
        let given = Timestamp::parse("1970-01-01T01:00:00+01:00").unwrap();
        assert_eq!(given.millis(), 0);
        assert_eq!(given.to_string(), "1970-01-01T01:00:00+01:00");
        assert_eq!(
            Timestamp::from_millis(0).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(Timestamp::parse("yesterday"), None);
    }
}

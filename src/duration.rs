//! The one reading of `10m`-style durations, for every flag and setting that takes one.

use std::time::Duration;

/// The longest duration accepted: past this a typo, not a window.
const LONGEST: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `250ms`, `90s`, `10m` (or `min`), `1.5h`, `30d`, `2w`; a bare number is seconds. Zero and more
/// than a century are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = parse(text)?;
    if duration.is_zero() {
        return Err(format!(
            "`{}`: the duration must be longer than zero",
            text.trim()
        ));
    }
    Ok(duration)
}

/// `parse_duration`, and zero too (`0`, `0s`): for a span that may be none, as `watch --grace`.
pub fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
    parse(text)
}

fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let wrong = || format!("`{text}`: not a duration like 90s, 10m, 12h or 30d");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| wrong())?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        "w" => 7.0 * 86_400.0,
        _ => return Err(wrong()),
    };
    let duration = Duration::try_from_secs_f64(number * scale).map_err(|_| wrong())?;
    if duration > LONGEST {
        return Err(format!("`{text}` is longer than a century"));
    }
    Ok(duration)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unit_or_seconds() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("ten minutes").is_err());
        assert!(parse_duration("5y").is_err());
        assert!(
            parse_duration("99999999999w")
                .unwrap_err()
                .contains("century")
        );
    }

    #[test]
    fn zero_where_a_span_may_be_none() {
        assert_eq!(parse_duration_or_zero("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration_or_zero("0s"), Ok(Duration::ZERO));
        assert_eq!(
            parse_duration_or_zero("1.5"),
            Ok(Duration::from_millis(1500))
        );
        assert_eq!(parse_duration_or_zero("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration_or_zero("-1").is_err());
        assert!(parse_duration_or_zero("ten").is_err());
    }
}

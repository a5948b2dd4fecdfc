//! The one reading of `10m`-style durations and `8MiB`-style sizes, for every flag and setting
//! that takes one.

use std::time::Duration;

/// The longest duration accepted: past this a typo, not a window.
const LONGEST: Duration = Duration::from_secs(100 * 365 * 86_400);

/// `250ms`, `90s`, `10m` (or `min`), `1.5h`, `30d`, `2w`; a bare number is seconds. Zero and more
/// than a century are refused.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
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
pub(crate) fn parse_duration_or_zero(text: &str) -> Result<Duration, String> {
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

/// `8MiB`, `512K`, `1000000`.
pub(crate) fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}`: not a size like 8MiB or 512K"))?;
    let scale = match unit.trim() {
        "" | "B" => 1,
        "K" | "KB" => 1_000,
        "KiB" => 1_024,
        "M" | "MB" => 1_000_000,
        "MiB" => 1_048_576,
        _ => return Err(format!("`{text}`: the unit is one of K, KiB, M, MiB")),
    };
    match number.checked_mul(scale) {
        Some(0) | None => Err(format!("`{text}`: give a size above zero")),
        Some(bytes) => Ok(bytes),
    }
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

    #[test]
    fn a_size_in_bytes_or_with_a_unit() {
        assert_eq!(parse_size("8MiB"), Ok(8 * 1_048_576));
        assert_eq!(parse_size("512K"), Ok(512_000));
        assert_eq!(parse_size("2KiB"), Ok(2048));
        assert_eq!(parse_size(" 1000000 "), Ok(1_000_000));
        assert!(parse_size("0").is_err());
        assert!(parse_size("8GiB").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("99999999999999999999M").is_err());
    }
}

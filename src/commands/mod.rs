//! One module per subcommand: argument types and the glue from arguments to the library.
//! `log_store` is not a command: the `--from axiom|datadog` arguments the commands share; nor
//! is `parse_duration`, the one reading of `10m`-style flags.

pub mod apply;
pub mod completions;
pub mod config;
pub mod doctor;
pub mod ignore;
pub mod init;
pub mod log_store;
pub mod pr;
pub mod predict;
pub mod report;
pub mod serve;
pub mod watch;

use std::time::Duration;

/// `10m`, `90s`, `1h`, `500ms`; a bare number is seconds.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let wrong = || format!("`{text}`: not a duration like 10m, 90s or 1h");
    let text = text.trim();
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
        _ => return Err(wrong()),
    };
    let duration = Duration::try_from_secs_f64(number * scale).map_err(|_| wrong())?;
    if duration.is_zero() {
        return Err(format!("`{text}`: the interval must be longer than zero"));
    }
    Ok(duration)
}

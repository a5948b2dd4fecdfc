//! `--format json`: the report document, serialised as is.

use super::Report;

pub(crate) fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("the report serialises");
    out.push('\n');
    out
}

//! Not a command: the `--format` the report-printing commands share, and the one way they print
//! the report on stdout.

use crate::document::Report;
use crate::render::{self, next::Step};
use clap::ValueEnum;
use std::io::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Markdown,
}

/// Prints `report` in `format` on stdout: the table in colour when stdout takes it, and fitted
/// to the terminal's width.
pub fn print_report(report: &Report, format: ReportFormat, next: &[Step]) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let color = anstream::AutoStream::choice(&stdout) != anstream::ColorChoice::Never;
    let rendered = match format {
        ReportFormat::Table => {
            render::table::render(report, color, render::table::terminal_width(), next)
        }
        ReportFormat::Json => render::json::render(report),
        ReportFormat::Markdown => render::markdown::render(report, next),
    };
    let mut out = stdout.lock();
    out.write_all(rendered.as_bytes())?;
    out.flush()
}

//! Not a command: the `--format` the report-printing commands share, the one way they print
//! the report on stdout, and the one way the writing commands tell what they wrote.

use crate::document::Report;
use crate::engine::Engine;
use crate::render::{self, next::Step};
use crate::schema::{self, Change};
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
            render::table::render(report, color, render::fit::stdout_width(), next)
        }
        ReportFormat::Json => render::json::render(report),
        ReportFormat::Markdown => render::markdown::render(report, next),
    };
    let mut out = stdout.lock();
    out.write_all(rendered.as_bytes())?;
    out.flush()
}

/// Tells what `Engine::apply` did to the component's schema: nothing to change, the diff it
/// would write (on stdout, when `preview`), or the indexes it wrote (on stderr). Returns whether
/// there was a change.
pub fn print_change(
    engine: &Engine,
    change: Option<&Change>,
    preview: bool,
) -> std::io::Result<bool> {
    let label = engine
        .component()
        .map(|c| schema::display_path(&c.schema.path))
        .unwrap_or_default();
    let Some(change) = change else {
        crate::console::err_fitted(&format!("{label}: nothing to change"));
        return Ok(false);
    };
    if preview {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(change.unified_diff(&label).as_bytes())?;
        stdout.flush()?;
    } else {
        for line in change.written_lines(&label) {
            crate::console::err_fitted(&line);
        }
    }
    Ok(true)
}

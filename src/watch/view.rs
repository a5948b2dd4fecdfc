//! Renders watch events: a live table redrawn in place on a terminal, one plain line per new or
//! changed suggestion otherwise, or NDJSON events (`--format json`). Notices go to stderr; in
//! table mode the live region is erased first, so they stay above it. Every line of the live
//! region fits the terminal's width (re-read at each redraw, so a resize is followed), as
//! `render::fit` lays it out: callers cut on the left as `report` cuts them, reasons wrapped
//! whole onto more lines, never cut; the rows to move back over are counted at that width.

use super::tracker::{Status, SuggestionView};
use crate::render::fit;
use serde::Serialize;
use std::io::{self, Write};
use std::time::{Duration, Instant};

/// The table is redrawn at most this often.
const REDRAW_EVERY: Duration = Duration::from_millis(100);
/// When neither `COLUMNS` nor the terminal says.
const DEFAULT_WIDTH: usize = 80;
/// Narrower than this, rows keep this width and the terminal wraps them.
const MIN_WIDTH: usize = 20;

/// What `--format` (`LiveFormat`) resolved to on this stdout: `auto` is gone by now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rendering {
    Table,
    Lines,
    Json,
}

/// One NDJSON line: a suggestion's state, and why it was printed.
#[derive(Serialize)]
struct JsonEvent<'a> {
    /// `status` (the status changed), `count` (only the count moved) or `final`.
    event: &'a str,
    #[serde(flatten)]
    suggestion: &'a SuggestionView,
}

pub(crate) struct View<W: Write> {
    mode: Rendering,
    out: W,
    color: bool,
    /// `COLUMNS`, when set; otherwise the terminal is asked at each redraw.
    fixed_width: Option<usize>,
    /// The width the live region was last drawn at.
    width: usize,
    /// The length in characters of each line of the live region on screen, to move back over
    /// them: at the current width, a line longer than it now takes several rows.
    drawn: Vec<usize>,
    cursor_hidden: bool,
    last_draw: Option<Instant>,
    stale: bool,
    /// Suggestions dismissed by the configuration, as (table, fields, reason), in arrival order.
    ignored: Vec<(String, Vec<String>, String)>,
}

/// An `ignored` NDJSON line: a dismissed suggestion, first seen.
#[derive(Serialize)]
struct IgnoredEvent<'a> {
    event: &'a str,
    table: &'a str,
    fields: &'a [String],
    reason: &'a str,
}

impl<W: Write> View<W> {
    pub(crate) fn new(mode: Rendering, out: W, color: bool) -> Self {
        let fixed_width = fit::columns();
        Self {
            mode,
            out,
            color,
            fixed_width,
            width: fixed_width.unwrap_or(DEFAULT_WIDTH),
            drawn: Vec::new(),
            cursor_hidden: false,
            last_draw: None,
            stale: true,
            ignored: Vec::new(),
        }
    }

    fn current_width(&self) -> usize {
        self.fixed_width
            .or_else(fit::terminal_size)
            .unwrap_or(DEFAULT_WIDTH)
            .max(MIN_WIDTH)
    }

    /// A suggestion appeared or its status changed.
    pub(crate) fn status_changed(&mut self, s: &SuggestionView) -> io::Result<()> {
        match self.mode {
            Rendering::Table => {
                self.stale = true;
                Ok(())
            }
            Rendering::Lines => {
                let line = plain_line(s);
                writeln!(self.out, "{line}")?;
                self.out.flush()
            }
            Rendering::Json => self.json("status", s),
        }
    }

    /// A suggestion the configuration dismisses was seen for the first time.
    pub(crate) fn ignored(
        &mut self,
        table: &str,
        fields: &[String],
        reason: &str,
    ) -> io::Result<()> {
        self.ignored
            .push((table.to_owned(), fields.to_vec(), reason.to_owned()));
        match self.mode {
            Rendering::Table => {
                self.stale = true;
                Ok(())
            }
            Rendering::Lines => {
                writeln!(self.out, "{}", ignored_line(table, fields, reason))?;
                self.out.flush()
            }
            Rendering::Json => {
                serde_json::to_writer(
                    &mut self.out,
                    &IgnoredEvent {
                        event: "ignored",
                        table,
                        fields,
                        reason,
                    },
                )?;
                self.out.write_all(b"\n")?;
                self.out.flush()
            }
        }
    }

    fn ignored_lines(&self, width: usize) -> String {
        self.ignored
            .iter()
            .flat_map(|(table, fields, reason)| {
                fit::wrap(&ignored_line(table, fields, reason), Some(width), "", HANG)
            })
            .map(|row| row + "\n")
            .collect()
    }

    /// Periodic: suggestions whose count moved since the last call.
    pub(crate) fn counts_changed(&mut self, changed: &[SuggestionView]) -> io::Result<()> {
        match self.mode {
            Rendering::Table => {
                self.stale |= !changed.is_empty();
                Ok(())
            }
            Rendering::Lines => {
                for s in changed {
                    writeln!(self.out, "{}", plain_line(s))?;
                }
                self.out.flush()
            }
            Rendering::Json => changed.iter().try_for_each(|s| self.json("count", s)),
        }
    }

    /// Redraws the table if something changed, the terminal was resized, or `force`; at most
    /// every `REDRAW_EVERY`.
    pub(crate) fn refresh(
        &mut self,
        all: &[SuggestionView],
        now: Instant,
        force: bool,
    ) -> io::Result<()> {
        if self.mode != Rendering::Table {
            return Ok(());
        }
        let width = self.current_width();
        let resized = width != self.width;
        if !(self.stale || force || resized) {
            return Ok(());
        }
        if !force
            && !resized
            && self
                .last_draw
                .is_some_and(|t| now.duration_since(t) < REDRAW_EVERY)
        {
            return Ok(());
        }
        self.clear()?;
        self.width = width;
        let text = table(all, self.color, width) + &self.ignored_lines(width);
        if !self.cursor_hidden {
            crossterm::queue!(self.out, crossterm::cursor::Hide)?;
            self.cursor_hidden = true;
        }
        self.drawn = text.lines().map(fit::width).collect();
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        self.last_draw = Some(now);
        self.stale = false;
        Ok(())
    }

    /// A message for the user, on stderr, each line fitted to its width; the table is cleared
    /// first and redrawn after. A closed stderr loses the message but stops nothing: the view and `--write` go on.
    pub(crate) fn notice(&mut self, message: &str) -> io::Result<()> {
        self.above_the_table()?;
        for line in message.lines() {
            crate::console::err_fitted(&format!("watch: {line}"));
        }
        Ok(())
    }

    /// A `--write` diff, above the live table: its lines as the file holds them, never wrapped.
    pub(crate) fn diff(&mut self, diff: &str) -> io::Result<()> {
        self.above_the_table()?;
        for line in diff.lines() {
            crate::errln!("watch: {line}");
        }
        Ok(())
    }

    /// The live region is erased before a message is written to the other stream.
    fn above_the_table(&mut self) -> io::Result<()> {
        if self.mode == Rendering::Table {
            self.clear()?;
            self.out.flush()?;
            self.stale = true;
        }
        Ok(())
    }

    /// The final state of every suggestion.
    pub(crate) fn finish(&mut self, all: &[SuggestionView]) -> io::Result<()> {
        match self.mode {
            Rendering::Table => {
                self.clear()?;
                let width = self.current_width();
                if all.is_empty() {
                    writeln!(self.out, "No missing-index warnings seen.")?;
                } else {
                    self.out
                        .write_all(table(all, self.color, width).as_bytes())?;
                }
                self.out.write_all(self.ignored_lines(width).as_bytes())?;
                self.show_cursor()?;
            }
            Rendering::Lines => {
                writeln!(self.out, "summary: {} suggestion(s)", all.len())?;
                for s in all {
                    writeln!(self.out, "{}", plain_line(s))?;
                }
                self.out
                    .write_all(self.ignored_lines(usize::MAX).as_bytes())?;
            }
            Rendering::Json => all.iter().try_for_each(|s| self.json("final", s))?,
        }
        self.out.flush()
    }

    fn show_cursor(&mut self) -> io::Result<()> {
        if std::mem::take(&mut self.cursor_hidden) {
            crossterm::queue!(self.out, crossterm::cursor::Show)?;
        }
        Ok(())
    }

    /// Moves back to the first row of the live region and erases to the end of the screen.
    fn clear(&mut self) -> io::Result<()> {
        let width = self.current_width();
        let rows: usize = self
            .drawn
            .iter()
            .map(|&len| len.div_ceil(width).max(1))
            .sum();
        self.drawn.clear();
        if rows > 0 {
            crossterm::queue!(
                self.out,
                crossterm::cursor::MoveToPreviousLine(u16::try_from(rows).unwrap_or(u16::MAX)),
                crossterm::terminal::Clear(crossterm::terminal::ClearType::FromCursorDown)
            )?;
        }
        Ok(())
    }

    fn json(&mut self, event: &str, s: &SuggestionView) -> io::Result<()> {
        serde_json::to_writer(
            &mut self.out,
            &JsonEvent {
                event,
                suggestion: s,
            },
        )?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}

/// The terminal gets its cursor back however the view ends: an error, an unwinding panic.
impl<W: Write> Drop for View<W> {
    fn drop(&mut self) {
        if self.show_cursor().is_ok() {
            self.out.flush().ok();
        }
    }
}

/// A panic on another thread does not drop the view: show the cursor before the message.
pub(crate) fn restore_cursor_on_panic() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        crossterm::execute!(io::stdout(), crossterm::cursor::Show).ok();
        previous(info);
    }));
}

fn ignored_line(table: &str, fields: &[String], reason: &str) -> String {
    format!("ignored  {table} [{}]: {reason}", fields.join(", "))
}

fn plain_line(s: &SuggestionView) -> String {
    let mut line = format!(
        "{:<12} {} [{}]  count {}  ({}/min)",
        s.status.as_str(),
        s.table,
        s.fields.join(", "),
        s.count,
        s.recent_per_min
    );
    if !s.callers.is_empty() {
        line.push_str(&format!("  callers: {}", s.callers.join(", ")));
    }
    match (&s.served_by, s.status) {
        (Some(index), _) => line.push_str(&format!("  index: {index}")),
        (None, Status::New) => line.push_str(&format!(
            "  add: {}",
            crate::render::snippet::call(&s.index, &s.fields, None)
        )),
        _ => {}
    }
    if let Some(reason) = &s.reason {
        line.push_str(&format!("  ({reason})"));
    }
    line
}

fn paint(text: &str, status: Status, color: bool) -> String {
    if !color {
        return text.to_owned();
    }
    let code = match status {
        Status::New => "33",
        Status::Written => "36",
        Status::Served => "34",
        Status::Resolved => "32",
        Status::StillFiring => "31",
        Status::Blocked => "35",
    };
    format!("\x1b[{code}m{text}\x1b[39m")
}

/// The status column: as wide as the longest status word.
const STATUS_WIDTH: usize = 12;
/// The target column's width when the terminal has room for it.
const TARGET_WIDTH: usize = 40;
/// Narrower than this, the callers column is left out.
const CALLERS_MIN: usize = 8;
/// Where a reason starts, and where its wrapped rows go on.
const REASON: &str = "             ↳ ";
const HANG: &str = "               ";

/// The live table: one row per suggestion, reasons on indented lines below their row. Count and
/// rate take the width of their numbers; the target column what it needs (up to `TARGET_WIDTH`
/// when there is room), a target too wide for it going on below with its field list whole;
/// callers the rest, cut on the left. A terminal too narrow for callers leaves them out.
fn table(all: &[SuggestionView], color: bool, width: usize) -> String {
    let digits = |n: u64| n.to_string().len();
    let count_width = all.iter().map(|s| digits(s.count)).fold(5, usize::max);
    let rate_width = all
        .iter()
        .map(|s| digits(s.recent_per_min))
        .fold(4, usize::max);
    let fixed = STATUS_WIDTH + 1 + count_width + 1 + rate_width + 2;
    let targets: Vec<String> = all
        .iter()
        .map(|s| format!("{} [{}]", s.table, s.fields.join(", ")))
        .collect();
    let longest = targets
        .iter()
        .map(|t| fit::width(t))
        .chain([fit::width("TABLE [FIELDS]")])
        .max()
        .unwrap_or(0);
    let room = width.saturating_sub(fixed);
    let show_callers =
        all.iter().any(|s| !s.callers.is_empty()) && longest + 1 + CALLERS_MIN <= room;
    let (target_width, callers_width) = if show_callers {
        let target = longest.max(TARGET_WIDTH.min(room - 1 - CALLERS_MIN));
        (target, room - 1 - target)
    } else {
        (longest.max(TARGET_WIDTH).min(room), 0)
    };
    let pad = |text: &str| {
        let gap = target_width.saturating_sub(fit::width(text));
        format!("{text}{}", " ".repeat(gap))
    };
    // A target wider than its column: the table, then the field list whole on the rows below.
    let target_rows = |target: &str| -> Vec<String> {
        fit::wrap(target, Some(target_width), "", "  ")
            .iter()
            .map(|row| fit::shorten(row, target_width))
            .collect()
    };
    let mut out = String::new();
    let mut header = format!(
        "{:<STATUS_WIDTH$} {:>count_width$} {:>rate_width$}  {}",
        "STATUS",
        "COUNT",
        "/MIN",
        pad("TABLE [FIELDS]")
    );
    if show_callers {
        header.push_str(" CALLERS");
    }
    out.push_str(fit::shorten(header.trim_end(), width).as_str());
    out.push('\n');
    for (s, target) in all.iter().zip(&targets) {
        let rows = target_rows(target);
        let mut row = format!(
            "{:<STATUS_WIDTH$} {:>count_width$} {:>rate_width$}  {}",
            s.status.as_str(),
            s.count,
            s.recent_per_min,
            pad(rows.first().map_or("", String::as_str))
        );
        if show_callers {
            row.push(' ');
            row.push_str(&fit::shorten_start(&s.callers.join(", "), callers_width));
        }
        let row = fit::shorten(row.trim_end(), width);
        // Colour only the status word so fitting counts visible characters.
        let split = row
            .char_indices()
            .nth(STATUS_WIDTH)
            .map_or(row.len(), |(at, _)| at);
        let (status, rest) = row.split_at(split);
        out.push_str(&paint(status, s.status, color));
        out.push_str(rest);
        out.push('\n');
        for more in rows.iter().skip(1) {
            out.push_str(&fit::shorten(
                &format!("{}{more}", " ".repeat(fixed)),
                width,
            ));
            out.push('\n');
        }
        if let Some(reason) = &s.reason {
            for line in fit::wrap(reason, Some(width), REASON, HANG) {
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(status: Status) -> SuggestionView {
        SuggestionView {
            table: "member".into(),
            fields: vec!["organizationId".into(), "userId".into()],
            index: "organizationId_userId".into(),
            count: 3,
            status,
            reason: None,
            recent_per_min: 2,
            callers: vec!["org:list".into()],
            served_by: None,
            finding_status: None,
        }
    }

    #[test]
    fn json_events_carry_the_contract_fields() {
        let mut out = Vec::new();
        let mut v = View::new(Rendering::Json, &mut out, false);
        v.status_changed(&view(Status::New)).expect("write");
        drop(v);
        let line: serde_json::Value = serde_json::from_slice(&out).expect("json");
        assert_eq!(line["event"], "status");
        assert_eq!(line["table"], "member");
        assert_eq!(
            line["fields"],
            serde_json::json!(["organizationId", "userId"])
        );
        assert_eq!(line["count"], 3);
        assert_eq!(line["status"], "new");
    }

    #[test]
    fn table_redraw_moves_back_over_the_previous_table() {
        let mut out = Vec::new();
        let mut v = View::new(Rendering::Table, &mut out, false);
        let now = Instant::now();
        v.refresh(&[view(Status::New)], now, false).expect("draw");
        v.status_changed(&view(Status::Served)).expect("mark");
        v.refresh(
            &[view(Status::Served)],
            now + Duration::from_millis(150),
            false,
        )
        .expect("redraw");
        drop(v);
        let text = String::from_utf8(out).expect("utf8");
        assert!(text.contains("\x1b[2F\x1b[J"), "{text:?}");
        assert!(
            text.ends_with("member [organizationId, userId]          org:list\n\x1b[?25h"),
            "the table, then the cursor shown again: {text:?}"
        );
    }
}

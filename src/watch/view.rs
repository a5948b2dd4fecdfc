//! Renders watch events: a live table redrawn in place on a terminal, one plain line per new or
//! changed suggestion otherwise, or NDJSON events (`--format json`). Notices go to stderr; in
//! table mode the live region is erased first, so they stay above it. Every line of the live
//! region is cut to the terminal's width (re-read at each redraw, so a resize is followed): a
//! wrapped line would break the count of rows to move back over.

use super::tracker::{Status, SuggestionView};
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
        let fixed_width = std::env::var("COLUMNS")
            .ok()
            .and_then(|c| c.trim().parse().ok())
            .filter(|&c: &usize| c > 0);
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
            .or_else(|| {
                crossterm::terminal::size()
                    .ok()
                    .map(|(w, _)| usize::from(w))
                    .filter(|&w| w > 0)
            })
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
            .map(|(table, fields, reason)| {
                truncate(&ignored_line(table, fields, reason), width) + "\n"
            })
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
        self.drawn = text.lines().map(visible_len).collect();
        self.out.write_all(text.as_bytes())?;
        self.out.flush()?;
        self.last_draw = Some(now);
        self.stale = false;
        Ok(())
    }

    /// A message for the user, on stderr; the table is cleared first and redrawn after. A
    /// closed stderr loses the message but stops nothing: the view and `--write` go on.
    pub(crate) fn notice(&mut self, message: &str) -> io::Result<()> {
        if self.mode == Rendering::Table {
            // The live region is erased before the message is written to the other stream.
            self.clear()?;
            self.out.flush()?;
            self.stale = true;
        }
        for line in message.lines() {
            crate::errln!("watch: {line}");
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

/// Characters a line takes on screen, colour codes aside.
fn visible_len(line: &str) -> usize {
    let mut len = 0;
    let mut in_escape = false;
    for c in line.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
            (false, _) => len += 1,
        }
    }
    len
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
            "  add: .index(\"{}\", [{}])",
            s.index,
            quoted(&s.fields)
        )),
        _ => {}
    }
    if let Some(reason) = &s.reason {
        line.push_str(&format!("  ({reason})"));
    }
    line
}

fn quoted(fields: &[String]) -> String {
    fields
        .iter()
        .map(|f| format!("\"{f}\""))
        .collect::<Vec<_>>()
        .join(", ")
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

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The live table: one row per suggestion, reasons on an indented line below their row.
fn table(all: &[SuggestionView], color: bool, width: usize) -> String {
    let mut out = String::new();
    let header = format!(
        "{:<12} {:>7} {:>6}  {:<40} CALLERS",
        "STATUS", "COUNT", "/MIN", "TABLE [FIELDS]"
    );
    out.push_str(&truncate(&header, width));
    out.push('\n');
    for s in all {
        let target = format!("{} [{}]", s.table, s.fields.join(", "));
        let row = format!(
            "{:<12} {:>7} {:>6}  {:<40} {}",
            s.status.as_str(),
            s.count,
            s.recent_per_min,
            target,
            s.callers.join(", ")
        );
        let row = truncate(&row, width);
        // Colour only the status word so truncation counts visible characters.
        let (status, rest) = row.split_at(row.len().min(12));
        out.push_str(&paint(status, s.status, color));
        out.push_str(rest);
        out.push('\n');
        if let Some(reason) = &s.reason {
            out.push_str(&truncate(&format!("             ↳ {reason}"), width));
            out.push('\n');
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

//! The terminal's width, and every line a command prints fitted to it: prose wrapped at word
//! boundaries with a hanging indent, code (a backtick span, a `[field, list]`, a chained
//! `.index(…)` call, a command) never broken inside, cells cut with `…`. Widths are display
//! widths: colour codes take no column, wide characters two.

use std::io::IsTerminal;
use unicode_width::UnicodeWidthChar;

/// `COLUMNS`, when set to a positive number: it wins over the terminal, piped or not.
pub(crate) fn columns() -> Option<usize> {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|&c| c > 0)
}

/// The terminal's own width, asked now (a resize is followed).
pub(crate) fn terminal_size() -> Option<usize> {
    crossterm::terminal::size()
        .ok()
        .map(|(w, _)| usize::from(w))
        .filter(|&w| w > 0)
}

/// The width lines on stdout are fitted to: `COLUMNS`, else the terminal's when stdout is one;
/// `None` (piped): full lines.
pub(crate) fn stdout_width() -> Option<usize> {
    columns().or_else(|| {
        std::io::stdout()
            .is_terminal()
            .then(terminal_size)
            .flatten()
    })
}

/// The same for stderr, where the writing commands say what they did.
pub(crate) fn stderr_width() -> Option<usize> {
    columns().or_else(|| {
        std::io::stderr()
            .is_terminal()
            .then(terminal_size)
            .flatten()
    })
}

/// Columns `text` takes on screen: escape sequences (`ESC [ … letter`) take none.
pub(crate) fn width(text: &str) -> usize {
    let mut columns = 0;
    let mut in_escape = false;
    for c in text.chars() {
        match (in_escape, c) {
            (false, '\x1b') => in_escape = true,
            (true, c) if c.is_ascii_alphabetic() => in_escape = false,
            (true, _) => {}
            (false, c) => columns += c.width().unwrap_or(0),
        }
    }
    columns
}

/// The longest start of `text` that takes at most `max` columns.
fn take_columns(text: &str, max: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += c.width().unwrap_or(0);
        if used > max {
            return &text[..at];
        }
    }
    text
}

/// Cuts a cell to `max` columns, marking the cut with `…`.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    let mut cut = take_columns(text, max.saturating_sub(1)).to_owned();
    cut.push('…');
    cut
}

/// Cuts a function name to `max` columns from the left, where its module path is: the exported
/// name at the end says more than the folders. A trailing ` (+N)` count stays whole. The one
/// rule for callers, in `report`'s table and `watch`'s.
pub(crate) fn shorten_start(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    let (name, more) = match text.rfind(" (+") {
        Some(at) if text.ends_with(')') => text.split_at(at),
        _ => (text, ""),
    };
    let keep = max.saturating_sub(1 + width(more)).max(1);
    let mut start = name.len();
    let mut used = 0;
    for (at, c) in name.char_indices().rev() {
        used += c.width().unwrap_or(0);
        if used > keep {
            break;
        }
        start = at;
    }
    format!("…{}{more}", &name[start..])
}

/// The byte ranges of `line`'s words, a backtick span or a bracketed list kept as one word even
/// when it holds spaces; an opening that never closes is an ordinary character.
fn words(line: &str) -> Vec<(usize, usize)> {
    let mut plain: Vec<(usize, usize)> = Vec::new();
    let mut start = None;
    for (at, c) in line.char_indices() {
        match (c == ' ', start) {
            (true, Some(s)) => {
                plain.push((s, at));
                start = None;
            }
            (false, None) => start = Some(at),
            _ => {}
        }
    }
    if let Some(s) = start {
        plain.push((s, line.len()));
    }
    let open_after = |text: &str, (mut tick, mut depth): (bool, usize)| {
        for c in text.chars() {
            match c {
                '`' => tick = !tick,
                '[' if !tick => depth += 1,
                ']' if !tick => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        (tick, depth)
    };
    let mut grouped = Vec::new();
    let mut i = 0;
    while i < plain.len() {
        let mut state = open_after(&line[plain[i].0..plain[i].1], (false, 0));
        let mut j = i;
        while state != (false, 0) && j + 1 < plain.len() {
            j += 1;
            state = open_after(&line[plain[j].0..plain[j].1], state);
        }
        if state == (false, 0) {
            grouped.push((plain[i].0, plain[j].1));
            i = j + 1;
        } else {
            grouped.push(plain[i]);
            i += 1;
        }
    }
    grouped
}

/// `prefix` then `piece`, the prefix's indentation cut as far as it must be for the piece to
/// fit in `max` columns: a piece wider than a row's room takes the whole row rather than break.
fn lead(prefix: &str, piece: &str, max: usize) -> String {
    let room = max.saturating_sub(width(piece));
    if width(prefix) <= room || !prefix.chars().all(|c| c == ' ') {
        return format!("{prefix}{piece}");
    }
    format!("{}{piece}", " ".repeat(room))
}

/// Packs `pieces` (each never broken) into rows of at most `max` columns: the first row starts
/// with `indent`, the others with `hang`; `gap(i)` is what goes between piece `i - 1` and piece
/// `i` on one row. A piece too wide for a row of its own takes one anyway, whole.
fn pack<'a>(
    pieces: &[&'a str],
    gap: impl Fn(usize) -> &'a str,
    max: usize,
    indent: &str,
    hang: &str,
) -> Vec<String> {
    let mut rows = Vec::new();
    let mut row: Option<String> = None;
    for (i, piece) in pieces.iter().enumerate() {
        row = Some(match row.take() {
            Some(mut row) if width(&row) + width(gap(i)) + width(piece) <= max => {
                row.push_str(gap(i));
                row.push_str(piece);
                row
            }
            Some(row) => {
                rows.push(row);
                lead(hang, piece, max)
            }
            None => lead(indent, piece, max),
        });
    }
    rows.extend(row);
    rows
}

/// Prose as rows of at most `max` columns (`None`: as it is), wrapped at word boundaries: the
/// first row starts with `indent`, every other row (wrapped, or after a `\n` in `text`) with
/// `hang`. Code in backticks and bracketed lists are never broken; a line that fits keeps its
/// spacing.
pub(crate) fn wrap(text: &str, max: Option<usize>, indent: &str, hang: &str) -> Vec<String> {
    let mut rows = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let prefix = if n == 0 { indent } else { hang };
        let whole = format!("{prefix}{line}");
        let Some(max) = max.filter(|&max| width(&whole) > max) else {
            rows.push(whole);
            continue;
        };
        let ranges = words(line);
        if ranges.is_empty() {
            rows.push(whole);
            continue;
        }
        let pieces: Vec<&str> = ranges.iter().map(|&(s, e)| &line[s..e]).collect();
        let gaps: Vec<&str> = std::iter::once("")
            .chain(ranges.windows(2).map(|w| &line[w[0].1..w[1].0]))
            .collect();
        rows.extend(pack(&pieces, |i| gaps[i], max, prefix, hang));
    }
    rows
}

/// [`wrap`]'s rows, each ended by a newline, appended to `out`.
pub(crate) fn push_wrapped(out: &mut String, text: &str, max: Option<usize>, indent: &str) {
    push_hanging(out, text, max, indent, &format!("{indent}    "));
}

/// [`push_wrapped`] with the continuation indent given.
pub(crate) fn push_hanging(
    out: &mut String,
    text: &str,
    max: Option<usize>,
    indent: &str,
    hang: &str,
) {
    for row in wrap(text, max, indent, hang) {
        out.push_str(&row);
        out.push('\n');
    }
}

/// A chain of code, `head` then `calls` then `tail`, as one row when it fits in `max` columns
/// and otherwise as prettier breaks a member chain: `head` on its row, then each call on its own
/// row under `hang`, `tail` on the last. No call is ever broken.
pub(crate) fn chain(
    head: &str,
    calls: &[String],
    tail: &str,
    max: Option<usize>,
    indent: &str,
    hang: &str,
) -> Vec<String> {
    let whole = format!("{indent}{head}{}{tail}", calls.concat());
    match max {
        Some(max) if width(&whole) > max && !calls.is_empty() => {
            let mut rows = vec![lead(indent, head, max)];
            for (i, call) in calls.iter().enumerate() {
                let call = if i + 1 == calls.len() {
                    format!("{call}{tail}")
                } else {
                    call.clone()
                };
                rows.push(lead(hang, &call, max));
            }
            rows
        }
        _ => vec![whole],
    }
}

/// A command to run, on a row of its own after `indent` and `$ `: the indentation, then the
/// prompt, give way before the command is ever broken.
pub(crate) fn command(command: &str, max: Option<usize>, indent: &str) -> String {
    let prompted = format!("$ {command}");
    match max {
        Some(max) if width(&prompted) > max => command.to_owned(),
        Some(max) => lead(indent, &prompted, max),
        None => format!("{indent}{prompted}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_wraps_at_words_with_a_hanging_indent() {
        let rows = wrap(
            "note: an index serves every list it begins with",
            Some(20),
            "  ",
            "    ",
        );
        assert_eq!(
            rows,
            [
                "  note: an index",
                "    serves every",
                "    list it begins",
                "    with"
            ]
        );
        assert!(rows.iter().all(|r| width(r) <= 20));
    }

    #[test]
    fn code_and_field_lists_stay_whole() {
        let rows = wrap(
            "run `npx convex deploy --prod` for [organizationId, userId] now",
            Some(30),
            "",
            "  ",
        );
        assert_eq!(
            rows,
            [
                "run `npx convex deploy --prod`",
                "  for [organizationId, userId]",
                "  now"
            ]
        );
    }

    #[test]
    fn an_unclosed_span_is_plain_text_and_piped_text_is_untouched() {
        assert_eq!(wrap("a `b c", Some(3), "", ""), ["a", "`b", "c"]);
        let long = "word ".repeat(40);
        assert_eq!(wrap(&long, None, "  ", "    "), [format!("  {long}")]);
        assert_eq!(wrap("a  b", Some(10), "", ""), ["a  b"]);
    }

    #[test]
    fn a_piece_wider_than_its_row_gives_up_the_indentation_first() {
        let rows = wrap("see `a b c d`", Some(10), "", "    ");
        assert_eq!(rows, ["see", " `a b c d`"]);
        assert_eq!(
            wrap("see `a b c d e f`", Some(10), "", "    "),
            ["see", "`a b c d e f`"]
        );
    }

    #[test]
    fn display_width_counts_columns_not_characters() {
        assert_eq!(width("\x1b[1mbold\x1b[0m"), 4);
        assert_eq!(width("ログ"), 4);
        assert_eq!(shorten("ログログ", 5), "ログ…");
        assert_eq!(
            shorten_start("users/sessions:list (+2)", 12),
            "…s:list (+2)"
        );
    }

    #[test]
    fn a_long_chain_breaks_before_each_call() {
        let calls = [
            r#".index("a", ["a"])"#.to_owned(),
            r#".index("b", ["b"])"#.to_owned(),
        ];
        assert_eq!(
            chain("t: tables.t", &calls, ",", Some(30), "  ", "    "),
            [
                "  t: tables.t",
                r#"    .index("a", ["a"])"#,
                r#"    .index("b", ["b"]),"#
            ]
        );
        assert_eq!(chain("t: tables.t", &calls, ",", None, "", "").len(), 1);
        // A call with no room for its indentation gives it up first.
        assert_eq!(
            chain("t: tables.t", &calls, ",", Some(20), "  ", "    ")[2],
            r#" .index("b", ["b"]),"#
        );
    }

    #[test]
    fn a_command_keeps_whole_and_gives_up_its_indentation_first() {
        assert_eq!(
            command("npx convex dev", Some(40), "    "),
            "    $ npx convex dev"
        );
        assert_eq!(
            command("npx convex dev", Some(17), "    "),
            " $ npx convex dev"
        );
        assert_eq!(
            command("npx convex dev", Some(10), "    "),
            "npx convex dev"
        );
    }
}

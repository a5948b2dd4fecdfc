//! The one module that knows the Convex CLI's text format (`npx convex logs`, `convex dev`,
//! the JS-client echo) and the dashboard's row copy format.

use crate::signal::Origin;
use regex::Regex;
use rustc_hash::FxHashMap;
use std::sync::{Arc, LazyLock};

/// A dashboard row copied with Cmd/Ctrl+C: `MMM dd, HH:mm:ss.SSS <T> <function>[ in <component>][ <time>] <content>`.
static DASHBOARD_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(?P<ts>[A-Z][a-z]{2} \d{2}, \d{2}:\d{2}:\d{2}\.\d{3}) (?P<type>[QMAH]) (?P<path>\S+)(?: in (?P<component>\S+))?(?: \d+(?:\.\d+)?m?s)? (?:\[(?P<level>LOG|INFO|WARN|ERROR|DEBUG)\] )?",
    )
    .expect("static regex")
});

/// Better Auth's adapter functions: a `Q(adapter:findMany)` header names the component
/// function itself (it ran as its own execution), not an app caller. 0.7.x named them `lib:`.
static COMPONENT_FUNCTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[\w-]+/)?(?:adapter|lib)(?:\.js)?:(?:create|findOne|findMany|updateOne|updateMany|deleteOne|deleteMany|count)$")
        .expect("static regex")
});

/// A text line split into its record header (if any) and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TextLine<'a> {
    pub origin: Origin,
    pub message: &'a str,
    pub header: Option<Header>,
}

/// The kind of record header a line starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    /// The CLI's `… [CONVEX Q(path)] …`: its mark is what the block index finds again.
    Cli,
    /// A dashboard row copy.
    DashboardRow,
}

/// The strings of the origins one scanner builds, shared: a function name is stored once, and
/// the lines of one second share their timestamp. So a header line costs no allocation once its
/// function has been seen.
#[derive(Debug, Default)]
pub struct OriginNames {
    /// Each function name, and whether it names one of the component's adapter functions.
    names: FxHashMap<Box<str>, (Arc<str>, bool)>,
    timestamp: Option<Arc<str>>,
    /// The last Unix-milliseconds timestamp of a JSON record, and its text.
    unix_millis: Option<(i64, Arc<str>)>,
}

/// Distinct function names kept before the table starts over (a bound, not a working set).
const MAX_NAMES: usize = 4096;

impl OriginNames {
    pub(super) fn name(&mut self, name: &str) -> Arc<str> {
        self.function(name).0
    }

    /// The shared name, and whether it is a component adapter function.
    fn function(&mut self, name: &str) -> (Arc<str>, bool) {
        if let Some((shared, is_component)) = self.names.get(name) {
            return (Arc::clone(shared), *is_component);
        }
        if self.names.len() >= MAX_NAMES {
            self.names.clear();
        }
        let shared: Arc<str> = Arc::from(name);
        let is_component = is_component_function(name);
        self.names
            .insert(Box::from(name), (Arc::clone(&shared), is_component));
        (shared, is_component)
    }

    fn timestamp(&mut self, timestamp: &str) -> Arc<str> {
        match &self.timestamp {
            Some(last) if **last == *timestamp => Arc::clone(last),
            _ => Arc::clone(self.timestamp.insert(Arc::from(timestamp))),
        }
    }

    /// `ms` as RFC 3339 text (see [`crate::time::write_unix_millis`]), shared with the record
    /// before when it has the same timestamp.
    pub(super) fn unix_millis(&mut self, ms: i64) -> Option<Arc<str>> {
        if let Some((last, text)) = &self.unix_millis
            && *last == ms
        {
            return Some(Arc::clone(text));
        }
        let mut buffer = [0; crate::time::UNIX_MILLIS_LEN];
        let text: Arc<str> = Arc::from(crate::time::write_unix_millis(ms, &mut buffer)?);
        self.unix_millis = Some((ms, Arc::clone(&text)));
        Some(text)
    }
}

/// Splits a line (ANSI already stripped) into header and message.
pub(crate) fn split_line<'a>(line: &'a str, names: &mut OriginNames) -> TextLine<'a> {
    if let Some((ts, path, message)) = split_cli_header(line) {
        return TextLine {
            origin: origin_for_path(path, None, ts, names),
            message,
            header: Some(Header::Cli),
        };
    }
    if let Some(caps) = DASHBOARD_ROW.captures(line) {
        let path = caps.name("path").map_or("", |m| m.as_str());
        let component = caps.name("component").map(|m| m.as_str());
        let end = caps.get(0).map_or(0, |m| m.end());
        return TextLine {
            origin: origin_for_path(path, component, caps.name("ts").map(|m| m.as_str()), names),
            message: &line[end..],
            header: Some(Header::DashboardRow),
        };
    }
    TextLine {
        origin: Origin::default(),
        message: line,
        header: None,
    }
}

/// `<timestamp> [CONVEX <T>(<path>)] [<LEVEL>] <message>`: the timestamp is whatever
/// `toLocaleString()` printed on the CLI's machine (any locale), or nothing for the client echo;
/// `<T>` is the first letter of the execution's `udfType` (`src/cli/lib/logs.ts`,
/// `udfType.charAt(0)`): Q, M, A, H, and I since convex 1.51 (`UdfTypeJson` gained `"Init"`),
/// or `?` in the client echo; error lines have no `[LEVEL]`. The path runs to the first `)] `,
/// because HTTP action paths may contain `)`.
fn split_cli_header(line: &str) -> Option<(Option<&str>, &str, &str)> {
    let mark = find_short(line.as_bytes(), b"[CONVEX ")?;
    let after = &line[mark + "[CONVEX ".len()..];
    let mut chars = after.chars();
    if !matches!(chars.next(), Some('Q' | 'M' | 'A' | 'H' | 'I' | '?')) || chars.next() != Some('(')
    {
        return None;
    }
    let body = &after[2..];
    let (path, rest) = match find_short(body.as_bytes(), b")] ") {
        Some(end) => (&body[..end], &body[end + 3..]),
        None => (body.strip_suffix(")]")?, ""),
    };
    let message = ["[LOG] ", "[INFO] ", "[WARN] ", "[ERROR] ", "[DEBUG] "]
        .iter()
        .find_map(|level| rest.strip_prefix(level))
        .unwrap_or(rest);
    let ts = line[..mark].trim();
    Some(((!ts.is_empty()).then_some(ts), path, message))
}

/// Where `literal` first starts in `text`, found from its first byte: on one log line, a
/// substring searcher's set-up would cost more than the search.
fn find_short(text: &[u8], literal: &[u8]) -> Option<usize> {
    let first = *literal.first()?;
    memchr::memchr_iter(first, text).find(|&at| text[at..].starts_with(literal))
}

fn origin_for_path(
    path: &str,
    component: Option<&str>,
    ts: Option<&str>,
    names: &mut OriginNames,
) -> Origin {
    let (path, adapter_function) = names.function(path);
    let (function, component_function) = if component.is_some() || adapter_function {
        (None, Some(path))
    } else {
        (Some(path), None)
    };
    Origin {
        function,
        component_function,
        request_id: None,
        timestamp: ts.map(|ts| names.timestamp(ts)),
    }
}

/// Whether `path` names one of the component's adapter functions. Most paths do not end in
/// one of their exports, and those are answered without running the regex.
fn is_component_function(path: &str) -> bool {
    const EXPORTS: &[&str] = &[
        "create",
        "findOne",
        "findMany",
        "updateOne",
        "updateMany",
        "deleteOne",
        "deleteMany",
        "count",
    ];
    path.rsplit_once(':')
        .is_some_and(|(_, export)| EXPORTS.contains(&export))
        && COMPONENT_FUNCTION.is_match(path)
}

/// `adapter.js:findOne` (the canonical form log streams use for sub-function lines) → `adapter:findOne`.
pub(crate) fn strip_js_extension(path: &str) -> std::borrow::Cow<'_, str> {
    match path.split_once(':') {
        Some((module, export)) => match module.strip_suffix(".js") {
            Some(module) => format!("{module}:{export}").into(),
            None => path.into(),
        },
        None => path.strip_suffix(".js").unwrap_or(path).into(),
    }
}

/// Removes SGR colour codes (`ESC [ … m`) and OSC-8 hyperlinks (`ESC ] 8 ;; … ESC \`).
pub(crate) fn strip_ansi(line: &str) -> std::borrow::Cow<'_, str> {
    if memchr::memchr(0x1b, line.as_bytes()).is_none() {
        return std::borrow::Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(pos) = rest.find('\u{1b}') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        rest = if let Some(csi) = after.strip_prefix('[') {
            let end = csi
                .find(|c: char| c.is_ascii_alphabetic())
                .map_or(csi.len(), |i| i + 1);
            &csi[end..]
        } else if let Some(osc) = after.strip_prefix(']') {
            match (osc.find("\u{1b}\\"), osc.find('\u{7}')) {
                (Some(st), Some(bel)) if bel < st => &osc[bel + 1..],
                (Some(st), _) => &osc[st + 2..],
                (None, Some(bel)) => &osc[bel + 1..],
                (None, None) => "",
            }
        } else {
            after
        };
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_line_in_every_captured_locale() {
        for ts in [
            "1/15/2026, 2:03:09 PM",
            "15/01/2026, 14:03:09",
            "15.1.2026, 15:03:09",
            "2026/1/15 23:03:09",
            "15/01/2026 15:03:09",
            "2026-01-15 2:03:09 PM",
            "1/15/2026, 2:03:09\u{202f}PM",
        ] {
            let line = format!("{ts} [CONVEX Q(users:byEmail)] [WARN] 'x'");
            let split = split_line(&line, &mut OriginNames::default());
            assert_eq!(split.origin.timestamp.as_deref(), Some(ts));
            assert_eq!(split.origin.function.as_deref(), Some("users:byEmail"));
            assert_eq!(split.message, "'x'");
        }
    }

    #[test]
    fn http_action_path_and_error_line_without_level() {
        let split = split_line(
            "1/15/2026, 2:03:14 PM [CONVEX H(POST /api/auth/sign-in/email)] Uncaught Error: No index found for user.email",
            &mut OriginNames::default(),
        );
        assert_eq!(
            split.origin.function.as_deref(),
            Some("POST /api/auth/sign-in/email")
        );
        assert_eq!(
            split.message,
            "Uncaught Error: No index found for user.email"
        );
    }

    #[test]
    fn client_echo_has_no_timestamp_and_adapter_is_a_component_function() {
        let split = split_line(
            "[CONVEX Q(adapter:findMany)] [WARN] 'w'",
            &mut OriginNames::default(),
        );
        assert_eq!(split.origin.timestamp, None);
        assert_eq!(split.origin.function, None);
        assert_eq!(
            split.origin.component_function.as_deref(),
            Some("adapter:findMany")
        );
    }

    #[test]
    fn dashboard_row_with_component() {
        let split = split_line(
            "Jan 15, 14:03:10.113 Q adapter:findMany in betterAuth [WARN] Querying without an index on table \"member\".",
            &mut OriginNames::default(),
        );
        assert_eq!(
            split.origin.timestamp.as_deref(),
            Some("Jan 15, 14:03:10.113")
        );
        assert_eq!(
            split.origin.component_function.as_deref(),
            Some("adapter:findMany")
        );
        assert_eq!(
            split.message,
            "Querying without an index on table \"member\"."
        );
    }

    #[test]
    fn strips_colours_and_hyperlinks() {
        assert_eq!(
            strip_ansi(
                "\u{1b}[36m1/15/2026 [CONVEX Q(a:b)] [WARN]\u{1b}[39m 'x' \u{1b}]8;;http://h\u{1b}\\link\u{1b}]8;;\u{1b}\\"
            ),
            "1/15/2026 [CONVEX Q(a:b)] [WARN] 'x' link"
        );
    }
}

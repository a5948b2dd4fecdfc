//! Peels one layer of backslash escaping, as object-inspect and JSON write it.
//!
//! Convex renders a console string with object-inspect (`'…'`, with `\'`, `\\`, `\n`, `\t`,
//! `\xHH` escapes); log streams wrap that in a JSON string (`\"`, `\\n`, `\uXXXX`); a JSON
//! dump printed as text adds one more layer. Matching tries the text as is, then after each
//! layer, so one rule serves every rendering.

/// Returns the text with one layer of escapes decoded, or `None` if it has no backslash.
pub(crate) fn unescape_layer(text: &str) -> Option<String> {
    if !text.contains('\\') {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('v') => out.push('\u{b}'),
            Some('0') if chars.peek().is_none_or(|d| !d.is_ascii_digit()) => out.push('\0'),
            Some('x') => match take_hex(&mut chars, 2) {
                Some(code) => out.push(char::from_u32(code).unwrap_or('\u{fffd}')),
                None => out.push_str("\\x"),
            },
            Some('u') => match take_hex(&mut chars, 4) {
                Some(code) => out.push(decode_utf16_unit(code, &mut chars)),
                None => out.push_str("\\u"),
            },
            Some(other @ ('\\' | '\'' | '"' | '/' | '`')) => out.push(other),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    Some(out)
}

/// Node's `util.inspect` (Convex's `"use node"` runtime) splits a long multi-line string into
/// `'…\n' +\n  '…'` pieces, each quoted with `'`, `"` or a backtick, whichever its text allows;
/// this joins them back into one string. `None` if there are none.
pub(crate) fn join_concatenations(text: &str) -> Option<String> {
    static JOIN: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r#"['"`][ \t]*\+[ \t]*\r?\n[ \t]*['"`]"#).expect("static regex")
    });
    JOIN.is_match(text)
        .then(|| JOIN.replace_all(text, "").into_owned())
}

fn take_hex(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, digits: usize) -> Option<u32> {
    let lookahead: String = chars.clone().take(digits).collect();
    if lookahead.len() != digits || !lookahead.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    for _ in 0..digits {
        chars.next();
    }
    u32::from_str_radix(&lookahead, 16).ok()
}

/// A `\uD83D` high surrogate pairs with a following `\uDE00`; alone it is unrepresentable.
fn decode_utf16_unit(code: u32, chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> char {
    if (0xD800..0xDC00).contains(&code) {
        let mut rest = chars.clone();
        if rest.next() == Some('\\') && rest.next() == Some('u') {
            let mut low_chars = rest.clone();
            if let Some(low) = take_hex(&mut low_chars, 4)
                && (0xDC00..0xE000).contains(&low)
            {
                *chars = low_chars;
                let combined = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                return char::from_u32(combined).unwrap_or('\u{fffd}');
            }
        }
        return '\u{fffd}';
    }
    char::from_u32(code).unwrap_or('\u{fffd}')
}

#[cfg(test)]
mod tests {
    use super::{join_concatenations, unescape_layer};

    #[test]
    fn decodes_object_inspect_escapes() {
        assert_eq!(
            unescape_layer(r"'it\'s a \\ back\nslash'").as_deref(),
            Some("'it's a \\ back\nslash'")
        );
    }

    #[test]
    fn decodes_json_unicode_including_surrogate_pairs() {
        assert_eq!(
            unescape_layer(r"caf\u00e9 \ud83d\ude00").as_deref(),
            Some("café 😀")
        );
        assert_eq!(
            unescape_layer(r"lone \ud83d x").as_deref(),
            Some("lone \u{fffd} x")
        );
    }

    #[test]
    fn keeps_unknown_and_malformed_escapes() {
        assert_eq!(
            unescape_layer(r"\q \u12 \x4").as_deref(),
            Some(r"\q \u12 \x4")
        );
        assert_eq!(unescape_layer("no escapes"), None);
        assert_eq!(
            unescape_layer("trailing \\").as_deref(),
            Some("trailing \\")
        );
    }

    #[test]
    fn joins_node_inspect_string_pieces() {
        let split = "'Querying \"member\".\\n' +\n  'This can cause'";
        assert_eq!(
            join_concatenations(split).as_deref(),
            Some("'Querying \"member\".\\nThis can cause'")
        );
        assert_eq!(join_concatenations("'a' + 'b'"), None);
    }

    #[test]
    fn peels_one_layer_at_a_time() {
        let twice = r#"table \\\"member\\\".\\n["#;
        let once = unescape_layer(twice).unwrap();
        assert_eq!(once, r#"table \"member\".\n["#);
        assert_eq!(unescape_layer(&once).unwrap(), "table \"member\".\n[");
    }
}

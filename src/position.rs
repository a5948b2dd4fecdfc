//! Byte offsets → the 1-based line and column people read in messages.

/// 1-based line and column (in characters) of a byte offset; an offset inside a character or
/// past the end is moved back to the nearest boundary.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map_or(0, |l| l.trim_end_matches('\r').chars().count())
        + 1;
    (line, col)
}

/// The largest character boundary at or before `at`, clamped to the text's length.
pub(crate) fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests {
    use super::line_col;

    #[test]
    fn counts_characters_not_bytes_and_clamps() {
        assert_eq!(line_col("a\nbé = 1", 0), (1, 1));
        assert_eq!(line_col("a\nbé = 1", 2), (2, 1));
        assert_eq!(line_col("a\nbé = 1", 6), (2, 4));
        assert_eq!(line_col("a\nbé", 4), (2, 2));
        assert_eq!(line_col("ab", 99), (1, 3));
    }
}

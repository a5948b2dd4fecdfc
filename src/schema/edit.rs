//! Edits as data: `Edit { range, text }` values applied in one ordered pass, overlaps rejected
//! (ruff's `apply_fixes`, typos' `fix_buffer`).

use super::error::SchemaError;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: Range<usize>,
    pub text: String,
}

impl Edit {
    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Edit {
            range: at..at,
            text: text.into(),
        }
    }
}

/// The edited text, and where each edit's text landed in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EditedText {
    pub text: String,
    pub inserted: Vec<Range<usize>>,
}

/// Applies `edits` to `src`. Two insertions at the same offset keep their given order; an edit
/// whose range overlaps another, or falls outside `src` or inside a character, is rejected.
pub(crate) fn apply(src: &str, edits: &[Edit]) -> Result<EditedText, SchemaError> {
    let mut order: Vec<&Edit> = edits.iter().collect();
    order.sort_by_key(|e| (e.range.start, e.range.end));
    let mut out =
        String::with_capacity(src.len() + edits.iter().map(|e| e.text.len()).sum::<usize>());
    let mut inserted = Vec::with_capacity(edits.len());
    let mut last = 0;
    for edit in order {
        let r = &edit.range;
        if r.start < last
            || r.end < r.start
            || r.end > src.len()
            || !src.is_char_boundary(r.start)
            || !src.is_char_boundary(r.end)
        {
            return Err(SchemaError::Overlap(r.clone()));
        }
        out.push_str(&src[last..r.start]);
        let at = out.len();
        out.push_str(&edit.text);
        inserted.push(at..out.len());
        last = r.end;
    }
    out.push_str(&src[last..]);
    Ok(EditedText {
        text: out,
        inserted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_at_one_offset_keep_their_order() {
        let applied = apply("ab", &[Edit::insert(1, "x"), Edit::insert(1, "y")]).unwrap();
        assert_eq!(applied.text, "axyb");
        assert_eq!(applied.inserted, vec![1..2, 2..3]);
    }

    #[test]
    fn overlapping_replacements_are_rejected() {
        let edits = [
            Edit {
                range: 0..2,
                text: "x".into(),
            },
            Edit {
                range: 1..3,
                text: "y".into(),
            },
        ];
        assert!(apply("abc", &edits).is_err());
    }
}

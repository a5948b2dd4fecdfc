//! The mark an index written by this tool carries, so a later run knows which overlay indexes
//! are its own: a block comment inside the `.index(...)` call, after the fields, which moves with
//! the call whatever the file's layout and survives prettier. An index the tool would write with
//! `exact` serves a `createdAt` query, which only an index of exactly its fields serves: a later
//! run never extends it, and `doctor` does not call it redundant.

use serde::Serialize;

const MARK: &str = "added by ba-index-advisor";
const EXACT: &str = "exact";

/// The tool's mark on an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Marker {
    /// Only an index of exactly these fields serves the query it was written for.
    pub exact: bool,
}

impl Marker {
    /// The comment as written: `/* added by ba-index-advisor */`, or with `(exact)`.
    pub(crate) fn comment(self) -> String {
        if self.exact {
            format!("/* {MARK} ({EXACT}) */")
        } else {
            format!("/* {MARK} */")
        }
    }

    /// The tool's mark among the comments of one `.index(...)` call.
    pub(crate) fn read<'c>(comments: impl IntoIterator<Item = &'c String>) -> Option<Marker> {
        comments.into_iter().find_map(|comment| {
            let body = comment
                .trim_start_matches("/*")
                .trim_start_matches("//")
                .trim_end_matches("*/")
                .trim();
            let rest = body.strip_prefix(MARK)?;
            Some(Marker {
                exact: rest.trim() == format!("({EXACT})"),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_mark_reads_back() {
        for exact in [false, true] {
            let marker = Marker { exact };
            assert_eq!(Marker::read([&marker.comment()]), Some(marker));
        }
        assert_eq!(Marker::read([&"/* by hand */".to_string()]), None);
        assert_eq!(
            Marker::read([&"// added by ba-index-advisor".to_string()]),
            Some(Marker { exact: false })
        );
    }
}

//! Splits a byte stream into complete lines with bounded memory: a line is emitted only once
//! its `\n` arrives, a trailing `\r` is dropped, and a line longer than the cap is reported
//! and skipped instead of growing the buffer forever.

/// Default cap on one line: far above Convex's 32 KiB log-line limit, far below "unbounded".
pub(crate) const DEFAULT_MAX_LINE: usize = 16 * 1024 * 1024;

/// One complete line of input, without its terminator, and its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: u64,
    pub bytes: Vec<u8>,
}

impl Line {
    pub fn text_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.bytes)
    }
}

/// What a [`LineSplitter`] hands out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Line(Line),
    /// A line exceeded the cap; its bytes were dropped up to and including its `\n`.
    Overlong {
        number: u64,
        dropped: u64,
    },
}

#[derive(Debug)]
pub(crate) struct LineSplitter {
    partial: Vec<u8>,
    max_line: usize,
    /// Bytes dropped from the current over-long line; `Some` while discarding up to its `\n`.
    discarding: Option<u64>,
    next_number: u64,
}

impl Default for LineSplitter {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_LINE)
    }
}

impl LineSplitter {
    pub(crate) fn new(max_line: usize) -> Self {
        Self {
            partial: Vec::new(),
            max_line: max_line.max(1),
            discarding: None,
            next_number: 1,
        }
    }

    /// Restart numbering, e.g. after the followed file was rotated or truncated.
    pub(crate) fn set_next_number(&mut self, number: u64) {
        self.next_number = number;
    }

    /// Feeds bytes; calls `emit` for every line completed by them.
    pub(crate) fn push(&mut self, mut bytes: &[u8], emit: &mut impl FnMut(Piece)) {
        while !bytes.is_empty() {
            let newline = memchr::memchr(b'\n', bytes);
            let (chunk, rest, complete) = match newline {
                Some(i) => (&bytes[..i], &bytes[i + 1..], true),
                None => (bytes, &[][..], false),
            };
            bytes = rest;
            if let Some(dropped) = self.discarding.as_mut() {
                *dropped += chunk.len() as u64 + u64::from(complete);
                if complete {
                    let dropped = *dropped;
                    self.discarding = None;
                    emit(Piece::Overlong {
                        number: self.take_number(),
                        dropped,
                    });
                }
                continue;
            }
            if self.partial.len() + chunk.len() > self.max_line {
                let dropped = (self.partial.len() + chunk.len()) as u64 + u64::from(complete);
                self.partial = Vec::new();
                if complete {
                    emit(Piece::Overlong {
                        number: self.take_number(),
                        dropped,
                    });
                } else {
                    self.discarding = Some(dropped);
                }
                continue;
            }
            if !complete {
                self.partial.extend_from_slice(chunk);
                continue;
            }
            let mut line = if self.partial.is_empty() {
                chunk.to_vec()
            } else {
                let mut line = std::mem::take(&mut self.partial);
                line.extend_from_slice(chunk);
                line
            };
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            emit(Piece::Line(Line {
                number: self.take_number(),
                bytes: line,
            }));
        }
        // A burst of huge lines must not pin its peak allocation for the rest of a long run.
        if self.partial.is_empty() && self.partial.capacity() > 64 * 1024 {
            self.partial = Vec::new();
        }
    }

    /// Ends the stream: an unterminated last line is emitted as it is (the writer is gone).
    pub(crate) fn finish(&mut self, emit: &mut impl FnMut(Piece)) {
        if let Some(dropped) = self.discarding.take() {
            emit(Piece::Overlong {
                number: self.take_number(),
                dropped,
            });
        } else if !self.partial.is_empty() {
            let mut line = std::mem::take(&mut self.partial);
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            emit(Piece::Line(Line {
                number: self.take_number(),
                bytes: line,
            }));
        }
    }

    /// Forgets an unterminated line without emitting it (its file was truncated under it).
    pub(crate) fn discard_partial(&mut self) {
        self.partial = Vec::new();
        self.discarding = None;
    }

    fn take_number(&mut self) -> u64 {
        let n = self.next_number;
        self.next_number += 1;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(max: usize, chunks: &[&[u8]]) -> Vec<Piece> {
        let mut s = LineSplitter::new(max);
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, &mut |p| out.push(p));
        }
        out
    }

    fn line(number: u64, text: &str) -> Piece {
        Piece::Line(Line {
            number,
            bytes: text.as_bytes().to_vec(),
        })
    }

    #[test]
    fn emits_only_complete_lines_and_strips_cr() {
        let out = split(100, &[b"ab", b"c\r\nde", b"f\n", b"tail"]);
        assert_eq!(out, vec![line(1, "abc"), line(2, "def")]);
    }

    #[test]
    fn overlong_line_is_reported_and_skipped() {
        let out = split(4, &[b"ok\n12345", b"678\nafter\n"]);
        assert_eq!(
            out,
            vec![
                line(1, "ok"),
                Piece::Overlong {
                    number: 2,
                    dropped: 9
                },
                Piece::Overlong {
                    number: 3,
                    dropped: 6
                },
            ]
        );
        let out = split(4, &[b"123456789\nab\n"]);
        assert_eq!(
            out,
            vec![
                Piece::Overlong {
                    number: 1,
                    dropped: 10
                },
                line(2, "ab")
            ]
        );
    }

    #[test]
    fn finish_flushes_unterminated_tail() {
        let mut s = LineSplitter::new(100);
        let mut out = Vec::new();
        s.push(b"a\nb", &mut |p| out.push(p));
        s.finish(&mut |p| out.push(p));
        assert_eq!(out, vec![line(1, "a"), line(2, "b")]);
    }
}

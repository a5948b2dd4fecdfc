//! UTF-16 logs — what Windows PowerShell 5's `>` writes (`npx convex logs > logs.txt`) — are
//! transcoded to UTF-8 so the scanner sees the same bytes as from any other shell. A UTF-16
//! byte-order mark alone does not decide it: the text after it must read as UTF-16.

use std::io::{self, BufRead, Read};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Utf16 {
    Little,
    Big,
}

/// The UTF-16 byte order its byte-order mark announces, if `head` starts with one.
pub(crate) fn utf16_bom(head: &[u8]) -> Option<Utf16> {
    match head {
        [0xFF, 0xFE, ..] => Some(Utf16::Little),
        [0xFE, 0xFF, ..] => Some(Utf16::Big),
        _ => None,
    }
}

/// How many bytes, byte-order mark included, `utf16_text` looks at.
pub(crate) const SNIFF_BYTES: usize = 4096;

/// The byte order to decode `head` in, when it starts with a UTF-16 byte-order mark and the
/// bytes after it read as UTF-16 text; `None` means read it as UTF-8 (whose scanner reports
/// any invalid bytes, the mark's included). `complete` says `head` is the whole input, so a
/// high surrogate or odd byte at its end is not cut off by the sample.
///
/// Why these tests, over the first few KiB:
/// - A UTF-16 writer never emits an unpaired surrogate; bytes that are not UTF-16 decode to
///   one often (any 0xD8–0xDF byte in a high position).
/// - Every character below U+0080 (spaces, digits, newlines, Latin letters) is a UTF-16 code
///   unit with a NUL high byte — every odd byte in little-endian. Every Convex log line starts
///   with an ASCII timestamp and `[CONVEX …]` prefix, and Better Auth's warning is English, so
///   a UTF-16 log that can hold a finding is mostly such units; even a ja-JP log with Japanese
///   messages keeps far more than the 1 in 10 asked for here. UTF-8 text has no NUL byte at
///   all, so read as UTF-16 it has no unit below U+0080: it decodes to CJK-looking garbage,
///   with a share of 0. A mark followed by UTF-8 (a UTF-16 file appended to by a UTF-8
///   writer, a mislabelled file) is therefore read as UTF-8, where its warnings can be found.
pub(crate) fn utf16_text(head: &[u8], complete: bool) -> Option<Utf16> {
    let order = utf16_bom(head)?;
    let mut units: Vec<u16> = head[2..]
        .chunks_exact(2)
        .map(|pair| match order {
            Utf16::Little => u16::from_le_bytes([pair[0], pair[1]]),
            Utf16::Big => u16::from_be_bytes([pair[0], pair[1]]),
        })
        .collect();
    if !complete && units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
        // Its low surrogate lies past the sample.
        units.pop();
    }
    if units.is_empty() {
        // A mark and nothing to contradict it.
        return Some(order);
    }
    if char::decode_utf16(units.iter().copied()).any(|c| c.is_err()) {
        return None;
    }
    let ascii = units.iter().filter(|&&u| u != 0 && u < 0x80).count();
    (ascii * 10 >= units.len()).then_some(order)
}

/// Reads UTF-16 (after its BOM) and yields UTF-8; unpaired surrogates become U+FFFD.
pub(crate) struct Utf16ToUtf8<R> {
    inner: R,
    order: Utf16,
    pending_byte: Option<u8>,
    pending_unit: Option<u16>,
    out: Vec<u8>,
    out_pos: usize,
    started: bool,
}

impl<R: BufRead> Utf16ToUtf8<R> {
    pub(crate) fn new(inner: R, order: Utf16) -> Self {
        Self {
            inner,
            order,
            pending_byte: None,
            pending_unit: None,
            out: Vec::new(),
            out_pos: 0,
            started: false,
        }
    }

    /// Decodes the next buffer of input into `self.out`; returns false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        if !self.started {
            self.started = true;
            let mut bom = [0u8; 2];
            self.inner.read_exact(&mut bom)?;
        }
        let buf = self.inner.fill_buf()?;
        self.out.clear();
        self.out_pos = 0;
        if buf.is_empty() {
            // The end: a dangling byte or high surrogate cannot be decoded.
            let undecodable = usize::from(self.pending_unit.take().is_some())
                + usize::from(self.pending_byte.take().is_some());
            self.out
                .extend_from_slice("\u{fffd}".repeat(undecodable).as_bytes());
            return Ok(undecodable > 0);
        }
        let mut bytes: Vec<u8> = Vec::with_capacity(buf.len() + 1);
        bytes.extend(self.pending_byte.take());
        bytes.extend_from_slice(buf);
        let consumed = buf.len();
        self.inner.consume(consumed);
        if bytes.len() % 2 == 1 {
            self.pending_byte = bytes.pop();
        }
        let mut units: Vec<u16> = Vec::with_capacity(bytes.len() / 2 + 1);
        units.extend(self.pending_unit.take());
        units.extend(bytes.chunks_exact(2).map(|pair| match self.order {
            Utf16::Little => u16::from_le_bytes([pair[0], pair[1]]),
            Utf16::Big => u16::from_be_bytes([pair[0], pair[1]]),
        }));
        // A high surrogate at the end may pair with the first unit of the next buffer.
        if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
            self.pending_unit = units.pop();
        }
        for c in char::decode_utf16(units) {
            let mut utf8 = [0u8; 4];
            self.out
                .extend_from_slice(c.unwrap_or('\u{fffd}').encode_utf8(&mut utf8).as_bytes());
        }
        Ok(true)
    }
}

impl<R: BufRead> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            if !self.refill()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.out_pos);
        buf[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, order: Utf16) -> Vec<u8> {
        let mut bytes = match order {
            Utf16::Little => vec![0xFF, 0xFE],
            Utf16::Big => vec![0xFE, 0xFF],
        };
        for unit in text.encode_utf16() {
            bytes.extend(match order {
                Utf16::Little => unit.to_le_bytes(),
                Utf16::Big => unit.to_be_bytes(),
            });
        }
        bytes
    }

    fn decode(bytes: &[u8], buffer: usize) -> String {
        let order = utf16_bom(bytes).unwrap();
        let inner = io::BufReader::with_capacity(buffer, bytes);
        let mut out = String::new();
        Utf16ToUtf8::new(inner, order)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn both_byte_orders_with_pairs_split_across_buffers() {
        let text = "1/15/2026 [CONVEX Q(a:b)] [WARN] 'café 😀'\r\n";
        for order in [Utf16::Little, Utf16::Big] {
            for buffer in [3, 4, 5, 64] {
                assert_eq!(
                    decode(&encode(text, order), buffer),
                    text,
                    "{order:?} {buffer}"
                );
            }
        }
    }

    #[test]
    fn utf16_text_after_its_mark_is_utf16() {
        // What Windows PowerShell 5's `>` writes: UTF-16LE with a mark, CRLF line ends.
        let log = "11/8/2025, 9:15:14 AM [CONVEX Q(a:b)] [WARN] 'Querying without an index'\r\n";
        for order in [Utf16::Little, Utf16::Big] {
            assert_eq!(utf16_text(&encode(log, order), true), Some(order));
        }
        // A ja-JP log: Japanese timestamps and messages, ASCII prefixes.
        let ja =
            "2026/1/15 午後9:15:14 [CONVEX Q(a:b)] [LOG] 'ユーザーを読み込み中'\r\n".repeat(40);
        assert_eq!(
            utf16_text(&encode(&ja, Utf16::Little), true),
            Some(Utf16::Little)
        );
        assert_eq!(utf16_text(&[0xFF, 0xFE], true), Some(Utf16::Little));
    }

    #[test]
    fn a_mark_followed_by_utf8_or_broken_utf16_is_not_utf16() {
        let utf8 = "11/8/2025, 9:15:14 AM [CONVEX Q(a:b)] [WARN] 'café'\n";
        for bom in [[0xFF, 0xFE], [0xFE, 0xFF]] {
            let mut bytes = bom.to_vec();
            bytes.extend_from_slice(utf8.as_bytes());
            assert_eq!(utf16_text(&bytes, true), None, "{bom:?} + UTF-8");
        }
        // ASCII byte pairs decode to CJK ideographs with no NUL in sight.
        let mut pairs = vec![0xFF, 0xFE];
        pairs.extend_from_slice(b"abcdefghijklmnopqrstuvwxyz012345");
        assert_eq!(utf16_text(&pairs, true), None);
        // An unpaired low surrogate (0xDC3D) amid ASCII units.
        let mut lone = encode("ab", Utf16::Little);
        lone.extend([0x3D, 0xDC]);
        lone.extend(encode("cd", Utf16::Little).split_off(2));
        assert_eq!(utf16_text(&lone, true), None);
    }

    #[test]
    fn a_surrogate_pair_cut_by_the_sample_is_not_held_against_it() {
        let mut bytes = encode("log line 😀", Utf16::Little);
        bytes.truncate(bytes.len() - 2);
        assert_eq!(utf16_text(&bytes, false), Some(Utf16::Little));
        assert_eq!(
            utf16_text(&bytes, true),
            None,
            "at the real end it is unpaired"
        );
    }

    #[test]
    fn odd_length_and_lone_surrogates_become_replacement_characters() {
        let mut bytes = encode("ab", Utf16::Little);
        bytes.extend([0x3D, 0xD8]);
        bytes.push(0x41);
        assert_eq!(decode(&bytes, 64), "ab\u{fffd}\u{fffd}");
    }
}

//! One pass over a block of complete lines that finds everything the scanner needs from its
//! bulk: how many lines it has, whether it is all ASCII (then it needs no UTF-8 check), whether
//! it holds an ESC byte (else no line has colour codes to strip), the
//! record headers (`[CONVEX `: how many, and the last), and every needle occurrence with the
//! number of lines before it. Each byte is loaded once; the per-line work is left to the few
//! lines a needle is on.
//!
//! Every literal is recognised by two of its bytes at their offsets (its rarest byte, as
//! `memchr` ranks them, and the byte at its far end), then confirmed whole. On x86-64 that test
//! runs on 64 positions at a time, with AVX-512BW where the CPU has it and AVX2 otherwise;
//! elsewhere the same answer comes from `memchr`'s searchers, one pass each.

use memchr::arch::all::packedpair::Pair;
use memchr::memmem::Finder;

/// A literal with the two bytes it is first recognised by.
#[derive(Debug, Clone)]
struct Literal {
    bytes: Vec<u8>,
    first: (usize, u8),
    second: (usize, u8),
    finder: Finder<'static>,
}

impl Literal {
    fn new(bytes: &[u8]) -> Self {
        // The rarest byte, and the byte at the far end from it: two rare-ish bytes that are
        // also far apart are seldom found together by chance in prose ("without" → `w…x`,
        // where the rarest pair `w..h` would stop at every "with").
        let first = Pair::new(bytes).map_or(0, |pair| usize::from(pair.index1()));
        let second = if first < bytes.len() / 2 {
            bytes.len() - 1
        } else {
            0
        };
        Self {
            bytes: bytes.to_vec(),
            first: (first, bytes[first]),
            second: (second, bytes[second]),
            finder: Finder::new(bytes).into_owned(),
        }
    }

    fn at(&self, block: &[u8], pos: usize) -> bool {
        // Compared eight bytes at a time: a call to `memcmp` per header line would cost more
        // than the comparison.
        let Some(candidate) = block.get(pos..pos + self.bytes.len()) else {
            return false;
        };
        let mut wanted = self.bytes.chunks(8);
        candidate.chunks(8).all(|got| {
            let want = wanted.next().unwrap_or_default();
            if got.len() == 8 {
                u64::from_ne_bytes(got.try_into().unwrap_or_default())
                    == u64::from_ne_bytes(want.try_into().unwrap_or_default())
            } else {
                got == want
            }
        })
    }
}

/// The literals a block is indexed for: the needles, and the record header mark.
#[derive(Debug, Clone)]
pub(super) struct BlockIndexer {
    needles: Vec<Literal>,
    header: Literal,
    /// The header's first eight bytes as a word, and the mask of those that count.
    header_word: (u64, u64),
    /// Every offset a pair test reads, at most: the vector loop stops this far before the end.
    reach: usize,
}

/// What one pass over a block found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct BlockIndex {
    pub lines: u64,
    pub ascii: bool,
    /// Whether an ESC byte (a colour code's or a hyperlink's) is in the block.
    pub escapes: bool,
    pub headers: u64,
    /// Where the last header mark starts.
    pub last_header: Option<usize>,
    /// Each needle occurrence (any needle, ascending) and the lines before it in the block.
    pub hits: Vec<(usize, u64)>,
}

impl BlockIndexer {
    /// `needles` must not be empty strings.
    pub(super) fn new<S: AsRef<[u8]>>(needles: &[S], header: &[u8]) -> Self {
        let needles: Vec<Literal> = needles
            .iter()
            .map(|n| n.as_ref())
            .filter(|n| !n.is_empty())
            .map(Literal::new)
            .collect();
        let header_word = prefix_word(header);
        let header = Literal::new(header);
        let reach = needles
            .iter()
            .chain([&header])
            .map(|l| l.first.0.max(l.second.0))
            .max()
            .unwrap_or(0)
            .max(8);
        Self {
            needles,
            header,
            header_word,
            reach,
        }
    }

    /// Indexes `block`.
    pub(super) fn index(&self, block: &[u8], out: &mut BlockIndex) {
        out.hits.clear();
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("popcnt")
            && std::arch::is_x86_feature_detected!("bmi1")
            && self.header.bytes.len() <= 8
        {
            // SAFETY: AVX2, POPCNT and BMI1 are available, checked just above. The loop is
            // compiled once per needle count, so its needle tests are unrolled.
            unsafe {
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                {
                    match self.needles.len() {
                        1 => return self.index_avx512::<1>(block, out),
                        2 => return self.index_avx512::<2>(block, out),
                        3 => return self.index_avx512::<3>(block, out),
                        4 => return self.index_avx512::<4>(block, out),
                        _ => {}
                    }
                }
                match self.needles.len() {
                    1 => return self.index_avx2::<1>(block, out),
                    2 => return self.index_avx2::<2>(block, out),
                    3 => return self.index_avx2::<3>(block, out),
                    4 => return self.index_avx2::<4>(block, out),
                    _ => {}
                }
            }
        }
        self.index_portable(block, out);
    }

    /// The same answer from `memchr`'s searchers, one pass per question.
    fn index_portable(&self, block: &[u8], out: &mut BlockIndex) {
        out.ascii = block.is_ascii();
        out.escapes = memchr::memchr(ESC, block).is_some();
        out.headers = 0;
        out.last_header = None;
        for at in self.header.finder.find_iter(block) {
            out.headers += 1;
            out.last_header = Some(at);
        }
        let mut positions: Vec<usize> = self
            .needles
            .iter()
            .flat_map(|n| n.finder.find_iter(block))
            .collect();
        positions.sort_unstable();
        positions.dedup();
        let (mut counted_to, mut lines) = (0, 0);
        for pos in positions {
            lines += memchr::memchr_iter(b'\n', &block[counted_to..pos]).count() as u64;
            counted_to = pos;
            out.hits.push((pos, lines));
        }
        out.lines = lines + memchr::memchr_iter(b'\n', &block[counted_to..]).count() as u64;
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    unsafe fn index_avx2<const NEEDLES: usize>(&self, block: &[u8], out: &mut BlockIndex) {
        use std::arch::x86_64::*;
        let ptr = block.as_ptr();
        let newline = _mm256_set1_epi8(b'\n' as i8);
        let header = VectorPair::new(&self.header);
        let mut needles = [header; NEEDLES];
        for (slot, needle) in needles.iter_mut().zip(&self.needles) {
            *slot = VectorPair::new(needle);
        }
        let esc = _mm256_set1_epi8(ESC as i8);
        let mut high = _mm256_setzero_si256();
        let mut escapes = _mm256_setzero_si256();
        // SAFETY: `batched` calls this at positions `at` with `at + reach + 64 <= block.len()`,
        // and every offset is at most `reach`.
        let scan = unsafe {
            self.batched(block, out, |at| {
                let (low_half, high_half) = (
                    _mm256_loadu_si256(ptr.add(at).cast()),
                    _mm256_loadu_si256(ptr.add(at + 32).cast()),
                );
                _mm_prefetch::<_MM_HINT_T0>(ptr.wrapping_add(at + PREFETCH_AHEAD).cast());
                high = _mm256_or_si256(high, _mm256_or_si256(low_half, high_half));
                escapes = _mm256_or_si256(
                    escapes,
                    _mm256_or_si256(
                        _mm256_cmpeq_epi8(low_half, esc),
                        _mm256_cmpeq_epi8(high_half, esc),
                    ),
                );
                let mut needle_mask = 0;
                for needle in &needles {
                    needle_mask |= needle.mask64(ptr.add(at));
                }
                Masks {
                    lines: wide(
                        _mm256_movemask_epi8(_mm256_cmpeq_epi8(low_half, newline)),
                        _mm256_movemask_epi8(_mm256_cmpeq_epi8(high_half, newline)),
                    ),
                    headers: header.mask64(ptr.add(at)),
                    needles: needle_mask,
                }
            })
        };
        let seen = Seen {
            ascii: _mm256_movemask_epi8(high) == 0,
            escapes: _mm256_movemask_epi8(escapes) != 0,
        };
        self.finish_tail(block, scan, seen, out);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,popcnt,bmi1")]
    unsafe fn index_avx512<const NEEDLES: usize>(&self, block: &[u8], out: &mut BlockIndex) {
        use std::arch::x86_64::*;
        let ptr = block.as_ptr();
        let newline = _mm512_set1_epi8(b'\n' as i8);
        let pair = |literal: &Literal| {
            (
                literal.first.0,
                _mm512_set1_epi8(literal.first.1 as i8),
                literal.second.0,
                _mm512_set1_epi8(literal.second.1 as i8),
            )
        };
        let header = pair(&self.header);
        let mut needles = [header; NEEDLES];
        for (slot, needle) in needles.iter_mut().zip(&self.needles) {
            *slot = pair(needle);
        }
        let esc = _mm512_set1_epi8(ESC as i8);
        let mut high = _mm512_setzero_si512();
        let mut escapes = 0u64;
        // SAFETY (every load): `batched` calls this at positions `at` with
        // `at + reach + 64 <= block.len()`, and every offset is at most `reach`.
        let scan = unsafe {
            self.batched(block, out, |at| {
                let bytes = _mm512_loadu_si512(ptr.add(at).cast());
                _mm_prefetch::<_MM_HINT_T0>(ptr.wrapping_add(at + PREFETCH_AHEAD).cast());
                high = _mm512_or_si512(high, bytes);
                escapes |= _mm512_cmpeq_epi8_mask(bytes, esc);
                let test = |(i, a, j, b): (usize, __m512i, usize, __m512i)| {
                    _mm512_mask_cmpeq_epi8_mask(
                        _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(ptr.add(at + i).cast()), a),
                        _mm512_loadu_si512(ptr.add(at + j).cast()),
                        b,
                    )
                };
                let mut needle_mask = 0;
                for &needle in &needles {
                    needle_mask |= test(needle);
                }
                Masks {
                    lines: _mm512_cmpeq_epi8_mask(bytes, newline),
                    headers: test(header),
                    needles: needle_mask,
                }
            })
        };
        let seen = Seen {
            ascii: _mm512_movepi8_mask(high) == 0,
            escapes: escapes != 0,
        };
        self.finish_tail(block, scan, seen, out);
    }

    /// The skeleton of a vector loop: `test` gives the masks of the 64 bytes at a position, for
    /// up to `BATCH` stretches, and then each is checked and counted; the rest of the block is
    /// left to `finish_tail`.
    /// SAFETY: `test` reads up to `reach + 64` bytes from the position it is given, which
    /// `batched` keeps within the block.
    #[cfg(target_arch = "x86_64")]
    #[inline(always)]
    unsafe fn batched(
        &self,
        block: &[u8],
        out: &mut BlockIndex,
        mut test: impl FnMut(usize) -> Masks,
    ) -> LoopState {
        let mut scan = LoopState::default();
        let mut batch = [Masks::default(); BATCH];
        let end = block.len().saturating_sub(self.reach + 64);
        while scan.at < end {
            let count = (end - scan.at).div_ceil(64).min(BATCH);
            for (k, masks) in batch[..count].iter_mut().enumerate() {
                *masks = test(scan.at + 64 * k);
            }
            for &masks in &batch[..count] {
                // SAFETY: `scan.at < end`, so 8 bytes are readable after `scan.at + 63`.
                unsafe { self.account(block, &mut scan, masks, out) };
            }
        }
        scan
    }

    /// Checks and counts what a vector loop found in the 64 bytes at `scan.at`.
    /// SAFETY: 8 bytes must be readable after `scan.at + 63`.
    #[inline(always)]
    unsafe fn account(
        &self,
        block: &[u8],
        scan: &mut LoopState,
        masks: Masks,
        out: &mut BlockIndex,
    ) {
        let Masks {
            lines: line_mask,
            headers: mut header_mask,
            needles: mut needle_mask,
        } = masks;
        let at = scan.at;
        // Most 64-byte stretches hold one line start or none: the first candidate is checked
        // without a branch (a mispredicted one per line would cost more than the rest of the
        // loop), any further ones in a loop.
        let pos = at + (header_mask.trailing_zeros() as usize & 63);
        // SAFETY: the caller's promise.
        let word = unsafe { block.as_ptr().add(pos).cast::<u64>().read_unaligned() };
        let found = header_mask != 0 && word & self.header_word.1 == self.header_word.0;
        scan.headers += u64::from(found);
        scan.last_header = if found { pos } else { scan.last_header };
        header_mask &= header_mask.wrapping_sub(1);
        while header_mask != 0 {
            let pos = at + header_mask.trailing_zeros() as usize;
            header_mask &= header_mask - 1;
            if self.header.at(block, pos) {
                scan.headers += 1;
                scan.last_header = pos;
            }
        }
        while needle_mask != 0 {
            let bit = needle_mask.trailing_zeros();
            needle_mask &= needle_mask - 1;
            let pos = at + bit as usize;
            if self.needles.iter().any(|n| n.at(block, pos)) {
                let before = (line_mask & ((1u64 << bit) - 1)).count_ones();
                out.hits.push((pos, scan.lines + u64::from(before)));
            }
        }
        scan.lines += u64::from(line_mask.count_ones());
        scan.at += 64;
    }

    /// The bytes after the vector loop, one at a time, and the totals.
    fn finish_tail(&self, block: &[u8], scan: LoopState, seen: Seen, out: &mut BlockIndex) {
        let LoopState {
            at,
            mut lines,
            mut headers,
            last_header,
        } = scan;
        let Seen {
            mut ascii,
            mut escapes,
        } = seen;
        let mut last_header = (last_header != usize::MAX).then_some(last_header);
        for pos in at..block.len() {
            let byte = block[pos];
            ascii &= byte.is_ascii();
            escapes |= byte == ESC;
            if self.header.at(block, pos) {
                headers += 1;
                last_header = Some(pos);
            }
            if self.needles.iter().any(|n| n.at(block, pos)) {
                out.hits.push((pos, lines));
            }
            lines += u64::from(byte == b'\n');
        }
        out.lines = lines;
        out.ascii = ascii;
        out.escapes = escapes;
        out.headers = headers;
        out.last_header = last_header;
    }
}

/// What a vector loop found in 64 bytes, bit `i` for position `i`: newlines, header candidates
/// (their pair of bytes), needle candidates.
#[derive(Debug, Clone, Copy, Default)]
struct Masks {
    lines: u64,
    headers: u64,
    needles: u64,
}

/// What a vector loop saw of the bytes it read.
#[derive(Debug, Clone, Copy)]
struct Seen {
    ascii: bool,
    escapes: bool,
}

/// The byte that starts a colour code or a hyperlink.
const ESC: u8 = 0x1b;

/// Where a vector loop is, and what it has counted.
#[derive(Debug, Clone, Copy)]
struct LoopState {
    at: usize,
    lines: u64,
    headers: u64,
    /// `usize::MAX` for none, so the loop updates it without a branch.
    last_header: usize,
}

impl Default for LoopState {
    fn default() -> Self {
        Self {
            at: 0,
            lines: 0,
            headers: 0,
            last_header: usize::MAX,
        }
    }
}

/// A literal's pair test on 32 positions at once.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct VectorPair {
    first: (usize, std::arch::x86_64::__m256i),
    second: (usize, std::arch::x86_64::__m256i),
}

#[cfg(target_arch = "x86_64")]
impl VectorPair {
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    fn new(literal: &Literal) -> Self {
        use std::arch::x86_64::_mm256_set1_epi8;
        Self {
            first: (literal.first.0, _mm256_set1_epi8(literal.first.1 as i8)),
            second: (literal.second.0, _mm256_set1_epi8(literal.second.1 as i8)),
        }
    }

    /// Bit `i` is set when the literal's pair is at `at + i`.
    /// SAFETY: 32 bytes must be readable after `at` plus either offset.
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    #[inline]
    unsafe fn mask(&self, at: *const u8) -> i32 {
        use std::arch::x86_64::*;
        // SAFETY: the caller's promise.
        unsafe {
            let first = _mm256_loadu_si256(at.add(self.first.0).cast());
            let second = _mm256_loadu_si256(at.add(self.second.0).cast());
            _mm256_movemask_epi8(_mm256_and_si256(
                _mm256_cmpeq_epi8(first, self.first.1),
                _mm256_cmpeq_epi8(second, self.second.1),
            ))
        }
    }

    /// The same for 64 positions.
    /// SAFETY: 64 bytes must be readable after `at` plus either offset.
    #[target_feature(enable = "avx2,popcnt,bmi1")]
    #[inline]
    unsafe fn mask64(&self, at: *const u8) -> u64 {
        // SAFETY: the caller's promise.
        unsafe { wide(self.mask(at), self.mask(at.add(32))) }
    }
}

/// The first eight bytes of `literal` (zero-padded) as a native word, and the mask of the bytes
/// it has.
fn prefix_word(literal: &[u8]) -> (u64, u64) {
    let mut word = [0u8; 8];
    let mut mask = [0u8; 8];
    for (i, &byte) in literal.iter().take(8).enumerate() {
        word[i] = byte;
        mask[i] = 0xff;
    }
    (u64::from_ne_bytes(word), u64::from_ne_bytes(mask))
}

/// Two 32-bit movemasks as one mask of 64 positions.
#[inline]
fn wide(low: i32, high: i32) -> u64 {
    u64::from(low as u32) | (u64::from(high as u32) << 32)
}

/// The 64-byte stretches a vector loop tests before it checks and counts what it found. The
/// tests make no call, so their constants stay in vector registers; the checks call out (a
/// literal's comparison, a push), and would otherwise make the loop keep them on the stack.
#[cfg(target_arch = "x86_64")]
const BATCH: usize = 64;

/// How far ahead of the vector loop its input is prefetched.
#[cfg(target_arch = "x86_64")]
const PREFETCH_AHEAD: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;

    /// What `index` answers, checked against every vector loop this machine can run, and the
    /// portable answer.
    fn both(indexer: &BlockIndexer, block: &[u8]) -> (BlockIndex, BlockIndex) {
        let mut fast = BlockIndex::default();
        indexer.index(block, &mut fast);
        let mut portable = BlockIndex::default();
        indexer.index_portable(block, &mut portable);
        #[cfg(target_arch = "x86_64")]
        {
            let detected = |feature| {
                std::arch::is_x86_feature_detected!("popcnt")
                    && std::arch::is_x86_feature_detected!("bmi1")
                    && match feature {
                        "avx2" => std::arch::is_x86_feature_detected!("avx2"),
                        _ => {
                            std::arch::is_x86_feature_detected!("avx512f")
                                && std::arch::is_x86_feature_detected!("avx512bw")
                        }
                    }
            };
            for feature in ["avx2", "avx512bw"] {
                if !detected(feature) || indexer.needles.len() != 2 {
                    continue;
                }
                let mut vector = BlockIndex::default();
                // SAFETY: the feature was detected just above.
                unsafe {
                    match feature {
                        "avx2" => indexer.index_avx2::<2>(block, &mut vector),
                        _ => indexer.index_avx512::<2>(block, &mut vector),
                    }
                }
                assert_eq!(vector, portable, "{feature}");
            }
        }
        (fast, portable)
    }

    #[test]
    fn finds_lines_headers_and_needles_with_their_line_numbers() {
        let indexer = BlockIndexer::new(&["without an index", "No index found"], b"[CONVEX ");
        let block = b"1/15/2026, 1:00:00 PM [CONVEX Q(a:b)] [WARN] 'Querying without an index on table \"member\"'\n\
                      continuation\n\
                      [CONVEX M(x:y)] No index found for user.email\n";
        let (fast, portable) = both(&indexer, block);
        assert_eq!(fast, portable);
        assert_eq!(fast.lines, 3);
        assert_eq!(fast.headers, 2);
        assert!(fast.ascii);
        assert_eq!(fast.hits.len(), 2);
        assert_eq!(fast.hits[0].1, 0);
        assert_eq!(fast.hits[1].1, 2);
        assert!(block[fast.hits[1].0..].starts_with(b"No index found"));
    }

    #[test]
    fn the_vector_loop_and_the_portable_searchers_agree_everywhere() {
        let indexer = BlockIndexer::new(&["without an index", "No index found"], b"[CONVEX ");
        let pieces: [&[u8]; 10] = [
            b"\x1b[2m",
            b"\n",
            b"[CONVEX Q(f)] ",
            b"without an index",
            b"No index found",
            b"No index foun",
            b"[CONVEX",
            b"caf\xc3\xa9 ",
            b"withou",
            b"plain text of a log line ",
        ];
        // A deterministic walk over many mixtures, so each literal lands at every offset of a
        // vector and across the tail.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..400 {
            let mut block = Vec::new();
            while block.len() < 300 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                block.extend_from_slice(pieces[(state % pieces.len() as u64) as usize]);
            }
            let (fast, portable) = both(&indexer, &block);
            assert_eq!(fast, portable, "{:?}", String::from_utf8_lossy(&block));
        }
    }
}

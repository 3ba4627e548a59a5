//! LZF decompression (Redis `src/lzf_d.c`).
//!
//! Any RDB string may be stored LZF-compressed (`0xC3 clen ulen data`), and
//! that includes the compact blobs (listpacks, ziplists, intsets, zipmaps) and
//! quicklist nodes, so every worker that decodes values goes through here.
//! An LZF stream is a sequence of operations, each starting with a control
//! byte `c`:
//!
//! * `c < 32`: a literal run of `c + 1` bytes copied from the input;
//! * `c >= 32`: a back reference of `(c >> 5) + 2` bytes (when `c >> 5 == 7`,
//!   one more byte is added to the length) at distance
//!   `((c & 0x1F) << 8) + next + 1` behind the output cursor. Source and
//!   destination may overlap, which makes the copy a run-length repeat.
//!
//! The stored `ulen` comes from the file and may be hostile, so the output
//! size is checked against the largest output the input could possibly
//! produce ([`max_expansion`]) before anything is reserved: a claimed length
//! of 2^60 bytes is refused without allocating. Back references are relative
//! to where this call's output starts, so several blobs can be decompressed
//! one after another into one reused buffer.

use super::error::BlobError;

/// Longest copy one back reference can make: length field 7 + 255, plus 2.
const MAX_REF_COPY: usize = 264;

/// Largest number of bytes that `input_len` bytes of valid LZF can decompress
/// to.
///
/// The ratio of output to input per operation is at most 1 for a literal run
/// (`n + 1` input bytes give `n`), 4 for a two-byte back reference (copy of up
/// to 8) and 88 for a three-byte one (copy of up to 264). The first operation
/// must be a literal, since a back reference needs output behind it; the
/// cheapest is 2 input bytes giving 1. Every remaining group of three input
/// bytes is best spent on a long back reference. Of a leftover of one byte,
/// nothing can be made on its own, so it goes to lengthen the first literal
/// (+1); a leftover of two bytes is a short back reference (+8). So the
/// maximum is `1 + 264 * ((n - 2) / 3)` plus 0, 1 or 8 — asymptotically 88
/// output bytes per input byte — and 0 for inputs shorter than 2 bytes.
pub fn max_expansion(input_len: usize) -> usize {
    if input_len < 2 {
        return 0;
    }
    let rest = input_len - 2;
    let tail = match rest % 3 {
        0 => 1,
        1 => 2,
        _ => 1 + 8,
    };
    (rest / 3).saturating_mul(MAX_REF_COPY).saturating_add(tail)
}

/// Decompresses `input` and appends exactly `expected_len` bytes to `out`.
///
/// Data already in `out` is left untouched and cannot be referenced. On error
/// `out` may hold a partial result past its original length; callers that
/// reuse the buffer truncate it. At most `expected_len` bytes are reserved,
/// and nothing at all when `expected_len` exceeds [`max_expansion`] of the
/// input. Error offsets point at the control byte of the failing operation.
pub fn decompress(input: &[u8], expected_len: usize, out: &mut Vec<u8>) -> Result<(), BlobError> {
    if expected_len > max_expansion(input.len()) {
        return Err(BlobError::corrupt(0, "LZF uncompressed length"));
    }
    // The output is sized up front and written by index: most operations
    // are a few bytes long, and a copy of fixed width (bytes past the
    // operation's end are overwritten by the next one) is a pair of vector
    // moves where `extend_from_slice` was a call to memmove.
    let start = out.len();
    out.reserve_exact(expected_len);
    out.resize(start + expected_len, 0);
    let buf = &mut out[start..];
    let mut op = 0usize;
    let mut ip = 0usize;
    while let Some(&ctrl) = input.get(ip) {
        let op_at = ip;
        ip += 1;
        let ctrl = usize::from(ctrl);
        if ctrl < 32 {
            // lzf_d.c: literal run of ctrl + 1 bytes.
            let run = ctrl + 1;
            let lit = input
                .get(ip..ip + run)
                .ok_or(BlobError::truncated(op_at, "LZF literal run"))?;
            if op + run > expected_len {
                return Err(BlobError::corrupt(op_at, "LZF output longer than expected"));
            }
            match (input.get(ip..ip + 32), buf.get_mut(op..op + 32)) {
                (Some(wide), Some(dst)) => dst.copy_from_slice(wide),
                _ => buf[op..op + run].copy_from_slice(lit),
            }
            op += run;
            ip += run;
        } else {
            // lzf_d.c: back reference; a length field of 7 continues in the
            // next byte, then the low byte of the distance follows.
            let mut len = ctrl >> 5;
            if len == 7 {
                let more = input
                    .get(ip)
                    .ok_or(BlobError::truncated(op_at, "LZF back reference"))?;
                len += usize::from(*more);
                ip += 1;
            }
            let low = input
                .get(ip)
                .ok_or(BlobError::truncated(op_at, "LZF back reference"))?;
            ip += 1;
            let dist = ((ctrl & 0x1F) << 8) + usize::from(*low) + 1;
            let len = len + 2;
            if op + len > expected_len {
                return Err(BlobError::corrupt(op_at, "LZF output longer than expected"));
            }
            if dist > op {
                return Err(BlobError::corrupt(
                    op_at,
                    "LZF back reference before output start",
                ));
            }
            copy_back(buf, op, dist, len);
            op += len;
        }
    }
    if op != expected_len {
        return Err(BlobError::corrupt(
            input.len(),
            "LZF output shorter than expected",
        ));
    }
    Ok(())
}

/// Writes `len` bytes at `op` repeating the output `dist` bytes behind, as
/// lzf_d.c's byte-at-a-time loop does (an overlapping source repeats the
/// last `dist` bytes). The caller checked `dist <= op` and that the copy
/// ends inside `buf`.
fn copy_back(buf: &mut [u8], op: usize, dist: usize, len: usize) {
    const W: usize = 16;
    let src = op - dist;
    if dist >= W && op + len.next_multiple_of(W) <= buf.len() {
        // Each chunk reads bytes at least `W` behind what it writes, all
        // already final.
        let mut k = 0;
        while k < len {
            let (done, ahead) = buf.split_at_mut(op + k);
            ahead[..W].copy_from_slice(&done[src + k..src + k + W]);
            k += W;
        }
    } else if dist == 1 {
        let b = buf[src];
        buf[op..op + len].fill(b);
    } else if dist >= len {
        buf.copy_within(src..src + len, op);
    } else {
        for i in 0..len {
            buf[op + i] = buf[src + i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{decompress, max_expansion};

    fn run(input: &[u8], expected_len: usize) -> Result<Vec<u8>, crate::rdb::BlobError> {
        let mut out = Vec::new();
        decompress(input, expected_len, &mut out).map(|()| out)
    }

    #[test]
    fn literal_runs() {
        // Control 0x02: three literal bytes; control 0x00: one more.
        assert_eq!(
            run(&[0x02, b'a', b'b', b'c', 0x00, b'd'], 4).unwrap(),
            b"abcd"
        );
        // Longest literal run: control 31 copies 32 bytes.
        let mut input = vec![31u8];
        input.extend(0..32u8);
        assert_eq!(run(&input, 32).unwrap(), (0..32u8).collect::<Vec<_>>());
    }

    #[test]
    fn short_back_reference_overlapping() {
        // "ab" then a reference of len field 1 (+2 = 3 bytes) at distance 2:
        // ctrl = 1 << 5 | 0, low = 1 -> dist 2 -> copies "aba".
        assert_eq!(run(&[0x01, b'a', b'b', 0x20, 0x01], 5).unwrap(), b"ababa");
        // Distance 1 repeats the last byte: len field 6 -> 8 copies.
        assert_eq!(run(&[0x00, b'z', 0xC0, 0x00], 9).unwrap(), b"zzzzzzzzz");
    }

    #[test]
    fn long_back_reference_and_far_distance() {
        // Len field 7 + 255 = 262, +2 = 264 bytes at distance 1.
        let out = run(&[0x00, b'x', 0xE0, 0xFF, 0x00], 265).unwrap();
        assert_eq!(out, vec![b'x'; 265]);
        // Distance uses the high 5 control bits: ctrl 0x21 low 0x00 ->
        // dist 256 + 1 = 257, len 3. Build 257 literal bytes first.
        let mut input = Vec::new();
        let mut expect = Vec::new();
        for chunk in 0..9u8 {
            let n = if chunk < 8 { 32 } else { 1 };
            input.push(n as u8 - 1);
            for i in 0..n {
                let b = chunk.wrapping_mul(31).wrapping_add(i as u8);
                input.push(b);
                expect.push(b);
            }
        }
        assert_eq!(expect.len(), 257);
        input.extend_from_slice(&[0x21, 0x00]);
        expect.extend_from_within(0..3);
        assert_eq!(run(&input, 260).unwrap(), expect);
    }

    #[test]
    fn appends_after_existing_data_and_refs_are_relative() {
        let mut out = b"old".to_vec();
        decompress(&[0x00, b'q', 0x20, 0x00], 4, &mut out).unwrap();
        assert_eq!(out, b"oldqqqq");
        // A reference reaching into "old" is refused although the bytes exist.
        let mut out = b"old".to_vec();
        let err = decompress(&[0x00, b'q', 0x20, 0x01], 4, &mut out).unwrap_err();
        assert_eq!((err.offset, err.truncated), (2, false));
        assert_eq!(err.what, "LZF back reference before output start");
    }

    #[test]
    fn errors_report_the_failing_operation() {
        // Reference as the first operation.
        let err = run(&[0x20, 0x00, 0x00], 3).unwrap_err();
        assert_eq!((err.offset, err.truncated), (0, false));
        // Output would exceed the expected length.
        let err = run(&[0x02, b'a', b'b', b'c'], 2).unwrap_err();
        assert_eq!(
            (err.offset, err.what),
            (0, "LZF output longer than expected")
        );
        let err = run(&[0x00, b'a', 0x40, 0x00], 3).unwrap_err();
        assert_eq!(
            (err.offset, err.what),
            (2, "LZF output longer than expected")
        );
        // Output shorter than expected: reported at the end of the input.
        let err = run(&[0x00, b'a', 0x00, b'b'], 5).unwrap_err();
        assert_eq!(
            (err.offset, err.what),
            (4, "LZF output shorter than expected")
        );
        // Truncated literal, truncated short and long references.
        let err = run(&[0x00, b'a', 0x03, b'b'], 5).unwrap_err();
        assert_eq!((err.offset, err.truncated), (2, true));
        let err = run(&[0x00, b'a', 0x20], 2).unwrap_err();
        assert_eq!((err.offset, err.truncated), (2, true));
        let err = run(&[0x00, b'a', 0x00, b'b', 0xE0, 0x05], 20).unwrap_err();
        assert_eq!((err.offset, err.truncated), (4, true));
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert_eq!(run(&[], 0).unwrap(), b"");
        assert!(run(&[], 1).is_err());
    }

    /// Best output reachable by spending exactly `n` input bytes, by dynamic
    /// programming over the three operation kinds, independent of the closed
    /// form in `max_expansion`.
    fn best_by_search(limit: usize) -> Vec<usize> {
        const NONE: i64 = i64::MIN / 2;
        // after[n]: best output from n bytes once some output exists.
        let mut after = vec![NONE; limit + 1];
        after[0] = 0;
        for n in 1..=limit {
            let mut best = NONE;
            for lit in 1..=32usize {
                if n > lit {
                    best = best.max(lit as i64 + after[n - 1 - lit]);
                }
            }
            if n >= 2 {
                best = best.max(8 + after[n - 2]);
            }
            if n >= 3 {
                best = best.max(264 + after[n - 3]);
            }
            after[n] = best;
        }
        (0..=limit)
            .map(|n| {
                if n == 0 {
                    return 0;
                }
                let first = (1..=32usize)
                    .filter(|&lit| n > lit)
                    .map(|lit| lit as i64 + after[n - 1 - lit])
                    .max()
                    .unwrap_or(NONE);
                first.max(0) as usize
            })
            .collect()
    }

    #[test]
    fn max_expansion_matches_exhaustive_search() {
        let best = best_by_search(300);
        for (n, &b) in best.iter().enumerate() {
            assert_eq!(max_expansion(n), b, "input length {n}");
        }
        assert_eq!(max_expansion(5), 265);
        assert_eq!(max_expansion(usize::MAX), usize::MAX);
    }

    /// The bound is reached: a stream of one literal and long references of
    /// distance 1 produces exactly max_expansion bytes, and one byte more is
    /// refused up front.
    #[test]
    fn max_expansion_is_tight() {
        for n in [2usize, 3, 4, 5, 6, 7, 50, 1000] {
            let rest = n - 2;
            let mut input = match rest % 3 {
                1 => vec![0x01, b'a', b'a'],
                _ => vec![0x00, b'a'],
            };
            for _ in 0..rest / 3 {
                input.extend_from_slice(&[0xE0, 0xFF, 0x00]);
            }
            if rest % 3 == 2 {
                input.extend_from_slice(&[0xC0, 0x00]);
            }
            assert_eq!(input.len(), n);
            let max = max_expansion(n);
            assert_eq!(run(&input, max).unwrap(), vec![b'a'; max]);
            let err = run(&input, max + 1).unwrap_err();
            assert_eq!((err.offset, err.what), (0, "LZF uncompressed length"));
        }
    }

    /// lzf_d.c's loop, one byte at a time, for valid input only.
    fn reference(input: &[u8]) -> Vec<u8> {
        let (mut out, mut ip) = (Vec::new(), 0);
        while ip < input.len() {
            let ctrl = usize::from(input[ip]);
            ip += 1;
            if ctrl < 32 {
                out.extend_from_slice(&input[ip..ip + ctrl + 1]);
                ip += ctrl + 1;
            } else {
                let mut len = ctrl >> 5;
                if len == 7 {
                    len += usize::from(input[ip]);
                    ip += 1;
                }
                let dist = ((ctrl & 0x1F) << 8) + usize::from(input[ip]) + 1;
                ip += 1;
                for _ in 0..len + 2 {
                    out.push(out[out.len() - dist]);
                }
            }
        }
        out
    }

    #[test]
    fn random_streams_match_the_byte_loop() {
        // Streams of random operations: literals of every length, and
        // references of every length class at distances below, at and
        // above the chunked copy's width, overlapping or not, up to the
        // output's last byte.
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..2000 {
            let (mut input, mut produced) = (Vec::new(), 0usize);
            for _ in 0..1 + next(40) {
                if produced == 0 || next(3) == 0 {
                    let run = 1 + next(32) as usize;
                    input.push(run as u8 - 1);
                    input.extend((0..run).map(|_| next(256) as u8));
                    produced += run;
                } else {
                    let dist = match next(4) {
                        0 => 1 + next(15) as usize,
                        1 => 16,
                        _ => 1 + next(8192) as usize,
                    }
                    .min(produced);
                    let len = if next(2) == 0 {
                        3 + next(6)
                    } else {
                        9 + next(256)
                    } as usize;
                    let (d, field) = (dist - 1, (len - 2).min(7));
                    input.push(((field << 5) | (d >> 8)) as u8);
                    if field == 7 {
                        input.push((len - 2 - 7) as u8);
                    }
                    input.push(d as u8);
                    produced += len;
                }
            }
            let want = reference(&input);
            assert_eq!(want.len(), produced);
            assert_eq!(run(&input, produced).unwrap(), want);
        }
    }

    #[test]
    fn hostile_length_allocates_nothing() {
        let mut out = Vec::new();
        let err = decompress(&[0x00, b'a', 0xE0, 0xFF, 0x00], 1 << 60, &mut out).unwrap_err();
        assert_eq!((err.offset, err.truncated), (0, false));
        assert_eq!(out.capacity(), 0);
        // Just inside the bound the reservation is the claimed length, no more.
        let mut out = Vec::new();
        let err = decompress(&[0x00, b'a', 0x00], 2, &mut out).unwrap_err();
        assert!(err.truncated);
        assert!(out.capacity() <= 2, "capacity {}", out.capacity());
    }

    const LEADERBOARD_LZF: &[u8] = include_bytes!("../../testdata/blobs/lp-zset-leaderboard.lzf");
    const LEADERBOARD: &[u8] = include_bytes!("../../testdata/blobs/lp-zset-leaderboard.bin");
    const QUICKLIST_LZF: &[u8] = include_bytes!("../../testdata/blobs/lp-quicklist-node.lzf");
    const QUICKLIST: &[u8] = include_bytes!("../../testdata/blobs/lp-quicklist-node.bin");
    const BIG_LZF: &[u8] = include_bytes!("../../testdata/blobs/zl-hash-big-values.lzf");
    const BIG: &[u8] = include_bytes!("../../testdata/blobs/zl-hash-big-values.bin");

    #[test]
    fn real_blobs_decompress_to_their_reference() {
        for (lzf, plain) in [
            (LEADERBOARD_LZF, LEADERBOARD),
            (QUICKLIST_LZF, QUICKLIST),
            (BIG_LZF, BIG),
        ] {
            assert_eq!(run(lzf, plain.len()).unwrap(), plain);
        }
        assert_eq!(LEADERBOARD.len(), 1564);
        assert_eq!(QUICKLIST.len(), 7901);
        // The quicklist node repeats a long value; it compresses 42:1.
        assert_eq!(QUICKLIST_LZF.len(), 186);
    }

    #[test]
    fn every_prefix_fails() {
        for n in 0..LEADERBOARD_LZF.len() {
            let res = run(&LEADERBOARD_LZF[..n], LEADERBOARD.len());
            assert!(res.is_err(), "prefix {n} decompressed");
        }
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let mut flips_caught = 0;
        let mut buf = QUICKLIST_LZF.to_vec();
        for i in 0..buf.len() {
            buf[i] ^= 0xFF;
            match run(&buf, QUICKLIST.len()) {
                Ok(out) => assert_eq!(out.len(), QUICKLIST.len()),
                Err(e) => {
                    assert!(e.offset <= buf.len());
                    flips_caught += 1;
                }
            }
            buf[i] ^= 0xFF;
        }
        // Most flips change lengths or references and are detected.
        assert!(flips_caught > buf.len() / 2, "{flips_caught}");
    }
}

//! Zipmap (Redis `src/zipmap.c`): the small-hash encoding of Redis ≤ 2.4.
//!
//! Only old RDB files (type 9, `HASH_ZIPMAP`) hold zipmaps; every loader
//! converts them on load. Layout: `u8 zmlen` (the pair count when below 254,
//! otherwise unknown), then pairs, then `0xFF`. A pair is `len` · field ·
//! `len` · `u8 free` · value · `free` unused bytes, where a `len` is one byte
//! when below 254, or `0xFE` followed by a u32 LE.
//!
//! The walk follows `zipmapValidateIntegrity`: every length is compared with
//! the bytes left before it is used, nothing may run into the terminator, the
//! terminator must be the last byte, and a header count below 254 must match.
//! A length byte of `0xFF` in a value position is refused: zipmap.c would read
//! it as a 5-byte length, but no writer produces it. The empty zipmap, which
//! Redis rejects as an empty key, is left to the caller to judge.

use super::error::BlobError;

/// zipmap.c: ZIPMAP_BIGLEN, the length byte announcing a u32 length and the
/// header value meaning "count unknown".
const BIGLEN: u8 = 254;
/// zipmap.c: ZIPMAP_END.
const END: u8 = 0xFF;

/// A zipmap blob with a checked header.
#[derive(Debug, Clone, Copy)]
pub struct Zipmap<'a> {
    blob: &'a [u8],
}

impl<'a> Zipmap<'a> {
    /// Checks that the blob holds a header byte and ends with the terminator.
    /// Pairs are not looked at.
    pub fn parse(blob: &'a [u8]) -> Result<Zipmap<'a>, BlobError> {
        if blob.len() < 2 {
            return Err(BlobError::truncated(0, "zipmap header"));
        }
        if blob.last() != Some(&END) {
            return Err(BlobError::corrupt(blob.len() - 1, "zipmap terminator"));
        }
        Ok(Zipmap { blob })
    }

    /// The pair count from the header, or `None` when it is 254 or more
    /// (count unknown; walk with [`Zipmap::count`]).
    pub fn header_count(&self) -> Option<u8> {
        self.blob.first().copied().filter(|&n| n < BIGLEN)
    }

    /// Walks the pairs in order, validating each; stops after the first
    /// error.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            blob: self.blob,
            pos: 1,
            done: false,
        }
    }

    /// Walks and validates every pair and returns how many there are.
    /// A header count other than 254 must match it (zipmap.c).
    pub fn count(&self) -> Result<usize, BlobError> {
        let mut n = 0usize;
        for pair in self.iter() {
            pair?;
            n += 1;
        }
        match self.blob.first() {
            Some(&h) if h != BIGLEN && usize::from(h) != n => {
                Err(BlobError::corrupt(0, "zipmap pair count"))
            }
            _ => Ok(n),
        }
    }
}

/// Parses `blob` and validates every pair; returns the number of pairs.
pub fn validate(blob: &[u8]) -> Result<usize, BlobError> {
    Zipmap::parse(blob)?.count()
}

/// Iterator over the `(field, value)` pairs of a [`Zipmap`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    blob: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match read_pair(self.blob, self.pos) {
            Ok(Some((field, value, next))) => {
                self.pos = next;
                Some(Ok((field, value)))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

/// Reads a zipmap length at `at` within `body`: (value, bytes used).
fn read_len(body: &[u8], at: usize, pair: usize) -> Result<(usize, usize), BlobError> {
    let short = BlobError::truncated(pair, "zipmap pair");
    match *body.get(at).ok_or(short)? {
        n if n < BIGLEN => Ok((usize::from(n), 1)),
        BIGLEN => {
            let b = body.get(at + 1..at + 5).ok_or(short)?;
            let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            Ok((usize::try_from(n).map_err(|_| short)?, 5))
        }
        _ => Err(BlobError::corrupt(at, "zipmap length")),
    }
}

type Pair<'a> = (&'a [u8], &'a [u8], usize);

/// Reads the pair at `pos`; `Ok(None)` at the terminator, which must be the
/// last byte. Truncations are reported at the pair's first byte.
fn read_pair(blob: &[u8], pos: usize) -> Result<Option<Pair<'_>>, BlobError> {
    // zipmap.c OUT_OF_RANGE: nothing may reach the terminator.
    let body = blob.get(..blob.len().saturating_sub(1)).unwrap_or(&[]);
    match blob.get(pos) {
        None => return Err(BlobError::truncated(pos, "zipmap pair")),
        Some(&END) if pos + 1 == blob.len() => return Ok(None),
        Some(&END) => {
            return Err(BlobError::corrupt(
                pos,
                "zipmap terminator before end of blob",
            ))
        }
        Some(_) => {}
    }
    let short = || BlobError::truncated(pos, "zipmap pair");
    let (klen, ks) = read_len(body, pos, pos)?;
    let k_at = pos + ks;
    let field = body
        .get(k_at..k_at.checked_add(klen).ok_or_else(short)?)
        .ok_or_else(short)?;
    let v_len_at = k_at + klen;
    let (vlen, vs) = read_len(body, v_len_at, pos)?;
    let free = usize::from(*body.get(v_len_at + vs).ok_or_else(short)?);
    let v_at = v_len_at + vs + 1;
    let v_end = v_at.checked_add(vlen).ok_or_else(short)?;
    let value = body.get(v_at..v_end).ok_or_else(short)?;
    let next = v_end + free;
    if next > body.len() {
        return Err(short());
    }
    Ok(Some((field, value, next)))
}

#[cfg(test)]
mod tests {
    use super::{validate, Zipmap};
    use crate::rdb::BlobError;

    type Pairs<'a> = Vec<(&'a [u8], &'a [u8])>;

    fn pairs(blob: &[u8]) -> Result<Pairs<'_>, BlobError> {
        Zipmap::parse(blob)?.iter().collect()
    }

    #[test]
    fn small_lengths_and_free_bytes() {
        // "a" => "xy" with 2 free bytes, "bc" => "" with none.
        let blob = [
            2, 1, b'a', 2, 2, b'x', b'y', 0, 0, 2, b'b', b'c', 0, 0, 0xFF,
        ];
        assert_eq!(
            pairs(&blob).unwrap(),
            vec![(&b"a"[..], &b"xy"[..]), (b"bc", b"")]
        );
        assert_eq!(validate(&blob), Ok(2));
        assert_eq!(Zipmap::parse(&blob).unwrap().header_count(), Some(2));
    }

    #[test]
    fn big_lengths() {
        // Field of 254 bytes (0xFE + u32 LE 254), value of 253 bytes (1 byte).
        let mut blob = vec![1, 0xFE, 254, 0, 0, 0];
        blob.extend_from_slice(&[b'k'; 254]);
        blob.extend_from_slice(&[253, 0]);
        blob.extend_from_slice(&[b'v'; 253]);
        blob.push(0xFF);
        let got = pairs(&blob).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].0.len(), got[0].1.len()), (254, 253));
        assert_eq!(validate(&blob), Ok(1));
    }

    #[test]
    fn unknown_header_count_is_walked() {
        let blob = [254, 1, b'a', 1, 0, b'b', 0xFF];
        let zm = Zipmap::parse(&blob).unwrap();
        assert_eq!(zm.header_count(), None);
        assert_eq!(zm.count(), Ok(1));
        // 255 is not "unknown" to zipmap.c, so it must match.
        assert_eq!(
            validate(&[255, 1, b'a', 1, 0, b'b', 0xFF]),
            Err(BlobError::corrupt(0, "zipmap pair count"))
        );
        assert_eq!(validate(&[0, 0xFF]), Ok(0));
    }

    #[test]
    fn errors_report_offsets() {
        assert_eq!(
            Zipmap::parse(&[0xFF]).unwrap_err(),
            BlobError::truncated(0, "zipmap header")
        );
        assert_eq!(
            Zipmap::parse(&[1, 1]).unwrap_err(),
            BlobError::corrupt(1, "zipmap terminator")
        );
        assert_eq!(
            validate(&[2, 1, b'a', 1, 0, b'b', 0xFF]),
            Err(BlobError::corrupt(0, "zipmap pair count"))
        );
        // Value length byte 0xFF.
        assert_eq!(
            validate(&[1, 1, b'a', 0xFF, 0, 0xFF]),
            Err(BlobError::corrupt(3, "zipmap length"))
        );
        // Free bytes running into the terminator.
        assert_eq!(
            validate(&[1, 1, b'a', 1, 3, b'b', 0, 0xFF]),
            Err(BlobError::truncated(1, "zipmap pair"))
        );
        // Terminator in the middle.
        assert_eq!(
            validate(&[1, 1, b'a', 1, 0, b'b', 0xFF, 0xFF]),
            Err(BlobError::corrupt(
                6,
                "zipmap terminator before end of blob"
            ))
        );
    }

    #[test]
    fn hostile_length_is_refused() {
        let blob = [1, 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, b'a', 0xFF];
        assert_eq!(validate(&blob), Err(BlobError::truncated(1, "zipmap pair")));
        let blob = [1, 1, b'a', 0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0xFF];
        assert_eq!(validate(&blob), Err(BlobError::truncated(1, "zipmap pair")));
    }

    const HASH: &[u8] = include_bytes!("../../testdata/blobs/zm-hash.bin");
    const EASY: &[u8] = include_bytes!("../../testdata/blobs/zm-compresses-easily.bin");
    const EASY_LZF: &[u8] = include_bytes!("../../testdata/blobs/zm-compresses-easily.lzf");
    const PLAIN: &[u8] = include_bytes!("../../testdata/blobs/zm-doesnt-compress.bin");

    #[test]
    fn real_zipmaps() {
        // redis/tests/assets/hash-zipmap.rdb: f1 => v1, f2 => v2.
        assert_eq!(
            pairs(HASH).unwrap(),
            vec![(&b"f1"[..], &b"v1"[..]), (b"f2", b"v2")]
        );
        // redis-rdb-tools zipmap_that_doesnt_compress.rdb: expected.json pairs.
        assert_eq!(
            pairs(PLAIN).unwrap(),
            vec![(&b"MKD1G6"[..], &b"2"[..]), (b"YNNXK", b"F7TI")]
        );
        // redis-rdb-tools zipmap_that_compresses_easily.rdb, stored with LZF:
        // expected.json value_subset holds all three pairs.
        let mut plain = Vec::new();
        crate::rdb::lzf::decompress(EASY_LZF, EASY.len(), &mut plain).unwrap();
        assert_eq!(plain, EASY);
        let zm = Zipmap::parse(&plain).unwrap();
        assert_eq!((zm.header_count(), zm.count()), (Some(3), Ok(3)));
        assert_eq!(
            pairs(&plain).unwrap(),
            vec![
                (&b"a"[..], &b"aa"[..]),
                (b"aa", b"aaaa"),
                (b"aaaaa", b"aaaaaaaaaaaaaa")
            ]
        );
    }

    #[test]
    fn every_prefix_fails() {
        for blob in [HASH, EASY, PLAIN] {
            for n in 0..blob.len() {
                assert!(validate(&blob[..n]).is_err(), "prefix {n}");
            }
        }
    }

    #[test]
    fn truncation_inside_pairs_reports_the_cut_pair() {
        // Pair starts in HASH: 1 and 8; terminator at 15.
        for n in 2..HASH.len() - 1 {
            let mut cut = HASH[..n].to_vec();
            cut.push(0xFF);
            let err = validate(&cut).unwrap_err();
            let want = match n {
                8 => BlobError::corrupt(0, "zipmap pair count"),
                _ if n < 8 => BlobError::truncated(1, "zipmap pair"),
                _ => BlobError::truncated(8, "zipmap pair"),
            };
            assert_eq!(err, want, "cut {n}");
        }
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let mut caught = 0;
        for blob in [HASH, EASY, PLAIN] {
            let mut buf = blob.to_vec();
            for i in 0..buf.len() {
                buf[i] ^= 0xFF;
                if let Err(e) = validate(&buf) {
                    assert!(e.offset <= buf.len());
                    caught += 1;
                } else {
                    // Only data bytes may flip unnoticed.
                    assert!(i > 0 && i < buf.len() - 1);
                }
                buf[i] ^= 0xFF;
            }
        }
        assert!(caught >= 20, "{caught}");
    }
}

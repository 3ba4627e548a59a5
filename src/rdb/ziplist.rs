//! Ziplist (Redis `src/ziplist.c`): the compact list encoding of Redis < 7.
//!
//! RDB files from Redis 2.6 to 6.2 carry ziplists as plain strings for small
//! lists, zsets and hashes (types 10, 12, 13) and as the nodes of quicklist
//! lists (type 14); Redis 7+ still loads them and converts them to
//! listpacks. Layout: `u32 zlbytes` LE, `u32 zltail` LE (offset of the last
//! entry), `u16 zllen` LE (65535 = unknown), the entries, and `0xFF`. Each
//! entry is `prevlen` (size of the previous entry: one byte below 254, else
//! `0xFE` + u32 LE), an encoding (string lengths of 6, 14 or 32 bits, or one
//! of six integer widths, or a 4-bit immediate) and the data.
//!
//! The parser walks forwards only and borrows everything. [`Ziplist::parse`]
//! checks the header alone; the walk applies the checks of
//! `ziplistValidateIntegrity`/`zipEntrySafe`: a known encoding, every entry
//! inside the blob and before the terminator, each `prevlen` equal to the
//! previous entry's size (0 for the first), the terminator at the last byte,
//! `zltail` at the last entry, and a known `zllen` equal to the walked count.
//! A 5-byte `prevlen` holding a small value is accepted, since ziplist.c
//! keeps the wide form when a neighbour shrinks.

pub use super::entry::Entry;
use super::error::BlobError;

/// Header: `u32 zlbytes` + `u32 zltail` + `u16 zllen`.
const HEADER_LEN: usize = 10;
/// ziplist.c: ZIP_END.
const END: u8 = 0xFF;
/// ziplist.c: ZIP_BIG_PREVLEN.
const BIG_PREVLEN: u8 = 254;
/// zllen value meaning "count unknown" (UINT16_MAX).
const COUNT_UNKNOWN: u16 = u16::MAX;

/// A ziplist blob with a checked header.
#[derive(Debug, Clone, Copy)]
pub struct Ziplist<'a> {
    blob: &'a [u8],
    tail: usize,
    header_count: u16,
}

impl<'a> Ziplist<'a> {
    /// Checks the header: `zlbytes` equals `blob.len()`, `zltail` lies inside
    /// the blob and the last byte is the terminator. Entries are not looked
    /// at.
    pub fn parse(blob: &'a [u8]) -> Result<Ziplist<'a>, BlobError> {
        let Some(h) = blob.get(..HEADER_LEN) else {
            return Err(BlobError::truncated(0, "ziplist header"));
        };
        let zlbytes = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let zltail = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        let zllen = u16::from_le_bytes([h[8], h[9]]);
        if usize::try_from(zlbytes).ok() != Some(blob.len()) {
            return Err(BlobError::corrupt(0, "ziplist zlbytes"));
        }
        if blob.len() < HEADER_LEN + 1 {
            return Err(BlobError::truncated(blob.len(), "ziplist header"));
        }
        let tail = usize::try_from(zltail).unwrap_or(usize::MAX);
        if tail >= blob.len() {
            return Err(BlobError::corrupt(4, "ziplist zltail"));
        }
        if blob.last() != Some(&END) {
            return Err(BlobError::corrupt(blob.len() - 1, "ziplist terminator"));
        }
        Ok(Ziplist {
            blob,
            tail,
            header_count: zllen,
        })
    }

    /// The entry count from the header, or `None` when it is 65535 (count
    /// unknown; walk with [`Ziplist::count`]).
    pub fn header_count(&self) -> Option<u16> {
        (self.header_count != COUNT_UNKNOWN).then_some(self.header_count)
    }

    /// Size of the blob in bytes (the header's `zlbytes`).
    pub fn total_bytes(&self) -> usize {
        self.blob.len()
    }

    /// Offset of the last entry according to the header (`zltail`).
    pub fn tail_offset(&self) -> usize {
        self.tail
    }

    /// Walks the entries in order, validating each one and, at the end, that
    /// `zltail` names the last entry; stops after the first error.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            blob: self.blob,
            tail: self.tail,
            pos: HEADER_LEN,
            prev_size: 0,
            done: false,
        }
    }

    /// Walks and validates every entry and returns how many there are.
    /// When the header count is known it must match.
    pub fn count(&self) -> Result<usize, BlobError> {
        let mut n = 0usize;
        for e in self.iter() {
            e?;
            n += 1;
        }
        if let Some(h) = self.header_count() {
            if usize::from(h) != n {
                return Err(BlobError::corrupt(8, "ziplist entry count"));
            }
        }
        Ok(n)
    }
}

/// Parses the header of `blob` and validates every entry; returns the number
/// of entries.
pub fn validate(blob: &[u8]) -> Result<usize, BlobError> {
    Ziplist::parse(blob)?.count()
}

/// Iterator over the entries of a [`Ziplist`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    blob: &'a [u8],
    tail: usize,
    pos: usize,
    /// Size of the previous entry, which the next `prevlen` must repeat.
    prev_size: usize,
    done: bool,
}

impl<'a> Iter<'a> {
    /// Offset in the blob of the next entry to be read (of the terminator
    /// once the walk is over).
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<Entry<'a>, BlobError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let res = match read_entry(self.blob, self.pos, self.prev_size) {
            Ok(Some((entry, next))) => {
                self.prev_size = next - self.pos;
                self.pos = next;
                return Some(Ok(entry));
            }
            Ok(None) => {
                // ziplist.c: zltail must point at the last entry, when there
                // is one.
                let last = self.pos - self.prev_size;
                if self.prev_size != 0 && self.tail != last {
                    Some(Err(BlobError::corrupt(4, "ziplist zltail")))
                } else {
                    None
                }
            }
            Err(e) => Some(Err(e)),
        };
        self.done = true;
        res
    }
}

/// Reads the entry at `pos`; `Ok(None)` at the terminator, which must be the
/// last byte. Errors are reported at the entry's first byte, except a bad
/// encoding byte, reported where it sits.
fn read_entry(
    blob: &[u8],
    pos: usize,
    prev_size: usize,
) -> Result<Option<(Entry<'_>, usize)>, BlobError> {
    // ziplist.c OUT_OF_RANGE: entries may not reach the terminator.
    let body = blob.get(..blob.len().saturating_sub(1)).unwrap_or(&[]);
    let b0 = match blob.get(pos) {
        None => return Err(BlobError::truncated(pos, "ziplist entry")),
        Some(&END) if pos + 1 == blob.len() => return Ok(None),
        Some(&END) => {
            return Err(BlobError::corrupt(
                pos,
                "ziplist terminator before end of blob",
            ))
        }
        Some(&b) => b,
    };
    let short = || BlobError::truncated(pos, "ziplist entry");
    let (prevlen, plen) = if b0 < BIG_PREVLEN {
        (usize::from(b0), 1)
    } else {
        let b = body.get(pos + 1..pos + 5).ok_or_else(short)?;
        let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        (usize::try_from(v).unwrap_or(usize::MAX), 5)
    };
    if prevlen != prev_size {
        return Err(BlobError::corrupt(pos, "ziplist prevlen"));
    }
    let at = pos + plen;
    let enc = *body.get(at).ok_or_else(short)?;
    let byte = |i: usize| body.get(at + i).copied().ok_or_else(short);
    // (encoding bytes, data bytes, integer value for integer encodings)
    let (head, data, int): (usize, usize, Option<i64>) = match enc >> 6 {
        // ZIP_STR_06B
        0 => (1, usize::from(enc & 0x3F), None),
        // ZIP_STR_14B: big-endian, high bits in the encoding byte.
        1 => (
            2,
            (usize::from(enc & 0x3F) << 8) | usize::from(byte(1)?),
            None,
        ),
        // ZIP_STR_32B: ziplist.c masks the low 6 bits away and reads a u32 BE.
        2 => {
            let b = body.get(at + 1..at + 5).ok_or_else(short)?;
            let n = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            (5, usize::try_from(n).map_err(|_| short())?, None)
        }
        _ => {
            let width = match enc {
                0xFE => 1, // ZIP_INT_8B
                0xC0 => 2, // ZIP_INT_16B
                0xF0 => 3, // ZIP_INT_24B
                0xD0 => 4, // ZIP_INT_32B
                0xE0 => 8, // ZIP_INT_64B
                // ZIP_INT_IMM_MIN..=ZIP_INT_IMM_MAX: value is low nibble - 1.
                0xF1..=0xFD => 0,
                _ => return Err(BlobError::corrupt(at, "ziplist entry encoding")),
            };
            let v = if width == 0 {
                i64::from(enc & 0x0F) - 1
            } else {
                let b = body.get(at + 1..at + 1 + width).ok_or_else(short)?;
                let mut u: u64 = 0;
                for (i, x) in b.iter().enumerate() {
                    u |= u64::from(*x) << (8 * i);
                }
                let unused = 64 - 8 * width as u32;
                ((u << unused) as i64) >> unused
            };
            (1 + width, 0, Some(v))
        }
    };
    let start = at + head;
    let end = start.checked_add(data).ok_or_else(short)?;
    let bytes = body.get(start..end).ok_or_else(short)?;
    let e = match int {
        Some(v) => Entry::Int(v),
        None => Entry::Str(bytes),
    };
    Ok(Some((e, end)))
}

#[cfg(test)]
mod tests {
    use super::{validate, Entry, Ziplist};
    use crate::rdb::BlobError;

    /// Wraps entries in a header; `tail` is the offset of the last entry
    /// relative to the first entry.
    fn wrap(count: u16, tail: usize, entries: &[u8]) -> Vec<u8> {
        let mut v = ((entries.len() + 11) as u32).to_le_bytes().to_vec();
        v.extend_from_slice(&((tail + 10) as u32).to_le_bytes());
        v.extend_from_slice(&count.to_le_bytes());
        v.extend_from_slice(entries);
        v.push(0xFF);
        v
    }

    fn entries(blob: &[u8]) -> Result<Vec<Entry<'_>>, BlobError> {
        Ziplist::parse(blob)?.iter().collect()
    }

    /// One entry of every encoding, by hand. Offsets from the first entry in
    /// the comments; each prevlen is the previous entry's size.
    const EVERY_ENCODING: &[u8] = &[
        0x00, 0x02, b'h', b'i', // 0: str6 "hi" (size 4)
        0x04, 0x40, 0x03, b'a', b'b', b'c', // 4: str14 "abc" (size 6)
        0x06, 0x80, 0x00, 0x00, 0x00, 0x01, b'z', // 10: str32 "z" (size 7)
        0x07, 0xFE, 0x80, // 17: int8 -128 (size 3)
        0x03, 0xC0, 0x34, 0x12, // 20: int16 0x1234 (size 4)
        0x04, 0xF0, 0xFF, 0xFF, 0x7F, // 24: int24 8388607 (size 5)
        0x05, 0xF0, 0x00, 0x00, 0x80, // 29: int24 -8388608 (size 5)
        0x05, 0xD0, 0xFE, 0xFF, 0xFF, 0xFF, // 34: int32 -2 (size 6)
        0x06, 0xE0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, // 40: int64 MIN (size 10)
        0x0A, 0xF1, // 50: immediate 0 (size 2)
        0x02, 0xFD, // 52: immediate 12 (size 2)
        0x02, 0x00, // 54: str6 "" (size 2)
    ];

    #[test]
    fn every_encoding_decodes() {
        let blob = wrap(12, 54, EVERY_ENCODING);
        let want = [
            Entry::Str(b"hi"),
            Entry::Str(b"abc"),
            Entry::Str(b"z"),
            Entry::Int(-128),
            Entry::Int(0x1234),
            Entry::Int(8388607),
            Entry::Int(-8388608),
            Entry::Int(-2),
            Entry::Int(i64::MIN),
            Entry::Int(0),
            Entry::Int(12),
            Entry::Str(b""),
        ];
        assert_eq!(entries(&blob).unwrap(), want);
        assert_eq!(validate(&blob), Ok(12));
        let zl = Ziplist::parse(&blob).unwrap();
        assert_eq!(
            (zl.header_count(), zl.tail_offset(), zl.total_bytes()),
            (Some(12), 64, 67)
        );
        assert_eq!(validate(&wrap(0xFFFF, 54, EVERY_ENCODING)), Ok(12));
        assert_eq!(
            Ziplist::parse(&wrap(0xFFFF, 54, EVERY_ENCODING))
                .unwrap()
                .header_count(),
            None
        );
    }

    #[test]
    fn wide_prevlen_and_long_strings() {
        // A 300-byte str14 entry, then an int8 whose prevlen takes 5 bytes.
        let mut e = vec![0x00, 0x41, 0x2C];
        e.extend_from_slice(&[b's'; 300]);
        e.extend_from_slice(&[0xFE, 0x2F, 0x01, 0x00, 0x00, 0xFE, 0x07]);
        let blob = wrap(2, 303, &e);
        let got = entries(&blob).unwrap();
        assert_eq!(got, [Entry::Str(&[b's'; 300]), Entry::Int(7)]);
        // A 5-byte prevlen holding a small value, as left by a shrink.
        let blob = wrap(2, 2, &[0x00, 0xF2, 0xFE, 0x02, 0, 0, 0, 0xF3]);
        assert_eq!(entries(&blob).unwrap(), [Entry::Int(1), Entry::Int(2)]);
    }

    #[test]
    fn empty_ziplist() {
        let blob = wrap(0, 0, &[]);
        assert_eq!(validate(&blob), Ok(0));
    }

    #[test]
    fn header_errors() {
        let err = |b: &[u8]| Ziplist::parse(b).unwrap_err();
        assert_eq!(
            err(&[11, 0, 0, 0, 10, 0, 0, 0, 0]),
            BlobError::truncated(0, "ziplist header")
        );
        let mut b = wrap(0, 0, &[]);
        b[0] = 12;
        assert_eq!(err(&b), BlobError::corrupt(0, "ziplist zlbytes"));
        let mut b = wrap(0, 0, &[]);
        b[4] = 11;
        assert_eq!(err(&b), BlobError::corrupt(4, "ziplist zltail"));
        let mut b = wrap(0, 0, &[]);
        b[10] = 0xFE;
        assert_eq!(err(&b), BlobError::corrupt(10, "ziplist terminator"));
        assert_eq!(
            err(&[10, 0, 0, 0, 9, 0, 0, 0, 0, 0]),
            BlobError::truncated(10, "ziplist header")
        );
    }

    #[test]
    fn entry_errors_report_offsets() {
        let one = |e: &[u8]| validate(&wrap(1, 0, e));
        assert_eq!(
            one(&[0x00, 0xC1]),
            Err(BlobError::corrupt(11, "ziplist entry encoding"))
        );
        assert_eq!(
            one(&[0x00, 0xFF]),
            Err(BlobError::corrupt(11, "ziplist entry encoding"))
        );
        assert_eq!(
            one(&[0x01, 0xF1]),
            Err(BlobError::corrupt(10, "ziplist prevlen"))
        );
        assert_eq!(
            one(&[0x00, 0x03, b'a']),
            Err(BlobError::truncated(10, "ziplist entry"))
        );
        assert_eq!(
            one(&[0x00, 0xE0, 1, 2]),
            Err(BlobError::truncated(10, "ziplist entry"))
        );
        // zltail pointing at the first of two entries.
        assert_eq!(
            validate(&wrap(2, 0, &[0x00, 0xF1, 0x02, 0xF2])),
            Err(BlobError::corrupt(4, "ziplist zltail"))
        );
        assert_eq!(
            validate(&wrap(2, 0, &[0x00, 0xF1])),
            Err(BlobError::corrupt(8, "ziplist entry count"))
        );
        assert_eq!(
            validate(&wrap(1, 0, &[0x00, 0xF1, 0xFF, 0x02, 0xF1])),
            Err(BlobError::corrupt(
                12,
                "ziplist terminator before end of blob"
            ))
        );
    }

    #[test]
    fn hostile_string_length_fails() {
        let blob = wrap(1, 0, &[0x00, 0x80, 0xFF, 0xFF, 0xFF, 0xFF, b'x']);
        assert_eq!(
            validate(&blob),
            Err(BlobError::truncated(10, "ziplist entry"))
        );
        let blob = wrap(1, 0, &[0xFE, 0xFF, 0xFF, 0xFF, 0xFF, 0xF1]);
        assert_eq!(
            validate(&blob),
            Err(BlobError::corrupt(10, "ziplist prevlen"))
        );
    }

    const INTEGERS: &[u8] = include_bytes!("../../testdata/blobs/zl-integers.bin");
    const LEADERBOARD: &[u8] = include_bytes!("../../testdata/blobs/zl-zset-leaderboard.bin");
    const BIG_VALUES: &[u8] = include_bytes!("../../testdata/blobs/zl-hash-big-values.bin");

    fn render(e: Entry<'_>) -> String {
        let mut v = Vec::new();
        e.write_to(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn real_ziplist_with_every_integer_encoding() {
        // redis-rdb-tools ziplist_with_integers.rdb: expected.json lists these
        // 24 members in this order.
        let want = [
            "0",
            "1",
            "2",
            "3",
            "4",
            "5",
            "6",
            "7",
            "8",
            "9",
            "10",
            "11",
            "12",
            "-2",
            "13",
            "25",
            "-61",
            "63",
            "16380",
            "-16000",
            "65535",
            "-65523",
            "4194304",
            "9223372036854775807",
        ];
        let zl = Ziplist::parse(INTEGERS).unwrap();
        assert_eq!(zl.count(), Ok(24));
        let got: Vec<String> = zl.iter().map(|e| render(e.unwrap())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn real_zset_ziplist() {
        // redis-2.8.24/zsets.rdb "zset:leaderboard": truth count 100 members.
        let zl = Ziplist::parse(LEADERBOARD).unwrap();
        assert_eq!(zl.count(), Ok(200));
        let first: Vec<String> = zl.iter().take(2).map(|e| render(e.unwrap())).collect();
        assert_eq!(first[0], "player:40");
    }

    #[test]
    fn real_hash_ziplist_with_wide_prevlens() {
        // redis-rdb-tools zipmap_with_big_values.rdb (a ziplist hash despite
        // the name): expected.json field_value_lengths. Values of 254 bytes
        // and more make the next entry's prevlen take 5 bytes.
        let zl = Ziplist::parse(BIG_VALUES).unwrap();
        assert_eq!(zl.count(), Ok(10));
        let all: Vec<Entry<'_>> = zl.iter().map(|e| e.unwrap()).collect();
        let pairs: Vec<(&[u8], usize)> = all
            .chunks(2)
            .map(|p| match (p[0], p[1]) {
                (Entry::Str(f), v) => (f, v.str_len()),
                other => panic!("unexpected field {other:?}"),
            })
            .collect();
        let want: [(&[u8], usize); 5] = [
            (b"253bytes", 253),
            (b"254bytes", 254),
            (b"255bytes", 255),
            (b"300bytes", 300),
            (b"20kbytes", 20000),
        ];
        assert_eq!(pairs, want);
        assert!(BIG_VALUES
            .windows(5)
            .any(|w| w == [0xFE, 0x01, 0x01, 0x00, 0x00]));
    }

    #[test]
    fn every_prefix_fails() {
        for blob in [
            INTEGERS,
            LEADERBOARD,
            BIG_VALUES,
            &wrap(12, 54, EVERY_ENCODING)[..],
        ] {
            for n in 0..blob.len() {
                assert!(validate(&blob[..n]).is_err(), "prefix {n}");
            }
        }
    }

    /// Cuts the entries at every point and re-seals the header (zlbytes and a
    /// zltail inside the blob) so that only the walk can notice.
    #[test]
    fn truncation_inside_entries_reports_the_cut_entry() {
        for blob in [INTEGERS, LEADERBOARD, &wrap(12, 54, EVERY_ENCODING)[..]] {
            let zl = Ziplist::parse(blob).unwrap();
            let mut starts = Vec::new();
            let mut it = zl.iter();
            starts.push(it.offset());
            while it.next().transpose().unwrap().is_some() {
                starts.push(it.offset());
            }
            for n in 10..blob.len() - 1 {
                let mut cut = blob[..n].to_vec();
                cut.push(0xFF);
                cut[0..4].copy_from_slice(&((n + 1) as u32).to_le_bytes());
                // The last entry starting before the cut: whole when the cut
                // falls between entries, so zltail is then right.
                let last = starts.iter().rev().find(|&&s| s < n).copied().unwrap_or(10);
                cut[4..8].copy_from_slice(&(last as u32).to_le_bytes());
                let err = validate(&cut).unwrap_err();
                if starts.contains(&n) {
                    assert_eq!(err, BlobError::corrupt(8, "ziplist entry count"), "cut {n}");
                } else {
                    assert_eq!(err, BlobError::truncated(last, "ziplist entry"), "cut {n}");
                }
            }
        }
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let mut caught = 0;
        for blob in [INTEGERS, LEADERBOARD] {
            let mut buf = blob.to_vec();
            for i in 0..buf.len() {
                buf[i] ^= 0xFF;
                match validate(&buf) {
                    Err(e) => {
                        assert!(e.offset <= buf.len());
                        caught += 1;
                    }
                    Ok(_) => assert!((10..buf.len() - 1).contains(&i), "flip at {i} missed"),
                }
                buf[i] ^= 0xFF;
            }
        }
        // Every byte of the integer list is structural or checked.
        assert!(caught > 300, "{caught}");
    }
}

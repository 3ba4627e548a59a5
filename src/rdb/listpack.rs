//! Listpack (Redis `src/listpack.c`): the compact list encoding of Redis 7+.
//!
//! RDB files carry listpacks as plain strings for small hashes, sets and
//! zsets (types 16, 17, 20, 23, 25), for quicklist-2 nodes (type 18) and for
//! every stream node. Layout: `u32 total_bytes` LE, `u16 num_elements` LE
//! (65535 = unknown), the entries, and a `0xFF` terminator. Each entry is an
//! encoding byte (with the length or integer packed into it), the data, and a
//! `backlen` of 1–5 bytes holding the size of encoding + data so the list can
//! also be walked backwards.
//!
//! The parser walks forwards only and borrows everything. [`Listpack::parse`]
//! checks the header alone so that a framer can size the blob cheaply; the
//! walk ([`Listpack::iter`], [`Listpack::count`]) applies the checks of
//! `lpValidateIntegrity`/`lpValidateNext`: a known encoding, an entry that
//! ends before the terminator, a backlen of exactly the width `lpEncodeBacklen`
//! writes and holding the entry size, the terminator at the last byte, and the
//! header count (when known) equal to the walked count. Lengths read from the
//! blob are compared with the bytes present before anything is sliced, so a
//! string claiming 4 GiB fails at once instead of being trusted.

pub use super::entry::Entry;
use super::error::BlobError;

/// Header: `u32 total_bytes` + `u16 num_elements`.
const HEADER_LEN: usize = 6;
/// listpack.c: LP_HDR_NUMELE_UNKNOWN.
const COUNT_UNKNOWN: u16 = u16::MAX;
/// listpack.c: LP_EOF.
const EOF: u8 = 0xFF;

/// A listpack blob with a checked header.
#[derive(Debug, Clone, Copy)]
pub struct Listpack<'a> {
    blob: &'a [u8],
    header_count: u16,
}

impl<'a> Listpack<'a> {
    /// Checks the header: `total_bytes` equals `blob.len()` and the last byte
    /// is the terminator. Entries are not looked at.
    pub fn parse(blob: &'a [u8]) -> Result<Listpack<'a>, BlobError> {
        let (Some(total), Some(count)) = (blob.get(0..4), blob.get(4..6)) else {
            return Err(BlobError::truncated(0, "listpack header"));
        };
        let total = u32::from_le_bytes([total[0], total[1], total[2], total[3]]);
        if usize::try_from(total).ok() != Some(blob.len()) {
            return Err(BlobError::corrupt(0, "listpack total_bytes"));
        }
        // listpack.c lpValidateIntegrity: room for the header and LP_EOF.
        if blob.len() < HEADER_LEN + 1 {
            return Err(BlobError::truncated(blob.len(), "listpack header"));
        }
        if blob.last() != Some(&EOF) {
            return Err(BlobError::corrupt(blob.len() - 1, "listpack terminator"));
        }
        Ok(Listpack {
            blob,
            header_count: u16::from_le_bytes([count[0], count[1]]),
        })
    }

    /// The element count from the header, or `None` when it is 65535
    /// (too many to count there; walk with [`Listpack::count`]).
    pub fn header_count(&self) -> Option<u16> {
        (self.header_count != COUNT_UNKNOWN).then_some(self.header_count)
    }

    /// Size of the blob in bytes (the header's `total_bytes`).
    pub fn total_bytes(&self) -> usize {
        self.blob.len()
    }

    /// The whole blob.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.blob
    }

    /// Walks the entries in order, validating each one; stops after the first
    /// error.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            blob: self.blob,
            pos: HEADER_LEN,
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
                return Err(BlobError::corrupt(4, "listpack element count"));
            }
        }
        Ok(n)
    }
}

/// Parses the header of `blob` and validates every entry; returns the number
/// of elements.
pub fn validate(blob: &[u8]) -> Result<usize, BlobError> {
    Listpack::parse(blob)?.count()
}

/// Iterator over the entries of a [`Listpack`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    blob: &'a [u8],
    pos: usize,
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
        match read_entry(self.blob, self.pos) {
            Ok(Some((entry, next))) => {
                self.pos = next;
                Some(Ok(entry))
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

/// Bytes `lpEncodeBacklen` uses for an entry of `size` bytes. The bounds are
/// strict below the 7-bit powers, as in listpack.c, so sizes 16383, 2097151
/// and 268435455 take one byte more than they would need.
fn backlen_width(size: usize) -> usize {
    if size <= 127 {
        1
    } else if size < 16383 {
        2
    } else if size < 2097151 {
        3
    } else if size < 268435455 {
        4
    } else {
        5
    }
}

fn le_int(bytes: &[u8]) -> i64 {
    // Sign-extend a little-endian two's complement integer of 1–8 bytes.
    let mut v: u64 = 0;
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(*b) << (8 * i);
    }
    let unused = 64 - 8 * bytes.len() as u32;
    ((v << unused) as i64) >> unused
}

/// Reads the entry at `pos`. `Ok(None)` at the terminator, which must then be
/// the last byte. Errors are reported at the entry's first byte, except a bad
/// backlen, reported where the backlen starts.
fn read_entry(blob: &[u8], pos: usize) -> Result<Option<(Entry<'_>, usize)>, BlobError> {
    // Entries may not reach the terminator: listpack.c OUT_OF_RANGE.
    let body = blob.get(..blob.len().saturating_sub(1)).unwrap_or(&[]);
    let Some(&b0) = blob.get(pos) else {
        return Err(BlobError::truncated(pos, "listpack entry"));
    };
    if b0 == EOF {
        if pos + 1 == blob.len() {
            return Ok(None);
        }
        return Err(BlobError::corrupt(
            pos,
            "listpack terminator before end of blob",
        ));
    }
    let short = || BlobError::truncated(pos, "listpack entry");
    let byte = |i: usize| body.get(pos + i).copied().ok_or_else(short);
    // (header bytes, data bytes, integer value for integer encodings)
    let (head, data, int): (usize, usize, Option<i64>) = if b0 & 0x80 == 0 {
        // LP_ENCODING_7BIT_UINT
        (1, 0, Some(i64::from(b0)))
    } else if b0 & 0xC0 == 0x80 {
        // LP_ENCODING_6BIT_STR
        (1, usize::from(b0 & 0x3F), None)
    } else if b0 & 0xE0 == 0xC0 {
        // LP_ENCODING_13BIT_INT: two's complement over 13 bits.
        let u = (i64::from(b0 & 0x1F) << 8) | i64::from(byte(1)?);
        (2, 0, Some(if u >= 1 << 12 { u - (1 << 13) } else { u }))
    } else if b0 & 0xF0 == 0xE0 {
        // LP_ENCODING_12BIT_STR: length high nibble first.
        (
            2,
            (usize::from(b0 & 0x0F) << 8) | usize::from(byte(1)?),
            None,
        )
    } else {
        match b0 {
            // LP_ENCODING_32BIT_STR: u32 LE length.
            0xF0 => {
                let l = body.get(pos + 1..pos + 5).ok_or_else(short)?;
                let l = u32::from_le_bytes([l[0], l[1], l[2], l[3]]);
                (5, usize::try_from(l).map_err(|_| short())?, None)
            }
            // LP_ENCODING_16/24/32/64BIT_INT, little-endian.
            0xF1..=0xF4 => {
                let n = [2, 3, 4, 8][usize::from(b0 - 0xF1)];
                let v = body.get(pos + 1..pos + 1 + n).ok_or_else(short)?;
                (1 + n, 0, Some(le_int(v)))
            }
            _ => return Err(BlobError::corrupt(pos, "listpack entry encoding")),
        }
    };
    let size = head.checked_add(data).ok_or_else(short)?;
    let width = backlen_width(size);
    let end = pos
        .checked_add(size)
        .and_then(|e| e.checked_add(width))
        .ok_or_else(short)?;
    let Some(entry) = body.get(pos..end) else {
        return Err(short());
    };
    // The backlen as written forwards: first byte with bit 7 clear holding the
    // high bits, then bytes with bit 7 set (listpack.c lpEncodeBacklen).
    let back = &entry[size..];
    let mut value = 0u64;
    for (i, &b) in back.iter().enumerate() {
        if (b & 0x80 != 0) != (i > 0) {
            return Err(BlobError::corrupt(pos + size, "listpack backlen"));
        }
        value = (value << 7) | u64::from(b & 0x7F);
    }
    if value != size as u64 {
        return Err(BlobError::corrupt(pos + size, "listpack backlen"));
    }
    let e = match int {
        Some(v) => Entry::Int(v),
        None => Entry::Str(&entry[head..size]),
    };
    Ok(Some((e, end)))
}

#[cfg(test)]
mod tests {
    use super::{backlen_width, validate, Entry, Listpack};
    use crate::rdb::BlobError;

    /// Wraps entry bytes in a header and terminator.
    fn wrap(count: u16, entries: &[u8]) -> Vec<u8> {
        let total = (entries.len() + 7) as u32;
        let mut v = total.to_le_bytes().to_vec();
        v.extend_from_slice(&count.to_le_bytes());
        v.extend_from_slice(entries);
        v.push(0xFF);
        v
    }

    fn entries(blob: &[u8]) -> Result<Vec<Entry<'_>>, BlobError> {
        Listpack::parse(blob)?.iter().collect()
    }

    /// One entry of every encoding, written out by hand with its backlen.
    const EVERY_ENCODING: &[u8] = &[
        0x05, 0x01, // 7-bit uint 5
        0x7F, 0x01, // 7-bit uint 127
        0x83, b'a', b'b', b'c', 0x04, // 6-bit str "abc"
        0x80, 0x01, // 6-bit str ""
        0xC1, 0x00, 0x02, // 13-bit int 256
        0xDF, 0xFF, 0x02, // 13-bit int -1
        0xD0, 0x00, 0x02, // 13-bit int -4096
        0xE0, 0x02, b'h', b'i', 0x04, // 12-bit str "hi"
        0xF0, 0x01, 0x00, 0x00, 0x00, b'z', 0x06, // 32-bit str "z"
        0xF1, 0x00, 0x80, 0x03, // int16 -32768
        0xF2, 0x56, 0x34, 0x12, 0x04, // int24 0x123456
        0xF2, 0xFF, 0xFF, 0xFF, 0x04, // int24 -1
        0xF3, 0x00, 0x00, 0x00, 0x80, 0x05, // int32 i32::MIN
        0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x09, // int64 i64::MAX
    ];

    #[test]
    fn every_encoding_decodes() {
        let blob = wrap(14, EVERY_ENCODING);
        let got = entries(&blob).unwrap();
        let want = [
            Entry::Int(5),
            Entry::Int(127),
            Entry::Str(b"abc"),
            Entry::Str(b""),
            Entry::Int(256),
            Entry::Int(-1),
            Entry::Int(-4096),
            Entry::Str(b"hi"),
            Entry::Str(b"z"),
            Entry::Int(-32768),
            Entry::Int(0x123456),
            Entry::Int(-1),
            Entry::Int(i64::from(i32::MIN)),
            Entry::Int(i64::MAX),
        ];
        assert_eq!(got, want);
        assert_eq!(validate(&blob), Ok(14));
        let lp = Listpack::parse(&blob).unwrap();
        assert_eq!(lp.header_count(), Some(14));
        assert_eq!(lp.total_bytes(), blob.len());
        // Count unknown in the header: walked instead.
        let blob = wrap(0xFFFF, EVERY_ENCODING);
        assert_eq!(Listpack::parse(&blob).unwrap().header_count(), None);
        assert_eq!(validate(&blob), Ok(14));
    }

    #[test]
    fn empty_listpack() {
        let blob = [0x07, 0, 0, 0, 0, 0, 0xFF];
        assert_eq!(validate(&blob), Ok(0));
        assert_eq!(Listpack::parse(&blob).unwrap().iter().next(), None);
    }

    #[test]
    fn header_errors() {
        let err = |b: &[u8]| Listpack::parse(b).unwrap_err();
        assert_eq!(err(&[7, 0, 0]), BlobError::truncated(0, "listpack header"));
        assert_eq!(
            err(&[8, 0, 0, 0, 0, 0, 0xFF]),
            BlobError::corrupt(0, "listpack total_bytes")
        );
        assert_eq!(
            err(&[6, 0, 0, 0, 0, 0]),
            BlobError::truncated(6, "listpack header")
        );
        assert_eq!(
            err(&[7, 0, 0, 0, 0, 0, 0xFE]),
            BlobError::corrupt(6, "listpack terminator")
        );
    }

    #[test]
    fn entry_errors_report_offsets() {
        // Unknown encoding 0xF5 at offset 6.
        assert_eq!(
            validate(&wrap(1, &[0xF5, 0x01])),
            Err(BlobError::corrupt(6, "listpack entry encoding"))
        );
        // Count mismatch against the header.
        assert_eq!(
            validate(&wrap(2, &[0x05, 0x01])),
            Err(BlobError::corrupt(4, "listpack element count"))
        );
        // Terminator in the middle.
        assert_eq!(
            validate(&wrap(1, &[0x05, 0x01, 0xFF, 0x05, 0x01])),
            Err(BlobError::corrupt(
                8,
                "listpack terminator before end of blob"
            ))
        );
        // Wrong backlen value.
        assert_eq!(
            validate(&wrap(1, &[0x05, 0x02])),
            Err(BlobError::corrupt(7, "listpack backlen"))
        );
        // String running into the terminator.
        assert_eq!(
            validate(&wrap(1, &[0x83, b'a', b'b'])),
            Err(BlobError::truncated(6, "listpack entry"))
        );
    }

    /// Encodes one string entry the way lpEncodeString + lpEncodeBacklen do.
    fn str_entry(s: &[u8]) -> Vec<u8> {
        let mut e = if s.len() < 64 {
            vec![0x80 | s.len() as u8]
        } else if s.len() < 4096 {
            vec![0xE0 | (s.len() >> 8) as u8, s.len() as u8]
        } else {
            let mut h = vec![0xF0];
            h.extend_from_slice(&(s.len() as u32).to_le_bytes());
            h
        };
        e.extend_from_slice(s);
        let size = e.len() as u64;
        let w = backlen_width(e.len());
        for i in (0..w).rev() {
            let chunk = ((size >> (7 * i)) & 0x7F) as u8;
            e.push(if i == w - 1 { chunk } else { chunk | 0x80 });
        }
        e
    }

    #[test]
    fn backlen_widths_follow_lp_encode_backlen() {
        assert_eq!(backlen_width(127), 1);
        assert_eq!(backlen_width(128), 2);
        assert_eq!(backlen_width(16382), 2);
        assert_eq!(backlen_width(16383), 3);
        assert_eq!(backlen_width(2097150), 3);
        assert_eq!(backlen_width(2097151), 4);
        assert_eq!(backlen_width(268435454), 4);
        assert_eq!(backlen_width(268435455), 5);
        // 12-bit string of 200 bytes: size 202, backlen 0x01 0xCA.
        let e = str_entry(&[b'x'; 200]);
        assert_eq!(&e[e.len() - 2..], &[0x01, 0xCA]);
        // Size 16383 (32-bit str of 16378): three backlen bytes 00 FF FF.
        let e = str_entry(&vec![b'y'; 16378]);
        assert_eq!(&e[e.len() - 3..], &[0x00, 0xFF, 0xFF]);
        let blob = wrap(1, &e);
        assert_eq!(entries(&blob).unwrap(), vec![Entry::Str(&[b'y'; 16378])]);
        // The same entry with the two-byte form listpack.c never writes.
        let mut two = e[..e.len() - 3].to_vec();
        two.extend_from_slice(&[0x7F, 0xFF]);
        let blob = wrap(1, &two);
        assert!(validate(&blob).is_err());
        // Size 16384 (32-bit str of 16379): 01 80 80.
        let e = str_entry(&vec![b'y'; 16379]);
        assert_eq!(&e[e.len() - 3..], &[0x01, 0x80, 0x80]);
        assert_eq!(validate(&wrap(1, &e)), Ok(1));
    }

    #[test]
    fn hostile_string_length_fails_without_allocating() {
        // A 32-bit string claiming u32::MAX bytes in a 16-byte listpack.
        let blob = wrap(1, &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF, b'a', 0x06]);
        assert_eq!(
            validate(&blob),
            Err(BlobError::truncated(6, "listpack entry"))
        );
        let blob = wrap(1, &[0xEF, 0xFF, b'a', 0x03]);
        assert_eq!(
            validate(&blob),
            Err(BlobError::truncated(6, "listpack entry"))
        );
    }

    const HASH_INTS: &[u8] = include_bytes!("../../testdata/blobs/lp-hash-ints.bin");
    const LEADERBOARD: &[u8] = include_bytes!("../../testdata/blobs/lp-zset-leaderboard.bin");
    const QUICKLIST: &[u8] = include_bytes!("../../testdata/blobs/lp-quicklist-node.bin");

    fn render(e: &Entry<'_>) -> String {
        let mut v = Vec::new();
        e.write_to(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn real_hash_listpack() {
        // debian-7.0.15/hashes.rdb "hash:ints": truth count 6 fields.
        assert_eq!(validate(HASH_INTS), Ok(12));
        let all: Vec<String> = Listpack::parse(HASH_INTS)
            .unwrap()
            .iter()
            .map(|e| render(&e.unwrap()))
            .collect();
        assert_eq!(all.len(), 12);
        assert_eq!(&all[0..4], &["f0", "0", "f1", "-1"]);
    }

    #[test]
    fn real_zset_listpack() {
        // debian-7.0.15/zsets.rdb "zset:leaderboard": truth count 100 members.
        let lp = Listpack::parse(LEADERBOARD).unwrap();
        assert_eq!(lp.header_count(), Some(200));
        assert_eq!(lp.count(), Ok(200));
        let first: Vec<String> = lp.iter().take(2).map(|e| render(&e.unwrap())).collect();
        assert_eq!(first, ["player:40", "2350"]);
    }

    #[test]
    fn real_quicklist_node_with_12bit_strings() {
        // debian-7.0.15/lists.rdb "list:big:longvals", first node.
        let lp = Listpack::parse(QUICKLIST).unwrap();
        let n = lp.count().unwrap();
        assert_eq!(Some(n as u16), lp.header_count());
        let first = lp.iter().next().unwrap().unwrap();
        let Entry::Str(s) = first else {
            panic!("first element is not a string")
        };
        assert!(s.starts_with(b"v0-zzz"), "{:?}", &s[..8]);
        assert_eq!(s.len(), 0x25B);
    }

    #[test]
    fn every_prefix_fails() {
        for blob in [HASH_INTS, LEADERBOARD, &wrap(14, EVERY_ENCODING)[..]] {
            for n in 0..blob.len() {
                assert!(validate(&blob[..n]).is_err(), "prefix {n}");
            }
        }
    }

    /// Cuts the entries at every point and re-seals the header so that only
    /// the walk can notice: the error must name the entry that was cut, or
    /// the header count when the cut falls between entries.
    #[test]
    fn truncation_inside_entries_reports_the_cut_entry() {
        for blob in [HASH_INTS, LEADERBOARD, &wrap(14, EVERY_ENCODING)[..]] {
            let lp = Listpack::parse(blob).unwrap();
            let mut starts = Vec::new();
            let mut it = lp.iter();
            starts.push(it.offset());
            while it.next().transpose().unwrap().is_some() {
                starts.push(it.offset());
            }
            for n in 6..blob.len() - 1 {
                let mut cut = blob[..n].to_vec();
                cut.push(0xFF);
                cut[0..4].copy_from_slice(&((n + 1) as u32).to_le_bytes());
                let err = validate(&cut).unwrap_err();
                if starts.contains(&n) {
                    assert_eq!(
                        err,
                        BlobError::corrupt(4, "listpack element count"),
                        "cut {n}"
                    );
                } else {
                    let entry = *starts.iter().rev().find(|&&s| s < n).unwrap();
                    assert_eq!(
                        err,
                        BlobError::truncated(entry, "listpack entry"),
                        "cut {n}"
                    );
                }
            }
        }
    }

    #[test]
    fn flipped_bytes_never_panic() {
        let mut caught = 0;
        for blob in [HASH_INTS, LEADERBOARD, QUICKLIST] {
            let mut buf = blob.to_vec();
            for i in 0..buf.len() {
                buf[i] ^= 0xFF;
                match validate(&buf) {
                    Err(e) => {
                        assert!(e.offset <= buf.len());
                        caught += 1;
                    }
                    // Size, count and terminator bytes are always checked.
                    Ok(_) => assert!((6..buf.len() - 1).contains(&i), "flip at {i} missed"),
                }
                for e in Listpack::parse(&buf)
                    .into_iter()
                    .flat_map(|lp| lp.iter())
                    .flatten()
                {
                    assert!(e.str_len() <= buf.len().max(20));
                }
                buf[i] ^= 0xFF;
            }
        }
        // Flips inside string data are undetectable by design; the rest are.
        assert!(caught > 400, "{caught}");
    }
}

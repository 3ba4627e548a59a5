//! Intset (Redis `src/intset.c`): a sorted array of integers of one width.
//!
//! RDB type 11 (`SET_INTSET`) stores a set whose members are all integers as
//! this blob: `u32 encoding` LE (2, 4 or 8 bytes per element), `u32 length`
//! LE, then `length` signed little-endian integers in ascending order without
//! duplicates. The layout is fixed-width, so the whole check of
//! `intsetValidateIntegrity` is one size comparison done up front, and the
//! elements can then be read by index with no further failure paths.
//! Ordering is checked separately ([`Intset::is_sorted_unique`], the "deep"
//! check) because it costs a pass over the data that a size report does not
//! need. An empty intset is structurally valid here; Redis's loader rejects
//! it as an empty key, which is the caller's rule to apply.

use super::error::BlobError;

/// Header: `u32 encoding` + `u32 length`.
const HEADER_LEN: usize = 8;

/// An intset blob with a checked header and size.
#[derive(Debug, Clone, Copy)]
pub struct Intset<'a> {
    data: &'a [u8],
    len: u32,
    encoding: u8,
}

impl<'a> Intset<'a> {
    /// Checks that the encoding is 2, 4 or 8 and that the blob holds exactly
    /// `8 + length * encoding` bytes.
    pub fn parse(blob: &'a [u8]) -> Result<Intset<'a>, BlobError> {
        let (Some(enc), Some(len)) = (blob.get(0..4), blob.get(4..8)) else {
            return Err(BlobError::truncated(0, "intset header"));
        };
        let enc = u32::from_le_bytes([enc[0], enc[1], enc[2], enc[3]]);
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]);
        // intset.h: INTSET_ENC_INT16/32/64 are the element sizes.
        let encoding = match enc {
            2 | 4 | 8 => enc as u8,
            _ => return Err(BlobError::corrupt(0, "intset encoding")),
        };
        let data = &blob[HEADER_LEN..];
        let need = u64::from(len) * u64::from(encoding);
        let have = data.len() as u64;
        if need > have {
            // Point at the first element that does not fit.
            let whole = data.len() / usize::from(encoding) * usize::from(encoding);
            return Err(BlobError::truncated(HEADER_LEN + whole, "intset element"));
        }
        if need < have {
            return Err(BlobError::corrupt(4, "intset length"));
        }
        Ok(Intset {
            data,
            len,
            encoding,
        })
    }

    /// Number of elements.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// True when the set holds no element.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes per element: 2, 4 or 8.
    pub fn encoding(&self) -> u8 {
        self.encoding
    }

    /// The element at `index`, if in range.
    pub fn get(&self, index: u32) -> Option<i64> {
        let w = usize::from(self.encoding);
        let at = usize::try_from(index).ok()?.checked_mul(w)?;
        self.data.get(at..at + w).map(decode)
    }

    /// The elements in stored order.
    pub fn iter(&self) -> Iter<'a> {
        Iter {
            chunks: self.data.chunks_exact(usize::from(self.encoding)),
        }
    }

    /// True when the elements are strictly ascending, as intset.c keeps them
    /// (`intsetValidateIntegrity` with `deep`).
    pub fn is_sorted_unique(&self) -> bool {
        let mut it = self.iter();
        let Some(mut prev) = it.next() else {
            return true;
        };
        for cur in it {
            if cur <= prev {
                return false;
            }
            prev = cur;
        }
        true
    }
}

/// Sign-extends one little-endian element of 2, 4 or 8 bytes.
fn decode(b: &[u8]) -> i64 {
    match *b {
        [a, b] => i64::from(i16::from_le_bytes([a, b])),
        [a, b, c, d] => i64::from(i32::from_le_bytes([a, b, c, d])),
        [a, b, c, d, e, f, g, h] => i64::from_le_bytes([a, b, c, d, e, f, g, h]),
        // Only the three widths accepted by `Intset::parse` reach here.
        _ => 0,
    }
}

/// Iterator over the elements of an [`Intset`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    chunks: std::slice::ChunksExact<'a, u8>,
}

impl Iterator for Iter<'_> {
    type Item = i64;

    fn next(&mut self) -> Option<i64> {
        self.chunks.next().map(decode)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::Intset;
    use crate::rdb::BlobError;

    #[test]
    fn all_three_widths() {
        let blob = [2, 0, 0, 0, 3, 0, 0, 0, 0x00, 0x80, 0xFF, 0xFF, 0xFF, 0x7F];
        let is = Intset::parse(&blob).unwrap();
        assert_eq!((is.len(), is.encoding(), is.is_empty()), (3, 2, false));
        assert_eq!(is.iter().collect::<Vec<_>>(), [-32768, -1, 32767]);
        assert!(is.is_sorted_unique());

        let blob = [
            4, 0, 0, 0, 2, 0, 0, 0, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x01, 0x00,
        ];
        let is = Intset::parse(&blob).unwrap();
        assert_eq!(is.iter().collect::<Vec<_>>(), [i64::from(i32::MIN), 65537]);
        assert_eq!(is.get(1), Some(65537));
        assert_eq!(is.get(2), None);

        let mut blob = vec![8, 0, 0, 0, 2, 0, 0, 0];
        blob.extend_from_slice(&i64::MIN.to_le_bytes());
        blob.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]);
        let is = Intset::parse(&blob).unwrap();
        assert_eq!(is.iter().collect::<Vec<_>>(), [i64::MIN, i64::MAX]);
        assert_eq!(is.iter().len(), 2);
    }

    #[test]
    fn empty_and_unsorted() {
        let is = Intset::parse(&[2, 0, 0, 0, 0, 0, 0, 0]).unwrap();
        assert!(is.is_empty());
        assert_eq!(is.iter().next(), None);
        assert!(is.is_sorted_unique());
        let dup = [2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0];
        assert!(!Intset::parse(&dup).unwrap().is_sorted_unique());
        let desc = [2, 0, 0, 0, 2, 0, 0, 0, 6, 0, 5, 0];
        assert!(!Intset::parse(&desc).unwrap().is_sorted_unique());
    }

    #[test]
    fn header_errors() {
        let err = |b: &[u8]| Intset::parse(b).unwrap_err();
        assert_eq!(
            err(&[2, 0, 0, 0, 1, 0, 0]),
            BlobError::truncated(0, "intset header")
        );
        assert_eq!(
            err(&[3, 0, 0, 0, 0, 0, 0, 0]),
            BlobError::corrupt(0, "intset encoding")
        );
        assert_eq!(
            err(&[0, 0, 0, 0, 0, 0, 0, 0]),
            BlobError::corrupt(0, "intset encoding")
        );
        // Two 4-byte elements claimed, one and a half present.
        let short = [4, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0];
        assert_eq!(err(&short), BlobError::truncated(12, "intset element"));
        // Trailing bytes after the last element.
        let long = [2, 0, 0, 0, 1, 0, 0, 0, 1, 0, 9];
        assert_eq!(err(&long), BlobError::corrupt(4, "intset length"));
    }

    #[test]
    fn hostile_length_is_refused() {
        // u32::MAX elements of 8 bytes: the product overflows u32 but not u64.
        let blob = [8, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(
            Intset::parse(&blob).unwrap_err(),
            BlobError::truncated(16, "intset element")
        );
    }

    const SET_400: &[u8] = include_bytes!("../../testdata/blobs/is-400.bin");
    const SET_64: &[u8] = include_bytes!("../../testdata/blobs/is-64.bin");

    #[test]
    fn real_intsets() {
        // debian-7.0.15/sets.rdb "set:intset:400": truth count 400.
        let is = Intset::parse(SET_400).unwrap();
        assert_eq!((is.len(), is.encoding()), (400, 2));
        assert!(is.is_sorted_unique());
        let v: Vec<i64> = is.iter().collect();
        assert_eq!(&v[..3], &[0, 10, 20]);
        assert_eq!(v[399], 3990);
        // redis-rdb-tools intset_64.rdb: expected.json lists these 3 members.
        let is = Intset::parse(SET_64).unwrap();
        assert_eq!(is.encoding(), 8);
        assert_eq!(
            is.iter().collect::<Vec<_>>(),
            [
                9223090557583032316,
                9223090557583032317,
                9223090557583032318
            ]
        );
    }

    #[test]
    fn every_prefix_fails_and_flips_never_panic() {
        for blob in [SET_400, SET_64] {
            for n in 0..blob.len() {
                assert!(Intset::parse(&blob[..n]).is_err(), "prefix {n}");
            }
            let mut buf = blob.to_vec();
            for i in 0..buf.len() {
                buf[i] ^= 0xFF;
                match Intset::parse(&buf) {
                    // Header flips are always caught.
                    Err(e) => assert!(i < 8 && e.offset <= buf.len()),
                    Ok(is) => {
                        assert!(i >= 8);
                        assert_eq!(is.iter().count(), is.len() as usize);
                        // The flip shows up in exactly the element it hit.
                        let k = ((i - 8) / usize::from(is.encoding())) as u32;
                        let orig = Intset::parse(blob).unwrap();
                        assert_ne!(is.get(k), orig.get(k));
                        assert_eq!(is.get(k ^ 1), orig.get(k ^ 1));
                    }
                }
                buf[i] ^= 0xFF;
            }
        }
    }
}

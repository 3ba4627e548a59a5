//! nom parsers for the RDB primitives every record is built from: lengths,
//! strings (plain, integer-encoded, LZF), doubles and fixed-width integers.
//!
//! They run on the complete input (the whole map), so running out of bytes is
//! a truncation, never `Incomplete`. Errors are a small internal [`PError`]
//! holding the remaining input; the framer converts it to an absolute offset
//! with `base.len() - at.len()` so public errors never borrow the map.

use nom::bytes::complete::take;
use nom::error::{ErrorKind, ParseError};
use nom::number::complete::{be_u32, be_u64, le_f64, le_i16, le_i32, le_i64, le_u64, u8 as byte};
use nom::IResult;

/// Internal parse error: where (the remaining input) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PError<'a> {
    /// The input remaining where the error occurred.
    pub at: &'a [u8],
    /// What was being read.
    pub what: &'static str,
    /// True when the input ended early.
    pub truncated: bool,
}

impl<'a> PError<'a> {
    /// A corrupt value at `at`.
    pub fn corrupt(at: &'a [u8], what: &'static str) -> nom::Err<PError<'a>> {
        nom::Err::Error(PError {
            at,
            what,
            truncated: false,
        })
    }
}

impl<'a> ParseError<&'a [u8]> for PError<'a> {
    fn from_error_kind(input: &'a [u8], kind: ErrorKind) -> Self {
        PError {
            at: input,
            what: "input",
            truncated: kind == ErrorKind::Eof,
        }
    }

    fn append(_: &'a [u8], _: ErrorKind, other: Self) -> Self {
        other
    }
}

/// Result of a primitive parser.
pub type PResult<'a, T> = IResult<&'a [u8], T, PError<'a>>;

/// Names the thing being read on error, keeping the innermost position.
pub fn what<'a, T>(r: PResult<'a, T>, name: &'static str) -> PResult<'a, T> {
    r.map_err(|e| {
        e.map(|mut p| {
            if p.what == "input" {
                p.what = name;
            }
            p
        })
    })
}

/// An RDB length field, or the special-encoding marker that may stand where a
/// string is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Length {
    /// A plain length.
    Len(u64),
    /// `11xxxxxx`: a special string encoding (0 int8, 1 int16, 2 int32, 3 LZF).
    Special(u8),
}

/// Parses a length (`rdbLoadLenByRef`): 6-bit, 14-bit BE, 32-bit BE or 64-bit
/// BE, or the special-encoding marker.
#[inline]
pub fn parse_length(i: &[u8]) -> PResult<'_, Length> {
    let (rest, b) = byte(i)?;
    match b >> 6 {
        0 => Ok((rest, Length::Len(u64::from(b & 0x3F)))),
        1 => {
            let (rest, b1) = byte(rest)?;
            Ok((
                rest,
                Length::Len((u64::from(b & 0x3F) << 8) | u64::from(b1)),
            ))
        }
        3 => Ok((rest, Length::Special(b & 0x3F))),
        _ => match b {
            0x80 => be_u32(rest).map(|(r, v)| (r, Length::Len(u64::from(v)))),
            0x81 => be_u64(rest).map(|(r, v)| (r, Length::Len(v))),
            _ => Err(PError::corrupt(i, "length prefix")),
        },
    }
}

/// Parses a length where only a plain length is legal.
#[inline]
pub fn parse_len(i: &[u8]) -> PResult<'_, u64> {
    match parse_length(i)? {
        (rest, Length::Len(n)) => Ok((rest, n)),
        (_, Length::Special(_)) => Err(PError::corrupt(i, "length (got a string encoding)")),
    }
}

/// An RDB string as stored: not decoded, so skipping stays cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RdbString<'a> {
    /// Raw bytes.
    Raw(&'a [u8]),
    /// An integer stored in 1, 2 or 4 bytes; the string is its decimal form.
    Int(i64),
    /// LZF-compressed bytes that decompress to exactly `len` bytes.
    Lzf {
        /// The compressed payload.
        data: &'a [u8],
        /// The decompressed length.
        len: u64,
    },
}

impl<'a> RdbString<'a> {
    /// Length of the string once decoded (STRLEN).
    pub fn len(&self) -> u64 {
        match self {
            RdbString::Raw(b) => b.len() as u64,
            RdbString::Int(v) => int_len(*v) as u64,
            RdbString::Lzf { len, .. } => *len,
        }
    }

    /// True when the decoded string is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw bytes, when the string is stored plain.
    pub fn as_raw(&self) -> Option<&'a [u8]> {
        match self {
            RdbString::Raw(b) => Some(b),
            _ => None,
        }
    }

    /// Decodes into `out` (cleared first) and returns it as a slice. LZF
    /// output is bounded by [`crate::rdb::lzf::max_expansion`].
    pub fn decode_into<'o>(&self, out: &'o mut Vec<u8>) -> Result<&'o [u8], crate::rdb::BlobError> {
        out.clear();
        match self {
            RdbString::Raw(b) => out.extend_from_slice(b),
            RdbString::Int(v) => {
                use std::io::Write;
                let _ = write!(out, "{v}");
            }
            RdbString::Lzf { data, len } => {
                let len = usize::try_from(*len)
                    .map_err(|_| crate::rdb::BlobError::corrupt(0, "LZF length"))?;
                crate::rdb::lzf::decompress(data, len, out)?;
            }
        }
        Ok(out.as_slice())
    }

    /// Decodes to a borrowed slice when possible, copying only for ints and
    /// LZF.
    pub fn to_cow(&self) -> Result<std::borrow::Cow<'a, [u8]>, crate::rdb::BlobError> {
        match self {
            RdbString::Raw(b) => Ok(std::borrow::Cow::Borrowed(b)),
            _ => {
                let mut v = Vec::new();
                self.decode_into(&mut v)?;
                Ok(std::borrow::Cow::Owned(v))
            }
        }
    }
}

/// Number of bytes of the decimal form of `v`.
pub fn int_len(v: i64) -> usize {
    let mut n = if v < 0 { 2 } else { 1 };
    let mut u = v.unsigned_abs();
    while u >= 10 {
        u /= 10;
        n += 1;
    }
    n
}

/// Takes `n` bytes, where `n` came from the input: fails without allocating
/// when fewer remain.
#[inline]
pub fn take_len(i: &[u8], n: u64) -> PResult<'_, &[u8]> {
    match usize::try_from(n) {
        Ok(n) if n <= i.len() => take(n)(i),
        _ => Err(nom::Err::Error(PError {
            at: i,
            what: "input",
            truncated: true,
        })),
    }
}

/// Parses an RDB string (`rdbGenericLoadStringObject`) without decoding it.
#[inline]
pub fn parse_string(i: &[u8]) -> PResult<'_, RdbString<'_>> {
    let (rest, l) = parse_length(i)?;
    match l {
        Length::Len(n) => take_len(rest, n).map(|(r, b)| (r, RdbString::Raw(b))),
        Length::Special(0) => {
            nom::number::complete::i8(rest).map(|(r, v)| (r, RdbString::Int(i64::from(v))))
        }
        Length::Special(1) => le_i16(rest).map(|(r, v)| (r, RdbString::Int(i64::from(v)))),
        Length::Special(2) => le_i32(rest).map(|(r, v)| (r, RdbString::Int(i64::from(v)))),
        Length::Special(3) => {
            let (rest, clen) = parse_len(rest)?;
            let (rest, ulen) = parse_len(rest)?;
            let (rest, data) = take_len(rest, clen)?;
            Ok((rest, RdbString::Lzf { data, len: ulen }))
        }
        Length::Special(_) => Err(PError::corrupt(i, "string encoding")),
    }
}

/// Skips an RDB string, reading only its header.
#[inline]
pub fn skip_string(i: &[u8]) -> PResult<'_, ()> {
    parse_string(i).map(|(r, _)| (r, ()))
}

/// A zset score in the pre-4.0 string form: a length byte, or 253/254/255 for
/// NaN/+inf/-inf.
pub fn parse_string_double(i: &[u8]) -> PResult<'_, f64> {
    let (rest, n) = byte(i)?;
    match n {
        253 => Ok((rest, f64::NAN)),
        254 => Ok((rest, f64::INFINITY)),
        255 => Ok((rest, f64::NEG_INFINITY)),
        _ => {
            let (rest, text) = take(n)(rest)?;
            let v = std::str::from_utf8(text)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .ok_or_else(|| PError::corrupt(i, "string-encoded score"))?;
            Ok((rest, v))
        }
    }
}

/// A little-endian IEEE-754 double (ZSET_2 scores, module DOUBLE).
pub fn parse_binary_double(i: &[u8]) -> PResult<'_, f64> {
    le_f64(i)
}

/// A little-endian signed 64-bit integer (millisecond times).
pub fn parse_ms(i: &[u8]) -> PResult<'_, i64> {
    le_i64(i)
}

/// A little-endian unsigned 64-bit integer (the CRC trailer).
pub fn parse_u64_le(i: &[u8]) -> PResult<'_, u64> {
    le_u64(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_in_every_width() {
        assert_eq!(parse_length(&[0x05]).unwrap().1, Length::Len(5));
        assert_eq!(parse_length(&[0x41, 0x02]).unwrap().1, Length::Len(0x102));
        assert_eq!(
            parse_length(&[0x80, 0, 1, 0, 0]).unwrap().1,
            Length::Len(65536)
        );
        let mut b = vec![0x81];
        b.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(parse_length(&b).unwrap().1, Length::Len(u64::MAX));
        assert_eq!(parse_length(&[0xC3]).unwrap().1, Length::Special(3));
        assert!(parse_length(&[0x82, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn strings_in_every_encoding() {
        assert_eq!(parse_string(b"\x03foo").unwrap().1, RdbString::Raw(b"foo"));
        assert_eq!(parse_string(&[0xC0, 0xFF]).unwrap().1, RdbString::Int(-1));
        assert_eq!(
            parse_string(&[0xC1, 0x00, 0x80]).unwrap().1,
            RdbString::Int(-32768)
        );
        assert_eq!(
            parse_string(&[0xC2, 0x00, 0x00, 0x00, 0x80]).unwrap().1,
            RdbString::Int(i64::from(i32::MIN))
        );
        let (_, s) = parse_string(&[0xC3, 0x02, 0x0A, 0xAB, 0xCD]).unwrap();
        assert_eq!(
            s,
            RdbString::Lzf {
                data: &[0xAB, 0xCD],
                len: 10
            }
        );
        assert_eq!(RdbString::Int(-32768).len(), 6);
    }

    #[test]
    fn every_prefix_of_a_string_is_truncated() {
        for whole in [
            &b"\x03foo"[..],
            &[0xC2, 1, 2, 3, 4],
            &[0xC3, 0x02, 0x0A, 0xAB, 0xCD],
        ] {
            for n in 0..whole.len() {
                match parse_string(&whole[..n]) {
                    Err(nom::Err::Error(e)) => assert!(e.truncated, "prefix {n} of {whole:?}"),
                    other => panic!("prefix {n} of {whole:?}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_huge_length_allocates_nothing_and_fails() {
        let mut b = vec![0x81];
        b.extend_from_slice(&(1u64 << 60).to_be_bytes());
        b.extend_from_slice(b"abc");
        assert!(matches!(
            parse_string(&b),
            Err(nom::Err::Error(PError {
                truncated: true,
                ..
            }))
        ));
    }

    #[test]
    fn string_scores() {
        assert_eq!(parse_string_double(b"\x031.5").unwrap().1, 1.5);
        assert_eq!(parse_string_double(&[254]).unwrap().1, f64::INFINITY);
        assert!(parse_string_double(&[253]).unwrap().1.is_nan());
        assert!(parse_string_double(b"\x02zz").is_err());
    }

    #[test]
    fn int_len_counts_sign_and_digits() {
        assert_eq!(int_len(0), 1);
        assert_eq!(int_len(-1), 2);
        assert_eq!(int_len(i64::MIN), 20);
        assert_eq!(int_len(i64::MAX), 19);
    }
}

//! One element of a listpack or ziplist, as it sits in the blob.
//!
//! Both encodings store an element either as raw bytes or as a packed integer
//! chosen by the writer when the bytes spelled a canonical decimal integer.
//! Redis hands such integers back to clients as their decimal text, so the
//! element's "string length" (what `MEMORY USAGE`-style estimates and value
//! size reports need) is the length of that text. [`Entry`] keeps the integer
//! unrendered and the bytes borrowed, so walking a blob allocates nothing; the
//! text is produced only when asked for.

/// One listpack or ziplist element: a borrowed byte string or an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entry<'a> {
    /// An integer-encoded element.
    Int(i64),
    /// A string element, borrowed from the blob.
    Str(&'a [u8]),
}

impl Entry<'_> {
    /// Length in bytes of the element rendered as a string, as Redis returns
    /// it: the decimal digits (with a leading `-` for negatives) for integers.
    pub fn str_len(&self) -> usize {
        match *self {
            Entry::Str(s) => s.len(),
            Entry::Int(v) => {
                let mut n = v.unsigned_abs();
                let mut digits = 1;
                while n >= 10 {
                    n /= 10;
                    digits += 1;
                }
                digits + usize::from(v < 0)
            }
        }
    }

    /// Appends the element rendered as a string to `out`.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        match *self {
            Entry::Str(s) => out.extend_from_slice(s),
            Entry::Int(v) => {
                // i64::MIN has 19 digits plus the sign.
                let mut buf = [0u8; 20];
                let mut at = buf.len();
                let mut n = v.unsigned_abs();
                loop {
                    at -= 1;
                    buf[at] = b'0' + (n % 10) as u8;
                    n /= 10;
                    if n == 0 {
                        break;
                    }
                }
                if v < 0 {
                    at -= 1;
                    buf[at] = b'-';
                }
                out.extend_from_slice(&buf[at..]);
            }
        }
    }

    /// The integer value, if the element is integer-encoded.
    pub fn as_int(&self) -> Option<i64> {
        match *self {
            Entry::Int(v) => Some(v),
            Entry::Str(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Entry;

    fn rendered(e: Entry<'_>) -> Vec<u8> {
        let mut out = b"prefix:".to_vec();
        e.write_to(&mut out);
        out.drain(..7);
        out
    }

    #[test]
    fn integers_render_like_redis() {
        let cases: &[(i64, &str)] = &[
            (0, "0"),
            (7, "7"),
            (9, "9"),
            (10, "10"),
            (-1, "-1"),
            (-10, "-10"),
            (12345, "12345"),
            (i64::MAX, "9223372036854775807"),
            (i64::MIN, "-9223372036854775808"),
        ];
        for &(v, text) in cases {
            let e = Entry::Int(v);
            assert_eq!(rendered(e), text.as_bytes(), "{v}");
            assert_eq!(e.str_len(), text.len(), "{v}");
            assert_eq!(e.as_int(), Some(v));
        }
    }

    #[test]
    fn strings_render_verbatim() {
        let e = Entry::Str(b"a\xffb");
        assert_eq!(rendered(e), b"a\xffb");
        assert_eq!(e.str_len(), 3);
        assert_eq!(e.as_int(), None);
        assert_eq!(Entry::Str(b"").str_len(), 0);
    }
}

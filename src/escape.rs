//! How key names leave the program: binary-safe escaping for text and JSON,
//! Redis-style glob matching for `--match`, and `--redact`.
//!
//! Keys are arbitrary bytes. Printable UTF-8 passes through; every other byte
//! becomes `\xNN` and a backslash becomes `\\`, so the escaped form is
//! unambiguous and reversible. With `--redact` a key is replaced by a stable
//! token derived from its bytes: equal keys still look equal across outputs,
//! but the name itself never appears.

use std::fmt::Write;

/// Escapes `key` for display: printable UTF-8 kept, other bytes `\xNN`,
/// backslash doubled.
pub fn escape_key(key: &[u8]) -> String {
    // Most keys are printable ASCII: one check and one copy.
    if key.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b'\\') {
        if let Ok(s) = std::str::from_utf8(key) {
            return s.to_owned();
        }
    }
    let mut out = String::with_capacity(key.len());
    for chunk in key.utf8_chunks() {
        for c in chunk.valid().chars() {
            if c == '\\' {
                out.push_str("\\\\");
            } else if c.is_control() {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    let _ = write!(out, "\\x{b:02x}");
                }
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// The bytes an [`escape_key`] text stands for (`\\` and `\xNN` decoded;
/// anything else, including a malformed escape, taken as written).
pub fn unescape_key(shown: &str) -> Vec<u8> {
    let b = shown.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'\\') {
                out.push(b'\\');
                i += 2;
                continue;
            }
            if b.get(i + 1) == Some(&b'x') {
                let hex = b
                    .get(i + 2..i + 4)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(v);
                    i += 4;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// A stable, non-reversible token standing for `key` under `--redact`.
pub fn redact_key(key: &[u8]) -> String {
    // FNV-1a 64: stable across runs and platforms, no dependency; this is
    // a pseudonym, not a security boundary against guessing short keys.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in key {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("<redacted:{h:016x}>")
}

/// Formats a key for output, honouring `--redact`.
pub fn show_key(key: &[u8], redact: bool) -> String {
    if redact {
        redact_key(key)
    } else {
        escape_key(key)
    }
}

/// Redis glob matching (util.c `stringmatchlen`): `*`, `?`, `[abc]`, `[^a]`,
/// `[a-z]`, and `\` escapes, over bytes.
pub fn glob_match(pattern: &[u8], s: &[u8]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    // Position to resume from after the last `*`, for linear backtracking.
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p < pattern.len() {
            match pattern[p] {
                b'*' => {
                    while p < pattern.len() && pattern[p] == b'*' {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    star = Some((p, i));
                    continue;
                }
                b'?' if i < s.len() => {
                    p += 1;
                    i += 1;
                    continue;
                }
                b'[' if i < s.len() => {
                    if let Some((matched, next)) = class(pattern, p + 1, s[i]) {
                        if matched {
                            p = next;
                            i += 1;
                            continue;
                        }
                    }
                }
                b'\\' if p + 1 < pattern.len() && i < s.len() && pattern[p + 1] == s[i] => {
                    p += 2;
                    i += 1;
                    continue;
                }
                b'\\' if p + 1 < pattern.len() => {}
                c if i < s.len() && c == s[i] && c != b'?' && c != b'[' => {
                    p += 1;
                    i += 1;
                    continue;
                }
                _ => {}
            }
        } else if i == s.len() {
            return true;
        }
        match star {
            Some((sp, si)) if si < s.len() => {
                star = Some((sp, si + 1));
                p = sp;
                i = si + 1;
            }
            _ => return false,
        }
    }
}

/// Matches `c` against a `[...]` class starting at `p` (after `[`); returns
/// whether it matched and the pattern index after `]`.
fn class(pattern: &[u8], mut p: usize, c: u8) -> Option<(bool, usize)> {
    let negate = pattern.get(p) == Some(&b'^');
    if negate {
        p += 1;
    }
    let mut matched = false;
    loop {
        match *pattern.get(p)? {
            b']' => break,
            b'\\' => {
                p += 1;
                matched |= *pattern.get(p)? == c;
            }
            lo if pattern.get(p + 1) == Some(&b'-')
                && pattern.get(p + 2).is_some_and(|&b| b != b']') =>
            {
                let hi = pattern[p + 2];
                let (lo, hi) = if lo <= hi { (lo, hi) } else { (hi, lo) };
                matched |= (lo..=hi).contains(&c);
                p += 2;
            }
            b => matched |= b == c,
        }
        p += 1;
    }
    Some((matched != negate, p + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_binary_and_backslash() {
        assert_eq!(escape_key(b"user:1"), "user:1");
        assert_eq!(
            escape_key(b"bin:key:\x00\xff\x7f"),
            "bin:key:\\x00\\xff\\x7f"
        );
        assert_eq!(escape_key(b"a\\b"), "a\\\\b");
        assert_eq!(escape_key("ключ:é".as_bytes()), "ключ:é");
        assert_eq!(escape_key(b"tab\there"), "tab\\x09here");
    }

    #[test]
    fn unescape_inverts_escape() {
        for k in [
            &b"plain:key"[..],
            b"bin:\x00\xff\x7f",
            b"back\\slash\\x41",
            "unicode:\u{43a}\u{1f511}".as_bytes(),
            b"\n\t",
        ] {
            assert_eq!(unescape_key(&escape_key(k)), k, "{}", escape_key(k));
        }
    }

    #[test]
    fn redaction_is_stable_and_hides_the_name() {
        let a = redact_key(b"user:42:email");
        assert_eq!(a, redact_key(b"user:42:email"));
        assert_ne!(a, redact_key(b"user:43:email"));
        assert!(!a.contains("user"));
    }

    #[test]
    fn globs_like_redis() {
        assert!(glob_match(b"user:*:feed", b"user:42:feed"));
        assert!(!glob_match(b"user:*:feed", b"user:42:feeds"));
        assert!(glob_match(b"*", b""));
        assert!(glob_match(b"h?llo", b"hello"));
        assert!(glob_match(b"h[ae]llo", b"hallo"));
        assert!(!glob_match(b"h[^e]llo", b"hello"));
        assert!(glob_match(b"h[a-b]llo", b"hbllo"));
        assert!(glob_match(b"a\\*b", b"a*b"));
        assert!(!glob_match(b"a\\*b", b"axb"));
        assert!(glob_match(b"*a*b*c*", b"xxaxxbxxcxx"));
        assert!(!glob_match(b"*a*b*c*", b"xxaxxcxxbxx"));
    }
}

//! How key names leave the program: binary-safe escaping for text and JSON,
//! Redis-style glob matching for `--match`, and `--redact`.
//!
//! Keys are arbitrary bytes. Printable UTF-8 passes through; every other byte
//! becomes `\xNN` and a backslash becomes `\\`, so the escaped form is
//! unambiguous and reversible. With `--redact` a key is replaced by a token
//! derived from its bytes under a secret key: equal keys still look equal
//! across outputs, but the name itself never appears, and without the
//! secret nobody can hash candidate names (`user:1` … `user:10000000`) to
//! map tokens back to them.

use std::fmt::Write;
use std::path::Path;
use std::sync::OnceLock;

/// The secret every `--redact` token of this process is keyed with: set
/// once from `--redact-key FILE`, else drawn at random on first use, so two
/// runs without a key file share no token.
static REDACT_SECRET: OnceLock<[u8; 32]> = OnceLock::new();

/// Context string of the key derivation (BLAKE3 `derive_key`): a key file's
/// bytes become the 32-byte secret through it, so any file of enough random
/// bytes works and the secret is never the file's raw contents.
const KEY_CONTEXT: &str = "redsleuth 2026-12 --redact-key v1";

/// Fewest bytes a `--redact-key` file must hold: below this a guess of the
/// file is as cheap as a guess of the names.
pub const MIN_KEY_FILE_BYTES: usize = 16;

/// Reads a `--redact-key` file into the secret it stands for; the error
/// names the file.
pub fn redact_secret_from_file(path: &Path) -> Result<[u8; 32], String> {
    let bytes = std::fs::read(path)
        .map_err(|e| format!("{}: cannot read --redact-key: {e}", path.display()))?;
    if bytes.len() < MIN_KEY_FILE_BYTES {
        return Err(format!(
            "{}: a --redact-key file needs at least {MIN_KEY_FILE_BYTES} bytes of secret (it has {}); \
             make one with `head -c 32 /dev/urandom > {}`",
            path.display(),
            bytes.len(),
            path.display()
        ));
    }
    Ok(blake3::derive_key(KEY_CONTEXT, &bytes))
}

/// Sets the secret of this process's tokens; false when tokens were already
/// made under another (the secret can be chosen only once, before any
/// output).
pub fn set_redact_secret(secret: [u8; 32]) -> bool {
    REDACT_SECRET.set(secret).is_ok() || REDACT_SECRET.get() == Some(&secret)
}

fn secret() -> &'static [u8; 32] {
    REDACT_SECRET.get_or_init(|| {
        let mut k = [0u8; 32];
        // No entropy source is a setup fault of the host, not of the input;
        // a redaction keyed with a guessable secret would not redact.
        getrandom::fill(&mut k).expect("the operating system's random source failed");
        k
    })
}

/// Escapes `key` for display: printable UTF-8 kept, other bytes `\xNN`,
/// backslash doubled.
pub fn escape_key(key: &[u8]) -> String {
    escaped(key).into_owned()
}

/// Whether `key` is its own escaped form: printable ASCII, no backslash.
/// Without a short circuit the test compiles to a vector loop, and keys
/// are short enough that finishing one costs less than branching per byte.
pub fn is_plain(key: &[u8]) -> bool {
    key.iter().fold(true, |ok, &b| {
        ok & (b.wrapping_sub(0x20) < 0x5f) & (b != b'\\')
    })
}

/// [`escape_key`], borrowing `key` when it needs no escape (printable
/// ASCII without a backslash, as most keys are): the pattern of every key
/// is made from this, and a copy per key showed in `rdb`'s profile.
pub fn escaped(key: &[u8]) -> std::borrow::Cow<'_, str> {
    if is_plain(key) {
        if let Ok(s) = std::str::from_utf8(key) {
            return std::borrow::Cow::Borrowed(s);
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
    std::borrow::Cow::Owned(out)
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

/// The token standing for `key` under `--redact`: BLAKE3 keyed with this
/// run's secret, 64 bits of it, so equal names give equal tokens within a
/// run (and across runs sharing a `--redact-key`), and nothing else does.
pub fn redact_key(key: &[u8]) -> String {
    let h = blake3::keyed_hash(secret(), key);
    let mut out = String::with_capacity(27);
    out.push_str("<redacted:");
    for b in &h.as_bytes()[..8] {
        let _ = write!(out, "{b:02x}");
    }
    out.push('>');
    out
}

/// Formats a key for output, honouring `--redact`.
pub fn show_key(key: &[u8], redact: bool) -> String {
    if redact {
        redact_key(key)
    } else {
        escape_key(key)
    }
}

/// A key as output shows it ([`show_key`]), made on first use and kept.
/// Most keys never enter a top list, but on a dump of same-sized keys most
/// tie with a list's floor or a pattern's largest member, and a tie is
/// broken on the shown name: made per comparison, that was a fifth of
/// `rdb`'s sequential thread. Printable keys are borrowed, not copied.
pub struct Shown<'k> {
    raw: &'k [u8],
    redact: bool,
    plain: bool,
    made: std::cell::OnceCell<std::borrow::Cow<'k, str>>,
}

impl<'k> Shown<'k> {
    /// The key `raw`, to be escaped or, with `redact`, tokenized; `plain`
    /// when the caller already knows it [`is_plain`].
    pub fn new(raw: &'k [u8], redact: bool, plain: bool) -> Shown<'k> {
        Shown {
            raw,
            redact,
            plain,
            made: std::cell::OnceCell::new(),
        }
    }

    /// A name already in its shown form.
    pub fn ready(shown: &'k str) -> Shown<'k> {
        Shown::new(shown.as_bytes(), false, true)
    }

    /// The shown name as UTF-8 bytes, which order as the `str` does: ties
    /// are broken on these without validating the plain key's UTF-8.
    pub fn bytes(&self) -> &[u8] {
        if self.plain && !self.redact {
            return self.raw;
        }
        self.made
            .get_or_init(|| {
                if self.redact {
                    std::borrow::Cow::Owned(redact_key(self.raw))
                } else {
                    escaped(self.raw)
                }
            })
            .as_bytes()
    }
}

/// An owned copy of shown bytes ([`Shown::bytes`]), which are always UTF-8
/// (plain ASCII, escaped text, or a token), so nothing is replaced.
pub fn shown_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
        assert_eq!(a.len(), "<redacted:>".len() + 16);
    }

    #[test]
    fn tokens_are_not_an_unkeyed_hash_of_the_name() {
        // The unsalted FNV-1a-64 of the name, which anyone could compute.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for &b in b"user:42:email" {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        assert_ne!(redact_key(b"user:42:email"), format!("<redacted:{h:016x}>"));
        let plain = blake3::hash(b"user:42:email").to_hex();
        assert!(!redact_key(b"user:42:email").contains(&plain.as_str()[..16]));
    }

    #[test]
    fn short_key_files_are_refused_and_name_the_file() {
        let dir = std::env::temp_dir().join(format!("redsleuth-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let short = dir.join("short.key");
        std::fs::write(&short, b"0123456789").unwrap();
        let e = redact_secret_from_file(&short).unwrap_err();
        assert!(e.contains("short.key") && e.contains("16 bytes"), "{e}");
        let good = dir.join("good.key");
        std::fs::write(&good, [7u8; 32]).unwrap();
        let a = redact_secret_from_file(&good).unwrap();
        assert_eq!(a, redact_secret_from_file(&good).unwrap());
        assert_ne!(a, [7u8; 32]);
        std::fs::remove_dir_all(&dir).unwrap();
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

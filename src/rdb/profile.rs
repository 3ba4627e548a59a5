//! Which server wrote a file, as far as reporting cares: the family and
//! version decide the names `OBJECT ENCODING` gives (`ziplist` before 7.0,
//! `listpack` after, `embstr` thresholds) and later the memory model.
//!
//! The `redis-ver` / `valkey-ver` AUX field is the authority; files without it
//! (Redis < 3.2) get the oldest server that writes their RDB version.

use super::kind::Magic;
use super::Header;

/// Server family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Redis (including Redis Stack).
    Redis,
    /// Valkey.
    Valkey,
}

/// A server family and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    /// Family.
    pub family: Family,
    /// Major, minor, patch.
    pub version: (u32, u32, u32),
    /// True when the version came from an AUX field, false when inferred
    /// from the RDB version.
    pub from_aux: bool,
}

impl Profile {
    /// The oldest server that writes files of this header.
    pub fn from_header(h: Header) -> Profile {
        let (family, version) = match (h.magic, h.version) {
            (Magic::Valkey, _) => (Family::Valkey, (9, 0, 0)),
            (_, 1) => (Family::Redis, (2, 0, 0)),
            (_, 2..=5) => (Family::Redis, (2, 4, 0)),
            (_, 6) => (Family::Redis, (2, 6, 0)),
            (_, 7) => (Family::Redis, (3, 2, 0)),
            (_, 8) => (Family::Redis, (4, 0, 0)),
            (_, 9) => (Family::Redis, (5, 0, 0)),
            (_, 10) => (Family::Redis, (7, 0, 0)),
            (_, 11) => (Family::Redis, (7, 2, 0)),
            (_, 12) => (Family::Redis, (7, 4, 0)),
            (_, 13) => (Family::Redis, (8, 6, 0)),
            (_, _) => (Family::Redis, (8, 8, 0)),
        };
        Profile {
            family,
            version,
            from_aux: false,
        }
    }

    /// Refines the header's guess with a version AUX field.
    pub fn with_aux(self, name: &[u8], value: &[u8]) -> Profile {
        let family = match name {
            b"redis-ver" if self.family == Family::Redis || !self.from_aux => self.family,
            b"valkey-ver" => Family::Valkey,
            _ => return self,
        };
        let parsed = parse_version(value);
        match parsed {
            // Unstable builds report 255.255.255; the header version says
            // more about them than the number does.
            Some((255, _, _)) | None => Profile { family, ..self },
            Some(v) => Profile {
                family,
                version: v,
                from_aux: true,
            },
        }
    }

    /// True when the server is at least `major.minor`.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.version.0, self.version.1) >= (major, minor)
    }

    /// A short label such as `redis-7.0.15`.
    pub fn label(&self) -> String {
        let f = match self.family {
            Family::Redis => "redis",
            Family::Valkey => "valkey",
        };
        format!(
            "{}-{}.{}.{}",
            f, self.version.0, self.version.1, self.version.2
        )
    }

    /// True when this server names compact encodings `listpack` (Redis 7.0+,
    /// every Valkey) rather than `ziplist`.
    pub fn listpack_era(&self) -> bool {
        self.family == Family::Valkey || self.at_least(7, 0)
    }

    /// True when small lists are plain listpacks rather than one-node
    /// quicklists (Redis 7.2+, Valkey).
    pub fn listpack_lists(&self) -> bool {
        self.family == Family::Valkey || self.at_least(7, 2)
    }
}

fn parse_version(v: &[u8]) -> Option<(u32, u32, u32)> {
    let s = std::str::from_utf8(v).ok()?;
    let mut it = s.trim().split('.').map(|p| p.parse::<u32>().ok());
    let major = it.next()??;
    let minor = it.next().flatten().unwrap_or(0);
    let patch = it.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aux_version_wins_over_header_guess() {
        let h = Header {
            magic: Magic::Redis,
            version: 11,
        };
        let p = Profile::from_header(h).with_aux(b"valkey-ver", b"8.0.1");
        assert_eq!(p.family, Family::Valkey);
        assert_eq!(p.version, (8, 0, 1));
        let p = Profile::from_header(Header {
            magic: Magic::Redis,
            version: 14,
        })
        .with_aux(b"redis-ver", b"255.255.255");
        assert_eq!(p.version, (8, 8, 0));
        assert!(!p.from_aux);
    }
}

//! RDB reading for every version Redis and Valkey write: `REDIS0001` to
//! `REDIS0014` and `VALKEY080`/`VALKEY081`.
//!
//! [`RdbFile::parse`] checks the magic and version and reads the leading AUX
//! fields; [`RdbFile::records`] then walks the rest as borrowed [`Record`]s
//! (see [`frame`]); [`value::inspect`] decodes one frame's value as far as a
//! report needs. Every error carries the absolute byte offset.

pub mod consts;
pub mod crc64;
pub mod entry;
pub mod error;
pub mod frame;
pub mod intset;
pub mod kind;
pub mod listpack;
pub mod lzf;
pub mod module;
pub mod primitives;
pub mod profile;
pub mod salvage;
pub mod scan;
pub mod stream;
pub mod value;
pub mod ziplist;
pub mod zipmap;

pub use error::{BlobError, Error, ErrorKind, Result};
pub use frame::{Frame, Record, Records};
pub use kind::{Kind, Magic};
pub use primitives::RdbString;
pub use profile::Profile;

/// The fixed part of an RDB file: magic and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Which fork's magic the file carries.
    pub magic: Magic,
    /// The RDB format version.
    pub version: u32,
}

/// Length of the magic + version prefix for both forks.
pub const HEADER_LEN: usize = 9;

/// Reads the 9-byte magic and version (`REDIS0012`, `VALKEY080`).
pub fn parse_header(data: &[u8]) -> Result<Header> {
    if data.is_empty() {
        return Err(Error {
            offset: 0,
            context: "reading header",
            kind: ErrorKind::Empty,
        });
    }
    let head = match data.get(..HEADER_LEN) {
        Some(h) => h,
        None => {
            // A short file that starts like an RDB is truncated; anything else
            // is not an RDB at all.
            let is_prefix = |m: &[u8]| data.iter().zip(m).all(|(a, b)| a == b);
            if is_prefix(b"REDIS") || is_prefix(b"VALKEY") {
                return Err(Error::truncated(data.len() as u64, "reading header"));
            }
            return Err(Error {
                offset: 0,
                context: "reading header",
                kind: ErrorKind::BadMagic,
            });
        }
    };
    let digits = |d: &[u8]| -> Option<u32> {
        if d.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(d).ok()?.parse().ok()
        } else {
            None
        }
    };
    let (magic, version) = if &head[..5] == b"REDIS" {
        (Magic::Redis, digits(&head[5..]))
    } else if &head[..6] == b"VALKEY" {
        (Magic::Valkey, digits(&head[6..]))
    } else {
        return Err(Error {
            offset: 0,
            context: "reading header",
            kind: ErrorKind::BadMagic,
        });
    };
    let version = version.ok_or(Error {
        offset: 0,
        context: "reading header",
        kind: ErrorKind::BadMagic,
    })?;
    let ok = match magic {
        Magic::Redis => (1..=consts::MAX_REDIS_VERSION).contains(&version),
        Magic::Valkey => consts::VALKEY_VERSIONS.contains(&version),
    };
    if !ok {
        return Err(Error {
            offset: 5,
            context: "reading header",
            kind: ErrorKind::UnsupportedVersion(version),
        });
    }
    Ok(Header { magic, version })
}

/// An RDB file held in memory (usually a map), with its header read.
pub struct RdbFile<'a> {
    data: &'a [u8],
    header: Header,
}

impl<'a> RdbFile<'a> {
    /// Checks the header of `data`, the whole file.
    pub fn parse(data: &'a [u8]) -> Result<RdbFile<'a>> {
        let header = parse_header(data)?;
        Ok(RdbFile { data, header })
    }

    /// Magic and version.
    pub fn header(&self) -> Header {
        self.header
    }

    /// The whole file.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Walks every record after the header, in file order.
    pub fn records(&self) -> Records<'a> {
        Records::new(
            self.data,
            HEADER_LEN,
            self.header.magic,
            self.header.version,
        )
    }

    /// Verifies the CRC-64 trailer given the EOF record's offset and stored
    /// value. `Ok(false)` when the file carries no checksum (version < 5, or a
    /// stored 0 from `rdbchecksum no`).
    pub fn verify_checksum(&self, eof_offset: u64, stored: Option<u64>) -> Result<bool> {
        self.verify_checksum_with(eof_offset, stored, None)
    }

    /// The CRC-64 of everything but the last 8 bytes: where a well-formed
    /// file's checksum covers. Computing it on its own thread while the
    /// records are walked takes the checksum off the critical path; pass the
    /// result to [`RdbFile::verify_checksum_with`].
    pub fn speculative_checksum(&self) -> (u64, u64) {
        let covered = self.data.len().saturating_sub(8);
        (covered as u64, crc64::crc64(&self.data[..covered]))
    }

    /// [`RdbFile::verify_checksum`], reusing a [`RdbFile::speculative_checksum`]
    /// when it covers exactly the right bytes.
    pub fn verify_checksum_with(
        &self,
        eof_offset: u64,
        stored: Option<u64>,
        precomputed: Option<(u64, u64)>,
    ) -> Result<bool> {
        let stored = match stored {
            Some(0) | None => return Ok(false),
            Some(s) => s,
        };
        let computed = match precomputed {
            Some((covered, crc)) if covered == eof_offset + 1 => crc,
            _ => crc64::crc64(self.data.get(..=eof_offset as usize).unwrap_or(self.data)),
        };
        if computed == stored {
            Ok(true)
        } else {
            Err(Error {
                offset: eof_offset + 1,
                context: "verifying checksum",
                kind: ErrorKind::Checksum { stored, computed },
            })
        }
    }
}

impl RdbFile<'_> {
    /// The server profile, from the header refined by the version AUX field
    /// among the leading AUX records (read cheaply; nothing else is decoded).
    pub fn profile(&self) -> Profile {
        let mut profile = Profile::from_header(self.header);
        for rec in self.records() {
            match rec {
                Ok(Record::Aux {
                    key: RdbString::Raw(k),
                    value,
                    ..
                }) => {
                    if let Ok(v) = value.to_cow() {
                        profile = profile.with_aux(k, &v);
                    }
                }
                Ok(Record::Aux { .. }) => {}
                _ => break,
            }
        }
        profile
    }
}

#[cfg(test)]
mod tests;

//! Errors of the RDB reader: typed, cheap, and always carrying the byte offset
//! in the file where reading went wrong.
//!
//! Inner blob parsers (listpack, ziplist, intset, zipmap, LZF) report a
//! [`BlobError`] relative to the start of their blob; the caller that knows
//! where the blob sits in the file turns it into an [`Error`] with an absolute
//! offset. Nothing here holds a borrowed slice, so errors outlive the map.

use std::fmt;

/// A fault inside one compact blob, with the offset relative to the blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobError {
    /// Offset of the fault from the first byte of the blob.
    pub offset: usize,
    /// What was being read, e.g. `"listpack entry"`.
    pub what: &'static str,
    /// `true` when the blob ended early rather than holding a bad value.
    pub truncated: bool,
}

impl BlobError {
    /// The blob ended while `what` was being read at `offset`.
    pub fn truncated(offset: usize, what: &'static str) -> BlobError {
        BlobError {
            offset,
            what,
            truncated: true,
        }
    }

    /// The blob holds an impossible value in `what` at `offset`.
    pub fn corrupt(offset: usize, what: &'static str) -> BlobError {
        BlobError {
            offset,
            what,
            truncated: false,
        }
    }
}

impl fmt::Display for BlobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let how = if self.truncated {
            "ends early"
        } else {
            "is invalid"
        };
        write!(f, "{} {} at blob offset {}", self.what, how, self.offset)
    }
}

impl std::error::Error for BlobError {}

/// How an RDB file is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The file ended while more bytes were needed.
    Truncated,
    /// A field holds a value no writer produces (bad length tag, bad
    /// container, inconsistent counts, LZF that does not decompress…).
    Corrupt(String),
    /// The file does not start with `REDIS` or `VALKEY` magic.
    BadMagic,
    /// The file holds no byte at all (a failed copy, a dump never written):
    /// said as such rather than as a truncation somewhere.
    Empty,
    /// The version is outside the range any known server writes.
    UnsupportedVersion(u32),
    /// A type byte or opcode no known server writes at this version.
    UnknownType(u8),
    /// A well-formed collection with no elements, which Redis's loader
    /// skips (`rdbLoadObject skipping empty key`); older servers wrote them.
    /// The record is passed over and the walk goes on, even a strict one.
    EmptyKey(&'static str),
    /// A value only its own loader can read: a module type of the 4.0
    /// release candidates carries no length, so nothing else can skip it.
    Unsupported(&'static str),
    /// The CRC-64 trailer does not match the file's contents.
    Checksum {
        /// The checksum stored in the file.
        stored: u64,
        /// The checksum computed over the file.
        computed: u64,
    },
}

/// An error reading an RDB file: what, where (absolute byte offset) and while
/// doing what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Absolute byte offset in the (decompressed) file.
    pub offset: u64,
    /// What the reader was doing, e.g. `"reading key"`, `"listpack entry"`.
    pub context: &'static str,
    /// How the input is broken.
    pub kind: ErrorKind,
}

impl Error {
    /// A truncation at `offset` while doing `context`.
    pub fn truncated(offset: u64, context: &'static str) -> Error {
        Error {
            offset,
            context,
            kind: ErrorKind::Truncated,
        }
    }

    /// A corrupt value at `offset` while doing `context`.
    pub fn corrupt(offset: u64, context: &'static str, detail: impl Into<String>) -> Error {
        Error {
            offset,
            context,
            kind: ErrorKind::Corrupt(detail.into()),
        }
    }

    /// Lifts a blob-relative error to the file, given where the blob starts.
    /// `blob_start` is the file offset of the blob's first byte; for a
    /// decompressed (LZF) blob, pass the offset of the compressed string, since
    /// decompressed offsets have no place in the file.
    pub fn from_blob(e: BlobError, blob_start: u64, compressed: bool) -> Error {
        let offset = if compressed {
            blob_start
        } else {
            blob_start + e.offset as u64
        };
        let kind = if e.truncated {
            // A blob that ends early inside a complete RDB string is corrupt,
            // not truncated: the file had all the bytes its length promised.
            ErrorKind::Corrupt(format!("{} ends before its declared size", e.what))
        } else {
            ErrorKind::Corrupt(format!("invalid {}", e.what))
        };
        Error {
            offset,
            context: e.what,
            kind,
        }
    }

    /// True when the input simply ended early.
    pub fn is_truncated(&self) -> bool {
        self.kind == ErrorKind::Truncated
    }

    /// True for a fault that leaves the framing intact: the record was
    /// passed over whole and the next one starts right after it.
    pub fn is_skippable(&self) -> bool {
        matches!(self.kind, ErrorKind::EmptyKey(_))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Truncated => {
                write!(
                    f,
                    "truncated at byte {} while {}",
                    self.offset, self.context
                )
            }
            ErrorKind::Corrupt(d) => {
                write!(
                    f,
                    "corrupt at byte {} while {}: {}",
                    self.offset, self.context, d
                )
            }
            ErrorKind::BadMagic => {
                write!(
                    f,
                    "not an RDB file: no REDIS or VALKEY signature at byte {}",
                    self.offset
                )
            }
            ErrorKind::Empty => write!(
                f,
                "empty file: 0 bytes, no RDB header at byte {}",
                self.offset
            ),
            ErrorKind::UnsupportedVersion(v) => {
                write!(f, "unsupported RDB version {} at byte {}", v, self.offset)
            }
            ErrorKind::UnknownType(t) => write!(
                f,
                "unknown type or opcode {} (0x{:02x}) at byte {} while {}",
                t, t, self.offset, self.context
            ),
            ErrorKind::EmptyKey(t) => write!(
                f,
                "empty {} at byte {}: skipped, as Redis skips an empty key when loading",
                t, self.offset
            ),
            ErrorKind::Unsupported(what) => write!(
                f,
                "unsupported at byte {} while {}: {}",
                self.offset, self.context, what
            ),
            ErrorKind::Checksum { stored, computed } => write!(
                f,
                "checksum mismatch at byte {}: stored {:016x}, computed {:016x}",
                self.offset, stored, computed
            ),
        }
    }
}

impl std::error::Error for Error {}

/// Result of RDB reading.
pub type Result<T> = std::result::Result<T, Error>;

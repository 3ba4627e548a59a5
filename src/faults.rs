//! Faults met while reading an input, in the one shape every subcommand
//! reports them: `errors[]` (what was wrong where), `skipped[]` (the bytes
//! passed over to read on) and `checksum` (stored against computed).
//!
//! The reader's own types ([`crate::rdb::Error`], [`crate::rdb::scan::Fault`])
//! borrow nothing but are not serializable and know no file name; these are
//! what reports carry, merge and render.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::rdb::scan::Fault;
use crate::rdb::{Error, ErrorKind};

/// One fault: the file, the byte offset, what was being read, and the
/// message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReadError {
    /// The input's path as given (`<stdin>` for standard input).
    pub file: String,
    /// Absolute byte offset in the (decompressed) input.
    pub offset: u64,
    /// What was being read, e.g. `reading value`.
    pub context: String,
    /// The whole message, offset included.
    pub message: String,
}

impl ReadError {
    /// The report form of `e`, met in `file`.
    pub fn new(file: &str, e: &Error) -> ReadError {
        ReadError {
            file: file.to_string(),
            offset: e.offset,
            context: e.context.to_string(),
            message: e.to_string(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.file, self.message)
    }
}

/// Bytes passed over after a fault, and what that cost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SkippedRange {
    /// The input's path.
    pub file: String,
    /// Offset of the fault that started the range.
    pub fault_offset: u64,
    /// First byte skipped (the start of the record that failed).
    pub from: u64,
    /// Where reading resumed (the file's length when it did not).
    pub to: u64,
    /// `to - from`.
    pub bytes: u64,
    /// Keys the range probably held (from the mean record size).
    pub keys_lost_estimate: u64,
    /// Keys read before the fault.
    pub keys_before: u64,
    /// Keys read after it, up to the next fault or the end.
    pub keys_after: u64,
}

impl SkippedRange {
    /// The report form of a fault's skipped range, when it has one.
    pub fn new(file: &str, f: &Fault) -> Option<SkippedRange> {
        let s = f.skipped?;
        Some(SkippedRange {
            file: file.to_string(),
            fault_offset: f.error.offset,
            from: s.from,
            to: s.to,
            bytes: s.bytes(),
            keys_lost_estimate: s.keys_lost_estimate,
            keys_before: f.keys_before,
            keys_after: f.keys_after,
        })
    }
}

impl fmt::Display for SkippedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: bytes {}..{} skipped ({} bytes, ~{} keys lost) after the fault at byte {}; {} keys read before, {} after",
            self.file,
            self.from,
            self.to,
            self.bytes,
            self.keys_lost_estimate,
            self.fault_offset,
            self.keys_before,
            self.keys_after
        )
    }
}

/// The checksum verdict.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ChecksumStatus {
    /// Stored and computed CRC-64 agree.
    Ok,
    /// The file carries none (version < 5, or written with `rdbchecksum no`).
    Absent,
    /// They differ.
    Mismatch,
    /// The walk never reached the trailer.
    #[default]
    NotReached,
}

/// The checksum verdict with both values (lower-case hex), where known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default, schemars::JsonSchema)]
pub struct Checksum {
    /// The verdict.
    pub status: ChecksumStatus,
    /// The CRC-64 stored in the trailer; `null` when there is none or the
    /// trailer was not reached (always present: one shape everywhere).
    #[serde(default)]
    pub stored: Option<String>,
    /// The CRC-64 computed over the file; `null` when not computed.
    #[serde(default)]
    pub computed: Option<String>,
}

impl Checksum {
    /// The verdict of [`crate::rdb::RdbFile::verify_checksum_with`]: `Ok(true)`
    /// a match of `stored`, `Ok(false)` no checksum, a checksum error a
    /// mismatch; any other error means the trailer was not reached.
    pub fn from_verify(stored: Option<u64>, r: &crate::rdb::Result<bool>) -> Checksum {
        let hex = |c: u64| Some(format!("{c:016x}"));
        match r {
            Ok(true) => Checksum {
                status: ChecksumStatus::Ok,
                stored: stored.and_then(hex),
                computed: stored.and_then(hex),
            },
            Ok(false) => Checksum {
                status: ChecksumStatus::Absent,
                ..Checksum::default()
            },
            Err(Error {
                kind: ErrorKind::Checksum { stored, computed },
                ..
            }) => Checksum {
                status: ChecksumStatus::Mismatch,
                stored: hex(*stored),
                computed: hex(*computed),
            },
            Err(_) => Checksum::default(),
        }
    }

    /// True when the file's checksum does not match its contents.
    pub fn is_mismatch(&self) -> bool {
        self.status == ChecksumStatus::Mismatch
    }
}

impl fmt::Display for Checksum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.status, &self.stored, &self.computed) {
            (ChecksumStatus::Ok, Some(c), _) => write!(f, "ok (crc64 {c})"),
            (ChecksumStatus::Ok, None, _) => write!(f, "ok"),
            (ChecksumStatus::Absent, ..) => write!(f, "absent"),
            (ChecksumStatus::Mismatch, Some(s), Some(c)) => {
                write!(f, "MISMATCH (stored {s}, computed {c})")
            }
            (ChecksumStatus::Mismatch, ..) => write!(f, "MISMATCH"),
            (ChecksumStatus::NotReached, ..) => write!(f, "not verified (end not reached)"),
        }
    }
}

/// Everything that went wrong reading one input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Every fault, in file order.
    pub errors: Vec<ReadError>,
    /// The ranges skipped past them.
    pub skipped: Vec<SkippedRange>,
}

impl Faults {
    /// The framer's faults of `file` as reported.
    pub fn from_scan(file: &str, faults: &[Fault]) -> Faults {
        Faults {
            errors: faults
                .iter()
                .map(|f| ReadError::new(file, &f.error))
                .collect(),
            skipped: faults
                .iter()
                .filter_map(|f| SkippedRange::new(file, f))
                .collect(),
        }
    }
}

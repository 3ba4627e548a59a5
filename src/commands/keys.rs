//! `redsleuth keys`: one row per key, in file order, as NDJSON or CSV. Rows
//! are built in parallel and written in order, so the output is the same for
//! any `--threads`.

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::escape::{glob_match, show_key};
use crate::faults::Checksum;
use crate::memory::Model;
use crate::rdb::scan::{Fault, Walk};
use crate::rdb::value::{inspect, Depth, ValueInfo};
use crate::rdb::{self, Error, Frame, RdbFile, Record};

/// Which keys to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Redis glob over the key name.
    pub pattern: Option<Vec<u8>>,
    /// `TYPE` name.
    pub type_name: Option<String>,
    /// Database.
    pub db: Option<u64>,
}

/// One key's row.
#[derive(Debug, Clone, PartialEq, schemars::JsonSchema)]
pub struct Row {
    /// Database.
    pub db: u64,
    /// Key, escaped or redacted for output.
    pub key: String,
    /// `TYPE`.
    #[schemars(rename = "type")]
    pub type_name: String,
    /// `OBJECT ENCODING`.
    pub encoding: &'static str,
    /// Element count.
    pub elements: Option<u64>,
    /// Estimated `MEMORY USAGE`.
    pub memory_bytes: u64,
    /// Bytes of the record in the file (type byte, key and value).
    pub serialized_bytes: u64,
    /// Absolute expiry, Unix ms.
    pub expire_at_ms: Option<i64>,
    /// LRU idle seconds.
    pub idle_s: Option<u64>,
    /// LFU counter.
    pub freq: Option<u8>,
}

impl Row {
    /// The row as a JSON object with the contract's field names.
    pub fn to_json(&self) -> Value {
        json!({
            "db": self.db, "key": self.key, "type": self.type_name,
            "encoding": self.encoding, "elements": self.elements,
            "memory_bytes": self.memory_bytes, "serialized_bytes": self.serialized_bytes, "expire_at_ms": self.expire_at_ms,
            "idle_s": self.idle_s, "freq": self.freq,
        })
    }
}

/// Header of the CSV output.
pub const CSV_HEADER: &str =
    "db,key,type,encoding,elements,memory_bytes,serialized_bytes,expire_at_ms,idle_s,freq";

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Row {
    /// The row as one CSV line (no newline).
    pub fn to_csv(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{},{}",
            self.db,
            csv_field(&self.key),
            csv_field(&self.type_name),
            self.encoding,
            opt(self.elements),
            self.memory_bytes,
            self.serialized_bytes,
            opt(self.expire_at_ms),
            opt(self.idle_s),
            opt(self.freq)
        )
    }
}

/// Builds a row from a frame and its inspected value.
pub fn row(f: &Frame<'_>, key: &[u8], v: &ValueInfo, memory_bytes: u64, redact: bool) -> Row {
    Row {
        db: f.db,
        key: show_key(key, redact),
        type_name: v.type_name.as_str().to_string(),
        encoding: v.encoding,
        elements: v.elements,
        memory_bytes,
        serialized_bytes: f.serialized_bytes,
        expire_at_ms: f.expire_ms,
        idle_s: f.idle_s,
        freq: f.freq,
    }
}

/// What went wrong listing one file.
#[derive(Debug, Default)]
pub struct Listed {
    /// Bad values inside well-framed keys (each skips its row only).
    pub errors: Vec<Error>,
    /// Records the framer could not read, with what was skipped past them.
    pub faults: Vec<Fault>,
    /// The checksum verdict, computed alongside the walk.
    pub checksum: Checksum,
}

impl Listed {
    /// True when every row was read from a file that checks out.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && self.faults.is_empty() && !self.checksum.is_mismatch()
    }
}

/// Lists keys, calling `emit` for each row in file order. A fault inside one
/// value skips that row only; a framing fault is salvaged past (or stops
/// the walk, as `walk` says).
#[allow(clippy::too_many_arguments)]
pub fn list(
    file: &RdbFile<'_>,
    pool: &rayon::ThreadPool,
    walk: Walk<'_>,
    filter: &Filter,
    model: &Model,
    redact: bool,
    progress: &dyn Fn(u64),
    emit: &mut dyn FnMut(Row),
) -> Listed {
    let profile = file.profile();
    let depth = Depth {
        element_lengths: model.needs_element_lengths(),
    };
    let mut errors = Vec::new();
    let work = |f: &Frame<'_>| -> Option<Result<Row, Error>> {
        if filter.db.is_some_and(|db| db != f.db) {
            return None;
        }
        let key = match f.key.to_cow() {
            Ok(k) => k,
            Err(e) => return Some(Err(Error::from_blob(e, f.offset, true))),
        };
        if let Some(p) = &filter.pattern {
            if !glob_match(p, &key) {
                return None;
            }
        }
        let mut scratch = Vec::new();
        let v = match inspect(f, &profile, depth, &mut scratch) {
            Ok(v) => v,
            Err(e) => return Some(Err(e)),
        };
        if let Some(t) = &filter.type_name {
            if v.type_name.as_str() != t {
                return None;
            }
        }
        let memory = model.key_memory(f, key.len() as u64, &v);
        Some(Ok(row(f, &key, &v, memory, redact)))
    };
    let mut eof = None;
    let (faults, crc) = rdb::scan::scan_with_checksum(
        file,
        pool,
        walk,
        work,
        |rec, res| match (rec, res) {
            (Record::Key(_), Some(Some(r))) => match r {
                Ok(row) => emit(row),
                Err(e) => errors.push(e),
            },
            (
                Record::Eof {
                    offset, stored_crc, ..
                },
                _,
            ) => eof = Some((*offset, *stored_crc)),
            _ => {}
        },
        progress,
    );
    let checksum = eof.map_or_else(Checksum::default, |(offset, stored)| {
        Checksum::from_verify(stored, &file.verify_checksum_with(offset, stored, crc))
    });
    Listed {
        errors,
        faults,
        checksum,
    }
}

/// Writes rows as NDJSON or CSV.
pub struct RowWriter<'w> {
    out: &'w mut dyn Write,
    csv: bool,
    /// First I/O error met (a closed pipe ends output quietly).
    pub error: Option<io::Error>,
}

impl<'w> RowWriter<'w> {
    /// Starts output; writes the CSV header when `csv`.
    pub fn new(out: &'w mut dyn Write, csv: bool) -> RowWriter<'w> {
        let mut w = RowWriter {
            out,
            csv,
            error: None,
        };
        if csv {
            let r = writeln!(w.out, "{CSV_HEADER}");
            w.note(r);
        }
        w
    }

    fn note(&mut self, r: io::Result<()>) {
        if let Err(e) = r {
            self.error.get_or_insert(e);
        }
    }

    /// Writes one row.
    pub fn write(&mut self, row: &Row) {
        if self.error.is_some() {
            return;
        }
        let r = if self.csv {
            writeln!(self.out, "{}", row.to_csv())
        } else {
            serde_json::to_writer(&mut *self.out, &row.to_json())
                .map_err(io::Error::from)
                .and_then(|_| writeln!(self.out))
        };
        self.note(r);
    }
}

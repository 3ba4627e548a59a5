//! `redsleuth keys`: one row per key, in file order, as NDJSON or CSV. Rows
//! are built in parallel and written in order, so the output is the same for
//! any `--threads`.

use std::io::{self, Write};

use serde_json::{json, Value};

use crate::escape::{glob_match, show_key};
use crate::memory::Model;
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
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Database.
    pub db: u64,
    /// Key, escaped or redacted for output.
    pub key: String,
    /// `TYPE`.
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

/// Lists keys, calling `emit` for each row in file order. Returns the faults
/// met; a fault inside one value skips that row only, a framing fault stops
/// the walk.
pub fn list(
    file: &RdbFile<'_>,
    pool: &rayon::ThreadPool,
    filter: &Filter,
    model: &Model,
    redact: bool,
    progress: &dyn Fn(u64),
    emit: &mut dyn FnMut(Row),
) -> Vec<Error> {
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
    let fatal = rdb::scan::scan(
        file,
        pool,
        work,
        |rec, res| {
            if let (Record::Key(_), Some(Some(r))) = (rec, res) {
                match r {
                    Ok(row) => emit(row),
                    Err(e) => errors.push(e),
                }
            }
        },
        progress,
    );
    errors.extend(fatal);
    errors
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

//! `redsleuth keys`: one row per key, in file order, as NDJSON or CSV. Rows
//! are built in parallel and written in order, so the output is the same for
//! any `--threads`.

use std::io::{self, Write};

use crate::escape::{glob_match, show_key};
use crate::faults::Checksum;
use crate::memory::Model;
use crate::rdb::scan::{Fault, Walk};
use crate::rdb::value::{with_inspected, Depth, ValueInfo};
use crate::rdb::{self, Error, Frame, RdbFile, Record};

/// Which keys to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Redis glob over the key name.
    pub pattern: Option<Vec<u8>>,
    /// `TYPE` name.
    pub type_name: Option<String>,
    /// `OBJECT ENCODING` name.
    pub encoding: Option<String>,
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

/// Header of the CSV output.
pub const CSV_HEADER: &str =
    "db,key,type,encoding,elements,memory_bytes,serialized_bytes,expire_at_ms,idle_s,freq";

/// Appends an integer in decimal, without going through `fmt`.
fn int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends an integer, or `null` (JSON) / nothing (CSV) when absent.
fn opt_int(out: &mut Vec<u8>, v: Option<impl itoa::Integer>, none: &[u8]) {
    match v {
        Some(v) => int(out, v),
        None => out.extend_from_slice(none),
    }
}

/// Appends a JSON string literal.
fn json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

/// Appends a CSV field, quoted when it holds a separator, quote or newline.
fn csv_field(out: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push(b'"');
        for part in s.split('"').enumerate() {
            if part.0 > 0 {
                out.extend_from_slice(b"\"\"");
            }
            out.extend_from_slice(part.1.as_bytes());
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

impl Row {
    /// Appends the row as one NDJSON line (with its newline). Fields are in
    /// the contract's (alphabetical) order. Rows are formatted on the worker
    /// threads, so this is written straight into bytes: a `serde_json::Value`
    /// per row cost a dozen allocations and a map, and made formatting the
    /// bottleneck of a multi-GB listing.
    pub fn write_ndjson(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"db\":");
        int(out, self.db);
        out.extend_from_slice(b",\"elements\":");
        opt_int(out, self.elements, b"null");
        out.extend_from_slice(b",\"encoding\":");
        json_str(out, self.encoding);
        out.extend_from_slice(b",\"expire_at_ms\":");
        opt_int(out, self.expire_at_ms, b"null");
        out.extend_from_slice(b",\"freq\":");
        opt_int(out, self.freq, b"null");
        out.extend_from_slice(b",\"idle_s\":");
        opt_int(out, self.idle_s, b"null");
        out.extend_from_slice(b",\"key\":");
        json_str(out, &self.key);
        out.extend_from_slice(b",\"memory_bytes\":");
        int(out, self.memory_bytes);
        out.extend_from_slice(b",\"serialized_bytes\":");
        int(out, self.serialized_bytes);
        out.extend_from_slice(b",\"type\":");
        json_str(out, &self.type_name);
        out.extend_from_slice(b"}\n");
    }

    /// Appends the row as one CSV line (with its newline), in
    /// [`CSV_HEADER`]'s order.
    pub fn write_csv(&self, out: &mut Vec<u8>) {
        int(out, self.db);
        out.push(b',');
        csv_field(out, &self.key);
        out.push(b',');
        csv_field(out, &self.type_name);
        out.push(b',');
        out.extend_from_slice(self.encoding.as_bytes());
        out.push(b',');
        opt_int(out, self.elements, b"");
        out.push(b',');
        int(out, self.memory_bytes);
        out.push(b',');
        int(out, self.serialized_bytes);
        out.push(b',');
        opt_int(out, self.expire_at_ms, b"");
        out.push(b',');
        opt_int(out, self.idle_s, b"");
        out.push(b',');
        opt_int(out, self.freq, b"");
        out.push(b'\n');
    }
}

/// The names `TYPE` returns for the built-in types; module values report
/// their module's nine-character type name (`ReJSON-RL`, `MBbloom--`,
/// `vectorset`).
pub const TYPES: &[&str] = &["string", "list", "set", "zset", "hash", "stream", "array"];

/// The names `OBJECT ENCODING` returns, over every server version.
pub const ENCODINGS: &[&str] = &[
    "raw",
    "int",
    "embstr",
    "linkedlist",
    "ziplist",
    "quicklist",
    "listpack",
    "listpackex",
    "intset",
    "hashtable",
    "skiplist",
    "zipmap",
    "stream",
    "sliced-array",
];

/// Checks `--type`: a built-in type or a module type name (nine characters
/// of `A-Z a-z 0-9 - _`, as `RedisModule_CreateDataType` requires); a typo
/// (`hsh`) would otherwise silently match nothing.
pub fn check_type(name: &str) -> Result<(), String> {
    let module_name = name.len() == 9
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_');
    if TYPES.contains(&name) || module_name {
        Ok(())
    } else {
        Err(format!(
            "unknown --type '{name}'; use one of {}, or a module type name of nine characters (ReJSON-RL, MBbloom--, vectorset)",
            TYPES.join(", ")
        ))
    }
}

/// Checks `--encoding` against [`ENCODINGS`].
pub fn check_encoding(name: &str) -> Result<(), String> {
    if ENCODINGS.contains(&name) {
        Ok(())
    } else {
        Err(format!(
            "unknown --encoding '{name}'; use one of {}",
            ENCODINGS.join(", ")
        ))
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

/// Lists keys: each row is built and passed through `make` on the worker
/// threads (formatting it there keeps the in-order `emit` to a copy), then
/// `emit` receives the results in file order. A fault inside one value
/// skips that row only; a framing fault is salvaged past (or stops the walk,
/// as `walk` says).
#[allow(clippy::too_many_arguments)]
pub fn list<T: Send>(
    file: &RdbFile<'_>,
    pool: &rayon::ThreadPool,
    walk: Walk<'_>,
    filter: &Filter,
    model: &Model,
    redact: bool,
    progress: &dyn Fn(u64),
    make: &(dyn Fn(Row) -> T + Sync),
    emit: &mut dyn FnMut(T),
) -> Listed {
    let profile = file.profile();
    let depth = Depth {
        element_lengths: model.needs_element_lengths(),
    };
    let mut errors = Vec::new();
    let work = |f: &Frame<'_>| -> Option<Result<T, Error>> {
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
        let made = with_inspected(f, &profile, depth, |v| {
            if let Some(t) = &filter.type_name {
                if v.type_name.as_str() != t {
                    return None;
                }
            }
            if filter.encoding.as_deref().is_some_and(|e| e != v.encoding) {
                return None;
            }
            let memory = model.key_memory(f, key.len() as u64, v);
            Some(make(row(f, &key, v, memory, redact)))
        });
        match made {
            Ok(row) => row.map(Ok),
            Err(e) => Some(Err(e)),
        }
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

/// Writes formatted rows (see [`Row::write_ndjson`], [`Row::write_csv`]).
pub struct RowWriter<'w> {
    out: &'w mut dyn Write,
    /// First I/O error met (a closed pipe ends output quietly).
    pub error: Option<io::Error>,
}

impl<'w> RowWriter<'w> {
    /// Starts output; writes the CSV header when `csv`.
    pub fn new(out: &'w mut dyn Write, csv: bool) -> RowWriter<'w> {
        let mut w = RowWriter { out, error: None };
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

    /// Writes one formatted row.
    pub fn write(&mut self, line: &[u8]) {
        if self.error.is_none() {
            let r = self.out.write_all(line);
            self.note(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(key: &str) -> Row {
        Row {
            db: 3,
            key: key.to_string(),
            type_name: "hash".to_string(),
            encoding: "listpack",
            elements: Some(12),
            memory_bytes: 240,
            serialized_bytes: 97,
            expire_at_ms: Some(-1),
            idle_s: None,
            freq: Some(5),
        }
    }

    #[test]
    fn ndjson_rows_are_json_in_contract_order() {
        for key in ["user:1", "q\"uote,comma\\back", "ctl\u{1}x", "ключ"] {
            let mut line = Vec::new();
            sample(key).write_ndjson(&mut line);
            assert_eq!(line.last(), Some(&b'\n'));
            let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
            assert_eq!(v["key"], key);
            assert_eq!(v["idle_s"], serde_json::Value::Null);
            assert_eq!(v["expire_at_ms"], -1);
            // Fields in the contract's order, as serde_json's map writes them.
            assert_eq!(
                std::str::from_utf8(&line).unwrap().trim_end(),
                serde_json::to_string(&v).unwrap()
            );
        }
    }

    #[test]
    fn csv_rows_quote_separators() {
        let mut line = Vec::new();
        sample("a,\"b\"").write_csv(&mut line);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "3,\"a,\"\"b\"\"\",hash,listpack,12,240,97,-1,,5\n"
        );
        let mut line = Vec::new();
        sample("plain").write_csv(&mut line);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "3,plain,hash,listpack,12,240,97,-1,,5\n"
        );
    }
}

//! `redsleuth check`: what redis-check-rdb tells, for every version of both
//! forks — header, AUX fields, keys and expires per database, types and
//! encodings, checksum verdict — and on a broken file the exact byte offset
//! and what was being read, with everything read before the fault.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::rdb::value::{inspect, Depth};
use crate::rdb::{self, Error, Profile, RdbFile, Record};

/// Keys and expires of one database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbCount {
    /// Keys read.
    pub keys: u64,
    /// Keys with an expiry.
    pub expires: u64,
    /// What RESIZEDB announced, if the writer wrote it.
    pub announced: Option<(u64, u64)>,
}

/// The checksum verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checksum {
    /// Stored and computed CRC-64 agree.
    Ok(u64),
    /// The file carries none (version < 5, or written with `rdbchecksum no`).
    Absent,
    /// They differ.
    Mismatch {
        /// Stored value.
        stored: u64,
        /// Computed value.
        computed: u64,
    },
    /// The walk never reached the trailer.
    NotReached,
}

/// Everything `check` found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// Input size in bytes (decompressed).
    pub bytes: u64,
    /// Header.
    pub header: rdb::Header,
    /// Server profile.
    pub profile: Profile,
    /// AUX fields in file order (values escaped).
    pub aux: Vec<(String, String)>,
    /// Per database.
    pub dbs: BTreeMap<u64, DbCount>,
    /// Keys per (type, encoding).
    pub types: BTreeMap<(String, String), u64>,
    /// Function libraries.
    pub functions: u64,
    /// Module AUX records.
    pub module_aux: u64,
    /// Cluster slot-info records.
    pub slot_info: u64,
    /// Checksum verdict.
    pub checksum: Checksum,
    /// Offset of the EOF opcode, when reached.
    pub eof_offset: Option<u64>,
    /// Bytes after the trailer (an AOF tail after an RDB preamble).
    pub trailing_bytes: u64,
    /// Faults: the one that stopped the walk, and bad values inside
    /// well-framed keys.
    pub errors: Vec<Error>,
}

impl CheckReport {
    /// Total keys read.
    pub fn keys(&self) -> u64 {
        self.dbs.values().map(|d| d.keys).sum()
    }

    /// Total keys with expiry.
    pub fn expires(&self) -> u64 {
        self.dbs.values().map(|d| d.expires).sum()
    }

    /// True when nothing was wrong.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && !matches!(self.checksum, Checksum::Mismatch { .. })
    }
}

/// Checks a whole file, validating every value's inner encoding in parallel
/// and the checksum on a second thread.
pub fn check(file: &RdbFile<'_>, pool: &rayon::ThreadPool, progress: &dyn Fn(u64)) -> CheckReport {
    let profile = file.profile();
    let mut report = CheckReport {
        bytes: file.data().len() as u64,
        header: file.header(),
        profile,
        aux: Vec::new(),
        dbs: BTreeMap::new(),
        types: BTreeMap::new(),
        functions: 0,
        module_aux: 0,
        slot_info: 0,
        checksum: Checksum::NotReached,
        eof_offset: None,
        trailing_bytes: 0,
        errors: Vec::new(),
    };
    let mut eof = None;
    let mut current_db = 0u64;
    let work = |f: &rdb::Frame<'_>| {
        let mut scratch = Vec::new();
        inspect(f, &profile, Depth::default(), &mut scratch)
            .map(|v| (v.type_name.as_str().to_string(), v.encoding))
    };
    let (fatal, crc) = rdb::scan::scan_with_checksum(
        file,
        pool,
        work,
        |rec, res| match rec {
            Record::Aux { key, value, .. } => {
                let (k, v) = super::aux_text(key, value);
                report.aux.push((k, v));
            }
            Record::SelectDb { db, .. } => {
                current_db = *db;
                report.dbs.entry(*db).or_default();
            }
            Record::ResizeDb { keys, expires, .. } => {
                report.dbs.entry(current_db).or_default().announced = Some((*keys, *expires));
            }
            Record::SlotInfo { .. } => report.slot_info += 1,
            Record::ModuleAux { .. } => report.module_aux += 1,
            Record::Function { .. } => report.functions += 1,
            Record::ValkeyControl { .. } => {}
            Record::Key(f) => {
                let d = report.dbs.entry(f.db).or_default();
                d.keys += 1;
                d.expires += u64::from(f.expire_ms.is_some());
                match res {
                    Some(Ok((t, e))) => *report.types.entry((t, e.to_string())).or_default() += 1,
                    Some(Err(err)) => report.errors.push(err),
                    None => {}
                }
            }
            Record::Eof {
                offset,
                stored_crc,
                end,
            } => {
                eof = Some((*offset, *stored_crc));
                report.eof_offset = Some(*offset);
                report.trailing_bytes = report.bytes.saturating_sub(*end);
            }
        },
        progress,
    );
    if let Some(e) = fatal {
        report.errors.insert(0, e);
    }
    if let Some((offset, stored)) = eof {
        report.checksum = match file.verify_checksum_with(offset, stored, crc) {
            Ok(true) => Checksum::Ok(stored.unwrap_or(0)),
            Ok(false) => Checksum::Absent,
            Err(Error {
                kind: rdb::ErrorKind::Checksum { stored, computed },
                ..
            }) => Checksum::Mismatch { stored, computed },
            Err(e) => {
                report.errors.push(e);
                Checksum::NotReached
            }
        };
    }
    report
}

/// Writes the human-readable report.
pub fn render_text(r: &CheckReport, path: &str, out: &mut dyn Write) -> io::Result<()> {
    let magic = match r.header.magic {
        rdb::Magic::Redis => format!("REDIS{:04}", r.header.version),
        rdb::Magic::Valkey => format!("VALKEY{:03}", r.header.version),
    };
    writeln!(out, "file       {path} ({} bytes)", r.bytes)?;
    let guess = if r.profile.from_aux {
        ""
    } else {
        ", inferred from the RDB version"
    };
    writeln!(
        out,
        "format     {magic} (written by {}{guess})",
        r.profile.label()
    )?;
    for (k, v) in &r.aux {
        let v = if v.len() > 60 {
            format!("{}… ({} bytes)", &v[..v.floor_char_boundary(57)], v.len())
        } else {
            v.clone()
        };
        writeln!(out, "aux        {k} = {v}")?;
    }
    for (db, d) in &r.dbs {
        let hint = match d.announced {
            Some((k, e)) if (k, e) != (d.keys, d.expires) => {
                format!(" (RESIZEDB announced {k} keys, {e} expires)")
            }
            _ => String::new(),
        };
        writeln!(
            out,
            "db {db:<7} {} keys, {} expires{hint}",
            d.keys, d.expires
        )?;
    }
    for ((t, e), n) in &r.types {
        writeln!(out, "type       {t}/{e}: {n}")?;
    }
    if r.functions > 0 {
        writeln!(out, "functions  {} libraries", r.functions)?;
    }
    if r.module_aux > 0 {
        writeln!(out, "modules    {} aux records", r.module_aux)?;
    }
    if r.slot_info > 0 {
        writeln!(out, "slots      {} slot-info records", r.slot_info)?;
    }
    writeln!(out, "total      {} keys, {} expires", r.keys(), r.expires())?;
    if r.trailing_bytes > 0 {
        writeln!(
            out,
            "trailer    {} bytes after the RDB end (AOF tail?)",
            r.trailing_bytes
        )?;
    }
    let crc = match &r.checksum {
        Checksum::Ok(c) => format!("OK (crc64 {c:016x})"),
        Checksum::Absent => "not present in this file".to_string(),
        Checksum::Mismatch { stored, computed } => {
            format!("MISMATCH: stored {stored:016x}, computed {computed:016x}")
        }
        Checksum::NotReached => "not verified (end of file not reached)".to_string(),
    };
    writeln!(out, "checksum   {crc}")?;
    for e in &r.errors {
        writeln!(out, "error      {e}")?;
    }
    writeln!(
        out,
        "status     {}",
        if r.is_ok() { "OK" } else { "BROKEN" }
    )
}

/// Writes the JSON report.
pub fn render_json(r: &CheckReport, path: &str, out: &mut dyn Write) -> io::Result<()> {
    let dbs: Vec<Value> = r
        .dbs
        .iter()
        .map(|(db, d)| json!({"db": db, "keys": d.keys, "expires": d.expires}))
        .collect();
    let types: Vec<Value> = r
        .types
        .iter()
        .map(|((t, e), n)| json!({"type": t, "encoding": e, "keys": n}))
        .collect();
    let aux: serde_json::Map<String, Value> = r
        .aux
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let checksum = match &r.checksum {
        Checksum::Ok(c) => json!({"status": "ok", "crc64": format!("{c:016x}")}),
        Checksum::Absent => json!({"status": "absent"}),
        Checksum::Mismatch { stored, computed } => json!({"status": "mismatch",
            "stored": format!("{stored:016x}"), "computed": format!("{computed:016x}")}),
        Checksum::NotReached => json!({"status": "not_reached"}),
    };
    let errors: Vec<Value> = r
        .errors
        .iter()
        .map(|e| json!({"offset": e.offset, "context": e.context, "message": e.to_string()}))
        .collect();
    let v = json!({
        "tool": {"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")},
        "source": {"path": path, "bytes": r.bytes, "rdb_version": r.header.version,
            "magic": r.header.magic, "server": {"family": r.profile.family,
            "version": format!("{}.{}.{}", r.profile.version.0, r.profile.version.1, r.profile.version.2)},
            "aux": aux, "checksum": checksum},
        "keyspace": {"keys": r.keys(), "expires": r.expires(), "dbs": dbs},
        "types": types,
        "functions": r.functions,
        "ok": r.is_ok(),
        "errors": errors,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

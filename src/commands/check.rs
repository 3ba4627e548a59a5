//! `redsleuth check`: what redis-check-rdb tells, for every version of both
//! forks — header, AUX fields, keys and expires per database, types and
//! encodings, checksum verdict — and on a broken file the exact byte offset
//! and what was being read, with everything read before the fault.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{json, Value};

use crate::faults::{Checksum, ChecksumStatus, ReadError, SkippedRange};
use crate::rdb::scan::{Fault, Walk};
use crate::rdb::value::{with_inspected, Depth};
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
    pub aux: crate::aux::AuxFields,
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
    /// Every fault in file order: records the framer could not read, and
    /// bad values inside well-framed keys.
    pub errors: Vec<Error>,
    /// The framer's faults, with the ranges skipped past them and the keys
    /// read on either side.
    pub faults: Vec<Fault>,
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

    /// Bytes skipped past faults.
    pub fn skipped_bytes(&self) -> u64 {
        self.faults
            .iter()
            .filter_map(|f| f.skipped.map(|s| s.bytes()))
            .sum()
    }

    /// True when nothing was wrong.
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && !self.checksum.is_mismatch()
    }
}

/// Checks a whole file, validating every value's inner encoding in parallel
/// and the checksum on a second thread.
pub fn check(
    file: &RdbFile<'_>,
    pool: &rayon::ThreadPool,
    walk: Walk<'_>,
    progress: &dyn Fn(u64),
) -> CheckReport {
    let profile = file.profile();
    let mut report = CheckReport {
        bytes: file.data().len() as u64,
        header: file.header(),
        profile,
        aux: crate::aux::AuxFields::default(),
        dbs: BTreeMap::new(),
        types: BTreeMap::new(),
        functions: 0,
        module_aux: 0,
        slot_info: 0,
        checksum: Checksum::default(),
        eof_offset: None,
        trailing_bytes: 0,
        errors: Vec::new(),
        faults: Vec::new(),
    };
    let mut eof = None;
    let mut current_db = 0u64;
    let work = |f: &rdb::Frame<'_>| {
        with_inspected(f, &profile, Depth::default(), |v| {
            (v.type_name.as_str().to_string(), v.encoding)
        })
    };
    let (faults, crc) = rdb::scan::scan_with_checksum(
        file,
        pool,
        walk,
        work,
        |rec, res| match rec {
            Record::Aux { key, value, .. } => {
                let (k, v) = super::aux_text(key, value);
                report.aux.push(k, v);
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
    report.errors.extend(faults.iter().map(|f| f.error.clone()));
    report.errors.sort_by_key(|e| e.offset);
    report.faults = faults;
    if let Some((offset, stored)) = eof {
        let verdict = file.verify_checksum_with(offset, stored, crc);
        report.checksum = Checksum::from_verify(stored, &verdict);
        if let Err(e) = verdict {
            if report.checksum.status == ChecksumStatus::NotReached {
                report.errors.push(e);
            }
        }
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
    for (k, v) in r.aux.iter() {
        let v = if v.len() > 60 {
            format!("{}… ({} bytes)", &v[..v.floor_char_boundary(57)], v.len())
        } else {
            v.to_string()
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
    writeln!(out, "checksum   {}", r.checksum)?;
    for e in &r.errors {
        writeln!(out, "error      {e}")?;
        match r.faults.iter().find(|f| f.error == *e) {
            Some(Fault {
                skipped: Some(s),
                keys_before,
                keys_after,
                ..
            }) => writeln!(
                out,
                "skipped    bytes {}..{} ({} bytes, ~{} keys lost); {keys_before} keys read before, {keys_after} after",
                s.from,
                s.to,
                s.bytes(),
                s.keys_lost_estimate
            )?,
            // The record was passed over whole; the error line says so.
            Some(Fault { error, .. }) if error.is_skippable() => {}
            Some(Fault {
                skipped: None,
                keys_before,
                ..
            }) => writeln!(out, "stopped    {keys_before} keys read before the fault")?,
            None => {}
        }
    }
    if r.skipped_bytes() > 0 {
        let lost: u64 = r
            .faults
            .iter()
            .filter_map(|f| f.skipped.map(|s| s.keys_lost_estimate))
            .sum();
        writeln!(
            out,
            "salvaged   {} keys read; {} bytes in {} range(s) skipped, ~{lost} keys lost",
            r.keys(),
            r.skipped_bytes(),
            r.faults.iter().filter(|f| f.skipped.is_some()).count()
        )?;
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
    let errors: Vec<ReadError> = r.errors.iter().map(|e| ReadError::new(path, e)).collect();
    let skipped: Vec<SkippedRange> = r
        .faults
        .iter()
        .filter_map(|f| SkippedRange::new(path, f))
        .collect();
    let v = json!({
        "schema_version": crate::SCHEMA_VERSION,
        "tool": {"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")},
        "source": {"path": path, "bytes": r.bytes, "rdb_version": r.header.version,
            "magic": r.header.magic, "server": {"family": r.profile.family,
            "version": format!("{}.{}.{}", r.profile.version.0, r.profile.version.1, r.profile.version.2)},
            "aux": r.aux, "checksum": r.checksum},
        "keyspace": {"keys": r.keys(), "expires": r.expires(), "dbs": dbs},
        "types": types,
        "functions": r.functions,
        "ok": r.is_ok(),
        "errors": errors,
        "skipped": skipped,
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

/// Writes the JSON report of an input whose header could not be read (no
/// signature, a version from the future, an empty file): the same document
/// with the header's fields `null`, nothing counted, and the one error, so
/// a fleet job that collects every shard's `check` output gets a record of
/// the shard instead of an empty file.
pub fn render_json_unreadable(
    path: &str,
    bytes: u64,
    e: &Error,
    out: &mut dyn Write,
) -> io::Result<()> {
    let v = json!({
        "schema_version": crate::SCHEMA_VERSION,
        "tool": {"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")},
        "source": {"path": path, "bytes": bytes, "rdb_version": null, "magic": null,
            "server": null, "aux": crate::aux::AuxFields::default(),
            "checksum": Checksum::default()},
        "keyspace": {"keys": 0, "expires": 0, "dbs": []},
        "types": [],
        "functions": 0,
        "ok": false,
        "errors": [ReadError::new(path, e)],
        "skipped": [],
    });
    serde_json::to_writer_pretty(&mut *out, &v)?;
    writeln!(out)
}

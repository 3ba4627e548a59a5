//! The framer: the one sequential stage of RDB reading. It walks opcodes and
//! length prefixes only and hands out borrowed [`Record`]s — a [`Frame`] per
//! key — without decoding any value, so it runs near memory bandwidth and the
//! expensive work (LZF, listpack walks, memory estimates) happens in parallel
//! workers.
//!
//! RDB has no sync markers. A strict walk stops at the first fault;
//! everything framed before it stands. A salvaging walk
//! ([`Records::salvaging`]) hands the fault to [`super::salvage`], which looks
//! for the next offset where records parse plausibly, and goes on from there:
//! after a torn write or a bad sector most of a dump is still readable.

use nom::number::complete::{le_i32, u8 as byte};

use super::consts::*;
use super::error::{Error, ErrorKind, Result};
use super::kind::{Kind, Magic};
use super::module::{parse_key_meta, parse_module_aux, parse_module_value};
use super::primitives::{
    parse_binary_double, parse_len, parse_ms, parse_string, parse_string_double, parse_u64_le,
    skip_string, take_len, PError, PResult, RdbString,
};
use super::salvage::{self, Skipped};
use super::stream::parse_stream;
use crate::pages::passed;

/// One key as framed: where it is, what it is, and its raw value bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame<'a> {
    /// Offset of the record's first byte (its first prefix opcode, or the type
    /// byte when it has none).
    pub offset: u64,
    /// Database number.
    pub db: u64,
    /// Value type.
    pub kind: Kind,
    /// The key, as stored.
    pub key: RdbString<'a>,
    /// Offset of the value's first byte.
    pub value_offset: u64,
    /// The value's bytes as stored, undecoded.
    pub value: &'a [u8],
    /// Bytes of the type byte, key and value (the record without prefixes).
    pub serialized_bytes: u64,
    /// Absolute expiry in Unix milliseconds.
    pub expire_ms: Option<i64>,
    /// LRU idle time in seconds.
    pub idle_s: Option<u64>,
    /// LFU logarithmic counter.
    pub freq: Option<u8>,
    /// Number of module key-metadata classes attached (Redis 8.6+).
    pub meta_classes: u8,
}

/// A top-level record of an RDB file.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Record<'a> {
    /// An auxiliary field.
    Aux {
        /// Offset of the opcode.
        offset: u64,
        /// Field name.
        key: RdbString<'a>,
        /// Field value.
        value: RdbString<'a>,
    },
    /// Start of a database.
    SelectDb {
        /// Offset of the opcode.
        offset: u64,
        /// Database number.
        db: u64,
    },
    /// Size hints for the current database.
    ResizeDb {
        /// Offset of the opcode.
        offset: u64,
        /// Keys in the database.
        keys: u64,
        /// Keys with an expiry.
        expires: u64,
    },
    /// Redis cluster slot counts.
    SlotInfo {
        /// Offset of the opcode.
        offset: u64,
        /// Slot number.
        slot: u64,
        /// Keys in the slot.
        keys: u64,
        /// Keys with an expiry in the slot.
        expires: u64,
    },
    /// Module auxiliary data.
    ModuleAux {
        /// Offset of the opcode.
        offset: u64,
        /// Module type id.
        module_id: u64,
        /// 1 before keys, 2 after.
        when: u64,
    },
    /// A function library.
    Function {
        /// Offset of the opcode.
        offset: u64,
        /// Library source (FUNCTION2) or function name (7.0 release candidates).
        code: RdbString<'a>,
    },
    /// A Valkey slot import job or inline replication command.
    ValkeyControl {
        /// Offset of the opcode.
        offset: u64,
        /// The opcode byte.
        opcode: u8,
    },
    /// A key.
    Key(Frame<'a>),
    /// End of file.
    Eof {
        /// Offset of the EOF opcode.
        offset: u64,
        /// The stored CRC-64 (`None` before version 5).
        stored_crc: Option<u64>,
        /// Offset just past the record (where trailing bytes would start).
        end: u64,
    },
}

/// Prefix opcodes read but not yet attached to a key. Redis's loader keeps
/// them across AUX and SELECTDB records until the next key consumes them
/// (KeyDB writes an `mvcc-tstamp` AUX between a key's expiry and the key).
#[derive(Debug, Clone, Copy, Default)]
struct Pending {
    /// Offset of the first prefix opcode.
    start: Option<usize>,
    expire_ms: Option<i64>,
    idle_s: Option<u64>,
    freq: Option<u8>,
    meta_classes: u8,
}

/// What the walk has seen of the file's keys, so a resync can tell whether a
/// candidate record looks like them.
#[derive(Debug, Clone, Default)]
pub struct KeyStats {
    /// Keys framed.
    pub keys: u64,
    /// Bytes of those keys' records, prefixes included.
    pub record_bytes: u64,
    /// Keys whose name was sampled for [`KeyStats::printable`].
    pub sampled: u32,
    /// Sampled names made only of printable ASCII.
    pub printable: u32,
    /// Leading words of names seen ([`salvage::name_prefix`]), a few hundred
    /// at most.
    pub prefixes: std::collections::HashSet<Vec<u8>>,
}

impl KeyStats {
    /// Mean bytes per key record, when any key was read.
    pub fn mean_record_bytes(&self) -> Option<u64> {
        (self.keys > 0).then(|| (self.record_bytes / self.keys).max(1))
    }

    /// True unless the file is seen to hold binary names: then a candidate
    /// with a binary name is unlike the file's keys. Most keyspaces are
    /// printable, so that is the assumption before there is evidence.
    pub fn names_printable(&self) -> bool {
        self.sampled < 8 || self.printable * 20 >= self.sampled * 19
    }

    fn note(&mut self, key: &RdbString<'_>, bytes: u64) {
        // Sampling one name in 16 (every one of the first thousands, for the
        // prefixes) keeps the framer's hot path cheap.
        if self.keys.is_multiple_of(16) || self.keys < 4096 {
            let name: &[u8] = match key {
                RdbString::Raw(k) => {
                    if self.keys.is_multiple_of(16) {
                        self.sampled += 1;
                        self.printable += u32::from(salvage::printable(k));
                    }
                    k
                }
                // An integer name has no leading word.
                RdbString::Int(_) => b"",
                RdbString::Lzf { .. } => b"\0lzf",
            };
            if self.prefixes.len() < salvage::MAX_PREFIXES {
                let p = salvage::name_prefix(name);
                if !self.prefixes.contains(p) {
                    self.prefixes.insert(p.to_vec());
                }
            }
        }
        self.keys += 1;
        self.record_bytes += bytes;
    }
}

/// The sequential record walk over a whole file.
pub struct Records<'a> {
    data: &'a [u8],
    pos: usize,
    magic: Magic,
    version: u32,
    db: u64,
    done: bool,
    pending: Pending,
    stats: KeyStats,
    salvage: Option<salvage::Budget>,
    skipped: Option<Skipped>,
    track: bool,
}

impl<'a> Records<'a> {
    /// Starts walking `data` (the whole file) at `pos`, just past the magic.
    pub fn new(data: &'a [u8], pos: usize, magic: Magic, version: u32) -> Records<'a> {
        Records {
            data,
            pos,
            magic,
            version,
            db: 0,
            done: false,
            pending: Pending::default(),
            stats: KeyStats::default(),
            salvage: None,
            skipped: None,
            track: true,
        }
    }

    /// Makes the walk go on past faults: after an error, the next record is
    /// the first plausible one found by [`salvage::resync`], and
    /// [`Records::take_skipped`] tells which bytes were passed over.
    pub fn salvaging(mut self) -> Records<'a> {
        self.salvage = Some(salvage::Budget::for_file(self.data.len()));
        self
    }

    /// A lookahead walk for a resync candidate: it starts in database `db`
    /// (there is no SELECTDB to go by) and learns nothing about names.
    pub(crate) fn probe(mut self, db: u64) -> Records<'a> {
        self.db = db;
        self.track = false;
        self
    }

    /// Byte offset of the next record.
    pub fn position(&self) -> u64 {
        self.pos as u64
    }

    /// What was learnt of the keys framed so far.
    pub fn stats(&self) -> &KeyStats {
        &self.stats
    }

    /// The range passed over after the last error, once per error.
    pub fn take_skipped(&mut self) -> Option<Skipped> {
        self.skipped.take()
    }

    fn offset_of(&self, rest: &[u8]) -> u64 {
        (self.data.len() - rest.len()) as u64
    }

    fn lift(&self, e: nom::Err<PError<'_>>, context: &'static str) -> Error {
        match e {
            nom::Err::Error(p) | nom::Err::Failure(p) => {
                let offset = self.offset_of(p.at);
                let ctx = if p.what == "input" { context } else { p.what };
                if p.truncated {
                    Error::truncated(offset, ctx)
                } else {
                    Error::corrupt(offset, ctx, format!("bad {}", p.what))
                }
            }
            nom::Err::Incomplete(_) => Error::truncated(self.data.len() as u64, context),
        }
    }

    fn next_record(&mut self) -> Result<Record<'a>> {
        let data = self.data;
        let mut i = data.get(self.pos..).unwrap_or(&[]);
        let Pending {
            start,
            mut expire_ms,
            mut idle_s,
            mut freq,
            mut meta_classes,
        } = std::mem::take(&mut self.pending);
        let start = start.unwrap_or(self.pos);
        loop {
            let here = i;
            let (rest, op) = byte::<_, PError<'_>>(i).map_err(|e| self.lift(e, "reading type"))?;
            let offset = self.offset_of(here);
            let rec = match op {
                OP_EXPIRETIME_MS => {
                    let (r, ms) = parse_ms(rest).map_err(|e| self.lift(e, "reading expire"))?;
                    expire_ms = Some(ms);
                    i = r;
                    continue;
                }
                OP_EXPIRETIME => {
                    let (r, s) = le_i32::<_, PError<'_>>(rest)
                        .map_err(|e| self.lift(e, "reading expire"))?;
                    expire_ms = Some(i64::from(s) * 1000);
                    i = r;
                    continue;
                }
                OP_IDLE => {
                    let (r, s) = parse_len(rest).map_err(|e| self.lift(e, "reading idle"))?;
                    idle_s = Some(s);
                    i = r;
                    continue;
                }
                OP_FREQ => {
                    let (r, f) =
                        byte::<_, PError<'_>>(rest).map_err(|e| self.lift(e, "reading freq"))?;
                    freq = Some(f);
                    i = r;
                    continue;
                }
                OP_F3 if self.magic == Magic::Redis => {
                    let (r, n) =
                        parse_key_meta(rest).map_err(|e| self.lift(e, "reading key metadata"))?;
                    meta_classes = n as u8;
                    i = r;
                    continue;
                }
                OP_EOF => {
                    let (r, stored_crc) = if self.version >= 5 {
                        let (r, c) =
                            parse_u64_le(rest).map_err(|e| self.lift(e, "reading checksum"))?;
                        (r, Some(c))
                    } else {
                        (rest, None)
                    };
                    self.done = true;
                    let end = self.offset_of(r);
                    self.pos = end as usize;
                    return Ok(Record::Eof {
                        offset,
                        stored_crc,
                        end,
                    });
                }
                OP_SELECTDB => {
                    let (r, db) = parse_len(rest).map_err(|e| self.lift(e, "reading db number"))?;
                    self.db = db;
                    i = r;
                    Record::SelectDb { offset, db }
                }
                OP_RESIZEDB => {
                    let (r, keys) =
                        parse_len(rest).map_err(|e| self.lift(e, "reading resizedb"))?;
                    let (r, expires) =
                        parse_len(r).map_err(|e| self.lift(e, "reading resizedb"))?;
                    i = r;
                    Record::ResizeDb {
                        offset,
                        keys,
                        expires,
                    }
                }
                OP_AUX => {
                    let (r, key) = parse_string(rest).map_err(|e| self.lift(e, "reading aux"))?;
                    let (r, value) = parse_string(r).map_err(|e| self.lift(e, "reading aux"))?;
                    i = r;
                    Record::Aux { offset, key, value }
                }
                OP_MODULE_AUX => {
                    let (r, m) =
                        parse_module_aux(rest).map_err(|e| self.lift(e, "reading module aux"))?;
                    i = r;
                    Record::ModuleAux {
                        offset,
                        module_id: m.module_id,
                        when: m.when,
                    }
                }
                OP_FUNCTION2 => {
                    let (r, code) =
                        parse_string(rest).map_err(|e| self.lift(e, "reading function"))?;
                    i = r;
                    Record::Function { offset, code }
                }
                OP_FUNCTION_PRE_GA => {
                    let (r, code) = parse_function_pre_ga(rest)
                        .map_err(|e| self.lift(e, "reading function"))?;
                    i = r;
                    Record::Function { offset, code }
                }
                OP_SLOT_INFO => {
                    let (r, slot) = parse_len(rest).map_err(|e| self.lift(e, "reading slot"))?;
                    let (r, keys) = parse_len(r).map_err(|e| self.lift(e, "reading slot"))?;
                    let (r, expires) = parse_len(r).map_err(|e| self.lift(e, "reading slot"))?;
                    i = r;
                    Record::SlotInfo {
                        offset,
                        slot,
                        keys,
                        expires,
                    }
                }
                OP_F3 => {
                    let r =
                        skip_slot_import(rest).map_err(|e| self.lift(e, "reading slot import"))?;
                    i = r;
                    Record::ValkeyControl { offset, opcode: op }
                }
                OP_F2 if self.magic == Magic::Valkey => {
                    let r = skip_resp_command(rest)
                        .map_err(|e| self.lift(e, "reading inline command"))?;
                    i = r;
                    Record::ValkeyControl { offset, opcode: op }
                }
                OP_RE_RAM_LRU | OP_RE_SLOT_NUM => {
                    let (r, _) = parse_len(rest).map_err(|e| self.lift(e, "reading opcode"))?;
                    i = r;
                    continue;
                }
                t => {
                    let kind = match Kind::from_byte(t, self.magic) {
                        Some(k) => k,
                        None => {
                            return Err(Error {
                                offset,
                                context: "reading type",
                                kind: ErrorKind::UnknownType(t),
                            })
                        }
                    };
                    let (r, key) = parse_string(rest).map_err(|e| self.lift(e, "reading key"))?;
                    let value_start = r;
                    if kind == Kind::ModulePreGa {
                        return Err(Error {
                            offset: self.offset_of(value_start),
                            context: "reading value",
                            kind: ErrorKind::Unsupported(
                                "a module value in the format of the 4.0 release candidates \
                                 carries no length; only its module's loader can read or skip it",
                            ),
                        });
                    }
                    let r = skip_value(r, kind).map_err(|e| self.lift(e, "reading value"))?;
                    if empty_collection(kind, &value_start[..value_start.len() - r.len()]) {
                        self.pos = self.offset_of(r) as usize;
                        return Err(Error {
                            offset: start as u64,
                            context: "reading value",
                            kind: ErrorKind::EmptyKey(kind.type_name()),
                        });
                    }
                    let value_len = value_start.len() - r.len();
                    let frame = Frame {
                        offset: start as u64,
                        db: self.db,
                        kind,
                        key,
                        value_offset: self.offset_of(value_start),
                        value: &value_start[..value_len],
                        serialized_bytes: self.offset_of(r) - offset,
                        expire_ms,
                        idle_s,
                        freq,
                        meta_classes,
                    };
                    i = r;
                    if self.track {
                        self.stats.note(&key, self.offset_of(r) - start as u64);
                    }
                    Record::Key(frame)
                }
            };
            // Prefixes survive the records that are not keys, as in Redis's
            // loader.
            let prefixed =
                expire_ms.is_some() || idle_s.is_some() || freq.is_some() || meta_classes > 0;
            if prefixed && !matches!(rec, Record::Key(_)) {
                self.pending = Pending {
                    start: Some(start),
                    expire_ms,
                    idle_s,
                    freq,
                    meta_classes,
                };
            }
            self.pos = self.offset_of(i) as usize;
            return Ok(rec);
        }
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        // A fault's range starts at its record, expiry and idle prefixes
        // included, even when an AUX record came between them and the key;
        // the search for the next record starts after what was already
        // returned, so no record is returned twice.
        let from = self.pending.start.unwrap_or(self.pos);
        let search_from = self.pos;
        let r = self.next_record();
        if r.as_ref().is_err_and(|e| !e.is_skippable()) {
            self.pending = Pending::default();
            match self.salvage.as_mut() {
                None => self.done = true,
                Some(budget) => {
                    let found = salvage::resync(
                        self.data,
                        search_from.max(from),
                        self.magic,
                        self.version,
                        self.db,
                        &self.stats,
                        budget,
                    );
                    let to = found.unwrap_or(self.data.len());
                    let lost = self
                        .stats
                        .mean_record_bytes()
                        .map_or(1, |m| ((to - from) as u64).div_ceil(m));
                    self.skipped = Some(Skipped {
                        from: from as u64,
                        to: to as u64,
                        keys_lost_estimate: lost,
                    });
                    self.pos = to;
                    self.done = found.is_none();
                }
            }
        }
        Some(r)
    }
}

/// True for a collection with no elements, which Redis's loader refuses as
/// an empty key. Compact encodings are judged by their blob header; they are
/// never LZF-compressed when empty (Redis compresses only strings over 20
/// bytes, and the empty ziplist, listpack, intset and zipmap are shorter).
fn empty_collection(kind: Kind, value: &[u8]) -> bool {
    let header = |at: usize, width: usize| -> Option<u32> {
        let (_, s) = parse_string(value).ok()?;
        let RdbString::Raw(blob) = s else {
            return None;
        };
        let b = blob.get(at..at + width)?;
        Some(b.iter().rev().fold(0u32, |n, &x| n << 8 | u32::from(x)))
    };
    match kind {
        Kind::List | Kind::Set | Kind::Zset | Kind::Zset2 | Kind::Hash | Kind::ValkeyHash2 => {
            matches!(parse_len(value), Ok((_, 0)))
        }
        Kind::ListQuicklist | Kind::ListQuicklist2 => quicklist_is_empty(kind, value),
        // zllen, a little-endian u16 after zlbytes and zltail.
        Kind::ListZiplist | Kind::ZsetZiplist | Kind::HashZiplist => header(8, 2) == Some(0),
        // The element count, a little-endian u16 after the total size.
        Kind::SetListpack | Kind::ZsetListpack | Kind::HashListpack => header(4, 2) == Some(0),
        // The length, a little-endian u32 after the encoding.
        Kind::SetIntset => header(4, 4) == Some(0),
        // zmlen, the first byte.
        Kind::HashZipmap => header(0, 1) == Some(0),
        _ => false,
    }
}

/// True for a quicklist with no nodes or only empty ones: Redis's loader
/// drops empty nodes and then refuses the list left with none.
fn quicklist_is_empty(kind: Kind, value: &[u8]) -> bool {
    let Ok((mut r, nodes)) = parse_len(value) else {
        return false;
    };
    for _ in 0..nodes {
        if kind == Kind::ListQuicklist2 {
            match parse_len(r) {
                // A plain node holds one element.
                Ok((_, 1)) | Err(_) => return false,
                Ok((r2, _)) => r = r2,
            }
        }
        let Ok((r2, node)) = parse_string(r) else {
            return false;
        };
        r = r2;
        // An empty ziplist or listpack is too short to have been compressed.
        let RdbString::Raw(blob) = node else {
            return false;
        };
        let count = if kind == Kind::ListQuicklist {
            blob.get(8..10)
        } else {
            blob.get(4..6)
        };
        if count != Some(&[0, 0][..]) {
            return false;
        }
    }
    true
}

/// 7.0 release-candidate function: name, engine, optional description, code.
fn parse_function_pre_ga(i: &[u8]) -> PResult<'_, RdbString<'_>> {
    let (r, name) = parse_string(i)?;
    let (r, _engine) = skip_string(r)?;
    let (mut r, has_desc) = parse_len(r)?;
    if has_desc != 0 {
        r = skip_string(r)?.0;
    }
    let (r, _code) = skip_string(r)?;
    Ok((r, name))
}

/// Valkey SLOT_IMPORT: job name, then slot ranges.
fn skip_slot_import(i: &[u8]) -> std::result::Result<&[u8], nom::Err<PError<'_>>> {
    let (mut r, _job) = skip_string(i)?;
    let (r2, n) = parse_len(r)?;
    r = r2;
    for _ in 0..n {
        r = parse_len(r)?.0;
        r = parse_len(r)?.0;
    }
    Ok(r)
}

/// A RESP multi-bulk command: `*N\r\n` then N × `$len\r\n<bytes>\r\n`.
fn skip_resp_command(i: &[u8]) -> std::result::Result<&[u8], nom::Err<PError<'_>>> {
    fn number<'b>(i: &'b [u8], lead: u8) -> PResult<'b, u64> {
        let (r, b) = byte(i)?;
        if b != lead {
            return Err(PError::corrupt(i, "inline command"));
        }
        let end = memchr::memchr(b'\r', r).ok_or(nom::Err::Error(PError {
            at: r,
            what: "inline command",
            truncated: true,
        }))?;
        let n = std::str::from_utf8(&r[..end])
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| PError::corrupt(r, "inline command"))?;
        let (r, _) = take_len(&r[end..], 2)?;
        Ok((r, n))
    }
    let (mut r, n) = number(i, b'*')?;
    for _ in 0..n {
        let (r2, len) = number(r, b'$')?;
        let (r2, _) = take_len(r2, len.saturating_add(2))?;
        r = r2;
    }
    Ok(r)
}

/// Skips one value of `kind`, reading only headers (rdb-format.md §6).
pub fn skip_value(i: &[u8], kind: Kind) -> std::result::Result<&[u8], nom::Err<PError<'_>>> {
    Ok(match kind {
        Kind::String
        | Kind::HashZipmap
        | Kind::ListZiplist
        | Kind::SetIntset
        | Kind::ZsetZiplist
        | Kind::HashZiplist
        | Kind::HashListpack
        | Kind::ZsetListpack
        | Kind::SetListpack
        | Kind::HashListpackExPreGa => skip_string(i)?.0,
        Kind::HashListpackEx => skip_string(parse_ms(i)?.0)?.0,
        Kind::List | Kind::Set => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                r = skip_string(r)?.0;
            }
            r
        }
        Kind::Hash => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                r = skip_string(skip_string(r)?.0)?.0;
            }
            r
        }
        Kind::Zset => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                r = parse_string_double(skip_string(r)?.0)?.0;
            }
            r
        }
        Kind::Zset2 => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                r = parse_binary_double(skip_string(r)?.0)?.0;
            }
            r
        }
        Kind::ListQuicklist => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                r = skip_string(r)?.0;
            }
            r
        }
        Kind::ListQuicklist2 => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                let at = r;
                let (r2, container) = parse_len(r)?;
                if container != 1 && container != 2 {
                    return Err(PError::corrupt(at, "quicklist node container"));
                }
                r = skip_string(r2)?.0;
            }
            r
        }
        Kind::HashMetadataPreGa => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                r = skip_string(skip_string(parse_len(r)?.0)?.0)?.0;
            }
            r
        }
        Kind::HashMetadata => {
            let (r, _min) = parse_ms(i)?;
            let (mut r, n) = parse_len(r)?;
            for k in 0..n {
                passed(i, r, k);
                r = skip_string(skip_string(parse_len(r)?.0)?.0)?.0;
            }
            r
        }
        Kind::ValkeyHash2 => {
            let (mut r, n) = parse_len(i)?;
            for k in 0..n {
                passed(i, r, k);
                r = parse_ms(skip_string(skip_string(r)?.0)?.0)?.0;
            }
            r
        }
        Kind::Stream1 | Kind::Stream2 | Kind::Stream3 | Kind::Stream4 | Kind::Stream5 => {
            parse_stream(i, kind)?.0
        }
        Kind::Module2 => parse_module_value(i)?.0,
        Kind::ModulePreGa => {
            // No framing: the value cannot be skipped without the module.
            return Err(PError::corrupt(
                i,
                "module value of a 4.0 release candidate",
            ));
        }
        Kind::Array => skip_array(i)?,
    })
}

/// Array (type 28): count, optional insert cursor, then tagged elements.
fn skip_array(i: &[u8]) -> std::result::Result<&[u8], nom::Err<PError<'_>>> {
    let (r, n) = parse_len(i)?;
    let at = r;
    let (mut r, has_insert) = parse_len(r)?;
    match has_insert {
        0 => {}
        1 => r = parse_len(r)?.0,
        _ => return Err(PError::corrupt(at, "array insert flag")),
    }
    for _ in 0..n {
        r = parse_len(r)?.0;
        let at = r;
        let (r2, tag) = parse_len(r)?;
        r = match tag {
            0 | 3 => skip_string(r2)?.0,
            1 | 2 => take_len(r2, 8)?.0,
            _ => return Err(PError::corrupt(at, "array element tag")),
        };
    }
    Ok(r)
}

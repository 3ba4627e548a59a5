//! Decoding one framed value as far as a report needs: the type and encoding
//! names Redis itself would give, the element count (`STRLEN`, `LLEN`,
//! `SCARD`, `ZCARD`, `HLEN`, `XLEN`), and the size facts the memory model
//! uses. Workers call [`inspect`] in parallel; nothing here allocates per key
//! except the reusable LZF scratch buffer.

use std::collections::BTreeMap;

use super::entry::Entry;
use super::error::{Error, Result};
use super::frame::Frame;
use super::intset::Intset;
use super::kind::Kind;
use super::listpack::Listpack;
use super::module::module_name;
use super::primitives::{
    parse_len, parse_ms, parse_string, parse_string_double, parse_u64_le, PError, PResult,
    RdbString,
};
use super::profile::{Family, Profile};
use super::stream::{parse_stream, parse_stream_layout, RaxTree, StreamInfo, StreamLayout};
use super::ziplist::Ziplist;
use super::zipmap::Zipmap;

/// The name `TYPE` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeName {
    /// A built-in type (`string`, `list`, `set`, `zset`, `hash`, `stream`,
    /// `array`).
    Builtin(&'static str),
    /// A module type, by its 9-character name (`ReJSON-RL`).
    Module([u8; 9]),
}

impl TypeName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        match self {
            TypeName::Builtin(s) => s,
            TypeName::Module(n) => std::str::from_utf8(n).unwrap_or("module"),
        }
    }
}

/// The lengths of a collection's elements, as a count of each distinct
/// (member, value) length pair.
///
/// The memory model sums a function of the two lengths over the elements
/// (allocator rounding is not linear, so the average will not do), and the
/// sum needs only how often each pair occurs. A 10 M-field hash holds a
/// handful of distinct pairs, where one entry per element held 80 MB on
/// the heap; `k` distinct pairs need about `(2k)^1.5 / 3` bytes of
/// elements, so the counts stay far below the value's own size. A
/// `BTreeMap` rather than a hash map: the lengths come from the file, and
/// an ordered map has no worst case to aim at. Runs of one pair (fields of
/// one width) are counted before they reach the map.
#[derive(Debug, Clone, Default)]
pub struct ElementLengths {
    counts: BTreeMap<(u32, u32), u64>,
    run: Option<((u32, u32), u64)>,
}

impl ElementLengths {
    /// Counts one element of `member` (and `value`) bytes; lengths past
    /// `u32::MAX` count as `u32::MAX`.
    pub fn push(&mut self, member: u64, value: u64) {
        let pair = (clamp_u32(member), clamp_u32(value));
        match &mut self.run {
            Some((p, n)) if *p == pair => *n += 1,
            _ => {
                self.end_run();
                self.run = Some((pair, 1));
            }
        }
    }

    fn end_run(&mut self) {
        if let Some((p, n)) = self.run.take() {
            *self.counts.entry(p).or_default() += n;
        }
    }

    /// True when no element was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty() && self.run.is_none()
    }

    /// Each distinct pair with its count (a pair may come twice: once from
    /// the map, once from the run in progress).
    pub fn iter(&self) -> impl Iterator<Item = ((u32, u32), u64)> + '_ {
        self.counts
            .iter()
            .map(|(p, n)| (*p, *n))
            .chain(self.run.iter().copied())
    }

    /// The counts merged, for comparing two collections.
    fn merged(&self) -> BTreeMap<(u32, u32), u64> {
        let mut m = self.counts.clone();
        if let Some((p, n)) = self.run {
            *m.entry(p).or_default() += n;
        }
        m
    }
}

impl PartialEq for ElementLengths {
    fn eq(&self, other: &Self) -> bool {
        self.merged() == other.merged()
    }
}

impl FromIterator<(u32, u32)> for ElementLengths {
    fn from_iter<I: IntoIterator<Item = (u32, u32)>>(iter: I) -> Self {
        let mut l = ElementLengths::default();
        for (a, b) in iter {
            l.push(u64::from(a), u64::from(b));
        }
        l
    }
}

fn clamp_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Size facts about a value that the memory model turns into bytes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Shape {
    /// Length of a string value, or bytes of a compact blob (listpack,
    /// ziplist, intset) as it sits in memory.
    pub bytes: u64,
    /// For hashtable-backed values: sum of element lengths (members; for
    /// hashes, fields).
    pub sum_a: u64,
    /// For hashes: sum of value lengths.
    pub sum_b: u64,
    /// Per-element lengths for collections walked element by element
    /// (only filled when a model asks for exact rounding).
    pub lens: ElementLengths,
    /// Quicklist nodes: (bytes, plain); for streams (when per-element
    /// lengths are asked for), each listpack's decoded bytes.
    pub nodes: Vec<(u64, bool)>,
    /// Streams (when per-element lengths are asked for): tree and requested
    /// bytes of every radix tree node ([`StreamLayout::rax_nodes`]).
    pub rax_nodes: Vec<(RaxTree, u32)>,
    /// True when a string value is stored as an integer, or when every
    /// member of a hashtable set was saved as one.
    pub int: bool,
    /// Stream facts.
    pub stream: Option<Box<StreamInfo>>,
    /// Fields carrying a TTL (hash field expiration).
    pub volatile_fields: u64,
    /// Arrays (when per-element lengths are asked for): every element in
    /// file order, which `rdbSaveObject` writes by increasing index.
    pub array: Vec<ArrayElement>,
}

/// One element of an array value (`RDB_TYPE_ARRAY`): where it sits and what
/// the loader turns it into (`rdbLoadObject`, `arValueFromRdb*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ArrayElement {
    /// The element's index.
    pub index: u64,
    /// The RDB tag: 0 string (`AR_RDB_TAG_SDS`), 1 integer, 2 double,
    /// 3 small string.
    pub tag: u8,
    /// Payload length in bytes for the string tags (0 and 3), the
    /// integer's two's-complement bits for tag 1, 0 for doubles.
    pub value: u64,
}

/// What [`inspect`] learns about one value.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueInfo {
    /// `TYPE`.
    pub type_name: TypeName,
    /// `OBJECT ENCODING` on the server that wrote the file.
    pub encoding: &'static str,
    /// `STRLEN`/`LLEN`/`SCARD`/`ZCARD`/`HLEN`/`XLEN`/`ARCOUNT`; `None` for
    /// module values, whose count only the module knows.
    pub elements: Option<u64>,
    /// Sizes for the memory model.
    pub shape: Shape,
}

impl ValueInfo {
    /// A result before anything is known, to be filled by [`inspect`].
    fn empty() -> ValueInfo {
        ValueInfo {
            type_name: TypeName::Builtin("none"),
            encoding: "",
            elements: None,
            shape: Shape::default(),
        }
    }
}

impl Shape {
    /// Back to [`Shape::default`], keeping the allocations of vectors
    /// that stayed short, for the next key on this thread.
    pub fn reset(&mut self) {
        fn emptied<T>(v: &mut Vec<T>) -> Vec<T> {
            let mut v = std::mem::take(v);
            v.clear();
            if v.capacity() > SHAPE_KEPT {
                v = Vec::new();
            }
            v
        }
        *self = Shape {
            nodes: emptied(&mut self.nodes),
            rax_nodes: emptied(&mut self.rax_nodes),
            array: emptied(&mut self.array),
            ..Shape::default()
        };
    }
}

/// Options for [`inspect`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Depth {
    /// Collect per-element lengths of hashtable collections (for exact
    /// allocator rounding).
    pub element_lengths: bool,
}

/// A value string located in the file.
struct Located<'a> {
    s: RdbString<'a>,
    /// File offset of the string's header.
    at: u64,
    /// File offset of the payload (raw bytes), for error offsets.
    payload: u64,
}

fn locate<'a>(frame: &Frame<'a>, rest_before: &'a [u8]) -> PResult<'a, Located<'a>> {
    let (rest, s) = parse_string(rest_before)?;
    let at = frame.value_offset + (frame.value.len() - rest_before.len()) as u64;
    let payload = match s {
        RdbString::Raw(b) => frame.value_offset + (frame.value.len() - rest.len() - b.len()) as u64,
        _ => at,
    };
    Ok((rest, Located { s, at, payload }))
}

fn blob<'s>(l: &Located<'s>, scratch: &'s mut Vec<u8>) -> Result<&'s [u8]> {
    match l.s {
        RdbString::Raw(b) => Ok(b),
        _ => {
            l.s.decode_into(scratch)
                .map_err(|e| Error::from_blob(e, l.at, true))
        }
    }
}

fn lift<'a>(frame: &Frame<'a>, e: nom::Err<PError<'a>>) -> Error {
    match e {
        nom::Err::Error(p) | nom::Err::Failure(p) => {
            let off = frame.value_offset + (frame.value.len() - p.at.len()) as u64;
            Error::corrupt(off, "decoding value", format!("bad {}", p.what))
        }
        nom::Err::Incomplete(_) => Error::truncated(frame.value_offset, "decoding value"),
    }
}

fn blob_err<'l>(l: &'l Located<'_>) -> impl Fn(super::BlobError) -> Error + 'l {
    move |e| Error::from_blob(e, l.payload, !matches!(l.s, RdbString::Raw(_)))
}

/// True when `b` is what Redis's `string2ll` accepts and `tryObjectEncoding`
/// would turn into an integer object: at most 20 bytes, canonical decimal,
/// fits in an i64.
pub fn is_canonical_int(b: &[u8]) -> bool {
    if b.is_empty() || b.len() > 20 {
        return false;
    }
    let digits = if b[0] == b'-' { &b[1..] } else { b };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if digits[0] == b'0' && (digits.len() > 1 || b[0] == b'-') {
        return false;
    }
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .is_some()
}

/// The string encoding a server reports for a value of this shape.
pub fn string_encoding(
    profile: &Profile,
    key_len: u64,
    len: u64,
    int: bool,
    ttl: bool,
) -> &'static str {
    if int {
        return "int";
    }
    let embstr = match profile.family {
        Family::Redis if !profile.at_least(3, 0) => false,
        Family::Redis if !profile.at_least(3, 2) => len <= 39,
        Family::Redis if !profile.at_least(8, 2) => len <= 44,
        // Redis 8.2+: the value is embedded in the key object when object
        // header, key sds (type 8) and value sds (type 8) fit a cache line.
        Family::Redis => {
            let expire = if ttl && !profile.at_least(8, 6) { 8 } else { 0 };
            16 + (key_len + 3) + expire + (len + 4) <= 64
        }
        Family::Valkey if !profile.at_least(8, 1) => len <= 44,
        // Valkey 8.1+ embeds key, optional expire and value in the object
        // when the whole fits (object.c createStringObjectWithKeyAndExpire):
        // 64 bytes in 8.1, and more in 9.x, where 80-byte objects (an
        // 11-byte key with a 45-byte value) are observed embedded.
        Family::Valkey => {
            let expire = if ttl { 8 } else { 0 };
            let key = if key_len < 256 {
                key_len + 3
            } else {
                key_len + 5
            };
            let limit = if profile.at_least(9, 0) { 128 } else { 64 };
            16 + expire + 1 + key + len + 4 <= limit
        }
    };
    if embstr {
        "embstr"
    } else {
        "raw"
    }
}

thread_local! {
    /// Per-worker LZF scratch for [`with_inspected`], reused across keys so
    /// decoding allocates only when a value is larger than any before it on
    /// that thread.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A scratch buffer grown past this is freed after use, so one huge
/// compressed value does not stay on a worker's heap for the rest of a walk.
const SCRATCH_KEPT: usize = 16 << 20;

thread_local! {
    /// Per-worker result of [`with_inspected`], filled in place key after
    /// key: returned by value it was copied five times on its way to the
    /// caller (memmove, 5 % of `rdb`), and its vectors reallocated per key.
    static INFO: std::cell::RefCell<ValueInfo> = std::cell::RefCell::new(ValueInfo::empty());
}

/// Vectors of a pooled [`Shape`] longer than this are freed after use.
const SHAPE_KEPT: usize = 4096;

/// [`inspect`] into this thread's reused scratch and result, handing the
/// result to `f`: for callers that only read a few facts off it.
pub fn with_inspected<T>(
    frame: &Frame<'_>,
    profile: &Profile,
    depth: Depth,
    f: impl FnOnce(&ValueInfo) -> T,
) -> Result<T> {
    SCRATCH.with(|b| {
        INFO.with(|info| {
            let mut b = b.borrow_mut();
            let mut info = info.borrow_mut();
            let r = inspect_into(frame, profile, depth, &mut b, &mut info).map(|()| f(&info));
            if b.capacity() > SCRATCH_KEPT {
                *b = Vec::new();
            }
            info.shape.reset();
            r
        })
    })
}

/// Decodes `frame`'s value as far as reporting needs.
pub fn inspect(
    frame: &Frame<'_>,
    profile: &Profile,
    depth: Depth,
    scratch: &mut Vec<u8>,
) -> Result<ValueInfo> {
    let mut info = ValueInfo::empty();
    inspect_into(frame, profile, depth, scratch, &mut info)?;
    Ok(info)
}

/// [`inspect`] into `info`, whose shape must be empty
/// ([`Shape::reset`]).
fn inspect_into(
    frame: &Frame<'_>,
    profile: &Profile,
    depth: Depth,
    scratch: &mut Vec<u8>,
    info: &mut ValueInfo,
) -> Result<()> {
    let kind = frame.kind;
    let shape = &mut info.shape;
    let builtin = TypeName::Builtin(kind.type_name());
    let v = frame.value;
    let (encoding, elements): (&'static str, Option<u64>) = match kind {
        Kind::String => {
            let (_, l) = locate(frame, v).map_err(|e| lift(frame, e))?;
            let len = l.s.len();
            let int = match l.s {
                RdbString::Int(_) => true,
                RdbString::Raw(b) => is_canonical_int(b),
                RdbString::Lzf { .. } => false,
            };
            shape.bytes = len;
            shape.int = int;
            let enc = string_encoding(
                profile,
                frame.key.len(),
                len,
                int,
                frame.expire_ms.is_some(),
            );
            (enc, Some(len))
        }
        Kind::List | Kind::Set => {
            let (mut r, n) = parse_len(v).map_err(|e| lift(frame, e))?;
            let mut ints = 0u64;
            for k in 0..n {
                crate::pages::passed(v, r, k);
                let (r2, s) = parse_string(r).map_err(|e| lift(frame, e))?;
                shape.sum_a += s.len();
                ints += u64::from(matches!(s, RdbString::Int(_)));
                if depth.element_lengths {
                    shape.lens.push(s.len(), 0);
                }
                r = r2;
            }
            let enc = match kind {
                Kind::List if !profile.at_least(3, 2) => "linkedlist",
                Kind::List => "quicklist",
                _ => "hashtable",
            };
            // A set whose members all saved as integers outgrew an intset.
            shape.int = kind == Kind::Set && n > 0 && ints == n;
            (enc, Some(n))
        }
        Kind::Zset | Kind::Zset2 => {
            let (mut r, n) = parse_len(v).map_err(|e| lift(frame, e))?;
            for k in 0..n {
                crate::pages::passed(v, r, k);
                let (r2, s) = parse_string(r).map_err(|e| lift(frame, e))?;
                shape.sum_a += s.len();
                if depth.element_lengths {
                    shape.lens.push(s.len(), 0);
                }
                r = if kind == Kind::Zset {
                    parse_string_double(r2).map_err(|e| lift(frame, e))?.0
                } else {
                    super::primitives::parse_binary_double(r2)
                        .map_err(|e| lift(frame, e))?
                        .0
                };
            }
            ("skiplist", Some(n))
        }
        Kind::Hash | Kind::HashMetadata | Kind::HashMetadataPreGa | Kind::ValkeyHash2 => {
            let mut r = v;
            if kind == Kind::HashMetadata {
                r = parse_ms(r).map_err(|e| lift(frame, e))?.0;
            }
            let (mut r, n) = parse_len(r).map_err(|e| lift(frame, e))?;
            for k in 0..n {
                crate::pages::passed(v, r, k);
                if matches!(kind, Kind::HashMetadata | Kind::HashMetadataPreGa) {
                    let (r2, ttl) = parse_len(r).map_err(|e| lift(frame, e))?;
                    shape.volatile_fields += u64::from(ttl != 0);
                    r = r2;
                }
                let (r2, f) = parse_string(r).map_err(|e| lift(frame, e))?;
                let (r2, val) = parse_string(r2).map_err(|e| lift(frame, e))?;
                r = r2;
                if kind == Kind::ValkeyHash2 {
                    let (r2, ttl) = parse_ms(r).map_err(|e| lift(frame, e))?;
                    shape.volatile_fields += u64::from(ttl != -1);
                    r = r2;
                }
                shape.sum_a += f.len();
                shape.sum_b += val.len();
                if depth.element_lengths {
                    shape.lens.push(f.len(), val.len());
                }
            }
            ("hashtable", Some(n))
        }
        Kind::HashZipmap => {
            let (_, l) = locate(frame, v).map_err(|e| lift(frame, e))?;
            let b = blob(&l, scratch)?;
            let zm = Zipmap::parse(b).map_err(blob_err(&l))?;
            let n = zm.count().map_err(blob_err(&l))?;
            shape.bytes = b.len() as u64;
            let enc = if profile.at_least(2, 6) {
                compact_name(profile)
            } else {
                "zipmap"
            };
            (enc, Some(n as u64))
        }
        Kind::ListZiplist | Kind::ZsetZiplist | Kind::HashZiplist => {
            let (_, l) = locate(frame, v).map_err(|e| lift(frame, e))?;
            let b = blob(&l, scratch)?;
            let zl = Ziplist::parse(b).map_err(blob_err(&l))?;
            let n = zl.count().map_err(blob_err(&l))? as u64;
            shape.bytes = b.len() as u64;
            let (enc, n) = match kind {
                Kind::ListZiplist if profile.at_least(3, 2) => ("quicklist", n),
                Kind::ListZiplist => ("ziplist", n),
                Kind::ZsetZiplist => (compact_name(profile), pairs(n, &l)?),
                _ => (compact_name(profile), pairs(n, &l)?),
            };
            (enc, Some(n))
        }
        Kind::SetIntset => {
            let (_, l) = locate(frame, v).map_err(|e| lift(frame, e))?;
            let b = blob(&l, scratch)?;
            let is = Intset::parse(b).map_err(blob_err(&l))?;
            shape.bytes = b.len() as u64;
            ("intset", Some(u64::from(is.len())))
        }
        Kind::SetListpack | Kind::ZsetListpack | Kind::HashListpack => {
            let (_, l) = locate(frame, v).map_err(|e| lift(frame, e))?;
            let b = blob(&l, scratch)?;
            let lp = Listpack::parse(b).map_err(blob_err(&l))?;
            let n = lp.count().map_err(blob_err(&l))? as u64;
            shape.bytes = b.len() as u64;
            let n = if kind == Kind::SetListpack {
                n
            } else {
                pairs(n, &l)?
            };
            ("listpack", Some(n))
        }
        Kind::HashListpackEx | Kind::HashListpackExPreGa => {
            let r = if kind == Kind::HashListpackEx {
                parse_ms(v).map_err(|e| lift(frame, e))?.0
            } else {
                v
            };
            let (_, l) = locate(frame, r).map_err(|e| lift(frame, e))?;
            let b = blob(&l, scratch)?;
            let lp = Listpack::parse(b).map_err(blob_err(&l))?;
            let mut n = 0u64;
            for (idx, e) in lp.iter().enumerate() {
                let e = e.map_err(blob_err(&l))?;
                if idx % 3 == 2 && !matches!(e, Entry::Int(0)) {
                    shape.volatile_fields += 1;
                }
                n += 1;
            }
            if !n.is_multiple_of(3) {
                return Err(Error::corrupt(
                    l.payload,
                    "decoding hash",
                    "listpack of TTL triples",
                ));
            }
            shape.bytes = b.len() as u64;
            ("listpackex", Some(n / 3))
        }
        Kind::ListQuicklist | Kind::ListQuicklist2 => {
            let (mut r, nodes) = parse_len(v).map_err(|e| lift(frame, e))?;
            let mut total = 0u64;
            let mut packed_nodes = 0u64;
            for k in 0..nodes {
                crate::pages::passed(v, r, k);
                let mut plain = false;
                if kind == Kind::ListQuicklist2 {
                    let (r2, container) = parse_len(r).map_err(|e| lift(frame, e))?;
                    plain = container == 1;
                    r = r2;
                }
                let (r2, l) = locate(frame, r).map_err(|e| lift(frame, e))?;
                r = r2;
                if plain {
                    total += 1;
                    shape.nodes.push((l.s.len(), true));
                    continue;
                }
                let b = blob(&l, scratch)?;
                let n = if kind == Kind::ListQuicklist {
                    Ziplist::parse(b)
                        .and_then(|z| z.count())
                        .map_err(blob_err(&l))?
                } else {
                    Listpack::parse(b)
                        .and_then(|z| z.count())
                        .map_err(blob_err(&l))?
                };
                if n == 0 {
                    // Redis's loader drops an empty node silently; the list
                    // it builds has one node fewer.
                    continue;
                }
                total += n as u64;
                packed_nodes += 1;
                shape.nodes.push((b.len() as u64, false));
            }
            shape.bytes = shape.nodes.iter().map(|n| n.0).sum();
            // Redis 7.2+ and Valkey save a listpack-encoded list as one packed
            // node. A live quicklist is left with a single packed node only
            // after shrinking within the conversion hysteresis, so one packed
            // node means listpack; the listpack can exceed the 8 KiB node
            // limit, because a push converts only once it no longer fits.
            let enc = if profile.listpack_lists() && shape.nodes.len() == 1 && packed_nodes == 1 {
                "listpack"
            } else {
                "quicklist"
            };
            (enc, Some(total))
        }
        Kind::Stream1 | Kind::Stream2 | Kind::Stream3 | Kind::Stream4 | Kind::Stream5 => {
            let info = if depth.element_lengths {
                let mut layout = StreamLayout::default();
                let (_, info) =
                    parse_stream_layout(v, kind, &mut layout).map_err(|e| lift(frame, e))?;
                shape.nodes = layout.listpacks.iter().map(|&b| (b, false)).collect();
                shape.rax_nodes = layout.rax_nodes;
                info
            } else {
                parse_stream(v, kind).map_err(|e| lift(frame, e))?.1
            };
            shape.stream = Some(Box::new(info));
            shape.bytes = info.listpack_bytes_decoded;
            let enc = if profile.family == Family::Redis && !profile.at_least(6, 0) {
                "unknown"
            } else {
                "stream"
            };
            (enc, Some(info.length))
        }
        Kind::Module2 | Kind::ModulePreGa => {
            let (_, id) = parse_len(v).map_err(|e| lift(frame, e))?;
            let (name, _ver) = module_name(id);
            shape.bytes = v.len() as u64;
            // Vector sets (built into Redis 8) save their dimension and then
            // their element count first (vset.c VectorSetRdbSave), so VCARD
            // is readable without the module.
            let elements = match &name {
                b"vectorset" => super::module::leading_uints::<2>(v).map(|[_, count]| count),
                _ => None,
            };
            info.type_name = TypeName::Module(name);
            info.encoding = "raw";
            info.elements = elements;
            return Ok(());
        }
        Kind::Array => {
            let (_, n) = parse_len(v).map_err(|e| lift(frame, e))?;
            shape.bytes = v.len() as u64;
            if depth.element_lengths {
                shape.array = parse_array_elements(v).map_err(|e| lift(frame, e))?.1;
            }
            ("sliced-array", Some(n))
        }
    };
    info.type_name = builtin;
    info.encoding = encoding;
    info.elements = elements;
    Ok(())
}

/// Walks an array value (count, optional insert cursor, then per element
/// `len idx`, `len tag`, payload; the layout `skip_array` checks) and lists
/// its elements.
fn parse_array_elements(v: &[u8]) -> PResult<'_, Vec<ArrayElement>> {
    let (r, n) = parse_len(v)?;
    let (mut r, has_insert) = parse_len(r)?;
    if has_insert == 1 {
        r = parse_len(r)?.0;
    }
    // Bounded by the bytes left: every element takes at least 3.
    let mut out = Vec::with_capacity(n.min(r.len() as u64 / 3) as usize);
    for _ in 0..n {
        let (r2, index) = parse_len(r)?;
        let at = r2;
        let (r2, tag) = parse_len(r2)?;
        let (r2, value) = match tag {
            0 | 3 => {
                let (r3, s) = parse_string(r2)?;
                (r3, s.len())
            }
            1 => parse_u64_le(r2)?,
            2 => (parse_u64_le(r2)?.0, 0),
            _ => return Err(PError::corrupt(at, "array element tag")),
        };
        out.push(ArrayElement {
            index,
            tag: tag as u8,
            value,
        });
        r = r2;
    }
    Ok((r, out))
}

/// `ziplist` before Redis 7.0, `listpack` after.
fn compact_name(profile: &Profile) -> &'static str {
    if profile.listpack_era() {
        "listpack"
    } else {
        "ziplist"
    }
}

fn pairs(n: u64, l: &Located<'_>) -> Result<u64> {
    if !n.is_multiple_of(2) {
        return Err(Error::corrupt(
            l.payload,
            "decoding value",
            "odd entry count in pair blob",
        ));
    }
    Ok(n / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_ints_only() {
        for ok in [
            "0",
            "-1",
            "123",
            "9223372036854775807",
            "-9223372036854775808",
        ] {
            assert!(is_canonical_int(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "",
            "-",
            "01",
            "-0",
            "+1",
            "1.5",
            " 1",
            "9223372036854775808",
            "abc",
        ] {
            assert!(!is_canonical_int(bad.as_bytes()), "{bad}");
        }
    }
}

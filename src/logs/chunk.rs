//! Newline-aligned chunks parsed in parallel: bytes → records.
//!
//! The stage between `source` and the per-file timeline. A whole input (an
//! mmap of a plain file, or a block of a decompressed stream) is cut into
//! chunks at `\n` boundaries found with `memchr`; chunks are parsed on the
//! rayon pool, and line numbers are fixed up afterwards by prefix sums of
//! each chunk's newline count, so output is identical for any thread count.
//!
//! A chunk keeps only what later stages need: catalogued events, the raw
//! lines of crash reports and logos that carry data, a bounded sample of
//! unparsed lines, per-pid spans (first/last line of each process, which is
//! how unclean deaths are found) and counters. Everything else is counted
//! and dropped, which is what keeps memory flat on multi-GB archives.

use std::collections::HashMap;

use crate::fasthash::FastMap;
use std::io::Read;

use rayon::prelude::*;

use super::catalog::{self, Caps, RawKind};
use super::line::{self, Level, Role, Stamp, Wrapper};

/// Evidence text is kept up to this many bytes (longer lines end in `…`).
pub const MAX_TEXT: usize = 8 * 1024;
/// Unparsed lines kept as samples: the first this many non-blank ones of
/// each file (all are counted). A chunk keeps its own first ones, which
/// include those of the file's first ones that fall in it, and the timeline
/// uses only the file's first ones, so the sample does not depend on where
/// chunks are cut.
pub const UNPARSED_SAMPLES: usize = 8;

/// What a kept line is.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// A catalogued message: index into [`catalog::ENTRIES`] and captures.
    Known(u16, Caps),
    /// A prefixed line that matched no catalogue row but is kept because it
    /// sits where later stages look (kept only inside bug reports).
    Other,
    /// A raw (prefix-less) line with data (crash report, logo).
    Raw(RawKind),
    /// A raw line that matched nothing: kept as a sample of unparsed input.
    Unparsed,
}

/// One kept line. The line's text is not copied: a record knows where the
/// line starts (`at`), and the few lines that end up cited are read back
/// from the input when rendering. That keeps a multi-GB archive's records
/// small; only lines whose text feeds a summary keep it (`text`).
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
    /// Byte offset of the line's first byte in the (decompressed) file.
    pub at: u64,
    /// Process id, when printed.
    pub pid: Option<u32>,
    /// Role, when printed.
    pub role: Option<Role>,
    /// Level, when printed.
    pub level: Option<Level>,
    /// Timestamp as printed.
    pub stamp: Option<Stamp>,
    /// Wrapper timestamp with a year, if any.
    pub outer_ms: Option<i64>,
    /// Wrapper kind.
    pub wrapper: Wrapper,
    /// What the line is.
    pub what: What,
    /// The errno class named in the line ([`catalog::errno_class`]; 0 none),
    /// computed for notable lines so that rules never need their text.
    pub errno: u8,
    /// The exact text (bounded by [`MAX_TEXT`]), kept only for critical
    /// catalogued lines (their text is quoted in summaries) and unparsed
    /// samples.
    pub text: Option<Box<str>>,
}

/// The first and last line a process wrote within a chunk, closed early when
/// the same pid starts a new lifetime (containers reuse pid 1). A span still
/// open when its chunk ends is sent then, and the timeline joins it to the
/// same pid's span in the next chunk ([`Span::extend`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    /// Process id.
    pub pid: u32,
    /// Role of the last line.
    pub role: Option<Role>,
    /// First line number.
    pub first: u64,
    /// Last line number.
    pub last: u64,
    /// Byte offset of the first line.
    pub first_at: u64,
    /// Byte offset of the last line.
    pub last_at: u64,
    /// Timestamp of the first line.
    pub first_stamp: Option<Stamp>,
    /// Timestamp of the last line.
    pub last_stamp: Option<Stamp>,
}

impl Span {
    /// Joins the part of the same process's span that follows in the next
    /// chunk, as if both parts had been read in one chunk.
    pub fn extend(&mut self, later: Span) {
        self.role = later.role.or(self.role);
        self.last = later.last;
        self.last_at = later.last_at;
        self.first_stamp = self.first_stamp.or(later.first_stamp);
        self.last_stamp = later.last_stamp.or(self.last_stamp);
    }
}

/// A record in line order.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A kept line.
    Rec(Rec),
    /// A closed per-pid span.
    Span(Span),
}

/// Per-file counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counters {
    /// Lines seen.
    pub lines: u64,
    /// Lines that matched no format (continuations, dumps, garbage).
    pub unparsed: u64,
    /// Lines longer than [`line::MAX_PARSE`].
    pub long_lines: u64,
    /// Kubernetes CRI partial (`P`) lines joined to the line that follows.
    pub cri_joined: u64,
    /// Lines by format name.
    pub formats: HashMap<&'static str, u64>,
    /// Lines by wrapper name (only wrapped lines).
    pub wrappers: HashMap<&'static str, u64>,
    /// Parsed lines by level.
    pub levels: HashMap<&'static str, u64>,
    /// Noise kinds (connection churn) by kind.
    pub noise: HashMap<&'static str, u64>,
    /// Catalogued lines by kind.
    pub kinds: HashMap<&'static str, u64>,
}

impl Counters {
    /// Adds another set of counters to this one.
    pub fn merge(&mut self, o: Counters) {
        self.lines += o.lines;
        self.unparsed += o.unparsed;
        self.long_lines += o.long_lines;
        self.cri_joined += o.cri_joined;
        for (dst, src) in [
            (&mut self.formats, o.formats),
            (&mut self.wrappers, o.wrappers),
            (&mut self.levels, o.levels),
            (&mut self.noise, o.noise),
            (&mut self.kinds, o.kinds),
        ] {
            for (k, v) in src {
                *dst.entry(k).or_default() += v;
            }
        }
    }
}

/// Everything kept from one input.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Records in line order.
    pub items: Vec<Item>,
    /// Counters.
    pub counters: Counters,
    /// Decompressed bytes read.
    pub bytes: u64,
}

fn format_name(f: line::Format) -> &'static str {
    use line::Format::*;
    match f {
        V12 => "redis-1.2",
        Bracket => "redis-2.x",
        PidRoleNoYear => "redis-3.0-4.0",
        PidRole => "redis-5.0+",
        PidRoleIso => "valkey-iso8601",
        PidRoleEpoch => "valkey-epoch-ms",
        Logfmt => "valkey-logfmt",
        SignalHandler => "signal-handler",
        Bare => "bare-message",
    }
}

/// Bounded, lossy UTF-8 copy of a line for evidence.
pub fn text_of(raw: &[u8]) -> Box<str> {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.len() <= MAX_TEXT {
        return catalog::lossy(raw);
    }
    let mut s = String::from_utf8_lossy(&raw[..MAX_TEXT]).into_owned();
    s.push('…');
    s.into()
}

/// A Kubernetes CRI partial line waiting for the rest of its record.
struct Partial {
    line: u64,
    at: u64,
    /// `<time> <stream> F ` of the first piece, then every piece's content.
    joined: Vec<u8>,
}

const FORMATS: [line::Format; 9] = [
    line::Format::V12,
    line::Format::Bracket,
    line::Format::PidRoleNoYear,
    line::Format::PidRole,
    line::Format::PidRoleIso,
    line::Format::PidRoleEpoch,
    line::Format::Logfmt,
    line::Format::SignalHandler,
    line::Format::Bare,
];
/// Every wrapper, in declaration order: tallies index by `wrapper as usize`
/// (a test checks the order).
const WRAPPERS: [Wrapper; 8] = [
    Wrapper::None,
    Wrapper::Syslog,
    Wrapper::JournalJson,
    Wrapper::Docker,
    Wrapper::DockerJson,
    Wrapper::Cri,
    Wrapper::Compose,
    Wrapper::Dmesg,
];
const LEVELS: [Level; 4] = [Level::Debug, Level::Verbose, Level::Notice, Level::Warning];

/// Per-line tallies of a chunk in plain arrays (indexed by enum value and
/// catalogue row), turned into the named maps of [`Counters`] once per
/// chunk: hashing a name for every line was a visible share of the parse.
struct Tally {
    formats: [u64; FORMATS.len()],
    wrappers: [u64; WRAPPERS.len()],
    levels: [u64; LEVELS.len()],
    entries: Vec<u64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            formats: [0; FORMATS.len()],
            wrappers: [0; WRAPPERS.len()],
            levels: [0; LEVELS.len()],
            entries: vec![0; catalog::ENTRIES.len()],
        }
    }

    fn into_counters(self, c: &mut Counters) {
        for (f, &n) in FORMATS.iter().zip(&self.formats) {
            if n > 0 {
                *c.formats.entry(format_name(*f)).or_default() += n;
            }
        }
        for (w, &n) in WRAPPERS.iter().zip(&self.wrappers) {
            if n > 0 {
                *c.wrappers.entry(w.name()).or_default() += n;
            }
        }
        for (l, &n) in LEVELS.iter().zip(&self.levels) {
            if n > 0 {
                *c.levels.entry(l.name()).or_default() += n;
            }
        }
        for (e, &n) in catalog::ENTRIES.iter().zip(&self.entries) {
            if n > 0 {
                *c.kinds.entry(e.kind).or_default() += n;
                if e.noise {
                    *c.noise.entry(e.kind).or_default() += n;
                }
            }
        }
    }
}

/// Per-chunk parse state.
struct ChunkState {
    items: Vec<Item>,
    c: Counters,
    tally: Tally,
    open: FastMap<u32, Span>,
    samples: usize,
}

impl ChunkState {
    /// Handles one logical line (`raw`, without its `\n`) that starts at
    /// line `lineno`, byte `at` of the chunk.
    fn line(&mut self, raw: &[u8], lineno: u64, at: u64) {
        let c = &mut self.c;
        match line::parse_line(raw) {
            Some(l) => {
                let tally = &mut self.tally;
                tally.formats[l.format as usize] += 1;
                if l.wrapper != Wrapper::None {
                    tally.wrappers[l.wrapper as usize] += 1;
                }
                if let Some(lv) = l.level {
                    tally.levels[lv as usize] += 1;
                }
                let mut kept = false;
                if let Some((idx, caps)) = catalog::classify(&l.msg) {
                    let e = catalog::entry(idx);
                    tally.entries[usize::from(idx)] += 1;
                    if !e.noise {
                        kept = true;
                        if let (true, Some(p)) = (e.id == "L01", l.pid) {
                            if let Some(o) = self.open.remove(&p) {
                                self.items.push(Item::Span(o));
                            }
                        }
                        let errno = if e.severity >= catalog::Severity::Medium {
                            catalog::errno_class(&l.msg)
                        } else {
                            0
                        };
                        let text =
                            (e.severity == catalog::Severity::Critical).then(|| text_of(raw));
                        self.items.push(Item::Rec(prefixed_rec(
                            &l,
                            lineno,
                            at,
                            What::Known(idx, caps),
                            errno,
                            text,
                        )));
                    }
                }
                if !kept && l.level == Some(Level::Warning) && l.format != line::Format::Bare {
                    // Unknown warnings inside a bug report (register dumps,
                    // "Bio thread ... terminated") stay attached to it.
                    self.items.push(Item::Rec(prefixed_rec(
                        &l,
                        lineno,
                        at,
                        What::Other,
                        0,
                        None,
                    )));
                }
                if let Some(p) = l.pid {
                    let o = self.open.entry(p).or_insert_with(|| Span {
                        pid: p,
                        role: l.role,
                        first: lineno,
                        last: lineno,
                        first_at: at,
                        last_at: at,
                        first_stamp: l.stamp,
                        last_stamp: l.stamp,
                    });
                    o.last = lineno;
                    o.last_at = at;
                    o.role = l.role.or(o.role);
                    if l.stamp.is_some() {
                        o.last_stamp = l.stamp;
                    }
                    if o.first_stamp.is_none() {
                        o.first_stamp = l.stamp;
                    }
                }
            }
            None => {
                c.unparsed += 1;
                match catalog::classify_raw(&raw[..raw.len().min(line::MAX_PARSE)]) {
                    Some(k) => self
                        .items
                        .push(Item::Rec(raw_rec(lineno, at, What::Raw(k), None))),
                    None if self.samples < UNPARSED_SAMPLES && !raw.trim_ascii().is_empty() => {
                        self.samples += 1;
                        self.items.push(Item::Rec(raw_rec(
                            lineno,
                            at,
                            What::Unparsed,
                            Some(text_of(raw)),
                        )));
                    }
                    None => {}
                }
            }
        }
    }
}

/// Parses one chunk (whole lines). Line numbers start at 1 and offsets at 0
/// relative to the chunk; [`parse_buffer_at`] shifts them.
///
/// Kubernetes CRI splits a long record into `P` (partial) lines ended by an
/// `F` line; the pieces are joined into one logical line, cited at the line
/// where it starts ([`split`] never cuts between the pieces).
fn parse_chunk(buf: &[u8]) -> (Vec<Item>, Counters) {
    let mut st = ChunkState {
        // About a record per 256 bytes: gen-big-logs.sh's archive, a third
        // of whose lines are events, holds one per 230; growing from empty
        // copied each chunk's records several times over.
        items: Vec::with_capacity(buf.len() / 256),
        c: Counters::default(),
        tally: Tally::new(),
        open: FastMap::default(),
        samples: 0,
    };
    let mut partial: Option<Partial> = None;
    let mut lineno = 0u64;
    let mut start = 0usize;
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |p| start + p);
        let raw = &buf[start..end];
        let at = start as u64;
        start = end + 1;
        lineno += 1;
        st.c.lines += 1;
        if raw.len() > line::MAX_PARSE {
            st.c.long_lines += 1;
        }
        let cri = line::cri_parts(&raw[..raw.len().min(line::MAX_PARSE)]);
        if let Some(mut p) = partial.take() {
            match cri {
                Some((last, _, content)) => {
                    st.c.cri_joined += 1;
                    let room = line::MAX_PARSE.saturating_sub(p.joined.len());
                    p.joined
                        .extend_from_slice(&content[..content.len().min(room)]);
                    if last {
                        st.line(&p.joined, p.line, p.at);
                    } else {
                        partial = Some(p);
                    }
                    continue;
                }
                // The record was never finished: take it as it stands.
                None => st.line(&p.joined, p.line, p.at),
            }
        }
        match cri {
            Some((false, head, content)) => {
                let mut joined = Vec::with_capacity(head.len() + 2 + content.len() * 2);
                joined.extend_from_slice(head);
                joined.extend_from_slice(b"F ");
                joined.extend_from_slice(content);
                partial = Some(Partial {
                    line: lineno,
                    at,
                    joined,
                });
            }
            _ => st.line(raw, lineno, at),
        }
    }
    if let Some(p) = partial {
        st.line(&p.joined, p.line, p.at);
    }
    let mut rest: Vec<Span> = st.open.into_values().collect();
    rest.sort_by_key(|s| s.first);
    st.items.extend(rest.into_iter().map(Item::Span));
    st.tally.into_counters(&mut st.c);
    (st.items, st.c)
}

/// A record of a line with a log prefix: pid, role, level and times from
/// the prefix.
fn prefixed_rec(
    l: &line::LogLine<'_>,
    line: u64,
    at: u64,
    what: What,
    errno: u8,
    text: Option<Box<str>>,
) -> Rec {
    Rec {
        line,
        at,
        pid: l.pid,
        role: l.role,
        level: l.level,
        stamp: l.stamp,
        outer_ms: l.outer_ms,
        wrapper: l.wrapper,
        what,
        errno,
        text,
    }
}

/// A record of a line without a log prefix.
fn raw_rec(line: u64, at: u64, what: What, text: Option<Box<str>>) -> Rec {
    Rec {
        line,
        at,
        pid: None,
        role: None,
        level: None,
        stamp: None,
        outer_ms: None,
        wrapper: Wrapper::None,
        what,
        errno: 0,
        text,
    }
}

/// Whether the line that ends just before `end` (exclusive, at a `\n`) is a
/// CRI partial line, which must stay in the same chunk as what follows.
fn ends_partial(buf: &[u8], end: usize) -> bool {
    let start = memchr::memrchr(b'\n', &buf[..end]).map_or(0, |p| p + 1);
    let l = &buf[start..end];
    matches!(
        line::cri_parts(&l[..l.len().min(line::MAX_PARSE)]),
        Some((false, _, _))
    )
}

/// The end (exclusive) of the last whole line of `buf` that is not a CRI
/// partial line, i.e. where a streamed block may be cut.
fn safe_cut(buf: &[u8]) -> Option<usize> {
    let mut end = buf.len();
    while let Some(p) = memchr::memrchr(b'\n', &buf[..end]) {
        if !ends_partial(buf, p) {
            return Some(p + 1);
        }
        end = p;
    }
    None
}

/// Cuts `buf` into chunks of about `target` bytes, each ending after a `\n`
/// (the last may end without one) that does not end a CRI partial line.
pub fn split(buf: &[u8], target: usize) -> Vec<&[u8]> {
    Pieces::new(buf, target).collect()
}

/// The chunks of [`split`], found one at a time: finding every cut of a
/// mapped file up front reads a page at each, all of which would stay
/// resident until the parse passed them.
pub struct Pieces<'a> {
    buf: &'a [u8],
    target: usize,
    start: usize,
}

impl<'a> Pieces<'a> {
    /// The chunks of about `target` bytes of `buf`.
    pub fn new(buf: &'a [u8], target: usize) -> Pieces<'a> {
        Pieces {
            buf,
            target: target.max(1),
            start: 0,
        }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (buf, start) = (self.buf, self.start);
        if start >= buf.len() {
            return None;
        }
        let want = start + self.target;
        let end = if want >= buf.len() {
            buf.len()
        } else {
            let mut end = memchr::memchr(b'\n', &buf[want..]).map_or(buf.len(), |p| want + p + 1);
            while end < buf.len() && ends_partial(buf, end - 1) {
                end = memchr::memchr(b'\n', &buf[end..]).map_or(buf.len(), |p| end + p + 1);
            }
            end
        };
        self.start = end;
        Some(&buf[start..end])
    }
}

/// Shifts chunk-relative line numbers and offsets to file-relative ones.
fn shift(items: &mut [Item], line_base: u64, at_base: u64) {
    for it in items {
        match it {
            Item::Rec(r) => {
                r.line += line_base;
                r.at += at_base;
            }
            Item::Span(s) => {
                s.first += line_base;
                s.last += line_base;
                s.first_at += at_base;
                s.last_at += at_base;
            }
        }
    }
}

/// Parses a buffer of whole lines in parallel; `first_line` is the 1-based
/// number of its first line. `tick` is called with each chunk's size.
pub fn parse_buffer(
    buf: &[u8],
    first_line: u64,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> (Vec<Item>, Counters) {
    parse_buffer_at(buf, first_line, 0, threads, tick)
}

/// [`parse_buffer`] for a buffer that starts at byte `first_at` of its file.
pub fn parse_buffer_at(
    buf: &[u8],
    first_line: u64,
    first_at: u64,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> (Vec<Item>, Counters) {
    let target = (buf.len() / (threads.max(1) * 4)).clamp(256 * 1024, 64 * 1024 * 1024);
    parse_chunks_of(buf, target, first_line, first_at, tick)
}

/// [`parse_buffer_at`] with chunks of about `target` bytes. Where the chunks
/// are cut depends on the thread count, so the result must not depend on
/// `target`; tests call this with tiny chunks to check that.
pub(super) fn parse_chunks_of(
    buf: &[u8],
    target: usize,
    first_line: u64,
    first_at: u64,
    tick: &(dyn Fn(u64) + Sync),
) -> (Vec<Item>, Counters) {
    let chunks = split(buf, target);
    let mut at = first_at;
    let starts: Vec<u64> = chunks
        .iter()
        .map(|c| {
            let a = at;
            at += c.len() as u64;
            a
        })
        .collect();
    let parts: Vec<(Vec<Item>, Counters)> = chunks
        .par_iter()
        .map(|c| {
            let r = parse_chunk(c);
            tick(c.len() as u64);
            r
        })
        .collect();
    let mut items = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    let mut counters = Counters::default();
    let mut base = first_line - 1;
    for ((mut its, c), a) in parts.into_iter().zip(starts) {
        shift(&mut its, base, a);
        base += c.lines;
        items.append(&mut its);
        counters.merge(c);
    }
    (items, counters)
}

/// Receives each parsed batch of records, in line order.
pub type Sink<'s> = dyn FnMut(Vec<Item>, Counters) + 's;

/// Size of the pieces a whole in-memory input is parsed in: small enough
/// that only a few batches of records exist at once, large enough that the
/// per-batch overhead does not show. Several files read at once share it
/// (see [`crate::logs::lanes`]).
pub const PIECE: usize = 8 * 1024 * 1024;

/// Parses a whole in-memory input (an mmap) in pieces of about `piece`
/// bytes, handing each piece's records to `sink` before the next piece is
/// parsed, so memory holds a piece's records, not the whole file's. The
/// sink runs on the calling thread, never on the pool: it may block (a
/// full channel) without stalling the parse of other files. `passed(pos)`
/// is called as the parse leaves bytes behind: nothing before `pos` is read
/// again, so a mapped input can release those pages (see
/// [`crate::pages::Pager`]).
pub fn parse_mmap_with(
    buf: &[u8],
    piece: usize,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
    passed: &(dyn Fn(u64) + Sync),
    sink: &mut Sink,
) {
    parse_pieces(
        buf,
        piece,
        &|piece, line, at| parse_buffer_at(piece, line, at, threads, tick),
        passed,
        sink,
    );
}

/// Parses one piece that starts at (line, byte) of its file.
pub(super) type ParsePiece<'p> = dyn Fn(&[u8], u64, u64) -> (Vec<Item>, Counters) + Sync + 'p;

/// [`parse_mmap_with`] with pieces of about `piece` bytes, each parsed by
/// `parse(piece, first_line, first_at)`: tests pass tiny pieces and chunks
/// to check that where they fall does not change the result.
pub(super) fn parse_pieces(
    buf: &[u8],
    piece: usize,
    parse: &ParsePiece,
    passed: &(dyn Fn(u64) + Sync),
    sink: &mut Sink,
) {
    let pieces = Pieces::new(buf, piece);
    let mut next_line = 1u64;
    let mut at = 0u64;
    for piece in pieces {
        let (items, c) = parse(piece, next_line, at);
        // Line numbers of the next piece depend on this one's line count.
        next_line += c.lines;
        at += piece.len() as u64;
        // Records own their text: the piece's bytes are not read again.
        passed(at);
        sink(items, c);
    }
}

/// Block size for streamed (compressed) inputs, read alone: the plain
/// [`PIECE`], so that a file and its compressed copy are cut alike (and
/// analysed window for window alike). 16 MB blocks held about 64 MiB more
/// at the peak on the 0.5 GiB gzip archive for 9 % less CPU.
pub const BLOCK: usize = PIECE;
/// Streamed blocks never get smaller than this, however many files are
/// read at once.
pub const MIN_BLOCK: usize = 1024 * 1024;

/// Parses a stream (a decompressing reader) in blocks of about `block`
/// bytes, carrying the partial last line over, and hands each block's
/// records to `sink` (on the calling thread, as [`parse_mmap_with`] does).
/// The decompressor runs on its own thread, ahead of the parse by at most
/// two quarter blocks. A line longer than the block is kept only up to
/// [`line::MAX_PARSE`] bytes and the rest is skipped as it streams by, so a
/// 100 MB line never sits in memory whole. Returns the decompressed size and
/// the read error that stopped it, if any (records before it are kept).
pub fn parse_stream_with(
    r: &mut (dyn Read + Send),
    block: usize,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
    sink: &mut Sink,
) -> (u64, Option<std::io::Error>) {
    let block = block.max(MIN_BLOCK);
    let (tx, rx) = std::sync::mpsc::sync_channel::<std::io::Result<Vec<u8>>>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || loop {
            let mut piece = vec![0u8; block / 4];
            let mut got = 0;
            let res = loop {
                if got == piece.len() {
                    break Ok(());
                }
                match r.read(&mut piece[got..]) {
                    Ok(0) => break Ok(()),
                    Ok(n) => got += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => break Err(e),
                }
            };
            piece.truncate(got);
            let last = got == 0 || res.is_err();
            if got > 0 && tx.send(Ok(piece)).is_err() {
                return;
            }
            if let Err(e) = res {
                let _ = tx.send(Err(e));
            }
            if last {
                return;
            }
        });
        let mut bytes = 0u64;
        let mut carry: Vec<u8> = Vec::with_capacity(block + block / 4);
        let mut base_at = 0u64;
        let mut next_line = 1u64;
        let mut skipping = false;
        let mut error = None;
        let mut emit = |buf: &[u8], next_line: &mut u64, at: u64, long: bool| {
            let (items, mut c) = parse_buffer_at(buf, *next_line, at, threads, tick);
            if long {
                c.long_lines += 1;
            }
            *next_line += c.lines;
            sink(items, c);
        };
        for msg in rx.iter() {
            let data = match msg {
                Ok(d) => d,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            bytes += data.len() as u64;
            let mut data = &data[..];
            if skipping {
                match memchr::memchr(b'\n', data) {
                    Some(p) => {
                        skipping = false;
                        base_at += p as u64 + 1;
                        data = &data[p + 1..];
                    }
                    None => {
                        base_at += data.len() as u64;
                        continue;
                    }
                }
            }
            carry.extend_from_slice(data);
            if carry.len() < block {
                continue;
            }
            match safe_cut(&carry).or_else(|| memchr::memrchr(b'\n', &carry).map(|p| p + 1)) {
                Some(p) => {
                    emit(&carry[..p], &mut next_line, base_at, false);
                    carry.drain(..p);
                    base_at += p as u64;
                }
                None => {
                    // One line fills the whole block: keep its head, skip the rest.
                    let mut head = carry[..line::MAX_PARSE.min(carry.len())].to_vec();
                    head.push(b'\n');
                    emit(&head, &mut next_line, base_at, true);
                    base_at += carry.len() as u64;
                    carry.clear();
                    skipping = true;
                }
            }
        }
        if !carry.is_empty() {
            emit(&carry, &mut next_line, base_at, false);
        }
        (bytes, error)
    })
}

/// Parses a stream into one [`Parsed`] (see [`parse_stream_with`]).
pub fn parse_stream(
    r: &mut (dyn Read + Send),
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> (Parsed, Option<std::io::Error>) {
    let mut out = Parsed::default();
    let (items, counters) = (&mut out.items, &mut out.counters);
    let (bytes, err) = parse_stream_with(r, BLOCK, threads, tick, &mut |mut i, c| {
        items.append(&mut i);
        counters.merge(c);
    });
    out.bytes = bytes;
    (out, err)
}

/// Parses a whole in-memory input.
pub fn parse_all(buf: &[u8], threads: usize, tick: &(dyn Fn(u64) + Sync)) -> Parsed {
    let (items, counters) = parse_buffer(buf, 1, threads, tick);
    Parsed {
        items,
        counters,
        bytes: buf.len() as u64,
    }
}

#[cfg(test)]
mod order {
    use super::*;

    #[test]
    fn tally_tables_follow_declaration_order() {
        for (k, w) in WRAPPERS.iter().enumerate() {
            assert_eq!(*w as usize, k, "{}", w.name());
        }
        for (k, f) in FORMATS.iter().enumerate() {
            assert_eq!(*f as usize, k);
        }
        for (k, l) in LEVELS.iter().enumerate() {
            assert_eq!(*l as usize, k);
        }
    }
}

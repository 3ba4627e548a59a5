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
use std::io::Read;

use rayon::prelude::*;

use super::catalog::{self, Caps, RawKind};
use super::line::{self, Level, Role, Stamp, Wrapper};

/// Evidence text is kept up to this many bytes (longer lines end in `…`).
pub const MAX_TEXT: usize = 8 * 1024;
/// Unparsed lines kept as samples per chunk (all are counted).
const SAMPLES_PER_CHUNK: usize = 8;

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

/// One kept line.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// 1-based line number in the (decompressed) file.
    pub line: u64,
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
    /// The exact line text (bounded by [`MAX_TEXT`]).
    pub text: Box<str>,
}

/// The first and last line a process wrote within a chunk, closed early when
/// the same pid starts a new lifetime (containers reuse pid 1).
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
    /// Timestamp of the first line.
    pub first_stamp: Option<Stamp>,
    /// Timestamp of the last line.
    pub last_stamp: Option<Stamp>,
    /// Text of the last line.
    pub last_text: Box<str>,
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
    fn merge(&mut self, o: Counters) {
        self.lines += o.lines;
        self.unparsed += o.unparsed;
        self.long_lines += o.long_lines;
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
        return String::from_utf8_lossy(raw).into();
    }
    let mut s = String::from_utf8_lossy(&raw[..MAX_TEXT]).into_owned();
    s.push('…');
    s.into()
}

struct OpenSpan {
    span: Span,
}

/// Parses one chunk (whole lines). Line numbers start at 1 relative to the
/// chunk; [`parse_buffer`] shifts them.
fn parse_chunk(buf: &[u8]) -> (Vec<Item>, Counters) {
    let mut items = Vec::new();
    let mut c = Counters::default();
    let mut open: HashMap<u32, OpenSpan> = HashMap::new();
    let mut samples = 0usize;
    let mut lineno = 0u64;
    let mut start = 0usize;
    while start < buf.len() {
        let end = memchr::memchr(b'\n', &buf[start..]).map_or(buf.len(), |p| start + p);
        let raw = &buf[start..end];
        start = end + 1;
        lineno += 1;
        c.lines += 1;
        if raw.len() > line::MAX_PARSE {
            c.long_lines += 1;
        }
        match line::parse_line(raw) {
            Some(l) => {
                *c.formats.entry(format_name(l.format)).or_default() += 1;
                if l.wrapper != Wrapper::None {
                    *c.wrappers.entry(l.wrapper.name()).or_default() += 1;
                }
                if let Some(lv) = l.level {
                    *c.levels.entry(lv.name()).or_default() += 1;
                }
                let known = catalog::classify(&l.msg);
                let mut kept = false;
                let mut starts_process = false;
                if let Some((idx, caps)) = known {
                    let e = catalog::entry(idx);
                    *c.kinds.entry(e.kind).or_default() += 1;
                    if e.noise {
                        *c.noise.entry(e.kind).or_default() += 1;
                    } else {
                        starts_process = e.id == "L01";
                        kept = true;
                        if let (true, Some(p)) = (starts_process, l.pid) {
                            if let Some(o) = open.remove(&p) {
                                items.push(Item::Span(o.span));
                            }
                        }
                        items.push(Item::Rec(Rec {
                            line: lineno,
                            pid: l.pid,
                            role: l.role,
                            level: l.level,
                            stamp: l.stamp,
                            outer_ms: l.outer_ms,
                            wrapper: l.wrapper,
                            what: What::Known(idx, caps),
                            text: text_of(raw),
                        }));
                    }
                }
                if !kept && l.level == Some(Level::Warning) && l.format != line::Format::Bare {
                    // Unknown warnings inside a bug report (register dumps,
                    // "Bio thread ... terminated") stay attached to it.
                    items.push(Item::Rec(Rec {
                        line: lineno,
                        pid: l.pid,
                        role: l.role,
                        level: l.level,
                        stamp: l.stamp,
                        outer_ms: l.outer_ms,
                        wrapper: l.wrapper,
                        what: What::Other,
                        text: text_of(&raw[..raw.len().min(256)]),
                    }));
                }
                let _ = starts_process;
                if let Some(p) = l.pid {
                    let o = open.entry(p).or_insert_with(|| OpenSpan {
                        span: Span {
                            pid: p,
                            role: l.role,
                            first: lineno,
                            last: lineno,
                            first_stamp: l.stamp,
                            last_stamp: l.stamp,
                            last_text: Box::from(""),
                        },
                    });
                    o.span.last = lineno;
                    o.span.role = l.role.or(o.span.role);
                    if l.stamp.is_some() {
                        o.span.last_stamp = l.stamp;
                    }
                    if o.span.first_stamp.is_none() {
                        o.span.first_stamp = l.stamp;
                    }
                    o.span.last_text = text_of(raw);
                }
            }
            None => {
                c.unparsed += 1;
                match catalog::classify_raw(&raw[..raw.len().min(line::MAX_PARSE)]) {
                    Some(k) => items.push(Item::Rec(raw_rec(lineno, What::Raw(k), raw))),
                    None if samples < SAMPLES_PER_CHUNK && !raw.trim_ascii().is_empty() => {
                        samples += 1;
                        items.push(Item::Rec(raw_rec(lineno, What::Unparsed, raw)));
                    }
                    None => {}
                }
            }
        }
    }
    let mut rest: Vec<Span> = open.into_values().map(|o| o.span).collect();
    rest.sort_by_key(|s| s.first);
    items.extend(rest.into_iter().map(Item::Span));
    (items, c)
}

fn raw_rec(line: u64, what: What, raw: &[u8]) -> Rec {
    Rec {
        line,
        pid: None,
        role: None,
        level: None,
        stamp: None,
        outer_ms: None,
        wrapper: Wrapper::None,
        what,
        text: text_of(raw),
    }
}

/// Cuts `buf` into chunks of about `target` bytes, each ending after a `\n`
/// (the last may end without one).
pub fn split(buf: &[u8], target: usize) -> Vec<&[u8]> {
    let target = target.max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < buf.len() {
        let want = start + target;
        if want >= buf.len() {
            out.push(&buf[start..]);
            break;
        }
        let end = memchr::memchr(b'\n', &buf[want..]).map_or(buf.len(), |p| want + p + 1);
        out.push(&buf[start..end]);
        start = end;
    }
    out
}

/// Parses a buffer of whole lines in parallel; `first_line` is the 1-based
/// number of its first line. `tick` is called with each chunk's size.
pub fn parse_buffer(
    buf: &[u8],
    first_line: u64,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> (Vec<Item>, Counters) {
    let target = (buf.len() / (threads.max(1) * 4)).clamp(256 * 1024, 64 * 1024 * 1024);
    let chunks = split(buf, target);
    let parts: Vec<(Vec<Item>, Counters)> = chunks
        .par_iter()
        .map(|c| {
            let r = parse_chunk(c);
            tick(c.len() as u64);
            r
        })
        .collect();
    let mut items = Vec::new();
    let mut counters = Counters::default();
    let mut base = first_line - 1;
    for (mut its, c) in parts {
        for it in &mut its {
            match it {
                Item::Rec(r) => r.line += base,
                Item::Span(s) => {
                    s.first += base;
                    s.last += base;
                }
            }
        }
        base += c.lines;
        items.append(&mut its);
        counters.merge(c);
    }
    (items, counters)
}

/// Block size for streamed (compressed) inputs.
const BLOCK: usize = 16 * 1024 * 1024;

/// Parses a stream (a decompressing reader) block by block, carrying the
/// partial last line over. A line longer than [`BLOCK`] is kept only up to
/// [`line::MAX_PARSE`] bytes and the rest is skipped as it streams by, so a
/// 100 MB line never sits in memory whole.
pub fn parse_stream(
    r: &mut dyn Read,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> (Parsed, Option<std::io::Error>) {
    let mut out = Parsed::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + 64 * 1024);
    let mut next_line = 1u64;
    let mut skipping = false;
    let mut eof = false;
    while !eof {
        // Fill up to BLOCK bytes.
        let mut tmp = vec![0u8; 256 * 1024];
        while buf.len() < BLOCK {
            let n = match r.read(&mut tmp) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // Keep what was read (a truncated archive still yields
                    // its first lines), then report.
                    finish(&mut out, &buf, next_line, threads, tick);
                    return (out, Some(e));
                }
            };
            if n == 0 {
                eof = true;
                break;
            }
            out.bytes += n as u64;
            let mut data = &tmp[..n];
            if skipping {
                match memchr::memchr(b'\n', data) {
                    Some(p) => {
                        skipping = false;
                        data = &data[p + 1..];
                    }
                    None => continue,
                }
            }
            buf.extend_from_slice(data);
        }
        if eof {
            break;
        }
        match memchr::memrchr(b'\n', &buf) {
            Some(p) => {
                let (items, c) = parse_buffer(&buf[..=p], next_line, threads, tick);
                next_line += c.lines;
                out.items.extend(items);
                out.counters.merge(c);
                buf.drain(..=p);
            }
            None => {
                // One line fills the whole block: keep its head, skip the rest.
                let mut head = buf[..line::MAX_PARSE.min(buf.len())].to_vec();
                head.push(b'\n');
                let (items, mut c) = parse_buffer(&head, next_line, threads, tick);
                c.long_lines += 1;
                next_line += c.lines;
                out.items.extend(items);
                out.counters.merge(c);
                buf.clear();
                skipping = true;
            }
        }
    }
    finish(&mut out, &buf, next_line, threads, tick);
    (out, None)
}

fn finish(
    out: &mut Parsed,
    buf: &[u8],
    next_line: u64,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) {
    if buf.is_empty() {
        return;
    }
    let (items, c) = parse_buffer(buf, next_line, threads, tick);
    out.items.extend(items);
    out.counters.merge(c);
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

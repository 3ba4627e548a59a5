//! Nodes, process lifetimes and one merged timeline.
//!
//! The stage after the parallel chunk parse: each rotation set (`redis.log.2.gz`,
//! `redis.log.1`, `redis.log`) is walked sequentially in line order. Year-less
//! timestamps get their year here (log-events.md §1.8: a signal-handler epoch
//! or a wrapper timestamp in the same file, else `--year`, else the file's
//! mtime, with a year added whenever the month goes backwards). Lines are
//! grouped into process lifetimes (a `... is starting` line, a startup logo, or
//! a pid seen for the first time), fork children are tied to their parent by
//! `started by pid N`, lifetimes get a port (from `Running mode`, the logo or
//! a crash INFO dump) and so a node, crash reports and logos are folded into
//! one event each, and every event of every node is merged onto one timeline
//! ordered by time. The failure-chain rules read the result.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use super::catalog::{self, Caps, RawKind, Severity};
use super::chunk::{Counters, Item, Parsed, Rec, Span, What, UNPARSED_SAMPLES};
use super::crash::{Cite, Crash};
use super::line::{self, Level, Role, Stamp};
use crate::fasthash::FastMap;

mod prune;
mod settle;

pub use prune::{Listing, Writeup};

/// One input file after parsing.
#[derive(Debug)]
pub struct InputFile {
    /// Path as given (or as found under a directory / glob).
    pub path: String,
    /// Where the bytes can be read again (differs from `path` for stdin).
    pub source: PathBuf,
    /// Whether the input is uncompressed (cited lines are then read back
    /// by offset; compressed inputs are decompressed again up to them).
    pub plain: bool,
    /// Rotation set index.
    pub set: usize,
    /// (year, month) of the file's mtime, when known.
    pub mtime: Option<(i64, u32)>,
    /// Parse result.
    pub parsed: Parsed,
    /// Compression name.
    pub compression: &'static str,
    /// Error reading the file, if any (partial results are kept).
    pub error: Option<String>,
}

/// Per-file facts for output.
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Path as given.
    pub path: String,
    /// Where the bytes can be read again (differs from `path` for stdin).
    pub source: PathBuf,
    /// Whether the input is uncompressed.
    pub plain: bool,
    /// Rotation set name.
    pub set: String,
    /// Compression.
    pub compression: &'static str,
    /// Decompressed bytes.
    pub bytes: u64,
    /// Lines.
    pub lines: u64,
    /// Unparsed lines.
    pub unparsed: u64,
    /// How the year of year-less lines was chosen, if any were seen.
    pub year_source: Option<String>,
    /// Error, if reading stopped early.
    pub error: Option<String>,
}

/// How a process lifetime ended (log-events.md FC0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndClass {
    /// Last line is `ready to exit, bye bye`.
    Clean,
    /// A crash report.
    Crash,
    /// The server exited on purpose after a fatal error (AOF `always` write
    /// error, unloadable RDB, listen failure).
    FatalExit,
    /// Shutdown was requested but never finished before the next start.
    KilledInShutdown,
    /// No shutdown lines at all, yet a new process started.
    UnknownKill,
    /// Killed by the kernel OOM killer.
    OomKilled,
    /// The log ends while the process was running.
    Running,
}

impl EndClass {
    /// Name as printed.
    pub fn name(self) -> &'static str {
        match self {
            EndClass::Clean => "clean",
            EndClass::Crash => "crash",
            EndClass::FatalExit => "fatal-exit",
            EndClass::KilledInShutdown => "killed-in-shutdown",
            EndClass::UnknownKill => "unknown-kill",
            EndClass::OomKilled => "oom-killed",
            EndClass::Running => "running",
        }
    }
}

/// One run of a server process.
#[derive(Debug, Clone)]
pub struct Lifetime {
    /// Node index (set after grouping).
    pub node: usize,
    /// Rotation set.
    pub set: usize,
    /// Main process id.
    pub pid: u32,
    /// First line (the start marker when there is one).
    pub first: Option<Cite>,
    /// Whether a start marker (`is starting`, logo) was seen.
    pub explicit_start: bool,
    /// `Ready to accept connections`.
    pub ready: Option<Cite>,
    /// Last line written by the main process.
    pub last: Option<Cite>,
    /// `User requested shutdown` / `Received SIGTERM`.
    pub shutdown: Option<Cite>,
    /// `ready to exit, bye bye`.
    pub exit: Option<Cite>,
    /// A fatal error that makes the server exit by itself.
    pub fatal: Option<Cite>,
    /// The text of the fatal error line (quoted by the restart-loop rule).
    pub fatal_text: Option<Box<str>>,
    /// The kernel OOM-killer line that killed this process, if any.
    pub oom_kill: Option<Cite>,
    /// Crash index.
    pub crash: Option<usize>,
    /// How it ended.
    pub end: EndClass,
    /// Server family and version (`Redis 7.0.15`), shared by the
    /// lifetimes that print the same one.
    pub version: Option<Arc<str>>,
    /// `standalone`, `cluster`, `sentinel` (shared likewise).
    pub mode: Option<Arc<str>>,
    /// TCP port.
    pub port: Option<u32>,
    /// Cluster node id.
    pub cluster_id: Option<Box<str>>,
    /// Sentinel id.
    pub sentinel_id: Option<Box<str>>,
    /// `keys loaded` at startup and the line.
    pub keys_loaded: Option<(u64, Cite)>,
    /// Load time in seconds (`DB loaded from disk` / AOF) and the line.
    pub load_secs: Option<(f64, Cite)>,
    /// Role of the first main-process line with a role.
    pub first_role: Option<Role>,
    /// Whether `port` was lent by a neighbour (see `settle`).
    pub inherited: bool,
    /// Whether `node` is final (a lifetime still waiting for a neighbour
    /// to lend it a port is placed again each time the run settles).
    pub node_fixed: bool,
}

/// A node: one server identity (host set + port) across restarts.
#[derive(Debug, Clone)]
pub struct Node {
    /// Display name (`:17150`, or `set:17150` when a port is ambiguous).
    pub name: String,
    /// Port.
    pub port: Option<u32>,
    /// `standalone`, `cluster`, `sentinel`.
    pub mode: Option<Arc<str>>,
    /// Version of the latest lifetime.
    pub version: Option<Arc<str>>,
    /// Lifetimes in order.
    pub lifetimes: Vec<usize>,
    /// Files contributing lines.
    pub files: Vec<usize>,
    /// Cluster node ids.
    pub cluster_ids: Vec<String>,
    /// Lifetimes no longer held (a long archive keeps only the latest
    /// [`LIFETIMES_LISTED`]), counted in [`Node::lifetime_count`].
    pub gone: u64,
    /// How those ended, in order of first appearance.
    pub gone_ends: Vec<(EndClass, u64)>,
}

/// At most this many of a node's lifetimes are held for listing once a
/// long archive is pruned (the others are counted by how they ended).
pub const LIFETIMES_LISTED: usize = 1_000;

/// [`Node::mode`] of a file set holding only kernel lines (a `kern.log` or
/// `dmesg` given on its own): the host, not a server.
pub const KERNEL_MODE: &str = "kernel";

impl Node {
    /// Whether this is a host's kernel log rather than a server. Such a
    /// node lists no lifetimes: the pseudo-process its lines were grouped
    /// under is not a server process.
    pub fn is_kernel(&self) -> bool {
        self.mode.as_deref() == Some(KERNEL_MODE)
    }
    /// Lifetimes of the node over the whole run, held or not.
    pub fn lifetime_count(&self) -> u64 {
        self.gone + self.lifetimes.len() as u64
    }
}

impl Timeline {
    /// Nodes that are servers (not a host's kernel log).
    pub fn server_nodes(&self) -> usize {
        self.nodes.iter().filter(|n| !n.is_kernel()).count()
    }

    /// The events `logs` may list and counts: all but the copies held for
    /// the write-up alone ([`Event::writeup_only`]).
    pub fn listable(&self) -> impl Iterator<Item = &Event> {
        self.events.iter().filter(|e| !e.writeup_only)
    }
}

/// One event on the merged timeline.
///
/// Archives of millions of lines keep millions of these, so the fields are
/// packed and read through methods: the place and time share a [`Cite`],
/// indexes are `u32`, and the catalogue row stands for id and kind.
#[derive(Debug, Clone)]
pub struct Event {
    /// File, line, byte offset and time. The text is read back from the
    /// offset when the event is rendered.
    cite: Cite,
    /// Where the extracted values start in [`Timeline`]'s shared list
    /// (one allocation for all events instead of one per event).
    caps: u32,
    /// How many extracted values there are.
    ncaps: u16,
    /// Lifetime index.
    lifetime: u32,
    /// Node index (that of the lifetime).
    node: u32,
    /// Process id, when `has_pid`.
    pid: u32,
    /// Crash index for `crash_report` events, or `u32::MAX`.
    crash: u32,
    /// Catalogue row, or past the catalogue one of [`SYNTHETIC`].
    kind: u16,
    /// Whether a process id was printed.
    has_pid: bool,
    /// Whether it came from a fork child.
    pub child: bool,
    /// Role.
    pub role: Option<Role>,
    /// Level.
    pub level: Option<Level>,
    /// Severity of the event alone.
    pub severity: Severity,
    /// The errno class the line names ([`catalog::errno_class`]; 0 none).
    pub errno: u8,
    /// Whether this kernel OOM-kill line was tied to the process it killed.
    oom_tied: bool,
    /// Whether only the write-up holds it: a window let it go, and the
    /// listing (when there is one) would not have kept it. A listing skips
    /// such events, so that one analysis serves both (`report --logs`).
    pub writeup_only: bool,
}

/// Events that no catalogue row yields (a folded crash report, a prefix-less
/// watchdog banner, a startup logo): id, kind, severity. An [`Event`] of
/// one of these has kind `catalog::ENTRIES.len() + k`.
const SYNTHETIC: [(&str, &str, Severity); 3] = [
    ("X01", "crash_report", Severity::Critical),
    ("T02", "watchdog", Severity::High),
    ("L01", "startup_logo", Severity::Low),
];

/// The kind number of [`SYNTHETIC`] row `k`.
fn synthetic(k: usize) -> u16 {
    (catalog::ENTRIES.len() + k) as u16
}

/// Id, kind and severity of kind number `k`.
fn kind_row(k: u16) -> (&'static str, &'static str, Severity) {
    match catalog::ENTRIES.get(usize::from(k)) {
        Some(e) => (e.id, e.kind, e.severity),
        None => SYNTHETIC[usize::from(k) - catalog::ENTRIES.len()],
    }
}

impl Event {
    /// Catalogue id (`P03`).
    pub fn id(&self) -> &'static str {
        kind_row(self.kind).0
    }
    /// Stable kind (`fork_failed`).
    pub fn kind(&self) -> &'static str {
        kind_row(self.kind).1
    }
    /// The catalogue pattern the line matched (empty for folded events):
    /// tells wordings of one kind apart (`Memory cgroup out of memory`).
    pub fn pattern(&self) -> &'static str {
        catalog::ENTRIES
            .get(usize::from(self.kind))
            .map_or("", |e| e.pattern)
    }
    /// The event as a citation.
    pub fn cite(&self) -> Cite {
        self.cite
    }
    /// Time (ms, wall clock as printed).
    pub fn ts(&self) -> Option<i64> {
        self.cite.ts()
    }
    /// File index.
    pub fn file(&self) -> usize {
        self.cite.file()
    }
    /// 1-based line.
    pub fn line(&self) -> u64 {
        self.cite.line()
    }
    /// Byte offset of the line in its (decompressed) file.
    pub fn at(&self) -> u64 {
        self.cite.at
    }
    /// Node index.
    pub fn node(&self) -> usize {
        self.node as usize
    }
    /// Lifetime index.
    pub fn lifetime(&self) -> usize {
        self.lifetime as usize
    }
    /// Process id, when printed.
    pub fn pid(&self) -> Option<u32> {
        self.has_pid.then_some(self.pid)
    }
    /// Crash index for `crash_report` events.
    pub fn crash(&self) -> Option<u32> {
        (self.crash != u32::MAX).then_some(self.crash)
    }
    /// Extracted values, in pattern order (`t` is the event's timeline).
    pub fn caps<'t>(&self, t: &'t Timeline) -> &'t [(&'static str, catalog::Cap)] {
        self.caps_in(&t.caps)
    }
    fn caps_in<'a>(&self, all: &'a CapArena) -> &'a [(&'static str, catalog::Cap)] {
        all.get(self.caps, self.ncaps)
    }
    /// Numeric capture.
    pub fn num(&self, t: &Timeline, k: &str) -> Option<f64> {
        catalog::num(self.caps(t), k)
    }
    /// Text capture.
    pub fn txt<'t>(&self, t: &'t Timeline, k: &str) -> Option<&'t str> {
        catalog::text(self.caps(t), k)
    }
}

/// The assembled timeline.
#[derive(Debug, Default)]
pub struct Timeline {
    /// Files.
    pub files: Vec<FileInfo>,
    /// Nodes.
    pub nodes: Vec<Node>,
    /// Lifetimes.
    pub lifetimes: Vec<Lifetime>,
    /// Events, ordered by time (then file, line).
    pub events: Vec<Event>,
    /// The extracted values of every event, each event's in one run.
    caps: CapArena,
    /// Crash reports.
    pub crashes: Vec<Crash>,
    /// Sample of unparsed lines outside known blocks, with their text.
    pub unparsed: Vec<(Cite, Box<str>)>,
    /// Total lines.
    pub lines: u64,
    /// Every event by kind, including those counted but not kept.
    pub kind_counts: BTreeMap<&'static str, u64>,
    /// Events seen (kept or not).
    pub events_total: u64,
    /// Whether low-value events were counted only (see [`Builder`]).
    pub events_trimmed: bool,
    /// Earliest and latest event time, over every event seen.
    pub span: (Option<i64>, Option<i64>),
    /// Largest fork copy-on-write peak (MB) reported.
    pub cow_peak_mb: Option<f64>,
    /// Kubernetes CRI partial lines joined to the line that follows.
    pub cri_joined: u64,
    /// Events a long archive's analysis pruned and did not hold for the
    /// listing (kept until their window was analysed, then counted).
    pub events_gone: u64,
    /// Of those, BGSAVE children killed by a signal other than SIGUSR1.
    pub bgsave_killed_gone: u64,
    /// Crash reports read (a long archive's analysis holds only those of
    /// its window and of the listed events).
    pub crashes_total: u64,
    /// Pruned events the listing would match but did not hold: all, and
    /// those of medium severity and above.
    pub unlisted: (u64, u64),
}

const MAX_UNPARSED_SAMPLES: usize = 100;

struct YearWalk {
    year: i64,
    last: Option<u8>,
    /// Wall clock of the host's boot, for plain `dmesg` stamps.
    boot: Option<i64>,
}

impl YearWalk {
    fn resolve(&mut self, st: Option<Stamp>) -> Option<i64> {
        match st? {
            Stamp::Abs(ms) => Some(ms),
            Stamp::SinceBoot(ms) => self.boot.map(|b| b + ms),
            Stamp::NoYear { mon, day, msod } => {
                if let Some(l) = self.last {
                    if mon < l {
                        self.year += 1;
                    }
                }
                self.last = Some(mon);
                Some(
                    line::days_from_civil(self.year, u32::from(mon), u32::from(day).max(1))
                        * 86_400_000
                        + i64::from(msod),
                )
            }
        }
    }
    /// Resolves without advancing (for span ends seen out of order).
    fn peek(&self, st: Option<Stamp>) -> Option<i64> {
        match st? {
            Stamp::Abs(ms) => Some(ms),
            Stamp::SinceBoot(ms) => self.boot.map(|b| b + ms),
            Stamp::NoYear { mon, day, msod } => {
                let y = match self.last {
                    Some(l) if mon < l => self.year + 1,
                    _ => self.year,
                };
                Some(
                    line::days_from_civil(y, u32::from(mon), u32::from(day).max(1)) * 86_400_000
                        + i64::from(msod),
                )
            }
        }
    }
}

#[derive(Default)]
struct SetState {
    /// Versions and modes, one copy each for the set's lifetimes.
    names: HashSet<Arc<str>>,
    by_pid: FastMap<u32, usize>,
    children: FastMap<u32, usize>,
    current: Option<usize>,
    crash_open: Option<(usize, usize)>,
    logo: Option<Logo>,
}

impl SetState {
    /// Whether `s` is (part of) the span of a pid known only as a fork
    /// child. Folding it changes nothing, now or where the span ends (only
    /// a logo can later make the pid a main process's, and a part without a
    /// main-process role would not set that process's first role), so it
    /// is folded at once instead of held: fork children are most of the
    /// pids of a busy log.
    fn settled_child(&self, s: &Span) -> bool {
        !self.by_pid.contains_key(&s.pid)
            && self.children.contains_key(&s.pid)
            && matches!(s.role, None | Some(Role::Child))
    }
}

#[derive(Default)]
struct Logo {
    first: Option<Cite>,
    version: Option<String>,
    mode: Option<String>,
    port: Option<u32>,
    pid: Option<u32>,
}

/// The shared copy of `s`.
fn intern(names: &mut HashSet<Arc<str>>, s: &str) -> Arc<str> {
    if let Some(a) = names.get(s) {
        return a.clone();
    }
    let a: Arc<str> = s.into();
    names.insert(a.clone());
    a
}

fn new_lifetime(
    t: &mut Timeline,
    set: usize,
    pid: u32,
    first: Option<Cite>,
    explicit: bool,
) -> usize {
    t.lifetimes.push(Lifetime {
        node: usize::MAX,
        set,
        pid,
        first,
        explicit_start: explicit,
        ready: None,
        last: None,
        shutdown: None,
        exit: None,
        fatal: None,
        fatal_text: None,
        oom_kill: None,
        crash: None,
        end: EndClass::Running,
        version: None,
        mode: None,
        port: None,
        cluster_id: None,
        sentinel_id: None,
        keys_loaded: None,
        load_secs: None,
        first_role: None,
        inherited: false,
        node_fixed: false,
    });
    t.lifetimes.len() - 1
}

/// Which lifetime a line of `pid`/`role` belongs to, and whether it came
/// from a fork child. Creates an implicit lifetime for an unknown main pid.
fn owner(
    t: &mut Timeline,
    st: &mut SetState,
    set: usize,
    pid: Option<u32>,
    role: Option<Role>,
    cite: &dyn Fn() -> Cite,
) -> (usize, bool) {
    let Some(p) = pid else {
        return match st.current {
            Some(l) => (l, false),
            None => {
                let l = new_lifetime(t, set, 0, Some(cite()), false);
                st.current = Some(l);
                (l, false)
            }
        };
    };
    if let Some(&l) = st.by_pid.get(&p) {
        return (l, false);
    }
    if let Some(&l) = st.children.get(&p) {
        return (l, true);
    }
    if role == Some(Role::Child) {
        if let Some(l) = st.current {
            st.children.insert(p, l);
            return (l, true);
        }
    }
    let l = new_lifetime(t, set, p, Some(cite()), false);
    st.by_pid.insert(p, l);
    (l, false)
}

fn cite_of(file: usize, r: &Rec, ts: Option<i64>) -> Cite {
    Cite::new(file, r.line, r.at, ts)
}

/// Events of kinds no rule reads and below medium severity are kept until
/// this many exist; past it they are only counted ([`Timeline::kind_counts`]),
/// which is what keeps memory flat on archives of millions of lines.
pub const LOW_VALUE_KEPT: usize = 10_000;

/// Whether an event of `kind`/`severity` must be kept for the rules or for
/// the medium-and-above timeline, however many there are.
pub fn notable(kind: &str, severity: Severity) -> bool {
    static USED: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    severity >= Severity::Medium
        || USED
            .get_or_init(|| super::catalog::KINDS_USED.iter().copied().collect())
            .contains(kind)
}

/// Entries per page of a [`CapArena`].
const CAP_PAGE: usize = 1 << 16;

type CapEntry = (&'static str, catalog::Cap);

/// The extracted values of all events, in fixed-size pages: one growing
/// vector would hold up to twice what it needs while it doubles, and one
/// allocation per event costs a header each and scatters them over the
/// parse threads' heaps. An event's values never straddle two pages.
#[derive(Debug, Default)]
struct CapArena {
    pages: Vec<Vec<CapEntry>>,
}

impl CapArena {
    /// Appends one event's values (at most [`CAP_PAGE`]); returns where
    /// they start.
    fn push(&mut self, caps: Vec<CapEntry>) -> u32 {
        let fits = self
            .pages
            .last()
            .is_some_and(|p| p.len() + caps.len() <= CAP_PAGE);
        if !fits {
            self.pages.push(Vec::with_capacity(CAP_PAGE));
        }
        let page = self.pages.len() - 1;
        let Some(p) = self.pages.last_mut() else {
            return 0;
        };
        let at = page * CAP_PAGE + p.len();
        p.extend(caps.into_iter().take(CAP_PAGE));
        at as u32
    }
    /// The `n` values starting at `at`.
    fn get(&self, at: u32, n: u16) -> &[CapEntry] {
        let (page, off) = (at as usize / CAP_PAGE, at as usize % CAP_PAGE);
        self.pages
            .get(page)
            .and_then(|p| p.get(off..off + usize::from(n)))
            .unwrap_or(&[])
    }
    /// Moves the `n` values starting at `at` out (the event leaves).
    fn take(&mut self, at: u32, n: u16) -> Vec<CapEntry> {
        let (page, off) = (at as usize / CAP_PAGE, at as usize % CAP_PAGE);
        self.pages
            .get_mut(page)
            .and_then(|p| p.get_mut(off..off + usize::from(n)))
            .map(|run| {
                run.iter_mut()
                    .map(|(k, v)| (*k, std::mem::replace(v, catalog::Cap::Num(0.0))))
                    .collect()
            })
            .unwrap_or_default()
    }
    /// Drops everything from `at` on (the values of the last event).
    fn truncate(&mut self, at: u32) {
        let (page, off) = (at as usize / CAP_PAGE, at as usize % CAP_PAGE);
        self.pages.truncate(page + 1);
        if let Some(p) = self.pages.get_mut(page) {
            p.truncate(off);
        }
    }
}

/// Drops the extracted values of events no longer kept, once, when
/// low-value events start being only counted.
fn compact_caps(t: &mut Timeline) {
    let mut old = std::mem::take(&mut t.caps);
    move_caps(&mut t.events, &mut old, &mut t.caps);
}

/// Moves the values of `events` out of `from` into `to` (the events then
/// point into `to`).
fn move_caps(events: &mut [Event], from: &mut CapArena, to: &mut CapArena) {
    for e in events {
        e.caps = to.push(from.take(e.caps, e.ncaps));
    }
}

/// Year inference fed line by line (the state of [`infer_year`] over the
/// items seen so far), so that a file can be folded as it streams.
#[derive(Default)]
struct YearInfer {
    any: bool,
    rollovers: i64,
    last: Option<u8>,
    anchor: Option<(i64, u32, i64, Option<u8>)>,
}

impl YearInfer {
    fn feed(&mut self, st: Option<Stamp>, outer: Option<i64>) {
        let noyear = match st {
            Some(Stamp::NoYear { mon, .. }) => Some(mon),
            _ => None,
        };
        if let Some(m) = noyear {
            self.any = true;
            if self.last.is_some_and(|l| m < l) {
                self.rollovers += 1;
            }
            self.last = Some(m);
        }
        let abs = match (st, outer) {
            (_, Some(o)) if noyear.is_some() => Some(o),
            (Some(Stamp::Abs(ms)), _) => Some(ms),
            _ => None,
        };
        if let (Some(ms), None) = (abs, self.anchor) {
            let (y, m, _) = line::civil_from_days(ms.div_euclid(86_400_000));
            self.anchor = Some((y, m, self.rollovers, self.last));
        }
    }
    fn feed_item(&mut self, it: &Item) {
        match it {
            Item::Rec(r) => self.feed(r.stamp, r.outer_ms),
            // A span's stamps are those of its first and last lines, which
            // lie before records already fed: walking them would count the
            // month going back from the last record to the span's first
            // line as a new year. They only tell that year-less stamps exist.
            Item::Span(_) => self.any |= has_noyear(it),
        }
    }
}

fn has_noyear(it: &Item) -> bool {
    let ny = |s: &Option<Stamp>| matches!(s, Some(Stamp::NoYear { .. }));
    match it {
        Item::Rec(r) => ny(&r.stamp),
        Item::Span(s) => ny(&s.first_stamp) || ny(&s.last_stamp),
    }
}

/// A file being folded (several nodes' files may be open at once, fed in
/// time order; see [`crate::logs::lanes`]).
struct Current {
    fidx: usize,
    set: usize,
    mtime: Option<(i64, u32)>,
    year: YearInfer,
    /// Latest event time folded from the file.
    latest: Option<i64>,
    /// Where its lines start, until an event was folded (`i64::MIN`:
    /// unknown; see [`Builder::set_first`]).
    floor: i64,
    /// Items held back since the first year-less timestamp: their year is
    /// known only at the end of the file.
    held: Option<Vec<Item>>,
    /// Unparsed samples seen so far in the file (each chunk sends its first
    /// [`UNPARSED_SAMPLES`]; only the file's first that many are used).
    samples: usize,
    /// Per-pid spans not yet closed, joined across chunks. A chunk sends
    /// each pid's span when it ends, but the pid's lines may go on in the
    /// next chunk: folding the part then would tie the process to a
    /// lifetime (or, for the `C` lines of a starting Redis ≤ 6, to the
    /// previous process as a fork child) by the state at an arbitrary
    /// point. A span is folded where a single chunk would have sent it:
    /// just before the pid's next start line, or at the end of the file.
    spans: FastMap<u32, Span>,
}

/// Builds the timeline incrementally: each file fed batch by batch in line
/// order as it is parsed, so that no file's records are ever held whole
/// (except after a year-less timestamp, whose year depends on the rest of
/// the file); only the line span of each process still running is held.
/// Files of one rotation set come one after the other; files of different
/// sets may be open at once and their batches interleaved. The result does
/// not depend on how a file is cut into batches.
pub struct Builder {
    t: Timeline,
    states: FastMap<usize, SetState>,
    sets: Vec<String>,
    user_year: Option<i64>,
    /// Wall clock of the host's boot (`--boot-time`), for plain `dmesg`.
    boot: Option<i64>,
    keep_all: bool,
    low_value: usize,
    /// Files open, in the order they were begun.
    cur: Vec<Current>,
    /// Events seen by kind number (several catalogue rows may share a kind
    /// name; [`Builder::finish`] merges them by name): counting by name in
    /// a `BTreeMap` for each of millions of events was a visible share of
    /// the sequential fold.
    counts: FastMap<usize, (&'static str, u64)>,
    /// [`notable`] by kind number, for kinds below medium.
    used: FastMap<usize, bool>,
    /// What settling keeps across prunes.
    settle: settle::Settle,
    /// What pruning holds for the listing.
    held: prune::Held,
    listing: Option<Listing>,
    /// What pruning holds for the write-up, and the events held.
    writeup: Option<(Writeup, prune::Held)>,
    /// Whether the end of the run was settled already.
    settled: bool,
    /// The file whose batch is being fed in parts, and the pids whose
    /// spans are still to come in it.
    spans_due: (usize, Vec<u32>),
    /// Events before this time were analysed in a window already.
    closed: i64,
    /// Events that came stamped before `closed`, and the first of them.
    late: (u64, Option<Cite>),
}

impl Builder {
    /// A builder for rotation sets named `sets`; `keep_all_events` keeps
    /// every event instead of counting low-value ones past
    /// [`LOW_VALUE_KEPT`].
    pub fn new(sets: &[String], user_year: Option<i64>, keep_all_events: bool) -> Builder {
        Builder {
            t: Timeline::default(),
            states: FastMap::default(),
            sets: sets.to_vec(),
            user_year,
            boot: None,
            keep_all: keep_all_events,
            low_value: 0,
            cur: Vec::new(),
            counts: FastMap::default(),
            used: FastMap::default(),
            settle: settle::Settle::default(),
            held: prune::Held::default(),
            listing: None,
            writeup: None,
            settled: false,
            spans_due: (usize::MAX, Vec::new()),
            closed: i64::MIN,
            late: (0, None),
        }
    }

    /// Places plain `dmesg` lines (seconds since boot) at `boot` plus
    /// their offset.
    pub fn with_boot_time(mut self, boot: Option<i64>) -> Builder {
        self.boot = boot;
        self
    }

    /// Which pruned events to hold for the listing (none without).
    pub fn with_listing(mut self, listing: Listing) -> Builder {
        self.listing = Some(listing);
        self
    }

    /// Holds the pruned events the write-up reads (see [`Writeup`]).
    pub fn with_writeup(mut self, w: Writeup) -> Builder {
        self.writeup = Some((w, prune::Held::default()));
        self
    }

    /// The write-up's hold, to note the incidents a window found.
    pub fn writeup(&mut self) -> Option<&mut Writeup> {
        self.writeup.as_mut().map(|(w, _)| w)
    }

    /// Says which pids have spans still to come in the batch of `file`
    /// being fed in parts: their lifetimes are not pruned before the spans
    /// are folded.
    pub fn expect_spans(&mut self, file: usize, pids: Vec<u32>) {
        self.spans_due = (file, pids);
    }

    /// Says that events before `ts` were analysed: one that comes later
    /// stamped before it is counted as late (see [`Builder::late`]).
    pub fn close_before(&mut self, ts: i64) {
        self.closed = ts;
    }

    /// Events that came stamped before a window already analysed (a clock
    /// stepped back, logs concatenated out of order), and the first one:
    /// incidents among them may be missed.
    pub fn late(&self) -> (u64, Option<Cite>) {
        self.late
    }

    /// Events retained.
    pub fn retained(&self) -> usize {
        self.t.events.len()
    }

    /// How far every open file got: the earliest of their latest event
    /// times (or, for one without an event yet, of where it starts), if
    /// every line read so far has been folded (a file with year-less
    /// stamps is held until it ends).
    pub fn reached(&self) -> Option<i64> {
        if self.cur.iter().any(|c| c.held.is_some()) {
            return None;
        }
        self.cur.iter().map(|c| c.latest.unwrap_or(c.floor)).min()
    }

    /// Says where the open file `fidx` starts (its first timestamp): until
    /// it folds an event, nothing after that is settled.
    pub fn set_first(&mut self, fidx: usize, first: i64) {
        if let Some(c) = self.cur.iter_mut().find(|c| c.fidx == fidx) {
            c.floor = first;
        }
    }

    /// Settles what has been read, for the rules to read the window.
    pub fn settle_window(&mut self) {
        settle::settle(&mut self.t, &self.sets, &mut self.settle, false);
    }

    /// Settles the end of the run: the last window for the rules (then
    /// [`Builder::finish`]).
    pub fn settle_end(&mut self) {
        if !self.settled {
            for (_, (kind, n)) in self.counts.drain() {
                *self.t.kind_counts.entry(kind).or_default() += n;
            }
            settle::settle(&mut self.t, &self.sets, &mut self.settle, true);
            self.settled = true;
        }
    }

    /// The timeline as settled last.
    pub fn timeline(&self) -> &Timeline {
        &self.t
    }

    /// Starts a file; returns its number, which [`Builder::feed`] and
    /// [`Builder::end_file`] take. Files of a set must come in rotation
    /// order, each ended before the next begins.
    pub fn begin_file(
        &mut self,
        path: String,
        source: PathBuf,
        plain: bool,
        set: usize,
        mtime: Option<(i64, u32)>,
        compression: &'static str,
    ) -> usize {
        self.t.files.push(FileInfo {
            path,
            source,
            plain,
            set: self.sets.get(set).cloned().unwrap_or_default(),
            compression,
            bytes: 0,
            lines: 0,
            unparsed: 0,
            year_source: None,
            error: None,
        });
        let fidx = self.t.files.len() - 1;
        self.cur.push(Current {
            fidx,
            set,
            mtime,
            year: YearInfer::default(),
            latest: None,
            floor: i64::MIN,
            held: None,
            samples: 0,
            spans: FastMap::default(),
        });
        fidx
    }

    /// Takes the open file `fidx` out of `cur` while it is fed; with
    /// [`Builder::put_open`], keeps the others in the order begun.
    fn take_open(&mut self, fidx: usize) -> Option<(usize, Current)> {
        let k = self.cur.iter().position(|c| c.fidx == fidx)?;
        Some((k, self.cur.remove(k)))
    }

    fn put_open(&mut self, k: usize, cur: Current) {
        self.cur.insert(k, cur);
    }

    /// Folds the next batch of file `fidx`'s records (in line order).
    pub fn feed(&mut self, fidx: usize, items: Vec<Item>) {
        let Some((k, mut cur)) = self.take_open(fidx) else {
            return;
        };
        for it in items {
            match it {
                Item::Span(s) => {
                    let settled = || {
                        self.states
                            .get(&cur.set)
                            .is_some_and(|st| st.settled_child(&s))
                    };
                    if let Some(o) = cur.spans.get_mut(&s.pid) {
                        o.extend(s);
                    } else if settled() {
                        self.take(&mut cur, Item::Span(s));
                    } else {
                        cur.spans.insert(s.pid, s);
                    }
                }
                Item::Rec(r) => {
                    // A start line of the pid ends its span (the chunk that
                    // holds it has just sent its own part of the span).
                    if let (What::Known(idx, _), Some(p)) = (&r.what, r.pid) {
                        if catalog::entry(*idx).id == "L01" {
                            if let Some(s) = cur.spans.remove(&p) {
                                self.take(&mut cur, Item::Span(s));
                            }
                        }
                    }
                    self.take(&mut cur, Item::Rec(r));
                }
            }
        }
        self.put_open(k, cur);
    }

    /// Folds one item of the current file, or holds it back until the
    /// file's year is known.
    fn take(&mut self, cur: &mut Current, it: Item) {
        if let Item::Rec(Rec {
            what: What::Unparsed,
            ..
        }) = it
        {
            cur.samples += 1;
            if cur.samples > UNPARSED_SAMPLES {
                return;
            }
        }
        cur.year.feed_item(&it);
        if cur.held.is_none() && has_noyear(&it) {
            cur.held = Some(Vec::new());
        }
        match &mut cur.held {
            Some(h) => h.push(it),
            // Only absolute stamps so far: the year does not matter.
            None => self.fold(
                cur.fidx,
                cur.set,
                it,
                &mut YearWalk {
                    year: 1970,
                    last: None,
                    boot: self.boot,
                },
                &mut cur.latest,
            ),
        }
    }

    /// Ends file `fidx`.
    pub fn end_file(
        &mut self,
        fidx: usize,
        counters: &Counters,
        bytes: u64,
        error: Option<String>,
    ) {
        let Some((_, mut cur)) = self.take_open(fidx) else {
            return;
        };
        // Spans still open end with the file, in order of their first line
        // (as a chunk sends those open at its end).
        let mut open: Vec<Span> = std::mem::take(&mut cur.spans).into_values().collect();
        open.sort_unstable_by_key(|s| s.first);
        for s in open {
            self.take(&mut cur, Item::Span(s));
        }
        let (year, year_source) = finish_year(&cur.year, self.user_year, cur.mtime);
        if let Some(held) = cur.held {
            let mut yw = YearWalk {
                year,
                last: None,
                boot: self.boot,
            };
            for it in held {
                self.fold(cur.fidx, cur.set, it, &mut yw, &mut cur.latest);
            }
        }
        let f = &mut self.t.files[cur.fidx];
        f.bytes = bytes;
        f.lines = counters.lines;
        f.unparsed = counters.unparsed;
        f.year_source = year_source;
        f.error = error;
        self.t.lines += counters.lines;
        self.t.cri_joined += counters.cri_joined;
        if let Some(st) = self.states.get_mut(&cur.set) {
            // A report cut short by the end of the file stays open only within it.
            if let Some((ci, _)) = st.crash_open.take() {
                self.t.crashes[ci].close();
            }
            st.logo = None;
        }
    }

    fn fold(
        &mut self,
        fidx: usize,
        set: usize,
        item: Item,
        yw: &mut YearWalk,
        latest: &mut Option<i64>,
    ) {
        let t = &mut self.t;
        let st = self.states.entry(set).or_default();
        let before = t.events.len();
        match item {
            Item::Span(s) => {
                let ts = yw.peek(s.last_stamp);
                let c = || Cite::new(fidx, s.first, s.first_at, ts);
                let (l, child) = owner(t, st, set, Some(s.pid), s.role, &c);
                if child {
                    return;
                }
                let lt = &mut t.lifetimes[l];
                if lt.first_role.is_none() && s.role != Some(Role::Child) {
                    lt.first_role = s.role;
                }
                let newer = lt
                    .last
                    .as_ref()
                    .is_none_or(|x| (x.file(), x.line()) < (fidx, s.last));
                if newer {
                    lt.last = Some(Cite::new(fidx, s.last, s.last_at, ts));
                }
            }
            Item::Rec(r) => {
                let ts = yw.resolve(r.stamp);
                handle_rec(t, st, set, fidx, r, ts);
            }
        }
        // Count what was just added; keep it only while it is affordable.
        if t.events.len() > before {
            let e = &t.events[t.events.len() - 1];
            t.events_total += 1;
            self.counts
                .entry(usize::from(e.kind))
                .or_insert((e.kind(), 0))
                .1 += 1;
            if let Some(ts) = e.ts() {
                *latest = Some(latest.map_or(ts, |l| l.max(ts)));
                if ts < self.closed {
                    self.late.0 += 1;
                    self.late.1.get_or_insert(e.cite());
                }
                t.span.0 = Some(t.span.0.map_or(ts, |a| a.min(ts)));
                t.span.1 = Some(t.span.1.map_or(ts, |b| b.max(ts)));
            }
            if e.kind() == "fork_cow" {
                if let Some(v) = e.num(t, "peak").or(e.num(t, "current")) {
                    t.cow_peak_mb = Some(t.cow_peak_mb.map_or(v, |m| m.max(v)));
                }
            }
            let keep = self.keep_all
                || e.severity >= Severity::Medium
                || *self
                    .used
                    .entry(usize::from(e.kind))
                    .or_insert_with(|| notable(e.kind(), e.severity));
            if !keep {
                self.low_value += 1;
                if self.low_value > LOW_VALUE_KEPT {
                    if let Some(e) = t.events.pop() {
                        t.caps.truncate(e.caps);
                    }
                    if !t.events_trimmed {
                        t.events_trimmed = true;
                        t.events.retain(|e| notable(e.kind(), e.severity));
                        compact_caps(t);
                    }
                }
            }
        }
    }

    /// Assigns nodes, end classes and time order; returns the timeline.
    pub fn finish(mut self) -> Timeline {
        self.settle_end();
        self.put_back();
        self.t
    }
}

fn finish_year(
    y: &YearInfer,
    user: Option<i64>,
    mtime: Option<(i64, u32)>,
) -> (i64, Option<String>) {
    if !y.any {
        return (1970, None);
    }
    if let Some(u) = user {
        return (u, Some(format!("--year {u}")));
    }
    if let Some((yy, m, rolls, prev)) = y.anchor {
        let at = if prev.is_some_and(|p| u32::from(p) > m) {
            yy - 1
        } else {
            yy
        };
        return (
            at - rolls,
            Some("signal-handler or wrapper timestamp in the same file".into()),
        );
    }
    if let Some((yy, m)) = mtime {
        let at_end = if y.last.is_some_and(|l| u32::from(l) > m) {
            yy - 1
        } else {
            yy
        };
        return (at_end - y.rollovers, Some("file modification time".into()));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let (yy, _, _) = line::civil_from_days(now.div_euclid(86_400_000));
    (
        yy - y.rollovers,
        Some("current year (no anchor found; use --year)".into()),
    )
}

/// Assembles the timeline from parsed files. `sets` names each rotation set.
pub fn build(inputs: Vec<InputFile>, sets: &[String], user_year: Option<i64>) -> Timeline {
    let mut b = Builder::new(sets, user_year, false);
    for inp in inputs {
        let f = b.begin_file(
            inp.path,
            inp.source,
            inp.plain,
            inp.set,
            inp.mtime,
            inp.compression,
        );
        b.feed(f, inp.parsed.items);
        b.end_file(f, &inp.parsed.counters, inp.parsed.bytes, inp.error);
    }
    b.finish()
}

fn handle_rec(
    t: &mut Timeline,
    st: &mut SetState,
    set: usize,
    fidx: usize,
    mut r: Rec,
    ts: Option<i64>,
) {
    let cite = |r: &Rec| cite_of(fidx, r, ts);
    match &r.what {
        What::Raw(k) => {
            if let Some((_, l)) = st.crash_open {
                // A process writes one report: another START means the one
                // open was cut short. The logo's pid line is matched
                // loosely, so it ends the report only when it names
                // another process than the reporting one.
                let gone = match k {
                    RawKind::CrashStart => true,
                    RawKind::LogoPid(p) => {
                        let own = t.lifetimes[l].pid;
                        own != 0 && own != *p
                    }
                    _ => false,
                };
                if gone {
                    cut_report(t, st);
                }
            }
            if let Some((ci, _)) = st.crash_open {
                let c = cite(&r);
                t.crashes[ci].feed(&r, || c);
                if let RawKind::Info(key, v) = k {
                    if &**key == "tcp_port" {
                        if let (Some(cur), Ok(p)) = (st.current, v.trim().parse()) {
                            t.lifetimes[cur].port.get_or_insert(p);
                        }
                    }
                }
                if *k == RawKind::CrashEnd {
                    t.crashes[ci].end = Some(c);
                    t.crashes[ci].close();
                    st.crash_open = None;
                }
                return;
            }
            match k {
                RawKind::CrashStart => {
                    let c = cite(&r);
                    let (l, _) = owner(t, st, set, None, None, &|| c);
                    let ci = open_report(t, st, l, c);
                    push_event(
                        t,
                        fidx,
                        &r,
                        ts,
                        l,
                        false,
                        synthetic(0),
                        Caps::new(),
                        Some(ci),
                    );
                }
                RawKind::Watchdog => {
                    let c = cite(&r);
                    let (l, _) = owner(t, st, set, None, None, &|| c);
                    push_event(t, fidx, &r, ts, l, false, synthetic(1), Caps::new(), None);
                }
                RawKind::LogoVersion(server, v) => {
                    let logo = st.logo.get_or_insert_with(Logo::default);
                    logo.first.get_or_insert_with(|| cite(&r));
                    logo.version = Some(format!("{server} {v}"));
                }
                RawKind::LogoMode(m) => {
                    st.logo.get_or_insert_with(Logo::default).mode = Some(m.to_string())
                }
                RawKind::LogoPort(p) => st.logo.get_or_insert_with(Logo::default).port = Some(*p),
                RawKind::LogoPid(p) => {
                    let logo = st.logo.get_or_insert_with(Logo::default);
                    logo.pid = Some(*p);
                    let first = logo.first.unwrap_or_else(|| cite(&r));
                    let lt = match st.by_pid.get(p) {
                        Some(&l) => l,
                        None => {
                            let l = new_lifetime(t, set, *p, Some(first), true);
                            st.by_pid.insert(*p, l);
                            l
                        }
                    };
                    st.current = Some(lt);
                    let lg = st.logo.take().unwrap_or_default();
                    let l = &mut t.lifetimes[lt];
                    l.explicit_start = true;
                    if let Some(v) = &lg.version {
                        l.version = Some(intern(&mut st.names, v));
                    }
                    l.mode = match &lg.mode {
                        Some(m) => Some(intern(&mut st.names, m)),
                        None => l.mode.take(),
                    };
                    l.port = lg.port.or(l.port);
                    let mut caps = Caps::new();
                    if let Some(v) = &lg.version {
                        caps.push(("version", catalog::Cap::Text(v.as_str().into())));
                    }
                    if let Some(m) = &lg.mode {
                        caps.push(("mode", catalog::Cap::Text(m.as_str().into())));
                    }
                    if let Some(p) = lg.port {
                        caps.push(("port", catalog::Cap::Num(f64::from(p))));
                    }
                    caps.push(("pid", catalog::Cap::Num(f64::from(*p))));
                    let r2 = Rec {
                        line: first.line(),
                        at: first.at,
                        ..r.clone()
                    };
                    push_event(
                        t,
                        fidx,
                        &r2,
                        first.ts().or(ts),
                        lt,
                        false,
                        synthetic(2),
                        caps,
                        None,
                    );
                }
                _ => {}
            }
        }
        What::Unparsed => {
            if st.crash_open.is_none() && t.unparsed.len() < MAX_UNPARSED_SAMPLES {
                let text = r.text.clone().unwrap_or_default();
                t.unparsed.push((cite(&r), text));
            }
        }
        What::Other => {
            if let Some((ci, _)) = st.crash_open {
                let c = cite(&r);
                t.crashes[ci].feed(&r, || c);
            }
        }
        What::Known(idx, caps) => {
            let kind = *idx;
            let e = catalog::entry(kind);
            let c = cite(&r);
            if st.crash_open.is_some()
                && matches!(
                    e.kind,
                    "server_starting" | "server_version" | "ready_to_start"
                )
            {
                // A start line is never part of a report: the reporting
                // process is gone (killed during the memory test, say) and
                // a new one is running. Without this, the new process's
                // warnings, and its own report, went into the dead one's.
                cut_report(t, st);
                if e.kind != "server_starting" {
                    if let Some(p) = r.pid.filter(|p| !st.by_pid.contains_key(p)) {
                        // Its "is starting" line was lost: this line starts
                        // it, so that its `C` startup lines are not taken
                        // for a fork child of the dead process.
                        let l = new_lifetime(t, set, p, Some(c), true);
                        st.by_pid.insert(p, l);
                        st.children.remove(&p);
                    }
                }
            }
            if e.id == "L01" && e.kind == "server_starting" {
                if let Some(p) = r.pid {
                    let adopt = st.by_pid.get(&p).copied().filter(|&l| {
                        let lt = &t.lifetimes[l];
                        !lt.explicit_start && lt.ready.is_none() && lt.exit.is_none()
                    });
                    let l = match adopt {
                        Some(l) => l,
                        None => {
                            let l = new_lifetime(t, set, p, Some(c), true);
                            st.by_pid.insert(p, l);
                            l
                        }
                    };
                    t.lifetimes[l].explicit_start = true;
                    st.children.remove(&p);
                }
            }
            // Old (≤3.0) reports are prefixed lines: START opens the block
            // (and, like a raw START, cuts short a report still open).
            if e.kind == "crash_report_start" {
                cut_report(t, st);
                let (l, _) = owner(t, st, set, r.pid, r.role, &|| c);
                let ci = open_report(t, st, l, c);
                st.current = Some(l);
                push_event(
                    t,
                    fidx,
                    &r,
                    ts,
                    l,
                    false,
                    synthetic(0),
                    caps.clone(),
                    Some(ci),
                );
                return;
            }
            if let Some((ci, _)) = st.crash_open {
                if e.kind == "crash_report_end" {
                    t.crashes[ci].end = Some(c);
                    t.crashes[ci].close();
                    st.crash_open = None;
                    return;
                }
                if e.id.starts_with('X') || r.level == Some(Level::Warning) {
                    t.crashes[ci].feed(&r, || c);
                    return;
                }
            }
            let (l, child) = owner(t, st, set, r.pid, r.role, &|| c);
            // Kernel lines (OOM killer) are not written by the server: they
            // neither make a lifetime current nor count as its last line.
            let foreign = e.kind.starts_with("kernel_");
            if !child && !foreign {
                st.current = Some(l);
            }
            let lt = &mut t.lifetimes[l];
            if !child && lt.first_role.is_none() && r.role != Some(Role::Child) {
                lt.first_role = r.role;
            }
            match e.kind {
                "server_version" => {
                    let server =
                        caps.iter()
                            .find(|(n, _)| *n == "server")
                            .and_then(|(_, v)| match v {
                                catalog::Cap::Text(s) => Some(s.to_string()),
                                _ => None,
                            });
                    if let Some(v) = catalog::text(caps, "version") {
                        let full = format!("{} {v}", server.unwrap_or_else(|| "Redis".into()));
                        lt.version = Some(intern(&mut st.names, &full));
                    }
                }
                "running_mode" | "ready_to_start" => {
                    lt.mode = catalog::text(caps, "mode")
                        .map(|m| intern(&mut st.names, m))
                        .or(lt.mode.take());
                    lt.port = catalog::num(caps, "port").map(|p| p as u32).or(lt.port);
                }
                "ready" => {
                    if lt.ready.is_none() {
                        lt.ready = Some(c);
                    }
                    if let Some(p) = catalog::num(caps, "port") {
                        lt.port.get_or_insert(p as u32);
                    }
                }
                "shutdown_requested" | "shutdown_signal" if lt.shutdown.is_none() => {
                    lt.shutdown = Some(c);
                }
                "ready_to_exit" => lt.exit = Some(c),
                "aof_fatal_exit" | "fatal_load_error" | "startup_abort" | "ulimit_too_low"
                | "rdb_corrupt" | "aof_corrupt" | "module_load_failed" | "rdb_module_missing"
                | "kernel_cow_bug"
                    if lt.fatal.is_none() =>
                {
                    lt.fatal = Some(c);
                    lt.fatal_text = r.text.clone();
                }
                "cluster_node_id" => lt.cluster_id = catalog::text(caps, "node").map(Box::from),
                "sentinel_id" => lt.sentinel_id = catalog::text(caps, "runid").map(Box::from),
                "keys_loaded" if lt.keys_loaded.is_none() && lt.ready.is_none() => {
                    if let Some(k) = catalog::num(caps, "loaded") {
                        lt.keys_loaded = Some((k as u64, c));
                    }
                }
                "db_loaded" | "aof_loaded" if lt.load_secs.is_none() => {
                    if let Some(s) = catalog::num(caps, "seconds") {
                        lt.load_secs = Some((s, c));
                    }
                }
                "bgsave_started" | "aof_rewrite_started" | "rdb_transfer_started" => {
                    if let Some(p) = catalog::num(caps, "pid") {
                        st.children.insert(p as u32, l);
                    }
                }
                _ => {}
            }
            if !child && !foreign {
                let newer = lt
                    .last
                    .as_ref()
                    .is_none_or(|x| (x.file(), x.line()) < (fidx, r.line));
                if newer {
                    lt.last = Some(c);
                }
            }
            // The record ends here: its captures move into the event.
            let caps = match &mut r.what {
                What::Known(_, caps) => std::mem::take(caps),
                _ => Caps::new(),
            };
            push_event(t, fidx, &r, ts, l, child, kind, caps, None);
        }
    }
}

/// Opens a crash report of lifetime `l` at `c`; returns its index.
fn open_report(t: &mut Timeline, st: &mut SetState, l: usize, c: Cite) -> usize {
    t.crashes.push(Crash::open(c));
    t.crashes_total += 1;
    let ci = t.crashes.len() - 1;
    t.lifetimes[l].crash = Some(ci);
    st.crash_open = Some((ci, l));
    ci
}

/// Ends the open crash report, if any, where a line shows that the process
/// writing it is gone: it keeps what it gathered and stays without an END
/// (it was cut short), and the lines that follow are no longer its own.
fn cut_report(t: &mut Timeline, st: &mut SetState) {
    if let Some((ci, _)) = st.crash_open.take() {
        t.crashes[ci].close();
    }
}

#[allow(clippy::too_many_arguments)]
fn push_event(
    t: &mut Timeline,
    file: usize,
    r: &Rec,
    ts: Option<i64>,
    lifetime: usize,
    child: bool,
    kind: u16,
    caps: Caps,
    crash: Option<usize>,
) {
    let ncaps = caps.len().min(CAP_PAGE) as u16;
    let at = t.caps.push(caps);
    t.events.push(Event {
        cite: Cite::new(file, r.line, r.at, ts),
        caps: at,
        ncaps,
        lifetime: lifetime as u32,
        node: u32::MAX,
        pid: r.pid.unwrap_or(0),
        crash: crash
            .and_then(|c| u32::try_from(c).ok())
            .unwrap_or(u32::MAX),
        kind,
        has_pid: r.pid.is_some(),
        child,
        role: r.role,
        level: r.level,
        severity: kind_row(kind).2,
        errno: r.errno,
        oom_tied: false,
        writeup_only: false,
    });
}

/// Orders events by (time, file, line), keeping equal ones in input order.
/// Sorts small keys, then moves each (large) event into place by following
/// the permutation's cycles: no event passes through a merge sort's scratch
/// buffer (half the events' size) or is moved more than once or twice.
fn sort_events(events: &mut [Event]) {
    let key = |e: &Event| (e.ts().unwrap_or(i64::MIN), e.file(), e.line());
    if events.is_sorted_by_key(key) {
        return;
    }
    let mut order: Vec<(i64, usize, u64, usize)> = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let (ts, file, line) = key(e);
            (ts, file, line, i)
        })
        .collect();
    order.sort_unstable();
    // `from[k]`: where the event that belongs at `k` is now.
    let mut from: Vec<usize> = order.into_iter().map(|(.., i)| i).collect();
    const DONE: usize = usize::MAX;
    for start in 0..from.len() {
        let mut j = start;
        while from[j] != DONE {
            let k = from[j];
            from[j] = DONE;
            if k == start {
                break;
            }
            // Position `j` gets its event; the one displaced travels on.
            events.swap(j, k);
            j = k;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: Option<i64>, file: usize, line: u64, at: u64) -> Event {
        Event {
            cite: Cite::new(file, line, at, ts),
            caps: 0,
            ncaps: 0,
            lifetime: 0,
            node: 0,
            pid: 0,
            crash: u32::MAX,
            kind: synthetic(1),
            has_pid: false,
            child: false,
            role: None,
            level: None,
            severity: Severity::Info,
            errno: 0,
            oom_tied: false,
            writeup_only: false,
        }
    }

    #[test]
    fn events_sort_by_time_file_line_and_keep_ties_in_input_order() {
        // A pseudo-random shuffle with repeated keys (told apart by `at`).
        let mut events: Vec<Event> = (0..500u64)
            .map(|i| {
                let r = i.wrapping_mul(2_654_435_761) % 97;
                let ts = (r % 5 != 0).then_some((r / 3) as i64);
                ev(ts, (r % 3) as usize, r % 7, i)
            })
            .collect();
        let mut want: Vec<(Option<i64>, usize, u64, u64)> = events
            .iter()
            .map(|e| (e.ts(), e.file(), e.line(), e.at()))
            .collect();
        want.sort_by_key(|w| (w.0.unwrap_or(i64::MIN), w.1, w.2));
        sort_events(&mut events);
        let got: Vec<(Option<i64>, usize, u64, u64)> = events
            .iter()
            .map(|e| (e.ts(), e.file(), e.line(), e.at()))
            .collect();
        assert_eq!(got, want);
    }
}

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

use std::collections::HashMap;

use super::catalog::{self, Caps, RawKind, Severity};
use super::chunk::{Item, Parsed, Rec, What};
use super::crash::{Cite, Crash};
use super::line::{self, Level, Role, Stamp};

/// One input file after parsing.
#[derive(Debug)]
pub struct InputFile {
    /// Path as given (or as found under a directory / glob).
    pub path: String,
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
    /// Crash index.
    pub crash: Option<usize>,
    /// How it ended.
    pub end: EndClass,
    /// Server family and version (`Redis 7.0.15`).
    pub version: Option<String>,
    /// `standalone`, `cluster`, `sentinel`.
    pub mode: Option<String>,
    /// TCP port.
    pub port: Option<u32>,
    /// Cluster node id.
    pub cluster_id: Option<String>,
    /// Sentinel id.
    pub sentinel_id: Option<String>,
    /// `keys loaded` at startup and the line.
    pub keys_loaded: Option<(u64, Cite)>,
    /// Load time in seconds (`DB loaded from disk` / AOF) and the line.
    pub load_secs: Option<(f64, Cite)>,
    /// Role of the first main-process line with a role.
    pub first_role: Option<Role>,
}

/// A node: one server identity (host set + port) across restarts.
#[derive(Debug, Clone)]
pub struct Node {
    /// Display name (`:17150`, or `set:17150` when a port is ambiguous).
    pub name: String,
    /// Port.
    pub port: Option<u32>,
    /// `standalone`, `cluster`, `sentinel`.
    pub mode: Option<String>,
    /// Version of the latest lifetime.
    pub version: Option<String>,
    /// Lifetimes in order.
    pub lifetimes: Vec<usize>,
    /// Files contributing lines.
    pub files: Vec<usize>,
    /// Cluster node ids.
    pub cluster_ids: Vec<String>,
}

/// One event on the merged timeline.
#[derive(Debug, Clone)]
pub struct Event {
    /// Time (ms, wall clock as printed).
    pub ts: Option<i64>,
    /// File index.
    pub file: usize,
    /// 1-based line.
    pub line: u64,
    /// Node index.
    pub node: usize,
    /// Lifetime index.
    pub lifetime: usize,
    /// Process id.
    pub pid: Option<u32>,
    /// Whether it came from a fork child.
    pub child: bool,
    /// Role.
    pub role: Option<Role>,
    /// Level.
    pub level: Option<Level>,
    /// Catalogue id (`P03`).
    pub id: &'static str,
    /// Stable kind (`fork_failed`).
    pub kind: &'static str,
    /// Severity of the event alone.
    pub severity: Severity,
    /// Extracted values.
    pub caps: Caps,
    /// Exact line text.
    pub text: Box<str>,
    /// Crash index for `crash_report` events.
    pub crash: Option<usize>,
}

impl Event {
    /// The event as a citation.
    pub fn cite(&self) -> Cite {
        Cite {
            file: self.file,
            line: self.line,
            ts: self.ts,
            text: self.text.clone(),
        }
    }
    /// Numeric capture.
    pub fn num(&self, k: &str) -> Option<f64> {
        catalog::num(&self.caps, k)
    }
    /// Text capture.
    pub fn txt(&self, k: &str) -> Option<&str> {
        catalog::text(&self.caps, k)
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
    /// Crash reports.
    pub crashes: Vec<Crash>,
    /// Sample of unparsed lines outside known blocks.
    pub unparsed: Vec<Cite>,
    /// Total lines.
    pub lines: u64,
}

const MAX_UNPARSED_SAMPLES: usize = 100;

/// Year inference for one file: returns (start year, source description).
fn infer_year(
    items: &[Item],
    user: Option<i64>,
    mtime: Option<(i64, u32)>,
) -> (i64, Option<String>) {
    let noyear = |st: &Option<Stamp>| match st {
        Some(Stamp::NoYear { mon, .. }) => Some(*mon),
        _ => None,
    };
    let mut any = false;
    let mut rollovers = 0i64;
    let mut last: Option<u8> = None;
    let mut anchor: Option<(i64, u32, i64, Option<u8>)> = None;
    let stamps = items.iter().flat_map(|it| match it {
        Item::Rec(r) => vec![(r.stamp, r.outer_ms)],
        Item::Span(s) => vec![(s.first_stamp, None), (s.last_stamp, None)],
    });
    for (st, outer) in stamps {
        if let Some(m) = noyear(&st) {
            any = true;
            if let Some(l) = last {
                if m < l {
                    rollovers += 1;
                }
            }
            last = Some(m);
        }
        let abs = match (st, outer) {
            (_, Some(o)) if noyear(&st).is_some() => Some(o),
            (Some(Stamp::Abs(ms)), _) => Some(ms),
            _ => None,
        };
        if let (Some(ms), None) = (abs, anchor) {
            let (y, m, _) = line::civil_from_days(ms.div_euclid(86_400_000));
            anchor = Some((y, m, rollovers, last));
        }
    }
    if !any {
        return (1970, None);
    }
    if let Some(y) = user {
        return (y, Some(format!("--year {y}")));
    }
    if let Some((y, m, rolls, prev)) = anchor {
        let at = if prev.is_some_and(|p| u32::from(p) > m) {
            y - 1
        } else {
            y
        };
        return (
            at - rolls,
            Some("signal-handler or wrapper timestamp in the same file".into()),
        );
    }
    if let Some((y, m)) = mtime {
        let at_end = if last.is_some_and(|l| u32::from(l) > m) {
            y - 1
        } else {
            y
        };
        return (at_end - rollovers, Some("file modification time".into()));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let (y, _, _) = line::civil_from_days(now.div_euclid(86_400_000));
    (
        y - rollovers,
        Some("current year (no anchor found; use --year)".into()),
    )
}

struct YearWalk {
    year: i64,
    last: Option<u8>,
}

impl YearWalk {
    fn resolve(&mut self, st: Option<Stamp>) -> Option<i64> {
        match st? {
            Stamp::Abs(ms) => Some(ms),
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
    by_pid: HashMap<u32, usize>,
    children: HashMap<u32, usize>,
    current: Option<usize>,
    crash_open: Option<(usize, usize)>,
    logo: Option<Logo>,
}

#[derive(Default)]
struct Logo {
    first: Option<Cite>,
    version: Option<String>,
    mode: Option<String>,
    port: Option<u32>,
    pid: Option<u32>,
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
    Cite {
        file,
        line: r.line,
        ts,
        text: r.text.clone(),
    }
}

/// Assembles the timeline from parsed files. `sets` names each rotation set.
pub fn build(inputs: Vec<InputFile>, sets: &[String], user_year: Option<i64>) -> Timeline {
    let mut t = Timeline::default();
    let mut states: HashMap<usize, SetState> = HashMap::new();
    for (fidx, inp) in inputs.into_iter().enumerate() {
        let (year, year_source) = infer_year(&inp.parsed.items, user_year, inp.mtime);
        t.lines += inp.parsed.counters.lines;
        t.files.push(FileInfo {
            path: inp.path.clone(),
            set: sets.get(inp.set).cloned().unwrap_or_default(),
            compression: inp.compression,
            bytes: inp.parsed.bytes,
            lines: inp.parsed.counters.lines,
            unparsed: inp.parsed.counters.unparsed,
            year_source,
            error: inp.error.clone(),
        });
        let set = inp.set;
        let st = states.entry(set).or_default();
        let mut yw = YearWalk { year, last: None };
        for item in inp.parsed.items {
            match item {
                Item::Span(s) => {
                    let ts = yw.peek(s.last_stamp);
                    let c = || Cite {
                        file: fidx,
                        line: s.first,
                        ts,
                        text: s.last_text.clone(),
                    };
                    let (l, child) = owner(&mut t, st, set, Some(s.pid), s.role, &c);
                    if child {
                        continue;
                    }
                    let lt = &mut t.lifetimes[l];
                    if lt.first_role.is_none() && s.role != Some(Role::Child) {
                        lt.first_role = s.role;
                    }
                    let newer = lt
                        .last
                        .as_ref()
                        .is_none_or(|x| (x.file, x.line) < (fidx, s.last));
                    if newer {
                        lt.last = Some(Cite {
                            file: fidx,
                            line: s.last,
                            ts,
                            text: s.last_text,
                        });
                    }
                }
                Item::Rec(r) => {
                    let ts = yw.resolve(r.stamp);
                    handle_rec(&mut t, st, set, fidx, r, ts);
                }
            }
        }
        // A report cut short by the end of the file stays open only within it.
        st.crash_open = None;
        st.logo = None;
    }
    finish(&mut t, sets);
    t
}

fn handle_rec(
    t: &mut Timeline,
    st: &mut SetState,
    set: usize,
    fidx: usize,
    r: Rec,
    ts: Option<i64>,
) {
    let cite = |r: &Rec| cite_of(fidx, r, ts);
    match &r.what {
        What::Raw(k) => {
            if let Some((ci, _)) = st.crash_open {
                let c = cite(&r);
                t.crashes[ci].feed(&r, || c.clone());
                if let RawKind::Info(key, v) = k {
                    if &**key == "tcp_port" {
                        if let (Some(cur), Ok(p)) = (st.current, v.trim().parse()) {
                            t.lifetimes[cur].port.get_or_insert(p);
                        }
                    }
                }
                if *k == RawKind::CrashEnd {
                    t.crashes[ci].end = Some(c);
                    st.crash_open = None;
                }
                return;
            }
            match k {
                RawKind::CrashStart => {
                    let c = cite(&r);
                    let (l, _) = owner(t, st, set, None, None, &|| c.clone());
                    let crash = Crash::open(c.clone());
                    t.crashes.push(crash);
                    let ci = t.crashes.len() - 1;
                    t.lifetimes[l].crash = Some(ci);
                    st.crash_open = Some((ci, l));
                    push_event(
                        t,
                        fidx,
                        &r,
                        ts,
                        l,
                        false,
                        "X01",
                        "crash_report",
                        Severity::Critical,
                        Caps::new(),
                        Some(ci),
                    );
                }
                RawKind::Watchdog => {
                    let c = cite(&r);
                    let (l, _) = owner(t, st, set, None, None, &|| c.clone());
                    push_event(
                        t,
                        fidx,
                        &r,
                        ts,
                        l,
                        false,
                        "T02",
                        "watchdog",
                        Severity::High,
                        Caps::new(),
                        None,
                    );
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
                    let first = logo.first.clone().unwrap_or_else(|| cite(&r));
                    let lt = match st.by_pid.get(p) {
                        Some(&l) => l,
                        None => {
                            let l = new_lifetime(t, set, *p, Some(first.clone()), true);
                            st.by_pid.insert(*p, l);
                            l
                        }
                    };
                    st.current = Some(lt);
                    let lg = st.logo.take().unwrap_or_default();
                    let l = &mut t.lifetimes[lt];
                    l.explicit_start = true;
                    if lg.version.is_some() {
                        l.version = lg.version.clone();
                    }
                    l.mode = lg.mode.clone().or(l.mode.take());
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
                        line: first.line,
                        text: first.text.clone(),
                        ..r.clone()
                    };
                    push_event(
                        t,
                        fidx,
                        &r2,
                        first.ts.or(ts),
                        lt,
                        false,
                        "L01",
                        "startup_logo",
                        Severity::Low,
                        caps,
                        None,
                    );
                }
                _ => {}
            }
        }
        What::Unparsed => {
            if st.crash_open.is_none() && t.unparsed.len() < MAX_UNPARSED_SAMPLES {
                t.unparsed.push(cite(&r));
            }
        }
        What::Other => {
            if let Some((ci, _)) = st.crash_open {
                let c = cite(&r);
                t.crashes[ci].feed(&r, || c.clone());
            }
        }
        What::Known(idx, caps) => {
            let e = catalog::entry(*idx);
            let c = cite(&r);
            if e.id == "L01" && e.kind == "server_starting" {
                if let Some(p) = r.pid {
                    let adopt = st.by_pid.get(&p).copied().filter(|&l| {
                        let lt = &t.lifetimes[l];
                        !lt.explicit_start && lt.ready.is_none() && lt.exit.is_none()
                    });
                    let l = match adopt {
                        Some(l) => l,
                        None => {
                            let l = new_lifetime(t, set, p, Some(c.clone()), true);
                            st.by_pid.insert(p, l);
                            l
                        }
                    };
                    t.lifetimes[l].explicit_start = true;
                    st.children.remove(&p);
                }
            }
            // Old (≤3.0) reports are prefixed lines: START opens the block.
            if e.kind == "crash_report_start" && st.crash_open.is_none() {
                let (l, _) = owner(t, st, set, r.pid, r.role, &|| c.clone());
                t.crashes.push(Crash::open(c.clone()));
                let ci = t.crashes.len() - 1;
                t.lifetimes[l].crash = Some(ci);
                st.crash_open = Some((ci, l));
                st.current = Some(l);
                push_event(
                    t,
                    fidx,
                    &r,
                    ts,
                    l,
                    false,
                    "X01",
                    "crash_report",
                    Severity::Critical,
                    caps.clone(),
                    Some(ci),
                );
                return;
            }
            if let Some((ci, _)) = st.crash_open {
                if e.kind == "crash_report_end" {
                    t.crashes[ci].end = Some(c);
                    st.crash_open = None;
                    return;
                }
                if e.id.starts_with('X') || r.level == Some(Level::Warning) {
                    t.crashes[ci].feed(&r, || c.clone());
                    return;
                }
            }
            let (l, child) = owner(t, st, set, r.pid, r.role, &|| c.clone());
            if !child {
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
                        lt.version =
                            Some(format!("{} {v}", server.unwrap_or_else(|| "Redis".into())));
                    }
                }
                "running_mode" | "ready_to_start" => {
                    lt.mode = catalog::text(caps, "mode")
                        .map(String::from)
                        .or(lt.mode.take());
                    lt.port = catalog::num(caps, "port").map(|p| p as u32).or(lt.port);
                }
                "ready" => {
                    if lt.ready.is_none() {
                        lt.ready = Some(c.clone());
                    }
                    if let Some(p) = catalog::num(caps, "port") {
                        lt.port.get_or_insert(p as u32);
                    }
                }
                "shutdown_requested" | "shutdown_signal" if lt.shutdown.is_none() => {
                    lt.shutdown = Some(c.clone());
                }
                "ready_to_exit" => lt.exit = Some(c.clone()),
                "aof_fatal_exit" | "fatal_load_error" | "startup_abort" | "ulimit_too_low"
                | "rdb_corrupt" | "aof_corrupt" | "module_load_failed" | "rdb_module_missing"
                | "kernel_cow_bug"
                    if lt.fatal.is_none() =>
                {
                    lt.fatal = Some(c.clone());
                }
                "cluster_node_id" => lt.cluster_id = catalog::text(caps, "node").map(String::from),
                "sentinel_id" => lt.sentinel_id = catalog::text(caps, "runid").map(String::from),
                "keys_loaded" if lt.keys_loaded.is_none() && lt.ready.is_none() => {
                    if let Some(k) = catalog::num(caps, "loaded") {
                        lt.keys_loaded = Some((k as u64, c.clone()));
                    }
                }
                "db_loaded" | "aof_loaded" if lt.load_secs.is_none() => {
                    if let Some(s) = catalog::num(caps, "seconds") {
                        lt.load_secs = Some((s, c.clone()));
                    }
                }
                "bgsave_started" | "aof_rewrite_started" | "rdb_transfer_started" => {
                    if let Some(p) = catalog::num(caps, "pid") {
                        st.children.insert(p as u32, l);
                    }
                }
                _ => {}
            }
            if !child {
                let newer = lt
                    .last
                    .as_ref()
                    .is_none_or(|x| (x.file, x.line) < (fidx, r.line));
                if newer {
                    lt.last = Some(c.clone());
                }
            }
            push_event(
                t,
                fidx,
                &r,
                ts,
                l,
                child,
                e.id,
                e.kind,
                e.severity,
                caps.clone(),
                None,
            );
        }
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
    id: &'static str,
    kind: &'static str,
    severity: Severity,
    caps: Caps,
    crash: Option<usize>,
) {
    t.events.push(Event {
        ts,
        file,
        line: r.line,
        node: usize::MAX,
        lifetime,
        pid: r.pid,
        child,
        role: r.role,
        level: r.level,
        id,
        kind,
        severity,
        caps,
        text: r.text.clone(),
        crash,
    });
}

fn finish(t: &mut Timeline, sets: &[String]) {
    // Lifetimes without a port inherit one from a neighbour in the same set
    // and file (a log that starts mid-run has no `Running mode` line).
    // Nearest earlier lifetime of the same set and file with a port, else
    // the nearest later one: one pass each way.
    let n = t.lifetimes.len();
    let key = |lt: &Lifetime| (lt.set, lt.first.as_ref().map(|c| c.file));
    type PortMode = (Option<u32>, Option<String>);
    let mut fill: Vec<Option<PortMode>> = vec![None; n];
    let mut last: HashMap<(usize, Option<usize>), PortMode> = HashMap::new();
    for (i, lt) in t.lifetimes.iter().enumerate() {
        if lt.port.is_some() {
            last.insert(key(lt), (lt.port, lt.mode.clone()));
        } else {
            fill[i] = last.get(&key(lt)).cloned();
        }
    }
    last.clear();
    for (i, lt) in t.lifetimes.iter().enumerate().rev() {
        if lt.port.is_some() {
            last.insert(key(lt), (lt.port, lt.mode.clone()));
        } else if fill[i].is_none() {
            fill[i] = last.get(&key(lt)).cloned();
        }
    }
    for (i, f) in fill.into_iter().enumerate() {
        if let Some((port, mode)) = f {
            let lt = &mut t.lifetimes[i];
            lt.port = port;
            if lt.mode.is_none() {
                lt.mode = mode;
            }
        }
    }
    // Nodes: (set, port). A port seen in several sets gets the set's name.
    let mut port_sets: HashMap<u32, Vec<usize>> = HashMap::new();
    for lt in &t.lifetimes {
        if let Some(p) = lt.port {
            let v = port_sets.entry(p).or_default();
            if !v.contains(&lt.set) {
                v.push(lt.set);
            }
        }
    }
    let mut node_of: HashMap<(usize, Option<u32>), usize> = HashMap::new();
    for i in 0..n {
        let (set, port) = (t.lifetimes[i].set, t.lifetimes[i].port);
        let idx = *node_of.entry((set, port)).or_insert_with(|| {
            let set_name = sets.get(set).cloned().unwrap_or_default();
            let name = match port {
                Some(p) if port_sets.get(&p).is_some_and(|v| v.len() == 1) => format!(":{p}"),
                Some(p) => format!("{set_name}:{p}"),
                None => set_name,
            };
            t.nodes.push(Node {
                name,
                port,
                mode: None,
                version: None,
                lifetimes: Vec::new(),
                files: Vec::new(),
                cluster_ids: Vec::new(),
            });
            t.nodes.len() - 1
        });
        let lt = &mut t.lifetimes[i];
        lt.node = idx;
        let node = &mut t.nodes[idx];
        node.lifetimes.push(i);
        if lt.mode.is_some() {
            node.mode = lt.mode.clone();
        }
        if lt.version.is_some() {
            node.version = lt.version.clone();
        }
        if let Some(id) = &lt.cluster_id {
            if !node.cluster_ids.contains(id) {
                node.cluster_ids.push(id.clone());
            }
        }
        if let Some(f) = lt.first.as_ref().map(|c| c.file) {
            if !node.files.contains(&f) {
                node.files.push(f);
            }
        }
    }
    for e in &mut t.events {
        e.node = t.lifetimes[e.lifetime].node;
    }
    // Lifetimes of a node in time order, then end classes.
    for node in &mut t.nodes {
        node.lifetimes.sort_by_key(|&l| {
            let c = t.lifetimes[l].first.as_ref();
            (
                c.and_then(|c| c.ts).unwrap_or(i64::MIN),
                c.map_or(0, |c| c.file),
                c.map_or(0, |c| c.line),
            )
        });
        let ls = node.lifetimes.clone();
        for (k, &l) in ls.iter().enumerate() {
            let has_next = k + 1 < ls.len();
            let lt = &mut t.lifetimes[l];
            lt.end = if lt.crash.is_some() {
                EndClass::Crash
            } else if lt.exit.is_some() {
                EndClass::Clean
            } else if lt.fatal.is_some() {
                EndClass::FatalExit
            } else if lt.shutdown.is_some() && has_next {
                EndClass::KilledInShutdown
            } else if has_next {
                EndClass::UnknownKill
            } else {
                EndClass::Running
            };
        }
    }
    t.events.sort_by(|a, b| {
        (a.ts.unwrap_or(i64::MIN), a.file, a.line).cmp(&(b.ts.unwrap_or(i64::MIN), b.file, b.line))
    });
}

//! Failure-chain rules: the merged timeline → incidents with evidence.
//!
//! The last analysis stage before rendering. Each rule of log-events.md §4
//! looks for its anchor (a `+switch-master`, a `Failover election won`, a
//! crash report, a process that stopped without shutdown lines, a failed
//! BGSAVE, …), walks the timeline around it across every node, and writes one
//! [`Incident`]: kind, severity, start and end, affected nodes, a paragraph
//! with times and durations, and the evidence lines in the order a person
//! would cite them. Downstream events a rule explains (a replica losing its
//! primary during a failover) are marked consumed so that a later, more
//! generic rule does not report them twice.
//!
//! One file per rule family (failover, crash, restart, replication,
//! persistence, memory, clients, config), all on the shared [`Ctx`] of
//! this module: the timeline, an index of events by kind and the events
//! already explained. The rules read the timeline; the timeline knows
//! nothing of them (the kinds it must keep are listed in
//! [`super::catalog::KINDS_USED`]).

mod clients;
mod config;
mod crash;
mod failover;
pub mod links;
mod memory;
mod persistence;
mod replication;
mod restart;

use std::collections::{HashMap, HashSet};

use super::catalog::Severity;
use super::crash::Cite;
use super::timeline::{EndClass, Event, Timeline};
use clients::{blocked_loop, clients};
use config::config_hazards;
use crash::crashes;
use failover::{cluster_down, cluster_failovers, sentinel_failovers};
use memory::memory;
use persistence::{fsync_stalls, persistence};
use replication::{full_resyncs, primary_of, replicaof_discards, replication_breaks};
use restart::restarts;

/// One incident.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Stable kind (`sentinel_failover`).
    pub kind: &'static str,
    /// Severity.
    pub severity: Severity,
    /// Start time (ms).
    pub start: Option<i64>,
    /// End time (ms), when it ended within the logs.
    pub end: Option<i64>,
    /// Affected node indexes.
    pub nodes: Vec<usize>,
    /// One paragraph with times and durations.
    pub summary: String,
    /// Evidence lines, in citing order.
    pub evidence: Vec<Cite>,
    /// Position in the run's output, from 1: what `caused_by` and
    /// `led_to` name.
    pub id: usize,
    /// The summary sentence by sentence, each with the evidence it states.
    pub claims: Vec<links::Claim>,
    /// Incidents whose failure explains this one (their ids).
    pub caused_by: Vec<usize>,
    /// Incidents this one explains (their ids).
    pub led_to: Vec<usize>,
}

/// `HH:MM:SS.mmm` of a time.
pub fn hms(ts: Option<i64>) -> String {
    match ts {
        Some(ms) => {
            let mut s = String::with_capacity(12);
            super::line::push_hms(&mut s, ms);
            s
        }
        None => "?".into(),
    }
}

/// A duration in words: `850 ms`, `16.2 s`, `4 min 3 s`.
pub fn dur(a: Option<i64>, b: Option<i64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => {
            let d = (b - a).max(0);
            if d < 1000 {
                format!("{d} ms")
            } else if d < 120_000 {
                format!("{:.1} s", d as f64 / 1000.0)
            } else if d < 7_200_000 {
                format!("{} min {} s", d / 60_000, (d % 60_000) / 1000)
            } else {
                format!("{:.1} h", d as f64 / 3_600_000.0)
            }
        }
        _ => "unknown".into(),
    }
}

/// Bytes in words (`1.2 GB`).
pub fn bytes(b: f64) -> String {
    const U: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = b;
    let mut i = 0;
    while v >= 1024.0 && i < U.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{b:.0} B")
    } else {
        format!("{v:.1} {}", U[i])
    }
}

/// Event indexes by kind, each list in timeline (time) order. Every rule
/// asks for a few kinds within a time window, so a search is a binary
/// search into short lists instead of a walk over every event in the window.
struct Index {
    by_kind: HashMap<&'static str, Kind>,
}

/// One kind's events and, alongside, their times: a window's binary search
/// reads this compact list instead of an event scattered over the timeline
/// per probe (`Ctx::window` was the rules' top entry on large archives).
#[derive(Default)]
struct Kind {
    events: Vec<usize>,
    ts: Vec<i64>,
}

impl Index {
    fn new(t: &Timeline) -> Index {
        let mut by_kind: HashMap<&'static str, Kind> = HashMap::new();
        for (i, e) in t.events.iter().enumerate() {
            let k = by_kind.entry(e.kind()).or_default();
            k.events.push(i);
            k.ts.push(e.ts().unwrap_or(i64::MIN));
        }
        Index { by_kind }
    }
    fn of(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map_or(&[], |k| k.events.as_slice())
    }
    /// Events of any of `kinds`, in timeline order.
    fn merged(&self, kinds: &[&str]) -> Vec<usize> {
        let mut v: Vec<usize> = kinds.iter().flat_map(|k| self.of(k)).copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}

struct Ctx<'t> {
    t: &'t Timeline,
    ix: &'t Index,
    used: HashSet<usize>,
    redact: bool,
    /// Position of each lifetime in its node's (time-ordered) list.
    lt_pos: Vec<usize>,
    /// Per node: (last-line time, position) of its lifetimes, by time.
    last_by_time: Vec<Vec<(i64, usize)>>,
    /// Whether this is the run's last window (or the whole run): rules
    /// that sum up a node over the run write then.
    last: bool,
}

impl<'t> Ctx<'t> {
    fn name(&self, node: usize) -> &str {
        self.t.nodes.get(node).map_or("?", |n| n.name.as_str())
    }
    fn node_by_port(&self, port: u32) -> Option<usize> {
        self.t.nodes.iter().position(|n| n.port == Some(port))
    }
    fn node_by_cluster_id(&self, id: &str) -> Option<usize> {
        self.t
            .nodes
            .iter()
            .position(|n| n.cluster_ids.iter().any(|c| c == id))
    }
    fn ev(&self, i: usize) -> &'t Event {
        &self.t.events[i]
    }
    fn ts(&self, i: usize) -> i64 {
        self.t.events[i].ts().unwrap_or(i64::MIN)
    }
    /// The events of `kind` with time in [from, to].
    fn window(&self, kind: &str, from: i64, to: i64) -> &'t [usize] {
        let ix: &'t Index = self.ix;
        let Some(k) = ix.by_kind.get(kind) else {
            return &[];
        };
        let a = k.ts.partition_point(|&t| t < from);
        let b = k.ts.partition_point(|&t| t <= to);
        &k.events[a.min(b)..b]
    }
    /// Groups the events of `kind` into bursts: each event not yet grouped
    /// opens a burst holding every event of that kind on the same node in
    /// the next `window` ms. Returns (opening event, burst) pairs in order.
    fn bursts(&self, kind: &str, window: i64) -> Vec<(usize, Vec<usize>)> {
        let mut done = HashSet::new();
        let mut out = Vec::new();
        for &i in self.ix.of(kind) {
            let e = self.ev(i);
            if done.contains(&i) {
                continue;
            }
            let Some(ts) = e.ts() else { continue };
            let group = self.find(&[kind], ts, ts + window, |x| {
                x.kind() == kind && x.node() == e.node()
            });
            done.extend(group.iter().copied());
            out.push((i, group));
        }
        out
    }
    /// Events of `kinds` matching `f` with time in [from, to], in time order.
    fn find(&self, kinds: &[&str], from: i64, to: i64, f: impl Fn(&Event) -> bool) -> Vec<usize> {
        let mut v: Vec<usize> = kinds
            .iter()
            .flat_map(|k| self.window(k, from, to))
            .copied()
            .filter(|&i| f(&self.t.events[i]))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    fn first(
        &self,
        kinds: &[&str],
        from: i64,
        to: i64,
        f: impl Fn(&Event) -> bool,
    ) -> Option<usize> {
        kinds
            .iter()
            .filter_map(|k| {
                self.window(k, from, to)
                    .iter()
                    .copied()
                    .find(|&i| f(&self.t.events[i]))
            })
            .min()
    }
    fn last(
        &self,
        kinds: &[&str],
        from: i64,
        to: i64,
        f: impl Fn(&Event) -> bool,
    ) -> Option<usize> {
        kinds
            .iter()
            .filter_map(|k| {
                self.window(k, from, to)
                    .iter()
                    .rev()
                    .copied()
                    .find(|&i| f(&self.t.events[i]))
            })
            .max()
    }
    /// The lifetime of `node` alive at `at`: the latest one that had started
    /// by then (lifetimes are in start order).
    fn lifetime_at(&self, node: usize, at: i64) -> Option<usize> {
        let ls = &self.t.nodes[node].lifetimes;
        let start = |l: usize| self.t.lifetimes[l].first.and_then(|x| x.ts());
        let p = ls.partition_point(|&l| start(l).unwrap_or(i64::MIN) <= at);
        let l = *ls.get(p.checked_sub(1)?)?;
        start(l).is_some().then_some(l)
    }
    /// The latest persistence fork lifetime `l` started in the hour up to
    /// `to` (its `pid N` line).
    fn fork_before(&self, l: usize, to: i64) -> Option<usize> {
        self.last(FORK_STARTS, to - 3_600_000, to, |x| x.lifetime() == l)
    }
    /// The latest sign of a blocked event loop on `node` (slow script,
    /// watchdog) in the 90 s up to `anchor`: what a false failure
    /// detection at `anchor` goes back to (FC12).
    fn stall_before(&self, node: usize, anchor: i64) -> Option<usize> {
        self.last(&["slow_script", "watchdog"], anchor - 90_000, anchor, |x| {
            x.node() == node
        })
    }
    /// The lifetime after `l` on its node.
    fn next_lifetime(&self, l: usize) -> Option<usize> {
        let ls = &self.t.nodes[self.t.lifetimes[l].node].lifetimes;
        ls.get(self.lt_pos[l] + 1).copied()
    }
}

fn port_of(addr: &str) -> Option<u32> {
    addr.rsplit(':').next()?.parse().ok()
}

/// Kinds whose latest event per node a rule reads however long ago it
/// came (a fork's last copy-on-write peak, the hazards warned at startup):
/// a long archive's windows keep that one when they prune.
pub const REMEMBERED: &[&str] = &[
    "fork_cow",
    "overcommit_disabled",
    "thp_enabled",
    "tcp_backlog_low",
    "no_config_file",
    "maxclients_reduced",
    "slow_clocksource",
    "maxmemory_tiny",
];

/// The lines that start a persistence fork child and name its pid.
const FORK_STARTS: &[&str] = &[
    "bgsave_started",
    "aof_rewrite_started",
    "rdb_transfer_started",
];

/// Why a primary that kept running was failed over, from its stall `b`
/// ([`Ctx::stall_before`]): "event loop was blocked (…)" and what follows.
fn blocked_cause(c: &Ctx, b: usize) -> String {
    let e = c.ev(b);
    let what = if e.kind() == "slow_script" {
        format!(
            "a script was still running after {} ms at {}",
            e.num(c.t, "ms").unwrap_or(0.0),
            hms(e.ts())
        )
    } else {
        format!("the watchdog fired at {}", hms(e.ts()))
    };
    format!("event loop was blocked ({what}; see blocked_event_loop); the process kept running, so this was a false failure detection, not a crash.")
}

/// A primary that outlived its failover with no stall in its log.
fn kept_running(name: &str, last: Option<i64>) -> String {
    format!(
        " {name} kept running through the failover (lines until {}): no crash; a network partition or a stall the logs do not show.",
        hms(last)
    )
}

fn push(ev: &mut Vec<Cite>, c: Option<Cite>) {
    if let Some(c) = c {
        if !ev
            .iter()
            .any(|x| x.file() == c.file() && x.line() == c.line())
        {
            ev.push(c);
        }
    }
}

/// Extracts `key=value` from a CLIENT LIST string.
pub fn client_field<'a>(client: &'a str, key: &str) -> Option<&'a str> {
    client
        .split(' ')
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// The rules, in the order they claim events: a rule earlier in the list
/// explains a line before a more generic one can report it again.
const RULES: [fn(&mut Ctx, &mut Sink); 14] = [
    sentinel_failovers,
    cluster_failovers,
    crashes,
    restarts,
    replication_breaks,
    full_resyncs,
    replicaof_discards,
    persistence,
    cluster_down,
    clients,
    fsync_stalls,
    memory,
    blocked_loop,
    config_hazards,
];

/// Runs every rule; incidents come back ordered by start time.
pub fn run(t: &Timeline, redact: bool) -> Vec<Incident> {
    let mut found = Found::default();
    found.add(t, redact, i64::MIN..i64::MAX, true);
    found.finish()
}

/// Incidents gathered over one run, which on a long archive is analysed
/// window by window: each rule's own are folded as they come (see
/// [`Folder`]), so what is held is bounded by the kinds and nodes, not by
/// the incidents.
#[derive(Default)]
pub struct Found {
    by_rule: Vec<Folder>,
    /// With [`Found::noting`]: each incident kept since the last
    /// [`Found::take_noted`], as its start and the lines it cites.
    noted: Option<Vec<Noted>>,
}

/// An incident's start and the (file, line) of its evidence.
pub type Noted = (Option<i64>, Vec<(usize, u64)>);

impl Found {
    /// Also notes each incident kept (before any folding), for what must
    /// hold the lines it cites (see [`crate::logs::timeline::Writeup`]).
    pub fn noting() -> Found {
        Found {
            noted: Some(Vec::new()),
            ..Found::default()
        }
    }

    /// The incidents noted since the last call.
    pub fn take_noted(&mut self) -> Vec<Noted> {
        self.noted.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Runs every rule on `t` and keeps the incidents that start in
    /// `starts`; `last` is the run's last window, which also keeps those
    /// without a start and the summaries of a whole node.
    pub fn add(&mut self, t: &Timeline, redact: bool, starts: std::ops::Range<i64>, last: bool) {
        let ix = Index::new(t);
        let mut lt_pos = vec![0; t.lifetimes.len()];
        let mut last_by_time = Vec::with_capacity(t.nodes.len());
        for n in &t.nodes {
            let mut v = Vec::new();
            for (k, &l) in n.lifetimes.iter().enumerate() {
                lt_pos[l] = k;
                if let Some(ts) = t.lifetimes[l].last.and_then(|x| x.ts()) {
                    v.push((ts, k));
                }
            }
            v.sort_unstable();
            last_by_time.push(v);
        }
        let mut c = Ctx {
            t,
            ix: &ix,
            used: HashSet::new(),
            redact,
            lt_pos,
            last_by_time,
            last,
        };
        self.by_rule.resize_with(RULES.len(), Folder::default);
        for (rule, folder) in RULES.iter().zip(&mut self.by_rule) {
            rule(
                &mut c,
                &mut Sink {
                    folder,
                    starts: starts.clone(),
                    undated: last,
                    noted: self.noted.as_mut(),
                },
            );
        }
    }

    /// The incidents in start order, linked by cause.
    pub fn finish(self) -> Vec<Incident> {
        let mut out: Vec<Incident> = self.by_rule.into_iter().flat_map(Folder::finish).collect();
        // Summaries grow by pieces: drop the slack, which on an archive with
        // hundreds of thousands of incidents is tens of megabytes.
        for i in &mut out {
            i.summary.shrink_to_fit();
            i.evidence.shrink_to_fit();
        }
        out.sort_by_key(|i| (i.start.unwrap_or(i64::MIN), i.kind));
        links::link(&mut out);
        out
    }
}

/// Where a rule writes its incidents: those of the window being analysed
/// are folded into the rule's own as they come, so that thousands of
/// restarts of one node are never held at once.
struct Sink<'f> {
    folder: &'f mut Folder,
    starts: std::ops::Range<i64>,
    undated: bool,
    noted: Option<&'f mut Vec<Noted>>,
}

impl Sink<'_> {
    /// Keeps an incident that starts in the window's span.
    fn push(&mut self, i: Incident) {
        let at = i.start;
        self.push_at(i, at);
    }
    /// Keeps an incident found at `anchor` in the window's span: what a
    /// rule can only tell once a later line came (a restart, once the next
    /// process started, however long the node was down) is kept by the
    /// window that holds that line, not by the one that holds its start.
    fn push_at(&mut self, i: Incident, anchor: Option<i64>) {
        if anchor.map_or(self.undated, |s| self.starts.contains(&s)) {
            if let Some(n) = &mut self.noted {
                n.push((
                    i.start,
                    i.evidence.iter().map(|c| (c.file(), c.line())).collect(),
                ));
            }
            self.folder.push(i);
        }
    }
}

/// More incidents than this of one kind on the same nodes are folded into
/// one (see [`Folder`]).
pub const REPEAT_FOLD: usize = 50;

/// Folds runs of look-alike incidents of one rule as they come.
///
/// When more than [`REPEAT_FOLD`] incidents share a kind and the same
/// affected nodes (a node restarted thousands of times on a long archive),
/// they become one incident of that kind, in the place of the first: the
/// highest severity, the first start, the latest end, a summary with the
/// count and span followed by the first and the last summary, and the first
/// and the last evidence. Smaller groups are left as they are, in their
/// order.
#[derive(Default)]
struct Folder {
    slots: Vec<Slot>,
    keys: HashMap<(&'static str, Vec<usize>), Key>,
}

enum Slot {
    One(Incident),
    Group(Box<Group>),
    Moved,
}

#[derive(Default)]
struct Key {
    /// Where its incidents sit while they are few; the group's slot after.
    slots: Vec<usize>,
    folded: bool,
}

struct Group {
    n: usize,
    severity: Severity,
    end: Option<i64>,
    first: Incident,
    last: Option<Incident>,
}

fn order_key(i: &Incident) -> (i64, i64) {
    (i.start.unwrap_or(i64::MIN), i.end.unwrap_or(i64::MIN))
}

impl Group {
    fn new(inc: Incident) -> Group {
        Group {
            n: 1,
            severity: inc.severity,
            end: inc.end,
            first: inc,
            last: None,
        }
    }
    fn add(&mut self, inc: Incident) {
        self.n += 1;
        self.severity = self.severity.max(inc.severity);
        self.end = self.end.max(inc.end);
        if order_key(&inc) < order_key(&self.first) {
            let old = std::mem::replace(&mut self.first, inc);
            if self.last.is_none() {
                self.last = Some(old);
            }
        } else if self
            .last
            .as_ref()
            .is_none_or(|l| order_key(&inc) >= order_key(l))
        {
            self.last = Some(inc);
        }
    }
    fn incident(self) -> Incident {
        // A fold may span days: give the date as well.
        let stamp = |ts: Option<i64>| ts.map_or_else(|| "?".to_string(), super::line::format_ms);
        let last = self.last.unwrap_or_else(|| self.first.clone());
        let first = self.first;
        let mut summary = format!(
            "{} {} incidents between {} and {} ({}). First: {}",
            self.n,
            first.kind,
            stamp(first.start),
            stamp(last.start),
            dur(first.start, last.start),
            first.summary
        );
        summary.push_str(" Last: ");
        summary.push_str(&last.summary);
        let mut evidence = first.evidence;
        for c in last.evidence {
            if !evidence.contains(&c) {
                evidence.push(c);
            }
        }
        Incident {
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
            kind: first.kind,
            severity: self.severity,
            start: first.start,
            end: self.end,
            nodes: first.nodes,
            summary,
            evidence,
        }
    }
}

impl Folder {
    fn push(&mut self, inc: Incident) {
        let key = self.keys.entry((inc.kind, inc.nodes.clone())).or_default();
        if key.folded {
            if let Some(Slot::Group(g)) = self.slots.get_mut(key.slots[0]) {
                g.add(inc);
            }
            return;
        }
        key.slots.push(self.slots.len());
        self.slots.push(Slot::One(inc));
        if key.slots.len() > REPEAT_FOLD {
            // One too many: the group replaces them, where the first was.
            key.folded = true;
            let mut group: Option<Group> = None;
            for &at in &key.slots {
                if let Slot::One(i) = std::mem::replace(&mut self.slots[at], Slot::Moved) {
                    match &mut group {
                        None => group = Some(Group::new(i)),
                        Some(g) => g.add(i),
                    }
                }
            }
            key.slots.truncate(1);
            if let Some(g) = group {
                self.slots[key.slots[0]] = Slot::Group(Box::new(g));
            }
        }
    }
    fn finish(self) -> impl Iterator<Item = Incident> {
        self.slots.into_iter().filter_map(|s| match s {
            Slot::One(i) => Some(i),
            Slot::Group(g) => Some(g.incident()),
            Slot::Moved => None,
        })
    }
}

/// Folds the incidents from `from` on as one rule's (see [`Folder`]).
#[cfg(test)]
fn fold_repeats(out: &mut Vec<Incident>, from: usize) {
    let mut f = Folder::default();
    for i in out.drain(from..) {
        f.push(i);
    }
    out.extend(f.finish());
}

#[cfg(test)]
mod fold_tests {
    use super::*;

    fn cite(line: u64, ts: i64) -> Cite {
        Cite::new(0, line, line * 100, Some(ts))
    }

    fn inc(kind: &'static str, node: usize, k: i64, severity: Severity) -> Incident {
        Incident {
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
            kind,
            severity,
            start: Some(k * 1000),
            end: Some(k * 1000 + 500),
            nodes: vec![node],
            summary: format!("#{k}."),
            evidence: vec![
                cite(k as u64 * 2, k * 1000),
                cite(k as u64 * 2 + 1, k * 1000 + 500),
            ],
        }
    }

    #[test]
    fn more_than_the_limit_of_one_kind_on_one_node_fold_into_one() {
        let mut out = vec![inc("crash", 9, 0, Severity::Critical)];
        // 60 restarts of node 0 (out of time order at the end), 3 of node 1,
        // and exactly REPEAT_FOLD of kind `persistence` on node 0.
        for k in 1..=58 {
            let sev = if k == 30 {
                Severity::High
            } else {
                Severity::Medium
            };
            out.push(inc("restart", 0, k, sev));
        }
        out.push(inc("restart", 1, 100, Severity::Low));
        out.push(inc("restart", 0, 200, Severity::Medium));
        out.push(inc("restart", 0, 59, Severity::Medium));
        out.push(inc("restart", 1, 101, Severity::Low));
        out.push(inc("restart", 1, 102, Severity::Low));
        for k in 0..REPEAT_FOLD as i64 {
            out.push(inc("persistence", 0, 300 + k, Severity::Medium));
        }
        fold_repeats(&mut out, 1);
        // crash, folded restart (at the place of the first), 3 + 50 kept.
        assert_eq!(out.len(), 1 + 1 + 3 + REPEAT_FOLD);
        assert_eq!(out[0].kind, "crash");
        let f = &out[1];
        assert_eq!((f.kind, f.nodes.as_slice()), ("restart", &[0][..]));
        assert_eq!(f.severity, Severity::High);
        assert_eq!((f.start, f.end), (Some(1000), Some(200_500)));
        assert_eq!(
            f.summary,
            "60 restart incidents between 1970-01-01 00:00:01.000 and \
             1970-01-01 00:03:20.000 (3 min 19 s). \
             First: #1. Last: #200."
        );
        let lines: Vec<u64> = f.evidence.iter().map(|c| c.line()).collect();
        assert_eq!(lines, [2, 3, 400, 401]);
        let rest: Vec<(&str, Option<i64>)> = out[2..5].iter().map(|i| (i.kind, i.start)).collect();
        assert_eq!(
            rest,
            [
                ("restart", Some(100_000)),
                ("restart", Some(101_000)),
                ("restart", Some(102_000))
            ]
        );
        assert!(out[5..]
            .iter()
            .all(|i| i.kind == "persistence" && i.summary.len() < 6));
    }

    #[test]
    fn few_incidents_are_left_untouched() {
        let mut out: Vec<Incident> = (0..REPEAT_FOLD as i64)
            .map(|k| inc("restart", 0, REPEAT_FOLD as i64 - k, Severity::Medium))
            .collect();
        let before: Vec<String> = out.iter().map(|i| i.summary.clone()).collect();
        fold_repeats(&mut out, 0);
        let after: Vec<String> = out.iter().map(|i| i.summary.clone()).collect();
        assert_eq!(before, after);
    }
}

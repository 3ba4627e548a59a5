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

use std::collections::{HashMap, HashSet};

use super::catalog::Severity;
use super::crash::Cite;
use super::timeline::{EndClass, Event, Timeline};

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

/// Every event kind a rule reads. Events of these kinds are always kept
/// (see [`super::timeline::notable`]); others below medium severity may be
/// only counted on very large inputs.
pub const KINDS_USED: &[&str] = &[
    "aof_fatal_exit",
    "aof_fork_failed",
    "aof_fsync_slow",
    "aof_rewrite_done",
    "aof_rewrite_error",
    "aof_rewrite_ok",
    "aof_rewrite_signal",
    "aof_rewrite_started",
    "aof_short_write",
    "aof_write_error",
    "aof_write_recovered",
    "bgsave_error",
    "bgsave_ok",
    "bgsave_signal",
    "bgsave_started",
    "client_eviction_exhausted",
    "cluster_auth_granted",
    "cluster_config_epoch",
    "cluster_election_delayed",
    "cluster_election_started",
    "cluster_fail_received",
    "cluster_failover_won",
    "cluster_marking_failed",
    "cluster_reconfigured_as_replica",
    "cluster_state",
    "connecting_primary",
    "crash_report",
    "fork_failed",
    "full_resync",
    "kernel_oom_kill",
    "keys_loaded",
    "maxclients_reduced",
    "maxmemory_lowered",
    "maxmemory_tiny",
    "no_config_file",
    "oom_allocation",
    "output_buffer_limit",
    "overcommit_disabled",
    "primary_lost",
    "primary_unreachable",
    "promoted",
    "psync_no_backlog",
    "psync_ok",
    "psync_replid_mismatch",
    "psync_try",
    "rdb_age",
    "rdb_fsync_dir_error",
    "rdb_memory",
    "rdb_open_failed",
    "rdb_rename_error",
    "rdb_transfer_started",
    "rdb_write_error",
    "replicaof",
    "script_killed",
    "secondary_replid",
    "security_attack",
    "sentinel_abort_no_good_replica",
    "sentinel_abort_not_elected",
    "sentinel_abort_replica_timeout",
    "sentinel_convert_to_replica",
    "sentinel_elected_leader",
    "sentinel_failover_end",
    "sentinel_odown",
    "sentinel_promoted",
    "sentinel_sdown",
    "sentinel_selected_replica",
    "sentinel_switch_master",
    "sentinel_try_failover",
    "shutdown_failed",
    "shutdown_requested",
    "slow_clocksource",
    "slow_script",
    "sync_done",
    "sync_failed",
    "sync_flush",
    "sync_io_error",
    "sync_load_failed",
    "sync_receiving",
    "sync_timeout",
    "tcp_backlog_low",
    "thp_enabled",
    "watchdog",
];

/// Event indexes by kind, each list in timeline (time) order. Every rule
/// asks for a few kinds within a time window, so a search is a binary
/// search into short lists instead of a walk over every event in the window.
struct Index {
    by_kind: HashMap<&'static str, Vec<usize>>,
}

impl Index {
    fn new(t: &Timeline) -> Index {
        let mut by_kind: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, e) in t.events.iter().enumerate() {
            by_kind.entry(e.kind()).or_default().push(i);
        }
        Index { by_kind }
    }
    fn of(&self, kind: &str) -> &[usize] {
        self.by_kind.get(kind).map_or(&[], |v| v.as_slice())
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
        let v = ix.of(kind);
        let a = v.partition_point(|&i| self.ts(i) < from);
        let b = v.partition_point(|&i| self.ts(i) <= to);
        &v[a.min(b)..b]
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

/// Runs every rule; incidents come back ordered by start time.
pub fn run(t: &Timeline, redact: bool) -> Vec<Incident> {
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
    };
    let mut out = Vec::new();
    let from = out.len();
    sentinel_failovers(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    cluster_failovers(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    crashes(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    restarts(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    replication_breaks(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    full_resyncs(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    persistence(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    cluster_down(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    clients(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    fsync_stalls(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    memory(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    blocked_loop(&mut c, &mut out);
    fold_repeats(&mut out, from);
    let from = out.len();
    config_hazards(&mut c, &mut out);
    fold_repeats(&mut out, from);
    // Summaries grow by pieces: drop the slack, which on an archive with
    // hundreds of thousands of incidents is tens of megabytes.
    for i in &mut out {
        i.summary.shrink_to_fit();
        i.evidence.shrink_to_fit();
    }
    out.sort_by_key(|i| (i.start.unwrap_or(i64::MIN), i.kind));
    out
}

/// More incidents than this of one kind on the same nodes are folded into
/// one (see [`fold_repeats`]).
pub const REPEAT_FOLD: usize = 50;

/// Folds runs of look-alike incidents that one rule wrote from `from` on.
///
/// When more than [`REPEAT_FOLD`] incidents share a kind and the same
/// affected nodes (a node restarted thousands of times on a long archive),
/// they become one incident of that kind: the highest severity, the first
/// start, the latest end, a summary with the count and span followed by the
/// first and the last summary, and the first and the last evidence. Smaller
/// groups are left as they are, in their order.
fn fold_repeats(out: &mut Vec<Incident>, from: usize) {
    // A fold may span days: give the date as well.
    let stamp = |ts: Option<i64>| ts.map_or_else(|| "?".to_string(), super::line::format_ms);
    let mut count: HashMap<(&'static str, &[usize]), usize> = HashMap::new();
    for i in &out[from..] {
        *count.entry((i.kind, i.nodes.as_slice())).or_default() += 1;
    }
    let many: HashSet<(&'static str, Vec<usize>)> = count
        .into_iter()
        .filter(|&(_, n)| n > REPEAT_FOLD)
        .map(|((k, nodes), _)| (k, nodes.to_vec()))
        .collect();
    if many.is_empty() {
        return;
    }
    struct Group {
        at: usize,
        n: usize,
        severity: Severity,
        end: Option<i64>,
        first: Incident,
        last: Option<Incident>,
    }
    let key = |i: &Incident| (i.start.unwrap_or(i64::MIN), i.end.unwrap_or(i64::MIN));
    let tail: Vec<Incident> = out.drain(from..).collect();
    let mut groups: Vec<Group> = Vec::new();
    let mut slot: HashMap<(&'static str, Vec<usize>), usize> = HashMap::new();
    let mut kept: Vec<Option<Incident>> = Vec::new();
    for inc in tail {
        let k = (inc.kind, inc.nodes.clone());
        if !many.contains(&k) {
            kept.push(Some(inc));
            continue;
        }
        match slot.get(&k) {
            None => {
                slot.insert(k, groups.len());
                groups.push(Group {
                    at: kept.len(),
                    n: 1,
                    severity: inc.severity,
                    end: inc.end,
                    first: inc,
                    last: None,
                });
                kept.push(None);
            }
            Some(&g) => {
                let g = &mut groups[g];
                g.n += 1;
                g.severity = g.severity.max(inc.severity);
                g.end = g.end.max(inc.end);
                if key(&inc) < key(&g.first) {
                    let old = std::mem::replace(&mut g.first, inc);
                    if g.last.is_none() {
                        g.last = Some(old);
                    }
                } else if g.last.as_ref().is_none_or(|l| key(&inc) >= key(l)) {
                    g.last = Some(inc);
                }
            }
        }
    }
    for g in groups {
        let last = g.last.unwrap_or_else(|| g.first.clone());
        let mut summary = format!(
            "{} {} incidents between {} and {} ({}). First: {}",
            g.n,
            g.first.kind,
            stamp(g.first.start),
            stamp(last.start),
            dur(g.first.start, last.start),
            g.first.summary
        );
        summary.push_str(" Last: ");
        summary.push_str(&last.summary);
        let mut evidence = g.first.evidence;
        for c in last.evidence {
            if !evidence.contains(&c) {
                evidence.push(c);
            }
        }
        kept[g.at] = Some(Incident {
            kind: g.first.kind,
            severity: g.severity,
            start: g.first.start,
            end: g.end,
            nodes: g.first.nodes,
            summary,
            evidence,
        });
    }
    out.extend(kept.into_iter().flatten());
}

/// FC8: sentinel failover, anchored on `+switch-master`.
fn sentinel_failovers(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    let mut seen: Vec<(String, u32, u32, i64)> = Vec::new();
    let ix = c.ix;
    for &i in ix.of("sentinel_switch_master") {
        let e = c.ev(i);
        let name = e.txt(t, "name").unwrap_or("?").to_string();
        let (Some(op), Some(np)) = (e.num(t, "old_port"), e.num(t, "new_port")) else {
            continue;
        };
        let Some(sw_ts) = e.ts() else { continue };
        // Every sentinel logs the switch; one failover is one incident.
        if seen.iter().any(|(n, o, w, t0)| {
            *n == name && *o == op as u32 && *w == np as u32 && sw_ts - t0 <= 120_000
        }) {
            continue;
        }
        seen.push((name.clone(), op as u32, np as u32, sw_ts));
        let from = sw_ts - 300_000;
        let is_master_ev =
            |e: &Event, kind: &str| e.kind() == kind && e.txt(t, "name") == Some(&name);
        let sdown = c.first(&["sentinel_sdown"], from, sw_ts, |e| {
            is_master_ev(e, "sentinel_sdown")
                && e.txt(t, "type")
                    .is_some_and(|t| t == "master" || t == "primary")
        });
        let win_start = sdown.and_then(|s| c.ev(s).ts()).unwrap_or(sw_ts) - 120_000;
        let odown = c.first(&["sentinel_odown"], win_start, sw_ts, |e| {
            is_master_ev(e, "sentinel_odown")
        });
        let try_f = c.first(&["sentinel_try_failover"], win_start, sw_ts, |e| {
            is_master_ev(e, "sentinel_try_failover")
        });
        let leader = c.first(&["sentinel_elected_leader"], win_start, sw_ts, |e| {
            is_master_ev(e, "sentinel_elected_leader")
        });
        let selected = c.first(&["sentinel_selected_replica"], win_start, sw_ts, |e| {
            e.kind() == "sentinel_selected_replica" && e.num(t, "port") == Some(np)
        });
        let promoted_s = c.first(&["sentinel_promoted"], win_start, sw_ts + 60_000, |e| {
            e.kind() == "sentinel_promoted" && e.num(t, "port") == Some(np)
        });
        let end = c.first(&["sentinel_failover_end"], win_start, sw_ts + 60_000, |e| {
            is_master_ev(e, "sentinel_failover_end")
        });
        let old = c.node_by_port(op as u32);
        let new = c.node_by_port(np as u32);
        // Data-node side.
        let new_lost = new.and_then(|n| {
            c.last(&["primary_lost"], win_start, sw_ts, |e| {
                e.node() == n && e.kind() == "primary_lost"
            })
        });
        let promoted = new.and_then(|n| {
            c.first(&["promoted"], win_start, sw_ts + 60_000, |e| {
                e.node() == n && e.kind() == "promoted"
            })
        });
        let replid = new.and_then(|n| {
            c.first(&["secondary_replid"], win_start, sw_ts + 60_000, |e| {
                e.node() == n && e.kind() == "secondary_replid"
            })
        });
        // The old primary's lifetime that was alive when it went down.
        let anchor = sdown.and_then(|s| c.ev(s).ts()).unwrap_or(sw_ts);
        let old_lt = old.and_then(|n| c.lifetime_at(n, anchor));
        let old_last = old_lt.and_then(|l| t.lifetimes[l].last);
        let old_next = old_lt.and_then(|l| c.next_lifetime(l));
        let restarted = old_next.and_then(|l| t.lifetimes[l].ready.or(t.lifetimes[l].first));
        let convert = c.first(
            &["sentinel_convert_to_replica"],
            sw_ts,
            sw_ts + 3_600_000,
            |e| e.kind() == "sentinel_convert_to_replica" && e.num(t, "port") == Some(op),
        );
        let reof = old.and_then(|n| {
            c.first(&["replicaof"], sw_ts, sw_ts + 3_600_000, |e| {
                e.node() == n && e.kind() == "replicaof"
            })
        });
        let mismatch = new.and_then(|n| {
            c.first(&["psync_replid_mismatch"], sw_ts, sw_ts + 3_600_000, |e| {
                e.node() == n && e.kind() == "psync_replid_mismatch"
            })
        });
        let old_resync = old.and_then(|n| {
            c.first(&["full_resync"], sw_ts, sw_ts + 3_600_000, |e| {
                e.node() == n && e.kind() == "full_resync"
            })
        });
        for x in [new_lost, promoted, replid, old_resync]
            .into_iter()
            .flatten()
        {
            c.used.insert(x);
        }
        // Other replicas of the old primary lost it too and were re-pointed.
        let others = c.find(&["primary_lost"], win_start, sw_ts + 60_000, |x| {
            x.kind() == "primary_lost" && Some(x.node()) != new && Some(x.node()) != old
        });
        for x in others {
            if old.is_some() && primary_of(c, c.ev(x).node(), c.ev(x).ts().unwrap_or(0)) == old {
                c.used.insert(x);
            }
        }
        let t_sd = sdown.and_then(|s| c.ev(s).ts());
        let prom_ts = promoted
            .and_then(|p| c.ev(p).ts())
            .or(promoted_s.and_then(|p| c.ev(p).ts()));
        // The replica noticing is the best time of death, unless it lost
        // the link only because it was being promoted; the primary's last
        // line is only a lower bound (it may have been idle).
        let noticed = new_lost
            .and_then(|x| c.ev(x).ts())
            .filter(|&l| prom_ts.is_none_or(|p| l < p - 1_000));
        let down_ts = [noticed, t_sd]
            .into_iter()
            .flatten()
            .min()
            .or(old_last.as_ref().and_then(|x| x.ts()));
        // Whether the old primary's process outlived the failover: then
        // its end is not the cause, and a stall before `+sdown` is (FC8).
        let outlived = old_last
            .as_ref()
            .and_then(|x| x.ts())
            .is_some_and(|l| l > sw_ts);
        let stall = old
            .filter(|_| outlived)
            .and_then(|n| c.stall_before(n, anchor));
        let oname = old.map_or(format!("port {op}"), |n| c.name(n).to_string());
        let nname = new.map_or(format!("port {np}"), |n| c.name(n).to_string());
        let mut s = format!(
            "Sentinel failover of '{name}': primary {oname} down {} → new primary {nname} {} ({}); +switch-master at {} ({} after the primary went down).",
            hms(down_ts),
            hms(prom_ts),
            dur(down_ts, prom_ts),
            hms(Some(sw_ts)),
            dur(down_ts, Some(sw_ts)),
        );
        if let Some(b) = stall {
            s.push_str(&format!(
                " Root cause on {oname}: its {}",
                blocked_cause(c, b)
            ));
        } else if outlived {
            s.push_str(&kept_running(
                &oname,
                old_last.as_ref().and_then(|x| x.ts()),
            ));
        } else if let Some(l) = old_lt {
            let lt = &t.lifetimes[l];
            let how = match lt.end {
                EndClass::Crash => "it crashed",
                EndClass::Clean => "it was shut down cleanly",
                EndClass::UnknownKill | EndClass::Running => {
                    "its process stopped with no shutdown lines (killed)"
                }
                EndClass::KilledInShutdown => "it was killed during shutdown",
                EndClass::OomKilled => "it was killed by the kernel OOM killer",
                EndClass::FatalExit => "it exited on a fatal error",
            };
            s.push_str(&format!(
                " Root cause on {oname}: {how}; last line at {}.",
                hms(old_last.as_ref().and_then(|x| x.ts()))
            ));
        }
        if outlived && convert.is_none() && reof.is_none() {
            s.push_str(&format!(
                " No +convert-to-slave or REPLICAOF for {oname} follows: it still ran as a primary beside {nname} when the logs end (writes to it would be lost)."
            ));
        }
        if let (Some(sd), Some(od)) = (sdown, odown) {
            s.push_str(&format!(
                " Sentinels: +sdown {}, +odown {} (quorum {}/{}).",
                hms(c.ev(sd).ts()),
                hms(c.ev(od).ts()),
                c.ev(od).num(t, "votes").unwrap_or(0.0),
                c.ev(od).num(t, "quorum").unwrap_or(0.0)
            ));
        }
        if let Some(r) = &restarted {
            s.push_str(&format!(" {oname} came back at {}", hms(r.ts())));
            if let Some(cv) = convert {
                s.push_str(&format!(
                    " and was reconfigured as a replica of {nname} at {}",
                    hms(c.ev(cv).ts())
                ));
            }
            s.push('.');
            if mismatch.is_some() || old_resync.is_some() {
                s.push_str(" Its partial resync was refused (replication ID mismatch): it needs a full resync, so its data is wiped and reloaded.");
            }
        }
        let mut ev = Vec::new();
        if outlived {
            push(&mut ev, stall.map(|b| c.ev(b).cite()));
        } else {
            push(&mut ev, old_last);
        }
        for x in [
            new_lost, sdown, odown, try_f, leader, selected, replid, promoted, promoted_s, end,
        ] {
            push(&mut ev, x.map(|x| c.ev(x).cite()));
        }
        push(&mut ev, Some(e.cite()));
        push(&mut ev, restarted);
        for x in [convert, reof, mismatch, old_resync] {
            push(&mut ev, x.map(|x| c.ev(x).cite()));
        }
        let _ = i;
        let mut nodes: Vec<usize> = [old, new].into_iter().flatten().collect();
        nodes.dedup();
        out.push(Incident {
            kind: "sentinel_failover",
            severity: Severity::High,
            start: down_ts.or(Some(sw_ts)),
            end: Some(sw_ts),
            nodes,
            summary: s,
            evidence: ev,
        });
    }
    // +try-failover without a switch: a failed failover.
    for &i in ix.of("sentinel_try_failover") {
        let e = c.ev(i);
        if c.used.contains(&i) {
            continue;
        }
        let Some(ts) = e.ts() else { continue };
        let name = e.txt(t, "name").unwrap_or("?");
        if c.first(&["sentinel_switch_master"], ts, ts + 600_000, |x| {
            x.kind() == "sentinel_switch_master" && x.txt(t, "name") == Some(name)
        })
        .is_some()
        {
            continue;
        }
        let abort = c.first(
            &[
                "sentinel_abort_no_good_replica",
                "sentinel_abort_not_elected",
                "sentinel_abort_replica_timeout",
            ],
            ts,
            ts + 600_000,
            |x| x.kind().starts_with("sentinel_abort"),
        );
        let mut ev = vec![e.cite()];
        push(&mut ev, abort.map(|a| c.ev(a).cite()));
        out.push(Incident {
            kind: "sentinel_failover_failed",
            severity: Severity::Critical,
            start: Some(ts),
            end: abort.and_then(|a| c.ev(a).ts()),
            nodes: vec![e.node()],
            summary: format!(
                "Sentinel tried to fail over '{name}' at {} but no +switch-master followed{}; the primary stayed unavailable.",
                hms(Some(ts)),
                abort.map_or(String::new(), |a| format!(" ({})", c.ev(a).kind()))
            ),
            evidence: ev,
        });
    }
}

/// FC9: cluster failover, anchored on `Failover election won`.
fn cluster_failovers(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    let ix = c.ix;
    for &i in ix.of("cluster_failover_won") {
        let e = c.ev(i);
        let Some(ts) = e.ts() else { continue };
        let r = e.node();
        let from = ts - 120_000;
        let marking = c.first(&["cluster_marking_failed"], from, ts, |x| {
            x.kind() == "cluster_marking_failed"
        });
        let failmsg = c
            .first(&["cluster_fail_received"], from, ts, |x| {
                x.kind() == "cluster_fail_received" && x.node() == r
            })
            .or_else(|| {
                c.first(&["cluster_fail_received"], from, ts, |x| {
                    x.kind() == "cluster_fail_received"
                })
            });
        let failed_id = marking
            .or(failmsg)
            .and_then(|m| c.ev(m).txt(t, "node"))
            .map(String::from);
        let x_node = failed_id.as_deref().and_then(|id| c.node_by_cluster_id(id));
        let r_lost = c.last(&["primary_lost"], from, ts, |x| {
            x.node() == r && x.kind() == "primary_lost"
        });
        let delayed = c.last(&["cluster_election_delayed"], from, ts, |x| {
            x.node() == r && x.kind() == "cluster_election_delayed"
        });
        let started = c.last(&["cluster_election_started"], from, ts, |x| {
            x.node() == r && x.kind() == "cluster_election_started"
        });
        let granted = c.first(&["cluster_auth_granted"], from, ts, |x| {
            x.kind() == "cluster_auth_granted"
        });
        let epoch = c.first(&["cluster_config_epoch"], ts, ts + 1000, |x| {
            x.node() == r && x.kind() == "cluster_config_epoch"
        });
        let fail0 = c.first(&["cluster_state"], from, ts, |x| {
            x.kind() == "cluster_state" && x.txt(t, "state") == Some("fail")
        });
        let oks = c.find(&["cluster_state"], ts, ts + 60_000, |x| {
            x.kind() == "cluster_state" && x.txt(t, "state") == Some("ok")
        });
        // Outage ends when the last node that went to fail is back to ok.
        let ok_last = oks
            .iter()
            .copied()
            .rfind(|&o| {
                let n = c.ev(o).node();
                c.first(&["cluster_state"], from, ts, |x| {
                    x.node() == n
                        && x.kind() == "cluster_state"
                        && x.txt(t, "state") == Some("fail")
                })
                .is_some()
            })
            .or(oks.first().copied());
        let x_lt = x_node.and_then(|n| {
            let fts = fail0.and_then(|f| c.ev(f).ts()).unwrap_or(ts);
            c.lifetime_at(n, fts)
        });
        let x_last = x_lt.and_then(|l| t.lifetimes[l].last);
        let x_next = x_lt.and_then(|l| c.next_lifetime(l));
        let x_back = x_next.and_then(|l| t.lifetimes[l].ready);
        let reconf = x_node.and_then(|n| {
            c.first(
                &["cluster_reconfigured_as_replica"],
                ts,
                ts + 3_600_000,
                |y| y.node() == n && y.kind() == "cluster_reconfigured_as_replica",
            )
        });
        let x_resync = x_node.and_then(|n| {
            c.first(&["full_resync"], ts, ts + 3_600_000, |y| {
                y.node() == n && y.kind() == "full_resync"
            })
        });
        let x_keys = x_resync.and_then(|rs| {
            let n = c.ev(rs).node();
            c.first(
                &["keys_loaded"],
                c.ev(rs).ts().unwrap_or(ts),
                ts + 3_600_000,
                |y| y.node() == n && y.kind() == "keys_loaded",
            )
        });
        for u in [r_lost, x_resync].into_iter().flatten() {
            c.used.insert(u);
        }
        let ok_until = ok_last.and_then(|o| c.ev(o).ts()).unwrap_or(ts);
        for f in c.find(&["cluster_state"], from, ok_until, |x| {
            x.kind() == "cluster_state"
        }) {
            c.used.insert(f);
        }
        let fail_ts = fail0.and_then(|f| c.ev(f).ts());
        let ok_ts = ok_last.and_then(|o| c.ev(o).ts());
        let detected = [marking, failmsg]
            .into_iter()
            .flatten()
            .filter_map(|m| c.ev(m).ts())
            .min();
        // Whether the failed primary's process outlived the failover: then
        // its end is not the cause, and a stall before it was marked
        // failing is (FC9, FC12).
        let outlived = x_last.as_ref().and_then(|l| l.ts()).is_some_and(|l| l > ts);
        let stall = x_node
            .filter(|_| outlived)
            .and_then(|n| c.stall_before(n, detected.unwrap_or(ts)));
        // The replica losing its primary dates the failure, unless it
        // came with its own promotion.
        let r_lost_ts = r_lost
            .and_then(|l| c.ev(l).ts())
            .filter(|&l| l < ts - 1_000);
        let down_ts = if outlived {
            [r_lost_ts, detected, stall.and_then(|b| c.ev(b).ts())]
                .into_iter()
                .flatten()
                .min()
        } else {
            r_lost_ts.or(x_last.as_ref().and_then(|l| l.ts()))
        };
        let xname = x_node.map_or_else(
            || failed_id.clone().unwrap_or_else(|| "?".into()),
            |n| c.name(n).to_string(),
        );
        let mut s = format!(
            "Cluster failover: primary {xname} down {} → replica {} won the election at {} ({} after the primary went down)",
            hms(down_ts),
            c.name(r),
            hms(Some(ts)),
            dur(down_ts, Some(ts)),
        );
        if let Some(ep) = epoch.and_then(|x| c.ev(x).num(t, "epoch")) {
            s.push_str(&format!(", configEpoch {ep}"));
        }
        s.push('.');
        if fail_ts.is_some() {
            s.push_str(&format!(
                " Cluster state was fail from {} to {} ({}): clients got -CLUSTERDOWN.",
                hms(fail_ts),
                hms(ok_ts),
                dur(fail_ts, ok_ts)
            ));
        }
        if let Some(d) = delayed {
            let d = c.ev(d);
            s.push_str(&format!(
                " Election delayed {} ms (rank #{}, offset {}).",
                d.num(t, "delay_ms").unwrap_or(0.0),
                d.num(t, "rank").unwrap_or(0.0),
                d.num(t, "offset").unwrap_or(0.0)
            ));
        }
        if let Some(b) = stall {
            s.push_str(&format!(" Root cause: {xname}'s {}", blocked_cause(c, b)));
        } else if outlived {
            s.push_str(&kept_running(&xname, x_last.as_ref().and_then(|l| l.ts())));
        } else if let Some(l) = x_lt {
            if matches!(
                t.lifetimes[l].end,
                EndClass::UnknownKill | EndClass::Running | EndClass::KilledInShutdown
            ) {
                s.push_str(&format!(
                    " Root cause: {xname}'s process stopped with no shutdown lines (killed)."
                ));
            } else if t.lifetimes[l].end == EndClass::Crash {
                s.push_str(&format!(" Root cause: {xname} crashed."));
            } else if t.lifetimes[l].end == EndClass::OomKilled {
                s.push_str(&format!(
                    " Root cause: {xname} was killed by the kernel OOM killer."
                ));
            }
        }
        if let Some(b) = &x_back {
            s.push_str(&format!(
                " {xname} came back at {} as a replica",
                hms(b.ts())
            ));
            if let Some(rs) = x_resync {
                s.push_str(&format!(
                    " and needed a full resync at {}",
                    hms(c.ev(rs).ts())
                ));
                if let Some(k) = x_keys.and_then(|k| c.ev(k).num(t, "loaded")) {
                    s.push_str(&format!(" ({k} keys loaded)"));
                }
            }
            s.push('.');
        }
        if outlived {
            if let Some(rc) = reconf {
                s.push_str(&format!(
                    " {xname} rejoined as a replica at {}.",
                    hms(c.ev(rc).ts())
                ));
            }
        }
        let mut ev = Vec::new();
        if outlived {
            push(&mut ev, stall.map(|b| c.ev(b).cite()));
        } else {
            push(&mut ev, x_last);
        }
        let r_lost_cited = r_lost.filter(|&l| c.ev(l).ts().is_some_and(|lt| lt < ts - 1_000));
        for x in [
            r_lost_cited,
            marking,
            failmsg,
            fail0,
            delayed,
            started,
            granted,
            Some(i),
            epoch,
            ok_last,
        ] {
            push(&mut ev, x.map(|x| c.ev(x).cite()));
        }
        push(&mut ev, x_back);
        for x in [reconf, x_resync] {
            push(&mut ev, x.map(|x| c.ev(x).cite()));
        }
        let mut nodes: Vec<usize> = [x_node, Some(r)].into_iter().flatten().collect();
        nodes.dedup();
        out.push(Incident {
            kind: "cluster_failover",
            severity: Severity::High,
            start: down_ts.or(fail_ts).or(Some(ts)),
            end: ok_ts.or(Some(ts)),
            nodes,
            summary: s,
            evidence: ev,
        });
    }
}

/// FC14: one incident per crash report.
fn crashes(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    for (l, lt) in t.lifetimes.iter().enumerate() {
        let Some(ci) = lt.crash else { continue };
        let cr = &t.crashes[ci];
        let start = cr
            .start
            .as_ref()
            .and_then(|x| x.ts())
            .or(cr.reason_line.as_ref().and_then(|x| x.ts()));
        let node = lt.node;
        let mut s = format!(
            "{} ({}) crashed at {}: {}.",
            c.name(node),
            lt.version.as_deref().unwrap_or("server"),
            hms(start),
            cr.reason()
        );
        if !cr.frames.is_empty() {
            s.push_str(&format!(" Top frames: {}.", cr.frames.join(" ← ")));
        }
        if let Some(cmd) = &cr.command {
            s.push_str(&format!(
                " Command being run: {}.",
                if c.redact {
                    cmd.split(' ').next().unwrap_or("")
                } else {
                    cmd
                }
            ));
        }
        let mut gauges = Vec::new();
        for (k, label) in [
            ("role", "role"),
            ("used_memory", "used_memory"),
            ("maxmemory", "maxmemory"),
            ("mem_fragmentation_ratio", "fragmentation"),
            ("connected_slaves", "connected replicas"),
            ("connected_clients", "clients"),
        ] {
            if let Some(v) = cr.info(k) {
                let v = if k.starts_with("used_memory") || k == "maxmemory" {
                    v.parse::<f64>().map_or(v.to_string(), |b| {
                        if b == 0.0 && k == "maxmemory" {
                            "0 (no limit)".into()
                        } else {
                            bytes(b)
                        }
                    })
                } else {
                    v.to_string()
                };
                gauges.push(format!("{label} {v}"));
            }
        }
        if !gauges.is_empty() {
            s.push_str(&format!(" At the crash: {}.", gauges.join(", ")));
        }
        match cr.memtest {
            Some(true) => s.push_str(" Fast memory test passed."),
            Some(false) => {
                s.push_str(" MEMORY ERROR DETECTED by the fast memory test: suspect hardware.")
            }
            None => {}
        }
        if cr.end.is_none() {
            s.push_str(" The report is cut short (the process died while writing it).");
        }
        s.push_str(&format!(" Class: {}.", cr.class()));
        let next = c.next_lifetime(l);
        let back = next.and_then(|n| t.lifetimes[n].ready.or(t.lifetimes[n].first));
        match &back {
            Some(b) => s.push_str(&format!(
                " Restarted, serving again at {} ({} down).",
                hms(b.ts()),
                dur(start, b.ts())
            )),
            None => s.push_str(" No restart in these logs."),
        }
        let mut ev = Vec::new();
        push(&mut ev, cr.start);
        push(&mut ev, cr.reason_line);
        push(&mut ev, cr.frame_line);
        push(&mut ev, cr.memory_line);
        push(&mut ev, cr.end);
        push(&mut ev, back);
        out.push(Incident {
            kind: "crash",
            severity: Severity::Critical,
            start,
            end: back
                .as_ref()
                .and_then(|b| b.ts())
                .or(cr.end.as_ref().and_then(|e| e.ts()))
                .or(start),
            nodes: vec![node],
            summary: s,
            evidence: ev,
        });
    }
}

/// FC0/FC3: restarts, clean or not, and cold starts.
fn restarts(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    for (n, node) in t.nodes.iter().enumerate() {
        let from = out.len();
        for w in node.lifetimes.windows(2) {
            let (a, b) = (&t.lifetimes[w[0]], &t.lifetimes[w[1]]);
            if a.end == EndClass::Crash {
                continue;
            }
            let last = a.last;
            let up = b.ready;
            let start = b.first;
            let cold = b.keys_loaded.is_none()
                && b.load_secs.is_none()
                && node.mode.as_deref() != Some("sentinel");
            let (kind, mut sev, how) = match a.end {
                EndClass::Clean => ("restart", Severity::Low, "clean shutdown".to_string()),
                EndClass::FatalExit => (
                    "unclean_restart",
                    Severity::High,
                    "exit on a fatal error".to_string(),
                ),
                EndClass::KilledInShutdown => (
                    "unclean_restart",
                    Severity::High,
                    "killed during shutdown (SIGKILL after a stalled shutdown?)".to_string(),
                ),
                EndClass::OomKilled => (
                    "unclean_restart",
                    Severity::High,
                    format!(
                        "killed by the kernel OOM killer at {}",
                        hms(a.oom_kill.and_then(|k| k.ts()))
                    ),
                ),
                _ => (
                    "unclean_restart",
                    Severity::High,
                    "no shutdown lines: the process was killed (SIGKILL, OOM killer or host loss)"
                        .to_string(),
                ),
            };
            let down_from = match a.end {
                EndClass::Clean => a
                    .shutdown
                    .as_ref()
                    .and_then(|x| x.ts())
                    .or(last.as_ref().and_then(|x| x.ts())),
                // The kernel line says when it died; the last line may be
                // long before (a server serving quietly logs nothing).
                EndClass::OomKilled => a
                    .oom_kill
                    .and_then(|k| k.ts())
                    .or(last.as_ref().and_then(|x| x.ts())),
                _ => last.as_ref().and_then(|x| x.ts()),
            };
            let mut s = format!(
                "{} restarted: pid {} ended at {} ({how}); pid {} started {} and was ready at {} ({} unavailable).",
                c.name(n),
                a.pid,
                hms(last.as_ref().and_then(|x| x.ts())),
                b.pid,
                hms(start.as_ref().and_then(|x| x.ts())),
                hms(up.as_ref().and_then(|x| x.ts())),
                dur(down_from, up.as_ref().and_then(|x| x.ts())),
            );
            let mut ev = Vec::new();
            if a.end == EndClass::Clean {
                push(&mut ev, a.shutdown);
                push(&mut ev, a.exit);
            } else {
                push(&mut ev, a.fatal);
                push(&mut ev, last);
                push(&mut ev, a.oom_kill);
            }
            push(&mut ev, start);
            // After an unclean end the reloaded file is all that survived:
            // writes newer than its age are lost (P10).
            let age = (a.end != EndClass::Clean)
                .then(|| {
                    c.first(
                        &["rdb_age"],
                        start.as_ref().and_then(|x| x.ts()).unwrap_or(i64::MIN),
                        up.as_ref().and_then(|x| x.ts()).unwrap_or(i64::MAX),
                        |x| x.lifetime() == w[1],
                    )
                })
                .flatten();
            push(&mut ev, age.map(|g| c.ev(g).cite()));
            if let Some((k, cite)) = &b.keys_loaded {
                s.push_str(&format!(" Loaded {k} keys"));
                if let Some((k0, _)) = &a.keys_loaded {
                    if (*k as f64) < (*k0 as f64) * 0.5 {
                        s.push_str(&format!(" (previous start loaded {k0}: data lost)"));
                        sev = sev.max(Severity::High);
                    }
                }
                push(&mut ev, Some(*cite));
            }
            if let Some((secs, cite)) = &b.load_secs {
                s.push_str(&format!(" in {secs} s"));
                push(&mut ev, Some(*cite));
            }
            if b.keys_loaded.is_some() || b.load_secs.is_some() {
                s.push('.');
            }
            if let Some(g) = age {
                let secs = c.ev(g).num(t, "age").unwrap_or(0.0);
                s.push_str(&format!(
                    " The file it loaded was {secs} s old: writes from about {} until the process died were lost.",
                    hms(c.ev(g).ts().map(|ts| ts - (secs * 1000.0) as i64))
                ));
            }
            if cold && up.is_some() {
                s.push_str(" Nothing was loaded from disk before serving: the node started with an empty dataset (cold cache; persistence off or no RDB/AOF).");
                if a.end != EndClass::Clean {
                    sev = Severity::High;
                } else {
                    sev = sev.max(Severity::Medium);
                }
                // The key delta FC3 asks for: what the previous start had.
                if let Some((k0, cite)) = a.keys_loaded.as_ref().filter(|(k0, _)| *k0 > 0) {
                    s.push_str(&format!(
                        " The previous start loaded {k0} keys: they are lost."
                    ));
                    ev.insert(0, *cite);
                    sev = sev.max(Severity::High);
                }
            }
            push(&mut ev, up);
            out.push(Incident {
                kind,
                severity: sev,
                start: down_from.or(start.as_ref().and_then(|x| x.ts())),
                end: up.as_ref().and_then(|x| x.ts()),
                nodes: vec![n],
                summary: s,
                evidence: ev,
            });
        }
        // Restart loop: consecutive lifetimes that never became ready.
        let aborted: Vec<usize> = node
            .lifetimes
            .iter()
            .copied()
            .filter(|&l| t.lifetimes[l].ready.is_none() && t.lifetimes[l].fatal.is_some())
            .collect();
        if aborted.len() >= 2 {
            let mut ev = Vec::new();
            for &l in &aborted {
                push(&mut ev, t.lifetimes[l].first);
                push(&mut ev, t.lifetimes[l].fatal);
            }
            let first = t.lifetimes[aborted[0]].first.as_ref().and_then(|x| x.ts());
            let lastc = t.lifetimes[*aborted.last().unwrap_or(&aborted[0])]
                .fatal
                .as_ref()
                .and_then(|x| x.ts());
            out.push(Incident {
                kind: "restart_loop",
                severity: Severity::Critical,
                start: first,
                end: lastc,
                nodes: vec![n],
                summary: format!(
                    "{} failed to start {} times between {} and {}: {}.",
                    c.name(n),
                    aborted.len(),
                    hms(first),
                    hms(lastc),
                    t.lifetimes[aborted[0]].fatal_text.as_deref().unwrap_or("")
                ),
                evidence: ev,
            });
        }
        // Fold node by node: thousands of restarts of one node need not
        // all be held at once.
        fold_repeats(out, from);
    }
}

fn primary_of(c: &Ctx, replica: usize, before: i64) -> Option<usize> {
    let t = c.t;
    let conn = c.last(
        &["connecting_primary", "replicaof"],
        before - 3_600_000,
        before,
        |e| e.node() == replica && (e.kind() == "connecting_primary" || e.kind() == "replicaof"),
    )?;
    port_of(c.ev(conn).txt(t, "addr")?).and_then(|p| c.node_by_port(p))
}

/// FC7: a replica lost its primary.
fn replication_breaks(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    let ix = c.ix;
    for &i in ix.of("primary_lost") {
        let e = c.ev(i);
        if c.used.contains(&i) {
            continue;
        }
        let Some(ts) = e.ts() else { continue };
        let r = e.node();
        let p = primary_of(c, r, ts);
        // The primary lifetime that ended near the loss.
        // The first (in start order) whose last line is within 10 s.
        let p_lt = p.and_then(|pn| {
            let v = &c.last_by_time[pn];
            let a = v.partition_point(|&(x, _)| x < ts.saturating_sub(10_000));
            let b = v.partition_point(|&(x, _)| x <= ts.saturating_add(10_000));
            let k = v[a.min(b)..b].iter().map(|&(_, k)| k).min()?;
            Some(t.nodes[pn].lifetimes[k])
        });
        let p_next = p_lt.and_then(|l| c.next_lifetime(l));
        // Recovery on the replica: a partial or full resync.
        let horizon = ts + 3_600_000;
        let psync = c.first(&["psync_ok"], ts, horizon, |x| {
            x.node() == r && x.kind() == "psync_ok"
        });
        let full = c.first(&["full_resync"], ts, horizon, |x| {
            x.node() == r && x.kind() == "full_resync"
        });
        let recovered = match (psync, full) {
            (Some(a), Some(b)) => Some(if c.ev(a).ts() <= c.ev(b).ts() { a } else { b }),
            (a, b) => a.or(b),
        };
        let is_full = recovered.is_some() && recovered == full;
        let refused = c.find(
            &["primary_unreachable"],
            ts,
            recovered.and_then(|x| c.ev(x).ts()).unwrap_or(horizon),
            |x| x.node() == r && x.kind() == "primary_unreachable",
        );
        let flush = full.and_then(|f| {
            c.first(&["sync_flush"], c.ev(f).ts().unwrap_or(ts), horizon, |x| {
                x.node() == r && x.kind() == "sync_flush"
            })
        });
        let loaded = full.and_then(|f| {
            c.first(&["keys_loaded"], c.ev(f).ts().unwrap_or(ts), horizon, |x| {
                x.node() == r && x.kind() == "keys_loaded"
            })
        });
        let done = full.and_then(|f| {
            c.first(&["sync_done"], c.ev(f).ts().unwrap_or(ts), horizon, |x| {
                x.node() == r && x.kind() == "sync_done"
            })
        });
        let mismatch = p.and_then(|pn| {
            c.first(
                &["psync_replid_mismatch"],
                ts,
                recovered.and_then(|x| c.ev(x).ts()).unwrap_or(horizon),
                |x| x.node() == pn && x.kind() == "psync_replid_mismatch",
            )
        });
        // Keys the replica held before: its last load before the break.
        let before = c
            .last(&["keys_loaded"], ts - 86_400_000, ts, |x| {
                x.node() == r && x.kind() == "keys_loaded"
            })
            .and_then(|k| c.ev(k).num(t, "loaded"));
        let after = loaded.and_then(|k| c.ev(k).num(t, "loaded"));
        if let Some(f) = full {
            c.used.insert(f);
        }
        let pname = p.map_or("its primary".to_string(), |pn| {
            format!("primary {}", c.name(pn))
        });
        let mut s = format!("Replica {} lost {pname} at {}.", c.name(r), hms(Some(ts)));
        let mut sev = Severity::Medium;
        let mut planned = false;
        if let Some(l) = p_lt {
            let lt = &t.lifetimes[l];
            let why = match lt.end {
                EndClass::Clean => {
                    planned = true;
                    "the primary was shut down on request (planned)"
                }
                EndClass::Crash => "the primary crashed",
                EndClass::FatalExit => "the primary exited on a fatal error",
                EndClass::OomKilled => "the primary was killed by the kernel OOM killer",
                _ => "the primary process died with no shutdown lines (killed)",
            };
            s.push_str(&format!(
                " Cause: {why}; its last line was at {}.",
                hms(lt.last.as_ref().and_then(|x| x.ts()))
            ));
        } else {
            s.push_str(" The primary's own log shows no restart at that time: network problem or a stalled primary.");
        }
        if !refused.is_empty() {
            s.push_str(&format!(" {} reconnect attempts failed", refused.len()));
            if let Some(rs) = refused.last() {
                s.push_str(&format!(" until {}", hms(c.ev(*rs).ts())));
            }
            s.push('.');
        }
        if let Some(nx) = p_next {
            let b = &t.lifetimes[nx];
            s.push_str(&format!(
                " The primary came back at {}",
                hms(b.ready.as_ref().and_then(|x| x.ts()))
            ));
            if b.keys_loaded.is_none() && b.load_secs.is_none() {
                s.push_str(" with an empty dataset (nothing loaded from disk)");
            }
            s.push('.');
        }
        match recovered {
            Some(x) if is_full => {
                s.push_str(&format!(
                    "{} A full resync followed: {} → {} ({})",
                    if mismatch.is_some() {
                        " Its replication ID had changed, so the partial resync was refused."
                    } else {
                        ""
                    },
                    hms(c.ev(x).ts()),
                    hms(done.and_then(|d| c.ev(d).ts())),
                    dur(c.ev(x).ts(), done.and_then(|d| c.ev(d).ts())),
                ));
                match (before, after) {
                    (Some(b), Some(a)) => {
                        s.push_str(&format!(
                            "; the replica's dataset went from {b} to {a} keys"
                        ));
                        if a < b * 0.5 {
                            s.push_str(" (data loss)");
                            sev = Severity::Critical;
                        }
                    }
                    (None, Some(a)) => s.push_str(&format!("; {a} keys loaded")),
                    _ => {}
                }
                s.push('.');
                sev = sev.max(Severity::High);
            }
            Some(x) => {
                s.push_str(&format!(
                    " Recovered by a partial resync at {} ({} after the loss).",
                    hms(c.ev(x).ts()),
                    dur(Some(ts), c.ev(x).ts())
                ));
                sev = Severity::Low;
            }
            None => s.push_str(" No resync within the logs."),
        }
        if planned && !is_full {
            sev = Severity::Info;
        }
        let mut ev = Vec::new();
        push(&mut ev, p_lt.and_then(|l| t.lifetimes[l].last));
        push(&mut ev, Some(e.cite()));
        push(&mut ev, refused.first().map(|&x| c.ev(x).cite()));
        if let Some(nx) = p_next {
            push(&mut ev, t.lifetimes[nx].first);
            push(&mut ev, t.lifetimes[nx].ready);
        }
        push(&mut ev, mismatch.map(|x| c.ev(x).cite()));
        for x in [recovered, flush, loaded, done] {
            push(&mut ev, x.map(|x| c.ev(x).cite()));
        }
        let mut nodes = vec![r];
        if let Some(pn) = p {
            nodes.insert(0, pn);
        }
        out.push(Incident {
            kind: "replication_break",
            severity: sev,
            start: Some(ts),
            end: done.or(recovered).and_then(|x| c.ev(x).ts()),
            nodes,
            summary: s,
            evidence: ev,
        });
    }
}

/// FC6: full resyncs of replicas that already had data, and resync loops.
fn full_resyncs(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    let mut per_node: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for &i in c.ix.of("full_resync") {
        per_node.entry(c.ev(i).node()).or_default().push(i);
    }
    let mut nodes: Vec<_> = per_node.into_iter().collect();
    nodes.sort_by_key(|(n, _)| *n);
    for (n, list) in nodes {
        // Loop: ≥3 within 60 min.
        if list.len() >= 3 {
            let ts: Vec<i64> = list.iter().filter_map(|&i| c.ev(i).ts()).collect();
            if let Some(w) = ts.windows(3).find(|w| w[2] - w[0] <= 3_600_000) {
                let from = w[0];
                let last = ts.last().copied().unwrap_or(from);
                // The primary closing a replica connection (flags=S) over its
                // output buffer limit, with the `omem` it had reached (FC6
                // cites it).
                let overflows = c.find(&["output_buffer_limit"], from - 60_000, last, |x| {
                    x.kind() == "output_buffer_limit"
                        && x.txt(t, "client").is_some_and(|cl| {
                            client_field(cl, "flags").is_some_and(|f| f.contains('S'))
                        })
                });
                let omem = overflows
                    .iter()
                    .filter_map(|&x| c.ev(x).txt(t, "client"))
                    .filter_map(|cl| client_field(cl, "omem")?.parse::<f64>().ok())
                    .fold(None, |m: Option<f64>, o| Some(m.map_or(o, |m| m.max(o))));
                let buffer_cause = (!overflows.is_empty()).then(|| match omem {
                    Some(o) => format!(
                        "replica output buffer limit too small (client-output-buffer-limit replica): the primary dropped the replica {} times, at up to {} of output buffer",
                        overflows.len(),
                        bytes(o)
                    ),
                    None => "replica output buffer limit too small (client-output-buffer-limit replica)".to_string(),
                });
                // Signal 10 is the primary itself stopping the sync's BGSAVE
                // once the replica is gone (P07): a consequence, not a cause.
                let fork_failed = c
                    .first(
                        &["sync_failed", "fork_failed", "bgsave_signal"],
                        from - 60_000,
                        last,
                        |x| {
                            matches!(x.kind(), "sync_failed" | "fork_failed")
                                || (x.kind() == "bgsave_signal" && x.num(t, "signal") != Some(10.0))
                        },
                    )
                    .is_some();
                let causes: Vec<String> = [
                    buffer_cause,
                    c.first(&["sync_timeout"], from - 60_000, last, |x| {
                        x.node() == n && x.kind() == "sync_timeout"
                    })
                    .map(|_| "repl-timeout too short for the dataset".to_string()),
                    c.first(&["psync_no_backlog"], from - 60_000, last, |x| {
                        x.kind() == "psync_no_backlog"
                    })
                    .map(|_| "repl-backlog-size too small".to_string()),
                    fork_failed.then(|| "fork failure on the primary".to_string()),
                    c.first(
                        &["sync_io_error", "sync_load_failed"],
                        from - 60_000,
                        last,
                        |x| {
                            x.node() == n
                                && matches!(x.kind(), "sync_io_error" | "sync_load_failed")
                        },
                    )
                    .map(|_| "replica-side disk or memory error".to_string()),
                ]
                .into_iter()
                .flatten()
                .collect();
                let recovered = c.first(&["sync_done"], last, last + 3_600_000, |x| {
                    x.node() == n && x.kind() == "sync_done"
                });
                let mut ev = Vec::new();
                for &i in &list {
                    c.used.insert(i);
                    push(&mut ev, Some(c.ev(i).cite()));
                }
                for &x in overflows.iter().take(8) {
                    push(&mut ev, Some(c.ev(x).cite()));
                }
                push(&mut ev, recovered.map(|x| c.ev(x).cite()));
                let mut s = format!(
                    "Replica {} did {} full resyncs between {} and {}{}. Each attempt forks the primary for a new RDB, and one that reaches loading wipes the replica.",
                    c.name(n),
                    list.len(),
                    hms(Some(from)),
                    hms(Some(last)),
                    if causes.is_empty() { String::new() } else { format!("; likely cause: {}", causes.join("; ")) }
                );
                if let Some(r) = recovered {
                    s.push_str(&format!(
                        " A sync finally completed at {}.",
                        hms(c.ev(r).ts())
                    ));
                }
                out.push(Incident {
                    kind: "full_resync_loop",
                    severity: Severity::High,
                    start: Some(from),
                    end: ts.last().copied(),
                    nodes: vec![n],
                    summary: s,
                    evidence: ev,
                });
                continue;
            }
        }
        for i in list {
            if c.used.contains(&i) {
                continue;
            }
            let e = c.ev(i);
            let Some(ts) = e.ts() else { continue };
            let lt = &t.lifetimes[e.lifetime()];
            let tried = c.last(&["psync_try"], ts - 600_000, ts, |x| {
                x.node() == n && x.kind() == "psync_try"
            });
            let had_data = lt.keys_loaded.as_ref().is_some_and(|(k, _)| *k > 0)
                || tried.is_some_and(|p| c.ev(p).num(t, "offset").is_some_and(|o| o > 1.0))
                || c.first(
                    &["sync_done"],
                    lt.first.as_ref().and_then(|x| x.ts()).unwrap_or(i64::MIN),
                    ts - 1,
                    |x| x.lifetime() == e.lifetime() && x.kind() == "sync_done",
                )
                .is_some();
            if !had_data {
                continue;
            }
            let recv = c.first(&["sync_receiving"], ts, ts + 3_600_000, |x| {
                x.node() == n && x.kind() == "sync_receiving"
            });
            let done = c.first(&["sync_done"], ts, ts + 3_600_000, |x| {
                x.node() == n && x.kind() == "sync_done"
            });
            let loaded = c.first(&["keys_loaded"], ts, ts + 3_600_000, |x| {
                x.node() == n && x.kind() == "keys_loaded"
            });
            let mut s = format!(
                "Replica {} needed a full resync at {}",
                c.name(n),
                hms(Some(ts))
            );
            if let Some(r) = recv.and_then(|r| c.ev(r).num(t, "bytes")) {
                s.push_str(&format!(" of {}", bytes(r)));
            }
            s.push_str(&format!(
                ", finished {} ({})",
                hms(done.and_then(|d| c.ev(d).ts())),
                dur(Some(ts), done.and_then(|d| c.ev(d).ts()))
            ));
            if let Some(k) = loaded.and_then(|k| c.ev(k).num(t, "loaded")) {
                s.push_str(&format!(", {k} keys loaded"));
            }
            s.push_str("; its previous data was flushed.");
            let mut ev = Vec::new();
            push(&mut ev, tried.map(|x| c.ev(x).cite()));
            push(&mut ev, Some(e.cite()));
            for x in [recv, loaded, done] {
                push(&mut ev, x.map(|x| c.ev(x).cite()));
            }
            out.push(Incident {
                kind: "full_resync",
                severity: Severity::Medium,
                start: Some(ts),
                end: done.and_then(|d| c.ev(d).ts()),
                nodes: vec![n],
                summary: s,
                evidence: ev,
            });
        }
    }
}

/// FC1/FC2/FC4: failed BGSAVEs, fork failures and AOF write errors.
fn persistence(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    const FAIL: &[&str] = &[
        "fork_failed",
        "aof_fork_failed",
        "rdb_open_failed",
        "rdb_write_error",
        "rdb_rename_error",
        "rdb_fsync_dir_error",
        "bgsave_error",
        "bgsave_signal",
        "aof_write_error",
        "aof_short_write",
        "aof_fatal_exit",
        "sync_failed",
        "aof_rewrite_error",
        "aof_rewrite_signal",
        "shutdown_failed",
    ];
    let fails = c.ix.merged(FAIL);
    let mut ends_and_fails = FAIL.to_vec();
    ends_and_fails.extend(["bgsave_ok", "aof_write_recovered"]);
    let window = c.ix.merged(&ends_and_fails);
    for &i in &fails {
        let e = c.ev(i);
        if c.used.contains(&i) || (e.kind() == "bgsave_signal" && e.num(t, "signal") == Some(10.0))
        {
            continue;
        }
        let lt = e.lifetime();
        let n = e.node();
        let start = e.ts();
        // The window: failures of the same lifetime until a success.
        let mut members = vec![i];
        let mut end_ev = None;
        let horizon = start.unwrap_or(i64::MIN).saturating_add(3_600_000);
        let from = window.partition_point(|&j| j <= i);
        for &j in window[from..].iter().take_while(|&&j| c.ts(j) <= horizon) {
            let x = c.ev(j);
            if x.lifetime() == lt {
                if FAIL.contains(&x.kind()) {
                    members.push(j);
                } else {
                    end_ev = Some(j);
                    break;
                }
            }
        }
        for &m in &members {
            c.used.insert(m);
        }
        let kinds: Vec<&str> = members.iter().map(|&m| c.ev(m).kind()).collect();
        let class = members
            .iter()
            .find_map(|&m| super::catalog::errno_name(c.ev(m).errno));
        let fatal = members
            .iter()
            .copied()
            .find(|&m| c.ev(m).kind() == "aof_fatal_exit");
        let fork = kinds
            .iter()
            .any(|k| matches!(*k, "fork_failed" | "aof_fork_failed"));
        let killed = members
            .iter()
            .copied()
            .find(|&m| c.ev(m).kind() == "bgsave_signal" && c.ev(m).num(t, "signal") == Some(9.0));
        let aof = kinds
            .iter()
            .any(|k| matches!(*k, "aof_write_error" | "aof_short_write" | "aof_fatal_exit"));
        let rdb = kinds.iter().any(|k| {
            matches!(
                *k,
                "bgsave_error"
                    | "rdb_open_failed"
                    | "rdb_write_error"
                    | "rdb_rename_error"
                    | "bgsave_signal"
                    | "fork_failed"
            )
        });
        let kind = if class == Some("disk full") {
            "disk_full"
        } else if fork {
            "fork_failed"
        } else if killed.is_some() {
            "bgsave_killed"
        } else if aof && !rdb {
            "aof_write_error"
        } else {
            "bgsave_failed"
        };
        let end_ts = end_ev.and_then(|x| c.ev(x).ts());
        let last_ts = members.last().and_then(|&m| c.ev(m).ts());
        let mut s = format!(
            "{} on {} at {}",
            match kind {
                "disk_full" => "Disk full",
                "fork_failed" => "Fork failed",
                "bgsave_killed" => "BGSAVE child killed by SIGKILL",
                "aof_write_error" => "AOF write error",
                _ => "BGSAVE failed",
            },
            c.name(n),
            hms(start)
        );
        let cause = members.iter().map(|&m| c.ev(m)).find(|x| {
            matches!(
                x.kind(),
                "rdb_open_failed"
                    | "rdb_write_error"
                    | "fork_failed"
                    | "aof_fork_failed"
                    | "aof_write_error"
                    | "aof_short_write"
            )
        });
        if let Some(cause) = cause {
            let detail = cause.txt(t, "reason").map(|r| r.to_string()).or_else(|| {
                cause.num(t, "written").map(|w| {
                    format!(
                        "short write: {} of {} bytes written",
                        w,
                        cause.num(t, "expected").unwrap_or(0.0)
                    )
                })
            });
            if let Some(d) = detail {
                s.push_str(&format!(": {d}"));
            }
        }
        if let Some(cl) = class.filter(|cl| !s.to_ascii_lowercase().contains(cl)) {
            s.push_str(&format!(" ({cl})"));
        }
        s.push('.');
        let mut sev = Severity::High;
        // FC2: a child killed with signal 9 that the kernel OOM killer
        // named (its P02 pid), with the previous fork's copy-on-write peak
        // and the memory warnings as contributing factors.
        let child = c.fork_before(lt, start.unwrap_or(0));
        let oom = killed.zip(child).and_then(|(_, b)| {
            let pid = c.ev(b).num(t, "pid")?;
            // Kernel stamps may be whole seconds (`dmesg -T`): allow one
            // second before the fork's line.
            let from = c.ev(b).ts()? - 1_000;
            c.first(&["kernel_oom_kill"], from, start? + 5_000, |x| {
                x.num(t, "pid") == Some(pid)
            })
        });
        let mut factors = Vec::new();
        if let Some(k) = oom {
            c.used.insert(k);
            let kev = c.ev(k);
            let cgroup = kev.pattern().starts_with("Memory cgroup");
            s.push_str(&format!(
                " The kernel OOM killer killed it (pid {}, {}) at {}: {}, most likely copy-on-write of pages written during the save; anon-rss {}.",
                kev.num(t, "pid").unwrap_or(0.0),
                kev.txt(t, "comm").unwrap_or("?"),
                hms(kev.ts()),
                if cgroup { "the memory cgroup's limit was reached" } else { "host memory ran out" },
                kev.num(t, "anon_rss_kb").map_or("unknown".to_string(), |k| bytes(k * 1024.0))
            ));
            if let Some(cow) = c.last(&["fork_cow"], i64::MIN, c.ts(child.unwrap_or(k)), |x| {
                x.node() == n
            }) {
                s.push_str(&format!(
                    " The previous fork's copy-on-write peaked at {} MB ({}).",
                    c.ev(cow)
                        .num(t, "peak")
                        .or(c.ev(cow).num(t, "mb"))
                        .unwrap_or(0.0),
                    hms(c.ev(cow).ts())
                ));
                factors.push(cow);
            }
            sev = Severity::Critical;
        }
        // The memory warnings matter to a fork that ran out of memory or a
        // child the OOM killer took, not to one refused a new task (EAGAIN).
        let task_limit = class.is_some_and(|cl| cl.contains("EAGAIN"));
        if task_limit {
            s.push_str(" The process or its cgroup may not create another task (RLIMIT_NPROC, pids.max): not a memory problem.");
        }
        if (fork && !task_limit) || oom.is_some() {
            for (kind, what) in [
                ("overcommit_disabled", "vm.overcommit_memory is not 1"),
                (
                    "thp_enabled",
                    "transparent huge pages are enabled (larger copy-on-write)",
                ),
            ] {
                if let Some(w) = c.last(&[kind], i64::MIN, start.unwrap_or(0), |x| x.node() == n) {
                    s.push_str(&format!(
                        " Contributing factor: {what} (warned at {}).",
                        hms(c.ev(w).ts())
                    ));
                    factors.push(w);
                }
            }
        }
        factors.sort_by_key(|&f| c.ts(f));
        if rdb {
            match end_ts {
                Some(_) => s.push_str(&format!(
                    " With save points configured and stop-writes-on-bgsave-error yes (the default), writes were rejected with -MISCONF (inferred, not logged) from {} until the next successful BGSAVE at {} ({}).",
                    hms(start), hms(end_ts), dur(start, end_ts)
                )),
                None => s.push_str(&format!(
                    " With save points configured and stop-writes-on-bgsave-error yes (the default), writes were rejected with -MISCONF (inferred, not logged) from {} with no successful BGSAVE afterwards in the logs.",
                    hms(start)
                )),
            }
        }
        if aof && fatal.is_none() {
            if kinds.contains(&"aof_write_recovered")
                || end_ev.is_some_and(|x| c.ev(x).kind() == "aof_write_recovered")
            {
                s.push_str(&format!(
                    " AOF writes failed until {} (writes rejected with -MISCONF meanwhile).",
                    hms(end_ts)
                ));
            } else {
                s.push_str(" AOF writes kept failing; writes were rejected with -MISCONF until the end of the logs for this process.");
            }
        }
        if let Some(f) = fatal {
            s.push_str(&format!(
                " With appendfsync always the server exited at {}.",
                hms(c.ev(f).ts())
            ));
            sev = Severity::Critical;
        }
        if members.len() > 1 {
            s.push_str(&format!(" {} failure lines in this window.", members.len()));
        }
        let mut ev = Vec::new();
        for &f in &factors {
            push(&mut ev, Some(c.ev(f).cite()));
        }
        // The child's start line, unless the fork failed (then there was
        // no child, and an earlier save's start would mislead).
        if let Some(b) = child {
            if (rdb && !fork) || oom.is_some() {
                push(&mut ev, Some(c.ev(b).cite()));
            }
        }
        push(&mut ev, oom.map(|k| c.ev(k).cite()));
        for &m in members.iter().take(8) {
            push(&mut ev, Some(c.ev(m).cite()));
        }
        push(&mut ev, end_ev.map(|x| c.ev(x).cite()));
        out.push(Incident {
            kind,
            severity: sev,
            start,
            end: end_ts.or(fatal.and_then(|f| c.ev(f).ts())).or(last_ts),
            nodes: vec![n],
            summary: s,
            evidence: ev,
        });
    }
}

/// FC9 (residual): `Cluster state changed: fail` windows not explained by a
/// failover incident.
fn cluster_down(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    let ix = c.ix;
    for &i in ix.of("cluster_state") {
        let e = c.ev(i);
        if e.txt(t, "state") != Some("fail") || c.used.contains(&i) {
            continue;
        }
        let Some(ts) = e.ts() else {
            continue;
        };
        // Group fails across nodes within 60 s.
        let fails = c.find(&["cluster_state"], ts, ts + 60_000, |x| {
            x.kind() == "cluster_state" && x.txt(t, "state") == Some("fail")
        });
        let nodes: Vec<usize> = {
            let mut v: Vec<usize> = fails.iter().map(|&f| c.ev(f).node()).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        let oks: Vec<usize> = nodes
            .iter()
            .filter_map(|&n| {
                c.first(&["cluster_state"], ts, ts + 86_400_000, |x| {
                    x.node() == n && x.kind() == "cluster_state" && x.txt(t, "state") == Some("ok")
                })
            })
            .collect();
        let end = if oks.len() == nodes.len() {
            oks.iter().filter_map(|&o| c.ev(o).ts()).max()
        } else {
            None
        };
        let planned = c.find(&["shutdown_requested"], ts - 30_000, ts, |x| {
            x.kind() == "shutdown_requested"
        });
        for f in &fails {
            c.used.insert(*f);
        }
        let mut s = format!(
            "Cluster state changed to fail at {} on {} node(s) ({})",
            hms(Some(ts)),
            nodes.len(),
            nodes
                .iter()
                .map(|&n| c.name(n))
                .collect::<Vec<_>>()
                .join(", ")
        );
        match end {
            Some(_) => s.push_str(&format!(
                "; ok again at {} ({}).",
                hms(end),
                dur(Some(ts), end)
            )),
            None => s.push_str("; not ok again within the logs."),
        }
        let sev = if !planned.is_empty() {
            let who: Vec<String> = planned
                .iter()
                .map(|&p| c.name(c.ev(p).node()).to_string())
                .collect();
            s.push_str(&format!(
                " It followed the requested shutdown of {} (planned stop, not a failure).",
                who.join(", ")
            ));
            Severity::Info
        } else {
            Severity::High
        };
        let mut ev = Vec::new();
        for &p in planned.iter().take(3) {
            push(&mut ev, Some(c.ev(p).cite()));
        }
        for &f in fails.iter().take(4) {
            push(&mut ev, Some(c.ev(f).cite()));
        }
        for &o in oks.iter().take(4) {
            push(&mut ev, Some(c.ev(o).cite()));
        }
        out.push(Incident {
            kind: "cluster_down",
            severity: sev,
            start: Some(ts),
            end,
            nodes,
            summary: s,
            evidence: ev,
        });
    }
}

/// FC11: output-buffer disconnections, and cross-protocol attack warnings.
fn clients(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    for (i, group) in c.bursts("output_buffer_limit", 600_000) {
        let e = c.ev(i);
        let Some(ts) = e.ts() else { continue };
        let client = e.txt(t, "client").unwrap_or("");
        let flags = client_field(client, "flags").unwrap_or("");
        let replica = flags.contains('S');
        let what = if replica {
            "replica connection (flags=S): the primary's client-output-buffer-limit replica is too small for the write rate during sync"
        } else if flags.contains('P') {
            "pub/sub subscriber (flags=P) not reading fast enough"
        } else if flags.contains('O') {
            "MONITOR client"
        } else {
            "normal client with a large or unread reply"
        };
        let mut details = Vec::new();
        if let Some(cmd) = client_field(client, "cmd") {
            details.push(format!("cmd={cmd}"));
        }
        if let Some(om) = client_field(client, "omem").and_then(|v| v.parse::<f64>().ok()) {
            details.push(format!("output memory {}", bytes(om)));
        }
        if !c.redact {
            if let Some(a) = client_field(client, "addr") {
                details.push(format!("addr={a}"));
            }
        }
        let last = group.last().and_then(|&g| c.ev(g).ts());
        let s = format!(
            "{} client(s) on {} were disconnected for exceeding output buffer limits between {} and {}; first: {what} ({}).",
            group.len(),
            c.name(e.node()),
            hms(Some(ts)),
            hms(last),
            details.join(", ")
        );
        let sev = if replica || group.len() >= 5 {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(Incident {
            kind: if replica {
                "replica_output_buffer"
            } else {
                "output_buffer_disconnect"
            },
            severity: sev,
            start: Some(ts),
            end: last,
            nodes: vec![e.node()],
            summary: s,
            evidence: group.iter().take(10).map(|&g| c.ev(g).cite()).collect(),
        });
    }
    for e in c.ix.of("security_attack").iter().map(|&i| c.ev(i)) {
        out.push(Incident {
            kind: "security_attack",
            severity: Severity::Medium,
            start: e.ts(),
            end: e.ts(),
            nodes: vec![e.node()],
            summary: format!(
                "{} received HTTP-like input (POST/Host:) at {}: a cross-protocol attack or a misdirected HTTP client; the connection was closed. Check who can reach this port.",
                c.name(e.node()),
                hms(e.ts())
            ),
            evidence: vec![e.cite()],
        });
    }
}

/// FC5: AOF fsync stalls.
fn fsync_stalls(c: &mut Ctx, out: &mut Vec<Incident>) {
    // A child ends with success, an error or a signal (killed, or stopped
    // by the parent); a restart of the parent ends it too (same lifetime).
    const ENDS: &[&str] = &[
        "bgsave_ok",
        "bgsave_error",
        "bgsave_signal",
        "aof_rewrite_ok",
        "aof_rewrite_done",
        "aof_rewrite_error",
        "aof_rewrite_signal",
    ];
    for (i, group) in c.bursts("aof_fsync_slow", 600_000) {
        let e = c.ev(i);
        let Some(ts) = e.ts() else { continue };
        // The persistence child running at each stall, if any: its start
        // and (cited) end.
        let mut forks: Vec<(usize, Option<usize>)> = Vec::new();
        let mut during_fork = 0;
        for &g in &group {
            let (gt, lt) = (c.ev(g).ts().unwrap_or(0), c.ev(g).lifetime());
            let same = |x: &Event| x.node() == e.node() && x.lifetime() == lt;
            let Some(s) = c.fork_before(lt, gt) else {
                continue;
            };
            let st = c.ev(s).ts().unwrap_or(0);
            if c.first(ENDS, st, gt, same).is_some() {
                continue;
            }
            during_fork += 1;
            if !forks.iter().any(|f| f.0 == s) {
                let end = c.first(ENDS, gt, gt + 3_600_000, same);
                forks.push((s, end));
            }
        }
        let last = group.last().and_then(|&g| c.ev(g).ts());
        let share = during_fork as f64 / group.len() as f64;
        let verdict = if share >= 0.7 {
            "disk saturated by the persistence child (BGSAVE/AOF rewrite)"
        } else {
            "slow or noisy disk"
        };
        let minutes = (last.unwrap_or(ts) - ts).max(60_000) as f64 / 60_000.0;
        let mut evidence: Vec<Cite> = group.iter().take(10).map(|&g| c.ev(g).cite()).collect();
        // The child's start and end lines justify "during a fork".
        for &(s, end) in forks.iter().take(3) {
            push(&mut evidence, Some(c.ev(s).cite()));
            push(&mut evidence, end.map(|x| c.ev(x).cite()));
        }
        out.push(Incident {
            kind: "aof_fsync_stall",
            severity: if group.len() >= 3 { Severity::Medium } else { Severity::Low },
            start: Some(ts),
            end: last,
            nodes: vec![e.node()],
            summary: format!(
                "{} AOF fsync stall(s) on {} between {} and {} ({:.1} per minute; {} during a fork): {verdict}. Writes wait on the disk, so latency spikes.",
                group.len(),
                c.name(e.node()),
                hms(Some(ts)),
                hms(last),
                group.len() as f64 / minutes,
                during_fork
            ),
            evidence,
        });
    }
}

/// FC10 and FC2: memory exhaustion and the kernel OOM killer.
fn memory(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    let ix = c.ix;
    let main_pids: HashSet<u32> = t.lifetimes.iter().map(|l| l.pid).collect();
    let killed: HashMap<(usize, u64), usize> = t
        .lifetimes
        .iter()
        .enumerate()
        .filter_map(|(l, lt)| lt.oom_kill.map(|k| ((k.file(), k.line()), l)))
        .collect();
    let anchors = ix.merged(&[
        "oom_allocation",
        "maxmemory_lowered",
        "client_eviction_exhausted",
        "kernel_oom_kill",
    ]);
    // The node whose fork child had each pid.
    let child_node: HashMap<u32, usize> = ix
        .merged(FORK_STARTS)
        .into_iter()
        .filter_map(|i| Some((c.ev(i).num(t, "pid")? as u32, c.ev(i).node())))
        .collect();
    for (i, e) in anchors.into_iter().map(|i| (i, c.ev(i))) {
        let Some(ts) = e.ts() else { continue };
        if c.used.contains(&i) {
            continue;
        }
        if e.kind() == "kernel_oom_kill" {
            if let Some(&l) = killed.get(&(e.file(), e.line())) {
                out.push(oom_killed_server(c, e, l));
                continue;
            }
        }
        let (kind, sev, s) = match e.kind() {
            "oom_allocation" => ("memory_exhaustion", Severity::Critical, format!(
                "{} failed to allocate {} at {} (malloc returned NULL: host or cgroup memory exhausted, not maxmemory); the server aborts.",
                c.name(e.node()), bytes(e.num(t, "bytes").unwrap_or(0.0)), hms(Some(ts)))),
            "maxmemory_lowered" => ("memory_exhaustion", Severity::High, format!(
                "maxmemory on {} was lowered at {} below current usage ({} < {}): mass eviction or -OOM errors follow.",
                c.name(e.node()), hms(Some(ts)), bytes(e.num(t, "new").unwrap_or(0.0)), bytes(e.num(t, "used").unwrap_or(0.0)))),
            "client_eviction_exhausted" => ("memory_exhaustion", Severity::High, format!("{} is over maxmemory-clients even after evicting every evictable client ({}).", c.name(e.node()), hms(Some(ts)))),
            "kernel_oom_kill" => {
                let pid = e.num(t, "pid").unwrap_or(0.0) as u32;
                let main = main_pids.contains(&pid);
                let child = child_node.contains_key(&pid);
                let who = if main { "the server process itself" } else if child { "a persistence fork child (BGSAVE/rewrite): copy-on-write exhausted memory" } else { "a process" };
                ("oom_kill", Severity::Critical, format!(
                    "The kernel OOM killer killed pid {pid} ({}) at {}: {who}; anon-rss {}.",
                    e.txt(t, "comm").unwrap_or("?"), hms(Some(ts)), bytes(e.num(t, "anon_rss_kb").unwrap_or(0.0) * 1024.0)))
            }
            _ => continue,
        };
        let node = if e.kind() == "kernel_oom_kill" {
            e.num(t, "pid")
                .and_then(|p| child_node.get(&(p as u32)).copied())
                .unwrap_or(e.node())
        } else {
            e.node()
        };
        out.push(Incident {
            kind,
            severity: sev,
            start: Some(ts),
            end: Some(ts),
            nodes: vec![node],
            summary: s,
            evidence: vec![e.cite()],
        });
    }
    // Rising RDB memory across saves/restarts (≥3 points, each higher).
    let mut per_node: Vec<Vec<&Event>> = vec![Vec::new(); t.nodes.len()];
    for e in ix.of("rdb_memory").iter().map(|&i| c.ev(i)) {
        if e.ts().is_some() {
            if let Some(v) = per_node.get_mut(e.node()) {
                v.push(e);
            }
        }
    }
    for (n, pts) in per_node.into_iter().enumerate() {
        if pts.len() >= 3
            && pts
                .windows(2)
                .all(|w| w[1].num(t, "mb") > w[0].num(t, "mb"))
        {
            let (a, b) = (pts[0], pts[pts.len() - 1]);
            let (ma, mb) = (a.num(t, "mb").unwrap_or(0.0), b.num(t, "mb").unwrap_or(0.0));
            let hours =
                ((b.ts().unwrap_or(0) - a.ts().unwrap_or(0)) as f64 / 3_600_000.0).max(1e-6);
            out.push(Incident {
                kind: "memory_growth",
                severity: Severity::Low,
                start: a.ts(),
                end: b.ts(),
                nodes: vec![n],
                summary: format!("Dataset memory on {} grew from {ma:.2} MB to {mb:.2} MB over {} ({:.2} MB/h) across {} RDB loads.", c.name(n), dur(a.ts(), b.ts()), (mb - ma) / hours, pts.len()),
                evidence: pts.iter().map(|e| e.cite()).collect(),
            });
        }
    }
}

/// FC2: the kernel OOM killer killed a server process (the lifetime the
/// timeline tied to the kernel line): what was killed, when it had last
/// logged, and whether and when it came back.
fn oom_killed_server(c: &Ctx, e: &Event, l: usize) -> Incident {
    let t = c.t;
    let lt = &t.lifetimes[l];
    let next = c.next_lifetime(l);
    let back = next.and_then(|n| t.lifetimes[n].ready.or(t.lifetimes[n].first));
    let mut s = format!(
        "The kernel OOM killer killed the server process of {} (pid {}, {}) at {}; anon-rss {}. Its last line was at {}.",
        c.name(lt.node),
        lt.pid,
        e.txt(t, "comm").unwrap_or("?"),
        hms(e.ts()),
        e.num(t, "anon_rss_kb")
            .map_or("unknown".to_string(), |k| bytes(k * 1024.0)),
        hms(lt.last.and_then(|x| x.ts())),
    );
    match back {
        Some(b) => s.push_str(&format!(
            " It restarted and was serving again at {} ({} down).",
            hms(b.ts()),
            dur(e.ts(), b.ts())
        )),
        None => s.push_str(" No restart in these logs."),
    }
    let cgroup = e.pattern().starts_with("Memory cgroup");
    s.push_str(if cgroup {
        " Its memory cgroup's limit was reached: check maxmemory against that limit"
    } else {
        " Host memory ran out: check maxmemory against the host's memory"
    });
    // A fork in the lifetime's last hour adds its copy-on-write.
    let kill_ts = e.ts().unwrap_or(i64::MAX);
    let forked = c.fork_before(l, kill_ts).is_some();
    s.push_str(if forked {
        ", and the copy-on-write of the fork that ran before the kill."
    } else {
        " (a maxmemory of 0, the default, leaves the dataset unbounded)."
    });
    let mut ev = Vec::new();
    push(&mut ev, lt.last);
    push(&mut ev, Some(e.cite()));
    if let Some(n) = next {
        push(&mut ev, t.lifetimes[n].first);
        push(&mut ev, t.lifetimes[n].ready);
    }
    Incident {
        kind: "oom_kill",
        severity: Severity::Critical,
        start: e.ts(),
        end: back.and_then(|b| b.ts()).or(e.ts()),
        nodes: vec![lt.node],
        summary: s,
        evidence: ev,
    }
}

/// FC12: a blocked event loop, and the false failure detection it causes.
fn blocked_loop(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    for e in
        c.ix.merged(&["slow_script", "watchdog"])
            .into_iter()
            .map(|i| c.ev(i))
    {
        let Some(ts) = e.ts() else { continue };
        let port = t.nodes[e.node()].port;
        // The line comes `ms` into the script (busy-reply-threshold, 5 s by
        // default): a short node timeout can mark the node down before it.
        let since = ts - e.num(t, "ms").unwrap_or(0.0) as i64;
        let sd = port.and_then(|p| {
            c.first(&["sentinel_sdown"], since, ts + 90_000, |x| {
                x.kind() == "sentinel_sdown" && x.num(t, "port") == Some(f64::from(p))
            })
        });
        let ids = &t.nodes[e.node()].cluster_ids;
        let cf = c.first(
            &["cluster_marking_failed", "cluster_fail_received"],
            since,
            ts + 90_000,
            |x| {
                matches!(x.kind(), "cluster_marking_failed" | "cluster_fail_received")
                    && x.txt(t, "node").is_some_and(|n| ids.iter().any(|i| i == n))
            },
        );
        let follow = sd.or(cf);
        // A killed script ends the block (a sentinel kills it when it
        // sees the primary down but still answering -BUSY).
        let killed = if e.kind() == "slow_script" {
            c.first(&["script_killed"], ts, ts + 3_600_000, |x| {
                x.node() == e.node()
            })
        } else {
            None
        };
        // FC12: a failover that follows is secondary to the block.
        let switch = port.and_then(|p| {
            c.first(&["sentinel_switch_master"], ts, ts + 120_000, |x| {
                x.num(t, "old_port") == Some(f64::from(p))
            })
        });
        let what = if e.kind() == "slow_script" {
            let mut w = format!(
                "a script was still running after {} ms",
                e.num(t, "ms").unwrap_or(0.0)
            );
            if let Some(name) = e.txt(t, "script") {
                w.push_str(&format!(" (script {name})"));
            }
            if let Some(k) = killed {
                w.push_str(&format!(
                    " and was killed with SCRIPT KILL at {}",
                    hms(c.ev(k).ts())
                ));
            }
            w
        } else {
            "the watchdog fired (event loop blocked)".to_string()
        };
        let mut s = format!(
            "Event loop of {} blocked at {}: {what}; every client got -BUSY or waited.",
            c.name(e.node()),
            hms(Some(ts))
        );
        if let Some(f) = follow {
            s.push_str(&format!(" It was then marked down ({} at {}): a false failure detection caused by the block, not a crash.", c.ev(f).kind(), hms(c.ev(f).ts())));
        }
        if let Some(w) = switch {
            s.push_str(&format!(
                " Sentinels failed it over to port {} at {} (see sentinel_failover): a consequence of the block.",
                c.ev(w).num(t, "new_port").unwrap_or(0.0),
                hms(c.ev(w).ts())
            ));
        }
        // The cluster equivalent: a replica won an election once the node
        // was marked failing.
        let won = cf.and_then(|f| {
            let ft = c.ev(f).ts()?;
            c.first(&["cluster_failover_won"], ft, ft + 60_000, |_| true)
        });
        if let Some(w) = won {
            s.push_str(&format!(
                " {} then won a failover election at {} (see cluster_failover): a consequence of the block.",
                c.name(c.ev(w).node()),
                hms(c.ev(w).ts())
            ));
        }
        let mut ev = vec![e.cite()];
        push(&mut ev, follow.map(|f| c.ev(f).cite()));
        push(&mut ev, killed.map(|k| c.ev(k).cite()));
        let end = [follow, killed]
            .into_iter()
            .flatten()
            .filter_map(|x| c.ev(x).ts())
            .max();
        out.push(Incident {
            kind: "blocked_event_loop",
            severity: if follow.is_some() {
                Severity::High
            } else {
                Severity::Medium
            },
            start: Some(ts),
            end: end.or(Some(ts)),
            nodes: vec![e.node()],
            summary: s,
            evidence: ev,
        });
    }
}

/// FC13: configuration hazards, one summary per node (latest occurrence).
fn config_hazards(c: &mut Ctx, out: &mut Vec<Incident>) {
    let t = c.t;
    const HAZ: &[(&str, &str)] = &[
        (
            "overcommit_disabled",
            "vm.overcommit_memory is not 1 (fork may fail under memory pressure)",
        ),
        (
            "thp_enabled",
            "Transparent Huge Pages enabled (latency, CoW amplification)",
        ),
        ("tcp_backlog_low", "somaxconn lower than tcp-backlog"),
        (
            "no_config_file",
            "started without a config file (defaults for persistence and maxmemory)",
        ),
        (
            "maxclients_reduced",
            "maxclients reduced by a low ulimit -n",
        ),
        ("slow_clocksource", "slow clocksource"),
        ("maxmemory_tiny", "maxmemory below 1MB"),
    ];
    // Latest event of each hazard kind, per node.
    let mut latest: HashMap<(usize, &str), usize> = HashMap::new();
    for (k, _) in HAZ {
        for &i in c.ix.of(k) {
            latest.insert((c.ev(i).node(), *k), i);
        }
    }
    for (n, _) in t.nodes.iter().enumerate() {
        let mut found = Vec::new();
        let mut ev = Vec::new();
        for (k, d) in HAZ {
            if let Some(&i) = latest.get(&(n, *k)) {
                found.push(*d);
                ev.push(c.ev(i).cite());
            }
        }
        if found.is_empty() {
            continue;
        }
        let ts = ev.iter().filter_map(|x| x.ts()).max();
        out.push(Incident {
            kind: "config_hazard",
            severity: Severity::Info,
            start: ts,
            end: ts,
            nodes: vec![n],
            summary: format!(
                "Configuration hazards on {}: {}.",
                c.name(n),
                found.join("; ")
            ),
            evidence: ev,
        });
    }
}

#[cfg(test)]
mod fold_tests {
    use super::*;

    fn cite(line: u64, ts: i64) -> Cite {
        Cite::new(0, line, line * 100, Some(ts))
    }

    fn inc(kind: &'static str, node: usize, k: i64, severity: Severity) -> Incident {
        Incident {
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

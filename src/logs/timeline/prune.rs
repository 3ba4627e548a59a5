//! Pruning: what a long archive's analysis lets go of once a window has
//! been analysed.
//!
//! Events older than the cut (and undated ones of lifetimes that go)
//! leave the timeline; those the listing may
//! still show (the most severe, up to `--timeline-limit`) are held aside
//! with their values and crash reports, the rest only counted. Lifetimes
//! that ended before the cut, and that neither a retained event, the
//! line-by-line state nor a successor started after the cut still points
//! to, leave too: their node counts them by
//! how they ended and holds the latest [`LIFETIMES_LISTED`] for the JSON
//! listing. Crash reports nothing retained points to are dropped. What is
//! held is put back into the timeline when it is finished, after the last
//! window's rules ran, so that the rules only ever see the window.

use std::collections::{HashMap, VecDeque};

use super::settle::{file_key, own_port, start_key};
use super::*;
use crate::fasthash::FastSet;

/// Whether an event of the named node at a time is wanted.
pub type Wanted = dyn Fn(&str, Option<i64>) -> bool + Send + Sync;

/// Which pruned events the listing may show, as `logs` renders it.
pub struct Listing {
    /// At most this many are listed.
    pub limit: usize,
    /// Whether events below medium severity may be listed (JSON, until
    /// more than `limit` match).
    pub low: bool,
    /// Whether an event of the named node at a time is listed at all
    /// (`--node`, `--since`, `--until`).
    pub wanted: Box<Wanted>,
}

/// What the write-up (`report --logs`) reads of the events a window lets
/// go: those at the lines the incidents found so far cite, and those of
/// the kinds it reads (saves, resyncs, loads) near an incident's start or
/// the dump's save. Held aside with their values, put back at the end.
pub struct Writeup {
    kinds: &'static [&'static str],
    dump_ctime: Option<i64>,
    /// Lines the incidents found so far cite, as (file, line).
    cited: FastSet<(usize, u64)>,
    /// Starts of the incidents found so far, in order.
    starts: Vec<i64>,
}

/// How long after an incident's start (or before the dump's save) the
/// write-up looks for events of its kinds; it reads up to
/// [`crate::logs::window::CONTEXT_MS`] after the save.
const WRITEUP_REACH_MS: i64 = 3_600_000;

impl Writeup {
    /// Holds events of `kinds` (and, with the dump's `ctime` in ms, those
    /// around its save).
    pub fn new(kinds: &'static [&'static str], dump_ctime: Option<i64>) -> Writeup {
        Writeup {
            kinds,
            dump_ctime,
            cited: FastSet::default(),
            starts: Vec::new(),
        }
    }

    /// Notes incidents a window found: their start and the lines they cite.
    pub fn note(&mut self, start: Option<i64>, cites: impl IntoIterator<Item = (usize, u64)>) {
        self.cited.extend(cites);
        if let Some(s) = start {
            let at = self.starts.partition_point(|&x| x <= s);
            self.starts.insert(at, s);
        }
    }

    fn wants(&self, e: &Event) -> bool {
        if self.cited.contains(&(e.file(), e.line())) {
            return true;
        }
        let Some(ts) = e.ts().filter(|_| self.kinds.contains(&e.kind())) else {
            return false;
        };
        let near_dump = self.dump_ctime.is_some_and(|c| {
            (c - WRITEUP_REACH_MS..=c + crate::logs::window::CONTEXT_MS).contains(&ts)
        });
        let k = self.starts.partition_point(|&s| s <= ts);
        near_dump || k > 0 && ts - self.starts[k - 1] <= WRITEUP_REACH_MS
    }
}

/// What pruning held aside for the finished timeline.
#[derive(Default)]
pub(super) struct Held {
    events: Vec<Event>,
    caps: CapArena,
    crashes: Vec<Crash>,
    /// Pruned events the listing wanted: all, and those of medium
    /// severity and above.
    matching: (u64, u64),
    /// Whether only medium-and-above events can still be listed.
    capped: bool,
    /// Per node, its latest pruned lifetimes.
    lifetimes: Vec<VecDeque<Lifetime>>,
}

impl Held {
    /// Counts an event that is gone for good (`caps` holds its values).
    fn gone(t: &mut Timeline, e: &Event, caps: Option<&CapArena>) {
        let caps = caps.unwrap_or(&t.caps);
        let killed =
            e.kind() == "bgsave_signal" && catalog::num(e.caps_in(caps), "signal") != Some(10.0);
        t.events_gone += 1;
        t.bgsave_killed_gone += u64::from(killed);
    }

    /// Holds `e` (pruned from `t`) if the listing may show it.
    fn offer(&mut self, t: &mut Timeline, e: Event, listing: Option<&Listing>) {
        let wanted = listing.is_some_and(|l| {
            let name = t.nodes.get(e.node()).map_or("", |n| n.name.as_str());
            (l.wanted)(name, e.ts())
        });
        if !wanted {
            Held::gone(t, &e, None);
            return;
        }
        let medium = e.severity >= Severity::Medium;
        self.matching.0 += 1;
        self.matching.1 += u64::from(medium);
        if self.capped && !medium {
            Held::gone(t, &e, None);
            return;
        }
        self.hold(t, e);
    }

    /// Holds `e` (pruned from `t`) with its values and crash report.
    fn hold(&mut self, t: &mut Timeline, mut e: Event) {
        // Its values leave with it (the window's arena is compacted next).
        e.caps = self.caps.push(t.caps.take(e.caps, e.ncaps));
        if let Some(c) = e.crash() {
            self.crashes.push(t.crashes[c as usize].clone());
            e.crash = (self.crashes.len() - 1) as u32;
        }
        self.events.push(e);
    }

    /// Holds a copy of `e` (still in `t`, which keeps deciding on it),
    /// marked as held for the write-up alone; it is counted as an event
    /// by neither.
    fn hold_copy(&mut self, t: &Timeline, e: &Event) {
        let mut c = e.clone();
        c.writeup_only = true;
        c.caps = self.caps.push(t.caps.get(e.caps, e.ncaps).to_vec());
        if let Some(k) = e.crash() {
            self.crashes.push(t.crashes[k as usize].clone());
            c.crash = (self.crashes.len() - 1) as u32;
        }
        self.events.push(c);
    }

    /// Drops the held copies of events that the other [`Held`] put back
    /// (`kept`: their file and line).
    fn without(mut self, kept: &FastSet<(usize, u64)>) -> Held {
        if !kept.is_empty() {
            self.events
                .retain(|e| !(e.writeup_only && kept.contains(&(e.file(), e.line()))));
        }
        self
    }

    /// Puts the held events back into `t` (unsorted).
    fn restore(mut self, t: &mut Timeline) {
        let base = t.crashes.len();
        t.crashes.extend(self.crashes);
        move_caps(&mut self.events, &mut self.caps, &mut t.caps);
        for mut e in self.events {
            if let Some(c) = e.crash() {
                e.crash = (base + c as usize) as u32;
            }
            // Its lifetime may be gone: the rules, the only readers of an
            // event's lifetime, have run.
            e.lifetime = 0;
            t.events.push(e);
        }
    }

    /// Keeps what the listing can still show: once more events matched
    /// than it lists (or it lists only medium and above), those below
    /// medium go; past the limit, the most severe stay.
    fn trim(&mut self, t: &mut Timeline, listing: Option<&Listing>) {
        let Some(l) = listing else { return };
        if !self.capped && (!l.low || t.events_trimmed || self.matching.0 > l.limit as u64) {
            self.capped = true;
        }
        let before = self.events.len();
        if self.capped {
            let (keep, drop): (Vec<Event>, Vec<Event>) = std::mem::take(&mut self.events)
                .into_iter()
                .partition(|e| e.severity >= Severity::Medium);
            for e in &drop {
                Held::gone(t, e, Some(&self.caps));
            }
            self.events = keep;
        }
        if self.events.len() > l.limit {
            // Undated events leave with their lifetime, so may come after
            // later ones: "earlier first" is in timeline order.
            sort_events(&mut self.events);
            let sev: Vec<Severity> = self.events.iter().map(|e| e.severity).collect();
            let keep = crate::logs::most_severe(&sev, l.limit);
            let mut next = keep.iter().copied().peekable();
            let all = std::mem::take(&mut self.events);
            for (k, e) in all.into_iter().enumerate() {
                if next.peek() == Some(&k) {
                    next.next();
                    self.events.push(e);
                } else {
                    Held::gone(t, &e, Some(&self.caps));
                }
            }
        }
        if self.events.len() < before {
            // Values and reports of the events let go.
            let mut caps = CapArena::default();
            move_caps(&mut self.events, &mut self.caps, &mut caps);
            let mut crashes = Vec::new();
            for e in &mut self.events {
                if let Some(c) = e.crash() {
                    crashes.push(std::mem::take(&mut self.crashes[c as usize]));
                    e.crash = (crashes.len() - 1) as u32;
                }
            }
            self.caps = caps;
            self.crashes = crashes;
        }
    }
}

impl Builder {
    /// Lets go of what lies wholly before `cutoff` (see the module doc).
    /// Call it right after the window was settled and analysed.
    pub fn prune(&mut self, cutoff: i64) {
        // A process's lines without events come as a span held until the
        // pid starts again or the file ends: one that ended before the cut
        // is folded now, into the lifetime it belongs to; one that goes on
        // keeps its lifetime.
        let mut spans_pin = Vec::new();
        for k in 0..self.cur.len() {
            let mut cur = self.cur.remove(k);
            let by_pid = self.states.get(&cur.set).map(|st| &st.by_pid);
            let mut due = Vec::new();
            for (p, s) in &cur.spans {
                let Some(&l) = by_pid.and_then(|m| m.get(p)) else {
                    continue;
                };
                match s.last_stamp {
                    Some(line::Stamp::Abs(ms)) if ms < cutoff => due.push(*p),
                    _ => spans_pin.push(l),
                }
            }
            if let (Some(m), true) = (by_pid, self.spans_due.0 == cur.fidx) {
                spans_pin.extend(self.spans_due.1.iter().filter_map(|p| m.get(p)));
            }
            due.sort_unstable();
            for p in due {
                if let Some(s) = cur.spans.remove(&p) {
                    self.take(&mut cur, Item::Span(s));
                }
            }
            self.cur.insert(k, cur);
        }
        let t = &mut self.t;
        let listing = self.listing.as_ref();
        // Each node's latest event of a kind the rules remember stays.
        let mut remember: HashMap<(usize, &str), usize> = HashMap::new();
        for (i, e) in t.events.iter().enumerate() {
            if e.ts().is_some_and(|ts| ts < cutoff)
                && crate::logs::rules::REMEMBERED.contains(&e.kind())
            {
                remember.insert((e.node(), e.kind()), i);
            }
        }
        let mut stays_ev: Vec<bool> = t
            .events
            .iter()
            .map(|e| e.ts().is_none_or(|ts| ts >= cutoff))
            .collect();
        for &i in remember.values() {
            stays_ev[i] = true;
        }

        // Lifetimes: those something still points to stay, and each node's
        // latest (its end depends on whether another follows).
        let n = t.lifetimes.len();
        let mut pinned = vec![false; n];
        for l in spans_pin {
            pinned[l] = true;
        }
        for (e, _) in t
            .events
            .iter()
            .zip(&stays_ev)
            .filter(|(e, &s)| s && e.ts().is_some())
        {
            pinned[e.lifetime()] = true;
        }
        for st in self.states.values() {
            for l in st.current.into_iter().chain(st.crash_open.map(|c| c.1)) {
                pinned[l] = true;
            }
        }
        for node in &t.nodes {
            if let Some(&l) = node.lifetimes.last() {
                pinned[l] = true;
            }
            // A restart is told once the next process starts, however long
            // the node was down: the process before one that started after
            // the cut stays with it.
            for w in node.lifetimes.windows(2) {
                let next = t.lifetimes[w[1]].first.and_then(|c| c.ts());
                if next.is_none_or(|ts| ts >= cutoff) {
                    pinned[w[0]] = true;
                }
            }
        }
        let before = |c: Option<Cite>| c.and_then(|c| c.ts()).is_some_and(|ts| ts < cutoff);
        let stays: Vec<bool> = t
            .lifetimes
            .iter()
            .zip(&pinned)
            .map(|(lt, &p)| p || !before(lt.last.or(lt.first)))
            .collect();

        // Events, in time order: an undated one (a crash report's banner
        // has no stamp) goes with its lifetime.
        let old = std::mem::take(&mut t.events);
        let mut events = Vec::with_capacity(old.len());
        for (e, stay) in old.into_iter().zip(stays_ev) {
            let gone = !stay || e.ts().is_none() && !stays[e.lifetime()];
            if !gone {
                events.push(e);
                continue;
            }
            if let Some(k) = self.settle.kernel_gone.get_mut(e.node()) {
                *k = Some(k.unwrap_or(true) && e.id().starts_with('O'));
            }
            match &mut self.writeup {
                // With a listing too, the listing decides on the event as
                // it would alone, and the write-up keeps a copy.
                Some((w, held)) if w.wants(&e) && listing.is_some() => {
                    held.hold_copy(t, &e);
                    self.held.offer(t, e, listing);
                }
                Some((w, held)) if w.wants(&e) => held.hold(t, e),
                _ => self.held.offer(t, e, listing),
            }
        }
        t.events = events;
        self.held.trim(t, listing);

        let mut map = vec![usize::MAX; n];
        let mut kept = Vec::with_capacity(n);
        self.held
            .lifetimes
            .resize_with(t.nodes.len(), VecDeque::new);
        for (i, mut lt) in std::mem::take(&mut t.lifetimes).into_iter().enumerate() {
            if stays[i] {
                map[i] = kept.len();
                kept.push(lt);
                continue;
            }
            if own_port(&lt) {
                self.settle
                    .memo
                    .insert(file_key(&lt), (lt.port, lt.mode.clone()));
            }
            let node = &mut t.nodes[lt.node];
            if node.is_kernel() {
                continue;
            }
            node.gone += 1;
            match node.gone_ends.iter_mut().find(|(e, _)| *e == lt.end) {
                Some(c) => c.1 += 1,
                None => node.gone_ends.push((lt.end, 1)),
            }
            lt.crash = None;
            lt.node_fixed = true;
            let list = &mut self.held.lifetimes[lt.node];
            list.push_back(lt);
            if list.len() > LIFETIMES_LISTED {
                list.pop_front();
            }
        }
        t.lifetimes = kept;
        for e in &mut t.events {
            e.lifetime = map[e.lifetime()] as u32;
        }
        for node in &mut t.nodes {
            node.lifetimes.retain(|&l| map[l] != usize::MAX);
            for l in &mut node.lifetimes {
                *l = map[*l];
            }
        }
        for st in self.states.values_mut() {
            st.current = st.current.map(|l| map[l]);
            if let Some((_, l)) = &mut st.crash_open {
                *l = map[*l];
            }
            st.by_pid.retain(|_, l| map[*l] != usize::MAX);
            st.children.retain(|_, l| map[*l] != usize::MAX);
            for l in st.by_pid.values_mut().chain(st.children.values_mut()) {
                *l = map[*l];
            }
        }

        // Crash reports something still points to.
        let mut cmap = vec![usize::MAX; t.crashes.len()];
        let mut pin = |c: usize| cmap[c] = 0;
        t.events
            .iter()
            .filter_map(|e| e.crash())
            .for_each(|c| pin(c as usize));
        t.lifetimes
            .iter()
            .filter_map(|l| l.crash)
            .for_each(&mut pin);
        self.states
            .values()
            .filter_map(|st| st.crash_open)
            .for_each(|(c, _)| pin(c));
        let mut crashes = Vec::new();
        for (i, c) in std::mem::take(&mut t.crashes).into_iter().enumerate() {
            if cmap[i] == 0 {
                cmap[i] = crashes.len();
                crashes.push(c);
            }
        }
        t.crashes = crashes;
        for e in &mut t.events {
            if let Some(c) = e.crash() {
                e.crash = cmap[c as usize] as u32;
            }
        }
        for l in &mut t.lifetimes {
            l.crash = l.crash.map(|c| cmap[c]);
        }
        for st in self.states.values_mut() {
            if let Some((c, _)) = &mut st.crash_open {
                *c = cmap[*c];
            }
        }
        compact_caps(t);
    }

    /// Puts back what pruning held for the listing: events (in time
    /// order) and each node's latest lifetimes before those retained.
    pub(super) fn put_back(&mut self) {
        let mut held = std::mem::take(&mut self.held);
        let t = &mut self.t;
        let (listed, listed_medium) = held.events.iter().fold((0, 0), |(a, m), e| {
            (a + 1, m + u64::from(e.severity >= Severity::Medium))
        });
        t.unlisted = (held.matching.0 - listed, held.matching.1 - listed_medium);
        let lifetimes = std::mem::take(&mut held.lifetimes);
        let listed: FastSet<(usize, u64)> = match &self.writeup {
            Some(_) => held.events.iter().map(|e| (e.file(), e.line())).collect(),
            None => FastSet::default(),
        };
        held.restore(t);
        if let Some((_, w)) = self.writeup.take() {
            w.without(&listed).restore(t);
        }
        sort_events(&mut t.events);
        for (node, list) in lifetimes.into_iter().enumerate() {
            if list.is_empty() {
                continue;
            }
            let mut ids: Vec<usize> =
                Vec::with_capacity(list.len() + t.nodes[node].lifetimes.len());
            for lt in list {
                let n = &mut t.nodes[node];
                n.gone -= 1;
                if let Some(c) = n.gone_ends.iter_mut().find(|(e, _)| *e == lt.end) {
                    c.1 -= 1;
                }
                ids.push(t.lifetimes.len());
                t.lifetimes.push(lt);
            }
            let n = &mut t.nodes[node];
            n.gone_ends.retain(|c| c.1 > 0);
            ids.append(&mut n.lifetimes);
            // A retained one may have started before one let go (it was
            // kept for what still pointed to it).
            let lts = &t.lifetimes;
            ids.sort_by_key(|&l| start_key(&lts[l]));
            t.nodes[node].lifetimes = ids;
        }
    }
}

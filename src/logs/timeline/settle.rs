//! Settling what has been read: ports, nodes, end classes, OOM kills and
//! time order.
//!
//! Runs once at the end of a run and, on a long archive, each time the
//! retained window is analysed before it is pruned (see [`super::prune`]).
//! Whatever must outlive the lifetimes it came from is kept in [`Settle`]:
//! the port each file last printed (so a lifetime pruned long ago still
//! lends its port to the next one), nodes by set and port (so nodes keep
//! their numbers and incidents found earlier stay valid), and the sets each
//! port was seen in (so names are those of the whole run). Settling only
//! what is retained, with that state, gives what settling everything at
//! once gives; a run that never prunes settles once, at the end.

use std::collections::HashMap;
use std::sync::Arc;

use super::{sort_events, EndClass, Lifetime, Node, Timeline, KERNEL_MODE};
use crate::logs::catalog;

type PortMode = (Option<u32>, Option<Arc<str>>);

/// Where a lifetime's port may come from: its set and the file of its
/// first line.
type FileKey = (usize, Option<usize>);

/// The state of settling that outlives pruned lifetimes.
#[derive(Default)]
pub(super) struct Settle {
    /// Per set and file: the port and mode of the latest pruned lifetime
    /// that printed its own.
    pub(super) memo: HashMap<FileKey, PortMode>,
    /// Node by (set, port), and each node's key.
    node_of: HashMap<(usize, Option<u32>), usize>,
    keys: Vec<(usize, Option<u32>)>,
    /// The sets each port was seen in.
    port_sets: HashMap<u32, Vec<usize>>,
    /// Per node: whether every pruned event was a kernel line (`None`
    /// before any was pruned).
    pub(super) kernel_gone: Vec<Option<bool>>,
}

pub(super) fn file_key(lt: &Lifetime) -> FileKey {
    (lt.set, lt.first.as_ref().map(|c| c.file()))
}

/// A node's lifetimes are in this order: by their first line's time, then
/// place.
pub(super) fn start_key(lt: &Lifetime) -> (i64, usize, u64) {
    let c = lt.first.as_ref();
    (
        c.and_then(|c| c.ts()).unwrap_or(i64::MIN),
        c.map_or(0, |c| c.file()),
        c.map_or(0, |c| c.line()),
    )
}

/// Whether a lifetime printed its port itself (a source for neighbours
/// without one).
pub(super) fn own_port(lt: &Lifetime) -> bool {
    lt.port.is_some() && !lt.inherited
}

impl Settle {
    fn name(&self, sets: &[String], (set, port): (usize, Option<u32>)) -> String {
        let set_name = sets.get(set).cloned().unwrap_or_default();
        match port {
            Some(p) if self.port_sets.get(&p).is_some_and(|v| v.len() == 1) => format!(":{p}"),
            Some(p) => format!("{set_name}:{p}"),
            None => set_name,
        }
    }
}

/// Settles the retained lifetimes and events. `last` fixes every
/// lifetime's node (no neighbour can arrive to lend it a port).
pub(super) fn settle(t: &mut Timeline, sets: &[String], s: &mut Settle, last: bool) {
    // Lifetimes without a port inherit one from a neighbour in the same set
    // and file (a log that starts mid-run has no `Running mode` line):
    // the nearest earlier one with a port of its own, else the nearest
    // later one. One pass each way.
    let n = t.lifetimes.len();
    let mut fill: Vec<Option<PortMode>> = vec![None; n];
    let mut near = s.memo.clone();
    for (i, lt) in t.lifetimes.iter().enumerate() {
        if own_port(lt) {
            near.insert(file_key(lt), (lt.port, lt.mode.clone()));
        } else if !lt.node_fixed {
            fill[i] = near.get(&file_key(lt)).cloned();
        }
    }
    near.clear();
    for (i, lt) in t.lifetimes.iter().enumerate().rev() {
        if own_port(lt) {
            near.insert(file_key(lt), (lt.port, lt.mode.clone()));
        } else if !lt.node_fixed && fill[i].is_none() {
            fill[i] = near.get(&file_key(lt)).cloned();
        }
    }
    // A lifetime with its own port, or at the end of the run, keeps what
    // it has now; one still waiting for a later neighbour is placed by
    // what is known so far and settled again next time.
    let mut effective: Vec<PortMode> = Vec::with_capacity(n);
    for (lt, f) in t.lifetimes.iter_mut().zip(fill) {
        if !lt.node_fixed && (last || own_port(lt)) {
            if let Some((port, mode)) = f.clone().filter(|_| lt.port.is_none()) {
                lt.port = port;
                lt.inherited = true;
                if lt.mode.is_none() {
                    lt.mode = mode;
                }
            }
            lt.node_fixed = true;
        }
        effective.push(match f {
            Some((port, mode)) if !lt.node_fixed && lt.port.is_none() => {
                (port, lt.mode.clone().or(mode))
            }
            _ => (lt.port, lt.mode.clone()),
        });
    }
    // Nodes: (set, port). A port seen in several sets gets the set's name.
    for (lt, (port, _)) in t.lifetimes.iter().zip(&effective) {
        if let Some(p) = port {
            let v = s.port_sets.entry(*p).or_default();
            if !v.contains(&lt.set) {
                v.push(lt.set);
            }
        }
    }
    for node in &mut t.nodes {
        node.lifetimes.clear();
        if node.is_kernel() {
            node.mode = None;
        }
    }
    for (i, (port, mode)) in effective.into_iter().enumerate() {
        let k = (t.lifetimes[i].set, port);
        let idx = match s.node_of.get(&k) {
            Some(&idx) => idx,
            None => {
                let idx = t.nodes.len();
                s.node_of.insert(k, idx);
                s.keys.push(k);
                s.kernel_gone.push(None);
                t.nodes.push(Node {
                    name: String::new(),
                    port,
                    mode: None,
                    version: None,
                    lifetimes: Vec::new(),
                    files: Vec::new(),
                    cluster_ids: Vec::new(),
                    gone: 0,
                    gone_ends: Vec::new(),
                });
                idx
            }
        };
        let lt = &mut t.lifetimes[i];
        lt.node = idx;
        let node = &mut t.nodes[idx];
        node.lifetimes.push(i);
        if mode.is_some() {
            node.mode = mode;
        }
        if lt.version.is_some() {
            node.version = lt.version.clone();
        }
        if let Some(id) = &lt.cluster_id {
            if !node.cluster_ids.iter().any(|c| **c == **id) {
                node.cluster_ids.push(id.to_string());
            }
        }
        if let Some(f) = lt.first.as_ref().map(|c| c.file()) {
            if !node.files.contains(&f) {
                node.files.push(f);
            }
        }
    }
    for (node, &k) in t.nodes.iter_mut().zip(&s.keys) {
        node.name = s.name(sets, k);
    }
    // A port-less node whose every line came from the kernel (OOM killer
    // lines) is the host's kernel log, not a server.
    let mut kernel_only = s.kernel_gone.clone();
    for e in &mut t.events {
        e.node = t.lifetimes[e.lifetime()].node as u32;
        let k = &mut kernel_only[e.node as usize];
        *k = Some(k.unwrap_or(true) && e.id().starts_with('O'));
    }
    for (node, k) in t.nodes.iter_mut().zip(kernel_only) {
        if node.port.is_none() && node.mode.is_none() && k == Some(true) {
            node.mode = Some(Arc::from(KERNEL_MODE));
            node.lifetimes.clear();
        }
    }
    // Lifetimes of a node in time order, then end classes.
    for node in &mut t.nodes {
        node.lifetimes.sort_by_key(|&l| start_key(&t.lifetimes[l]));
        for (k, &l) in node.lifetimes.iter().enumerate() {
            let has_next = k + 1 < node.lifetimes.len();
            let lt = &mut t.lifetimes[l];
            lt.end = end_class(lt, has_next);
        }
    }
    mark_oom_kills(t);
    sort_events(&mut t.events);
}

/// How a lifetime ended, from its lines and whether another followed it
/// on its node.
fn end_class(lt: &Lifetime, has_next: bool) -> EndClass {
    if lt.crash.is_some() {
        EndClass::Crash
    } else if lt.exit.is_some() {
        EndClass::Clean
    } else if lt.fatal.is_some() {
        EndClass::FatalExit
    } else if lt.oom_kill.is_some() {
        // Tied to its kernel line when an earlier part of the run settled.
        EndClass::OomKilled
    } else if lt.shutdown.is_some() && has_next {
        EndClass::KilledInShutdown
    } else if has_next {
        EndClass::UnknownKill
    } else {
        EndClass::Running
    }
}

/// How far a process's last line may trail the kernel's OOM-kill line (the
/// kernel and the server stamp time independently, and the last line may be
/// written while the kill is under way).
pub(super) const OOM_SLACK_MS: i64 = 60_000;

/// Ties each kernel OOM-killer line (`Out of memory: Killed process N`) to
/// the server process it killed: the lifetime with that pid that had started
/// by then, had not logged past it, and did not end cleanly or by a crash.
/// That lifetime ends `oom-killed`, and the kernel line moves to its node
/// (it usually comes from another file, such as kern.log). A line tied once
/// stays tied.
fn mark_oom_kills(t: &mut Timeline) {
    let mut by_pid: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, lt) in t.lifetimes.iter().enumerate() {
        by_pid.entry(lt.pid).or_default().push(i);
    }
    let caps = &t.caps;
    for e in t
        .events
        .iter_mut()
        .filter(|e| !e.oom_tied && e.kind() == "kernel_oom_kill")
    {
        let (Some(pid), Some(ts)) = (catalog::num(e.caps_in(caps), "pid"), e.ts()) else {
            continue;
        };
        let Some(cands) = by_pid.get(&(pid as u32)) else {
            continue;
        };
        let best = cands
            .iter()
            .copied()
            .filter(|&l| {
                let lt = &t.lifetimes[l];
                lt.oom_kill.is_none()
                    && matches!(
                        lt.end,
                        EndClass::UnknownKill | EndClass::Running | EndClass::KilledInShutdown
                    )
                    && lt.first.and_then(|c| c.ts()).is_none_or(|f| f <= ts)
                    && lt
                        .last
                        .and_then(|c| c.ts())
                        .is_none_or(|l| l <= ts + OOM_SLACK_MS)
            })
            .max_by_key(|&l| {
                t.lifetimes[l]
                    .first
                    .and_then(|c| c.ts())
                    .unwrap_or(i64::MIN)
            });
        if let Some(l) = best {
            let lt = &mut t.lifetimes[l];
            lt.end = EndClass::OomKilled;
            lt.oom_kill = Some(e.cite());
            e.lifetime = l as u32;
            e.node = lt.node as u32;
            e.oom_tied = true;
        }
    }
}

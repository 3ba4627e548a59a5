//! Memory rules (FC10, FC2): allocation failures, maxmemory and the kernel
//! OOM killer.

use super::*;

/// FC10 and FC2: memory exhaustion and the kernel OOM killer.
pub(super) fn memory(c: &mut Ctx, out: &mut Sink) {
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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
    // A full sync's flush replaces the dataset with the primary's: loads on
    // either side of it are of different data, not one dataset growing.
    let mut flushes: Vec<Vec<i64>> = vec![Vec::new(); t.nodes.len()];
    for e in ix.of("sync_flush").iter().map(|&i| c.ev(i)) {
        if let (Some(ts), Some(v)) = (e.ts(), flushes.get_mut(e.node())) {
            v.push(ts);
        }
    }
    let runs = per_node.iter().enumerate().flat_map(|(n, pts)| {
        let cuts = &flushes[n];
        let flushed = |a: &&Event, b: &&Event| {
            let (a, b) = (a.ts().unwrap_or(0), b.ts().unwrap_or(0));
            cuts.iter().any(|&f| f > a && f <= b)
        };
        pts.chunk_by(move |a, b| !flushed(a, b))
            .map(move |run| (n, run))
    });
    for (n, pts) in runs {
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
                id: 0,
                claims: Vec::new(),
                caused_by: Vec::new(),
                led_to: Vec::new(),
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
pub(super) fn oom_killed_server(c: &Ctx, e: &Event, l: usize) -> Incident {
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
        id: 0,
        claims: Vec::new(),
        caused_by: Vec::new(),
        led_to: Vec::new(),
        kind: "oom_kill",
        severity: Severity::Critical,
        start: e.ts(),
        end: back.and_then(|b| b.ts()).or(e.ts()),
        nodes: vec![lt.node],
        summary: s,
        evidence: ev,
    }
}

//! Persistence rules: failed BGSAVEs, fork failures and AOF write errors
//! (FC1/FC2/FC4), AOF fsync stalls (FC5).

use super::*;

/// FC1/FC2/FC4: failed BGSAVEs, fork failures and AOF write errors.
pub(super) fn persistence(c: &mut Ctx, out: &mut Sink) {
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
            .find_map(|&m| crate::logs::catalog::errno_name(c.ev(m).errno));
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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

/// FC5: AOF fsync stalls.
pub(super) fn fsync_stalls(c: &mut Ctx, out: &mut Sink) {
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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

//! Replication rules: a replica losing its primary (FC7), full resyncs of
//! replicas that had data and resync loops (FC6).

use super::*;

pub(super) fn primary_of(c: &Ctx, replica: usize, before: i64) -> Option<usize> {
    let t = c.t;
    let conn = c.last(
        &["connecting_primary", "replicaof"],
        before - 3_600_000,
        before,
        |e| e.node() == replica && (e.kind() == "connecting_primary" || e.kind() == "replicaof"),
    )?;
    port_of(c.ev(conn).txt(t, "addr")?).and_then(|p| c.node_by_port(p))
}

/// The primary `p` dropping replica `r` in [from, to], the latest such line:
/// a `Disconnecting timedout replica` naming the replica's port, or the close
/// of a replica connection (`flags=S`) over its output buffer limit, which
/// names the connection's own address, so it is tied to the replica by the
/// `Connection with replica … lost` the primary logs with it.
pub(super) fn replica_dropped(c: &Ctx, p: usize, r: usize, from: i64, to: i64) -> Option<usize> {
    let t = c.t;
    let port = t.nodes[r].port;
    let names_r = |addr: Option<&str>| match (port, addr.and_then(port_of)) {
        (Some(a), Some(b)) => a == b,
        (None, _) => true,
        _ => false,
    };
    c.last(&["replica_timeout", "output_buffer_limit"], from, to, |x| {
        if x.node() != p {
            return false;
        }
        match x.kind() {
            "replica_timeout" => names_r(x.txt(t, "addr")),
            _ => {
                is_replica_client(c, x)
                    && c.first(
                        &["replica_lost"],
                        x.ts().unwrap_or(i64::MIN),
                        x.ts().unwrap_or(i64::MIN) + 1000,
                        |y| y.node() == p && names_r(y.txt(t, "addr")),
                    )
                    .is_some()
            }
        }
    })
}

/// An output-buffer close of a replica connection (`flags=S`).
pub(super) fn is_replica_client(c: &Ctx, x: &Event) -> bool {
    x.kind() == "output_buffer_limit"
        && x.txt(c.t, "client")
            .is_some_and(|cl| client_field(cl, "flags").is_some_and(|f| f.contains('S')))
}

/// Why the primary dropped a replica ([`replica_dropped`]), as a cause.
fn dropped_cause(c: &Ctx, d: usize) -> String {
    let e = c.ev(d);
    if e.kind() == "replica_timeout" {
        format!(
            "the primary dropped it at {} as a timed-out replica (`Disconnecting timedout replica`: nothing from the replica for repl-timeout; the replica was stalled or unreachable); the primary kept running",
            hms(e.ts())
        )
    } else {
        let omem = e
            .txt(c.t, "client")
            .and_then(|cl| client_field(cl, "omem")?.parse::<f64>().ok());
        format!(
            "the primary closed its connection at {} for overcoming its output buffer limit (client-output-buffer-limit replica{}); the primary kept running",
            hms(e.ts()),
            omem.map_or(String::new(), |o| format!(", {} queued", bytes(o)))
        )
    }
}

/// FC7: a replica lost its primary.
pub(super) fn replication_breaks(c: &mut Ctx, out: &mut Sink) {
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
        // The primary dropping this replica (a stall, a full output
        // buffer) since the previous loss: the primary was alive, and that
        // is the cause, whatever happens later.
        let since = c
            .last(&["primary_lost"], ts - 120_000, ts - 1, |x| x.node() == r)
            .map_or(ts - 120_000, |x| c.ts(x));
        let dropped = p.and_then(|pn| replica_dropped(c, pn, r, since, ts));
        // The primary lifetime that ended at the loss: the first (in start
        // order) whose last line is in the 10 s before it (1 s after, for
        // the order of lines written in the same millisecond). A primary
        // that stops later did not break this link.
        let p_lt = p.filter(|_| dropped.is_none()).and_then(|pn| {
            let v = &c.last_by_time[pn];
            let a = v.partition_point(|&(x, _)| x < ts.saturating_sub(10_000));
            let b = v.partition_point(|&(x, _)| x <= ts.saturating_add(1_000));
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
        // A partial resync came first: a later full resync (after a
        // restart of the replica, say) is another story, told by its own
        // incident.
        let full = full.filter(|_| is_full);
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
        let until = recovered.and_then(|x| c.ev(x).ts()).unwrap_or(horizon);
        let on_primary = |kind: &'static str| {
            p.and_then(|pn| c.first(&[kind], ts, until, |x| x.node() == pn && x.kind() == kind))
        };
        let mismatch = on_primary("psync_replid_mismatch");
        // The primary restarted from an older file: it holds the replica's
        // replication ID only up to that file's offset.
        let behind = on_primary("psync_offset_unavailable");
        let no_backlog = on_primary("psync_no_backlog");
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
        if let Some(d) = dropped {
            s.push_str(&format!(" Cause: {}.", dropped_cause(c, d)));
        } else if let Some(l) = p_lt {
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
        let refused_why = if let Some(b) = behind {
            let e = c.ev(b);
            let asked = e.num(t, "asked").unwrap_or(0.0);
            let upto = e.num(t, "upto").unwrap_or(0.0);
            sev = Severity::Critical;
            format!(
                " The primary had come back with an older dataset: at {} the replica asked to continue from offset {asked}, but the primary could reply only up to {upto} (`Requested offset for second ID`), so the replica's newer writes ({} of replication stream the primary no longer had) were discarded by the full resync: data lost.",
                hms(e.ts()),
                bytes((asked - upto).max(0.0))
            )
        } else if mismatch.is_some() {
            " Its replication ID had changed, so the partial resync was refused.".to_string()
        } else if let Some(b) = no_backlog {
            format!(
                " Its partial resync was refused at {} for lack of backlog (repl-backlog-size too small for what it missed).",
                hms(c.ev(b).ts())
            )
        } else {
            String::new()
        };
        match recovered {
            Some(x) if is_full => {
                s.push_str(&format!(
                    "{refused_why} A full resync followed: {} → {} ({})",
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
        push(&mut ev, dropped.map(|x| c.ev(x).cite()));
        push(&mut ev, p_lt.and_then(|l| t.lifetimes[l].last));
        push(&mut ev, Some(e.cite()));
        push(&mut ev, refused.first().map(|&x| c.ev(x).cite()));
        if let Some(nx) = p_next {
            push(&mut ev, t.lifetimes[nx].first);
            push(&mut ev, t.lifetimes[nx].ready);
        }
        for x in [mismatch, behind, no_backlog] {
            push(&mut ev, x.map(|x| c.ev(x).cite()));
        }
        for x in [recovered, flush, loaded, done] {
            push(&mut ev, x.map(|x| c.ev(x).cite()));
        }
        let mut nodes = vec![r];
        if let Some(pn) = p {
            nodes.insert(0, pn);
        }
        out.push(Incident {
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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
pub(super) fn full_resyncs(c: &mut Ctx, out: &mut Sink) {
    let t = c.t;
    let mut per_node: std::collections::HashMap<usize, Vec<usize>> =
        std::collections::HashMap::new();
    for &i in c.ix.of("full_resync") {
        per_node.entry(c.ev(i).node()).or_default().push(i);
    }
    let mut nodes: Vec<_> = per_node.into_iter().collect();
    nodes.sort_by_key(|(n, _)| *n);
    for (n, list) in nodes {
        // Loop: ≥3 within 60 min, each retry after the same kind of break
        // (an empty replica's first sync, a stall's resync and a resync
        // after a restart are not a loop).
        let list: Vec<usize> = list
            .into_iter()
            .filter(|&i| c.ev(i).ts().is_some())
            .collect();
        let causes: Vec<Option<&'static str>> = list
            .windows(2)
            .map(|w| break_class(c, n, w[0], w[1]))
            .collect();
        let mut run = None;
        let mut k = 0;
        while k < causes.len() {
            let mut j = k;
            while j + 1 < causes.len() && causes[k].is_some() && causes[j + 1] == causes[k] {
                j += 1;
            }
            if causes[k].is_some() && j > k && c.ts(list[j + 1]) - c.ts(list[k]) <= 3_600_000 {
                run = Some((k, j + 1));
                break;
            }
            k = j + 1;
        }
        if let Some((a, b)) = run {
            let looped = &list[a..=b];
            let ts: Vec<i64> = looped.iter().map(|&i| c.ts(i)).collect();
            let from = ts[0];
            let last = ts.last().copied().unwrap_or(from);
            // The primary closing a replica connection (flags=S) over its
            // output buffer limit, with the `omem` it had reached (FC6
            // cites it).
            let overflows = c.find(&["output_buffer_limit"], from - 60_000, last, |x| {
                is_replica_client(c, x)
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
                    |x| x.node() == n && matches!(x.kind(), "sync_io_error" | "sync_load_failed"),
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
            for &i in looped {
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
                looped.len(),
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
                id: 0,
                claims: Vec::new(),
                caused_by: Vec::new(),
                led_to: Vec::new(),
                kind: "full_resync_loop",
                severity: Severity::High,
                start: Some(from),
                end: ts.last().copied(),
                nodes: vec![n],
                summary: s,
                evidence: ev,
            });
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
                id: 0,
                claims: Vec::new(),
                caused_by: Vec::new(),
                led_to: Vec::new(),
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

/// What broke replica `n`'s link between its full resyncs `i` and `j`: the
/// latest of the primary closing it for its output buffer, dropping it as
/// timed out, a sync timeout, a failed fork, a changed primary, or a restart
/// of the replica; `unfinished` when the sync of `i` never completed and no
/// line says why.
fn break_class(c: &Ctx, n: usize, i: usize, j: usize) -> Option<&'static str> {
    let t = c.t;
    let (a, b) = (c.ts(i), c.ts(j));
    if c.ev(i).lifetime() != c.ev(j).lifetime() {
        return Some("restart");
    }
    let port = t.nodes[n].port.map(f64::from);
    let x = c.last(
        &[
            "output_buffer_limit",
            "replica_timeout",
            "sync_timeout",
            "primary_timeout",
            "sync_failed",
            "fork_failed",
            "psync_replid_mismatch",
            "psync_offset_unavailable",
        ],
        a,
        b,
        |x| match x.kind() {
            "output_buffer_limit" => is_replica_client(c, x),
            "replica_timeout" => {
                port.is_none() || x.txt(t, "addr").and_then(port_of).map(f64::from) == port
            }
            "sync_timeout" | "primary_timeout" => x.node() == n,
            _ => true,
        },
    );
    match x.map(|x| c.ev(x).kind()) {
        Some("output_buffer_limit") => Some("buffer"),
        Some("replica_timeout" | "sync_timeout" | "primary_timeout") => Some("timeout"),
        Some("sync_failed" | "fork_failed") => Some("fork"),
        Some(_) => Some("primary"),
        None => c
            .first(&["sync_done"], a, b, |x| x.node() == n)
            .is_none()
            .then_some("unfinished"),
    }
}

/// A node that served its own data is turned into a replica at run time
/// (`REPLICAOF host port` from a client, not from a Sentinel): the full
/// resync that follows flushes its dataset. Nothing else in the log says
/// those keys are gone; a later load of the primary's data is not growth.
pub(super) fn replicaof_discards(c: &mut Ctx, out: &mut Sink) {
    let t = c.t;
    for &i in c.ix.of("replicaof") {
        let e = c.ev(i);
        let how = e.txt(t, "how").unwrap_or("");
        if !how.contains("user request") || how.contains("sentinel") {
            continue;
        }
        let (n, l) = (e.node(), e.lifetime());
        let Some(ts) = e.ts() else { continue };
        // It was a replica already (it connected to a primary before this
        // command, whose own connect is logged in the same millisecond): a
        // change of primary, not a discard.
        let born = t.lifetimes[l].first.and_then(|x| x.ts()).unwrap_or(ts);
        let was_replica = c
            .last(&["connecting_primary"], born, ts - 1, |x| x.lifetime() == l)
            .is_some();
        if was_replica {
            continue;
        }
        let horizon = ts + 3_600_000;
        let Some(full) = c.first(&["full_resync"], ts, horizon, |x| x.lifetime() == l) else {
            continue;
        };
        let full_ts = c.ev(full).ts().unwrap_or(ts);
        let Some(flush) = c.first(&["sync_flush"], full_ts, horizon, |x| x.lifetime() == l) else {
            continue;
        };
        let mut s = format!(
            "{} was turned into a replica of {} at {} by a REPLICAOF command; the full resync at {} flushed the dataset it held as a primary.",
            c.name(n),
            e.txt(t, "addr").unwrap_or("?"),
            hms(Some(ts)),
            hms(c.ev(flush).ts()),
        );
        let mut ev = Vec::new();
        if let Some((k, cite)) = t.lifetimes[l].keys_loaded.filter(|(k, _)| *k > 0) {
            s.push_str(&format!(
                " It had loaded {k} keys of its own at its start: they are gone unless saved elsewhere."
            ));
            ev.push(cite);
        }
        ev.extend([e.cite(), c.ev(full).cite(), c.ev(flush).cite()]);
        out.push(Incident {
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
            kind: "dataset_discarded",
            severity: Severity::High,
            start: Some(ts),
            end: c.ev(flush).ts(),
            nodes: vec![n],
            summary: s,
            evidence: ev,
        });
    }
}

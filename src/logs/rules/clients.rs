//! Client rules: output-buffer disconnections and cross-protocol warnings
//! (FC11), and the event loop a command blocked (FC12).

use super::*;

/// FC11: output-buffer disconnections, and cross-protocol attack warnings.
pub(super) fn clients(c: &mut Ctx, out: &mut Sink) {
    let t = c.t;
    // One incident per client class in a burst: a replica dropped for its
    // buffer is a replication matter, a slow subscriber or a client with an
    // unread reply is not.
    let class = |x: &Event| {
        let f = x
            .txt(t, "client")
            .and_then(|cl| client_field(cl, "flags"))
            .unwrap_or("");
        ['S', 'P', 'O']
            .into_iter()
            .find(|&k| f.contains(k))
            .unwrap_or('N')
    };
    let mut classed = Vec::new();
    for (_, group) in c.bursts("output_buffer_limit", 600_000) {
        let mut by: Vec<(char, Vec<usize>)> = Vec::new();
        for g in group {
            let k = class(c.ev(g));
            match by.iter_mut().find(|(x, _)| *x == k) {
                Some((_, v)) => v.push(g),
                None => by.push((k, vec![g])),
            }
        }
        classed.extend(by.into_iter().map(|(_, v)| (v[0], v)));
    }
    for (i, group) in classed {
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
        let mut s = format!(
            "{} client(s) on {} were disconnected for exceeding output buffer limits between {} and {}; first: {what} ({}).",
            group.len(),
            c.name(e.node()),
            hms(Some(ts)),
            hms(last),
            details.join(", ")
        );
        let mut evidence: Vec<Cite> = group.iter().take(10).map(|&g| c.ev(g).cite()).collect();
        // The cost of dropping a replica: its resync.
        if replica {
            let nb = c.first(
                &["psync_no_backlog"],
                ts,
                last.unwrap_or(ts) + 60_000,
                |x| x.node() == e.node(),
            );
            let sync = nb.and_then(|b| {
                c.first(&["sync_bgsave"], c.ts(b), c.ts(b) + 600_000, |x| {
                    x.node() == e.node()
                })
            });
            if let Some(b) = nb {
                s.push_str(&format!(
                    " The replica's partial resync was then refused for lack of backlog at {}, so it needed a full resync{}.",
                    hms(c.ev(b).ts()),
                    sync.map_or(String::new(), |x| format!(
                        " (the primary forked for it at {})",
                        hms(c.ev(x).ts())
                    ))
                ));
                push(&mut evidence, Some(c.ev(b).cite()));
                push(&mut evidence, sync.map(|x| c.ev(x).cite()));
            }
        }
        let sev = if replica || group.len() >= 5 {
            Severity::High
        } else {
            Severity::Medium
        };
        out.push(Incident {
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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
            evidence,
        });
    }
    for e in c.ix.of("security_attack").iter().map(|&i| c.ev(i)) {
        out.push(Incident {
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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

/// FC12: a blocked event loop, and the false failure detection it causes.
pub(super) fn blocked_loop(c: &mut Ctx, out: &mut Sink) {
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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

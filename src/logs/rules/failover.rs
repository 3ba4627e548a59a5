//! Failover rules: sentinel failovers (FC8), cluster failovers (FC9) and the
//! cluster-down windows no failover explains.

use super::*;

/// FC8: sentinel failover, anchored on `+switch-master`.
pub(super) fn sentinel_failovers(c: &mut Ctx, out: &mut Sink) {
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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
pub(super) fn cluster_failovers(c: &mut Ctx, out: &mut Sink) {
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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

/// FC9 (residual): `Cluster state changed: fail` windows not explained by a
/// failover incident.
pub(super) fn cluster_down(c: &mut Ctx, out: &mut Sink) {
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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

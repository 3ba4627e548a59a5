//! Configuration rules (FC13): hazards the server warned about at startup,
//! one summary per node.

use super::*;

/// FC13: configuration hazards, one summary per node (latest occurrence).
pub(super) fn config_hazards(c: &mut Ctx, out: &mut Sink) {
    // A summary of the run: written once, from its last window (which
    // holds each node's latest warning of each kind, see `REMEMBERED`).
    if !c.last {
        return;
    }
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
        // Of the whole run, however long ago the warning came.
        out.push_at(
            Incident {
                id: 0,
                claims: Vec::new(),
                caused_by: Vec::new(),
                led_to: Vec::new(),
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
            },
            None,
        );
    }
}

//! Crash rules (FC14): one incident per crash report, with what its INFO
//! and client list say about the moment of the crash.

use super::*;

/// FC14: one incident per crash report.
pub(super) fn crashes(c: &mut Ctx, out: &mut Sink) {
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
            id: 0,
            claims: Vec::new(),
            caused_by: Vec::new(),
            led_to: Vec::new(),
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

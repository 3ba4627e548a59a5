//! Restart rules (FC0/FC3): restarts clean or not, and cold starts, with
//! what each new lifetime reloaded.

use super::*;

/// A replica's partial resynchronization this soon after its start is how
/// that restart resumed replication.
const RESUME_WITHIN_MS: i64 = 120_000;

/// FC0/FC3: restarts, clean or not, and cold starts.
pub(super) fn restarts(c: &mut Ctx, out: &mut Sink) {
    let t = c.t;
    for (n, node) in t.nodes.iter().enumerate() {
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
                let since = hms(c.ev(g).ts().map(|ts| ts - (secs * 1000.0) as i64));
                // A replica that replicates again after the restart holds a
                // copy: what the file lacks is still on its primary.
                let t0 = start.as_ref().and_then(|x| x.ts()).unwrap_or(i64::MIN);
                let copy = a.first_role == Some(crate::logs::line::Role::Replica)
                    && c.first(
                        &["connecting_primary"],
                        t0,
                        t0.saturating_add(RESUME_WITHIN_MS),
                        |x| x.lifetime() == w[1],
                    )
                    .is_some();
                if copy {
                    s.push_str(&format!(
                        " The file it loaded was {secs} s old: its copy lacked the writes from about {since} on, which it had to get from its primary again."
                    ));
                } else {
                    s.push_str(&format!(
                        " The file it loaded was {secs} s old: writes from about {since} until the process died were lost."
                    ));
                }
            }
            // How a replica resumed: a partial resynchronization soon after
            // it started needs only the primary's backlog, not a full sync.
            // The primary's line with the backlog size is not cited here:
            // a later break of the same link cites it as the last good
            // state, and a shared line would link the two incidents.
            let resumed = start.as_ref().and_then(|x| x.ts()).and_then(|t0| {
                c.first(&["psync_ok"], t0, t0 + RESUME_WITHIN_MS, |x| {
                    x.lifetime() == w[1]
                })
            });
            if let Some(p) = resumed {
                s.push_str(&format!(
                    " It resumed replication at {} with a partial resynchronization: no full sync was needed.",
                    hms(c.ev(p).ts())
                ));
                push(&mut ev, Some(c.ev(p).cite()));
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
            let back = start.as_ref().and_then(|x| x.ts());
            let inc = Incident {
                id: 0,
                claims: Vec::new(),
                caused_by: Vec::new(),
                led_to: Vec::new(),
                kind,
                severity: sev,
                start: down_from.or(back),
                end: up.as_ref().and_then(|x| x.ts()),
                nodes: vec![n],
                summary: s,
                evidence: ev,
            };
            // Known once the next process started.
            let anchor = back.or(inc.start);
            out.push_at(inc, anchor);
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
                id: 0,
                claims: Vec::new(),
                caused_by: Vec::new(),
                led_to: Vec::new(),
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
    }
}

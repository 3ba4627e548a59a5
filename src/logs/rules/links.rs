//! Claims and cause links: what every rule's incident says, sentence by
//! sentence, each with the evidence lines that back it, and which
//! incidents caused which.
//!
//! A claim cites the evidence lines whose time it states: the rules write
//! every time they read off a line (`at 16:24:28.091`), so a sentence that
//! names a time is checked by the line stamped with it. Links join an
//! incident to the later ones its failure explains on the same node (an
//! OOM-killed primary → its sentinel failover → the full resync of the
//! returning node), so a report can tell one chain instead of a list.

use super::{hms, Incident};
use crate::fasthash::FastSet;

/// One sentence of an incident, with what supports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// The sentence, as the summary has it.
    pub text: String,
    /// Indexes into the incident's `evidence` of the lines it states the
    /// time of.
    pub cites: Vec<usize>,
    /// The quantities it states (`3.6 s`, `300000 keys`, `299.0 MB`).
    pub numbers: Vec<Number>,
}

/// A quantity stated in a claim.
#[derive(Debug, Clone, PartialEq)]
pub struct Number {
    /// The value as written.
    pub value: f64,
    /// Its unit (`ms`, `s`, `MB`, `keys`, `%`), empty for a bare count.
    pub unit: String,
}

/// Splits a summary into sentences: at `. ` before a capital, a digit or a
/// `:` (node names read `:17150`); the dots of decimals and times are not
/// followed by a space.
fn sentences(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i + 2 < b.len() {
        if b[i] == b'.'
            && b[i + 1] == b' '
            && (b[i + 2].is_ascii_uppercase() || b[i + 2].is_ascii_digit() || b[i + 2] == b':')
        {
            out.push(s[start..=i].trim());
            start = i + 2;
        }
        i += 1;
    }
    if start < s.len() && !s[start..].trim().is_empty() {
        out.push(s[start..].trim());
    }
    out
}

/// Units a number in a claim may carry, longest first where one is the
/// start of another.
const UNITS: &[&str] = &[
    "ms", "s", "min", "h", "KB", "MB", "GB", "TB", "Mb", "kB", "B", "%", "keys", "bytes",
];

/// The quantities of a sentence, skipping clock times and dates.
fn numbers(s: &str) -> Vec<Number> {
    let mut out = Vec::new();
    let words: Vec<&str> = s.split_whitespace().collect();
    for (k, w) in words.iter().enumerate() {
        let w = w.trim_start_matches('(');
        let num: String = w
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        if num.is_empty() || num.starts_with('.') || w[num.len()..].starts_with(':') {
            continue;
        }
        let Ok(value) = num.trim_end_matches('.').parse::<f64>() else {
            continue;
        };
        let rest = w[num.len()..].trim_end_matches([',', ';', ')', '.', ':']);
        let unit = if UNITS.contains(&rest) {
            rest
        } else if rest.is_empty() {
            words
                .get(k + 1)
                .map(|n| n.trim_end_matches([',', ';', ')', '.', ':']))
                .filter(|n| UNITS.contains(n))
                .unwrap_or("")
        } else {
            continue;
        };
        out.push(Number {
            value,
            unit: unit.to_string(),
        });
    }
    out
}

/// The claims of an incident: one per sentence of its summary, each citing
/// the evidence lines whose time (`HH:MM:SS.mmm`) it states.
pub fn claims(i: &Incident) -> Vec<Claim> {
    let stamps: Vec<String> = i.evidence.iter().map(|c| hms(c.ts())).collect();
    sentences(&i.summary)
        .into_iter()
        .map(|text| Claim {
            cites: stamps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.as_str() != "?" && text.contains(s.as_str()))
                .map(|(k, _)| k)
                .collect(),
            numbers: numbers(text),
            text: text.to_string(),
        })
        .collect()
}

/// Which incident kinds explain which later ones. A cause must cite a
/// line its consequence cites too (the killed primary's last line, the
/// blocked script's warning): sharing a node is not enough, since a
/// teardown an hour later shares it as well. It must also start before it,
/// within [`WINDOW`].
const CAUSES: &[(&str, &[&str])] = &[
    (
        "oom_kill",
        &[
            "unclean_restart",
            "cold_start",
            "sentinel_failover",
            "cluster_failover",
            "replication_break",
            "full_resync",
            "full_resync_loop",
        ],
    ),
    (
        "crash",
        &[
            "unclean_restart",
            "cold_start",
            "sentinel_failover",
            "cluster_failover",
            "replication_break",
            "full_resync",
        ],
    ),
    (
        "blocked_event_loop",
        &["sentinel_failover", "cluster_failover", "cluster_down"],
    ),
    (
        "sentinel_failover",
        &["replication_break", "full_resync", "full_resync_loop"],
    ),
    (
        "cluster_failover",
        &[
            "replication_break",
            "full_resync",
            "full_resync_loop",
            "cluster_down",
        ],
    ),
    (
        "unclean_restart",
        &[
            "sentinel_failover",
            "cluster_failover",
            "replication_break",
            "full_resync",
            "full_resync_loop",
        ],
    ),
    (
        "replica_output_buffer",
        &["replication_break", "full_resync_loop"],
    ),
    ("memory_growth", &["oom_kill", "bgsave_killed"]),
    ("bgsave_killed", &["bgsave_failed"]),
];

/// How long after a cause its consequences may start.
pub const WINDOW: i64 = 15 * 60 * 1000;

/// How much earlier than its cause a consequence may start: a restart
/// begins at the killed process's last line, a few seconds before the
/// kernel's kill line the OOM incident starts at.
const SLACK: i64 = 60 * 1000;

/// Numbers the incidents (1-based, in their order) and links causes to
/// consequences.
pub fn link(out: &mut [Incident]) {
    for (k, i) in out.iter_mut().enumerate() {
        i.id = k + 1;
        i.claims = claims(i);
        i.caused_by.clear();
        i.led_to.clear();
    }
    // Incidents come in start order (undated first), so the consequences
    // a cause may have are a range found by binary search: comparing every
    // pair was quadratic in the incidents of a fleet's archive.
    debug_assert!(out.is_sorted_by_key(|i| i.start.unwrap_or(i64::MIN)));
    let mut pairs = Vec::new();
    for (a, ia) in out.iter().enumerate() {
        let Some(cons) = CAUSES.iter().find(|(k, _)| *k == ia.kind).map(|x| x.1) else {
            continue;
        };
        let Some(sa) = ia.start else { continue };
        let from = ia.end.unwrap_or(sa).max(sa);
        let (lo, hi) = (sa.saturating_sub(SLACK), from.saturating_add(WINDOW));
        let first = out.partition_point(|i| i.start.is_none_or(|s| s < lo));
        let lines: FastSet<(usize, u64)> =
            ia.evidence.iter().map(|x| (x.file(), x.line())).collect();
        for (b, ib) in out.iter().enumerate().skip(first) {
            let Some(sb) = ib.start else { continue };
            if sb > hi {
                break;
            }
            if a == b || !cons.contains(&ib.kind) {
                continue;
            }
            if ib
                .evidence
                .iter()
                .any(|y| lines.contains(&(y.file(), y.line())))
            {
                pairs.push((a, b));
            }
        }
    }
    for (a, b) in pairs {
        let (ida, idb) = (out[a].id, out[b].id);
        out[a].led_to.push(idb);
        out[b].caused_by.push(ida);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_split_at_full_stops_not_decimals() {
        let s = "Fork failed on :18720 at 16:24:28.091: EAGAIN. The process may not fork: not memory. :17150 came back at 07:23:43.304 (7.9 s). 3 failure lines.";
        assert_eq!(
            sentences(s),
            vec![
                "Fork failed on :18720 at 16:24:28.091: EAGAIN.",
                "The process may not fork: not memory.",
                ":17150 came back at 07:23:43.304 (7.9 s).",
                "3 failure lines."
            ]
        );
    }

    #[test]
    fn numbers_keep_units_and_skip_clock_times() {
        let n = numbers("pid 5769 was ready at 16:13:11.644 (3.6 s unavailable). Loaded 300000 keys in 0.268 s; anon-rss 299.0 MB, 12 ms.");
        let got: Vec<(f64, &str)> = n.iter().map(|x| (x.value, x.unit.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (5769.0, ""),
                (3.6, "s"),
                (300000.0, "keys"),
                (0.268, "s"),
                (299.0, "MB"),
                (12.0, "ms")
            ]
        );
    }
}

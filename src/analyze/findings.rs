//! Rules over a [`Summary`] that turn numbers into claims an on-call
//! engineer can paste into a write-up, each with the pattern statistics that
//! support it.

use serde::Serialize;

use super::patterns::ratio;
use super::Summary;

/// How much a finding matters: the one scale of dump findings and log
/// incidents (info < low < medium < high < critical), so `--fail-on` means
/// the same on every subcommand.
pub use crate::logs::catalog::Severity;

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

/// Severities in schemas are their names, lowest first.
impl schemars::JsonSchema for Severity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Severity".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "enum": ["info", "low", "medium", "high", "critical"]
        })
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Stable id of the rule.
    pub id: &'static str,
    /// Severity.
    pub severity: Severity,
    /// One-line claim with numbers.
    pub summary: String,
    /// The statistics behind the claim.
    pub evidence: Vec<String>,
}

/// Formats bytes for humans (binary units).
pub fn human_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// Applies every rule.
pub fn findings(s: &Summary) -> Vec<Finding> {
    let mut out = Vec::new();
    let total = s.total.memory_bytes;
    if total == 0 {
        return out;
    }
    for (p, st) in s.patterns.patterns().iter().take(20) {
        let share = ratio(st.memory_bytes, total);
        let cov = st.ttl_coverage_bytes();
        if share >= 0.2 && cov < 0.1 && st.keys >= 10 {
            out.push(Finding {
                id: "pattern-without-ttl",
                // Small dumps get the same claim, but the severity follows the
                // absolute size too: 720 B without a TTL is no incident.
                severity: match (share, st.memory_bytes) {
                    (x, m) if x >= 0.5 && m >= 64 << 20 => Severity::Critical,
                    (_, m) if m >= 1 << 20 => Severity::Medium,
                    _ => Severity::Info,
                },
                summary: format!(
                    "pattern `{p}` holds {} of memory ({}) and {} of it has a TTL",
                    pct(share),
                    human_bytes(st.memory_bytes),
                    pct(cov)
                ),
                evidence: vec![format!(
                    "{p}: {} keys, {} memory, {} keys with TTL, largest {}",
                    st.keys,
                    human_bytes(st.memory_bytes),
                    st.keys_with_ttl,
                    st.largest
                        .as_ref()
                        .map(|(m, _, k)| format!("{k} ({})", human_bytes(*m)))
                        .unwrap_or_default()
                )],
            });
        }
    }
    let no_ttl = ratio(total - s.total.memory_with_ttl, total);
    if no_ttl >= 0.9 && s.total.keys >= 100 {
        out.push(Finding {
            id: "keyspace-without-ttl",
            severity: Severity::Medium,
            summary: format!(
                "{} of memory ({}) is held by keys without a TTL",
                pct(no_ttl),
                human_bytes(total - s.total.memory_with_ttl)
            ),
            evidence: vec![format!(
                "{} of {} keys have a TTL",
                s.total.keys_with_ttl, s.total.keys
            )],
        });
    }
    if let Some(k) = s.top_memory.items().next() {
        let share = ratio(k.memory_bytes, total);
        if share >= 0.1 && k.memory_bytes >= 1 << 20 {
            out.push(Finding {
                id: "big-key",
                severity: if k.memory_bytes >= 256 << 20 { Severity::Critical } else { Severity::Medium },
                summary: format!(
                    "key `{}` ({} {}, {} elements) holds {} of memory ({}); deleting or evicting it frees one large chunk and blocks the server while it does",
                    k.key, k.type_name, k.encoding, k.elements.map(|e| e.to_string()).unwrap_or_else(|| "?".into()), pct(share), human_bytes(k.memory_bytes)
                ),
                evidence: vec![format!("db {} key {} memory {} B", k.db, k.key, k.memory_bytes)],
            });
        }
    }
    let huge: Vec<_> = s
        .big_hashes
        .items()
        .filter(|k| k.elements.is_some_and(|n| n >= 100_000))
        .collect();
    if !huge.is_empty() {
        out.push(Finding {
            id: "huge-hash",
            severity: Severity::Medium,
            summary: format!(
                "{} hash(es) have 100k fields or more; HGETALL/DEL on them stalls the event loop",
                huge.len()
            ),
            evidence: huge
                .iter()
                .map(|k| {
                    format!(
                        "db {} {}: {} fields, {}",
                        k.db,
                        k.key,
                        k.elements.unwrap_or(0),
                        human_bytes(k.memory_bytes)
                    )
                })
                .collect(),
        });
    }
    let (hk, hm) = s.hashes_past_listpack;
    if hk >= 10 && ratio(hm, total) >= 0.05 {
        out.push(Finding {
            id: "hashes-just-past-listpack",
            severity: Severity::Info,
            summary: format!("{hk} hashes hold 513–1024 fields, just past hash-max-listpack-entries (512), and use {} as hashtables; raising the limit would shrink them several times", human_bytes(hm)),
            evidence: vec![format!("{hk} hashtable hashes, {} B", hm)],
        });
    }
    let (ek, em) = s.ttl[0];
    if ek >= 100 && ratio(ek, s.total.keys) >= 0.05 {
        out.push(Finding {
            id: "expired-not-reclaimed",
            severity: Severity::Medium,
            summary: format!("{ek} keys ({}) had already expired when the snapshot was taken: active expiry is behind", human_bytes(em)),
            evidence: vec![format!("TTL bucket expired: {ek} keys, {em} B")],
        });
    }
    if let Some(used) = s.used_mem() {
        let r = used as f64 / total as f64;
        if r >= 1.5 && used >= 16 << 20 {
            out.push(Finding {
                id: "overhead-beyond-dataset",
                severity: Severity::Info,
                summary: format!("the server had {} allocated at save time, {r:.1}× the {} the keys account for: buffers, replication backlog or fragmentation", human_bytes(used), human_bytes(total)),
                evidence: vec![format!("used-mem {used} B, dataset estimate {total} B")],
            });
        }
    }
    if s.idle.0 > 0 && ratio(s.idle.1, total) >= 0.3 {
        let mut by_pattern: Vec<(String, u64)> = s
            .patterns
            .patterns()
            .into_iter()
            .filter(|(_, st)| st.cold_memory > 0)
            .map(|(p, st)| (p, st.cold_memory))
            .collect();
        by_pattern.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut evidence = vec![format!(
            "{} keys carry LRU idle time or an LFU counter",
            s.idle.0
        )];
        evidence.extend(
            by_pattern
                .iter()
                .take(3)
                .map(|(p, m)| format!("{p}: {} cold", human_bytes(*m))),
        );
        out.push(Finding {
            id: "cold-memory",
            severity: Severity::Info,
            summary: format!(
                "{} of memory ({}) belongs to keys idle for a day or more (or whose LFU counter decayed below its initial value)",
                pct(ratio(s.idle.1, total)),
                human_bytes(s.idle.1)
            ),
            evidence,
        });
    }
    if !s.errors.is_empty() {
        out.push(corrupt_input(s));
    }
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// What the figures rest on when the input was damaged: how many faults,
/// how many bytes and (estimated) keys were lost, and where.
fn corrupt_input(s: &Summary) -> Finding {
    let bytes: u64 = s.sources.iter().map(|x| x.bytes).sum();
    let skipped: u64 = s.skipped.iter().map(|k| k.bytes).sum();
    let lost: u64 = s.skipped.iter().map(|k| k.keys_lost_estimate).sum();
    let summary = if s.skipped.is_empty() {
        format!(
            "{} fault(s) while reading; figures cover what could be read",
            s.errors.len()
        )
    } else {
        format!(
            "{} fault(s) while reading: {} in {} range(s) skipped ({} of the input), about {} key(s) lost of {} read; figures cover what could be read",
            s.errors.len(),
            human_bytes(skipped),
            s.skipped.len(),
            pct(ratio(skipped, bytes)),
            lost,
            s.total.keys
        )
    };
    let mut evidence: Vec<String> = s.errors.iter().map(|e| e.to_string()).collect();
    evidence.extend(s.skipped.iter().map(|k| k.to_string()));
    Finding {
        id: "corrupt-input",
        severity: Severity::Critical,
        summary,
        evidence,
    }
}

//! Growth between two snapshots, per pattern: what grew, what is new, what
//! vanished, biggest movers first, with rates per hour from the two `ctime`s.
//!
//! The two sides may have folded names differently (a pattern with 40 users
//! on Monday and 4 000 on Tuesday), so both are resolved against one table
//! built from both before they are compared.

use std::collections::BTreeMap;

use serde::Serialize;

use super::patterns::{is_sep, PatternTable, Stats};
use super::Summary;

/// One pattern's change.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Change {
    /// The pattern.
    pub pattern: String,
    /// `grew`, `shrank`, `new`, `vanished` or `same`.
    pub status: &'static str,
    /// Keys before and after.
    pub keys: (u64, u64),
    /// Memory before and after.
    pub memory_bytes: (u64, u64),
    /// TTL coverage by keys before and after.
    pub ttl_coverage: (f64, f64),
    /// Memory change per hour between the snapshots, when both have ctime.
    pub memory_per_hour: Option<f64>,
}

/// Compares two summaries.
pub fn diff(old: &Summary, new: &Summary) -> (Vec<Change>, Option<f64>) {
    let mut union = PatternTable::default();
    union.merge(&old.patterns);
    union.merge(&new.patterns);
    let side = |s: &Summary| {
        let mut m: BTreeMap<String, Stats> = BTreeMap::new();
        for (p, st) in s.patterns.patterns() {
            let key = union.resolve(&p).unwrap_or(p);
            m.entry(key).or_default().merge(&st);
        }
        m
    };
    let (mut a, mut b) = (side(old), side(new));
    // A handful of keys stays literal on one side (`geo:DE`, `geo:FR`) where
    // the other side, with many, folded them (`geo:*`): count them under the
    // other side's pattern, or they show as vanished beside a new pattern.
    fold_into_covering(&mut a, &b);
    fold_into_covering(&mut b, &a);
    let hours = match (
        old.sources.first().and_then(|s| s.ctime),
        new.sources.first().and_then(|s| s.ctime),
    ) {
        (Some(x), Some(y)) if y > x => Some((y - x) as f64 / 3600.0),
        _ => None,
    };
    let empty = Stats::default();
    let mut out: Vec<Change> = a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|p| {
            let (x, y) = (a.get(p).unwrap_or(&empty), b.get(p).unwrap_or(&empty));
            let status = match (x.keys, y.keys) {
                (0, _) => "new",
                (_, 0) => "vanished",
                _ if y.memory_bytes > x.memory_bytes => "grew",
                _ if y.memory_bytes < x.memory_bytes => "shrank",
                _ => "same",
            };
            Change {
                pattern: p.clone(),
                status,
                keys: (x.keys, y.keys),
                memory_bytes: (x.memory_bytes, y.memory_bytes),
                ttl_coverage: (x.ttl_coverage(), y.ttl_coverage()),
                memory_per_hour: hours.map(|h| (y.memory_bytes as f64 - x.memory_bytes as f64) / h),
            }
        })
        .collect();
    out.sort_by(|l, r| {
        let d = |c: &Change| (c.memory_bytes.1 as i128 - c.memory_bytes.0 as i128).abs();
        d(r).cmp(&d(l)).then_with(|| l.pattern.cmp(&r.pattern))
    });
    (out, hours)
}

/// Moves each pattern of `side` that the other side lacks under the most
/// specific pattern of `other` that covers it.
fn fold_into_covering(side: &mut BTreeMap<String, Stats>, other: &BTreeMap<String, Stats>) {
    let lone: Vec<String> = side
        .keys()
        .filter(|p| !other.contains_key(*p))
        .cloned()
        .collect();
    for p in lone {
        let best = other
            .keys()
            .filter(|g| covers(g, &p))
            .max_by_key(|g| g.matches(|c| c != '*').count());
        if let Some(g) = best {
            let st = side.remove(&p).unwrap_or_default();
            side.entry(g.clone()).or_default().merge(&st);
        }
    }
}

/// Whether pattern `glob` covers pattern `pat`: the same separators in the
/// same places, and each token of `glob` equal to `pat`'s, or `*`, or a
/// word prefix (`sess_*`) that `pat`'s token starts with.
fn covers(glob: &str, pat: &str) -> bool {
    if glob == pat || !glob.contains('*') {
        return false;
    }
    let split = |s: &str| -> Vec<(String, Option<char>)> {
        let mut out = Vec::new();
        let mut tok = String::new();
        for c in s.chars() {
            if is_sep(c) {
                out.push((std::mem::take(&mut tok), Some(c)));
            } else {
                tok.push(c);
            }
        }
        out.push((tok, None));
        out
    };
    let (g, p) = (split(glob), split(pat));
    g.len() == p.len()
        && g.iter().zip(&p).all(|((gt, gs), (pt, ps))| {
            gs == ps
                && (gt == pt
                    || gt == "*"
                    || gt
                        .strip_suffix('*')
                        .is_some_and(|pre| !pre.is_empty() && pt.starts_with(pre)))
        })
}

/// `pattern-growth` findings: patterns whose memory grew faster than
/// `per_hour` bytes an hour between the snapshots (or by more than
/// `per_hour` in all, when a dump has no `ctime` to time the change by):
/// medium, high at ten times the rate, critical at a hundred. Fastest
/// first.
pub fn growth_findings(
    changes: &[Change],
    hours: Option<f64>,
    per_hour: u64,
) -> Vec<super::findings::Finding> {
    use super::findings::{human_bytes, Finding, Severity};
    let limit = per_hour.max(1) as f64;
    let mut out: Vec<(f64, Finding)> = changes
        .iter()
        .filter_map(|c| {
            let grew = c.memory_bytes.1.checked_sub(c.memory_bytes.0)?;
            let (rate, how) = match (c.memory_per_hour, hours) {
                (Some(r), Some(h)) if h > 0.0 => (
                    r,
                    format!("{}/h over {h:.2} h", human_bytes(r.max(0.0) as u64)),
                ),
                _ => (
                    grew as f64,
                    format!(
                        "{} between the snapshots (no ctime to time it by)",
                        human_bytes(grew)
                    ),
                ),
            };
            if rate <= limit {
                return None;
            }
            let severity = if rate > 100.0 * limit {
                Severity::Critical
            } else if rate > 10.0 * limit {
                Severity::High
            } else {
                Severity::Medium
            };
            Some((
                rate,
                Finding {
                    id: "pattern-growth",
                    severity,
                    summary: format!(
                        "pattern `{}` grew by {} ({} → {}, {}), faster than the {}/h threshold",
                        c.pattern,
                        human_bytes(grew),
                        human_bytes(c.memory_bytes.0),
                        human_bytes(c.memory_bytes.1),
                        how,
                        human_bytes(per_hour)
                    ),
                    evidence: vec![format!(
                        "{}: {} → {} keys, {} → {} memory, TTL coverage {:.0} % → {:.0} %",
                        c.pattern,
                        c.keys.0,
                        c.keys.1,
                        human_bytes(c.memory_bytes.0),
                        human_bytes(c.memory_bytes.1),
                        c.ttl_coverage.0 * 100.0,
                        c.ttl_coverage.1 * 100.0
                    )],
                },
            ))
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0));
    out.into_iter().map(|(_, f)| f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::summary::KeyRecord;

    fn add(s: &mut Summary, key: &str, memory: u64) {
        s.absorb(&rec(key, memory), &crate::escape::Shown::ready(key), None);
    }

    fn rec(key: &str, memory: u64) -> KeyRecord {
        KeyRecord {
            db: 0,
            pattern: crate::analyze::patterns::normalize_key(key.as_bytes()),
            plain_key: false,
            type_name: crate::rdb::value::TypeName::Builtin("list"),
            encoding: "listpack",
            elements: Some(1),
            memory,
            serialized: 1,
            expire_ms: None,
            idle_s: None,
            freq: None,
            rounding_waste: 0,
        }
    }

    #[test]
    fn growth_new_and_vanished_patterns() {
        let mut old = Summary::new(5);
        let mut new = Summary::new(5);
        for i in 0..10 {
            add(&mut old, &format!("user:{i}:feed"), 100);
            add(&mut old, &format!("tmp:{i}"), 5);
        }
        for i in 0..30 {
            add(&mut new, &format!("user:{i}:feed"), 200);
        }
        add(&mut new, "session:9f86d081884c7d65", 50);
        let (changes, _) = diff(&old, &new);
        assert_eq!(changes[0].pattern, "user:*:feed");
        assert_eq!(changes[0].status, "grew");
        assert_eq!(changes[0].keys, (10, 30));
        assert_eq!(changes[0].memory_bytes, (1000, 6000));
        let find = |p: &str| changes.iter().find(|c| c.pattern == p).unwrap().status;
        assert_eq!(find("tmp:*"), "vanished");
        assert_eq!(find("session:*"), "new");
    }

    #[test]
    fn literals_on_one_side_join_the_other_sides_wildcard() {
        let mut old = Summary::new(5);
        let mut new = Summary::new(5);
        for c in ["DE", "FR"] {
            add(&mut old, &format!("geo:{c}"), 10);
        }
        let countries = [
            "DE", "FR", "US", "JP", "BR", "IT", "ES", "NL", "PL", "SE", "NO", "FI", "DK", "AT",
            "CH", "BE", "PT", "IE", "GR", "CZ",
        ];
        for c in countries {
            add(&mut new, &format!("geo:{c}"), 10);
        }
        add(&mut old, "config", 7);
        let (changes, _) = diff(&old, &new);
        let got: Vec<(&str, &str, (u64, u64))> = changes
            .iter()
            .map(|c| (c.pattern.as_str(), c.status, c.keys))
            .collect();
        assert_eq!(
            got,
            vec![("geo:*", "grew", (2, 20)), ("config", "vanished", (1, 0))]
        );
    }

    #[test]
    fn covering_needs_the_same_shape() {
        assert!(covers("geo:*", "geo:DE"));
        assert!(covers("user:*:feed", "user:42:feed"));
        assert!(covers("sess_*", "sess_abc"));
        assert!(!covers("geo:*", "geo:DE:x"));
        assert!(!covers("user:*:feed", "user:42:inbox"));
        assert!(!covers("geo:DE", "geo:DE"));
        assert!(!covers("lock-*", "sess_abc"));
    }
}

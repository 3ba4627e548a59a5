//! The keyspace summary as Prometheus text exposition (format 0.0.4), for
//! node_exporter's textfile collector: a nightly job writes
//! `redsleuth rdb dump.rdb --format prometheus > dir/redsleuth.prom.$$ &&
//! mv dir/redsleuth.prom.$$ dir/redsleuth.prom`, and every gauge below is
//! scraped with the host's other metrics.
//!
//! Every value is a gauge: a snapshot's keyspace is a level, not a count of
//! events. Patterns are labels; their number is bounded by the pattern
//! table (see [`crate::analyze::patterns::MAX_NODES`]), and pattern names
//! carry no identifiers (those became `*`), so `--redact` leaves them as
//! they are.

use std::io::{self, Write};

use crate::analyze::patterns::Stats;
use crate::analyze::summary::TTL_BUCKETS;
use crate::analyze::Summary;

/// Escapes a label value: backslash, double quote and newline.
fn label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One metric family: `# HELP`, `# TYPE gauge`, then its samples.
struct Family<'w> {
    out: &'w mut dyn Write,
}

impl Family<'_> {
    fn head(&mut self, name: &str, help: &str) -> io::Result<()> {
        writeln!(self.out, "# HELP {name} {help}")?;
        writeln!(self.out, "# TYPE {name} gauge")
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], v: f64) -> io::Result<()> {
        write!(self.out, "{name}")?;
        if !labels.is_empty() {
            let l: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", label(v)))
                .collect();
            write!(self.out, "{{{}}}", l.join(","))?;
        }
        writeln!(self.out, " {v}")
    }

    fn one(&mut self, name: &str, help: &str, v: f64) -> io::Result<()> {
        self.head(name, help)?;
        self.sample(name, &[], v)
    }
}

/// A per-pattern gauge: name, help, and its value from a pattern's stats.
type PatternGauge = (&'static str, &'static str, fn(&Stats) -> f64);

/// Writes the summary's gauges.
pub fn render(s: &Summary, out: &mut dyn Write) -> io::Result<()> {
    let mut f = Family { out };
    let t = &s.total;
    f.one(
        "redsleuth_dumps",
        "RDB files the summary covers.",
        s.sources.len() as f64,
    )?;
    f.one(
        "redsleuth_read_errors",
        "Faults met while reading the dumps (0 for intact files).",
        s.errors.len() as f64,
    )?;
    if let Some(c) = s.sources.iter().filter_map(|x| x.ctime).max() {
        f.one(
            "redsleuth_snapshot_ctime_seconds",
            "Unix time the newest dump was written (its ctime AUX field).",
            c as f64,
        )?;
    }
    f.one(
        "redsleuth_keyspace_keys",
        "Keys in the dumps.",
        t.keys as f64,
    )?;
    f.one(
        "redsleuth_keyspace_keys_with_ttl",
        "Keys with an expiry.",
        t.keys_with_ttl as f64,
    )?;
    f.one(
        "redsleuth_keyspace_memory_bytes",
        "Estimated memory of all keys (MEMORY USAGE model).",
        t.memory_bytes as f64,
    )?;
    f.one(
        "redsleuth_keyspace_serialized_bytes",
        "Bytes the keys take in the RDB files.",
        t.serialized_bytes as f64,
    )?;
    if let Some(u) = s.used_mem() {
        f.one(
            "redsleuth_used_memory_bytes",
            "Sum of the used-mem AUX fields: what the servers had allocated when saving.",
            u as f64,
        )?;
    }

    f.head("redsleuth_db_keys", "Keys per database.")?;
    for (db, (k, _)) in &s.dbs {
        f.sample("redsleuth_db_keys", &[("db", &db.to_string())], *k as f64)?;
    }
    f.head(
        "redsleuth_db_keys_with_ttl",
        "Keys with an expiry per database.",
    )?;
    for (db, (_, e)) in &s.dbs {
        f.sample(
            "redsleuth_db_keys_with_ttl",
            &[("db", &db.to_string())],
            *e as f64,
        )?;
    }

    f.head("redsleuth_type_keys", "Keys per type and encoding.")?;
    for ((ty, enc), (k, _)) in &s.types {
        f.sample(
            "redsleuth_type_keys",
            &[("type", ty), ("encoding", enc)],
            *k as f64,
        )?;
    }
    f.head(
        "redsleuth_type_memory_bytes",
        "Estimated memory per type and encoding.",
    )?;
    for ((ty, enc), (_, m)) in &s.types {
        f.sample(
            "redsleuth_type_memory_bytes",
            &[("type", ty), ("encoding", enc)],
            *m as f64,
        )?;
    }

    f.head(
        "redsleuth_ttl_bucket_keys",
        "Keys per remaining-TTL bucket at snapshot time.",
    )?;
    for (b, (k, _)) in TTL_BUCKETS.iter().zip(s.ttl.iter()) {
        f.sample("redsleuth_ttl_bucket_keys", &[("bucket", b)], *k as f64)?;
    }

    let patterns = s.patterns.patterns();
    let per_pattern: [PatternGauge; 6] = [
        ("redsleuth_pattern_keys", "Keys per key pattern.", |p| {
            p.keys as f64
        }),
        (
            "redsleuth_pattern_memory_bytes",
            "Estimated memory per key pattern.",
            |p| p.memory_bytes as f64,
        ),
        (
            "redsleuth_pattern_serialized_bytes",
            "Bytes in the RDB files per key pattern.",
            |p| p.serialized_bytes as f64,
        ),
        (
            "redsleuth_pattern_keys_with_ttl",
            "Keys with an expiry per key pattern.",
            |p| p.keys_with_ttl as f64,
        ),
        (
            "redsleuth_pattern_ttl_coverage_ratio",
            "Share of a pattern's keys that have an expiry (0 to 1).",
            Stats::ttl_coverage,
        ),
        (
            "redsleuth_pattern_ttl_coverage_bytes_ratio",
            "Share of a pattern's memory in keys that have an expiry (0 to 1).",
            Stats::ttl_coverage_bytes,
        ),
    ];
    for (name, help, value) in per_pattern {
        f.head(name, help)?;
        for (p, st) in &patterns {
            f.sample(name, &[("pattern", p)], value(st))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(label("x\ny"), "x\\ny");
    }
}

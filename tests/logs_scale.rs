//! `redsleuth logs` on an archive of a few hundred MB: the child's peak RSS
//! (`ru_maxrss` of the waited-for children, file-backed pages of the map
//! included, as `/usr/bin/time -v` reports it) stays under 256 MiB, and the
//! incidents found are exactly those of the scenarios it replays.
//!
//! The archive is built here from recorded scenario logs in `testdata/logs/`:
//! each round replays every scenario once, each copy shifted by whole days
//! (so a copy keeps its time of day and its line formats), and between the
//! copies a steady server on a port of its own writes connection churn, the
//! bulk of a busy server's log. Each scenario is also analysed alone; every
//! incident of the archive must then be one of a copy's, with its times moved
//! by the copy's days and its evidence lines by the copy's first line. The
//! steady server also saves every few seconds, so that the archive holds
//! events enough to be analysed in several windows.

use std::collections::BTreeMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};

use nix::sys::resource::{getrusage, UsageWho};
mod common;

use common::replay::{day_of, shift_line, MONTHS};
use redsleuth::logs::line::{civil_from_days, days_from_civil};

const BOUND_MIB: i64 = 256;
const ROUNDS: u64 = 24;
/// Bytes of connection churn written after each scenario copy.
const CHURN: usize = 2_800_000;
/// Churn lines between the steady server's background saves.
const SAVE_EVERY: u64 = 40;
/// Scenarios whose incidents concern their own process only. Copies of
/// them follow one another on the same port, which makes restarts between
/// copies that a scenario alone does not have; those two kinds are left out
/// of the comparison (and checked to be absent from every scenario alone).
const SCENARIOS: [&str; 5] = [
    "07-persistence-failures/debian-7.0.15/redis-disk-full-aof-always.log",
    "07-persistence-failures/debian-7.0.15/redis-rdb-permission.log",
    "08-slow-and-output-buffer/debian-7.0.15/redis.log",
    "15-fork-failed/debian-7.0.15/redis.log",
    "18-fork-failed-misconf/debian-7.0.15/redis.log",
];
const BETWEEN_COPIES: [&str; 2] = ["restart", "unclean_restart"];

/// `YYYY-MM-DD HH:MM:SS.mmm` (an incident's start or end) moved by `days`.
fn shift_iso(s: &str, days: i64) -> String {
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, m, d) =
        civil_from_days(days_from_civil(n(0..4), n(5..7) as u32, n(8..10) as u32) + days);
    format!("{y:04}-{m:02}-{d:02}{}", &s[10..])
}

/// Where a scenario copy sits in the archive.
struct Copy {
    scenario: usize,
    days: i64,
    /// Archive line number of the copy's line 0 (its first line is + 1).
    line_base: u64,
}

fn stamp(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let t = ms.rem_euclid(86_400_000);
    format!(
        "{d:02} {} {y} {:02}:{:02}:{:02}.{:03}",
        MONTHS[m as usize - 1],
        t / 3_600_000,
        t / 60_000 % 60,
        t / 1000 % 60,
        t % 1000
    )
}

fn write_archive(path: &Path, scenarios: &[Vec<String>]) -> (u64, Vec<Copy>) {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    let day0 = days_from_civil(2026, 11, 23);
    let mut line = 0u64;
    let put = |out: &mut BufWriter<std::fs::File>, s: &str, line: &mut u64| {
        out.write_all(s.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
        *line += 1;
    };
    let t0 = day0 * 86_400_000;
    put(
        &mut out,
        &format!(
            "4242:M {} * Running mode=standalone, port=17999.",
            stamp(t0)
        ),
        &mut line,
    );
    put(
        &mut out,
        &format!("4242:M {} * Ready to accept connections tcp", stamp(t0)),
        &mut line,
    );
    let mut copies = Vec::new();
    let mut k = 0i64;
    for _ in 0..ROUNDS {
        for (s, lines) in scenarios.iter().enumerate() {
            k += 1;
            // Copy k lands on day k after day0, whatever day it was
            // recorded: the archive is in time order.
            let first = lines.iter().find_map(|l| day_of(l)).unwrap();
            let days = day0 + k - first;
            copies.push(Copy {
                scenario: s,
                days,
                line_base: line,
            });
            for l in lines {
                put(&mut out, &shift_line(l, days), &mut line);
            }
            // The steady server's churn, from 23:00 of the copy's day on (after
            // every line of the copy, so that the archive is in time order),
            // with a background save every few seconds: events enough
            // that the archive is analysed in several windows.
            let mut t = (day0 + k) * 86_400_000 + 23 * 3_600_000;
            let mut written = 0;
            let mut i = 0u64;
            while written < CHURN {
                if i.is_multiple_of(SAVE_EVERY) {
                    let child = 100_000 + (k as u64 * 1000 + i / SAVE_EVERY) % 800_000;
                    for s in [
                        format!(
                            "4242:M {} * Background saving started by pid {child}",
                            stamp(t)
                        ),
                        format!("{child}:C {} * DB saved on disk", stamp(t + 1)),
                        format!(
                            "4242:M {} * Background saving terminated with success",
                            stamp(t + 2)
                        ),
                    ] {
                        written += s.len() + 1;
                        put(&mut out, &s, &mut line);
                    }
                }
                let s = if i.is_multiple_of(2) {
                    format!(
                        "4242:M {} - Accepted 10.0.{}.{}:{}",
                        stamp(t),
                        i % 7,
                        i % 200,
                        40_000 + i % 20_000
                    )
                } else {
                    format!(
                        "4242:M {} - Client closed connection id={i} addr=10.0.{}.{}:{} \
                         laddr=10.0.0.1:17999 fd=9 name= age=0 idle=0 flags=N db=0 cmd=get",
                        stamp(t),
                        i % 7,
                        i % 200,
                        40_000 + i % 20_000
                    )
                };
                written += s.len() + 1;
                put(&mut out, &s, &mut line);
                i += 1;
                t += 7;
            }
        }
    }
    out.flush().unwrap();
    (std::fs::metadata(path).unwrap().len(), copies)
}

/// An incident reduced to what a copy must reproduce.
type Key = (String, String, String, String, Vec<u64>);

fn logs_json(path: &Path) -> serde_json::Value {
    common::replay::logs_json(path, &[])
}

fn key(i: &serde_json::Value, days: i64, line_base: u64) -> Key {
    let s = |k: &str| i[k].as_str().unwrap_or("").to_string();
    let when = |k: &str| i[k].as_str().map_or(String::new(), |t| shift_iso(t, days));
    (
        s("kind"),
        s("severity"),
        when("start"),
        when("end"),
        i["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["line"].as_u64().unwrap() + line_base)
            .collect(),
    )
}

#[test]
fn a_replayed_archive_keeps_each_scenarios_incidents_under_256_mib() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/logs");
    let scenarios: Vec<Vec<String>> = SCENARIOS
        .iter()
        .map(|s| {
            std::fs::read_to_string(root.join(s))
                .unwrap()
                .lines()
                .map(String::from)
                .collect()
        })
        .collect();
    // Each scenario alone, at its recorded time.
    let alone: Vec<Vec<serde_json::Value>> = SCENARIOS
        .iter()
        .map(|s| {
            let doc = logs_json(&root.join(s));
            doc["incidents"].as_array().unwrap().clone()
        })
        .collect();
    for (s, incidents) in SCENARIOS.iter().zip(&alone) {
        assert!(!incidents.is_empty(), "{s} alone has incidents");
        for i in incidents {
            assert!(
                !BETWEEN_COPIES.contains(&i["kind"].as_str().unwrap()),
                "{s} alone: {}",
                i["kind"]
            );
        }
    }

    let dir = std::env::temp_dir().join(format!("redsleuth-logs-scale-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("archive.log");
    let (size, copies) = write_archive(&path, &scenarios);
    assert!(size > 300 << 20, "the archive must dwarf the bound: {size}");

    let mut expected: BTreeMap<Key, usize> = BTreeMap::new();
    for c in &copies {
        for i in &alone[c.scenario] {
            *expected.entry(key(i, c.days, c.line_base)).or_default() += 1;
        }
    }
    let doc = logs_json(&path);
    // Analysed window by window, as any archive this long is.
    let windows = doc["metrics"]["windows"].as_u64().unwrap();
    assert!(windows > 1, "{windows} windows");
    let mut found: BTreeMap<Key, usize> = BTreeMap::new();
    let mut cited: BTreeMap<u64, String> = BTreeMap::new();
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            cited.insert(
                e["line"].as_u64().unwrap(),
                e["text"].as_str().unwrap().to_string(),
            );
        }
        if BETWEEN_COPIES.contains(&i["kind"].as_str().unwrap()) {
            continue;
        }
        *found.entry(key(i, 0, 0)).or_default() += 1;
    }
    assert_eq!(
        expected.values().sum::<usize>(),
        alone.iter().map(Vec::len).sum::<usize>() * ROUNDS as usize
    );
    let missing: Vec<_> = expected
        .iter()
        .filter(|(k, n)| found.get(*k) != Some(n))
        .collect();
    let extra: Vec<_> = found
        .iter()
        .filter(|(k, n)| expected.get(*k) != Some(n))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {:?}\nextra {:?}",
        &missing[..missing.len().min(3)],
        &extra[..extra.len().min(3)]
    );
    // Cited lines are read back from the archive, each the line it names.
    let f = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let mut checked = 0;
    for (n, l) in f.lines().enumerate() {
        if let Some(text) = cited.get(&(n as u64 + 1)) {
            assert_eq!(text, &l.unwrap(), "line {}", n + 1);
            checked += 1;
        }
    }
    assert_eq!(checked, cited.len());
    std::fs::remove_dir_all(&dir).ok();

    let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    eprintln!(
        "peak RSS {} MiB on a {} MiB archive",
        peak_kib / 1024,
        size >> 20
    );
    assert!(
        peak_kib < BOUND_MIB * 1024,
        "peak RSS {} MiB on a {} MiB archive",
        peak_kib / 1024,
        size >> 20
    );
}

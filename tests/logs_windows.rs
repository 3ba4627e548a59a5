//! A long archive analysed window by window says what the whole run at once
//! says. The archive replays recorded single-node scenarios from
//! `testdata/logs/`, each copy a day after the one before (so the six hours
//! of context a window keeps on each side of its span see every copy's
//! incidents whole) and with pids of its own (a pid seen again weeks later
//! is another process, which only windows would tell), and `logs` runs on
//! it twice: once as a whole (`--window-events 0`) and once analysing and
//! pruning every few dozen retained events. The two JSON documents must be
//! the same but for the count of windows, which must be many;
//! `--timeline-limit 40` makes the listing choose among events pruned
//! windows ago. The same replay running backwards in time is analysed in
//! windows only with a warning naming the first line out of order, and
//! exit code 3.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use common::replay::{day_of, shift_line};
use redsleuth::logs::line::days_from_civil;

/// Single-node scenarios, each recorded within a day, whose stamped lines
/// all carry `PID:R DD Mon YYYY`.
const SCENARIOS: [&str; 8] = [
    "07-persistence-failures/debian-7.0.15/redis-disk-full-aof-always.log",
    "07-persistence-failures/debian-7.0.15/redis-rdb-permission.log",
    "08-slow-and-output-buffer/debian-7.0.15/redis.log",
    "15-fork-failed/debian-7.0.15/redis.log",
    "18-fork-failed-misconf/debian-7.0.15/redis.log",
    "06-crash/debian-7.0.15/redis-segfault.log",
    "01-startup-persistence/debian-7.0.15/redis.log",
    "05-memory-pressure/debian-7.0.15/redis.log",
];
const ROUNDS: i64 = 12;

/// The line with each number that is one of `pids` moved by `by`.
fn shift_pids(line: &str, pids: &HashSet<&str>, by: u64) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut rest = line;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let digits = &rest[start..];
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        let n = &digits[..end];
        match pids.contains(n) {
            true => out.push_str(&(n.parse::<u64>().unwrap() + by).to_string()),
            false => out.push_str(n),
        }
        rest = &digits[end..];
    }
    out.push_str(rest);
    out
}

fn logs_json(path: &Path, window_events: usize) -> serde_json::Value {
    let windows = format!("--window-events={window_events}");
    let extra = ["--min-severity", "info", "--timeline-limit", "40", &windows];
    common::replay::logs_json(path, &extra)
}

/// Writes the replay: copy k on day k after the first (`forward`), or
/// on day N - k, so that the archive runs backwards in time.
fn write_archive(path: &Path, forward: bool) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/logs");
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    // Copy k lands on day k after this one, whatever day it was recorded.
    let day0 = days_from_civil(2026, 11, 23);
    let copies = ROUNDS * SCENARIOS.len() as i64;
    let mut k = 0;
    for _ in 0..ROUNDS {
        for s in SCENARIOS {
            k += 1;
            let text = std::fs::read_to_string(root.join(s)).unwrap();
            let first = text.lines().find_map(day_of).unwrap();
            let day = if forward { k } else { copies + 1 - k };
            let days = day0 + day - first;
            let pids: HashSet<&str> = text
                .lines()
                .filter_map(|l| l.split_once(':').map(|p| p.0))
                .filter(|p| p.len() >= 3 && p.bytes().all(|c| c.is_ascii_digit()))
                .collect();
            for l in text.lines() {
                let l = shift_pids(l, &pids, k as u64 * 100_000);
                writeln!(out, "{}", shift_line(&l, days)).unwrap();
            }
        }
    }
    out.flush().unwrap();
}

#[test]
fn windows_find_what_the_whole_run_finds() {
    let dir = std::env::temp_dir().join(format!("redsleuth-windows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("archive.log");
    write_archive(&path, true);

    let mut whole = logs_json(&path, 0);
    let mut windowed = logs_json(&path, 64);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(whole["metrics"]["windows"], 1);
    let windows = windowed["metrics"]["windows"].as_u64().unwrap();
    assert!(windows > 10, "{windows} windows");
    // Every copy's incidents are there, in both.
    let incidents = whole["incidents"].as_array().unwrap().len();
    assert!(
        incidents >= SCENARIOS.len() * ROUNDS as usize,
        "{incidents}"
    );
    for doc in [&mut whole, &mut windowed] {
        doc["metrics"].as_object_mut().unwrap().remove("windows");
    }
    let brief = |doc: &serde_json::Value| -> Vec<String> {
        let mut v: Vec<String> = doc["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| format!("{} {} {}", i["kind"], i["start"], i["nodes"]))
            .collect();
        v.sort();
        v
    };
    let (a, b) = (brief(&whole), brief(&windowed));
    let only_whole: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
    let only_windowed: Vec<&String> = b.iter().filter(|x| !a.contains(x)).collect();
    assert!(
        only_whole.is_empty() && only_windowed.is_empty(),
        "whole only: {only_whole:?}\nwindowed only: {only_windowed:?}"
    );
    for k in ["incidents", "events", "metrics", "nodes", "files"] {
        if whole[k] != windowed[k] {
            let (a, b) = (whole[k].to_string(), windowed[k].to_string());
            let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            let from = at.saturating_sub(300);
            panic!(
                "{k} differ at byte {at}:\nwhole    …{}\nwindowed …{}",
                &a[from..(at + 200).min(a.len())],
                &b[from..(at + 200).min(b.len())]
            );
        }
    }
    assert_eq!(whole, windowed);
}

#[test]
fn input_out_of_time_order_is_reported_when_analysed_in_windows() {
    let dir = std::env::temp_dir().join(format!("redsleuth-backwards-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("archive.log");
    write_archive(&path, false);
    let run = |window: &str| {
        Command::new(env!("CARGO_BIN_EXE_redsleuth"))
            .args(["logs", "--quiet", "--format", "json", window])
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let (whole, windowed) = (run("--window-events=0"), run("--window-events=64"));
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        whole.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&whole.stderr)
    );
    assert!(whole.stderr.is_empty());
    // Partial: each copy is stamped a day before the one read before it,
    // so before spans already analysed; the run names the first such line.
    assert_eq!(windowed.status.code(), Some(3));
    let err = String::from_utf8_lossy(&windowed.stderr);
    assert!(
        err.contains("archive.log:") && err.contains("stamped before lines already analysed"),
        "{err}"
    );
    let doc: serde_json::Value = serde_json::from_slice(&windowed.stdout).unwrap();
    assert!(doc["metrics"]["windows"].as_u64().unwrap() > 1);
    assert_eq!(
        doc["errors"].as_array().unwrap().len(),
        1,
        "{}",
        doc["errors"]
    );
}

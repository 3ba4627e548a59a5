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
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;

use common::replay::{assert_same, day_of, json_of, shift_line, MONTHS};
use redsleuth::logs::line::{civil_from_days, days_from_civil};

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
/// Churn after each copy that makes the replay large enough to be
/// streamed in pieces, not parsed whole (36 MB).
const STREAMED_CHURN: usize = 24 << 20 >> 6;

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
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    write_replay(&mut out, forward, 0);
    out.flush().unwrap();
}

/// The replay, with `churn` bytes of connection churn from a process of its
/// own after each copy, late on the copy's day (bulk without events, as a
/// busy server's log is).
fn write_replay(out: &mut dyn Write, forward: bool, churn: usize) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/logs");
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
            let (y, m, d) = civil_from_days(day0 + day);
            let mut written = 0;
            let mut i = 0u64;
            while written < churn {
                let (s, ms) = (i * 7 / 1000 % 60, i * 7 % 1000);
                let at = format!(
                    "{d:02} {} {y} 23:{:02}:{s:02}.{ms:03}",
                    MONTHS[m as usize - 1],
                    i * 7 / 60_000
                );
                let l = format!(
                    "4242:M {at} - Accepted 10.0.{}.{}:{}",
                    i % 7,
                    i % 200,
                    40_000 + i % 20_000
                );
                writeln!(out, "{l}").unwrap();
                written += l.len() + 1;
                i += 1;
            }
        }
    }
}

/// Asserts that two runs' documents are the same but for their count of
/// windows.
fn assert_same_but_windows(mut whole: serde_json::Value, mut windowed: serde_json::Value) {
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
        assert_same(k, &whole[k], &windowed[k]);
    }
    assert_eq!(whole, windowed);
}

#[test]
fn windows_find_what_the_whole_run_finds() {
    let dir = std::env::temp_dir().join(format!("redsleuth-windows-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("archive.log");
    write_archive(&path, true);

    let whole = logs_json(&path, 0);
    let windowed = logs_json(&path, 64);
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
    assert_same_but_windows(whole, windowed);
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

/// A fleet: three nodes' logs of the same days (one compressed), each the
/// replay above. Read one after the other, the first node's file would be
/// held whole until the last began; read at once and folded in time order,
/// the windows close as all three go, and say what the whole run says.
#[test]
fn a_fleets_logs_of_the_same_days_are_folded_in_time_order() {
    let dir = std::env::temp_dir().join(format!("redsleuth-fleet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let files: Vec<PathBuf> = ["redis-a.log", "redis-b.log", "redis-c.log.gz"]
        .iter()
        .map(|n| dir.join(n))
        .collect();
    for f in &files[..2] {
        let mut out = std::io::BufWriter::new(std::fs::File::create(f).unwrap());
        write_replay(&mut out, true, STREAMED_CHURN);
        out.flush().unwrap();
    }
    let gz = std::fs::File::create(&files[2]).unwrap();
    let mut enc = flate2::write::GzEncoder::new(gz, flate2::Compression::fast());
    write_replay(&mut enc, true, STREAMED_CHURN);
    enc.finish().unwrap();
    for (f, small) in files.iter().zip([1, 1, 10]) {
        let len = std::fs::metadata(f).unwrap().len();
        let small = redsleuth::logs::lanes::SMALL_FILE / small;
        assert!(len > small, "{} is {len} bytes", f.display());
    }

    let whole = logs_json(&dir, 0);
    let windowed = logs_json(&dir, 64);
    assert_eq!(whole["files"].as_array().unwrap().len(), 3);
    // Each scenario ran on a port of its own: every node of one file is
    // there for each of the three, named by its file.
    let names: Vec<&str> = whole["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    for set in ["redis-a.log:", "redis-b.log:", "redis-c.log:"] {
        let n = names.iter().filter(|x| x.starts_with(set)).count();
        assert_eq!(n * 3, names.len(), "{set} {names:?}");
    }
    let windows = windowed["metrics"]["windows"].as_u64().unwrap();
    assert!(windows > 10, "{windows} windows");
    let incidents = whole["incidents"].as_array().unwrap().len();
    assert!(
        incidents >= 3 * SCENARIOS.len() * ROUNDS as usize,
        "{incidents}"
    );
    assert_same_but_windows(whole, windowed);

    // What is retained at once is a small part of any one node's events
    // (read one after the other, the first file would be held whole: a
    // third of them). A batch is a piece of a file, here a week of copies.
    let opts = redsleuth::logs::Options {
        threads: 2,
        window_events: 64,
        ..Default::default()
    };
    let a = redsleuth::logs::analyze(&files, &opts);
    let total = a.timeline.events_total as usize;
    std::fs::remove_dir_all(&dir).ok();
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert!(
        a.peak_events * 6 < total,
        "{} of {total} events retained at once",
        a.peak_events
    );
}

/// The write-up (`report --rdb DUMP --logs`) of the long replay beside the
/// log of the scenario recorded with its dump (18: the save the dump is,
/// failed forks, -MISCONF), analysed in windows, is the one of the whole
/// run: what it reads of each window (the lines incidents cite, the saves
/// near an incident or the dump's) is held to the end.
#[test]
fn the_write_up_of_a_long_archive_is_the_same_in_windows() {
    let dir = std::env::temp_dir().join(format!("redsleuth-writeup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Streamed in pieces, so that windows close while both files are open.
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("archive.log")).unwrap());
    write_replay(&mut out, true, STREAMED_CHURN);
    out.flush().unwrap();
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/logs/18-fork-failed-misconf");
    std::fs::copy(root.join("debian-7.0.15/redis.log"), dir.join("redis.log")).unwrap();
    let rdb = root.join("debian-7.0.15.rdb");
    let report = |flags: &[&str]| {
        let args = [
            &["report", "--quiet", "--format", "json"][..],
            flags,
            &["--rdb"],
        ]
        .concat();
        let mut args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        args.extend([rdb.as_os_str(), OsStr::new("--logs"), dir.as_os_str()]);
        json_of(&args)
    };
    let whole = report(&["--window-events=0"]);
    let windowed = report(&["--window-events=64"]);
    let capped = report(&["--window-events=64", "--timeline-limit=100"]);
    // One analysis serves both halves: the log half is what `logs` alone
    // reports (with report's `--top`), although the analysis also held
    // what the write-up reads.
    let logs = |more: &str| {
        let args = [
            "logs",
            "--quiet",
            "--format=json",
            "--window-events=64",
            "--top=20",
            more,
        ];
        let mut args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
        args.push(dir.as_os_str());
        json_of(&args)
    };
    let (logs, logs_capped) = (logs("--timeline-limit=10000"), logs("--timeline-limit=100"));
    std::fs::remove_dir_all(&dir).ok();
    assert_same("logs", &logs, &windowed["logs"]);
    // A listing that lets events go (past its limit, those below medium
    // first) lists none of those the write-up alone holds.
    assert_eq!(logs_capped["metrics"]["events_listed"], 100);
    assert_same("logs (capped)", &logs_capped, &capped["logs"]);
    assert_eq!(whole["logs"]["metrics"]["windows"], 1);
    let windows = windowed["logs"]["metrics"]["windows"].as_u64().unwrap();
    assert!(windows > 10, "{windows} windows");
    let pm = &whole["postmortem"];
    assert!(
        pm["chain"].as_array().is_some_and(|c| !c.is_empty()),
        "{pm}"
    );
    for k in pm.as_object().unwrap().keys() {
        assert_same(
            &format!("postmortem.{k}"),
            &pm[k],
            &windowed["postmortem"][k],
        );
    }
    assert_eq!(pm, &windowed["postmortem"]);
}

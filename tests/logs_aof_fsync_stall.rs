//! Scenario 12 (AOF fsync stalls from a slow disk): one Redis 7.0.15 node with
//! `appendfsync everysec` under a steady write load, whose fsync()/fdatasync()
//! calls were delayed by 2.5 s (strace fault injection) in two phases: during
//! a BGSAVE (redis.log:11-17) and an AOF rewrite (19-24), five stalls
//! (12, 13, 14, 20, 21), all inside a fork; then, ten minutes later and with no
//! child running, four stalls (29-32). Every value below was checked by hand
//! against `testdata/logs/12-aof-fsync-stall/debian-7.0.15/redis.log`.
//!
//! The `valkey_*` tests read the same scenario run with Valkey 9.1.2
//! (`valkey-9.1.2/redis.log`, 3000000 keys so that each child lasts 12 s):
//! eight stalls inside the BGSAVE (12-19: 13-16) and the AOF rewrite (21-28:
//! 22-25), then four with no child ten minutes later (33-36). Valkey's A01
//! ends "this may slow down the server.".

mod common;

use common::logs::{analyze_dir, cited_lines, file_lines, only};
use serde_json::Value;

const DIR: &str = "testdata/logs/12-aof-fsync-stall/debian-7.0.15";
const LOG: &str = "testdata/logs/12-aof-fsync-stall/debian-7.0.15/redis.log";
const VK_DIR: &str = "testdata/logs/12-aof-fsync-stall/valkey-9.1.2";
const VK_LOG: &str = "testdata/logs/12-aof-fsync-stall/valkey-9.1.2/redis.log";

fn analyze() -> Value {
    analyze_dir(DIR)
}

fn log_lines() -> Vec<String> {
    file_lines(LOG)
}

#[test]
fn incidents_are_two_stall_bursts_and_the_overcommit_warning() {
    let doc = analyze();
    let got: Vec<(String, String, Vec<u64>)> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
                cited_lines(i),
            )
        })
        .collect();
    let want = [
        ("config_hazard", "info", vec![7]),
        // Three or more stalls in a burst: medium.
        // The stalls, then the start and end of each child they fell in
        // (BGSAVE 11 → 17, AOF rewrite 19 → 24).
        (
            "aof_fsync_stall",
            "medium",
            vec![12, 13, 14, 20, 21, 11, 17, 19, 24],
        ),
        ("aof_fsync_stall", "medium", vec![29, 30, 31, 32]),
    ];
    let want: Vec<(String, String, Vec<u64>)> = want
        .into_iter()
        .map(|(k, s, l)| (k.to_string(), s.to_string(), l))
        .collect();
    assert_eq!(got, want);

    // Every cited text is the exact line of the log.
    let log = log_lines();
    assert_eq!(log.len(), 35);
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            assert_eq!(e["file"].as_str().unwrap(), LOG);
            let n = e["line"].as_u64().unwrap() as usize;
            assert_eq!(e["text"].as_str().unwrap(), log[n - 1], "line {n}");
        }
    }
}

#[test]
fn the_log_has_the_stalls_and_fork_intervals_the_rule_reads() {
    // The hand check, kept next to the assertions on the analyzer: which
    // lines are A01 stalls and which open and close a persistence child.
    let log = log_lines();
    let at = |n: usize| log[n - 1].as_str();
    let stalls: Vec<usize> = (1..=log.len())
        .filter(|&n| at(n).contains("Asynchronous AOF fsync is taking too long (disk is busy?)"))
        .collect();
    assert_eq!(stalls, vec![12, 13, 14, 20, 21, 29, 30, 31, 32]);
    // [P02, P05]: BGSAVE by pid 26260, lines 11-17.
    assert!(at(11).ends_with("* Background saving started by pid 26260"));
    assert!(at(17).ends_with("* Background saving terminated with success"));
    // [A06, A08]: AOF rewrite by pid 26984, lines 19-24 (the first A08 line;
    // "finished successfully" follows at 28).
    assert!(at(19).ends_with("* Background append only file rewriting started by pid 26984"));
    assert!(at(24).ends_with("* Background AOF rewrite terminated with success"));
    assert!(at(28).ends_with("* Background AOF rewrite finished successfully"));
    // No other child in the file.
    let children = (1..=log.len())
        .filter(|&n| at(n).contains("started by pid"))
        .count();
    assert_eq!(children, 2);
}

#[test]
fn stalls_inside_a_fork_blame_the_child_and_the_others_the_disk() {
    let doc = analyze();
    let s = only(&doc, "aof_fsync_stall");
    assert_eq!(s.len(), 2);

    // Phase (a): 12, 13, 14 fall inside the BGSAVE (11 → 17), 20 and 21
    // inside the AOF rewrite (19 → 24): 5 of 5 during a fork, 100 % >= 70 %.
    let a = s[0];
    assert_eq!(a["nodes"], serde_json::json!([":18660"]));
    assert_eq!(a["start"], "2026-11-23 15:32:04.001");
    assert_eq!(a["end"], "2026-11-23 15:32:19.015");
    assert_eq!(
        a["summary"],
        "5 AOF fsync stall(s) on :18660 between 15:32:04.001 and 15:32:19.015 \
         (5.0 per minute; 5 during a fork): disk saturated by the persistence child (BGSAVE/AOF rewrite). \
         Writes wait on the disk, so latency spikes."
    );

    // Phase (b): 29-32, 9 min 53 s after the rewrite finished (28), with no
    // child: 0 of 4 during a fork. More than 10 minutes after the first
    // stall (15:32:04.001 → 15:42:23.001), so a burst of its own.
    let b = s[1];
    assert_eq!(b["nodes"], serde_json::json!([":18660"]));
    assert_eq!(b["start"], "2026-11-23 15:42:23.001");
    assert_eq!(b["end"], "2026-11-23 15:42:32.001");
    assert_eq!(
        b["summary"],
        "4 AOF fsync stall(s) on :18660 between 15:42:23.001 and 15:42:32.001 \
         (4.0 per minute; 0 during a fork): slow or noisy disk. \
         Writes wait on the disk, so latency spikes."
    );
}

#[test]
fn metrics_and_events_count_the_stalls_and_the_children() {
    let doc = analyze();
    let m = &doc["metrics"];
    assert_eq!(m["lines"], 35);
    assert_eq!(m["unparsed_lines"], 0);
    assert_eq!(m["aof_fsync_stalls"], 9);
    assert_eq!(m["bgsaves_started"], 1);
    assert_eq!(m["bgsave_failures"], 0);
    assert_eq!(m["crashes"], 0);
    let lc = &m["line_counts"];
    assert_eq!(lc["aof_fsync_slow"], 9);
    assert_eq!(lc["bgsave_started"], 1);
    assert_eq!(lc["bgsave_ok"], 1);
    assert_eq!(lc["aof_rewrite_started"], 1);
    assert_eq!(lc["aof_rewrite_ok"], 1);
    assert_eq!(lc["aof_rewrite_done"], 1);

    let stalls: Vec<(u64, &str, &str)> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "aof_fsync_slow")
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["id"].as_str().unwrap(),
                e["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stalls,
        [12, 13, 14, 20, 21, 29, 30, 31, 32]
            .into_iter()
            .map(|l| (l, "A01", "medium"))
            .collect::<Vec<_>>()
    );

    // One process lifetime, ended by SHUTDOWN NOSAVE.
    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["name"], ":18660");
    let lts = nodes[0]["lifetimes"].as_array().unwrap();
    assert_eq!(lts.len(), 1);
    assert_eq!(lts[0]["pid"], 26004);
    assert_eq!(lts[0]["end"], "clean");
}

#[test]
fn valkey_incidents_are_two_stall_bursts_and_the_overcommit_warning() {
    let doc = analyze_dir(VK_DIR);
    let got: Vec<(String, String, Vec<u64>)> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
                cited_lines(i),
            )
        })
        .collect();
    let want = [
        // Valkey logs the overcommit warning first, before "Valkey is
        // starting".
        ("config_hazard", "info", vec![1]),
        // The eight stalls, then the start and end of each child they fell
        // in (BGSAVE 12 → 19, AOF rewrite 21 → 28).
        (
            "aof_fsync_stall",
            "medium",
            vec![13, 14, 15, 16, 22, 23, 24, 25, 12, 19, 21, 28],
        ),
        ("aof_fsync_stall", "medium", vec![33, 34, 35, 36]),
    ];
    let want: Vec<(String, String, Vec<u64>)> = want
        .into_iter()
        .map(|(k, s, l)| (k.to_string(), s.to_string(), l))
        .collect();
    assert_eq!(got, want);

    // Every cited text is the exact line of the log.
    let log = file_lines(VK_LOG);
    assert_eq!(log.len(), 40);
    for i in doc["incidents"].as_array().unwrap() {
        assert_eq!(i["nodes"], serde_json::json!([":18660"]));
        for e in i["evidence"].as_array().unwrap() {
            assert_eq!(e["file"].as_str().unwrap(), VK_LOG);
            let n = e["line"].as_u64().unwrap() as usize;
            assert_eq!(e["text"].as_str().unwrap(), log[n - 1], "line {n}");
        }
    }
    assert_eq!(
        only(&doc, "config_hazard")[0]["summary"],
        "Configuration hazards on :18660: vm.overcommit_memory is not 1 (fork may fail under memory pressure)."
    );
}

#[test]
fn valkey_the_log_has_the_stalls_and_fork_intervals_the_rule_reads() {
    let log = file_lines(VK_LOG);
    let at = |n: usize| log[n - 1].as_str();
    assert!(at(1).starts_with(
        "7621:M 23 Nov 2026 16:14:06.265 # WARNING Memory overcommit must be enabled!"
    ));
    assert!(at(2).ends_with("* oO0OoO0OoO0Oo Valkey is starting oO0OoO0OoO0Oo"));
    assert!(at(3).contains(
        "Valkey version=9.1.2, bits=64, commit=00000000, modified=1, pid=7621, just started"
    ));
    // A01 in Valkey's wording.
    let stalls: Vec<usize> = (1..=log.len())
        .filter(|&n| at(n).contains("Asynchronous AOF fsync is taking too long (disk is busy?)"))
        .collect();
    assert_eq!(stalls, vec![13, 14, 15, 16, 22, 23, 24, 25, 33, 34, 35, 36]);
    for n in stalls {
        assert!(
            at(n).ends_with(
                "* Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer \
                 without waiting for fsync to complete, this may slow down the server."
            ),
            "line {n}"
        );
    }
    // [P02, P05]: BGSAVE by pid 7745, lines 12-19.
    assert!(at(12).ends_with("16:14:16.441 * Background saving started by pid 7745"));
    assert!(at(19).ends_with("16:14:28.650 * Background saving terminated with success"));
    // [A06, A08]: AOF rewrite by pid 8840, lines 21-28 ("finished
    // successfully" follows at 32).
    assert!(at(21)
        .ends_with("16:14:30.830 * Background append only file rewriting started by pid 8840"));
    assert!(at(28).ends_with("16:14:43.177 * Background AOF rewrite terminated with success"));
    assert!(at(32).ends_with("16:14:53.210 * Background AOF rewrite finished successfully"));
    // No other child in the file.
    let children = (1..=log.len())
        .filter(|&n| at(n).contains("started by pid"))
        .count();
    assert_eq!(children, 2);
    assert!(at(40).ends_with("# Valkey is now ready to exit, bye bye..."));
}

#[test]
fn valkey_stalls_inside_a_fork_blame_the_child_and_the_others_the_disk() {
    let doc = analyze_dir(VK_DIR);
    let s = only(&doc, "aof_fsync_stall");
    assert_eq!(s.len(), 2);

    // 13-16 fall inside the BGSAVE (12 → 19), 22-25 inside the AOF rewrite
    // (21 → 28): 8 of 8 during a fork.
    let a = s[0];
    assert_eq!(a["nodes"], serde_json::json!([":18660"]));
    assert_eq!(a["start"], "2026-11-23 16:14:19.295");
    assert_eq!(a["end"], "2026-11-23 16:14:42.754");
    assert_eq!(
        a["summary"],
        "8 AOF fsync stall(s) on :18660 between 16:14:19.295 and 16:14:42.754 \
         (8.0 per minute; 8 during a fork): disk saturated by the persistence child (BGSAVE/AOF rewrite). \
         Writes wait on the disk, so latency spikes."
    );

    // 33-36, 9 min 46 s after the rewrite finished (32), with no child:
    // 0 of 4 during a fork, 10 min 20 s after the first stall.
    let b = s[1];
    assert_eq!(b["nodes"], serde_json::json!([":18660"]));
    assert_eq!(b["start"], "2026-11-23 16:24:39.329");
    assert_eq!(b["end"], "2026-11-23 16:24:48.337");
    assert_eq!(
        b["summary"],
        "4 AOF fsync stall(s) on :18660 between 16:24:39.329 and 16:24:48.337 \
         (4.0 per minute; 0 during a fork): slow or noisy disk. \
         Writes wait on the disk, so latency spikes."
    );
}

#[test]
fn valkey_metrics_and_events_count_the_stalls_and_the_children() {
    let doc = analyze_dir(VK_DIR);
    let m = &doc["metrics"];
    assert_eq!(m["lines"], 40);
    assert_eq!(m["unparsed_lines"], 0);
    assert_eq!(m["aof_fsync_stalls"], 12);
    assert_eq!(m["bgsaves_started"], 1);
    assert_eq!(m["bgsave_failures"], 0);
    assert_eq!(m["crashes"], 0);
    let lc = &m["line_counts"];
    assert_eq!(lc["aof_fsync_slow"], 12);
    assert_eq!(lc["bgsave_started"], 1);
    assert_eq!(lc["bgsave_ok"], 1);
    assert_eq!(lc["aof_rewrite_started"], 1);
    assert_eq!(lc["aof_rewrite_ok"], 1);
    assert_eq!(lc["aof_rewrite_done"], 1);
    assert_eq!(lc["fork_cow"], 2);
    assert_eq!(lc["overcommit_disabled"], 1);

    let stalls: Vec<(u64, &str, &str)> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "aof_fsync_slow")
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["id"].as_str().unwrap(),
                e["severity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        stalls,
        [13, 14, 15, 16, 22, 23, 24, 25, 33, 34, 35, 36]
            .into_iter()
            .map(|l| (l, "A01", "medium"))
            .collect::<Vec<_>>()
    );

    // One Valkey process lifetime, ended by SHUTDOWN NOSAVE.
    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["name"], ":18660");
    assert_eq!(nodes[0]["version"], "Valkey 9.1.2");
    let lts = nodes[0]["lifetimes"].as_array().unwrap();
    assert_eq!(lts.len(), 1);
    assert_eq!(lts[0]["pid"], 7621);
    assert_eq!(lts[0]["start"], "2026-11-23 16:14:06.265");
    assert_eq!(lts[0]["end"], "clean");
}

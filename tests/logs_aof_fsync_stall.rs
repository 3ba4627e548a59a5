//! Scenario 12 (AOF fsync stalls from a slow disk): one Redis 7.0.15 node with
//! `appendfsync everysec` under a steady write load, whose fsync()/fdatasync()
//! calls were delayed by 2.5 s (strace fault injection) in two phases: during
//! a BGSAVE (redis.log:11-17) and an AOF rewrite (19-24), five stalls
//! (12, 13, 14, 20, 21), all inside a fork; then, ten minutes later and with no
//! child running, four stalls (29-32). Every value below was checked by hand
//! against `testdata/logs/12-aof-fsync-stall/debian-7.0.15/redis.log`.

use std::process::Command;

use serde_json::Value;

const DIR: &str = "testdata/logs/12-aof-fsync-stall/debian-7.0.15";
const LOG: &str = "testdata/logs/12-aof-fsync-stall/debian-7.0.15/redis.log";

fn analyze() -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args([
            "logs",
            DIR,
            "--min-severity",
            "info",
            "--format",
            "json",
            "--quiet",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn log_lines() -> Vec<String> {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LOG))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn lines(i: &Value) -> Vec<u64> {
    i["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect()
}

fn only<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
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
                lines(i),
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

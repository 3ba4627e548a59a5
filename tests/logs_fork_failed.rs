//! Scenario 15 (BGSAVE fork refused by a pids cgroup limit): one Redis
//! 7.0.15 node (pid 18005) in a pids cgroup whose `pids.max` was set to the
//! number of its tasks (5: the main thread and its background threads), so
//! fork() fails with EAGAIN. After CONFIG SET save "3600 1", three BGSAVEs
//! 3 s apart each log "Can't save in background: fork: Resource temporarily
//! unavailable" (redis.log:9-11) and a probe SET after each got -MISCONF
//! (steps.txt). With `pids.max` back to `max` a BGSAVE (child 18141, line
//! 12) succeeds (15), a SET is accepted again and the server shuts down
//! cleanly (16-17). Every value below was checked by hand against
//! `testdata/logs/15-fork-failed/debian-7.0.15/`.

mod common;

use common::logs::{analyze_dir, file_lines, only};
use serde_json::Value;

const DIR: &str = "testdata/logs/15-fork-failed/debian-7.0.15";
const REDIS: &str = "testdata/logs/15-fork-failed/debian-7.0.15/redis.log";
const STEPS: &str = "testdata/logs/15-fork-failed/debian-7.0.15/steps.txt";

fn analyze() -> Value {
    analyze_dir(DIR)
}

/// (kind, severity, cited lines of redis.log) of an incident.
type Summary = (String, String, Vec<u64>);

fn lines_cited(i: &Value) -> Vec<u64> {
    i["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["file"], REDIS);
            e["line"].as_u64().unwrap()
        })
        .collect()
}

#[test]
fn incidents_are_the_hazard_and_one_fork_failure_window() {
    let doc = analyze();
    let got: Vec<Summary> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
                lines_cited(i),
            )
        })
        .collect();
    let want = vec![
        // The overcommit warning at startup.
        ("config_hazard".to_string(), "info".to_string(), vec![7]),
        // FC1 in one incident: the three P03 lines, then the P05 that ends
        // the (inferred) MISCONF window. No P02 is cited (no child was
        // created before line 12), nor the overcommit warning: EAGAIN is a
        // task limit, not memory (W01 is a factor for ENOMEM only).
        (
            "fork_failed".to_string(),
            "high".to_string(),
            vec![9, 10, 11, 15],
        ),
    ];
    assert_eq!(got, want);

    // Every cited text is the exact line of the file.
    let redis = file_lines(REDIS);
    assert_eq!(redis.len(), 17);
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            let n = e["line"].as_u64().unwrap() as usize;
            assert_eq!(e["text"].as_str().unwrap(), redis[n - 1], "line {n}");
        }
    }
}

#[test]
fn the_logs_show_three_refused_forks_then_a_save() {
    // The hand check, kept next to the assertions on the analyzer.
    let redis = file_lines(REDIS);
    let r = |n: usize| redis[n - 1].as_str();
    assert!(r(2).contains("Redis version=7.0.15,") && r(2).contains("pid=18005, just started"));
    assert!(r(5).ends_with("* Running mode=standalone, port=18720."));
    assert!(r(7).starts_with(
        "18005:M 23 Nov 2026 16:24:27.872 # WARNING Memory overcommit must be enabled!"
    ));
    for (n, ts) in [
        (9, "16:24:28.091"),
        (10, "16:24:31.130"),
        (11, "16:24:34.166"),
    ] {
        assert_eq!(
            r(n),
            format!(
                "18005:M 23 Nov 2026 {ts} # Can't save in background: fork: Resource temporarily unavailable"
            )
        );
    }
    // The only fork failures, and no ENOMEM anywhere.
    let p03: Vec<usize> = (1..=redis.len())
        .filter(|&n| r(n).contains("Can't save in background"))
        .collect();
    assert_eq!(p03, vec![9, 10, 11]);
    assert!(!redis.iter().any(|l| l.contains("Cannot allocate memory")));
    // The first child of the lifetime, then success and a clean shutdown.
    assert_eq!(
        r(12),
        "18005:M 23 Nov 2026 16:24:37.221 * Background saving started by pid 18141"
    );
    assert!(r(13).starts_with("18141:C ") && r(13).ends_with("* DB saved on disk"));
    assert_eq!(
        r(15),
        "18005:M 23 Nov 2026 16:24:37.401 * Background saving terminated with success"
    );
    assert!(r(17).ends_with("# Redis is now ready to exit, bye bye..."));

    // The replies the script recorded: the limit was the tasks already in
    // the cgroup; every BGSAVE got -ERR and every SET after the first
    // failure -MISCONF, even after the limit was raised, until the save.
    let steps =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(STEPS))
            .unwrap();
    assert!(steps.contains("pids.max set to 5 (pids.current 5)"));
    assert!(steps.contains("16:24:28 probe SET before any BGSAVE: OK"));
    for n in 1..=3 {
        assert!(steps.contains(&format!(" BGSAVE {n}: ERR\n")), "{n}");
    }
    assert_eq!(steps.matches("probe SET: MISCONF ").count(), 4);
    assert!(steps.contains("pids.events: max 3 "));
    assert!(steps.contains("16:24:37 pids.max set back to max\n16:24:37 probe SET: MISCONF "));
    assert!(steps.contains("BGSAVE done: rdb_last_bgsave_status ok\n16:24:37 probe SET: OK\n"));
}

#[test]
fn the_fork_failure_is_a_pid_limit_and_writes_were_refused_until_the_save() {
    let doc = analyze();

    let f = only(&doc, "fork_failed");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["nodes"], serde_json::json!([":18720"]));
    // From the first P03 to the P05 of line 15.
    assert_eq!(f[0]["start"], "2026-11-23 16:24:28.091");
    assert_eq!(f[0]["end"], "2026-11-23 16:24:37.401");
    let s = f[0]["summary"].as_str().unwrap();
    // EAGAIN: a process/cgroup limit, not memory.
    assert!(
        s.starts_with(
            "Fork failed on :18720 at 16:24:28.091: Resource temporarily unavailable \
             (process or cgroup task limit, EAGAIN). The process or its cgroup may not \
             create another task (RLIMIT_NPROC, pids.max): not a memory problem."
        ),
        "{s}"
    );
    assert!(!s.contains("ENOMEM") && !s.contains("out of memory"), "{s}");
    assert!(!s.contains("overcommit"), "{s}");
    // The MISCONF window, 9.310 s, and the three failures.
    assert!(
        s.ends_with(
            " With save points configured and stop-writes-on-bgsave-error yes (the default), \
             writes were rejected with -MISCONF (inferred, not logged) from 16:24:28.091 \
             until the next successful BGSAVE at 16:24:37.401 (9.3 s). 3 failure lines in this window."
        ),
        "{s}"
    );

    let h = only(&doc, "config_hazard");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["nodes"], serde_json::json!([":18720"]));
    assert_eq!(
        h[0]["summary"],
        "Configuration hazards on :18720: vm.overcommit_memory is not 1 (fork may fail under memory pressure)."
    );

    for kind in [
        "bgsave_failed",
        "bgsave_killed",
        "disk_full",
        "oom_kill",
        "memory_exhaustion",
        "crash",
        "restart",
        "unclean_restart",
    ] {
        assert!(only(&doc, kind).is_empty(), "{kind}");
    }

    // One node, one lifetime, ended cleanly.
    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["name"], ":18720");
    assert_eq!(nodes[0]["mode"], "standalone");
    assert_eq!(nodes[0]["version"], "Redis 7.0.15");
    let lts = nodes[0]["lifetimes"].as_array().unwrap();
    assert_eq!(lts.len(), 1);
    assert_eq!(lts[0]["pid"], 18005);
    assert_eq!(lts[0]["start"], "2026-11-23 16:24:27.871");
    assert_eq!(lts[0]["ready"], "2026-11-23 16:24:27.872");
    assert_eq!(lts[0]["last"], "2026-11-23 16:24:37.449");
    assert_eq!(lts[0]["end"], "clean");
}

#[test]
fn metrics_and_events_count_the_refused_forks() {
    let doc = analyze();
    let m = &doc["metrics"];
    assert_eq!(m["lines"], 17);
    assert_eq!(m["unparsed_lines"], 0);
    assert_eq!(m["nodes"], 1);
    assert_eq!(m["lifetimes"], 1);
    assert_eq!(m["bgsaves_started"], 1);
    // Three BGSAVEs that could not fork failed too (P03 marks the save failed).
    assert_eq!(m["bgsave_failures"], 3);
    assert_eq!(m["oom_kills"], 0);
    assert_eq!(m["crashes"], 0);
    assert_eq!(m["fork_cow_peak_mb_max"], 0.0);
    let lc = &m["line_counts"];
    assert_eq!(lc["fork_failed"], 3);
    assert_eq!(lc["bgsave_started"], 1);
    assert_eq!(lc["bgsave_ok"], 1);
    assert_eq!(lc["db_saved"], 1);
    assert_eq!(lc["fork_cow"], 1);
    assert_eq!(lc["overcommit_disabled"], 1);
    assert_eq!(lc["bgsave_error"], Value::Null);
    assert_eq!(lc["bgsave_signal"], Value::Null);

    let events = doc["events"].as_array().unwrap();
    let p03: Vec<(u64, &str)> = events
        .iter()
        .filter(|e| e["kind"] == "fork_failed")
        .map(|e| {
            assert_eq!(e["id"], "P03");
            assert_eq!(e["severity"], "high");
            assert_eq!(e["file"], REDIS);
            assert_eq!(e["pid"], 18005);
            assert_eq!(e["role"], "primary");
            assert_eq!(e["fields"]["reason"], "Resource temporarily unavailable");
            (e["line"].as_u64().unwrap(), e["ts"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        p03,
        vec![
            (9, "2026-11-23 16:24:28.091"),
            (10, "2026-11-23 16:24:31.130"),
            (11, "2026-11-23 16:24:34.166"),
        ]
    );
    let started: Vec<(u64, f64)> = events
        .iter()
        .filter(|e| e["kind"] == "bgsave_started")
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["fields"]["pid"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(started, vec![(12, 18141.0)]);
}

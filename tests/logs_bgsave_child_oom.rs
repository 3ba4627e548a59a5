//! Scenario 13 (BGSAVE child killed by the kernel OOM killer): one Redis
//! 7.0.15 node (pid 27071) in a 400 MB memory cgroup, filled to about 60 %
//! of it, with `oom-score-adj yes`. A first BGSAVE under a slow writer
//! succeeds (redis.log:9-12, copy-on-write peak 56 MB); a second one, child
//! pid 27564 (13), runs while keys are rewritten as fast as possible: the
//! cgroup reaches its limit, the kernel kills the child (kernel.log:79,
//! "Memory cgroup out of memory: Killed process 27564") and the server logs
//! "Background saving terminated by signal 9" (14). A third BGSAVE (15-18)
//! succeeds and the server shuts down cleanly (19-20). Every value below was
//! checked by hand against the two files in
//! `testdata/logs/13-bgsave-child-oom/debian-7.0.15/`.
//!
//! The `valkey_*` tests read the same scenario run with Valkey 9.1.2
//! (`valkey-9.1.2/`, pid 19573, 1550000 keys): the first BGSAVE succeeds
//! (redis.log:10-13, copy-on-write peak 16 MB), the second, child 19922 (14),
//! is killed (kernel.log:80, "Killed process 19922 (valkey-server)"; redis.log:15
//! signal 9), the third succeeds (16-19).

mod common;

use common::logs::{analyze_dir, cited_paths, file_lines, only};
use serde_json::Value;

const DIR: &str = "testdata/logs/13-bgsave-child-oom/debian-7.0.15";
const REDIS: &str = "testdata/logs/13-bgsave-child-oom/debian-7.0.15/redis.log";
const KERNEL: &str = "testdata/logs/13-bgsave-child-oom/debian-7.0.15/kernel.log";
const VK_DIR: &str = "testdata/logs/13-bgsave-child-oom/valkey-9.1.2";
const VK_REDIS: &str = "testdata/logs/13-bgsave-child-oom/valkey-9.1.2/redis.log";
const VK_KERNEL: &str = "testdata/logs/13-bgsave-child-oom/valkey-9.1.2/kernel.log";

fn analyze() -> Value {
    analyze_dir(DIR)
}

/// A citation: (file, line).
type Cite = (String, u64);

/// (kind, severity, evidence) of an incident.
type Summary = (String, String, Vec<Cite>);

#[test]
fn incidents_are_the_hazard_the_child_kill_and_the_killed_bgsave() {
    let doc = analyze();
    let got: Vec<Summary> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
                cited_paths(i),
            )
        })
        .collect();
    let r = |n: u64| (REDIS.to_string(), n);
    let k = |n: u64| (KERNEL.to_string(), n);
    let want = vec![
        // The overcommit warning at startup.
        ("config_hazard".to_string(), "info".to_string(), vec![r(7)]),
        // FC2 in one incident: the overcommit warning and the previous
        // fork's copy-on-write peak (contributing factors), P02 of the
        // child, the kernel's kill of that pid, P07 signal 9, then the next
        // P05, which ends the (inferred) MISCONF window.
        (
            "bgsave_killed".to_string(),
            "critical".to_string(),
            vec![r(7), r(11), r(13), k(79), r(14), r(18)],
        ),
    ];
    assert_eq!(got, want);

    // Every cited text is the exact line of its file.
    let redis = file_lines(REDIS);
    let kernel = file_lines(KERNEL);
    assert_eq!(redis.len(), 20);
    assert_eq!(kernel.len(), 79);
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            let n = e["line"].as_u64().unwrap() as usize;
            let text = match e["file"].as_str().unwrap() {
                REDIS => &redis[n - 1],
                KERNEL => &kernel[n - 1],
                f => panic!("unexpected file {f}"),
            };
            assert_eq!(e["text"].as_str().unwrap(), text, "line {n}");
        }
    }
}

#[test]
fn the_logs_show_the_bgsave_child_killed_and_the_server_alive() {
    // The hand check, kept next to the assertions on the analyzer.
    let redis = file_lines(REDIS);
    let kernel = file_lines(KERNEL);
    let r = |n: usize| redis[n - 1].as_str();
    let k = |n: usize| kernel[n - 1].as_str();
    // W01 at startup, the main pid 27071.
    assert!(r(2).contains("pid=27071, just started"));
    assert!(r(7).starts_with(
        "27071:M 23 Nov 2026 16:01:52.942 # WARNING Memory overcommit must be enabled!"
    ));
    // The previous cycle: BGSAVE 27218, CoW peak 56 MB, success.
    assert!(r(9).ends_with("* Background saving started by pid 27218"));
    assert!(r(11).ends_with("* Fork CoW for RDB: current 56 MB, peak 56 MB, average 33 MB"));
    assert!(r(12).ends_with("* Background saving terminated with success"));
    // P02 pid 27564, then P07 signal 9.
    assert_eq!(
        r(13),
        "27071:M 23 Nov 2026 16:02:03.985 * Background saving started by pid 27564"
    );
    assert_eq!(
        r(14),
        "27071:M 23 Nov 2026 16:02:04.674 # Background saving terminated by signal 9"
    );
    // The next BGSAVE succeeds, then a clean shutdown.
    assert!(r(15).ends_with("* Background saving started by pid 27653"));
    assert!(r(18).ends_with("16:02:09.727 * Background saving terminated with success"));
    assert!(r(20).ends_with("# Redis is now ready to exit, bye bye..."));

    // The kernel: the server (27071) allocated (a copy-on-write fault), the
    // cgroup was at its limit, and the child (oom_score_adj 800) was killed.
    assert!(k(1).ends_with(
        "] redis-server invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"
    ));
    assert!(k(2).contains(" PID: 27071 Comm: redis-server "));
    assert!(k(13).ends_with("]  do_wp_page+0x2b0/0xf90"));
    assert!(k(28).ends_with("] memory: usage 409600kB, limit 409600kB, failcnt 0"));
    assert!(k(76).ends_with("[  27071]     0 27071    80998    63931    61568     2363         0   602112        0             0 redis-server"));
    assert!(k(77).ends_with("[  27564]     0 27564    81096    62190    61569      621         0   589824        0           800 redis-server"));
    assert!(k(78).contains("constraint=CONSTRAINT_MEMCG,") && k(78).ends_with(",pid=27564,uid=0"));
    assert_eq!(
        k(79),
        "[Mon Nov 23 16:02:03 2026] Memory cgroup out of memory: Killed process 27564 (redis-server) \
         total-vm:324384kB, anon-rss:246276kB, file-rss:2484kB, shmem-rss:0kB, UID:0 pgtables:576kB oom_score_adj:800"
    );
    // One kill in the file, and not of the server.
    let kills: Vec<usize> = (1..=kernel.len())
        .filter(|&n| k(n).contains("Killed process"))
        .collect();
    assert_eq!(kills, vec![79]);
    // `dmesg -T` prints whole seconds: the kill is stamped 16:02:03, before
    // the fork logged at 16:02:03.985, although it happened after it.
    assert!(k(79).starts_with("[Mon Nov 23 16:02:03 2026] "));
}

#[test]
fn the_kill_is_of_the_bgsave_child_and_writes_were_refused_until_the_next_save() {
    let doc = analyze();

    // One FC2 incident on the server's node: the kernel line names pid
    // 27564, the P02 pid of line 13, in a memory cgroup; 246276 kB of
    // anon-rss is 240.5 MB; P07 signal 9 at 16:02:04.674; the writes are
    // refused (not logged) until the P05 of line 18, 5.053 s later.
    assert!(only(&doc, "oom_kill").is_empty());
    let k = only(&doc, "bgsave_killed");
    assert_eq!(k.len(), 1);
    assert_eq!(k[0]["nodes"], serde_json::json!([":18680"]));
    assert_eq!(k[0]["start"], "2026-11-23 16:02:04.674");
    assert_eq!(k[0]["end"], "2026-11-23 16:02:09.727");
    assert_eq!(
        k[0]["summary"],
        "BGSAVE child killed by SIGKILL on :18680 at 16:02:04.674. \
         The kernel OOM killer killed it (pid 27564, redis-server) at 16:02:03.000: the memory cgroup's limit was reached, \
         most likely copy-on-write of pages written during the save; anon-rss 240.5 MB. \
         The previous fork's copy-on-write peaked at 56 MB (16:01:59.784). \
         Contributing factor: vm.overcommit_memory is not 1 (warned at 16:01:52.942). \
         With save points configured and stop-writes-on-bgsave-error yes (the default), writes were rejected with -MISCONF \
         (inferred, not logged) from 16:02:04.674 until the next successful BGSAVE at 16:02:09.727 (5.1 s)."
    );

    // The overcommit warning is reported as a hazard of :18680.
    let h = only(&doc, "config_hazard");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["nodes"], serde_json::json!([":18680"]));
    assert_eq!(
        h[0]["summary"],
        "Configuration hazards on :18680: vm.overcommit_memory is not 1 (fork may fail under memory pressure)."
    );

    // The server process was not killed: its one lifetime ended cleanly,
    // no lifetime anywhere is oom-killed, and nothing restarted or crashed.
    let nodes = doc["nodes"].as_array().unwrap();
    let server = nodes.iter().find(|n| n["name"] == ":18680").unwrap();
    assert_eq!(server["port"], 18680);
    assert_eq!(server["version"], "Redis 7.0.15");
    let lts = server["lifetimes"].as_array().unwrap();
    assert_eq!(lts.len(), 1);
    assert_eq!(lts[0]["pid"], 27071);
    assert_eq!(lts[0]["start"], "2026-11-23 16:01:52.941");
    assert_eq!(lts[0]["last"], "2026-11-23 16:02:09.835");
    assert_eq!(lts[0]["end"], "clean");
    // The kernel log given on its own is the host's, with no server process.
    let host = nodes.iter().find(|n| n["mode"] == "kernel").unwrap();
    assert_eq!(host["port"], Value::Null);
    assert_eq!(host["lifetimes"], serde_json::json!([]));
    for n in nodes {
        for l in n["lifetimes"].as_array().unwrap() {
            assert_ne!(l["end"], "oom-killed", "{}", n["name"]);
            assert_ne!(l["pid"], 27564, "{}", n["name"]);
        }
    }
    for kind in [
        "crash",
        "restart",
        "unclean_restart",
        "fork_failed",
        "bgsave_failed",
        "memory_exhaustion",
    ] {
        assert!(only(&doc, kind).is_empty(), "{kind}");
    }
}

#[test]
fn metrics_and_events_count_the_saves_and_the_kill() {
    let doc = analyze();
    let m = &doc["metrics"];
    assert_eq!(m["lines"], 99);
    assert_eq!(m["unparsed_lines"], 0);
    assert_eq!(m["bgsaves_started"], 3);
    // The signal-9 child is a failed BGSAVE; the kernel log is the host's,
    // not a second server.
    assert_eq!(m["bgsave_failures"], 1);
    assert_eq!(m["nodes"], 1);
    assert_eq!(m["lifetimes"], 1);
    assert_eq!(m["oom_kills"], 1);
    assert_eq!(m["crashes"], 0);
    assert_eq!(m["fork_cow_peak_mb_max"], 56.0);
    let lc = &m["line_counts"];
    assert_eq!(lc["bgsave_started"], 3);
    assert_eq!(lc["bgsave_signal"], 1);
    assert_eq!(lc["bgsave_ok"], 2);
    assert_eq!(lc["db_saved"], 2);
    assert_eq!(lc["fork_cow"], 2);
    assert_eq!(lc["kernel_oom_invoked"], 1);
    assert_eq!(lc["kernel_oom_kill"], 1);
    assert_eq!(lc["overcommit_disabled"], 1);

    let events = doc["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["kind"] == kind).collect() };

    // The three children, by their P02 lines.
    let started: Vec<(u64, f64)> = of("bgsave_started")
        .iter()
        .map(|e| {
            assert_eq!(e["id"], "P02");
            (
                e["line"].as_u64().unwrap(),
                e["fields"]["pid"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(started, vec![(9, 27218.0), (13, 27564.0), (15, 27653.0)]);

    // P07 with signal 9.
    let sig = of("bgsave_signal");
    assert_eq!(sig.len(), 1);
    assert_eq!(sig[0]["id"], "P07");
    assert_eq!(sig[0]["severity"], "high");
    assert_eq!(sig[0]["file"], REDIS);
    assert_eq!(sig[0]["line"], 14);
    assert_eq!(sig[0]["pid"], 27071);
    assert_eq!(sig[0]["fields"]["signal"], 9.0);

    // The copy-on-write peaks of the two successful children.
    let cow: Vec<(u64, f64)> = of("fork_cow")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["fields"]["peak"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(cow, vec![(11, 56.0), (17, 0.0)]);

    // The kernel's kill line, read from `dmesg -T`.
    let kill = of("kernel_oom_kill");
    assert_eq!(kill.len(), 1);
    assert_eq!(kill[0]["id"], "O01");
    assert_eq!(kill[0]["severity"], "critical");
    assert_eq!(kill[0]["file"], KERNEL);
    assert_eq!(kill[0]["line"], 79);
    assert_eq!(kill[0]["ts"], "2026-11-23 16:02:03.000");
    assert_eq!(kill[0]["fields"]["pid"], 27564.0);
    assert_eq!(kill[0]["fields"]["comm"], "redis-server");
    assert_eq!(kill[0]["fields"]["anon_rss_kb"], 246276.0);
    assert_eq!(kill[0]["fields"]["total_vm_kb"], 324384.0);
    let inv = of("kernel_oom_invoked");
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0]["line"], 1);
    assert_eq!(inv[0]["fields"]["task"], "redis-server");
}

#[test]
fn valkey_incidents_are_the_hazard_and_the_killed_bgsave() {
    let doc = analyze_dir(VK_DIR);
    let got: Vec<Summary> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_string(),
                i["severity"].as_str().unwrap().to_string(),
                cited_paths(i),
            )
        })
        .collect();
    let r = |n: u64| (VK_REDIS.to_string(), n);
    let k = |n: u64| (VK_KERNEL.to_string(), n);
    let want = vec![
        // Valkey logs the overcommit warning first, before "Valkey is
        // starting".
        ("config_hazard".to_string(), "info".to_string(), vec![r(1)]),
        // FC2: W01, the previous fork's M01, P02 of the child, the kernel's
        // kill of that pid, P07 signal 9, then the next P05.
        (
            "bgsave_killed".to_string(),
            "critical".to_string(),
            vec![r(1), r(12), r(14), k(80), r(15), r(19)],
        ),
    ];
    assert_eq!(got, want);

    // Every cited text is the exact line of its file.
    let redis = file_lines(VK_REDIS);
    let kernel = file_lines(VK_KERNEL);
    assert_eq!(redis.len(), 22);
    assert_eq!(kernel.len(), 80);
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            let n = e["line"].as_u64().unwrap() as usize;
            let text = match e["file"].as_str().unwrap() {
                VK_REDIS => &redis[n - 1],
                VK_KERNEL => &kernel[n - 1],
                f => panic!("unexpected file {f}"),
            };
            assert_eq!(e["text"].as_str().unwrap(), text, "line {n}");
        }
    }
}

#[test]
fn valkey_the_logs_show_the_bgsave_child_killed_and_the_server_alive() {
    let redis = file_lines(VK_REDIS);
    let kernel = file_lines(VK_KERNEL);
    let r = |n: usize| redis[n - 1].as_str();
    let k = |n: usize| kernel[n - 1].as_str();
    // W01 first, then the start of the main pid 19573.
    assert!(r(1).starts_with(
        "19573:M 23 Nov 2026 16:25:28.787 # WARNING Memory overcommit must be enabled!"
    ));
    assert!(r(2).ends_with("* oO0OoO0OoO0Oo Valkey is starting oO0OoO0OoO0Oo"));
    assert!(r(3).contains(
        "Valkey version=9.1.2, bits=64, commit=00000000, modified=1, pid=19573, just started"
    ));
    // The previous cycle: BGSAVE 19731, CoW peak 16 MB, success.
    assert!(r(10).ends_with("* Background saving started by pid 19731"));
    assert!(r(12).ends_with("* Fork CoW for RDB: current 16 MB, peak 16 MB, average 8 MB"));
    assert!(r(13).ends_with("* Background saving terminated with success"));
    // P02 pid 19922, then P07 signal 9.
    assert_eq!(
        r(14),
        "19573:M 23 Nov 2026 16:25:37.211 * Background saving started by pid 19922"
    );
    assert_eq!(
        r(15),
        "19573:M 23 Nov 2026 16:25:38.062 # Background saving terminated by signal 9"
    );
    // The next BGSAVE succeeds, then a clean shutdown.
    assert!(r(16).ends_with("* Background saving started by pid 20011"));
    assert!(r(19).ends_with("16:25:41.483 * Background saving terminated with success"));
    assert!(r(20).contains("* User requested shutdown... (user request from 'id="));
    assert!(r(22).ends_with("# Valkey is now ready to exit, bye bye..."));

    // The kernel: the server (19573) allocated (a copy-on-write fault), the
    // cgroup was at its limit, and the child (oom_score_adj 800) was killed.
    assert!(k(1).ends_with(
        "] valkey-server invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"
    ));
    assert!(k(2).contains(" PID: 19573 Comm: valkey-server "));
    assert!(k(13).ends_with("]  do_wp_page+0x2b0/0xf90"));
    assert!(k(29).ends_with("] memory: usage 409600kB, limit 409600kB, failcnt 0"));
    assert!(k(32).ends_with("] Memory cgroup stats for /redsleuth-13:"));
    assert!(k(77).ends_with("[  19573]     0 19573    72205    61531    60256     1275         0   557056        0             0 valkey-server"));
    assert!(k(78).ends_with("[  19922]     0 19922    72306    61145    60307      838         0   557056        0           800 valkey-server"));
    assert!(k(79).contains("constraint=CONSTRAINT_MEMCG,") && k(79).ends_with(",pid=19922,uid=0"));
    assert_eq!(
        k(80),
        "[Mon Nov 23 16:25:37 2026] Memory cgroup out of memory: Killed process 19922 (valkey-server) \
         total-vm:289224kB, anon-rss:241228kB, file-rss:3352kB, shmem-rss:0kB, UID:0 pgtables:544kB oom_score_adj:800"
    );
    let kills: Vec<usize> = (1..=kernel.len())
        .filter(|&n| k(n).contains("Killed process"))
        .collect();
    assert_eq!(kills, vec![80]);
}

#[test]
fn valkey_the_kill_is_of_the_bgsave_child_and_writes_were_refused_until_the_next_save() {
    let doc = analyze_dir(VK_DIR);

    // 241228 kB of anon-rss is 235.6 MB; the writes are refused (not
    // logged) from P07 (15) until the P05 of line 19, 3.421 s later.
    assert!(only(&doc, "oom_kill").is_empty());
    let k = only(&doc, "bgsave_killed");
    assert_eq!(k.len(), 1);
    assert_eq!(k[0]["nodes"], serde_json::json!([":18680"]));
    assert_eq!(k[0]["start"], "2026-11-23 16:25:38.062");
    assert_eq!(k[0]["end"], "2026-11-23 16:25:41.483");
    assert_eq!(
        k[0]["summary"],
        "BGSAVE child killed by SIGKILL on :18680 at 16:25:38.062. \
         The kernel OOM killer killed it (pid 19922, valkey-server) at 16:25:37.000: the memory cgroup's limit was reached, \
         most likely copy-on-write of pages written during the save; anon-rss 235.6 MB. \
         The previous fork's copy-on-write peaked at 16 MB (16:25:32.997). \
         Contributing factor: vm.overcommit_memory is not 1 (warned at 16:25:28.787). \
         With save points configured and stop-writes-on-bgsave-error yes (the default), writes were rejected with -MISCONF \
         (inferred, not logged) from 16:25:38.062 until the next successful BGSAVE at 16:25:41.483 (3.4 s)."
    );

    let h = only(&doc, "config_hazard");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["nodes"], serde_json::json!([":18680"]));
    assert_eq!(
        h[0]["summary"],
        "Configuration hazards on :18680: vm.overcommit_memory is not 1 (fork may fail under memory pressure)."
    );

    // The server process was not killed.
    let nodes = doc["nodes"].as_array().unwrap();
    let server = nodes.iter().find(|n| n["name"] == ":18680").unwrap();
    assert_eq!(server["port"], 18680);
    assert_eq!(server["version"], "Valkey 9.1.2");
    let lts = server["lifetimes"].as_array().unwrap();
    assert_eq!(lts.len(), 1);
    assert_eq!(lts[0]["pid"], 19573);
    assert_eq!(lts[0]["start"], "2026-11-23 16:25:28.787");
    assert_eq!(lts[0]["last"], "2026-11-23 16:25:41.555");
    assert_eq!(lts[0]["end"], "clean");
    let host = nodes.iter().find(|n| n["mode"] == "kernel").unwrap();
    assert_eq!(host["port"], Value::Null);
    assert_eq!(host["lifetimes"], serde_json::json!([]));
    for n in nodes {
        for l in n["lifetimes"].as_array().unwrap() {
            assert_ne!(l["end"], "oom-killed", "{}", n["name"]);
            assert_ne!(l["pid"], 19922, "{}", n["name"]);
        }
    }
    for kind in [
        "crash",
        "restart",
        "unclean_restart",
        "fork_failed",
        "bgsave_failed",
        "memory_exhaustion",
    ] {
        assert!(only(&doc, kind).is_empty(), "{kind}");
    }
}

#[test]
fn valkey_metrics_and_events_count_the_saves_and_the_kill() {
    let doc = analyze_dir(VK_DIR);
    let m = &doc["metrics"];
    assert_eq!(m["lines"], 102);
    assert_eq!(m["unparsed_lines"], 0);
    assert_eq!(m["bgsaves_started"], 3);
    assert_eq!(m["bgsave_failures"], 1);
    assert_eq!(m["nodes"], 1);
    assert_eq!(m["lifetimes"], 1);
    assert_eq!(m["oom_kills"], 1);
    assert_eq!(m["crashes"], 0);
    assert_eq!(m["fork_cow_peak_mb_max"], 16.0);
    let lc = &m["line_counts"];
    assert_eq!(lc["bgsave_started"], 3);
    assert_eq!(lc["bgsave_signal"], 1);
    assert_eq!(lc["bgsave_ok"], 2);
    assert_eq!(lc["db_saved"], 2);
    assert_eq!(lc["fork_cow"], 2);
    assert_eq!(lc["kernel_oom_invoked"], 1);
    assert_eq!(lc["kernel_oom_kill"], 1);
    assert_eq!(lc["overcommit_disabled"], 1);

    let events = doc["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["kind"] == kind).collect() };

    let started: Vec<(u64, f64)> = of("bgsave_started")
        .iter()
        .map(|e| {
            assert_eq!(e["id"], "P02");
            (
                e["line"].as_u64().unwrap(),
                e["fields"]["pid"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(started, vec![(10, 19731.0), (14, 19922.0), (16, 20011.0)]);

    let sig = of("bgsave_signal");
    assert_eq!(sig.len(), 1);
    assert_eq!(sig[0]["id"], "P07");
    assert_eq!(sig[0]["severity"], "high");
    assert_eq!(sig[0]["file"], VK_REDIS);
    assert_eq!(sig[0]["line"], 15);
    assert_eq!(sig[0]["pid"], 19573);
    assert_eq!(sig[0]["fields"]["signal"], 9.0);

    let cow: Vec<(u64, f64)> = of("fork_cow")
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap(),
                e["fields"]["peak"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(cow, vec![(12, 16.0), (18, 0.0)]);

    let kill = of("kernel_oom_kill");
    assert_eq!(kill.len(), 1);
    assert_eq!(kill[0]["id"], "O01");
    assert_eq!(kill[0]["severity"], "critical");
    assert_eq!(kill[0]["file"], VK_KERNEL);
    assert_eq!(kill[0]["line"], 80);
    assert_eq!(kill[0]["ts"], "2026-11-23 16:25:37.000");
    assert_eq!(kill[0]["fields"]["pid"], 19922.0);
    assert_eq!(kill[0]["fields"]["comm"], "valkey-server");
    assert_eq!(kill[0]["fields"]["anon_rss_kb"], 241228.0);
    assert_eq!(kill[0]["fields"]["total_vm_kb"], 289224.0);
    let inv = of("kernel_oom_invoked");
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0]["line"], 1);
    assert_eq!(inv[0]["fields"]["task"], "valkey-server");
}

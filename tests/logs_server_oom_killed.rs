//! Scenario 14 (the server process killed by the kernel OOM killer, then
//! restarted by a supervisor): one Redis 7.0.15 node in a 300 MB memory
//! cgroup with `maxmemory 0`. The first process (pid 5454) starts empty
//! (redis.log:1-8), gets 300000 keys and a SAVE (9, "DB saved on disk", its
//! last line), then new keys are written until the cgroup is full: the
//! server itself invokes the OOM killer (kernel.log:1-2) and is killed
//! (80, "Memory cgroup out of memory: Killed process 5454"). A supervisor
//! starts it again (pid 5769, 10): it loads the RDB of the SAVE, 8 s old,
//! 300000 keys (17-21; the 1319000 keys acknowledged after the SAVE are
//! lost, steps.txt), is ready at 16:13:11.644 (22) and shuts down cleanly
//! (23-24). Every value below was checked by hand against the two files in
//! `testdata/logs/14-server-oom-killed/debian-7.0.15/`.

mod common;

use common::logs::{analyze_dir, cited_paths, file_lines, only};
use serde_json::Value;

const DIR: &str = "testdata/logs/14-server-oom-killed/debian-7.0.15";
const REDIS: &str = "testdata/logs/14-server-oom-killed/debian-7.0.15/redis.log";
const KERNEL: &str = "testdata/logs/14-server-oom-killed/debian-7.0.15/kernel.log";

fn analyze() -> Value {
    analyze_dir(DIR)
}

/// A citation: (file, line).
type Cite = (String, u64);

/// (kind, severity, evidence) of an incident.
type Summary = (String, String, Vec<Cite>);

#[test]
fn incidents_are_the_unclean_restart_the_kill_and_the_hazard() {
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
        // FC10 (kernel OOM for the main pid): the last line, the kernel
        // line, the restart and the time it served again.
        (
            "oom_kill".to_string(),
            "critical".to_string(),
            vec![r(9), k(80), r(10), r(22)],
        ),
        // FC3: the killed process's last line, the kernel's kill, the new
        // process's start, the age of the file it reloaded (P10), its P11
        // keys loaded, P12 load time and L04.
        (
            "unclean_restart".to_string(),
            "high".to_string(),
            vec![r(9), k(80), r(10), r(18), r(20), r(21), r(22)],
        ),
        // The overcommit warning, latest occurrence (the second start).
        ("config_hazard".to_string(), "info".to_string(), vec![r(16)]),
    ];
    assert_eq!(got, want);

    // Every cited text is the exact line of its file.
    let redis = file_lines(REDIS);
    let kernel = file_lines(KERNEL);
    assert_eq!(redis.len(), 24);
    assert_eq!(kernel.len(), 80);
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
fn the_logs_show_the_server_killed_and_restarted_from_the_older_rdb() {
    // The hand check, kept next to the assertions on the analyzer.
    let redis = file_lines(REDIS);
    let kernel = file_lines(KERNEL);
    let r = |n: usize| redis[n - 1].as_str();
    let k = |n: usize| kernel[n - 1].as_str();
    // The first process, pid 5454: started empty (no RDB load between
    // "Server initialized" and "Ready"), the overcommit warning, one SAVE by
    // the main process (role M: no fork), and nothing after it.
    assert!(r(2).contains("pid=5454, just started"));
    assert!(r(5).ends_with("* Running mode=standalone, port=18700."));
    assert!(r(6).ends_with("# Server initialized"));
    assert!(r(7).starts_with(
        "5454:M 23 Nov 2026 16:13:03.196 # WARNING Memory overcommit must be enabled!"
    ));
    assert_eq!(
        r(8),
        "5454:M 23 Nov 2026 16:13:03.196 * Ready to accept connections"
    );
    assert_eq!(r(9), "5454:M 23 Nov 2026 16:13:03.909 * DB saved on disk");
    let first: Vec<usize> = (1..=redis.len())
        .filter(|&n| r(n).starts_with("5454:"))
        .collect();
    assert_eq!(first, (1..=9).collect::<Vec<_>>());
    // No shutdown line, no crash report, no fork child in that process.
    for n in 1..=9 {
        assert!(
            !r(n).contains("shutdown") && !r(n).contains("bye bye"),
            "{n}"
        );
        assert!(!r(n).contains("crashed") && !r(n).contains("by pid"), "{n}");
    }

    // The kernel: the server (5454) itself allocated, the memory cgroup was
    // at its 300 MB limit, the server was the only task and was killed.
    assert!(k(1).ends_with(
        "] redis-server invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"
    ));
    assert!(k(2).contains(" PID: 5454 Comm: redis-server "));
    assert!(k(30).ends_with("] memory: usage 307200kB, limit 307200kB, failcnt 0"));
    assert!(k(33).ends_with("] Memory cgroup stats for /redsleuth-14:"));
    assert!(k(78).ends_with(
        "[   5454]     0  5454   108487    78906    76548     2358         0   729088        0             0 redis-server"
    ));
    assert!(k(79).contains("constraint=CONSTRAINT_MEMCG,") && k(79).ends_with(",pid=5454,uid=0"));
    assert_eq!(
        k(80),
        "[Mon Nov 23 16:13:08 2026] Memory cgroup out of memory: Killed process 5454 (redis-server) \
         total-vm:433948kB, anon-rss:306192kB, file-rss:9432kB, shmem-rss:0kB, UID:0 pgtables:712kB oom_score_adj:0"
    );
    let kills: Vec<usize> = (1..=kernel.len())
        .filter(|&n| k(n).contains("Killed process"))
        .collect();
    assert_eq!(kills, vec![80]);
    // One task in the cgroup's table: the server.
    let tasks: Vec<usize> = (1..=kernel.len())
        .filter(|&n| k(n).ends_with(" redis-server") && k(n).contains("]     0 "))
        .collect();
    assert_eq!(tasks, vec![78]);

    // The restarted process, pid 5769: loads the RDB of line 9 (8 s old,
    // 300000 keys), is ready, then a clean SHUTDOWN.
    assert!(r(10).starts_with("5769:C 23 Nov 2026 16:13:11.373 # oO0OoO0OoO0Oo Redis is starting"));
    assert!(r(11).contains("pid=5769, just started"));
    assert!(r(16).contains("# WARNING Memory overcommit must be enabled!"));
    assert!(r(17).ends_with("* Loading RDB produced by version 7.0.15"));
    assert_eq!(r(18), "5769:M 23 Nov 2026 16:13:11.375 * RDB age 8 seconds");
    assert!(r(19).ends_with("* RDB memory usage when created 55.34 Mb"));
    assert_eq!(
        r(20),
        "5769:M 23 Nov 2026 16:13:11.644 * Done loading RDB, keys loaded: 300000, keys expired: 0."
    );
    assert!(r(21).ends_with("* DB loaded from disk: 0.268 seconds"));
    assert_eq!(
        r(22),
        "5769:M 23 Nov 2026 16:13:11.644 * Ready to accept connections"
    );
    assert!(r(23).ends_with("16:13:11.758 # User requested shutdown..."));
    assert!(r(24).ends_with("16:13:11.758 # Redis is now ready to exit, bye bye..."));
}

#[test]
fn the_main_process_is_oom_killed_and_the_restart_is_unclean() {
    let doc = analyze();

    // Two lifetimes on :18700: the first ends `oom-killed` (kernel line for
    // its pid 4.1 s after its last line), the second loaded 300000 keys in
    // 0.268 s and ended cleanly.
    let nodes = doc["nodes"].as_array().unwrap();
    let server = nodes.iter().find(|n| n["name"] == ":18700").unwrap();
    assert_eq!(server["port"], 18700);
    assert_eq!(server["mode"], "standalone");
    assert_eq!(server["version"], "Redis 7.0.15");
    assert_eq!(server["files"], serde_json::json!([REDIS]));
    let lts = server["lifetimes"].as_array().unwrap();
    assert_eq!(lts.len(), 2);
    assert_eq!(lts[0]["pid"], 5454);
    assert_eq!(lts[0]["start"], "2026-11-23 16:13:03.195");
    assert_eq!(lts[0]["ready"], "2026-11-23 16:13:03.196");
    assert_eq!(lts[0]["last"], "2026-11-23 16:13:03.909");
    assert_eq!(lts[0]["end"], "oom-killed");
    assert_eq!(lts[0]["keys_loaded"], Value::Null);
    assert_eq!(lts[0]["load_seconds"], Value::Null);
    assert_eq!(lts[1]["pid"], 5769);
    assert_eq!(lts[1]["start"], "2026-11-23 16:13:11.373");
    assert_eq!(lts[1]["ready"], "2026-11-23 16:13:11.644");
    assert_eq!(lts[1]["last"], "2026-11-23 16:13:11.758");
    assert_eq!(lts[1]["end"], "clean");
    assert_eq!(lts[1]["keys_loaded"], 300000);
    assert_eq!(lts[1]["load_seconds"], 0.268);

    // The kernel log given on its own is the host's, with no server process.
    assert_eq!(nodes.len(), 2);
    let host = nodes.iter().find(|n| n["mode"] == "kernel").unwrap();
    assert_eq!(host["name"], "kernel.log");
    assert_eq!(host["port"], Value::Null);
    assert_eq!(host["files"], serde_json::json!([KERNEL]));
    assert_eq!(host["lifetimes"], serde_json::json!([]));

    // FC10: the kill of the main pid, on the server's node, from the kill
    // (dmesg -T whole second) until ready again 3.644 s later;
    // 306192 kB of anon-rss is 299.0 MB.
    let k = only(&doc, "oom_kill");
    assert_eq!(k.len(), 1);
    assert_eq!(k[0]["nodes"], serde_json::json!([":18700"]));
    assert_eq!(k[0]["start"], "2026-11-23 16:13:08.000");
    assert_eq!(k[0]["end"], "2026-11-23 16:13:11.644");
    assert_eq!(
        k[0]["summary"],
        "The kernel OOM killer killed the server process of :18700 (pid 5454, redis-server) at 16:13:08.000; \
         anon-rss 299.0 MB. Its last line was at 16:13:03.909. \
         It restarted and was serving again at 16:13:11.644 (3.6 s down). \
         Its memory cgroup's limit was reached: check maxmemory against that limit \
         (a maxmemory of 0, the default, leaves the dataset unbounded)."
    );

    // FC3: the unclean restart. The process was alive until the kernel
    // killed it (kernel.log:1-2 show it allocating at 16:13:08), so the
    // downtime runs from the kill to L04 of the next process (16:13:11.644),
    // not from its last line. The reloaded RDB was 8 s old (redis.log:18):
    // the writes after the save at 16:13:03.909 are lost.
    let u = only(&doc, "unclean_restart");
    assert_eq!(u.len(), 1);
    assert_eq!(u[0]["nodes"], serde_json::json!([":18700"]));
    assert_eq!(u[0]["start"], "2026-11-23 16:13:08.000");
    assert_eq!(u[0]["end"], "2026-11-23 16:13:11.644");
    assert_eq!(
        u[0]["summary"],
        ":18700 restarted: pid 5454 ended at 16:13:03.909 (killed by the kernel OOM killer at 16:13:08.000); \
         pid 5769 started 16:13:11.373 and was ready at 16:13:11.644 (3.6 s unavailable). \
         Loaded 300000 keys in 0.268 s. \
         The file it loaded was 8 s old: writes from about 16:13:03.375 until the process died were lost."
    );

    // The overcommit warning is reported as a hazard of :18700.
    let h = only(&doc, "config_hazard");
    assert_eq!(h.len(), 1);
    assert_eq!(h[0]["nodes"], serde_json::json!([":18700"]));
    assert_eq!(
        h[0]["summary"],
        "Configuration hazards on :18700: vm.overcommit_memory is not 1 (fork may fail under memory pressure)."
    );

    // Not a crash, a planned restart, a fork child's kill or a restart loop.
    for kind in [
        "crash",
        "restart",
        "restart_loop",
        "bgsave_killed",
        "bgsave_failed",
        "fork_failed",
        "memory_exhaustion",
        "memory_growth",
    ] {
        assert!(only(&doc, kind).is_empty(), "{kind}");
    }
}

#[test]
fn metrics_and_events_count_the_kill_and_the_load() {
    let doc = analyze();
    let m = &doc["metrics"];
    assert_eq!(m["lines"], 104);
    assert_eq!(m["unparsed_lines"], 0);
    // The kernel log is the host's, not a second server.
    assert_eq!(m["nodes"], 1);
    assert_eq!(m["lifetimes"], 2);
    assert_eq!(m["oom_kills"], 1);
    assert_eq!(m["crashes"], 0);
    assert_eq!(m["bgsaves_started"], 0);
    assert_eq!(m["bgsave_failures"], 0);
    assert_eq!(m["incidents"], 3);
    let lc = &m["line_counts"];
    assert_eq!(lc["server_starting"], 2);
    assert_eq!(lc["ready"], 2);
    assert_eq!(lc["db_saved"], 1);
    assert_eq!(lc["rdb_age"], 1);
    assert_eq!(lc["keys_loaded"], 1);
    assert_eq!(lc["db_loaded"], 1);
    assert_eq!(lc["shutdown_requested"], 1);
    assert_eq!(lc["ready_to_exit"], 1);
    assert_eq!(lc["overcommit_disabled"], 2);
    assert_eq!(lc["kernel_oom_invoked"], 1);
    assert_eq!(lc["kernel_oom_kill"], 1);

    let events = doc["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<&Value> { events.iter().filter(|e| e["kind"] == kind).collect() };

    // The kernel's kill line, read from `dmesg -T`, moved to the server's
    // node.
    let kill = of("kernel_oom_kill");
    assert_eq!(kill.len(), 1);
    assert_eq!(kill[0]["id"], "O01");
    assert_eq!(kill[0]["severity"], "critical");
    assert_eq!(kill[0]["node"], ":18700");
    assert_eq!(kill[0]["file"], KERNEL);
    assert_eq!(kill[0]["line"], 80);
    assert_eq!(kill[0]["ts"], "2026-11-23 16:13:08.000");
    assert_eq!(kill[0]["fields"]["pid"], 5454.0);
    assert_eq!(kill[0]["fields"]["comm"], "redis-server");
    assert_eq!(kill[0]["fields"]["anon_rss_kb"], 306192.0);
    assert_eq!(kill[0]["fields"]["total_vm_kb"], 433948.0);
    let inv = of("kernel_oom_invoked");
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0]["node"], "kernel.log");
    assert_eq!(inv[0]["line"], 1);
    assert_eq!(inv[0]["fields"]["task"], "redis-server");

    // The SAVE of the first process, then the second process's load: P10
    // age 8 s and 55.34 Mb, P11 300000 keys, P12 0.268 s.
    let saved = of("db_saved");
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0]["id"], "P04");
    assert_eq!(saved[0]["line"], 9);
    assert_eq!(saved[0]["pid"], 5454);
    let age = of("rdb_age");
    assert_eq!(age.len(), 1);
    assert_eq!(age[0]["line"], 18);
    assert_eq!(age[0]["pid"], 5769);
    assert_eq!(age[0]["fields"]["age"], 8.0);
    let mem = of("rdb_memory");
    assert_eq!(mem.len(), 1);
    assert_eq!(mem[0]["line"], 19);
    assert_eq!(mem[0]["fields"]["mb"], 55.34);
    let keys = of("keys_loaded");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["id"], "P11");
    assert_eq!(keys[0]["line"], 20);
    assert_eq!(keys[0]["pid"], 5769);
    assert_eq!(keys[0]["fields"]["loaded"], 300000.0);
    assert_eq!(keys[0]["fields"]["expired"], 0.0);
    let load = of("db_loaded");
    assert_eq!(load.len(), 1);
    assert_eq!(load[0]["line"], 21);
    assert_eq!(load[0]["fields"]["seconds"], 0.268);
}

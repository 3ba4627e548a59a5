//! Scenario 11 (memory growth, then a cold start): one Redis 7.0.15 node
//! restarted five times with SHUTDOWN SAVE while each lifetime wrote twice as
//! many keys, so the four RDB loads log "RDB memory usage when created"
//! 5.49, 10.01, 19.06 and 37.15 Mb (redis.log:22, 39, 56, 73); then dump.rdb
//! was deleted and the last start loaded nothing after a start that had
//! loaded 160000 keys. Every value below was checked by hand against
//! `testdata/logs/11-memory-growth/debian-7.0.15/redis.log`.
//!
//! The `valkey_*` tests read the same run with Valkey 9.1.2
//! (`valkey-9.1.2/redis.log`): 4.71, 8.35, 15.63 and 30.20 Mb (redis.log:26,
//! 46, 66, 86), then the cold start. Valkey logs the overcommit warning
//! before "Valkey is starting", so it is the first line of each process.

mod common;

use common::logs::{analyze_dir, cited_lines, only};
use serde_json::Value;

const DIR: &str = "testdata/logs/11-memory-growth/debian-7.0.15";
const LOG: &str = "testdata/logs/11-memory-growth/debian-7.0.15/redis.log";
const VK_DIR: &str = "testdata/logs/11-memory-growth/valkey-9.1.2";
const VK_LOG: &str = "testdata/logs/11-memory-growth/valkey-9.1.2/redis.log";

fn analyze() -> Value {
    analyze_dir(DIR)
}

#[test]
fn incidents_are_the_restarts_the_growth_and_the_overcommit_warning() {
    let doc = analyze();
    let mut got: Vec<(String, String, Vec<u64>)> = doc["incidents"]
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
    got.sort_by_key(|(_, _, l)| l.first().copied());
    let want = [
        ("restart", "low", vec![9, 12, 13, 23, 24, 25]),
        ("memory_growth", "low", vec![22, 39, 56, 73]),
        ("restart", "low", vec![26, 29, 30, 40, 41, 42]),
        ("restart", "low", vec![43, 46, 47, 57, 58, 59]),
        ("restart", "low", vec![60, 63, 64, 74, 75, 76]),
        // The cold start cites the previous start's load (160000 keys).
        ("restart", "high", vec![74, 77, 80, 81, 88]),
        // Only the latest of the six overcommit warnings is cited.
        ("config_hazard", "info", vec![87]),
    ];
    let want: Vec<(String, String, Vec<u64>)> = want
        .into_iter()
        .map(|(k, s, l)| (k.to_string(), s.to_string(), l))
        .collect();
    assert_eq!(got, want);

    // Every cited text is the exact line of the log.
    let text = std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(LOG))
        .unwrap();
    let log: Vec<&str> = text.lines().collect();
    assert_eq!(log.len(), 90);
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            assert_eq!(e["file"].as_str().unwrap(), LOG);
            let n = e["line"].as_u64().unwrap() as usize;
            assert_eq!(e["text"].as_str().unwrap(), log[n - 1], "line {n}");
        }
    }
}

#[test]
fn rdb_memory_points_give_the_growth_rate() {
    let doc = analyze();
    let g = only(&doc, "memory_growth");
    assert_eq!(g.len(), 1);
    let g = g[0];
    assert_eq!(g["nodes"], serde_json::json!([":18640"]));
    // First and last P10 lines: 15:12:42.104 (5.49 Mb) and 15:13:07.105
    // (37.15 Mb): 31.66 MB in 25.001 s, i.e. 4558.86 MB/h.
    assert_eq!(g["start"], "2026-11-23 15:12:42.104");
    assert_eq!(g["end"], "2026-11-23 15:13:07.105");
    assert_eq!(
        g["summary"],
        "Dataset memory on :18640 grew from 5.49 MB to 37.15 MB over 25.0 s \
         (4558.86 MB/h) across 4 RDB loads."
    );
    let mb: Vec<f64> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rdb_memory")
        .map(|e| e["fields"]["mb"].as_f64().unwrap())
        .collect();
    assert_eq!(mb, vec![5.49, 10.01, 19.06, 37.15]);
}

#[test]
fn restarts_report_keys_loaded_and_the_last_one_is_cold() {
    let doc = analyze();
    let r = only(&doc, "restart");
    assert_eq!(r.len(), 5);
    for (i, (keys, secs)) in [
        (20000, "0.021"),
        (40000, "0.039"),
        (80000, "0.088"),
        (160000, "0.178"),
    ]
    .into_iter()
    .enumerate()
    {
        let s = r[i]["summary"].as_str().unwrap();
        assert!(s.contains("(clean shutdown)"), "{s}");
        assert!(
            s.contains(&format!("Loaded {keys} keys in {secs} s.")),
            "{s}"
        );
        assert!(!s.contains("Nothing was loaded"), "{s}");
    }

    // pid 3695 (loaded 160000 keys, redis.log:74) stopped cleanly at
    // 15:13:10.565; dump.rdb was then deleted and pid 3814 served from
    // 15:13:12.596 without any load line (83 "Configuration loaded" ..
    // 88 "Ready to accept connections").
    let cold = r[4];
    // 160000 keys gone: data loss, not just a cold cache.
    assert_eq!(cold["severity"], "high");
    assert_eq!(cold["start"], "2026-11-23 15:13:10.369");
    assert_eq!(cold["end"], "2026-11-23 15:13:12.596");
    let s = cold["summary"].as_str().unwrap();
    assert!(
        s.starts_with(
            ":18640 restarted: pid 3695 ended at 15:13:10.565 (clean shutdown); \
             pid 3814 started 15:13:12.595 and was ready at 15:13:12.596 (2.2 s unavailable)."
        ),
        "{s}"
    );
    assert!(
        s.contains("Nothing was loaded from disk before serving"),
        "{s}"
    );
    assert!(!s.contains("Loaded "), "{s}");
    assert!(
        s.ends_with("The previous start loaded 160000 keys: they are lost."),
        "{s}"
    );

    // Lifetimes: six clean ones; the first and the last loaded nothing.
    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    let lts = nodes[0]["lifetimes"].as_array().unwrap();
    let got: Vec<(u64, &str, Option<u64>)> = lts
        .iter()
        .map(|l| {
            (
                l["pid"].as_u64().unwrap(),
                l["end"].as_str().unwrap(),
                l["keys_loaded"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (2190, "clean", None),
            (2810, "clean", Some(20000)),
            (3067, "clean", Some(40000)),
            (3598, "clean", Some(80000)),
            (3695, "clean", Some(160000)),
            (3814, "clean", None),
        ]
    );
}

#[test]
fn valkey_incidents_are_the_restarts_the_growth_and_the_overcommit_warning() {
    let doc = analyze_dir(VK_DIR);
    let mut got: Vec<(String, String, Vec<u64>)> = doc["incidents"]
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
    got.sort_by_key(|(_, _, l)| l.first().copied());
    // A restart cites the shutdown request, the exit, the new process's
    // first line (its overcommit warning), the load lines and "Ready".
    let want = [
        ("restart", "low", vec![10, 14, 15, 27, 28, 29]),
        ("memory_growth", "low", vec![26, 46, 66, 86]),
        ("restart", "low", vec![30, 34, 35, 47, 48, 49]),
        ("restart", "low", vec![50, 54, 55, 67, 68, 69]),
        ("restart", "low", vec![70, 74, 75, 87, 88, 89]),
        // The cold start cites the previous start's load (160000 keys).
        ("restart", "high", vec![87, 90, 94, 95, 103]),
        // Only the latest of the six overcommit warnings is cited.
        ("config_hazard", "info", vec![95]),
    ];
    let want: Vec<(String, String, Vec<u64>)> = want
        .into_iter()
        .map(|(k, s, l)| (k.to_string(), s.to_string(), l))
        .collect();
    assert_eq!(got, want);

    let text =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(VK_LOG))
            .unwrap();
    let log: Vec<&str> = text.lines().collect();
    assert_eq!(log.len(), 106);
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            assert_eq!(e["file"].as_str().unwrap(), VK_LOG);
            let n = e["line"].as_u64().unwrap() as usize;
            assert_eq!(e["text"].as_str().unwrap(), log[n - 1], "line {n}");
        }
    }
}

#[test]
fn valkey_rdb_memory_points_give_the_growth_rate() {
    let doc = analyze_dir(VK_DIR);
    let g = only(&doc, "memory_growth");
    assert_eq!(g.len(), 1);
    let g = g[0];
    assert_eq!(g["nodes"], serde_json::json!([":18640"]));
    // 15:43:59.964 (4.71 Mb) to 15:44:24.911 (30.20 Mb): 25.49 MB in
    // 24.947 s, i.e. 3678.36 MB/h.
    assert_eq!(g["start"], "2026-11-23 15:43:59.964");
    assert_eq!(g["end"], "2026-11-23 15:44:24.911");
    assert_eq!(
        g["summary"],
        "Dataset memory on :18640 grew from 4.71 MB to 30.20 MB over 24.9 s \
         (3678.36 MB/h) across 4 RDB loads."
    );
    let mb: Vec<f64> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "rdb_memory")
        .map(|e| e["fields"]["mb"].as_f64().unwrap())
        .collect();
    assert_eq!(mb, vec![4.71, 8.35, 15.63, 30.2]);
}

#[test]
fn valkey_restarts_report_keys_loaded_and_the_last_one_is_cold() {
    let doc = analyze_dir(VK_DIR);
    let r = only(&doc, "restart");
    assert_eq!(r.len(), 5);
    // Load times as logged: 0.020, 0.038, 0.088 and 0.154 seconds.
    for (i, (keys, secs)) in [
        (20000, "0.02"),
        (40000, "0.038"),
        (80000, "0.088"),
        (160000, "0.154"),
    ]
    .into_iter()
    .enumerate()
    {
        let s = r[i]["summary"].as_str().unwrap();
        assert!(s.contains("(clean shutdown)"), "{s}");
        assert!(s.contains(&format!("Loaded {keys} keys in {secs}")), "{s}");
        assert!(!s.contains("Nothing was loaded"), "{s}");
    }

    // pid 10286 (loaded 160000 keys, redis.log:87) stopped cleanly at
    // 15:44:28.236; dump.rdb was then deleted and pid 10320 served from
    // 15:44:30.292 without any load line (95 overcommit warning .. 103
    // "Ready to accept connections").
    let cold = r[4];
    assert_eq!(cold["severity"], "high");
    assert_eq!(cold["start"], "2026-11-23 15:44:28.159");
    assert_eq!(cold["end"], "2026-11-23 15:44:30.292");
    let s = cold["summary"].as_str().unwrap();
    assert!(
        s.starts_with(
            ":18640 restarted: pid 10286 ended at 15:44:28.236 (clean shutdown); \
             pid 10320 started 15:44:30.259 and was ready at 15:44:30.292 (2.1 s unavailable)."
        ),
        "{s}"
    );
    assert!(
        s.contains("Nothing was loaded from disk before serving"),
        "{s}"
    );
    assert!(!s.contains("Loaded "), "{s}");
    assert!(
        s.ends_with("The previous start loaded 160000 keys: they are lost."),
        "{s}"
    );

    let nodes = doc["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["version"], "Valkey 9.1.2");
    let lts = nodes[0]["lifetimes"].as_array().unwrap();
    let got: Vec<(u64, &str, Option<u64>)> = lts
        .iter()
        .map(|l| {
            (
                l["pid"].as_u64().unwrap(),
                l["end"].as_str().unwrap(),
                l["keys_loaded"].as_u64(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (10138, "clean", None),
            (10175, "clean", Some(20000)),
            (10212, "clean", Some(40000)),
            (10249, "clean", Some(80000)),
            (10286, "clean", Some(160000)),
            (10320, "clean", None),
        ]
    );
}

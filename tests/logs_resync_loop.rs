//! Scenario 10 (replica full-resync loop, log-events.md FC6): a primary with
//! `client-output-buffer-limit replica 256kb 64kb 1` and ~500 MB of data
//! kept taking writes while a new replica synced. The primary closed the
//! replica's connection for overcoming its output buffer limit five times
//! (`flags=S`, primary.log:15,23,33,41,51), the replica retried each time, and
//! it logged six `Full resync from master` lines (replica.log:14..49) before
//! the sixth sync, after the load stopped and the limit was raised, finished
//! (replica.log:57). Every value below was checked by hand against
//! `testdata/logs/10-resync-loop/debian-7.0.15/`.
//!
//! The `valkey_*` tests read the same scenario run with Valkey 9.1.2
//! (`valkey-9.1.2/`: 1.5 GB of data, `repl-backlog-size 1mb`): five closes
//! of the syncing replica at 1 MB of output buffer (primary.log:15, 25, 35,
//! 45, 55), six `Full resync from primary` lines, then a sync that finished.

mod common;

use std::process::Command;

use common::logs::cites;
use serde_json::Value;

const DIR: &str = "testdata/logs/10-resync-loop/debian-7.0.15";
const VK_DIR: &str = "testdata/logs/10-resync-loop/valkey-9.1.2";

fn run(path: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(["logs", path, "--quiet"])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).expect("utf-8 output"),
    )
}

fn json(path: &str) -> Value {
    let (code, out) = run(path, &["--min-severity", "info", "--format", "json"]);
    assert_eq!(code, Some(0), "{out}");
    serde_json::from_str(&out).expect("valid JSON")
}

fn incident<'a>(doc: &'a Value, kind: &str) -> &'a Value {
    let found: Vec<&Value> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "one {kind} incident expected");
    found[0]
}

fn at(file: &str, lines: &[u64]) -> Vec<(String, u64)> {
    lines.iter().map(|&l| (file.to_string(), l)).collect()
}

/// Every evidence text must be the exact text of the cited line.
fn assert_evidence_exact(doc: &Value) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            let path = e["file"].as_str().unwrap();
            let text = std::fs::read_to_string(root.join(path)).unwrap();
            let n = e["line"].as_u64().unwrap() as usize;
            let line = text.lines().nth(n - 1).unwrap();
            assert_eq!(e["text"].as_str().unwrap(), line, "{path}:{n}");
        }
    }
}

#[test]
fn resync_loop_is_reported_with_the_replica_output_buffer_as_cause() {
    let doc = json(DIR);
    assert_evidence_exact(&doc);

    let mut kinds: Vec<(&str, &str, Vec<&str>)> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
                i["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("config_hazard", "info", vec![":18620"]),
            ("config_hazard", "info", vec![":18621"]),
            ("full_resync_loop", "high", vec![":18621"]),
            ("replica_output_buffer", "high", vec![":18620"]),
        ]
    );

    // The loop: the six `Full resync from master` lines of the replica, from
    // the first (offset 0) to the last attempt before the successful sync.
    let lp = incident(&doc, "full_resync_loop");
    assert_eq!(lp["start"], "2026-11-23 15:16:58.303");
    assert_eq!(lp["end"], "2026-11-23 15:17:08.192");
    // Evidence: the six resyncs, the five closes of the replica connection
    // on the primary (FC6 cites the cause), then the sync that succeeded.
    let mut want = at("replica.log", &[14, 21, 28, 35, 42, 49]);
    want.extend(at("primary.log", &[15, 23, 33, 41, 51]));
    want.extend(at("replica.log", &[57]));
    assert_eq!(cites(lp), want);
    for e in &lp["evidence"].as_array().unwrap()[..6] {
        assert!(
            e["text"]
                .as_str()
                .unwrap()
                .contains("* Full resync from master: 433d2d85f9de8298a4aeda9f2ce83a939b6c653a:"),
            "{e}"
        );
    }
    let s = lp["summary"].as_str().unwrap();
    assert!(
        s.starts_with("Replica :18621 did 6 full resyncs between 15:16:58.303 and 15:17:08.192"),
        "{s}"
    );
    assert!(
        s.contains("likely cause: replica output buffer limit too small (client-output-buffer-limit replica)"),
        "{s}"
    );
    // The largest omem of the five closes: 635624 bytes (primary.log:23).
    assert!(
        s.contains("the primary dropped the replica 5 times, at up to 620.7 KB of output buffer"),
        "{s}"
    );
    assert!(
        s.contains("A sync finally completed at 15:17:17.131."),
        "{s}"
    );
    // No repl-timeout, backlog or replica-side error lines exist in the
    // logs, and the BGSAVEs killed with signal 10 (primary.log:20, 29, 38,
    // 47, 56) are the primary stopping a sync nobody waits for, not a fork
    // failure.
    for absent in [
        "repl-timeout",
        "repl-backlog-size",
        "replica-side",
        "fork failure",
    ] {
        assert!(!s.contains(absent), "{absent}: {s}");
    }

    // The cause: five closes of a `flags=S` client on the primary (K02 at
    // 15, 33, 51; K01 "scheduled to be closed ASAP" at 23, 41), the first
    // with omem=553608 (540.6 KB).
    let ob = incident(&doc, "replica_output_buffer");
    assert_eq!(ob["start"], "2026-11-23 15:17:00.017");
    assert_eq!(ob["end"], "2026-11-23 15:17:08.046");
    assert_eq!(cites(ob), at("primary.log", &[15, 23, 33, 41, 51]));
    let omem: Vec<&str> = ob["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let t = e["text"].as_str().unwrap();
            assert!(t.contains(" flags=S "), "{t}");
            assert!(
                t.ends_with("for overcoming of output buffer limits."),
                "{t}"
            );
            t.split(' ').find(|w| w.starts_with("omem=")).unwrap()
        })
        .collect();
    assert_eq!(
        omem,
        [
            "omem=553608",
            "omem=635624",
            "omem=574112",
            "omem=574112",
            "omem=553608"
        ]
    );
    let s = ob["summary"].as_str().unwrap();
    assert!(
        s.starts_with("5 client(s) on :18620 were disconnected"),
        "{s}"
    );
    assert!(s.contains("between 15:17:00.017 and 15:17:08.046"), "{s}");
    assert!(s.contains("replica connection (flags=S)"), "{s}");
    assert!(
        s.contains("cmd=psync, output memory 540.6 KB, addr=127.0.0.1:60230"),
        "{s}"
    );

    // The overcommit warning is the only other finding, one per node.
    for i in doc["incidents"].as_array().unwrap() {
        if i["kind"] == "config_hazard" {
            let file = if i["nodes"][0] == ":18620" {
                "primary.log"
            } else {
                "replica.log"
            };
            assert_eq!(cites(i), at(file, &[7]));
        }
    }

    // Counters: six R14 on the replica, six R02 and six BGSAVEs for SYNC on
    // the primary, five output-buffer closes, one finished sync.
    let m = &doc["metrics"];
    assert_eq!(m["full_resyncs"], 6);
    assert_eq!(m["bgsaves_started"], 6);
    assert_eq!(m["bgsave_failures"], 0);
    let lc = &m["line_counts"];
    for (kind, n) in [
        ("full_resync", 6),
        ("full_resync_requested", 6),
        ("sync_bgsave", 6),
        ("output_buffer_limit", 5),
        ("bgsave_signal", 5),
        ("sync_flush", 1),
        ("sync_done", 1),
        ("sync_done_primary", 1),
    ] {
        assert_eq!(lc[kind], n, "{kind}");
    }
}

#[test]
fn replica_log_alone_shows_the_loop_without_a_cause() {
    // Without the primary's log the K01/K02 lines are missing, so the loop is
    // found from the replica's R14 lines alone and no cause is claimed.
    let doc = json(&format!("{DIR}/replica.log"));
    assert_evidence_exact(&doc);
    let lp = incident(&doc, "full_resync_loop");
    assert_eq!(lp["severity"], "high");
    assert_eq!(lp["nodes"], serde_json::json!([":18621"]));
    assert_eq!(cites(lp), at("replica.log", &[14, 21, 28, 35, 42, 49, 57]));
    let s = lp["summary"].as_str().unwrap();
    assert!(s.starts_with("Replica :18621 did 6 full resyncs"), "{s}");
    assert!(!s.contains("likely cause"), "{s}");
    assert_eq!(doc["incidents"].as_array().unwrap().len(), 2);
}

#[test]
fn resync_loop_fails_a_high_gate() {
    let (code, _) = run(DIR, &["--fail-on", "high"]);
    assert_eq!(code, Some(1));
    let (code, _) = run(DIR, &["--fail-on", "critical"]);
    assert_eq!(code, Some(0));
}

#[test]
fn valkey_resync_loop_is_reported_with_the_replica_output_buffer_as_cause() {
    let doc = json(VK_DIR);
    assert_evidence_exact(&doc);

    let mut kinds: Vec<(&str, &str, Vec<&str>)> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap(),
                i["severity"].as_str().unwrap(),
                i["nodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|n| n.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            ("config_hazard", "info", vec![":18620"]),
            ("config_hazard", "info", vec![":18621"]),
            ("full_resync_loop", "high", vec![":18621"]),
            ("replica_output_buffer", "high", vec![":18620"]),
        ]
    );

    // The six R14 lines (Valkey: "from primary"), the five closes on the
    // primary, then the sync that succeeded.
    let lp = incident(&doc, "full_resync_loop");
    assert_eq!(lp["start"], "2026-11-23 15:43:08.933");
    assert_eq!(lp["end"], "2026-11-23 15:43:29.026");
    let mut want = at("replica.log", &[15, 26, 37, 48, 59, 70]);
    want.extend(at("primary.log", &[15, 25, 35, 45, 55]));
    want.extend(at("replica.log", &[83]));
    assert_eq!(cites(lp), want);
    for e in &lp["evidence"].as_array().unwrap()[..6] {
        assert!(
            e["text"]
                .as_str()
                .unwrap()
                .contains("* Full resync from primary: 908f7e897492318052d9e5357c33d69b3eb637fd:"),
            "{e}"
        );
    }
    assert!(lp["evidence"][11]["text"]
        .as_str()
        .unwrap()
        .ends_with("* PRIMARY <-> REPLICA sync: Finished with success"));
    let s = lp["summary"].as_str().unwrap();
    assert!(
        s.starts_with("Replica :18621 did 6 full resyncs between 15:43:08.933 and 15:43:29.026"),
        "{s}"
    );
    assert!(
        s.contains("likely cause: replica output buffer limit too small (client-output-buffer-limit replica)"),
        "{s}"
    );
    // Every close was at omem=1052672 bytes.
    assert!(
        s.contains("the primary dropped the replica 5 times, at up to 1.0 MB of output buffer"),
        "{s}"
    );
    assert!(
        s.contains("A sync finally completed at 15:43:38.769."),
        "{s}"
    );
    // The BGSAVEs killed with signal 10 (primary.log:20, 30, 40, 50, 60)
    // follow "last replica dropped, killing fork child": not a fork failure.
    for absent in [
        "repl-timeout",
        "repl-backlog-size",
        "replica-side",
        "fork failure",
    ] {
        assert!(!s.contains(absent), "{absent}: {s}");
    }

    // The cause: five K01 "scheduled to be closed ASAP" of a flags=S client.
    let ob = incident(&doc, "replica_output_buffer");
    assert_eq!(ob["start"], "2026-11-23 15:43:12.492");
    assert_eq!(ob["end"], "2026-11-23 15:43:28.330");
    assert_eq!(cites(ob), at("primary.log", &[15, 25, 35, 45, 55]));
    for e in ob["evidence"].as_array().unwrap() {
        let t = e["text"].as_str().unwrap();
        assert!(t.contains(" flags=S "), "{t}");
        assert!(t.contains(" omem=1052672 "), "{t}");
        assert!(
            t.ends_with("scheduled to be closed ASAP for overcoming of output buffer limits."),
            "{t}"
        );
    }
    let s = ob["summary"].as_str().unwrap();
    assert!(
        s.starts_with("5 client(s) on :18620 were disconnected"),
        "{s}"
    );
    assert!(s.contains("between 15:43:12.492 and 15:43:28.330"), "{s}");
    assert!(s.contains("replica connection (flags=S)"), "{s}");
    assert!(
        s.contains("cmd=psync, output memory 1.0 MB, addr=127.0.0.1:59354"),
        "{s}"
    );

    // Valkey logs the overcommit warning first, before "Valkey is starting".
    for i in doc["incidents"].as_array().unwrap() {
        if i["kind"] == "config_hazard" {
            let file = if i["nodes"][0] == ":18620" {
                "primary.log"
            } else {
                "replica.log"
            };
            assert_eq!(cites(i), at(file, &[1]));
        }
    }

    let m = &doc["metrics"];
    assert_eq!(m["full_resyncs"], 6);
    assert_eq!(m["bgsaves_started"], 6);
    assert_eq!(m["bgsave_failures"], 0);
    let lc = &m["line_counts"];
    for (kind, n) in [
        ("full_resync", 6),
        ("full_resync_requested", 6),
        ("sync_bgsave", 6),
        ("output_buffer_limit", 5),
        ("bgsave_signal", 5),
        // Valkey 9 wordings: "RDB signature and version check passed.
        // Flushing old data" (replica.log:78) and the bio thread's
        // "receiving 1521390086 bytes from primary to disk" (replica.log:72).
        ("sync_flush", 1),
        ("sync_receiving", 1),
        ("sync_done", 1),
        ("sync_done_primary", 1),
    ] {
        assert_eq!(lc[kind], n, "{kind}");
    }
}

#[test]
fn valkey_replica_log_alone_shows_the_loop_without_a_cause() {
    let doc = json(&format!("{VK_DIR}/replica.log"));
    assert_evidence_exact(&doc);
    let lp = incident(&doc, "full_resync_loop");
    assert_eq!(lp["severity"], "high");
    assert_eq!(lp["nodes"], serde_json::json!([":18621"]));
    assert_eq!(cites(lp), at("replica.log", &[15, 26, 37, 48, 59, 70, 83]));
    let s = lp["summary"].as_str().unwrap();
    assert!(s.starts_with("Replica :18621 did 6 full resyncs"), "{s}");
    assert!(!s.contains("likely cause"), "{s}");
    assert_eq!(doc["incidents"].as_array().unwrap().len(), 2);
}

#[test]
fn valkey_resync_loop_fails_a_high_gate() {
    let (code, _) = run(VK_DIR, &["--fail-on", "high"]);
    assert_eq!(code, Some(1));
    let (code, _) = run(VK_DIR, &["--fail-on", "critical"]);
    assert_eq!(code, Some(0));
}

//! Scenario 09 (slow script under sentinel, rule FC12): a 5 s Lua busy loop
//! on the primary :18600 passed `busy-reply-threshold` (500 ms), the primary
//! logged "Slow script detected", the three sentinels got -BUSY to their
//! PINGs and marked it +sdown, then +odown, killed the script (SCRIPT KILL)
//! and failed over to the replica :18601. The block must be reported as a
//! `blocked_event_loop` citing the T01 line and the first +sdown after it,
//! and the failover as a `sentinel_failover`. Every line number below was
//! checked by hand against `testdata/logs/09-slow-script-sentinel/`.
//!
//! The same scenario run with Valkey 9.1.2 (`valkey-9.1.2/`, the `valkey_*`
//! tests): "Slow script detected" after 514 ms, +sdown from two sentinels
//! within 1 s, a SCRIPT KILL from a sentinel and the failover to :18601.

mod common;

use common::logs::{analyze_dir, cites, nodes, pairs};
use serde_json::Value;

const DIR: &str = "testdata/logs/09-slow-script-sentinel/debian-7.0.15";
const VK_DIR: &str = "testdata/logs/09-slow-script-sentinel/valkey-9.1.2";

fn analyze() -> Value {
    analyze_dir(DIR)
}

fn one<'a>(doc: &'a Value, kind: &str) -> &'a Value {
    let found: Vec<&Value> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect();
    assert_eq!(found.len(), 1, "{kind}: {found:#?}");
    found[0]
}

/// The text of line `n` (1-based) of `file` in the scenario directory.
fn line_of(file: &str, n: u64) -> String {
    line_in(DIR, file, n)
}

/// The text of line `n` (1-based) of `file` in `dir`.
fn line_in(dir: &str, file: &str, n: u64) -> String {
    let path = format!("{}/{dir}/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(n as usize - 1).unwrap().to_string()
}

#[test]
fn incident_kinds() {
    let doc = analyze();
    let kinds: Vec<&str> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "config_hazard",
            "config_hazard",
            "blocked_event_loop",
            "sentinel_failover"
        ]
    );
    // No crash, restart or failed failover: every process ended cleanly.
    for n in doc["nodes"].as_array().unwrap() {
        let ends: Vec<&str> = n["lifetimes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["end"].as_str().unwrap())
            .collect();
        assert_eq!(ends, ["clean"], "{}", n["name"]);
    }
}

#[test]
fn slow_script_is_a_blocked_event_loop_then_sdown() {
    let doc = analyze();
    let i = one(&doc, "blocked_event_loop");
    assert_eq!(i["severity"], "high");
    assert_eq!(nodes(i), [":18600"]);
    assert_eq!(i["start"], "2026-11-23 15:13:02.405");
    // The block ends when a sentinel kills the script (primary.log:22).
    assert_eq!(i["end"], "2026-11-23 15:13:03.441");
    // T01 on the primary, the first +sdown of it (sentinel :18610), then
    // the SCRIPT KILL a sentinel sent to the -BUSY primary.
    assert_eq!(
        cites(i),
        pairs(&[
            ("primary.log", 20),
            ("sentinel-1.log", 15),
            ("primary.log", 22)
        ])
    );
    let ev = i["evidence"].as_array().unwrap();
    assert_eq!(ev[0]["text"].as_str().unwrap(), line_of("primary.log", 20));
    assert_eq!(
        ev[0]["text"],
        "3118:M 23 Nov 2026 15:13:02.405 # Slow script detected: still in execution after 504 milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: 5fc824eeea7798f9bec71642a5715f819cdf0c46."
    );
    assert_eq!(
        ev[1]["text"].as_str().unwrap(),
        line_of("sentinel-1.log", 15)
    );
    assert_eq!(
        ev[1]["text"],
        "3346:X 23 Nov 2026 15:13:02.985 # +sdown master mymaster 127.0.0.1 18600"
    );
    let s = i["summary"].as_str().unwrap();
    assert!(s.contains("still running after 504 ms"), "{s}");
    assert!(
        s.contains("(script 5fc824eeea7798f9bec71642a5715f819cdf0c46)"),
        "{s}"
    );
    assert!(s.contains("killed with SCRIPT KILL at 15:13:03.441"), "{s}");
    assert!(s.contains("sentinel_sdown at 15:13:02.985"), "{s}");
    assert!(s.contains("not a crash"), "{s}");
    // FC12: the failover is secondary to the block.
    assert!(
        s.contains("Sentinels failed it over to port 18601 at 15:13:04.229"),
        "{s}"
    );
}

#[test]
fn the_failover_that_followed_is_reported() {
    let doc = analyze();
    let i = one(&doc, "sentinel_failover");
    assert_eq!(i["severity"], "high");
    assert_eq!(nodes(i), [":18600", ":18601"]);
    assert_eq!(i["end"], "2026-11-23 15:13:04.229");
    let c = cites(i);
    // The sentinel chain (S02 → S03 → S05 → S06 → S07 → S08 → S10 → S11 of
    // the leader :18611) and the promotion on the replica (R25, R23).
    for want in pairs(&[
        ("sentinel-1.log", 15),
        ("sentinel-2.log", 16),
        ("sentinel-2.log", 18),
        ("sentinel-2.log", 23),
        ("sentinel-2.log", 25),
        ("replica.log", 26),
        ("replica.log", 27),
        ("sentinel-2.log", 31),
        ("sentinel-2.log", 33),
        ("sentinel-2.log", 34),
    ]) {
        assert!(c.contains(&want), "{want:?} not in {c:?}");
    }
    for e in i["evidence"].as_array().unwrap() {
        let f = e["file"].as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(
            e["text"].as_str().unwrap(),
            line_of(f, e["line"].as_u64().unwrap())
        );
    }
    let s = i["summary"].as_str().unwrap();
    assert!(s.contains("new primary :18601"), "{s}");
    assert!(s.contains("+switch-master at 15:13:04.229"), "{s}");
    assert!(
        s.contains("+sdown 15:13:02.985, +odown 15:13:03.162 (quorum 2/2)"),
        "{s}"
    );
    // FC8: the root cause is the earliest event on the old primary before
    // +sdown, the slow script (primary.log:20, cited first), not its clean
    // shutdown at 15:13:11.681, seven seconds after the failover.
    assert_eq!(cites(i)[0], pairs(&[("primary.log", 20)])[0]);
    assert!(
        s.contains("Root cause on :18600: its event loop was blocked (a script was still running after 504 ms at 15:13:02.405"),
        "{s}"
    );
    assert!(!s.contains("shut down cleanly"), "{s}");
    // Down from the first +sdown: the replica's "Connection with master
    // lost" (replica.log:23) came from its own promotion at 15:13:03.383.
    assert_eq!(i["start"], "2026-11-23 15:13:02.985");
    assert!(
        s.contains("primary :18600 down 15:13:02.985 → new primary :18601 15:13:03.383"),
        "{s}"
    );
    // No +convert-to-slave follows: two primaries when the logs end.
    assert!(s.contains("still ran as a primary beside :18601"), "{s}");
}

#[test]
fn valkey_incident_kinds() {
    let doc = analyze_dir(VK_DIR);
    let kinds: Vec<&str> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    // Valkey logs the overcommit warning on the sentinels too (line 1 of
    // each log, before "Valkey is starting").
    assert_eq!(
        kinds,
        [
            "config_hazard",
            "config_hazard",
            "config_hazard",
            "config_hazard",
            "config_hazard",
            "blocked_event_loop",
            "sentinel_failover"
        ]
    );
    let hazards: Vec<&Value> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "config_hazard")
        .collect();
    let want = [
        (":18600", "primary.log"),
        (":18601", "replica.log"),
        (":18610", "sentinel-1.log"),
        (":18611", "sentinel-2.log"),
        (":18612", "sentinel-3.log"),
    ];
    assert_eq!(hazards.len(), want.len());
    for (i, (node, file)) in hazards.into_iter().zip(want) {
        assert_eq!(i["severity"], "info");
        assert_eq!(nodes(i), [node]);
        assert_eq!(cites(i), pairs(&[(file, 1)]));
    }
    // Every process ended cleanly (SHUTDOWN NOSAVE at the teardown).
    for n in doc["nodes"].as_array().unwrap() {
        assert_eq!(n["version"], "Valkey 9.1.2", "{}", n["name"]);
        let ends: Vec<&str> = n["lifetimes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["end"].as_str().unwrap())
            .collect();
        assert_eq!(ends, ["clean"], "{}", n["name"]);
    }
}

#[test]
fn valkey_slow_script_is_a_blocked_event_loop_then_sdown() {
    let doc = analyze_dir(VK_DIR);
    let i = one(&doc, "blocked_event_loop");
    assert_eq!(i["severity"], "high");
    assert_eq!(nodes(i), [":18600"]);
    assert_eq!(i["start"], "2026-11-23 15:33:49.459");
    // T01 on the primary, then the first +sdown of it (sentinel :18611; the
    // others followed at 15:33:50.250 and 15:33:50.995), then the kill at
    // primary.log:22, which Valkey logs as "<module> Script killed by user
    // with SCRIPT KILL." and which ends the block.
    let c = cites(i);
    assert_eq!(
        c,
        pairs(&[
            ("primary.log", 21),
            ("sentinel-2.log", 16),
            ("primary.log", 22)
        ])
    );
    assert_eq!(i["end"], "2026-11-23 15:33:50.531");
    assert!(i["summary"]
        .as_str()
        .unwrap()
        .contains("killed with SCRIPT KILL at 15:33:50.531"));
    let ev = i["evidence"].as_array().unwrap();
    assert_eq!(
        ev[0]["text"].as_str().unwrap(),
        line_in(VK_DIR, "primary.log", 21)
    );
    assert_eq!(
        ev[0]["text"],
        "29239:M 23 Nov 2026 15:33:49.459 # Slow script detected: still in execution after 514 milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: 5fc824eeea7798f9bec71642a5715f819cdf0c46."
    );
    assert_eq!(
        ev[1]["text"].as_str().unwrap(),
        line_in(VK_DIR, "sentinel-2.log", 16)
    );
    assert_eq!(
        ev[1]["text"],
        "29548:X 23 Nov 2026 15:33:50.070 # +sdown master mymaster 127.0.0.1 18600"
    );
    let s = i["summary"].as_str().unwrap();
    assert!(s.contains("still running after 514 ms"), "{s}");
    assert!(
        s.contains("(script 5fc824eeea7798f9bec71642a5715f819cdf0c46)"),
        "{s}"
    );
    assert!(s.contains("sentinel_sdown at 15:33:50.070"), "{s}");
    assert!(s.contains("not a crash"), "{s}");
    // FC12: the failover is secondary to the block.
    assert!(
        s.contains("Sentinels failed it over to port 18601 at 15:33:51.460"),
        "{s}"
    );
}

#[test]
fn valkey_failover_that_followed_is_reported() {
    let doc = analyze_dir(VK_DIR);
    let i = one(&doc, "sentinel_failover");
    assert_eq!(i["severity"], "high");
    assert_eq!(nodes(i), [":18600", ":18601"]);
    assert_eq!(i["start"], "2026-11-23 15:33:50.070");
    assert_eq!(i["end"], "2026-11-23 15:33:51.460");
    // FC8 root cause first (the slow script), the replica's "Connection
    // with primary lost" of its own promotion, then the chain of the leader
    // :18612 (S02 of :18611 → S03 → S05 → S06 → S07), the promotion on the
    // replica (R25, R23 "PRIMARY MODE enabled") and S08 → S10 → S11.
    assert_eq!(
        cites(i),
        pairs(&[
            ("primary.log", 21),
            ("replica.log", 29),
            ("sentinel-2.log", 16),
            ("sentinel-3.log", 17),
            ("sentinel-3.log", 19),
            ("sentinel-3.log", 24),
            ("sentinel-3.log", 26),
            ("replica.log", 32),
            ("replica.log", 33),
            ("sentinel-3.log", 32),
            ("sentinel-3.log", 34),
            ("sentinel-3.log", 35),
        ])
    );
    for e in i["evidence"].as_array().unwrap() {
        let f = e["file"].as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(
            e["text"].as_str().unwrap(),
            line_in(VK_DIR, f, e["line"].as_u64().unwrap())
        );
    }
    let s = i["summary"].as_str().unwrap();
    assert!(s.contains("new primary :18601"), "{s}");
    assert!(s.contains("+switch-master at 15:33:51.460"), "{s}");
    assert!(
        s.contains("+sdown 15:33:50.070, +odown 15:33:50.313 (quorum 2/2)"),
        "{s}"
    );
    assert!(
        s.contains("Root cause on :18600: its event loop was blocked (a script was still running after 514 ms at 15:33:49.459"),
        "{s}"
    );
    assert!(!s.contains("shut down cleanly"), "{s}");
    assert!(
        s.contains("primary :18600 down 15:33:50.070 → new primary :18601 15:33:50.561"),
        "{s}"
    );
    // The sentinels list :18600 as a replica of :18601 (+slave), but no
    // +convert-to-slave or REPLICAOF reached it: role:master at the end.
    assert!(s.contains("still ran as a primary beside :18601"), "{s}");
}

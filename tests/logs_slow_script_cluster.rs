//! Scenario 16 (slow script in a cluster, rules FC12 and FC9): a 6 s Lua
//! busy loop on the primary :18740 (slots 0-5460, node id 773845c4...) with
//! `busy-reply-threshold 500` logged "Slow script detected" after 500 ms,
//! then kept the event loop blocked: with `cluster-node-timeout 1000` the
//! replica :18745 marked it failing (quorum reached), the other nodes got
//! the FAIL message, the cluster state was fail for under a second and
//! :18745 won the failover election (configEpoch 7). When the script
//! returned, :18740 reconfigured itself as a replica of :18745 (partial
//! resync). The block must be reported as a `blocked_event_loop` citing the
//! T01 line and the first C02/C03 about :18740, and the failover as a
//! `cluster_failover` whose root cause is the slow script, not the clean
//! shutdown at the teardown. Every line number below was checked by hand
//! against `testdata/logs/16-slow-script-cluster/debian-7.0.15/`.

mod common;

use common::logs::{analyze_dir, cites, nodes, pairs};
use serde_json::Value;

const DIR: &str = "testdata/logs/16-slow-script-cluster/debian-7.0.15";
/// The cluster node id of the blocked primary :18740 (steps.txt).
const BLOCKED_ID: &str = "773845c4f1d517865f835af2b43470079fba7006";

fn analyze() -> Value {
    analyze_dir(DIR)
}

fn all<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
}

fn one<'a>(doc: &'a Value, kind: &str) -> &'a Value {
    let found = all(doc, kind);
    assert_eq!(found.len(), 1, "{kind}: {found:#?}");
    found[0]
}

/// The text of line `n` (1-based) of `file` in the scenario directory.
fn line_of(file: &str, n: u64) -> String {
    let path = format!("{}/{DIR}/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().nth(n as usize - 1).unwrap().to_string()
}

/// Every evidence line is quoted verbatim from its file.
fn assert_evidence_exact(i: &Value) {
    for e in i["evidence"].as_array().unwrap() {
        let f = e["file"].as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(
            e["text"].as_str().unwrap(),
            line_of(f, e["line"].as_u64().unwrap())
        );
    }
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
            "config_hazard",
            "config_hazard",
            "config_hazard",
            "config_hazard",
            "blocked_event_loop",
            "cluster_failover",
            "replication_break",
            "replication_break"
        ]
    );
    // The overcommit warning, line 8 of each log.
    let hazards = all(&doc, "config_hazard");
    for (i, port) in hazards.into_iter().zip(18740..=18745) {
        assert_eq!(i["severity"], "info");
        assert_eq!(nodes(i), [format!(":{port}").as_str()]);
        assert_eq!(cites(i), pairs(&[(&format!("node-{port}.log"), 8)]));
    }
    // No crash, restart or kill: every process ended with SHUTDOWN NOSAVE.
    let names: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [":18740", ":18741", ":18742", ":18743", ":18744", ":18745"]
    );
    for n in doc["nodes"].as_array().unwrap() {
        assert_eq!(n["mode"], "cluster", "{}", n["name"]);
        let ends: Vec<&str> = n["lifetimes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["end"].as_str().unwrap())
            .collect();
        assert_eq!(ends, ["clean"], "{}", n["name"]);
    }
    // The C01 id joins the C02/C03 lines to :18740.
    assert_eq!(
        doc["nodes"][0]["cluster_ids"],
        serde_json::json!([BLOCKED_ID])
    );
    // The fail window belongs to the failover; the teardown left no
    // `Cluster state changed: fail` in this run.
    assert!(all(&doc, "cluster_down").is_empty());
}

#[test]
fn slow_script_is_a_blocked_event_loop_then_marked_failing() {
    let doc = analyze();
    let i = one(&doc, "blocked_event_loop");
    assert_eq!(i["severity"], "high");
    assert_eq!(nodes(i), [":18740"]);
    assert_eq!(i["start"], "2026-11-23 16:34:48.740");
    // The block lasts at least until the node was marked failing.
    assert!(
        i["end"].as_str().unwrap() >= "2026-11-23 16:34:51.492",
        "{}",
        i["end"]
    );
    // T01 on :18740, then the first C02/C03 about it: :18745 marked it
    // failing at 16:34:51.492, 1 ms before the FAIL messages on the others.
    assert_eq!(
        cites(i),
        pairs(&[("node-18740.log", 24), ("node-18745.log", 29)])
    );
    assert_evidence_exact(i);
    let ev = i["evidence"].as_array().unwrap();
    assert_eq!(
        ev[0]["text"],
        "775:M 23 Nov 2026 16:34:48.740 # Slow script detected: still in execution after 500 milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: 95165ad354800d05e44ca0fc07b656a93b252824."
    );
    assert_eq!(
        ev[1]["text"],
        format!("859:S 23 Nov 2026 16:34:51.492 * Marking node {BLOCKED_ID} as failing (quorum reached).")
    );
    let s = i["summary"].as_str().unwrap();
    assert!(
        s.contains("Event loop of :18740 blocked at 16:34:48.740"),
        "{s}"
    );
    assert!(s.contains("still running after 500 ms"), "{s}");
    assert!(
        s.contains("(script 95165ad354800d05e44ca0fc07b656a93b252824)"),
        "{s}"
    );
    assert!(s.contains("cluster_marking_failed at 16:34:51.492"), "{s}");
    assert!(s.contains("not a crash"), "{s}");
    // The script returned on its own: nobody sent SCRIPT KILL.
    assert!(!s.contains("SCRIPT KILL at"), "{s}");
    // FC12: the failover is secondary to the block.
    assert!(
        s.contains(":18745 then won a failover election at 16:34:52.398"),
        "{s}"
    );
}

#[test]
fn the_cluster_failover_is_blamed_on_the_slow_script() {
    let doc = analyze();
    let i = one(&doc, "cluster_failover");
    assert_eq!(i["severity"], "high");
    assert_eq!(nodes(i), [":18740", ":18745"]);
    assert_eq!(i["start"], "2026-11-23 16:34:48.740");
    // The last node that went to fail back to ok: node-18743.log:31.
    assert_eq!(i["end"], "2026-11-23 16:34:52.443");
    let c = cites(i);
    // FC9 root cause first: the T01 line on the failed node, not its
    // shutdown at the teardown (node-18740.log:36-37).
    assert_eq!(c[0], pairs(&[("node-18740.log", 24)])[0]);
    // C02 on :18745, C03 on :18741, C04 fail, C05, C06, C07 (:18741), C08
    // and its configEpoch line, C04 ok on :18743, and the old primary's
    // C10 when the script returned.
    for want in pairs(&[
        ("node-18745.log", 29),
        ("node-18741.log", 24),
        ("node-18745.log", 30),
        ("node-18745.log", 31),
        ("node-18745.log", 32),
        ("node-18741.log", 26),
        ("node-18745.log", 33),
        ("node-18745.log", 34),
        ("node-18743.log", 31),
        ("node-18740.log", 26),
    ]) {
        assert!(c.contains(&want), "{want:?} not in {c:?}");
    }
    for teardown in pairs(&[("node-18740.log", 36), ("node-18740.log", 37)]) {
        assert!(!c.contains(&teardown), "{teardown:?} in {c:?}");
    }
    assert_evidence_exact(i);
    let s = i["summary"].as_str().unwrap();
    assert!(s.contains("primary :18740"), "{s}");
    assert!(
        s.contains("replica :18745 won the election at 16:34:52.398"),
        "{s}"
    );
    assert!(s.contains("configEpoch 7"), "{s}");
    assert!(
        s.contains("Cluster state was fail from 16:34:51.492 to 16:34:52.443 (951 ms)"),
        "{s}"
    );
    assert!(
        s.contains("Election delayed 731 ms (rank #0, offset 43984)"),
        "{s}"
    );
    assert!(
        s.contains("Root cause: :18740's event loop was blocked (a script was still running after 500 ms at 16:34:48.740"),
        "{s}"
    );
    assert!(s.contains("not a crash"), "{s}");
    for wrong in ["crashed", "killed", "shut down", "OOM"] {
        assert!(!s.contains(wrong), "{wrong}: {s}");
    }
    assert!(
        s.contains(":18740 rejoined as a replica at 16:34:54.246"),
        "{s}"
    );
    // It resynced partially (node-18740.log:33): nothing was wiped.
    assert!(!s.contains("full resync"), "{s}");
}

#[test]
fn teardown_replication_breaks_are_planned() {
    let doc = analyze();
    let breaks = all(&doc, "replication_break");
    let want = [
        ([":18741", ":18743"], "node-18741.log", "node-18743.log"),
        ([":18742", ":18744"], "node-18742.log", "node-18744.log"),
    ];
    assert_eq!(breaks.len(), want.len());
    for (i, (n, primary, replica)) in breaks.into_iter().zip(want) {
        assert_eq!(i["severity"], "info");
        assert_eq!(nodes(i), n);
        assert_eq!(
            cites(i),
            pairs(&[(primary, 31), (replica, 33), (replica, 37)])
        );
        assert_evidence_exact(i);
        let s = i["summary"].as_str().unwrap();
        assert!(s.contains("shut down on request (planned)"), "{s}");
    }
}

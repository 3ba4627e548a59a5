//! Replication as the recorded scenarios show it, one test per situation.
//!
//! Scenario 19 (`testdata/logs/19-replicaof-at-runtime/`): node A (port
//! 18800) is restarted with `SHUTDOWN SAVE` while a replica of B and
//! resumes with `Successful partial resynchronization` (Redis 7.0.15
//! node-a.log:24, Valkey 9.1.2 node-a.log:27, checked by hand): its restart
//! incident says how replication resumed and cites that line.
//!
//! Scenario 02 (`testdata/logs/02-replication/debian-7.0.15/`): the
//! replica's two restarts each resume with a partial resynchronization
//! (replica.log:47 and :68), and neither is linked to the replication break
//! that follows the primary's kill (the primary's own restart is its cause).

mod common;

use common::logs::{analyze_dir, cites, file_lines, only};

fn resumed_restart(dir: &str, line: u64) {
    let doc = analyze_dir(dir);
    let restarts: Vec<_> = only(&doc, "restart")
        .into_iter()
        .chain(only(&doc, "unclean_restart"))
        .filter(|i| cites(i).contains(&("node-a.log".to_string(), line)))
        .collect();
    assert_eq!(
        restarts.len(),
        1,
        "{dir}: one restart cites node-a.log:{line}"
    );
    let s = restarts[0]["summary"].as_str().unwrap();
    assert!(
        s.contains("with a partial resynchronization: no full sync was needed"),
        "{s}"
    );
    let text = &file_lines(&format!("{dir}/node-a.log"))[line as usize - 1];
    assert!(
        text.contains("Successful partial resynchronization"),
        "{text}"
    );
}

#[test]
fn a_replica_restarted_cleanly_says_it_resumed_with_a_partial_resync() {
    resumed_restart("testdata/logs/19-replicaof-at-runtime/debian-7.0.15", 24);
    resumed_restart("testdata/logs/19-replicaof-at-runtime/valkey-9.1.2", 27);
}

#[test]
fn resumed_restarts_are_not_causes_of_a_later_break() {
    let doc = analyze_dir("testdata/logs/02-replication/debian-7.0.15");
    let restarts: Vec<_> = only(&doc, "restart")
        .into_iter()
        .chain(only(&doc, "unclean_restart"))
        .filter(|i| i["nodes"] == serde_json::json!([":17151"]))
        .collect();
    let mut resumed: Vec<u64> = restarts
        .iter()
        .flat_map(|i| cites(i))
        .filter(|(f, _)| f == "replica.log")
        .map(|(_, l)| l)
        .filter(|&l| l == 47 || l == 68)
        .collect();
    resumed.sort();
    assert_eq!(resumed, [47, 68]);
    for i in only(&doc, "replication_break") {
        let causes: Vec<u64> = i["caused_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap())
            .collect();
        for r in &restarts {
            assert!(!causes.contains(&r["id"].as_u64().unwrap()), "{i}");
        }
    }
}

/// Scenario 19: node A, holding 12000 keys of its own, is made a replica of
/// B by `REPLICAOF` and full-resyncs. Redis 7.0.15 node-a.log.1.gz: keys
/// loaded :23, REPLICAOF :29, full resync :34, flush :37; Valkey 9.1.2:
/// :27, :33, :38, :47 (checked by hand). The loads before and after the
/// flush are of different datasets, so no memory growth is reported.
fn discarded(dir: &str, lines: [u64; 4]) {
    let doc = analyze_dir(dir);
    let d = only(&doc, "dataset_discarded");
    assert_eq!(d.len(), 1, "{dir}");
    assert_eq!(d[0]["severity"], "high");
    let want: Vec<(String, u64)> = lines
        .iter()
        .map(|&l| ("node-a.log.1.gz".to_string(), l))
        .collect();
    assert_eq!(cites(d[0]), want);
    let s = d[0]["summary"].as_str().unwrap();
    assert!(s.contains("It had loaded 12000 keys of its own"), "{s}");
    assert!(only(&doc, "memory_growth").is_empty(), "{dir}");
}

#[test]
fn a_primary_made_a_replica_at_run_time_loses_its_own_dataset() {
    discarded(
        "testdata/logs/19-replicaof-at-runtime/debian-7.0.15",
        [23, 29, 34, 37],
    );
    discarded(
        "testdata/logs/19-replicaof-at-runtime/valkey-9.1.2",
        [27, 33, 38, 47],
    );
}

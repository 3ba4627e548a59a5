//! `redsleuth merge` of log analyses: recorded scenarios split by node (and
//! one node's log cut into three rotated files), each part analysed alone,
//! merged, and compared with one analysis of the whole.
//!
//! What a part sees alone must come out exactly as the whole analysis has
//! it (files, lines, counters, nodes and lifetimes, events, the incidents
//! that lay in one part); a chain whose evidence was split must be listed
//! under `unjoined` rather than passed off as an incident.

use std::path::Path;

use serde_json::Value;

mod common;
use common::logmerge::compare;
use common::{run, Dir};

fn logs_json(paths: &[&str]) -> Value {
    let (code, out, err) = run(&[&["logs", "-q", "--format", "json"], paths].concat());
    assert!(code == 0 || code == 1, "logs {paths:?}: exit {code}: {err}");
    serde_json::from_str(&out).unwrap()
}

/// Analyses each part alone into `dir`, merges them; returns the merge.
fn merge_parts(dir: &Dir, parts: &[Vec<String>]) -> Value {
    let mut reports = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        let refs: Vec<&str> = p.iter().map(String::as_str).collect();
        let v = logs_json(&refs);
        let out = dir.0.join(format!("part{k}.json"));
        std::fs::write(&out, v.to_string()).unwrap();
        reports.push(out.display().to_string());
    }
    let refs: Vec<&str> = reports.iter().map(String::as_str).collect();
    let (code, out, err) = run(&[&["merge"], &refs[..]].concat());
    assert_eq!(code, 0, "merge: {err}");
    serde_json::from_str(&out).unwrap()
}

/// Every log file of a scenario directory, each one node's log set.
fn split_by_node(dir: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    files.sort();
    let parts = files.iter().map(|f| vec![f.clone()]).collect();
    (vec![dir.to_string()], parts)
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn a_sentinel_failover_split_by_node_keeps_the_restart_and_lists_the_failover_as_unjoined() {
    let d = Dir::new("merge-logs-sentinel");
    let (whole, parts) = split_by_node("testdata/logs/03-sentinel-failover/debian-7.0.15");
    assert_eq!(parts.len(), 6);
    let w = logs_json(&[&whole[0]]);
    let m = merge_parts(&d, &parts);
    let (exact, unjoined) = compare(&w, &m);
    // The primary's SIGKILL restart lay in its own log; the failover's
    // evidence was in the sentinels' and both replicas' logs.
    assert_eq!(exact, s(&["unclean_restart"]));
    assert_eq!(
        unjoined,
        vec![s(&["replication_break", "sentinel_failover"])]
    );
    let u = &m["unjoined"][0];
    assert_eq!(u["nodes"], serde_json::json!([":17151", ":17152"]));
    assert_eq!(u["inputs"].as_array().unwrap().len(), 5);
    assert_eq!(u["fragments"].as_array().unwrap().len(), 6);
    assert_eq!(m["metrics"]["nodes"], 6);
}

#[test]
fn a_replication_split_by_node_keeps_each_nodes_restarts() {
    let d = Dir::new("merge-logs-replication");
    let (whole, parts) = split_by_node("testdata/logs/02-replication/debian-7.0.15");
    let w = logs_json(&[&whole[0]]);
    let m = merge_parts(&d, &parts);
    let (exact, unjoined) = compare(&w, &m);
    assert_eq!(exact, s(&["restart", "unclean_restart", "unclean_restart"]));
    assert_eq!(unjoined, vec![s(&["replication_break"])]);
}

#[test]
fn a_cluster_failover_split_by_node_lists_the_election_and_the_outage_as_unjoined() {
    let d = Dir::new("merge-logs-cluster");
    let (whole, parts) = split_by_node("testdata/logs/04-cluster-failover/debian-7.0.15");
    let w = logs_json(&[&whole[0]]);
    let m = merge_parts(&d, &parts);
    let (exact, unjoined) = compare(&w, &m);
    assert_eq!(exact, s(&["unclean_restart"]));
    assert_eq!(
        unjoined,
        vec![s(&[
            "cluster_down",
            "cluster_failover",
            "replication_break"
        ])]
    );
}

#[test]
fn a_blocked_primary_split_from_its_cluster_is_listed_as_unjoined() {
    let d = Dir::new("merge-logs-blocked");
    let (whole, parts) = split_by_node("testdata/logs/16-slow-script-cluster/debian-7.0.15");
    let w = logs_json(&[&whole[0]]);
    let m = merge_parts(&d, &parts);
    let (exact, unjoined) = compare(&w, &m);
    // Alone, the blocked primary's log says nothing of the failover it
    // caused: the whole analysis rates it high, the part medium.
    assert!(exact.is_empty(), "{exact:?}");
    assert_eq!(unjoined.len(), 1);
    assert!(unjoined[0].contains(&"blocked_event_loop".to_string()));
    assert!(unjoined[0].contains(&"cluster_failover".to_string()));
}

#[test]
fn merging_one_analysis_alone_changes_nothing_it_found() {
    let d = Dir::new("merge-logs-alone");
    let dir = "testdata/logs/09-slow-script-sentinel/debian-7.0.15";
    let w = logs_json(&[dir]);
    let m = merge_parts(&d, &[vec![dir.to_string()]]);
    let (exact, unjoined) = compare(&w, &m);
    assert_eq!(exact.len(), w["incidents"].as_array().unwrap().len());
    assert!(unjoined.is_empty());
    assert_eq!(m["incidents"], w["incidents"]);
}

#[test]
fn one_node_cut_into_rotated_files_joins_the_process_running_across_the_cut() {
    let d = Dir::new("merge-logs-rotation");
    let lines = common::logs::file_lines("testdata/logs/11-memory-growth/debian-7.0.15/redis.log");
    assert_eq!(lines.len(), 90);
    // Line 27 is inside pid 2810's lifetime (ready at 25, exit at 29);
    // line 63 is pid 3598's last.
    let cuts = [
        ("redis.log.2", 0..27),
        ("redis.log.1", 27..63),
        ("redis.log", 63..90),
    ];
    let mut parts = Vec::new();
    for (name, r) in cuts {
        let p = d.0.join(name);
        std::fs::write(&p, lines[r].join("\n") + "\n").unwrap();
        parts.push(vec![p.display().to_string()]);
    }
    let w = logs_json(&[&d.0.display().to_string()]);
    assert_eq!(w["files"].as_array().unwrap().len(), 3);
    let m = merge_parts(&d, &parts);
    let (exact, unjoined) = compare(&w, &m);
    // One node, six processes, as in the whole analysis: pid 2810's
    // lifetime, cut in two, is one again.
    let node = &m["nodes"][0];
    assert_eq!(m["nodes"].as_array().unwrap().len(), 1);
    let pids: Vec<u64> = node["lifetimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["pid"].as_u64().unwrap())
        .collect();
    assert_eq!(pids, [2190, 2810, 3067, 3598, 3695, 3814]);
    assert_eq!(node["lifetimes"][1]["end"], "clean");
    assert_eq!(node["lifetimes"][1]["keys_loaded"], 20000);
    // The restarts and the memory growth all lie within an hour of a cut,
    // as far as a rule reads: none can be vouched for.
    assert!(exact.is_empty(), "{exact:?}");
    assert!(!unjoined.is_empty());
}

#[test]
fn the_same_log_twice_is_refused() {
    let d = Dir::new("merge-logs-dup");
    let f = "testdata/logs/02-replication/debian-7.0.15/primary.log".to_string();
    let v = logs_json(&[&f]);
    let a = d.0.join("a.json");
    let b = d.0.join("b.json");
    std::fs::write(&a, v.to_string()).unwrap();
    std::fs::write(&b, v.to_string()).unwrap();
    let (code, _, err) = run(&["merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("primary.log") && err.contains("count its lines twice"),
        "{err}"
    );
}

#[test]
fn log_and_keyspace_reports_are_not_merged_together() {
    let d = Dir::new("merge-logs-mixed");
    let v = logs_json(&["testdata/logs/02-replication/debian-7.0.15/primary.log"]);
    let a = d.0.join("logs.json");
    std::fs::write(&a, v.to_string()).unwrap();
    let (code, out, err) = run(&[
        "rdb",
        "-q",
        "--format",
        "json",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
    ]);
    assert_eq!(code, 0, "{err}");
    let b = d.0.join("rdb.json");
    std::fs::write(&b, out).unwrap();
    let (code, _, err) = run(&["merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not both") && err.contains("logs.json"),
        "{err}"
    );
}

#[test]
fn a_merge_of_merges_equals_the_merge_of_all() {
    let d = Dir::new("merge-logs-tree");
    let (_, parts) = split_by_node("testdata/logs/04-cluster-failover/debian-7.0.15");
    let flat = merge_parts(&d, &parts);
    let mut level = Vec::new();
    for (k, pair) in parts.chunks(2).enumerate() {
        let m = merge_parts(&Dir::new(&format!("tree{k}")), pair);
        let p = d.0.join(format!("level{k}.json"));
        std::fs::write(&p, m.to_string()).unwrap();
        level.push(p.display().to_string());
    }
    let refs: Vec<&str> = level.iter().map(String::as_str).collect();
    let (code, out, err) = run(&[&["merge"], &refs[..]].concat());
    assert_eq!(code, 0, "{err}");
    let tree: Value = serde_json::from_str(&out).unwrap();
    for k in ["files", "lines", "nodes", "events", "incidents", "metrics"] {
        assert_eq!(flat[k], tree[k], "`{k}` differs");
    }
    let kinds = |v: &Value| -> Vec<Value> {
        v["unjoined"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["kinds"].clone())
            .collect()
    };
    assert_eq!(kinds(&flat), kinds(&tree));
}

#[test]
fn servers_of_two_sets_on_one_port_are_named_by_set_as_one_analysis_names_them() {
    let d = Dir::new("merge-logs-port");
    let a = "testdata/logs/02-replication/debian-7.0.15/primary.log";
    let b = "testdata/logs/03-sentinel-failover/debian-7.0.15/node0-17150.log";
    let w = logs_json(&[a, b]);
    let m = merge_parts(&d, &[vec![a.to_string()], vec![b.to_string()]]);
    let names: Vec<&str> = m["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["primary.log:17150", "node0-17150.log:17150"]);
    let (exact, unjoined) = compare(&w, &m);
    // Each server's SIGKILL restart, its summary naming the node by set.
    assert_eq!(exact, s(&["unclean_restart", "unclean_restart"]));
    assert!(unjoined.is_empty());
    assert!(m["incidents"][0]["summary"]
        .as_str()
        .unwrap()
        .starts_with("primary.log:17150 restarted"));
}

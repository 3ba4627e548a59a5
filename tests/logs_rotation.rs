//! Rotated log sets are folded in the order their contents begin, not the
//! order their names claim: a recorded scenario's log cut into three
//! pieces, named once as logrotate would and once misleadingly (the
//! newest piece gzipped as `redis.log.2.gz`, the oldest as `redis.log`),
//! must come out as the same analysis.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

mod common;
use common::{run, Dir};

fn logs_json(path: &Path) -> Value {
    let p = path.display().to_string();
    let (code, out, err) = run(&["logs", "-q", "--format", "json", &p]);
    assert!(code == 0 || code == 1, "logs {p}: exit {code}: {err}");
    serde_json::from_str(&out).unwrap()
}

/// `v` with every string equal to a key of `names` replaced by its value.
fn renamed(v: &Value, names: &[(String, String)]) -> Value {
    match v {
        Value::String(s) => Value::String(
            names
                .iter()
                .find(|(from, _)| from == s)
                .map_or_else(|| s.clone(), |(_, to)| to.clone()),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| renamed(x, names)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), renamed(x, names)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text).unwrap();
    e.finish().unwrap()
}

/// The file entries without what depends on how a piece was stored.
fn files_as_text(v: &Value) -> Vec<Value> {
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut f = f.clone();
            let o = f.as_object_mut().unwrap();
            o.remove("bytes");
            o.remove("compression");
            f
        })
        .collect()
}

#[test]
fn a_set_whose_names_lie_is_read_in_the_order_of_its_contents() {
    let lines = common::logs::file_lines("testdata/logs/11-memory-growth/debian-7.0.15/redis.log");
    assert_eq!(lines.len(), 90);
    // Line 27 is inside pid 2810's lifetime (ready at 25, exit at 29), so
    // reading the pieces out of order splits that process in two.
    let pieces = [0..27, 27..63, 63..90];
    let text = |k: usize| lines[pieces[k].clone()].join("\n") + "\n";

    let ok = Dir::new("rotation-named");
    let ok_names = ["redis.log.2", "redis.log.1", "redis.log"];
    for (k, name) in ok_names.iter().enumerate() {
        std::fs::write(ok.0.join(name), text(k)).unwrap();
    }
    let lie = Dir::new("rotation-misnamed");
    let lie_names = ["redis.log", "redis.log.1", "redis.log.2.gz"];
    std::fs::write(lie.0.join(lie_names[0]), text(0)).unwrap();
    std::fs::write(lie.0.join(lie_names[1]), text(1)).unwrap();
    std::fs::write(lie.0.join(lie_names[2]), gzip(text(2).as_bytes())).unwrap();

    let want = logs_json(&ok.0);
    let got = logs_json(&lie.0);
    let names: Vec<(String, String)> = (0..3)
        .map(|k| {
            (
                lie.0.join(lie_names[k]).display().to_string(),
                ok.0.join(ok_names[k]).display().to_string(),
            )
        })
        .collect();
    let got = renamed(&got, &names);

    // Files oldest first by content: the one named redis.log comes first.
    let order: Vec<&str> = got["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    let expect: Vec<String> = ok_names
        .iter()
        .map(|n| ok.0.join(n).display().to_string())
        .collect();
    assert_eq!(order, expect);
    assert_eq!(files_as_text(&got), files_as_text(&want));
    assert_eq!(got["lines"], want["lines"]);

    // One node, six processes, each ended cleanly, as the named set has it.
    assert_eq!(got["nodes"], want["nodes"]);
    let pids: Vec<(u64, &str)> = got["nodes"][0]["lifetimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["pid"].as_u64().unwrap(), l["end"].as_str().unwrap()))
        .collect();
    assert_eq!(
        pids,
        [2190, 2810, 3067, 3598, 3695, 3814].map(|p| (p, "clean"))
    );

    // The same incidents, citing the same lines of the same pieces, and the
    // same events.
    let kinds = |v: &Value| -> Vec<String> {
        v["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        kinds(&got),
        [
            "restart",
            "memory_growth",
            "restart",
            "restart",
            "restart",
            "restart"
        ]
    );
    assert_eq!(got["incidents"], want["incidents"]);
    assert_eq!(got["events"], want["events"]);
}

#[test]
fn a_consistently_named_set_keeps_its_name_order() {
    // Files that begin at the same time stay in the order of their names.
    let d = Dir::new("rotation-consistent");
    let a = d.0.join("redis.log.1");
    let b = d.0.join("redis.log");
    std::fs::write(&a, "1:M 05 Dec 2026 10:00:00.000 * Server initialized\n").unwrap();
    std::fs::write(
        &b,
        "1:M 05 Dec 2026 10:00:00.000 * Ready to accept connections\n",
    )
    .unwrap();
    let v = logs_json(&d.0);
    let order: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(order, [a.display().to_string(), b.display().to_string()]);
}

#[test]
fn a_fleets_logs_of_one_name_are_told_apart_by_their_directories() {
    // Two nodes' logs, each `redis.log` in a directory of its own, of the
    // same recorded run: two nodes, each incident naming its own.
    let d = Dir::new("rotation-fleet");
    let log = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/logs/15-fork-failed/debian-7.0.15/redis.log"),
    )
    .unwrap();
    for node in ["node-a", "node-b"] {
        std::fs::create_dir_all(d.0.join(node)).unwrap();
        std::fs::write(d.0.join(node).join("redis.log"), &log).unwrap();
    }
    let v = logs_json(&d.0);
    let names: Vec<&str> = v["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["node-a/redis.log:18720", "node-b/redis.log:18720"]);
    let sets: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["set"].as_str().unwrap())
        .collect();
    assert_eq!(sets, ["node-a/redis.log", "node-b/redis.log"]);
    let mut by_node: Vec<(&str, &str)> = v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "fork_failed")
        .map(|i| {
            (
                i["nodes"][0].as_str().unwrap(),
                i["start"].as_str().unwrap(),
            )
        })
        .collect();
    by_node.sort();
    assert_eq!(by_node.len(), 2, "{by_node:?}");
    assert_eq!(by_node[0].0, "node-a/redis.log:18720");
    assert_eq!(by_node[1].0, "node-b/redis.log:18720");
    assert_eq!(by_node[0].1, by_node[1].1);
}

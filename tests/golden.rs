//! Golden tests of the log analysis: every recorded scenario under
//! `testdata/logs/*/` holds an `expected.json` with, per variant directory
//! (`debian-7.0.15/`, `valkey-9.1.2/`, …), the incidents `redsleuth logs`
//! finds there: kind, severity, nodes, span, cited `file:line` and the
//! cause links between incidents. A change to the rules shows up here as a
//! diff of that file.
//!
//! `REDSLEUTH_BLESS=1 cargo test --release --test golden` rewrites the
//! files from the current code; review the diff before committing it. The
//! `provenance` of each file (how the scenario was recorded and what was
//! checked by hand against the logs) is kept across rewrites.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The scenario directories: `testdata/logs/NN-*/`, in name order.
fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(|c: char| c.is_ascii_digit())
        })
        .collect();
    v.sort();
    v
}

/// The variant directories of a scenario (one server build each).
fn variants(scenario: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(scenario)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// `redsleuth logs DIR --min-severity info --format json`, from the crate
/// root so cited paths are relative to it.
fn analyze(dir: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(["logs", &rel(dir), "--min-severity", "info"])
        .args(["--format", "json", "--quiet"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// What the golden file holds of one analysis: the incidents, with the
/// evidence as `file:line` relative to the variant directory.
fn digest(doc: &Value, dir: &Path) -> Value {
    let prefix = format!("{}/", rel(dir));
    let incidents: Vec<Value> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let cites: Vec<Value> = i["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    let f = e["file"].as_str().unwrap();
                    let f = f.strip_prefix(&prefix).unwrap_or(f);
                    json!(format!("{f}:{}", e["line"]))
                })
                .collect();
            let mut o = Map::new();
            for k in ["kind", "severity", "nodes", "start", "end"] {
                o.insert(k.into(), i[k].clone());
            }
            o.insert("cites".into(), json!(cites));
            for k in ["caused_by", "led_to"] {
                if let Some(v) = i
                    .get(k)
                    .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
                {
                    o.insert(k.into(), v.clone());
                }
            }
            Value::Object(o)
        })
        .collect();
    json!(incidents)
}

#[test]
fn every_scenario_matches_its_golden_file() {
    let bless = std::env::var_os("REDSLEUTH_BLESS").is_some_and(|v| v == "1");
    let mut failed = Vec::new();
    let mut checked = 0;
    for sc in scenarios() {
        let path = sc.join("expected.json");
        let old: Value = std::fs::read_to_string(&path)
            .ok()
            .map(|s| serde_json::from_str(&s).unwrap())
            .unwrap_or_else(|| json!({}));
        let mut got = Map::new();
        for v in variants(&sc) {
            let name = v.file_name().unwrap().to_string_lossy().into_owned();
            got.insert(name, digest(&analyze(&v), &v));
        }
        let got = Value::Object(got);
        if bless {
            let mut doc = Map::new();
            doc.insert(
                "provenance".into(),
                old.get("provenance").cloned().unwrap_or(json!([])),
            );
            doc.insert("variants".into(), got);
            let text = serde_json::to_string_pretty(&Value::Object(doc)).unwrap() + "\n";
            std::fs::write(&path, text).unwrap();
            continue;
        }
        assert!(
            old["provenance"].as_array().is_some_and(|a| !a.is_empty()),
            "{}: no provenance",
            path.display()
        );
        if old["variants"] != got {
            failed.push(format!(
                "{}\n~~~ expected\n{}\n~~~ got\n{}\n~~~",
                rel(&path),
                serde_json::to_string_pretty(&old["variants"]).unwrap(),
                serde_json::to_string_pretty(&got).unwrap()
            ));
        }
        checked += 1;
    }
    assert!(
        failed.is_empty(),
        "{} of {checked} golden files differ (REDSLEUTH_BLESS=1 rewrites them):\n{}",
        failed.len(),
        failed.join("\n")
    );
    if !bless {
        assert!(checked >= 16, "only {checked} scenarios");
    }
}

/// The golden files agree with the hand checks kept in the per-scenario
/// tests: a few incidents checked line by line against the logs.
#[test]
fn golden_files_hold_the_hand_checked_incidents() {
    let load = |sc: &str| -> Value {
        let p = root().join("testdata/logs").join(sc).join("expected.json");
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let kinds = |doc: &Value, variant: &str| -> Vec<(String, String, Vec<String>)> {
        doc["variants"][variant]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["kind"].as_str().unwrap().to_string(),
                    i["severity"].as_str().unwrap().to_string(),
                    i["cites"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|c| c.as_str().unwrap().to_string())
                        .collect(),
                )
            })
            .collect()
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    // tests/logs_fork_failed.rs: the overcommit warning, then the three
    // refused forks and the save that ended the MISCONF window.
    assert_eq!(
        kinds(&load("15-fork-failed"), "debian-7.0.15"),
        vec![
            ("config_hazard".into(), "info".into(), s(&["redis.log:7"])),
            (
                "fork_failed".into(),
                "high".into(),
                s(&[
                    "redis.log:9",
                    "redis.log:10",
                    "redis.log:11",
                    "redis.log:15"
                ])
            ),
        ]
    );
    // tests/logs_server_oom_killed.rs: the kernel killed the server
    // (kernel.log:80), which restarted (redis.log:10) with the 8 s old RDB.
    let oom = kinds(&load("14-server-oom-killed"), "debian-7.0.15");
    assert_eq!(
        oom[..2],
        [
            (
                "oom_kill".into(),
                "critical".into(),
                s(&[
                    "redis.log:9",
                    "kernel.log:80",
                    "redis.log:10",
                    "redis.log:22"
                ])
            ),
            (
                "unclean_restart".into(),
                "high".into(),
                s(&[
                    "redis.log:9",
                    "kernel.log:80",
                    "redis.log:10",
                    "redis.log:18",
                    "redis.log:20",
                    "redis.log:21",
                    "redis.log:22"
                ])
            ),
        ]
    );
}

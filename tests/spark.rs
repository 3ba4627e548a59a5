//! The Spark job (`integrations/spark/redsleuth_fleet.py`) on a real engine:
//! `spark-submit --master local[2]` over the shared corpus's dumps of one
//! server (Redis 7.0.15, Debian package), a corrupt dump, and two recorded
//! log scenarios, compared with one `redsleuth rdb` run over every good dump
//! and one `redsleuth logs` run over both scenarios.
//!
//! Needs the venv of `.ci/run` (`REDSLEUTH_PYTHON`, with pyspark) and
//! Java; under CI a missing pyspark is a failure, never a skip.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

mod common;
use common::logmerge::compare;

const DUMPS: &str = "../shared/corpus/rdb/debian-7.0.15";
const CORRUPT: &str = "../shared/corpus/rdb/broken/truncated-50pct.rdb";
const SCENARIOS: [&str; 2] = [
    "testdata/logs/03-sentinel-failover/debian-7.0.15",
    "testdata/logs/04-cluster-failover/debian-7.0.15",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn ci() -> bool {
    ["CI", "REDSLEUTH_CI"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

/// pyspark's `spark-submit` beside the venv's interpreter, or why not.
fn spark_submit(python: &Path) -> Result<PathBuf, String> {
    let o = Command::new(python)
        .args([
            "-c",
            "import os, pyspark; print(os.path.dirname(pyspark.__file__))",
        ])
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if !o.status.success() {
        return Err(format!(
            "pyspark is not installed in {} (.ci/run installs it): {}",
            python.display(),
            String::from_utf8_lossy(&o.stderr).trim()
        ));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    Ok(dir.join("bin/spark-submit"))
}

fn redsleuth(args: &[&str]) -> Value {
    let o = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        matches!(o.status.code(), Some(0 | 1)),
        "redsleuth {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn abs(p: &str) -> String {
    std::fs::canonicalize(root().join(p))
        .unwrap()
        .display()
        .to_string()
}

#[test]
fn the_spark_job_merges_dumps_and_log_sets_as_one_run_over_them_all() {
    let Some(python) = common::python() else {
        return;
    };
    let submit = match spark_submit(&python) {
        Ok(s) => s,
        Err(e) => {
            assert!(!ci(), "{e}");
            eprintln!("skipped: {e}");
            return;
        }
    };
    if !root().join(DUMPS).is_dir() {
        assert!(
            !ci(),
            "{DUMPS} is missing: CI runs with ../shared beside the clone"
        );
        eprintln!("skipped: {DUMPS} is missing");
        return;
    }
    let dumps = abs(DUMPS);
    let corrupt = abs(CORRUPT);
    let logs: Vec<String> = SCENARIOS.iter().map(|s| abs(s)).collect();
    let out_dir = std::env::temp_dir().join(format!("redsleuth-spark-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).unwrap();
    let report = out_dir.join("fleet.json");

    let started = Instant::now();
    let o = Command::new(&submit)
        .args(["--master", "local[2]", "--conf", "spark.ui.enabled=false"])
        .arg(root().join("integrations/spark/redsleuth_fleet.py"))
        // The corrupt dump and the first scenario as file: URIs, read
        // through Hadoop and shipped to the executors as a cluster's
        // hdfs:// or s3a:// inputs are; the rest off the shared mount.
        .args([
            &dumps,
            &format!("file://{corrupt}"),
            &format!("file://{}", logs[0]),
            &logs[1],
        ])
        .arg("--out")
        .arg(&report)
        .args(["--redsleuth", env!("CARGO_BIN_EXE_redsleuth")])
        // Small groups, so that the dumps are reduced in more than one
        // step on the executors.
        .args(["--fan-in", "4"])
        .env("PYSPARK_PYTHON", &python)
        .env("PYSPARK_DRIVER_PYTHON", &python)
        .current_dir(&out_dir)
        .output()
        .unwrap();
    eprintln!("spark job: {:.1} s", started.elapsed().as_secs_f64());
    assert!(
        o.status.success(),
        "spark-submit failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let md = std::fs::read_to_string(out_dir.join("fleet.md")).unwrap();

    // One task per dump and per log set: 19 good dumps, the corrupt one,
    // 6 + 6 log files each a set of its own.
    let mut good: Vec<String> = std::fs::read_dir(&dumps)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".rdb"))
        .collect();
    good.sort();
    assert_eq!(good.len(), 19);
    let shards = got["shards"].as_array().unwrap();
    let count = |kind: &str| shards.iter().filter(|s| s["kind"] == kind).count();
    assert_eq!((count("rdb"), count("logs")), (20, 12));
    // Named by their paths however they were read.
    let shipped: Vec<&str> = shards
        .iter()
        .filter(|s| s["shipped"] == true)
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(shipped.contains(&corrupt.as_str()), "{shipped:?}");
    let first_scenario = shards
        .iter()
        .filter(|s| s["kind"] == "logs" && s["id"].as_str().unwrap().starts_with(&logs[0]))
        .count();
    assert!(
        first_scenario >= 3,
        "{first_scenario} log sets of {}",
        logs[0]
    );
    assert_eq!(shipped.len(), 1 + first_scenario, "{shipped:?}");

    // The corrupt dump is listed with its error and left out.
    let failed = got["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["id"], corrupt.as_str());
    assert_eq!(failed[0]["status"], "corrupt");
    let errors = failed[0]["errors"].to_string();
    assert!(errors.contains("truncated at byte 73037"), "{errors}");
    assert!(md.contains("truncated at byte 73037") && md.contains("1 left out"));

    // The keyspace: as one `rdb` run over the good dumps.
    let mut args = vec!["rdb", "-q", "--format", "json"];
    args.extend(good.iter().map(String::as_str));
    let want = redsleuth(&args);
    for k in [
        "patterns", "keyspace", "types", "ttl", "top_keys", "sources",
    ] {
        assert_eq!(
            got["rdb"][k], want[k],
            "rdb `{k}` differs from one run over the dumps"
        );
    }
    assert!(md.contains("# Keyspace report"));

    // The logs: as one `logs` run over both scenarios where each node's
    // analysis can tell, the failover chains listed as unjoined.
    let whole = redsleuth(&["logs", "-q", "--format", "json", &logs[0], &logs[1]]);
    let (exact, unjoined) = compare(&whole, &got["logs"]);
    assert_eq!(exact, ["unclean_restart", "unclean_restart"]);
    // The two scenarios ran three minutes apart: their fragments fall
    // within an hour of each other and make one group.
    assert_eq!(
        unjoined,
        vec![[
            "cluster_down",
            "cluster_failover",
            "replication_break",
            "sentinel_failover"
        ]
        .map(String::from)
        .to_vec()]
    );
    assert!(md.contains("Chains that could not be joined"));
    let _ = std::fs::remove_dir_all(&out_dir);
}

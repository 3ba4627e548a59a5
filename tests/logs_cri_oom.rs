//! Kubernetes CRI partial lines and the kernel OOM killer, on small logs
//! written by the tests themselves (expected values checked by hand below).

use std::path::{Path, PathBuf};

use redsleuth::logs::cli::{LogFormat, LogsArgs};
use serde_json::Value;

fn args(paths: Vec<PathBuf>) -> LogsArgs {
    LogsArgs {
        threads: Some(2),
        quiet: true,
        ..LogsArgs::new(paths, LogFormat::Json)
    }
}

fn json(paths: Vec<PathBuf>) -> Value {
    let mut out = Vec::new();
    let code = redsleuth::logs::run(&args(paths), &mut out).expect("run");
    let out = String::from_utf8(out).expect("utf-8");
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).expect("valid JSON")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("redsleuth-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(d: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let p = d.join(name);
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

/// (file name, line, text) of an incident's evidence.
fn cites(i: &Value) -> Vec<(String, u64, String)> {
    i["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = e["file"].as_str().unwrap();
            (
                f.rsplit('/').next().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
                e["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

const CRI: &[&str] = &[
    "2026-11-23T07:30:00.000000000Z stdout F 1:M 23 Nov 2026 07:30:00.000 * Ready to accept connections tcp",
    "2026-11-23T07:30:01.000000000Z stdout P 1:M 23 Nov 2026 07:30:01.000 # Can't save in background: fork: Cannot ",
    "2026-11-23T07:30:01.000000100Z stdout F allocate memory",
    "2026-11-23T07:30:02.000000000Z stdout F 1:M 23 Nov 2026 07:30:02.000 * Background saving terminated with success",
];

#[test]
fn cri_partial_line_is_joined_with_the_final_piece() {
    let d = dir("cri");
    let p = write(&d, "redis-0_default_redis.log", CRI);
    let doc = json(vec![p]);
    assert_eq!(doc["lines"], 4);
    assert_eq!(doc["metrics"]["cri_partial_lines_joined"], 1);
    // One fork_failed event, at the line where the record starts, with the
    // whole reason (it spans both pieces).
    let ev: Vec<&Value> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "fork_failed")
        .collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["line"], 2);
    assert_eq!(ev[0]["fields"]["reason"], "Cannot allocate memory");
    assert_eq!(ev[0]["ts"], "2026-11-23 07:30:01.000");
    // The incident names the errno class only the joined text carries, and
    // ends at the next successful BGSAVE (line 4).
    let inc: Vec<&Value> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "fork_failed")
        .collect();
    assert_eq!(inc.len(), 1);
    let s = inc[0]["summary"].as_str().unwrap();
    assert!(
        s.contains("Cannot allocate memory (out of memory, ENOMEM)"),
        "{s}"
    );
    assert_eq!(inc[0]["end"], "2026-11-23 07:30:02.000");
    assert_eq!(
        cites(inc[0]),
        vec![
            ("redis-0_default_redis.log".into(), 2, CRI[1].to_string()),
            ("redis-0_default_redis.log".into(), 4, CRI[3].to_string()),
        ]
    );
    // The same from a gzip copy: line numbers and texts of the decompressed
    // text, the texts read back by decompressing again.
    let gz = d.join("redis-1_default_redis.log.gz");
    {
        use std::io::Write;
        let mut g = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        g.write_all((CRI.join("\n") + "\n").as_bytes()).unwrap();
        g.finish().unwrap();
    }
    let doc = json(vec![gz]);
    let inc = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "fork_failed")
        .unwrap();
    assert_eq!(
        cites(inc),
        vec![
            ("redis-1_default_redis.log.gz".into(), 2, CRI[1].to_string()),
            ("redis-1_default_redis.log.gz".into(), 4, CRI[3].to_string()),
        ]
    );
    std::fs::remove_dir_all(&d).ok();
}

const REDIS: &[&str] = &[
    "100:C 23 Nov 2026 07:40:00.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    "100:M 23 Nov 2026 07:40:00.001 * Running mode=standalone, port=6390.",
    "100:M 23 Nov 2026 07:40:00.002 * Ready to accept connections tcp",
    "100:M 23 Nov 2026 07:41:00.000 * Background saving started by pid 101",
    "200:C 23 Nov 2026 07:41:30.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo",
    "200:M 23 Nov 2026 07:41:30.001 * Running mode=standalone, port=6390.",
    "200:M 23 Nov 2026 07:41:30.500 * Ready to accept connections tcp",
];

const KERN: &[&str] = &[
    "2026-11-23T07:41:05.000000+00:00 host kernel: [12345.678901] Out of memory: Killed process 100 (redis-server)",
];

#[test]
fn oom_killed_process_ends_oom_killed_and_feeds_the_oom_chain() {
    let d = dir("oom");
    let r = write(&d, "redis.log", REDIS);
    let k = write(&d, "kern.log", KERN);
    let doc = json(vec![r, k]);
    let node = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == ":6390")
        .unwrap();
    let ends: Vec<&str> = node["lifetimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["end"].as_str().unwrap())
        .collect();
    assert_eq!(ends, vec!["oom-killed", "running"]);
    let of = |kind: &str| -> Vec<Value> {
        doc["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["kind"] == kind)
            .cloned()
            .collect()
    };
    // The OOM incident sits on the killed server's node and cites its last
    // line, the kernel line, and the restart.
    let oom = of("oom_kill");
    assert_eq!(oom.len(), 1);
    assert_eq!(oom[0]["severity"], "critical");
    assert_eq!(oom[0]["nodes"], serde_json::json!([":6390"]));
    assert_eq!(oom[0]["start"], "2026-11-23 07:41:05.000");
    assert_eq!(oom[0]["end"], "2026-11-23 07:41:30.500");
    let want = vec![
        ("redis.log".to_string(), 4, REDIS[3].to_string()),
        ("kern.log".to_string(), 1, KERN[0].to_string()),
        ("redis.log".to_string(), 5, REDIS[4].to_string()),
        ("redis.log".to_string(), 7, REDIS[6].to_string()),
    ];
    assert_eq!(cites(&oom[0]), want);
    let s = oom[0]["summary"].as_str().unwrap();
    assert!(
        s.contains("pid 100") && s.contains("07:41:00.000") && s.contains("07:41:30.500"),
        "{s}"
    );
    // The restart says why the process ended, with the same evidence.
    let r = of("unclean_restart");
    assert_eq!(r.len(), 1);
    let s = r[0]["summary"].as_str().unwrap();
    assert!(
        s.contains("killed by the kernel OOM killer at 07:41:05.000"),
        "{s}"
    );
    assert_eq!(cites(&r[0]), want);
    // A process that logged well after the kill time is not the one killed.
    let late: Vec<String> = REDIS
        .iter()
        .map(|l| l.replace("07:41:00.000 * Background", "07:43:00.000 * Background"))
        .collect();
    let d2 = dir("oom-late");
    let r2 = d2.join("redis.log");
    std::fs::write(&r2, late.join("\n") + "\n").unwrap();
    let k2 = write(&d2, "kern.log", KERN);
    let doc = json(vec![r2, k2]);
    let ends: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == ":6390")
        .unwrap()["lifetimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["end"].as_str().unwrap())
        .collect();
    assert_eq!(ends, vec!["unknown-kill", "running"]);
    std::fs::remove_dir_all(&d).ok();
    std::fs::remove_dir_all(&d2).ok();
}

/// The same kill as `dmesg -T` prints it (wall clock with a year) ends the
/// same lifetime; plain `dmesg` (seconds since boot) cannot be placed in
/// time, so the lifetime stays an unexplained kill, unless `--boot-time`
/// says when the host booted.
#[test]
fn dmesg_human_time_places_the_kill_and_raw_dmesg_does_not() {
    let human = ["[Mon Nov 23 07:41:05 2026] Out of memory: Killed process 100 (redis-server) total-vm:1048576kB, anon-rss:917504kB, file-rss:0kB, shmem-rss:0kB"];
    let raw = ["[12345.678901] Out of memory: Killed process 100 (redis-server) total-vm:1048576kB, anon-rss:917504kB, file-rss:0kB, shmem-rss:0kB"];
    for (name, kern, want) in [
        ("dmesg-t", &human, "oom-killed"),
        ("dmesg-raw", &raw, "unknown-kill"),
    ] {
        let d = dir(name);
        let r = write(&d, "redis.log", REDIS);
        let k = write(&d, "dmesg.txt", kern);
        let doc = json(vec![r, k]);
        let ends: Vec<&str> = doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["name"] == ":6390")
            .unwrap()["lifetimes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["end"].as_str().unwrap())
            .collect();
        assert_eq!(ends, vec![want, "running"], "{name}");
        // Either way the kernel line is read, not left unparsed.
        assert_eq!(doc["metrics"]["unparsed_lines"], 0, "{name}");
        assert_eq!(
            doc["metrics"]["line_counts"]["kernel_oom_kill"], 1,
            "{name}"
        );
        std::fs::remove_dir_all(&d).ok();
    }
}

#[test]
fn boot_time_places_plain_dmesg_lines() {
    // Booted 04:15:19; 12345.678901 s later is 07:41:04.678, 4.7 s after
    // the server's last line.
    let raw = ["[12345.678901] Out of memory: Killed process 100 (redis-server) total-vm:1048576kB, anon-rss:917504kB, file-rss:0kB, shmem-rss:0kB"];
    let d = dir("dmesg-boot");
    let r = write(&d, "redis.log", REDIS);
    let k = write(&d, "dmesg.txt", &raw);
    let a = LogsArgs {
        boot_time: Some("2026-11-23 04:15:19".to_string()),
        ..args(vec![r, k])
    };
    let mut out = Vec::new();
    assert_eq!(redsleuth::logs::run(&a, &mut out).unwrap(), 0);
    let doc: Value = serde_json::from_slice(&out).unwrap();
    let kill = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "kernel_oom_kill")
        .unwrap();
    assert_eq!(kill["ts"], "2026-11-23 07:41:04.678");
    let ends: Vec<&str> = doc["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == ":6390")
        .unwrap()["lifetimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["end"].as_str().unwrap())
        .collect();
    assert_eq!(ends, vec!["oom-killed", "running"]);
    std::fs::remove_dir_all(&d).ok();
}

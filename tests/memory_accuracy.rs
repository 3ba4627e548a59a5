//! Accuracy of the memory model against the live servers: every key of every
//! corpus dump whose `*.truth.json` recorded `MEMORY USAGE key SAMPLES 0` is
//! estimated with the model of the server that wrote the file (and the
//! allocator it was built with, `server.mem_allocator`), and the relative
//! error is summarised per server and per type.
//!
//! Each (server, type) cell must reach a median error ≤ 2 % and a 90th
//! percentile ≤ 8 %, unless [`LIMITS`] gives it explicit, documented bounds.
//! Set `MEMORY_DUMP=path` to write every key's facts and errors as TSV.

mod common;
use common::{dump_for, hex, read_dump, truth_files};

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use redsleuth::memory::{Allocator, Model};
use redsleuth::rdb::value::{inspect, Depth};
use redsleuth::rdb::{RdbFile, Record};
use serde_json::Value;

/// Default targets.
const MEDIAN: f64 = 0.02;
const P90: f64 = 0.08;

/// Cells that cannot meet the default targets, with the bounds reached:
/// (server directory, type, median limit, p90 limit).
const LIMITS: &[(&str, &str, f64, f64)] = &[
    // Small listpack hashes: the listpack's usable size is counted
    // (`zmalloc_size`), and ~57 % of the 8-field hashes here measure 16 bytes
    // (a few 32) more than a fresh allocation. Replaying their growth does
    // not predict it: all of them share one realloc history (`lpNew` → 32-byte
    // chunk, `lpInsert` reallocating only past the usable size, ending in a
    // 144-byte chunk), yet the slack comes in runs of consecutive insertions,
    // so it is the free chunk glibc happened to reuse (heap state), which
    // the file does not record.
    // A hashtable that grew one insertion at a time is still rehashing (the
    // old table is counted too) for the `b` insertions after growing from
    // `b` buckets. Past 2 048 elements the model counts it (the 120 000-
    // field incident hash, 1.3 %); below, a table of the same size built by
    // one command or a load was never rehashing (14–21 % over if counted),
    // and a file cannot tell the two apart.
    // The server itself does not meet the default targets here: the same
    // commands replayed on one glibc Valkey 9.1.2 give a p90 run-to-run
    // difference of 8.3–9.1 % on such hashes, and the same integer set
    // written by one SADD or by two differs by 21 %
    // (benches/server-variance.sh, README "Measured accuracy").
    ("valkey-9.1.2", "hash", 0.10, 0.10),
    // The integer set here grew one insertion at a time after a presized
    // first SADD and was measured mid-rehash (see above); 2 of 18 keys, so
    // p90 lands on it.
    ("valkey-9.1.2", "set", 0.02, 0.19),
];

/// The `q` quantile of sorted values (nearest rank).
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Estimates for one dump: key bytes → (estimate, type, encoding, facts).
fn estimates(rdb: &Path, allocator: Allocator, cluster: bool) -> BTreeMap<Vec<u8>, (u64, String)> {
    let data = read_dump(rdb);
    let file = RdbFile::parse(&data).unwrap();
    let model = Model::new(file.profile(), allocator).with_cluster(cluster);
    let depth = Depth {
        element_lengths: model.needs_element_lengths(),
    };
    let mut scratch = Vec::new();
    let mut out = BTreeMap::new();
    for rec in file.records() {
        if let Record::Key(f) = rec.unwrap() {
            let key = f.key.to_cow().unwrap().into_owned();
            let info = inspect(&f, &file.profile(), depth, &mut scratch).unwrap();
            let est = model.key_memory(&f, key.len() as u64, &info);
            let s = &info.shape;
            let facts = format!(
                "{}\t{}\t{}\t{:?}\t{}\t{}\t{}\t{}\t{}\t{:?}",
                info.encoding,
                key.len(),
                f.expire_ms.is_some(),
                info.elements,
                s.bytes,
                s.sum_a,
                s.sum_b,
                s.nodes.len(),
                s.volatile_fields,
                s.stream,
            );
            out.insert(key, (est, facts));
        }
    }
    out
}

#[test]
fn memory_model_matches_memory_usage() {
    let files = truth_files();
    assert!(files.len() >= 100, "found {} truth files", files.len());
    // (server, type) → relative errors.
    let mut cells: BTreeMap<(String, String), Vec<f64>> = BTreeMap::new();
    let mut dump = String::new();
    let mut unanswered = 0usize;
    for truth_path in &files {
        let truth: Value = serde_json::from_slice(&std::fs::read(truth_path).unwrap()).unwrap();
        let rdb = dump_for(truth_path);
        let stem = rdb.file_stem().unwrap().to_string_lossy().to_string();
        let server = truth_path
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        let alloc_name = truth["server"]["mem_allocator"]
            .as_str()
            .unwrap_or("jemalloc");
        let mut allocator = Allocator::parse(alloc_name)
            .unwrap_or_else(|| panic!("{}: allocator {alloc_name}", truth_path.display()));
        // The Debian package links the system jemalloc (16-byte quantum);
        // INFO names it like the bundled one.
        if allocator == Allocator::Jemalloc && server.starts_with("debian") {
            allocator = Allocator::JemallocSystem;
        }
        let cluster = truth["server"]["redis_mode"] == "cluster";
        let est = estimates(&rdb, allocator, cluster);
        for d in truth["dbs"].as_object().unwrap().values() {
            for k in d["key_details"].as_array().into_iter().flatten() {
                let key = hex(k["key_hex"].as_str().unwrap());
                let Some((e, facts)) = est.get(&key) else {
                    continue;
                };
                // Every key gets an answer, even where the server had none.
                assert!(*e > 0, "{}: zero estimate", truth_path.display());
                let Some(want) = k["memory_usage"].as_u64() else {
                    unanswered += 1;
                    continue;
                };
                let ty = k["type"].as_str().unwrap().to_string();
                let err = (*e as f64 - want as f64).abs() / want as f64;
                cells
                    .entry((server.clone(), ty.clone()))
                    .or_default()
                    .push(err);
                let _ = writeln!(
                    dump,
                    "{server}\t{stem}\t{}\t{ty}\t{facts}\t{want}\t{e}\t{:.4}",
                    String::from_utf8_lossy(&key),
                    err
                );
            }
        }
    }
    if let Ok(path) = std::env::var("MEMORY_DUMP") {
        std::fs::write(path, &dump).unwrap();
    }
    assert!(unanswered > 0, "2.8/3.2 keys should be answered too");
    let mut table = String::from("server               type       keys   median     p90\n");
    let mut failures = Vec::new();
    for ((server, ty), errs) in &mut cells {
        errs.sort_by(f64::total_cmp);
        let (med, p90) = (quantile(errs, 0.5), quantile(errs, 0.9));
        let _ = writeln!(
            table,
            "{server:<20} {ty:<9} {:>5} {:>7.2}% {:>7.2}%",
            errs.len(),
            med * 100.0,
            p90 * 100.0
        );
        let (lm, lp) = LIMITS
            .iter()
            .find(|l| l.0 == server && l.1 == ty)
            .map(|l| (l.2, l.3))
            .unwrap_or((MEDIAN, P90));
        if med > lm || p90 > lp {
            failures.push(format!(
                "{server}/{ty}: median {:.2}% (limit {:.2}%), p90 {:.2}% (limit {:.2}%)",
                med * 100.0,
                lm * 100.0,
                p90 * 100.0,
                lp * 100.0
            ));
        }
    }
    eprintln!("{table}");
    assert!(cells.len() >= 40, "only {} cells", cells.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Hashtable hashes and sets of the servers built from their release tags
/// (`testdata/rdb/capture.py`): sizes just past a power of two are caught
/// mid-rehash on the live server (counted with both bucket arrays), and
/// the model must say which. Every hash matches exactly, every sorted set
/// is within 2 % (skiplist levels are random), and nine sets in ten are
/// within 2 % (a set at a window's edge depends on how the real hash
/// filled the buckets, and Valkey 8.0 sets are estimated from the expected
/// bucket sharing).
#[test]
fn dicts_caught_mid_rehash_are_counted() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rdb");
    for server in ["redis-6.0.20", "redis-7.2.6", "valkey-8.0.1"] {
        let truth_path = root.join(server).join("mixed.truth.json");
        let truth: Value = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let est = estimates(&dump_for(&truth_path), Allocator::Jemalloc, false);
        for ty in ["hash", "set", "zset"] {
            let (mut keys, mut good) = (0u64, 0u64);
            for k in truth["dbs"]["0"]["key_details"].as_array().unwrap() {
                if k["type"] != ty
                    || !matches!(k["encoding"].as_str(), Some("hashtable" | "skiplist"))
                {
                    continue;
                }
                let want = k["memory_usage"].as_u64().unwrap();
                let (e, _) = &est[&hex(k["key_hex"].as_str().unwrap())];
                let err = (*e as f64 - want as f64).abs() / want as f64;
                keys += 1;
                good += u64::from(if ty == "hash" {
                    *e == want
                } else {
                    err <= 0.02
                });
            }
            assert!(keys >= 10, "{server} {ty}: {keys} hashtables");
            // Sorted sets: every one within 2 % (skiplist levels are random).
            let need = if ty == "set" { keys * 9 / 10 } else { keys };
            assert!(good >= need, "{server} {ty}: {good} of {keys} match");
        }
    }
}

/// Hashes written 1 000 fields per `HSET` grow one field at a time after
/// the first command, and the incident dumps catch two of them just past a
/// doubling: Redis 7.4, 8.0 and 8.8 hold the 65 536-bucket old dict of the
/// 100 000-field hash (512 KiB), Valkey 9.1 the 16 384-bucket old table and
/// its chains of the 120 000-field one (a fifth of the key). Each must be
/// within 2 % of `MEMORY USAGE` (the rest is glibc slack on Valkey).
#[test]
fn batched_big_hashes_caught_mid_rehash() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/rdb");
    let cases = [
        ("redis-stack-7.4.1", "big:hash:0", Allocator::Jemalloc),
        ("redis-8.0-m01", "big:hash:0", Allocator::Jemalloc),
        ("redis-8.8-unstable", "big:hash:0", Allocator::Jemalloc),
        ("valkey-9.1.2", "big:hash:1", Allocator::Libc),
    ];
    let mut seen = 0;
    for (server, key, allocator) in cases {
        let truth_path = dir.join(server).join("incident-webapp.truth.json");
        if !truth_path.exists() {
            continue;
        }
        seen += 1;
        let truth: Value = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let want = truth["dbs"]["0"]["key_details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| hex(k["key_hex"].as_str().unwrap()) == key.as_bytes())
            .unwrap_or_else(|| panic!("{server}: {key} not in the truth"))["memory_usage"]
            .as_u64()
            .unwrap();
        let est = estimates(&dump_for(&truth_path), allocator, false)[key.as_bytes()].0;
        let err = (est as f64 - want as f64).abs() / want as f64;
        assert!(
            err <= 0.02,
            "{server} {key}: {est} vs {want} ({:.2}%)",
            err * 100.0
        );
    }
    // The incident dumps live in the shared corpus beside the checkout.
    if dir.is_dir() {
        assert_eq!(seen, cases.len());
    }
}

/// Collections written a batch per command, as bulk loaders write them
/// (`testdata/rdb/capture_batched.py`: 100, 300 or 1 000 members per
/// `SADD`/`HSET`/`ZADD` into sets, integer sets, hashes and sorted sets
/// of 1 200 … 20 000 members). From 7.2 the creating command presizes the
/// table for its batch and later commands grow it one member at a time, so
/// past each doubling the old bucket array is counted until the rehash is
/// done, whatever the collection's size; up to 7.0 every table grows one
/// member at a time from 4 buckets. Every hash and set must match
/// `MEMORY USAGE` to the byte and every sorted set be within 2 %, except
/// where the file cannot tell: a presizing server's table of 1 025 … 2 048
/// members was sized by one command (no old table) or doubled from the
/// 1 024 buckets a batch of ≤ 1 024 members presized, and the model takes
/// one command, so it is short by exactly that old array (8 KiB). Valkey
/// 9.1 hashtables, on glibc, are held to the cell bounds of the corpus.
///
/// Valkey 8.0.1 (built from its tag, jemalloc): hashes as Redis 7.2, to the
/// byte; sorted sets within 2 %. Its sets are `no_value` dicts, where a
/// member alone in its bucket costs no entry; an insertion mid-rehash
/// moves its own old bucket first, so members crowd the buckets just moved
/// and the model counts that sharing (`shared_members_mid_rehash`): every
/// set within 0.3 % (it was 3.2 % median, 4.5 % short before), the
/// 1 200-member ones short by up to 4.4 % more in the window above, whose
/// rehash the model does not see.
#[test]
fn batched_writes_keep_the_old_table_while_rehashing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/rdb");
    const OLD_1024: u64 = 8 * 1024;
    for (server, allocator, presizes) in [
        ("debian-7.0.15", Allocator::JemallocSystem, false),
        ("redis-7.2.6", Allocator::Jemalloc, true),
        ("redis-stack-7.4.1", Allocator::Jemalloc, true),
        ("redis-8.0-m01", Allocator::Jemalloc, true),
        ("valkey-8.0.1", Allocator::Jemalloc, true),
        ("valkey-9.1.2", Allocator::Libc, true),
    ] {
        let truth_path = root.join(server).join("batched.truth.json");
        let truth: Value = serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let est = estimates(&dump_for(&truth_path), allocator, false);
        let mut errs: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let (mut keys, mut window, mut v8_sets) = (0, 0, 0);
        for k in truth["dbs"]["0"]["key_details"].as_array().unwrap() {
            let ty = k["type"].as_str().unwrap();
            let n = k["count"].as_u64().unwrap();
            let want = k["memory_usage"].as_u64().unwrap();
            let name = k["key"].as_str().unwrap();
            let e = est[&hex(k["key_hex"].as_str().unwrap())].0;
            keys += 1;
            if server.starts_with("valkey-9") {
                errs.entry(ty.to_string())
                    .or_default()
                    .push((e as f64 - want as f64).abs() / want as f64);
                continue;
            }
            let in_window = presizes && (1025..=2048).contains(&n);
            window += usize::from(in_window);
            let want = if in_window { want - OLD_1024 } else { want };
            if server.starts_with("valkey-8") && ty == "set" {
                // `no_value` sets: within 0.3 % (the bucket sharing is an
                // expectation); in the one-command window also short by
                // the sharing of the rehash the model does not see.
                let err = (e as f64 - want as f64) / want as f64;
                let low = if in_window { -0.05 } else { -0.003 };
                assert!(err >= low && err <= 0.003, "{server} {name}: {e} vs {want}");
                v8_sets += 1;
                continue;
            }
            if ty == "zset" {
                let err = (e as f64 - want as f64).abs() / want as f64;
                assert!(err <= 0.02, "{server} {name}: {e} vs {want}");
            } else {
                assert_eq!(e, want, "{server} {name}");
            }
        }
        assert_eq!(keys, 120, "{server}");
        if server.starts_with("valkey-8") {
            assert_eq!(v8_sets, 60);
        }
        if presizes && !server.starts_with("valkey-9") {
            // n = 1 200 of each kind and batch size.
            assert_eq!(window, 12, "{server}");
        }
        for (ty, v) in &mut errs {
            v.sort_by(f64::total_cmp);
            let (med, p90) = (quantile(v, 0.5), quantile(v, 0.9));
            assert!(
                med <= 0.02 && p90 <= 0.03,
                "{server} {ty}: median {med:.4} p90 {p90:.4}"
            );
        }
    }
}

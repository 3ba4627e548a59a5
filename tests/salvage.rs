//! Salvage on real dumps of every era: seeded single faults (8-byte
//! overwrites, a flipped length byte, a deleted byte range) at many
//! positions. Each damaged file must be read without a panic, report a fault
//! (exit 3), keep the keys before the damage exactly, and — the point of
//! salvage — still report most of the file's keys, each one identical to the
//! undamaged read.

use std::collections::HashMap;
use std::process::Command;

use redsleuth::rdb::scan::{scan_with_checksum, Walk};
use redsleuth::rdb::value::{inspect, Depth};
use redsleuth::rdb::{RdbFile, Record};

/// One dump of each RDB era the corpus holds.
const DUMPS: &[&str] = &[
    "redis-2.8.24/all-types.rdb",       // RDB 6
    "redis-3.2.13/all-types.rdb",       // RDB 7
    "redis-4.0.14/all-types.rdb",       // RDB 8
    "redis-5.0.14/all-types.rdb",       // RDB 9
    "debian-7.0.15/all-types.rdb",      // RDB 10
    "redis-stack-7.4.1/all-types.rdb",  // RDB 12, with module values
    "redis-8.8-unstable/all-types.rdb", // RDB 14
    "valkey-9.1.2/all-types.rdb",       // VALKEY080
];
const POSITIONS: usize = 50;

/// What a key is, as far as "identical" goes.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    db: u64,
    type_name: String,
    encoding: &'static str,
    elements: Option<u64>,
    value: u64,
    expire_ms: Option<i64>,
    idle_s: Option<u64>,
    freq: Option<u8>,
}

/// The keys of one read, by name, with the offset range of each record.
struct Read {
    keys: HashMap<Vec<u8>, (Key, u64, u64)>,
    /// Names of keys read right after a skipped range.
    after_skip: Vec<Vec<u8>>,
    faults: usize,
    /// Offset of the first error of any kind (framing, value, checksum).
    first_error: Option<u64>,
    checksum_mismatch: bool,
}

fn fnv(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ u64::from(x)).wrapping_mul(0x100000001b3)
    })
}

fn read(data: &[u8], pool: &rayon::ThreadPool) -> Read {
    let file = RdbFile::parse(data).expect("the header is never damaged here");
    let profile = file.profile();
    let mut keys = HashMap::new();
    let mut value_errors = Vec::new();
    let mut eof = None;
    let mut order: Vec<(u64, Vec<u8>)> = Vec::new();
    let (faults, crc) = scan_with_checksum(
        &file,
        pool,
        Walk::salvage(),
        |f| inspect(f, &profile, Depth::default(), &mut Vec::new()),
        |rec, res| match (rec, res) {
            (Record::Key(f), Some(Ok(v))) => {
                let Ok(name) = f.key.to_cow().map(|k| k.into_owned()) else {
                    value_errors.push((f.offset, f.offset));
                    return;
                };
                let k = Key {
                    db: f.db,
                    type_name: v.type_name.as_str().to_string(),
                    encoding: v.encoding,
                    elements: v.elements,
                    value: fnv(f.value),
                    expire_ms: f.expire_ms,
                    idle_s: f.idle_s,
                    freq: f.freq,
                };
                let end = f.value_offset + f.value.len() as u64;
                order.push((f.offset, name.clone()));
                keys.insert(name, (k, f.offset, end));
            }
            (Record::Key(f), Some(Err(e))) => value_errors.push((f.offset, e.offset)),
            (
                Record::Eof {
                    offset, stored_crc, ..
                },
                _,
            ) => eof = Some((*offset, *stored_crc)),
            _ => {}
        },
        |_| {},
    );
    let checksum_mismatch = eof
        .map(|(o, s)| file.verify_checksum_with(o, s, crc).is_err())
        .unwrap_or(false);
    let mut after_skip = Vec::new();
    for f in &faults {
        if let Some(s) = f.skipped {
            if let Some((_, n)) = order.iter().find(|(o, _)| *o >= s.to) {
                after_skip.push(n.clone());
            }
        }
    }
    let first_error = faults
        .iter()
        .map(|f| f.error.offset)
        .chain(value_errors.iter().map(|(_, e)| *e))
        .min();
    Read {
        keys,
        after_skip,
        faults: faults.len(),
        first_error,
        checksum_mismatch,
    }
}

/// splitmix64: a seeded, reproducible stream of positions and bytes.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Eight random bytes written over the file at `at`.
    Overwrite,
    /// The length byte of a key's name (or of its value) XOR 0xFF.
    FlipLength,
    /// 1 to 64 bytes removed at `at`.
    Delete,
}

/// Applies `d` to a copy of `data`; returns it with the damaged range of the
/// original (from, to).
fn damage(data: &[u8], d: Damage, rng: &mut Rng, records: &[(u64, u64)]) -> (Vec<u8>, u64, u64) {
    // The header (9 bytes) and the trailer stay: a file that does not start
    // like an RDB is not salvaged, it is refused.
    let body = 9..data.len() as u64 - 9;
    let mut out = data.to_vec();
    match d {
        Damage::Overwrite => {
            let at = body.start + rng.below(body.end - body.start - 8);
            for b in &mut out[at as usize..at as usize + 8] {
                *b = rng.next() as u8;
            }
            (out, at, at + 8)
        }
        Damage::FlipLength => {
            // Records are (offset of the type byte, offset of the value).
            let (type_at, value_at) = records[rng.below(records.len() as u64) as usize];
            let at = if rng.below(2) == 0 {
                type_at + 1
            } else {
                value_at
            };
            out[at as usize] ^= 0xFF;
            (out, at, at + 1)
        }
        Damage::Delete => {
            let at = body.start + rng.below(body.end - body.start - 64);
            let n = 1 + rng.below(64);
            out.drain(at as usize..(at + n) as usize);
            (out, at, at + n)
        }
    }
}

/// (type byte offset, value offset) of every key record.
fn key_records(data: &[u8]) -> Vec<(u64, u64)> {
    RdbFile::parse(data)
        .unwrap()
        .records()
        .filter_map(|r| match r {
            Ok(Record::Key(f)) => Some((f.value_offset - 1 - key_header_len(&f), f.value_offset)),
            _ => None,
        })
        .collect()
}

/// Bytes of the type byte's key string: its length prefix and the name.
fn key_header_len(f: &redsleuth::rdb::Frame<'_>) -> u64 {
    f.serialized_bytes - f.value.len() as u64 - 1
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn dump(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/testdata/rdb/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn damaged_dumps_of_every_era_keep_most_keys_identical() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let mut changed = Vec::new();
    let mut compared = 0usize;
    for name in DUMPS {
        let data = dump(name);
        let clean = read(&data, &pool);
        assert_eq!(clean.faults, 0, "{name}");
        assert!(!clean.checksum_mismatch, "{name}");
        let total = clean.keys.len();
        let records = key_records(&data);
        assert_eq!(records.len(), total, "{name}: unique names");
        let mut rng = Rng(fnv(name.as_bytes()));
        for d in [Damage::Overwrite, Damage::FlipLength, Damage::Delete] {
            let mut shares = Vec::new();
            for _ in 0..POSITIONS {
                let (bad, from, to) = damage(&data, d, &mut rng, &records);
                let got = read(&bad, &pool);
                let what = format!("{name}: {d:?} at {from}..{to}");
                // A fault is reported: a framing or value error, or at least
                // the checksum. Damage inside a value can leave every record
                // well formed; then the checksum is what tells.
                assert!(
                    got.faults > 0 || got.first_error.is_some() || got.checksum_mismatch,
                    "{what}: nothing reported"
                );
                // No error is claimed before the damage.
                if let Some(e) = got.first_error {
                    let start = clean
                        .keys
                        .values()
                        .filter(|(_, s, _)| *s <= from)
                        .map(|(_, s, _)| *s)
                        .max()
                        .unwrap_or(9);
                    assert!(
                        e >= start,
                        "{what}: error at {e}, before the damaged record at {start}"
                    );
                }
                let mut same = 0usize;
                for (k, (key, _, _)) in &got.keys {
                    let Some((orig, s, e)) = clean.keys.get(k) else {
                        continue;
                    };
                    // The record the damage fell in may read differently.
                    if *e >= from && *s < to {
                        continue;
                    }
                    let mut key = key.clone();
                    if got.after_skip.contains(k) {
                        // The key right after a skipped range may have lost
                        // a prefix (expiry, LRU, LFU) to the damage.
                        key.expire_ms = orig.expire_ms;
                        key.idle_s = orig.idle_s;
                        key.freq = orig.freq;
                    }
                    if key == *orig {
                        same += 1;
                    } else {
                        // A damaged length can frame a record over the
                        // SELECTDB behind it before the walk notices: the
                        // keys up to the resync then sit in the previous db.
                        changed.push(format!("{what}: {}", String::from_utf8_lossy(k)));
                    }
                }
                compared += got.keys.len();
                let phantoms = got
                    .keys
                    .keys()
                    .filter(|k| !clean.keys.contains_key(*k))
                    .count();
                let names: Vec<String> = got
                    .keys
                    .keys()
                    .filter(|k| !clean.keys.contains_key(*k))
                    .map(|k| String::from_utf8_lossy(k).into_owned())
                    .collect();
                assert!(
                    phantoms <= 2,
                    "{what}: {phantoms} keys the dump never held: {names:?}"
                );
                shares.push(same as f64 / total as f64);
            }
            let m = median(shares.clone());
            let worst = shares.iter().cloned().fold(1.0, f64::min);
            eprintln!(
                "{name} {d:?}: median {:.1} % of {total} keys kept, worst {:.1} %",
                m * 100.0,
                worst * 100.0
            );
            assert!(m >= 0.90, "{name} {d:?}: median share {m:.3}");
        }
    }
    eprintln!(
        "{} of {compared} keys read from damaged files differ from the clean read",
        changed.len()
    );
    assert!(
        changed.len() * 200 <= compared,
        "more than 0.5 % of keys read differ: {changed:#?}"
    );
}

#[test]
fn the_command_line_exits_3_and_names_the_offset() {
    let data = dump("debian-7.0.15/all-types.rdb");
    let records = key_records(&data);
    let dir = std::env::temp_dir().join(format!("redsleuth-salvage-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Key 40's name length turned to 0xFF - its original: a 6-bit length
    // becomes the 0xC0 class tag (an encoded integer of an unknown width).
    let (type_at, _) = records[40];
    // Its record starts with an 8-byte millisecond expiry: 9 bytes earlier.
    assert_eq!(data[type_at as usize - 9], 0xFC);
    let mut bad = data.clone();
    bad[type_at as usize + 1] ^= 0xFF;
    let path = dir.join("flipped-length.rdb");
    std::fs::write(&path, &bad).unwrap();
    let bin = env!("CARGO_BIN_EXE_redsleuth");
    for sub in ["check", "keys", "rdb"] {
        let o = Command::new(bin)
            .args([sub, "-q"])
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{sub}: {err}");
        assert!(
            err.contains(&format!("byte {}", type_at + 1)),
            "{sub}: {err}"
        );
        assert!(err.contains("skipped"), "{sub}: {err}");
    }
    // check's JSON lists the fault and the skipped range; keys before and
    // after it are counted.
    let o = Command::new(bin)
        .args(["check", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["errors"][0]["offset"], type_at + 1);
    assert_eq!(v["errors"][0]["file"], path.display().to_string());
    let s = &v["skipped"][0];
    assert_eq!(s["from"], type_at - 9);
    assert_eq!(
        s["to"],
        records[41].0 - 9,
        "resumed at the next key's expiry"
    );
    assert_eq!(s["keys_lost_estimate"], 1);
    assert_eq!(s["keys_before"], 40);
    assert_eq!(s["keys_after"], 144);
    assert_eq!(v["keyspace"]["keys"], 184);
    assert_eq!(v["source"]["checksum"]["status"], "mismatch");
    // --strict stops there, as redis-check-rdb does.
    let o = Command::new(bin)
        .args(["check", "--strict", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["keyspace"]["keys"], 40);
    assert_eq!(v["skipped"].as_array().unwrap().len(), 0);
    assert_eq!(o.status.code(), Some(3));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn keys_on_a_checksum_mismatch_prints_every_row_and_exits_3() {
    let bin = env!("CARGO_BIN_EXE_redsleuth");
    let o = Command::new(bin)
        .args([
            "keys",
            "-q",
            "testdata/rdb/broken/flipped-byte-in-value.rdb",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("checksum MISMATCH"), "{err}");
    // strings.rdb holds 34 keys; the flipped byte is inside a value, so all
    // are listed.
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 34);
}

//! Every prefix and many single-byte corruptions of real dumps: the reader
//! returns an error with an offset inside the input, never panics, and
//! reports every key framed before the fault.

use redsleuth::rdb::value::{inspect, Depth};
use redsleuth::rdb::{RdbFile, Record};

/// Reads everything; returns (keys framed, first error).
fn read_all(data: &[u8]) -> (usize, Option<redsleuth::rdb::Error>) {
    let file = match RdbFile::parse(data) {
        Ok(f) => f,
        Err(e) => return (0, Some(e)),
    };
    let profile = file.profile();
    let mut keys = 0;
    let mut scratch = Vec::new();
    for rec in file.records() {
        match rec {
            Ok(Record::Key(f)) => {
                keys += 1;
                if let Err(e) = inspect(
                    &f,
                    &profile,
                    Depth {
                        element_lengths: true,
                    },
                    &mut scratch,
                ) {
                    return (keys, Some(e));
                }
            }
            Ok(Record::Eof { .. }) => return (keys, None),
            Ok(_) => {}
            Err(e) => return (keys, Some(e)),
        }
    }
    (keys, None)
}

const SAMPLES: &[&str] = &[
    "redis-2.8.24/multidb.rdb",
    "redis-4.0.14/lfu.rdb",
    "redis-5.0.14/expire.rdb",
    "debian-7.0.15/functions.rdb",
    "debian-7.0.15/lru.rdb",
    "redis-stack-7.4.1/modules.rdb",
    "valkey-9.1.2/multidb.rdb",
    "public/redis/encodings.rdb",
    "public/redis-rdb-tools/redis_50_with_streams.rdb",
    "public/redis-rdb-tools/zipmap_that_compresses_easily.rdb",
    "public/redis-rdb-tools/ziplist_with_integers.rdb",
];

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/testdata/rdb/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[test]
fn every_prefix_of_real_dumps_is_an_error_with_keys_kept() {
    for name in SAMPLES {
        let data = sample(name);
        let (all_keys, err) = read_all(&data);
        assert!(err.is_none(), "{name}: {err:?}");
        let mut last_keys = 0;
        // The EOF opcode is the last byte before the 8-byte CRC (when
        // present); any shorter prefix must fail.
        let eof = data.iter().rposition(|&b| b == 0xFF).unwrap();
        for n in 0..eof {
            let (keys, err) = read_all(&data[..n]);
            let err = err.unwrap_or_else(|| panic!("{name}: prefix {n} read without error"));
            assert!(
                err.offset <= n as u64,
                "{name}: prefix {n}: offset {} past the end",
                err.offset
            );
            assert!(
                keys >= last_keys,
                "{name}: prefix {n} kept {keys} keys, a shorter one {last_keys}"
            );
            assert!(keys <= all_keys);
            last_keys = keys;
        }
        assert!(
            last_keys + 1 >= all_keys,
            "{name}: only {last_keys} of {all_keys} keys before the end"
        );
    }
}

#[test]
fn flipped_bytes_never_panic() {
    for name in SAMPLES {
        let data = sample(name);
        for i in 9..data.len() {
            for mask in [0xFF, 0x80, 0x01] {
                let mut d = data.clone();
                d[i] ^= mask;
                let (_, err) = read_all(&d);
                if let Some(e) = err {
                    assert!(e.offset <= d.len() as u64, "{name}: flip {i}: {e}");
                }
            }
        }
    }
}

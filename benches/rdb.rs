//! Framer and full-decode throughput on a deterministic synthetic dump
//! (strings, listpack hashes, linked sets), reported in bytes per second.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use redsleuth::rdb::value::{inspect, Depth};
use redsleuth::rdb::{Profile, RdbFile, Record};

/// Builds an RDB 11 file of `n` keys of mixed types.
fn synthetic(n: usize) -> Vec<u8> {
    let mut v = b"REDIS0011\xFA\x09redis-ver\x057.2.4\xFE\x00".to_vec();
    let put = |v: &mut Vec<u8>, b: &[u8]| {
        assert!(b.len() < 64);
        v.push(b.len() as u8);
        v.extend_from_slice(b);
    };
    for i in 0..n {
        let key = format!("user:{i}:{}", ["feed", "profile", "tags"][i % 3]);
        match i % 3 {
            0 => {
                v.push(0);
                put(&mut v, key.as_bytes());
                put(
                    &mut v,
                    format!("value-{i}-{}", "x".repeat(i % 40)).as_bytes(),
                );
            }
            1 => {
                // A listpack hash of 4 small fields.
                let mut lp = vec![0u8; 6];
                let mut count = 0u16;
                for f in ["name", "mail", "city", "zip"] {
                    for s in [f.as_bytes(), format!("{f}{i}").as_bytes()] {
                        lp.push(0x80 | s.len() as u8);
                        lp.extend_from_slice(s);
                        lp.push(1 + s.len() as u8);
                        count += 1;
                    }
                }
                lp.push(0xFF);
                let total = lp.len() as u32;
                lp[..4].copy_from_slice(&total.to_le_bytes());
                lp[4..6].copy_from_slice(&count.to_le_bytes());
                v.push(16);
                put(&mut v, key.as_bytes());
                v.extend_from_slice(&[0x40 | (lp.len() >> 8) as u8, lp.len() as u8]);
                v.extend_from_slice(&lp);
            }
            _ => {
                v.push(2);
                put(&mut v, key.as_bytes());
                v.push(8);
                for m in 0..8 {
                    put(&mut v, format!("tag-{m}-{}", i % 97).as_bytes());
                }
            }
        }
    }
    v.push(0xFF);
    v.extend_from_slice(&[0; 8]);
    v
}

/// Total elements of every key, walking sequentially.
fn sequential(file: &RdbFile<'_>, profile: &Profile) -> u64 {
    let mut scratch = Vec::new();
    let mut n = 0u64;
    for r in file.records() {
        if let Ok(Record::Key(f)) = r {
            n += inspect(&f, profile, Depth::default(), &mut scratch)
                .map(|v| v.elements.unwrap_or(0))
                .unwrap_or(0);
        }
    }
    n
}

/// Total elements of every key, through the parallel scan.
fn parallel(file: &RdbFile<'_>, profile: &Profile, pool: &rayon::ThreadPool) -> u64 {
    let mut n = 0u64;
    redsleuth::rdb::scan::scan(
        file,
        pool,
        redsleuth::rdb::scan::Walk::strict(),
        |f| {
            inspect(f, profile, Depth::default(), &mut Vec::new())
                .map(|v| v.elements.unwrap_or(0))
                .unwrap_or(0)
        },
        |_, r| n += r.unwrap_or(0),
        |_| {},
    );
    n
}

/// The three measurements on one input.
fn group(c: &mut Criterion, name: &str, data: &[u8], samples: usize) {
    let file = RdbFile::parse(data).expect("an RDB file");
    let profile = file.profile();
    let pool = rayon::ThreadPoolBuilder::new()
        .build()
        .expect("a thread pool");
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(samples);
    g.bench_function("framer_only", |b| {
        b.iter(|| {
            file.records()
                .filter(|r| matches!(r, Ok(Record::Key(_))))
                .count()
        })
    });
    g.bench_function("framer+inspect", |b| b.iter(|| sequential(&file, &profile)));
    g.bench_function("scan_parallel_inspect", |b| {
        b.iter(|| parallel(&file, &profile, &pool))
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    group(c, "rdb", &synthetic(200_000), 20);
    // A real dump, e.g. one made by the corpus's gen-big-rdb.sh:
    // REDSLEUTH_BENCH_RDB=/tmp/big-2g.rdb cargo bench --bench rdb
    if let Ok(path) = std::env::var("REDSLEUTH_BENCH_RDB") {
        let data = std::fs::read(&path).expect("REDSLEUTH_BENCH_RDB names a readable file");
        group(c, "rdb_file", &data, 10);
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);

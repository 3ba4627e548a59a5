//! Pattern inference throughput: tokenizing key names and inserting them
//! into the bounded pattern table, on a deterministic mix of key shapes.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use redsleuth::analyze::patterns::{tokenize, KeyFacts, PatternTable};

fn keys(n: usize) -> Vec<Vec<u8>> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..n)
        .map(|i| {
            let r = next();
            match i % 6 {
                0 => format!("user:{}:feed", r % 1_000_000),
                1 => format!("session:{:016x}{:016x}", r, r.rotate_left(17)),
                2 => format!("cache:product:{}", r % 50_000),
                3 => format!(
                    "ratelimit:10.{}.{}.{}",
                    r % 256,
                    (r >> 8) % 256,
                    (r >> 16) % 256
                ),
                4 => format!("user:{}:profile", r % 1_000_000),
                _ => format!(
                    "queue:{}:jobs",
                    ["mail", "push", "sms", "export"][(r % 4) as usize]
                ),
            }
            .into_bytes()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let keys = keys(100_000);
    let bytes: usize = keys.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("patterns");
    g.throughput(Throughput::Elements(keys.len() as u64));
    g.bench_function("tokenize", |b| {
        b.iter(|| keys.iter().map(|k| tokenize(k).len()).sum::<usize>())
    });
    g.bench_function("tokenize+table", |b| {
        b.iter(|| {
            let mut t = PatternTable::default();
            for k in &keys {
                let f = KeyFacts {
                    db: 0,
                    shown: &|| b"",
                    type_name: "string",
                    memory: 64,
                    serialized: 20,
                    ttl: false,
                    cold: false,
                };
                t.add(k, &f);
            }
            t.patterns().len()
        })
    });
    g.finish();
    eprintln!("({} keys, {} bytes of names)", keys.len(), bytes);
}

criterion_group!(benches, bench);
criterion_main!(benches);

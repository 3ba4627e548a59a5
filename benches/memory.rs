//! Throughput of the memory model: estimates per second over a deterministic
//! mix of synthetic keys (strings, compact blobs, quicklists and hashtable
//! collections with per-element lengths), for a jemalloc and a libc server.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use redsleuth::memory::{Allocator, Model};
use redsleuth::rdb::frame::Frame;
use redsleuth::rdb::value::{Shape, TypeName, ValueInfo};
use redsleuth::rdb::{Kind, RdbString};

/// Small xorshift generator so the input is identical on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A frame for a key with or without a TTL (the model reads only the
/// expiry and, for module values, the value bytes).
fn frame(ttl: bool) -> Frame<'static> {
    Frame {
        offset: 0,
        db: 0,
        kind: Kind::String,
        key: RdbString::Raw(b""),
        value_offset: 0,
        value: b"",
        serialized_bytes: 0,
        expire_ms: ttl.then_some(1),
        idle_s: None,
        freq: None,
        meta_classes: 0,
    }
}

/// One synthetic key: its frame, value facts and key length.
fn synthetic(rng: &mut Rng) -> (Frame<'static>, ValueInfo, u64) {
    let pick = rng.next() % 6;
    let mut shape = Shape::default();
    let (type_name, encoding, elements) = match pick {
        0 => {
            shape.bytes = rng.next() % 40;
            ("string", "embstr", shape.bytes)
        }
        1 => {
            shape.bytes = 45 + rng.next() % 2000;
            ("string", "raw", shape.bytes)
        }
        2 => {
            shape.bytes = 20 + rng.next() % 4000;
            ("hash", "listpack", 8)
        }
        3 => {
            let nodes = 1 + rng.next() % 8;
            shape.nodes = (0..nodes)
                .map(|_| (1000 + rng.next() % 7000, false))
                .collect();
            ("list", "quicklist", nodes * 100)
        }
        4 => {
            let n = 1 + rng.next() % 500;
            shape.lens = (0..n)
                .map(|_| ((4 + rng.next() % 60) as u32, (1 + rng.next() % 100) as u32))
                .collect();
            ("hash", "hashtable", n)
        }
        _ => {
            let n = 1 + rng.next() % 500;
            shape.lens = (0..n).map(|_| ((4 + rng.next() % 30) as u32, 0)).collect();
            ("zset", "skiplist", n)
        }
    };
    let info = ValueInfo {
        type_name: TypeName::Builtin(type_name),
        encoding,
        elements: Some(elements),
        shape,
    };
    let key_len = 8 + rng.next() % 40;
    (frame(rng.next().is_multiple_of(4)), info, key_len)
}

fn bench(c: &mut Criterion) {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let keys: Vec<_> = (0..4096).map(|_| synthetic(&mut rng)).collect();
    let models = [
        Model::new(Model::parse_name("redis-7.4").unwrap(), Allocator::Jemalloc),
        Model::new(Model::parse_name("valkey-9").unwrap(), Allocator::Libc),
    ];
    let mut group = c.benchmark_group("memory_model");
    group.throughput(Throughput::Elements(keys.len() as u64));
    for model in models {
        let name = format!("{}-{:?}", model.profile.label(), model.allocator);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut total = 0u64;
                for (frame, info, key_len) in &keys {
                    total += model.key_memory(black_box(frame), *key_len, black_box(info));
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

//! Throughput of the compact blob decoders on deterministic synthetic input:
//! LZF decompression (bytes produced per second) and listpack walking (blob
//! bytes per second), the two that dominate value decoding in large files.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use redsleuth::rdb::{listpack, lzf};

/// Small xorshift generator so the input is identical on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> usize {
        (self.next() % n) as usize
    }
}

/// An LZF stream of about 1 MiB of output: literal runs over a small
/// alphabet mixed with short and long back references, like compressed
/// listpacks of repetitive keys. Returns the stream and its output length.
fn lzf_stream() -> (Vec<u8>, usize) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::new();
    let mut produced = 0usize;
    while produced < 1 << 20 {
        if produced == 0 || rng.below(3) == 0 {
            let run = 1 + rng.below(32);
            out.push((run - 1) as u8);
            for _ in 0..run {
                out.push(b'a' + rng.below(16) as u8);
            }
            produced += run;
        } else {
            let dist = 1 + rng.below(produced.min(8192) as u64);
            let len = if rng.below(8) == 0 {
                3 + rng.below(262)
            } else {
                3 + rng.below(20)
            };
            let l = len - 2;
            let d = dist - 1;
            if l < 7 {
                out.extend_from_slice(&[((l << 5) | (d >> 8)) as u8, d as u8]);
            } else {
                out.extend_from_slice(&[((7 << 5) | (d >> 8)) as u8, (l - 7) as u8, d as u8]);
            }
            produced += len;
        }
    }
    (out, produced)
}

/// Appends one listpack entry (encoding, data, backlen) as listpack.c
/// writes it.
fn push_entry(lp: &mut Vec<u8>, body: &[u8]) {
    lp.extend_from_slice(body);
    let size = body.len() as u64;
    let width = match size {
        0..=127 => 1,
        128..=16382 => 2,
        _ => 3,
    };
    for i in (0..width).rev() {
        let chunk = ((size >> (7 * i)) & 0x7F) as u8;
        lp.push(if i == width - 1 { chunk } else { chunk | 0x80 });
    }
}

/// A listpack of about 1 MiB mixing every integer width and short and
/// 12-bit strings, with the element count left unknown in the header.
fn listpack_blob() -> Vec<u8> {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let mut lp = vec![0, 0, 0, 0, 0xFF, 0xFF];
    while lp.len() < 1 << 20 {
        let body: Vec<u8> = match rng.below(8) {
            0 => vec![rng.below(128) as u8],
            1 => vec![0xC0 | rng.below(32) as u8, rng.next() as u8],
            2 => {
                let mut b = vec![0xF1];
                b.extend_from_slice(&(rng.next() as u16).to_le_bytes());
                b
            }
            3 => {
                let mut b = vec![0xF3];
                b.extend_from_slice(&(rng.next() as u32).to_le_bytes());
                b
            }
            4 => {
                let mut b = vec![0xF4];
                b.extend_from_slice(&rng.next().to_le_bytes());
                b
            }
            5 => {
                let n = 64 + rng.below(400);
                let mut b = vec![0xE0 | (n >> 8) as u8, n as u8];
                b.extend((0..n).map(|i| b'a' + (i % 26) as u8));
                b
            }
            _ => {
                let n = rng.below(40);
                let mut b = vec![0x80 | n as u8];
                b.extend((0..n).map(|i| b'k' + (i % 8) as u8));
                b
            }
        };
        push_entry(&mut lp, &body);
    }
    lp.push(0xFF);
    let total = lp.len() as u32;
    lp[..4].copy_from_slice(&total.to_le_bytes());
    lp
}

fn bench_lzf(c: &mut Criterion) {
    let (stream, len) = lzf_stream();
    let mut out = Vec::with_capacity(len);
    lzf::decompress(&stream, len, &mut out).expect("synthetic LZF is valid");
    let mut group = c.benchmark_group("lzf");
    group.throughput(Throughput::Bytes(len as u64));
    group.bench_function("decompress_1mib", |b| {
        b.iter(|| {
            out.clear();
            lzf::decompress(black_box(&stream), len, &mut out).unwrap();
            out.len()
        })
    });
    group.finish();
}

fn bench_listpack(c: &mut Criterion) {
    let blob = listpack_blob();
    let n = listpack::validate(&blob).expect("synthetic listpack is valid");
    let mut group = c.benchmark_group("listpack");
    group.throughput(Throughput::Bytes(blob.len() as u64));
    group.bench_function("validate_1mib", |b| {
        b.iter(|| assert_eq!(listpack::validate(black_box(&blob)), Ok(n)))
    });
    group.bench_function("iter_str_len_1mib", |b| {
        b.iter(|| {
            let lp = listpack::Listpack::parse(black_box(&blob)).unwrap();
            lp.iter().map(|e| e.unwrap().str_len()).sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_lzf, bench_listpack);
criterion_main!(benches);

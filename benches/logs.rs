//! Criterion benches of the log stages: line grammar + classification per
//! line, and whole-chunk parsing (split, parse, classify, keep), both in
//! bytes per second over a deterministic synthetic log built from the
//! formats the corpus shows (5.0+ legacy, logfmt, signal-handler, crash
//! report raw lines, connection churn).

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn synthetic(bytes: usize) -> Vec<u8> {
    let lines: [&str; 12] = [
        "10750:M 23 Nov 2026 07:22:46.084 - Accepted 127.0.0.1:45134",
        "10750:M 23 Nov 2026 07:22:46.087 - Client closed connection id=4 addr=127.0.0.1:45146 laddr=127.0.0.1:17150 fd=9 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=0 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem=37632 events=r cmd=info user=default redir=-1 resp=3",
        "10750:M 23 Nov 2026 07:22:46.492 * Background saving started by pid 10761",
        "10761:C 23 Nov 2026 07:22:46.496 - Fork CoW for RDB: current 0 MB, peak 0 MB, average 0 MB",
        "10750:M 23 Nov 2026 07:22:46.586 * Background saving terminated with success",
        "10986:S 23 Nov 2026 07:23:09.599 # Error condition on socket for SYNC: Connection refused",
        "10986:S 23 Nov 2026 07:23:20.650 * Full resync from master: 65b63b45504089a86ce14e8fa45b9ad5bcc09b22:0",
        "pid=16950 role=primary timestamp=\"2026-11-23T07:27:24.453+00:00\" level=notice message=\"Background saving started by pid 16956\"",
        "10830:signal-handler (1795418583) Received SIGTERM scheduling shutdown...",
        "11259:X 23 Nov 2026 07:23:38.046 # +odown master mymaster 127.0.0.1 17150 #quorum 2/2",
        "used_memory:2124584",
        "10750:M 23 Nov 2026 07:22:47.794 - Background AOF rewrite signal handler took 3183us",
    ];
    let mut out = Vec::with_capacity(bytes + 512);
    let mut i = 0usize;
    while out.len() < bytes {
        out.extend_from_slice(lines[i % lines.len()].as_bytes());
        out.push(b'\n');
        i = i.wrapping_mul(7).wrapping_add(3);
    }
    out
}

fn log_line(c: &mut Criterion) {
    let data = synthetic(4 << 20);
    let mut g = c.benchmark_group("log_line");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("parse_and_classify", |b| {
        b.iter(|| {
            let mut known = 0usize;
            for l in data.split(|c| *c == b'\n') {
                if let Some(p) = redsleuth::logs::line::parse_line(l) {
                    known += usize::from(redsleuth::logs::catalog::classify(&p.msg).is_some());
                }
            }
            black_box(known)
        })
    });
    g.finish();
}

fn log_chunk_parse(c: &mut Criterion) {
    let data = synthetic(16 << 20);
    let mut g = c.benchmark_group("log_chunk_parse");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(10);
    g.bench_function("parse_all_1_thread", |b| {
        b.iter(|| {
            black_box(
                redsleuth::logs::chunk::parse_all(&data, 1, &|_| {})
                    .counters
                    .lines,
            )
        })
    });
    g.finish();
}

criterion_group!(benches, log_line, log_chunk_parse);
criterion_main!(benches);

//! Peak RSS stays flat: `rdb`, `keys`, `check` and `diff` read a dump of a few hundred MB with
//! a resident set far below its size, because the pages behind the walk
//! are released. The figure is the children's `ru_maxrss`, which counts the
//! file-backed pages of the map as `/usr/bin/time -v` does.
//!
//! Compressed dumps and standard input are spooled to an unlinked temporary
//! file and mapped the same way, so they are bounded too.
//!
//! The dump is written here (RDB 9, strings of 4 KiB of noise and hashes of
//! 2 000 fields) so the test needs no server; its size dwarfs the bound.
//! A second dump holds a hash of 12 M fields and a 300 MB string, each
//! larger than the bound: the memory model's per-element lengths are counted
//! by distinct length, so a collection of any size costs no heap per
//! element, and a value is released as it is walked, not once it is done.

use std::io::{BufWriter, Write};
use std::process::{Command, Stdio};

use nix::sys::resource::{getrusage, UsageWho};

const BOUND_MIB: i64 = 256;
const STRINGS: u64 = 90_000;
const VALUE: usize = 4096;
const HASHES: u64 = 200;
const FIELDS: u64 = 2_000;

fn len(out: &mut impl Write, n: usize) {
    // 32-bit length encoding covers every length written here.
    if n < 64 {
        out.write_all(&[n as u8]).unwrap();
    } else if n < 16_384 {
        out.write_all(&[0x40 | (n >> 8) as u8, n as u8]).unwrap();
    } else {
        out.write_all(&[0x80]).unwrap();
        out.write_all(&(n as u32).to_be_bytes()).unwrap();
    }
}

fn string(out: &mut impl Write, s: &[u8]) {
    len(out, s.len());
    out.write_all(s).unwrap();
}

/// A writer that checksums what passes through, for the RDB trailer.
struct Crc<W> {
    out: W,
    crc: crc_fast::Digest,
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.out.write(b)?;
        self.crc.update(&b[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

fn write_dump(path: &std::path::Path) -> u64 {
    let mut out = BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(b"REDIS0009").unwrap();
    out.write_all(&[0xFA]).unwrap();
    string(&mut out, b"redis-ver");
    string(&mut out, b"6.2.14");
    out.write_all(&[0xFE, 0x00]).unwrap();
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut noise = vec![0u8; VALUE];
    for i in 0..STRINGS {
        for b in noise.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        out.write_all(&[0x00]).unwrap();
        string(&mut out, format!("blob:{i}").as_bytes());
        string(&mut out, &noise);
    }
    for h in 0..HASHES {
        out.write_all(&[0x04]).unwrap();
        string(&mut out, format!("user:{h}:fields").as_bytes());
        len(&mut out, FIELDS as usize);
        for f in 0..FIELDS {
            string(&mut out, format!("field:{f}").as_bytes());
            string(&mut out, format!("value-{h}-{f}").as_bytes());
        }
    }
    // RDB 9 with a zero checksum: "not computed", as `rdbchecksum no` writes.
    out.write_all(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

#[test]
fn rdb_and_keys_stay_under_256_mib_on_a_dump_far_larger() {
    let dir = std::env::temp_dir().join(format!("redsleuth-rss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("big.rdb");
    let size = write_dump(&path);
    assert!(
        size > 350 << 20,
        "the dump must dwarf the bound: {size} bytes"
    );
    // The same dump compressed, and through standard input: both are
    // spooled to a temporary file and mapped, not read into the heap.
    let zst = dir.join("big.rdb.zst");
    let mut enc = zstd::stream::write::Encoder::new(std::fs::File::create(&zst).unwrap(), 1)
        .unwrap()
        .auto_finish();
    std::io::copy(&mut std::fs::File::open(&path).unwrap(), &mut enc).unwrap();
    drop(enc);
    let plain = path.to_str().unwrap();
    for (args, input) in [
        (&["rdb", "--quiet", "--format", "json"][..], plain),
        (&["keys", "--quiet", "--format", "ndjson"][..], plain),
        (&["check", "--quiet"][..], plain),
        (
            &["keys", "--quiet", "--format", "ndjson"][..],
            zst.to_str().unwrap(),
        ),
        (&["rdb", "--quiet", "--format", "json"][..], "-"),
        (&["keys", "--quiet", "--format", "ndjson"][..], "-"),
    ] {
        let stdin = if input == "-" {
            Stdio::from(std::fs::File::open(&path).unwrap())
        } else {
            Stdio::null()
        };
        let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
            .args(args)
            .arg(input)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} {input}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        if args[0] == "keys" {
            let rows = out
                .stdout
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .count();
            assert_eq!(rows as u64, STRINGS + HASHES);
        }
    }
    // `diff` walks both inputs; each is released behind its walk.
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(["diff", "--quiet", "--format", "json", plain, plain])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "diff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        doc["total"]["keys"],
        serde_json::json!([STRINGS + HASHES, STRINGS + HASHES])
    );
    // ru_maxrss of the waited-for children: the largest of them, KiB.
    let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    std::fs::remove_dir_all(&dir).ok();
    eprintln!(
        "peak RSS {} MiB on a {} MiB dump",
        peak_kib / 1024,
        size >> 20
    );
    assert!(
        peak_kib < BOUND_MIB * 1024,
        "peak RSS {} MiB on a {} MiB dump",
        peak_kib / 1024,
        size >> 20
    );
}

#[test]
fn values_larger_than_the_bound_cost_no_heap_per_field_and_are_released_as_walked() {
    const N: u64 = 12_000_000;
    const STRING: usize = 300 << 20;
    let dir = std::env::temp_dir().join(format!("redsleuth-rss-hash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hash.rdb");
    {
        // A hash of 12 M fields (~400 MB in the file) and a 300 MB string,
        // each larger than the bound, with a real checksum, so the checksum
        // reader walks the string while the record walk is still at its
        // start. Written through a buffer: a child's maxrss starts from
        // this process's peak, so the test must not hold the dump itself.
        let mut out = Crc {
            out: BufWriter::new(std::fs::File::create(&path).unwrap()),
            crc: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Redis),
        };
        out.write_all(b"REDIS0009").unwrap();
        out.write_all(&[0xFE, 0x00, 0x04]).unwrap();
        string(&mut out, b"huge:hash");
        out.write_all(&[0x80]).unwrap();
        out.write_all(&(N as u32).to_be_bytes()).unwrap();
        for f in 0..N {
            string(&mut out, format!("f{f}").as_bytes());
            string(&mut out, b"value-of-twenty-four-b");
        }
        out.write_all(&[0x00]).unwrap();
        string(&mut out, b"huge:string");
        len(&mut out, STRING);
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut block = vec![0u8; 1 << 20];
        for _ in 0..STRING >> 20 {
            for w in block.chunks_mut(8) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                w.copy_from_slice(&x.to_le_bytes());
            }
            out.write_all(&block).unwrap();
        }
        out.write_all(&[0xFF]).unwrap();
        let crc = out.crc.finalize();
        out.out.write_all(&crc.to_le_bytes()).unwrap();
        out.out.flush().unwrap();
    }
    let size = std::fs::metadata(&path).unwrap().len();
    for args in [
        &["rdb", "--quiet", "--format", "json"][..],
        &["keys", "--quiet", "--format", "ndjson"][..],
        &["check", "--quiet", "--format", "json"][..],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
            .args(args)
            .arg(&path)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        match args[0] {
            "keys" => {
                let rows: Vec<serde_json::Value> = out
                    .stdout
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .map(|l| serde_json::from_slice(l).unwrap())
                    .collect();
                assert_eq!(rows.len(), 2);
                assert_eq!(rows[0]["elements"], N);
                // 12 M fields of 2 to 9 bytes and 22-byte values: at least
                // a 24-byte dict entry and two sds of their length plus a
                // 3-byte header and a NUL each, 58 bytes a field.
                assert!(rows[0]["memory_bytes"].as_u64().unwrap() > N * 58);
                assert_eq!(rows[1]["elements"], STRING as u64);
            }
            "check" => {
                let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
                assert_eq!(doc["source"]["checksum"]["status"], "ok", "{doc}");
            }
            _ => {}
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    // One (member, value) length entry per field held 100 MB more on the
    // heap; each value held whole kept its 300 to 400 MB resident.
    let peak_kib = getrusage(UsageWho::RUSAGE_CHILDREN).unwrap().max_rss();
    assert!(
        peak_kib < BOUND_MIB * 1024,
        "peak RSS {} MiB on a {} MiB dump",
        peak_kib / 1024,
        size >> 20
    );
}

//! The command line: exit codes, error messages with byte offsets on every
//! broken corpus file, redaction, and the output formats.

use std::process::Command;

mod common;
use common::run;

#[test]
fn check_exits_3_with_an_offset_on_every_broken_file() {
    // (file, the offset the message must name) as redis-check-rdb reports
    // them (testdata/rdb/broken/README.md), or where our reader stops first.
    let cases = [
        ("truncated-50pct.rdb", "byte 73037"),
        ("truncated-no-eof.rdb", "byte 146074"),
        ("truncated-header-only.rdb", "byte 9"),
        ("flipped-byte-in-value.rdb", "byte 5441"),
        ("bad-crc.rdb", "byte 146083"),
        ("bad-crc-valkey.rdb", "byte 169207"),
        ("wrong-magic.rdb", "byte 0"),
        ("future-version.rdb", "version 99"),
        ("zero-length.rdb", "byte 0"),
        ("garbage.rdb", "byte 0"),
    ];
    for (f, needle) in cases {
        let path = format!("testdata/rdb/broken/{f}");
        let (code, _out, err) = run(&["check", &path]);
        assert_eq!(code, 3, "{f}: {err}");
        assert!(err.contains(needle) && err.contains(f), "{f}: {err}");
        // One fault each; a truncated file also says what the cut cost.
        let faults = err.lines().filter(|l| !l.contains(" skipped (")).count();
        assert_eq!(faults, 1, "{f}: {err}");
    }
    // The valkey half-file stops inside a value; it still reports the keys
    // read before the cut.
    let (code, out, err) = run(&["check", "testdata/rdb/broken/truncated-50pct-valkey.rdb"]);
    assert_eq!(code, 3);
    assert!(err.contains("truncated at byte"), "{err}");
    assert!(out.contains("db 0 "), "{out}");
    // flipped-byte-middle breaks either the structure or the checksum.
    let (code, _, err) = run(&["check", "testdata/rdb/broken/flipped-byte-middle.rdb"]);
    assert_eq!(code, 3, "{err}");
}

#[test]
fn check_ok_and_json() {
    let (code, out, _) = run(&[
        "check",
        "testdata/rdb/valkey-9.1.2/multidb.rdb",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["source"]["magic"], "valkey");
    assert_eq!(v["source"]["checksum"]["status"], "ok");
    let dbs: Vec<(u64, u64)> = v["keyspace"]["dbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["db"].as_u64().unwrap(), d["keys"].as_u64().unwrap()))
        .collect();
    assert_eq!(dbs, [(0, 12), (3, 27), (15, 9)]);
}

#[test]
fn keys_rows_filters_and_redaction() {
    let (code, out, _) = run(&[
        "keys",
        "testdata/rdb/debian-7.0.15/multidb.rdb",
        "--db",
        "3",
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 27);
    let (_, out, _) = run(&[
        "keys",
        "testdata/rdb/debian-7.0.15/strings.rdb",
        "--match",
        "bin:*",
    ]);
    let v: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(v["key"], "bin:key:\\x00\\xff\\x7f");
    let (_, out, _) = run(&[
        "keys",
        "testdata/rdb/debian-7.0.15/strings.rdb",
        "--format",
        "csv",
        "--type",
        "string",
        "--redact",
    ]);
    assert!(out.starts_with("db,key,type,encoding,elements"));
    assert_eq!(out.lines().count(), 35);
    assert!(!out.contains("str:"), "{out}");
    let (_, out, _) = run(&[
        "rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "--redact",
        "--format",
        "json",
    ]);
    assert!(
        !out.contains("str:") && !out.contains("hash:"),
        "redacted report leaks key names"
    );
    let (_, md, _) = run(&[
        "rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "--redact",
        "--format",
        "markdown",
    ]);
    assert!(md.starts_with("# Keyspace report") && !md.contains("str:"));
}

#[test]
fn rdb_fail_on_and_merge() {
    let dir = std::env::temp_dir().join(format!("redsleuth-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut parts = Vec::new();
    for (i, f) in [
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "testdata/rdb/valkey-9.1.2/all-types.rdb",
    ]
    .iter()
    .enumerate()
    {
        let (code, out, _) = run(&["rdb", f, "--format", "json"]);
        assert_eq!(code, 0);
        let p = dir.join(format!("{i}.json"));
        std::fs::write(&p, out).unwrap();
        parts.push(p.display().to_string());
    }
    let (code, merged, err) = run(&["merge", &parts[0], &parts[1]]);
    assert_eq!(code, 0, "{err}");
    let (_, whole, _) = run(&[
        "rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "testdata/rdb/valkey-9.1.2/all-types.rdb",
        "--format",
        "json",
    ]);
    let (m, w): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&merged).unwrap(),
        serde_json::from_str(&whole).unwrap(),
    );
    assert_eq!(m["keyspace"], w["keyspace"]);
    assert_eq!(m["patterns"], w["patterns"]);
    assert_eq!(w["keyspace"]["keys"], 185 + 188);
    let (code, _, _) = run(&[
        "diff",
        "testdata/rdb/debian-7.0.15/strings.rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
    ]);
    assert_eq!(code, 0);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn html_report_is_self_contained_and_redacted() {
    let (code, out, _) = run(&[
        "rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "--format",
        "html",
        "--redact",
    ]);
    assert_eq!(code, 0);
    assert!(out.starts_with("<!doctype html>") && out.trim_end().ends_with("</html>"));
    assert!(
        !out.contains("<script") && !out.contains("http"),
        "external resources in the page"
    );
    assert!(
        !out.contains("str:") && !out.contains("hash:"),
        "redacted page leaks key names"
    );
}

#[test]
fn lfu_counters_of_zero_count_as_cold_memory() {
    let (_, out, _) = run(&[
        "rdb",
        "testdata/rdb/debian-7.0.15/lfu.rdb",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // lfu.rdb carries LFU counters for all 39 keys; the keys restored with
    // low FREQ values (1, 2: below the start value 5) are cold.
    assert_eq!(v["fragmentation"]["keys_with_idle"], 39);
    let cold: u64 = v["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["cold_memory_bytes"].as_u64().unwrap())
        .sum();
    assert!(cold > 0 && cold < v["keyspace"]["memory_bytes"].as_u64().unwrap());
}

#[test]
fn keys_and_check_are_identical_for_any_thread_count() {
    for f in [
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "testdata/rdb/valkey-9.1.2/all-types.rdb",
    ] {
        let one = run(&["keys", f, "--threads", "1"]);
        let four = run(&["keys", f, "--threads", "4"]);
        assert_eq!(one, four, "{f}");
        assert!(one.1.lines().count() > 180);
        assert_eq!(
            run(&["check", f, "--threads", "1"]),
            run(&["check", f, "--threads", "4"])
        );
    }
}

#[test]
fn compressed_and_piped_dumps_read_like_the_file() {
    let f = "testdata/rdb/debian-7.0.15/all-types.rdb";
    let plain = run(&["keys", f]).1;
    let dir = std::env::temp_dir().join(format!("redsleuth-gz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = dir.join("all-types.rdb.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(
        &mut enc,
        &std::fs::read(format!("{}/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
    .unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    assert_eq!(run(&["keys", gz.to_str().unwrap()]).1, plain);
    let piped = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(["keys", "-"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::fs::File::open(format!("{}/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&piped.stdout), plain);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn rounding_waste_follows_the_allocator_size_classes() {
    // One intset of three 16-bit members: an 8-byte header + 6 bytes = 14.
    // jemalloc's 16-byte class wastes 2; glibc's smallest chunk gives 24
    // usable bytes, wasting 10.
    let f = "testdata/rdb/public/redis-rdb-tools/intset_16.rdb";
    for (alloc, want) in [("jemalloc", 2), ("jemalloc-system", 2), ("libc", 10)] {
        let (code, out, _) = run(&["rdb", f, "--format", "json", "--allocator", alloc]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["fragmentation"]["rounding_waste_bytes"], want, "{alloc}");
    }
}

#[test]
fn diff_reports_growth_between_two_snapshots() {
    let (code, out, _) = run(&[
        "diff",
        "testdata/rdb/debian-7.0.15/strings.rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "--format",
        "json",
        // --top cuts the JSON patterns too (issue 14); ask for all of them.
        "--top",
        "1000",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // ctime 1795418391 → 1795418432: 41 seconds apart.
    assert!((v["hours_between"].as_f64().unwrap() - 41.0 / 3600.0).abs() < 1e-9);
    assert_eq!(v["total"]["keys"], serde_json::json!([34, 185]));
    let find = |p: &str| {
        v["patterns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["pattern"] == p)
            .cloned()
            .unwrap()
    };
    // The strings of the first dump are all in the second, unchanged.
    let ints = find("int:*");
    assert_eq!(
        (ints["status"].as_str(), ints["keys"].clone()),
        (Some("same"), serde_json::json!([17, 17]))
    );
    let z = find("zset:skiplist:big");
    assert_eq!(
        (z["status"].as_str(), z["keys"].clone()),
        (Some("new"), serde_json::json!([0, 1]))
    );
    // Biggest movers first.
    let first = &v["patterns"][0];
    let delta = |c: &serde_json::Value| {
        c["memory_bytes"][1].as_i64().unwrap() - c["memory_bytes"][0].as_i64().unwrap()
    };
    assert!(v["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| delta(c).abs() <= delta(first).abs()));
    // A binary key's pattern is escaped like the key itself.
    assert!(v["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["pattern"] == "bin:key:\\x00\\xff\\x7f"));
}

#[test]
fn report_puts_the_keyspace_and_the_logs_in_one_document() {
    let (code, out, err) = run(&[
        "report",
        "--rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "--logs",
        "testdata/logs/03-sentinel-failover/debian-7.0.15/",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let keyspace = out.find("# Keyspace report").expect("keyspace section");
    let logs = out.find("## Log analysis").expect("log section");
    assert!(out.starts_with("# Post-incident report") && keyspace < logs);
    assert!(out[logs..].contains("sentinel_failover"), "{out}");
    let (code, _, err) = run(&["report"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn post_incident_report_in_html_is_one_redacted_page() {
    let (code, out, _) = run(&[
        "report",
        "--rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "--logs",
        "testdata/logs/08-slow-and-output-buffer/debian-7.0.15/redis.log",
        "--format",
        "html",
    ]);
    assert_eq!(code, 0);
    // One page: the keyspace report, then the log analysis, no nested pages.
    assert!(out.starts_with("<!doctype html>") && out.trim_end().ends_with("</html>"));
    assert_eq!(out.matches("<html").count(), 1);
    assert_eq!(out.matches("</body>").count(), 1);
    let (rdb, logs) = (
        out.find("<h1>Keyspace report</h1>").unwrap(),
        out.find("<h1>Log analysis</h1>").unwrap(),
    );
    assert!(rdb < logs);
    assert!(out.contains("hash:") && out.contains("127.0.0.1:60182"));
    let (code, red, _) = run(&[
        "report",
        "--rdb",
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "--logs",
        "testdata/logs/08-slow-and-output-buffer/debian-7.0.15/redis.log",
        "--format",
        "html",
        "--redact",
    ]);
    assert_eq!(code, 0);
    assert!(
        !red.contains("hash:") && !red.contains("str:"),
        "key names leak"
    );
    assert!(!red.contains("60182"), "client addresses leak");
    assert!(red.contains("output_buffer_disconnect"));
}

/// Redis's own test dump of empty collections: Redis 7.0.15 loads it with
/// DBSIZE 0 and logs `rdbLoadObject skipping empty key` nine times, in this
/// order (the key names say their layout). Each is a fault at its record's
/// offset, and the walk reads on to the end.
#[test]
fn empty_keys_are_faults_with_offsets_and_the_walk_goes_on() {
    let path = "testdata/rdb/public/redis/corrupt_empty_keys.rdb";
    let logged = [
        "set",
        "hash",
        "list_ziplist",
        "zset",
        "zset_listpack",
        "hash_ziplist",
        "list_quicklist",
        "zset_ziplist",
        "list_quicklist_empty_ziplist",
    ];
    for strict in [false, true] {
        let mut args = vec!["check", "--format", "json", path];
        if strict {
            args.push("--strict");
        }
        let (code, out, err) = run(&args);
        assert_eq!(code, 3, "{err}");
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(j["keyspace"]["keys"], 0);
        assert_eq!(j["source"]["checksum"]["status"], "ok");
        let errors = j["errors"].as_array().unwrap();
        let offsets: Vec<u64> = errors
            .iter()
            .map(|e| e["offset"].as_u64().unwrap())
            .collect();
        assert_eq!(offsets, [94, 100, 107, 133, 140, 163, 185, 202, 228]);
        for (e, name) in errors.iter().zip(logged) {
            let ty = name.split('_').next().unwrap();
            let msg = e["message"].as_str().unwrap();
            assert!(msg.starts_with(&format!("empty {ty} at byte")), "{msg}");
        }
        assert!(j["skipped"].as_array().unwrap().is_empty());
    }
}

#[test]
fn repeated_aux_fields_are_all_kept_and_redaction_hides_scripts() {
    // A real Redis 6.2.14 dump with two cached scripts
    // (testdata/rdb/scripts/README.md), in the order the file holds them.
    let p = "testdata/rdb/scripts/redis-6.2.14-two-scripts.rdb";
    for cmd in ["rdb", "check"] {
        let (code, out, err) = run(&[cmd, "--format", "json", p]);
        assert_eq!(code, 0, "{cmd}: {err}");
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        let aux = &j["source"]["aux"];
        assert_eq!(aux["redis-ver"], "6.2.14", "{cmd}");
        assert_eq!(
            aux["lua"],
            serde_json::json!(["return redis.call('get', KEYS[1])", "return 1"]),
            "{cmd}"
        );
        let (_, out, _) = run(&[cmd, "--format", "json", "--redact", p]);
        assert!(!out.contains("return"), "{cmd}: {out}");
        let j: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            j["source"]["aux"]["lua"],
            serde_json::json!(["<redacted: 33 bytes>", "<redacted: 8 bytes>"])
        );
    }
}

/// A module value of the 4.0 release candidates has no length: it is
/// reported as unsupported (not corrupt) at the value's offset.
#[test]
fn a_pre_ga_module_value_is_reported_unsupported() {
    let dir = std::env::temp_dir().join(format!("redsleuth-mod-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("module.rdb");
    let mut v = b"REDIS0008\xFE\x00\x06\x03mod".to_vec();
    v.extend_from_slice(&[0x81, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x01]);
    v.extend_from_slice(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 0]);
    std::fs::write(&path, v).unwrap();
    let (code, _, err) = run(&["check", "--strict", path.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("unsupported at byte 16"), "{err}");
    assert!(!err.contains("corrupt"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

//! Integration tests of `redsleuth logs` over the real scenario logs copied
//! into `testdata/logs/` (see its README). Every expected kind, time and line
//! number below was checked by hand against the files.

use std::io::Write;
use std::path::{Path, PathBuf};

use redsleuth::logs::catalog::Severity;
use redsleuth::logs::cli::{LogFormat, LogsArgs};
use serde_json::Value;

fn td(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/logs")
        .join(p)
}

fn args(paths: Vec<PathBuf>, format: LogFormat) -> LogsArgs {
    LogsArgs {
        threads: Some(2),
        quiet: true,
        ..LogsArgs::new(paths, format)
    }
}

fn run(a: &LogsArgs) -> (u8, String) {
    let mut out = Vec::new();
    let code = redsleuth::logs::run(a, &mut out).expect("run");
    (code, String::from_utf8(out).expect("utf-8 output"))
}

fn json(paths: Vec<PathBuf>) -> Value {
    let (code, out) = run(&args(paths, LogFormat::Json));
    assert_eq!(code, 0, "{out}");
    serde_json::from_str(&out).expect("valid JSON")
}

fn incidents<'a>(doc: &'a Value, kind: &str) -> Vec<&'a Value> {
    doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == kind)
        .collect()
}

/// (file name, line) pairs of an incident's evidence.
fn cites(i: &Value) -> Vec<(String, u64)> {
    i["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let f = e["file"].as_str().unwrap();
            (
                f.rsplit('/').next().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn has(i: &Value, file: &str, line: u64) -> bool {
    cites(i).iter().any(|(f, l)| f == file && *l == line)
}

/// Evidence text must be the exact text of the cited line.
fn assert_evidence_exact(doc: &Value) {
    for i in doc["incidents"].as_array().unwrap() {
        for e in i["evidence"].as_array().unwrap() {
            let path = e["file"].as_str().unwrap();
            if path.ends_with(".gz") || path.ends_with(".lz4") {
                continue;
            }
            let text = std::fs::read_to_string(path).unwrap();
            let n = e["line"].as_u64().unwrap() as usize;
            let line = text.lines().nth(n - 1).unwrap();
            assert_eq!(e["text"].as_str().unwrap(), line, "{path}:{n}");
        }
    }
}

#[test]
fn sentinel_failover_is_one_incident_with_the_chain_cited_in_order() {
    let doc = json(vec![td("03-sentinel-failover/debian-7.0.15")]);
    let f = incidents(&doc, "sentinel_failover");
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(f["severity"], "high");
    // The replica noticed the dead primary at node1:23; +switch-master first
    // logged by sentinel1 at 07:23:39.170.
    assert_eq!(f["start"], "2026-11-23 07:23:35.876");
    assert_eq!(f["end"], "2026-11-23 07:23:39.170");
    assert_eq!(f["nodes"], serde_json::json!([":17150", ":17151"]));
    let c = cites(f);
    let pos = |file: &str, line: u64| c.iter().position(|(f, l)| f == file && *l == line).unwrap();
    // primary's last line → replica lost link → +sdown → +odown → promotion → switch.
    assert!(pos("node0-17150.log", 24) < pos("node1-17151.log", 23));
    assert!(pos("node1-17151.log", 23) < pos("sentinel1-17161.log", 17));
    assert!(pos("sentinel1-17161.log", 17) < pos("sentinel0-17160.log", 18));
    assert!(pos("sentinel0-17160.log", 18) < pos("node1-17151.log", 36));
    assert!(pos("node1-17151.log", 36) < pos("sentinel1-17161.log", 25));
    // Aftermath: old primary back, demoted, partial resync refused.
    assert!(has(f, "node0-17150.log", 32));
    assert!(has(f, "node0-17150.log", 36));
    assert!(has(f, "node1-17151.log", 41));
    let s = f["summary"].as_str().unwrap();
    assert!(
        s.contains("mymaster") && s.contains("07:23:38.297") && s.contains("killed"),
        "{s}"
    );
    // The killed primary is its own incident: last line 24, restart 25..32.
    let r = incidents(&doc, "unclean_restart");
    assert_eq!(r.len(), 1);
    assert_eq!(
        cites(r[0]),
        vec![
            ("node0-17150.log".to_string(), 24),
            ("node0-17150.log".to_string(), 25),
            ("node0-17150.log".to_string(), 32)
        ]
    );
    // The other replica's lost link is part of the failover, not a separate break.
    assert!(incidents(&doc, "replication_break").is_empty());
    assert_evidence_exact(&doc);
}

#[test]
fn replication_scenario_names_kills_and_the_data_loss_by_full_resync() {
    let doc = json(vec![td("02-replication/debian-7.0.15")]);
    let restarts = incidents(&doc, "unclean_restart");
    assert_eq!(restarts.len(), 2);
    // replica pid 10956 SIGKILLed: last line 48 (07:23:05.522), new start 49, ready 62.
    let rep = restarts.iter().find(|i| has(i, "replica.log", 48)).unwrap();
    assert!(has(rep, "replica.log", 49) && has(rep, "replica.log", 62));
    assert_eq!(rep["start"], "2026-11-23 07:23:05.522");
    // primary pid 10820 SIGKILLed: last line 25, restart 26, ready 33, empty.
    let pri = restarts.iter().find(|i| has(i, "primary.log", 25)).unwrap();
    assert_eq!(pri["end"], "2026-11-23 07:23:14.627");
    assert!(pri["summary"].as_str().unwrap().contains("empty dataset"));
    // The clean SIGTERM restart of the replica is a low-severity restart.
    let clean = incidents(&doc, "restart");
    assert_eq!(clean.len(), 1);
    assert!(has(clean[0], "replica.log", 23) && has(clean[0], "replica.log", 27));
    let b = incidents(&doc, "replication_break");
    assert_eq!(b.len(), 1);
    let b = b[0];
    assert_eq!(b["severity"], "critical");
    assert_eq!(b["start"], "2026-11-23 07:23:08.602");
    assert_eq!(b["end"], "2026-11-23 07:23:20.662");
    for (f, l) in [
        ("primary.log", 25),
        ("replica.log", 70),
        ("replica.log", 76),
        ("primary.log", 35),
        ("replica.log", 100),
        ("replica.log", 108),
        ("replica.log", 109),
    ] {
        assert!(has(b, f, l), "{f}:{l} in {:?}", cites(b));
    }
    assert!(b["summary"]
        .as_str()
        .unwrap()
        .contains("from 22000 to 0 keys"));
    assert_evidence_exact(&doc);
}

#[test]
fn cluster_failover_cites_failure_detection_election_and_rejoin() {
    let doc = json(vec![td("04-cluster-failover/debian-7.0.15")]);
    let f = incidents(&doc, "cluster_failover");
    assert_eq!(f.len(), 1);
    let f = f[0];
    assert_eq!(f["start"], "2026-11-23 07:26:26.718");
    // Last node back to `ok` among those that went to fail: node-17102:27.
    assert_eq!(f["end"], "2026-11-23 07:26:32.311");
    assert_eq!(f["nodes"], serde_json::json!([":17100", ":17105"]));
    for (file, l) in [
        ("node-17105.log", 29),
        ("node-17101.log", 24),
        ("node-17101.log", 25),
        ("node-17105.log", 50),
        ("node-17105.log", 54),
        ("node-17101.log", 26),
        ("node-17105.log", 55),
        ("node-17102.log", 27),
        ("node-17100.log", 33),
        ("node-17100.log", 41),
    ] {
        assert!(has(f, file, l), "{file}:{l}");
    }
    let s = f["summary"].as_str().unwrap();
    assert!(s.contains("configEpoch 7") && s.contains("868 ms"), "{s}");
    // The teardown's `Cluster state changed: fail` follows planned shutdowns.
    let mut a = args(
        vec![td("04-cluster-failover/debian-7.0.15")],
        LogFormat::Json,
    );
    a.min_severity = Severity::Info;
    let all: Value = serde_json::from_str(&run(&a).1).unwrap();
    let down = incidents(&all, "cluster_down");
    assert!(!down.is_empty());
    assert!(down.iter().all(|d| d["severity"] == "info"));
    assert_evidence_exact(&doc);
}

#[test]
fn crash_reports_give_reason_frames_and_info() {
    let doc = json(vec![td("06-crash/debian-7.0.15/redis-segfault.log")]);
    let c = incidents(&doc, "crash");
    assert_eq!(c.len(), 1);
    assert_eq!(
        cites(c[0]),
        vec![
            ("redis-segfault.log".to_string(), 11),
            ("redis-segfault.log".to_string(), 12),
            ("redis-segfault.log".to_string(), 18),
            ("redis-segfault.log".to_string(), 102),
            ("redis-segfault.log".to_string(), 351),
        ]
    );
    let s = c[0]["summary"].as_str().unwrap();
    assert!(
        s.contains("signal 11 (SIGSEGV) accessing 0x7fc615032000"),
        "{s}"
    );
    assert!(s.contains("debugCommand ← call ← processCommand"), "{s}");
    assert!(
        s.contains("fragmentation 13.52") && s.contains("Command being run: DEBUG"),
        "{s}"
    );
    // The report is one event, with the INFO gauges as fields.
    let ev: Vec<&Value> = doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "crash_report")
        .collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0]["line"], 11);
    assert_eq!(ev[0]["fields"]["info"]["used_memory"], "2124584");
    assert_eq!(ev[0]["fields"]["info"]["maxmemory"], "0");
    assert_eq!(ev[0]["fields"]["info"]["role"], "master");
    assert!(!doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "crash_signal"));

    let doc = json(vec![td("06-crash/debian-7.0.15/redis-assert.log")]);
    let s = incidents(&doc, "crash")[0]["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        s.contains("assertion failed: debug.c:530 '1 == 2' is not true"),
        "{s}"
    );
    let doc = json(vec![td("06-crash/valkey-9.1.2-logfmt/redis-assert.log")]);
    let c = incidents(&doc, "crash");
    assert_eq!(c[0]["start"], "2026-11-23 07:27:39.017");
    assert!(has(c[0], "redis-assert.log", 12) && has(c[0], "redis-assert.log", 24));
    assert!(c[0]["summary"].as_str().unwrap().contains("debug.c:562"));
}

#[test]
fn persistence_failures_become_misconf_and_disk_full_incidents() {
    let doc = json(vec![td("07-persistence-failures/debian-7.0.15")]);
    let b = incidents(&doc, "bgsave_failed");
    assert_eq!(b.len(), 1);
    assert_eq!(
        cites(b[0]).iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![10, 11, 12, 16]
    );
    assert_eq!(b[0]["end"], "2026-11-23 07:38:19.992");
    assert!(b[0]["summary"].as_str().unwrap().contains("-MISCONF"));
    let d = incidents(&doc, "disk_full");
    assert_eq!(d.len(), 1);
    assert_eq!(
        cites(d[0]).iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![11, 13, 14]
    );
    let a = incidents(&doc, "aof_write_error");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0]["severity"], "critical");
    assert_eq!(
        cites(a[0]).iter().map(|c| c.1).collect::<Vec<_>>(),
        vec![11, 12]
    );
    assert_evidence_exact(&doc);
}

#[test]
fn output_buffer_and_security_warnings_are_reported_and_redactable() {
    let p = vec![td("08-slow-and-output-buffer/debian-7.0.15/redis.log")];
    let doc = json(p.clone());
    let o = incidents(&doc, "output_buffer_disconnect");
    assert_eq!(o.len(), 1);
    assert_eq!(cites(o[0]), vec![("redis.log".to_string(), 15)]);
    assert!(o[0]["summary"].as_str().unwrap().contains("cmd=subscribe"));
    assert_eq!(
        cites(incidents(&doc, "security_attack")[0]),
        vec![("redis.log".to_string(), 17)]
    );
    for format in [
        LogFormat::Json,
        LogFormat::Text,
        LogFormat::Markdown,
        LogFormat::Html,
    ] {
        let mut a = args(p.clone(), format);
        a.redact = true;
        let (_, out) = run(&a);
        assert!(!out.contains("127.0.0.1:60182"), "{format:?}");
        assert!(!out.contains("60182"), "{format:?}");
    }
}

#[test]
fn redact_hides_quoted_key_names_in_every_format() {
    let dir = std::env::temp_dir().join(format!("redsleuth-redact-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("redis.log");
    std::fs::write(
        &f,
        "1:M 01 Jan 2025 00:00:00.000 * Ready to accept connections\n\
         1:M 01 Jan 2025 00:00:05.000 # Slow script detected: still in execution after 5000 milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: 'user:4242:secret-key'.\n",
    )
    .unwrap();
    for format in [
        LogFormat::Json,
        LogFormat::Text,
        LogFormat::Markdown,
        LogFormat::Html,
    ] {
        let mut a = args(vec![f.clone()], format);
        let (_, plain) = run(&a);
        assert!(
            plain.contains("user:4242:secret-key"),
            "{format:?}: {plain}"
        );
        a.redact = true;
        let (_, red) = run(&a);
        assert!(!red.contains("user:4242"), "{format:?}: {red}");
        assert!(red.contains("blocked_event_loop"));
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compressed_copies_give_identical_output() {
    let gz = json(vec![td("archives/sentinel-debian-7.0.15-all6.log.gz")]);
    let lz = json(vec![td("archives/sentinel-debian-7.0.15-all6.log.lz4")]);
    let strip = |mut v: Value| {
        let s = serde_json::to_string(&v["incidents"])
            .unwrap()
            .replace(".log.gz", "")
            .replace(".log.lz4", "");
        v["incidents"] = serde_json::from_str(&s).unwrap();
        (
            v["incidents"].clone(),
            v["lines"].clone(),
            v["nodes"].as_array().unwrap().len(),
        )
    };
    assert_eq!(strip(gz.clone()), strip(lz));
    // The concatenated archive holds six nodes and the same failover.
    let f = incidents(&gz, "sentinel_failover");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["start"], "2026-11-23 07:23:35.876");
    // A single compressed node file matches its plain twin line for line.
    let plain = json(vec![td(
        "03-sentinel-failover/debian-7.0.15/node0-17150.log",
    )]);
    for arch in [
        "archives/sentinel-debian-7.0.15-node0-17150.log.gz",
        "archives/sentinel-debian-7.0.15-node0-17150.log.lz4",
    ] {
        let c = json(vec![td(arch)]);
        let norm = |v: &Value| {
            let evs: Vec<(Value, Value, Value)> = v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| (e["line"].clone(), e["kind"].clone(), e["text"].clone()))
                .collect();
            let inc: Vec<(Value, Value, Vec<u64>)> = v["incidents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["kind"].clone(),
                        i["start"].clone(),
                        cites(i).iter().map(|c| c.1).collect(),
                    )
                })
                .collect();
            (evs, inc, v["lines"].clone())
        };
        assert_eq!(norm(&plain), norm(&c), "{arch}");
    }
}

#[test]
fn thread_count_does_not_change_output() {
    let p = vec![
        td("03-sentinel-failover/debian-7.0.15"),
        td("04-cluster-failover/debian-7.0.15"),
    ];
    let mut a = args(p.clone(), LogFormat::Json);
    a.threads = Some(1);
    let one = run(&a).1;
    a.threads = Some(4);
    assert_eq!(one, run(&a).1);
}

#[test]
fn filters_and_fail_on_work() {
    let p = vec![td("02-replication/debian-7.0.15")];
    let mut a = args(p.clone(), LogFormat::Json);
    a.fail_on = Some(Severity::Critical);
    assert_eq!(run(&a).0, 1);
    a.fail_on = None;
    a.node = vec![":17151".into()];
    a.min_severity = Severity::High;
    a.until = Some("2026-11-23 07:23:06".into());
    let doc: Value = serde_json::from_str(&run(&a).1).unwrap();
    let kinds: Vec<&str> = doc["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["unclean_restart"]);
    assert!(doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["node"] == ":17151"));
}

#[test]
fn missing_and_corrupt_inputs_give_exit_codes_2_and_3() {
    let a = args(vec![td("does-not-exist.log")], LogFormat::Text);
    assert_eq!(run(&a).0, 2);
    let dir = std::env::temp_dir().join(format!("redsleuth-trunc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = std::fs::read(td("archives/sentinel-debian-7.0.15-all6.log.gz")).unwrap();
    let t = dir.join("cut.log.gz");
    std::fs::write(&t, &gz[..gz.len() / 2]).unwrap();
    let (code, out) = run(&args(
        vec![t, td("01-startup-persistence/debian-7.0.15/redis.log")],
        LogFormat::Json,
    ));
    assert_eq!(code, 3);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(doc["lines"].as_u64().unwrap() > 100, "partial results kept");
    assert_eq!(doc["errors"].as_array().unwrap().len(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn binary_garbage_and_a_100_mb_line_never_panic() {
    let dir = std::env::temp_dir().join(format!("redsleuth-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Binary noise (deterministic LCG).
    let mut x: u32 = 12345;
    let noise: Vec<u8> = (0..200_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (x >> 16) as u8
        })
        .collect();
    let nf = dir.join("noise.log");
    std::fs::write(&nf, &noise).unwrap();
    // Noise alone is no log: exit 2, nothing printed (issue 14). Beside a
    // real log it is read, counted as unparsed and named: exit 3.
    let (code, out) = run(&args(vec![nf.clone()], LogFormat::Json));
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    let real = dir.join("real.log");
    std::fs::write(
        &real,
        b"1:M 01 Jan 2025 00:00:00.000 * Ready to accept connections\n",
    )
    .unwrap();
    let (code, out) = run(&args(vec![nf, real], LogFormat::Json));
    assert_eq!(code, 3);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert!(doc["metrics"]["unparsed_lines"].as_u64().unwrap() > 0);
    // A 100 MB line between two real lines, plain and gzip-streamed.
    let head = b"1:M 01 Jan 2025 00:00:00.000 * Ready to accept connections\n1:M 01 Jan 2025 00:00:01.000 * ";
    let tail = b"\n1:M 01 Jan 2025 00:00:02.000 # User requested shutdown...\n";
    let big = dir.join("big.log");
    let bgz = dir.join("big.log.gz");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
        let mut g = flate2::write::GzEncoder::new(
            std::fs::File::create(&bgz).unwrap(),
            flate2::Compression::fast(),
        );
        let block = vec![b'x'; 1 << 20];
        for w in [&mut f as &mut dyn Write, &mut g] {
            w.write_all(head).unwrap();
            for _ in 0..100 {
                w.write_all(&block).unwrap();
            }
            w.write_all(tail).unwrap();
        }
        f.flush().unwrap();
        g.finish().unwrap();
    }
    for p in [big, bgz] {
        let doc = json(vec![p.clone()]);
        assert_eq!(doc["lines"], 3, "{}", p.display());
        let kinds: Vec<&str> = doc["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec!["ready", "shutdown_requested"],
            "{}",
            p.display()
        );
        assert_eq!(doc["events"][1]["line"], 3);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn text_and_markdown_cite_evidence() {
    let p = vec![td("03-sentinel-failover/debian-7.0.15")];
    let (_, text) = run(&args(p.clone(), LogFormat::Text));
    assert!(text.contains("HIGH sentinel_failover"));
    assert!(text.contains("sentinel1-17161.log:25: 11264:X 23 Nov 2026 07:23:39.170 # +switch-master mymaster 127.0.0.1 17150 127.0.0.1 17151"));
    let (_, md) = run(&args(p, LogFormat::Markdown));
    assert!(md.contains("**sentinel_failover**"));
    assert!(md.contains("### Evidence"));
    assert!(md.contains("[1] `"));
    // Claims carry their citations inline: the +switch-master time is
    // followed by the number of the sentinel line stamped with it, and the
    // line cited by the restart and the failover has one number.
    let n = md
        .lines()
        .find_map(|l| {
            let rest = l.strip_prefix('[')?;
            let (n, tail) = rest.split_once(']')?;
            tail.contains("sentinel1-17161.log:25`")
                .then(|| n.to_string())
        })
        .unwrap();
    let claim = md
        .split(". ")
        .find(|s| s.contains("+switch-master at 07:23:39.170"))
        .unwrap();
    assert!(claim.contains(&format!("[{n}]")), "{claim}");
    assert_eq!(md.matches("node0-17150.log:24`").count(), 1);
    assert!(md.contains("- #4 **sentinel_failover** (after #3)"), "{md}");
}

#[test]
fn timeline_overflow_lines_follow_the_node_order() {
    let p = vec![
        td("03-sentinel-failover/debian-7.0.15"),
        td("04-cluster-failover/debian-7.0.15"),
    ];
    let mut a = args(p, LogFormat::Text);
    a.top = 1;
    let (code, out) = run(&a);
    assert_eq!(code, 0, "{out}");
    let nodes: Vec<&str> = out
        .lines()
        .skip_while(|l| *l != "Nodes")
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let more: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("  … ")?.split(" more on ").nth(1))
        .filter_map(|rest| rest.strip_suffix(" (raise --top)"))
        .collect();
    assert!(more.len() >= 3, "{out}");
    let pos: Vec<usize> = more
        .iter()
        .map(|n| nodes.iter().position(|x| x == n).expect("a listed node"))
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{more:?} vs {nodes:?}");
    assert_eq!(out, run(&a).1);
}

/// `--format html`: one self-contained page (no scripts, no external
/// resources, balanced elements) with a timeline lane per node, every
/// incident linked from its bar, and each evidence line as `file:line` and
/// its exact, escaped text.
#[test]
fn html_page_is_self_contained_and_cites_the_evidence() {
    let p = vec![td("03-sentinel-failover/debian-7.0.15")];
    let doc = json(p.clone());
    let (code, page) = run(&args(p, LogFormat::Html));
    assert_eq!(code, 0);
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.trim_end().ends_with("</html>"));
    assert!(!page.contains("<script") && !page.contains("http"));
    // Elements balance (the void and self-closing ones aside).
    let mut open: Vec<String> = Vec::new();
    for tag in page.split('<').skip(1) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let head = tag.split('>').next().unwrap();
        if tag.starts_with('!') || name == "meta" || head.ends_with('/') {
            continue;
        }
        if tag.starts_with('/') {
            assert_eq!(open.pop().as_deref(), Some(name.as_str()), "</{name}>");
        } else {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
    let nodes = doc["nodes"].as_array().unwrap().len();
    assert_eq!(nodes, 6);
    // One lane label per node, one bar per incident and node.
    let lanes = page.matches("<text x=\"0\"").count();
    assert_eq!(lanes, nodes);
    let incidents = doc["incidents"].as_array().unwrap();
    let bars: usize = incidents
        .iter()
        .map(|i| i["nodes"].as_array().unwrap().len())
        .sum();
    assert_eq!(page.matches("<rect ").count(), bars);
    for (k, i) in incidents.iter().enumerate() {
        assert!(page.contains(&format!("<h3 id=\"incident-{}\">", k + 1)));
        assert!(page.contains(&format!("href=\"#incident-{}\"", k + 1)));
        for e in i["evidence"].as_array().unwrap() {
            let file = e["file"].as_str().unwrap();
            let text = e["text"]
                .as_str()
                .unwrap()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
                .replace('\'', "&#39;");
            let li = format!(
                "<li><code>{file}:{}</code> <code>{text}</code></li>",
                e["line"]
            );
            assert!(page.contains(&li), "{li}");
        }
    }
}

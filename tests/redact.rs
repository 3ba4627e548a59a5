//! `--redact` that holds: key tokens are keyed by a secret (random per run,
//! or `--redact-key FILE` so runs line up), and logs hide addresses, host
//! names, client and user names and host paths in every format.

use std::path::PathBuf;

mod common;
use common::run;

fn temp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("redsleuth-redact-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

const DUMP: &str = "testdata/rdb/debian-7.0.15/all-types.rdb";

fn first_token(ndjson: &str) -> String {
    let row: serde_json::Value = serde_json::from_str(ndjson.lines().next().unwrap()).unwrap();
    row["key"].as_str().unwrap().to_string()
}

#[test]
fn tokens_differ_between_runs_without_a_key_and_agree_with_one() {
    let (code, a, err) = run(&["keys", "-q", "--redact", DUMP]);
    assert_eq!(code, 0, "{err}");
    let (_, b, _) = run(&["keys", "-q", "--redact", DUMP]);
    let (_, plain, _) = run(&["keys", "-q", DUMP]);
    let (ta, tb) = (first_token(&a), first_token(&b));
    assert!(ta.starts_with("<redacted:") && ta.len() == 27, "{ta}");
    // A fresh secret each run: nobody can precompute a name's token.
    assert_ne!(ta, tb);
    // The unsalted FNV-1a-64 of the name, which the old tokens were.
    let name = first_token(&plain);
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in name.as_bytes() {
        h ^= u64::from(c);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    assert_ne!(ta, format!("<redacted:{h:016x}>"));

    let key = temp("team.key");
    std::fs::write(&key, b"0123456789abcdef0123456789abcdef").unwrap();
    let key = key.to_str().unwrap();
    let (code, k1, err) = run(&["keys", "-q", "--redact-key", key, DUMP]);
    assert_eq!(code, 0, "{err}");
    let (_, k2, _) = run(&["keys", "-q", "--redact-key", key, DUMP]);
    // Same secret, same tokens, row for row; and --redact-key implies
    // --redact.
    assert_eq!(k1, k2);
    assert!(first_token(&k1).starts_with("<redacted:"));
    assert!(!k1.contains(&format!("\"{name}\"")));
    // rdb's top keys use the same tokens as keys' rows.
    let (_, report, _) = run(&["rdb", "-q", "--format", "json", "--redact-key", key, DUMP]);
    let report: serde_json::Value = serde_json::from_str(&report).unwrap();
    let top = report["top_keys"][0]["key"].as_str().unwrap();
    assert!(k1.contains(&format!("\"{top}\"")), "{top}");
    // Patterns keep their shape with the words replaced.
    for p in report["patterns"].as_array().unwrap() {
        let p = p["pattern"].as_str().unwrap();
        assert!(!p.contains("hash") && !p.contains("string"), "{p}");
    }
}

#[test]
fn every_subcommand_with_redact_takes_a_key_file_and_refuses_a_short_one() {
    let short = temp("short.key");
    std::fs::write(&short, b"tiny").unwrap();
    let short = short.to_str().unwrap();
    for args in [
        vec!["check", DUMP],
        vec!["keys", DUMP],
        vec!["rdb", DUMP],
        vec!["diff", DUMP, DUMP],
        vec!["report", "--rdb", DUMP],
        vec!["logs", "testdata/logs/redact"],
        vec!["merge", "x.json"],
    ] {
        let mut a = args.clone();
        a.extend(["--redact-key", short]);
        let (code, out, err) = run(&a);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert!(
            err.contains("short.key") && err.contains("16 bytes"),
            "{args:?}: {err}"
        );
    }
}

/// What the fixture holds that `--redact` must hide, one of each class.
const SECRETS: &[(&str, &str)] = &[
    ("IPv4", "10.20.30.40"),
    ("IPv4", "192.168.7.21"),
    ("IPv6", "2001:db8:85a3::8a2e:370:7334"),
    ("IPv6", "fe80::1ff:fe23:4567:890a"),
    ("host name", "redis-0.redis.prod.svc.cluster.local"),
    ("host name", "db-host-17"),
    ("client name", "billing-worker-3"),
    ("user name", "alice.smith"),
    ("host path", "/srv/acme-redis/data"),
];

const FORMATS: &[&str] = &["text", "json", "markdown", "html"];

#[test]
fn logs_redact_addresses_hosts_names_and_paths_in_every_format() {
    let (_, help, _) = run(&["logs", "--help"]);
    let listed = help
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("--format"))
        .take_while(|l| !l.trim_start().starts_with("--since"))
        .collect::<String>();
    // Every format `logs` writes is checked below.
    for f in FORMATS {
        assert!(listed.contains(f), "{f} not in --help: {listed}");
    }
    let (code, plain, err) = run(&[
        "logs",
        "-q",
        "--all-events",
        "--format",
        "json",
        "testdata/logs/redact",
    ]);
    assert_eq!(code, 0, "{err}");
    // The fixture really carries each of them into the output.
    for (class, s) in SECRETS {
        assert!(plain.contains(s), "{class} {s} not in the unredacted JSON");
    }
    let (_, text, _) = run(&["logs", "-q", "testdata/logs/redact"]);
    for s in [
        "192.168.7.21",
        "2001:db8:85a3::8a2e:370:7334",
        "db-host-17",
        "billing-worker-3",
        "alice.smith",
        "/srv/acme-redis/data",
    ] {
        assert!(text.contains(s), "{s} not in the unredacted text:\n{text}");
    }
    for f in FORMATS {
        let (code, out, err) = run(&[
            "logs",
            "-q",
            "--all-events",
            "--redact",
            "--format",
            f,
            "testdata/logs/redact",
        ]);
        assert_eq!(code, 0, "{f}: {err}");
        for (class, s) in SECRETS {
            assert!(!out.contains(s), "{f}: {class} {s} leaks:\n{out}");
        }
        // What stood there is still said.
        assert!(
            out.contains("x.x.x.x") && out.contains("<host>") || out.contains("&lt;host&gt;"),
            "{f}:\n{out}"
        );
    }
    // The post-incident report's log half too.
    for f in ["markdown", "text", "html"] {
        let (_, out, _) = run(&[
            "report",
            "-q",
            "--redact",
            "--format",
            f,
            "--logs",
            "testdata/logs/redact",
        ]);
        for (class, s) in SECRETS {
            assert!(!out.contains(s), "report {f}: {class} {s} leaks");
        }
    }
}

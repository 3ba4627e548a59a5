//! The root-cause write-up of `report --rdb DUMP --logs DIR` (Markdown):
//! on scenario 14 (the server OOM-killed, then restarted from an 8 s old
//! RDB; see testdata/logs/README.md) with a real Redis 7.0.15 dump.

use std::process::Command;

fn report(extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args([
            "report",
            "--logs",
            "testdata/logs/14-server-oom-killed/debian-7.0.15",
        ])
        .args([
            "--rdb",
            "testdata/rdb/debian-7.0.15/all-types.rdb",
            "--quiet",
        ])
        .args(extra)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

fn section<'a>(md: &'a str, name: &str) -> &'a str {
    let a = md.find(&format!("## {name}\n")).unwrap();
    let rest = &md[a + name.len() + 4..];
    &rest[..rest.find("\n## ").unwrap_or(rest.len())]
}

#[test]
fn verdict_chain_and_actions_cite_resolvable_evidence() {
    let md = report(&[]);
    let verdict = section(&md, "Verdict");
    assert!(
        verdict.contains("Root cause: **oom_kill** on `:18700`"),
        "{verdict}"
    );
    assert!(verdict.contains("It led to: unclean_restart."));
    let chain = section(&md, "Failure chain");
    let a = chain.find("#1 **oom_kill**").unwrap();
    let b = chain.find("#2 **unclean_restart**").unwrap();
    assert!(a < b);
    // The dump's biggest pattern without a TTL, with its share (1.6 KiB of
    // 659.1 KiB: 25 `db3:key:*` keys of all-types.rdb, none with a TTL).
    let actions = section(&md, "Action items");
    let first = actions.lines().find(|l| l.starts_with("1. ")).unwrap();
    assert!(first.contains("Add a TTL to `db3:key:*`"), "{first}");
    assert!(first.contains("holds 0.2 % of memory (1.6 KiB)"), "{first}");

    // Every [n] resolves: a log line that the file holds at that number,
    // or a pattern statistic.
    let ev = section(&md, "Evidence");
    let mut entries = std::collections::HashMap::new();
    for l in ev.lines().filter(|l| l.starts_with('[')) {
        let (n, rest) = l[1..].split_once("] ").unwrap();
        entries.insert(n.to_string(), rest.trim_end().to_string());
    }
    let rdb = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args([
            "rdb",
            "testdata/rdb/debian-7.0.15/all-types.rdb",
            "--format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let rdb: serde_json::Value = serde_json::from_slice(&rdb.stdout).unwrap();
    let findings: Vec<String> = rdb["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap().iter())
        .map(|e| e.as_str().unwrap().to_string())
        .collect();
    let body = &md[..md.find("## Evidence").unwrap()];
    let mut used = 0;
    for piece in body.split('[').skip(1) {
        let Some((n, _)) = piece.split_once(']') else {
            continue;
        };
        if n.is_empty() || !n.bytes().all(|c| c.is_ascii_digit()) {
            continue;
        }
        used += 1;
        let e = entries.get(n).unwrap_or_else(|| panic!("[{n}] unresolved"));
        if let Some(rest) = e.strip_prefix('`') {
            let (place, text) = rest.split_once("`: `").unwrap();
            let (file, line) = place.rsplit_once(':').unwrap();
            let lines: Vec<String> = std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file),
            )
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
            let line: usize = line.parse().unwrap();
            assert_eq!(
                lines[line - 1].replace('`', "'"),
                text.trim_end_matches('`')
            );
        } else {
            // A pattern statistic, or the evidence of one of the dump's
            // findings as `rdb --format json` states it.
            assert!(
                e.starts_with("pattern `") || findings.iter().any(|f| f == e),
                "{e}"
            );
        }
    }
    assert!(used >= 10, "{used}");
    // One number per line: kernel.log:80 is cited by both incidents.
    assert_eq!(ev.matches("kernel.log:80`").count(), 1);
}

#[test]
fn redact_hides_key_names_in_the_write_up() {
    let md = report(&["--redact"]);
    assert!(!md.contains("db3:key"), "key name leaked");
    let verdict = section(&md, "Verdict");
    assert!(verdict.contains("Root cause: **oom_kill**"));
    assert!(section(&md, "Action items").contains("Add a TTL to `"));
}

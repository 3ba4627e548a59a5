//! Subcommands agree: formats listed only where written, `--fail-on` on
//! one severity scale wherever findings exist, `--top` over every list,
//! Markdown and HTML carrying every section, one JSON shape for faults and
//! checksums, `schema_version` everywhere, and README's table of formats
//! and flags matching `--help`.

use std::collections::BTreeSet;

use serde_json::Value;

mod common;
use common::run;

fn json(args: &[&str]) -> Value {
    let (code, out, err) = run(args);
    assert!(code == 0 || code == 1 || code == 3, "{args:?}: {err}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

const DUMP: &str = "testdata/rdb/debian-7.0.15/all-types.rdb";
const OLD: &str = "testdata/rdb/redis-8.0-m01/strings.rdb";
const NEW: &str = "testdata/rdb/redis-8.0-m01/all-types.rdb";
const BROKEN: &str = "testdata/rdb/broken/truncated-50pct.rdb";
const LOGS: &str = "testdata/logs/redact";

#[test]
fn diff_writes_html_and_advertises_only_what_it_writes() {
    let (code, out, err) = run(&["diff", "-q", "--format", "html", OLD, NEW, "--top", "3"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("<!doctype html>") && out.trim_end().ends_with("</html>"));
    let doc = json(&["diff", "-q", "--format", "json", OLD, NEW, "--top", "3"]);
    for p in doc["patterns"].as_array().unwrap() {
        let name = p["pattern"].as_str().unwrap();
        assert!(
            out.contains(&format!("<td><code>{name}</code></td>")),
            "{name}"
        );
    }
    assert_eq!(out.matches("<tr><td><code>").count(), 3);
    // Prometheus is no diff format: refused by the parser, not at run time.
    let (code, _, err) = run(&["diff", "--format", "prometheus", OLD, NEW]);
    assert_eq!(code, 2);
    assert!(
        err.contains("possible values: text, json, markdown, html"),
        "{err}"
    );
}

#[test]
fn diff_fails_on_patterns_growing_faster_than_the_threshold() {
    let doc = json(&[
        "diff",
        "-q",
        "--format",
        "json",
        "--growth-per-hour",
        "1MiB",
        OLD,
        NEW,
    ]);
    let findings = doc["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    // Each finding's severity follows its pattern's rate: > 1, 10, 100 MiB/h.
    let rates: std::collections::BTreeMap<String, f64> = doc["patterns"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            Some((
                p["pattern"].as_str()?.to_string(),
                p["memory_per_hour"].as_f64()?,
            ))
        })
        .collect();
    let mib = 1024.0 * 1024.0;
    let mut worst = "info";
    for f in findings {
        assert_eq!(f["id"], "pattern-growth");
        let summary = f["summary"].as_str().unwrap();
        let name = summary.split('`').nth(1).unwrap();
        let rate = rates[name];
        let want = if rate > 100.0 * mib {
            "critical"
        } else if rate > 10.0 * mib {
            "high"
        } else {
            assert!(rate > mib, "{name}: {rate}");
            "medium"
        };
        assert_eq!(f["severity"], want, "{name}: {rate}");
        if want == "high" {
            worst = "high";
        }
    }
    assert_eq!(worst, "high");
    let (code, _, _) = run(&[
        "diff",
        "-q",
        "--growth-per-hour",
        "1MiB",
        "--fail-on",
        "high",
        OLD,
        NEW,
    ]);
    assert_eq!(code, 1);
    let (code, _, _) = run(&[
        "diff",
        "-q",
        "--growth-per-hour",
        "1MiB",
        "--fail-on",
        "critical",
        OLD,
        NEW,
    ]);
    assert_eq!(code, 0);
    // Below the default threshold nothing grows fast enough.
    let (code, _, _) = run(&["diff", "-q", "--fail-on", "info", OLD, NEW]);
    assert_eq!(code, 0);
}

#[test]
fn report_takes_fail_on_since_until_and_node() {
    let (code, _, err) = run(&["report", "-q", "--logs", LOGS, "--fail-on", "high"]);
    assert_eq!(code, 1, "{err}");
    let (code, _, err) = run(&["report", "-q", "--logs", LOGS, "--fail-on", "critical"]);
    assert_eq!(code, 0, "{err}");
    // The dump's own findings count too.
    let dump = json(&["rdb", "-q", "--format", "json", DUMP]);
    let worst = dump["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(worst.contains(&"medium".to_string()), "{worst:?}");
    let (code, _, _) = run(&["report", "-q", "--rdb", DUMP, "--fail-on", "medium"]);
    assert_eq!(code, 1);
    // --node and --since narrow the log half as `logs` does.
    let kinds = |args: &[&str]| -> BTreeSet<String> {
        let doc = json(&[&["report", "-q", "--format", "json", "--logs", LOGS], args].concat());
        doc["logs"]["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["kind"].as_str().unwrap().to_string())
            .collect()
    };
    let all = kinds(&[]);
    assert!(
        all.contains("bgsave_failed")
            && all.contains("replication_break")
            && all.contains("output_buffer_disconnect"),
        "{all:?}"
    );
    let on_6380 = kinds(&["--node", ":6380"]);
    assert_eq!(on_6380, BTreeSet::from(["replication_break".to_string()]));
    let late = kinds(&["--since", "2026-11-23 07:31:10"]);
    assert!(
        !late.contains("output_buffer_disconnect") && late.contains("bgsave_failed"),
        "{late:?}"
    );
    let early = kinds(&["--until", "2026-11-23 07:31:10"]);
    assert_eq!(
        early,
        BTreeSet::from(["output_buffer_disconnect".to_string()])
    );
}

#[test]
fn rdb_takes_match_and_db() {
    let (_, rows, _) = run(&["keys", "-q", "--match", "hash:*", DUMP]);
    let doc = json(&["rdb", "-q", "--format", "json", "--match", "hash:*", DUMP]);
    assert_eq!(
        doc["keyspace"]["keys"].as_u64().unwrap() as usize,
        rows.lines().count()
    );
    assert!(rows.lines().count() >= 3);
    for p in doc["patterns"].as_array().unwrap() {
        assert!(p["pattern"].as_str().unwrap().starts_with("hash:"), "{p}");
    }
    let check = json(&["check", "--format", "json", DUMP]);
    let db3 = check["keyspace"]["dbs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["db"] == 3)
        .unwrap()
        .clone();
    let doc = json(&["rdb", "-q", "--format", "json", "--db", "3", DUMP]);
    assert_eq!(doc["keyspace"]["dbs"], serde_json::json!([db3]));
    assert_eq!(doc["keyspace"]["keys"], db3["keys"]);
}

#[test]
fn one_severity_scale_for_findings_and_incidents() {
    let scale = ["info", "low", "medium", "high", "critical"];
    for doc in [
        json(&["rdb", "-q", "--format", "json", DUMP]),
        json(&["rdb", "-q", "--format", "json", BROKEN]),
        json(&[
            "diff",
            "-q",
            "--format",
            "json",
            "--growth-per-hour",
            "1MiB",
            OLD,
            NEW,
        ]),
    ] {
        for f in doc["findings"].as_array().unwrap() {
            assert!(scale.contains(&f["severity"].as_str().unwrap()), "{f}");
        }
    }
    // Every subcommand with --fail-on takes the same five names.
    for sub in ["rdb", "diff", "merge", "report", "logs"] {
        let (_, help, _) = run(&[sub, "-h"]);
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with("--fail-on"))
            .unwrap_or_else(|| panic!("{sub}"));
        assert!(
            line.contains("[possible values: info, low, medium, high, critical]"),
            "{sub}: {line}"
        );
    }
    // `warning`, the old middle step, is still understood as medium.
    let (code, _, _) = run(&["rdb", "-q", "--fail-on", "warning", DUMP]);
    let (code_m, _, _) = run(&["rdb", "-q", "--fail-on", "medium", DUMP]);
    assert_eq!((code, code_m), (1, 1));
    let (code, _, _) = run(&["rdb", "-q", "--fail-on", "high", DUMP]);
    assert_eq!(code, 0);
}

/// The lines of a text section, up to the next blank line.
fn section<'a>(text: &'a str, title: &str) -> Vec<&'a str> {
    text.lines()
        .skip_while(|l| *l != title)
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect()
}

#[test]
fn top_governs_every_list_and_markdown_and_html_carry_every_section() {
    let doc = json(&["rdb", "-q", "--format", "json", "--top", "8", DUMP]);
    let (_, text, _) = run(&["rdb", "-q", "--top", "8", DUMP]);
    let (_, md, _) = run(&["rdb", "-q", "--top", "8", "--format", "markdown", DUMP]);
    let (_, html, _) = run(&["rdb", "-q", "--top", "8", "--format", "html", DUMP]);
    let by_el = doc["top_keys_by_elements"].as_object().unwrap();
    assert!(
        by_el.values().any(|l| l.as_array().unwrap().len() > 5),
        "a list longer than the old cut of 5"
    );
    for (ty, list) in by_el {
        let list = list.as_array().unwrap();
        assert!(list.len() <= 8);
        let title = format!("Biggest {ty} keys by elements");
        assert_eq!(section(&text, &title).len(), list.len(), "text {ty}");
        assert!(md.contains(&format!("## {title}")), "markdown {ty}");
        assert!(html.contains(&format!("<h2>{title}</h2>")), "html {ty}");
        for k in list {
            let key = k["key"].as_str().unwrap();
            assert!(
                md.contains(&format!("| `{key}` | {} | {} |", k["db"], k["elements"])),
                "markdown {ty} {key}"
            );
            assert!(
                html.contains(&format!(
                    "<td><code>{key}</code></td><td>{}</td><td>{}</td>",
                    k["db"], k["elements"]
                )),
                "html {ty} {key}"
            );
        }
    }
    let hashes = doc["big_hashes"].as_array().unwrap();
    assert!(!hashes.is_empty());
    for k in hashes {
        let key = k["key"].as_str().unwrap();
        assert!(
            md.contains(&format!(
                "| `{key}` | {} | {} | {} |",
                k["db"],
                k["encoding"].as_str().unwrap(),
                k["elements"]
            )),
            "{key}"
        );
        assert!(html.contains(&format!("<td><code>{key}</code></td>")));
    }
    for d in doc["keyspace"]["dbs"].as_array().unwrap() {
        assert!(
            md.contains(&format!(
                "| {} | {} | {} |",
                d["db"], d["keys"], d["expires"]
            )),
            "{d}"
        );
        assert!(
            html.contains(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                d["db"], d["keys"], d["expires"]
            )),
            "{d}"
        );
    }
    for out in [&md, &html] {
        assert!(
            out.contains("Fragmentation clues") && out.contains("Size-class rounding of values")
        );
    }
}

#[test]
fn faults_and_checksums_have_one_json_shape_and_every_document_a_schema_version() {
    let check = json(&["check", "--format", "json", BROKEN]);
    let rdb = json(&["rdb", "-q", "--format", "json", BROKEN]);
    let diff = json(&["diff", "-q", "--format", "json", BROKEN, DUMP]);
    let report = json(&[
        "report", "-q", "--format", "json", "--rdb", BROKEN, "--logs", LOGS,
    ]);
    let errors = &check["errors"];
    assert!(!errors.as_array().unwrap().is_empty());
    for e in errors.as_array().unwrap() {
        let keys: BTreeSet<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            BTreeSet::from(["file", "offset", "context", "message"])
        );
    }
    assert_eq!(&rdb["errors"], errors);
    assert_eq!(&diff["errors"], errors);
    assert_eq!(&report["keyspace"]["errors"], errors);
    assert_eq!(diff["skipped"], check["skipped"]);
    let checksum = &check["source"]["checksum"];
    assert!(
        checksum.get("status").is_some()
            && checksum.get("stored").is_some()
            && checksum.get("computed").is_some(),
        "{checksum}"
    );
    assert_eq!(&rdb["source"]["checksum"], checksum);
    assert_eq!(&diff["old"]["checksum"], checksum);
    assert_eq!(&report["keyspace"]["source"]["checksum"], checksum);

    let d = std::env::temp_dir().join(format!("redsleuth-agree-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let a = d.join("a.json");
    std::fs::write(
        &a,
        serde_json::to_string(&json(&["rdb", "-q", "--format", "json", DUMP])).unwrap(),
    )
    .unwrap();
    let merged = json(&["merge", a.to_str().unwrap()]);
    let logs = json(&["logs", "-q", "--format", "json", LOGS]);
    for (name, doc) in [
        ("check", &check),
        ("rdb", &rdb),
        ("diff", &diff),
        ("report", &report),
        ("report.keyspace", &report["keyspace"]),
        ("report.logs", &report["logs"]),
        ("merge", &merged),
        ("logs", &logs),
    ] {
        assert_eq!(doc["schema_version"], 2, "{name}");
    }
}

/// Flags and formats of a subcommand as its `-h` lists them.
fn from_help(sub: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (code, help, _) = run(&[sub, "-h"]);
    assert_eq!(code, 0);
    let mut flags = BTreeSet::new();
    let mut formats = BTreeSet::new();
    for l in help.lines() {
        let t = l.trim_start();
        let t = t.strip_prefix("-q, ").unwrap_or(t);
        let Some(rest) = t.strip_prefix("--") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '-')
            .collect();
        if ["color", "help", "version"].contains(&name.as_str()) {
            continue;
        }
        if name == "format" {
            let pv = l
                .split("[possible values: ")
                .nth(1)
                .unwrap()
                .split(']')
                .next()
                .unwrap();
            formats.extend(pv.split(", ").map(str::to_string));
        }
        flags.insert(format!("--{name}"));
    }
    (flags, formats)
}

#[test]
fn readme_lists_every_subcommands_formats_and_flags_as_help_does() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let table: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("## Subcommands at a glance"))
        .skip(1)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .collect();
    let cells = |s: &str| -> BTreeSet<String> {
        s.split(',')
            .map(|c| c.trim().trim_matches('`').to_string())
            .filter(|c| !c.is_empty() && c != "—")
            .collect()
    };
    let mut seen = BTreeSet::new();
    for row in table {
        let c: Vec<&str> = row.trim_matches('|').split('|').collect();
        assert_eq!(c.len(), 3, "{row}");
        let sub = c[0].trim().trim_matches('`');
        let (flags, formats) = from_help(sub);
        assert_eq!(cells(c[1]), formats, "formats of {sub}");
        assert_eq!(cells(c[2]), flags, "flags of {sub}");
        seen.insert(sub.to_string());
    }
    let subs: BTreeSet<String> = ["check", "keys", "rdb", "diff", "merge", "report", "logs"]
        .map(String::from)
        .into();
    assert_eq!(seen, subs);
}

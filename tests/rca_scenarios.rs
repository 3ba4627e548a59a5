//! The root-cause write-up of `report --rdb DUMP --logs DIR` on the two
//! scenarios recorded with their dump (testdata/logs/README.md):
//!
//! - 17: a key family without a TTL (`user:*:feed`) grows on the primary
//!   :18760 until the kernel OOM-kills it (kernel.log:79, 01:42:16); the
//!   Sentinel :18762 fails over to :18761; the primary restarts (pid 28077)
//!   from the dump its BGSAVE wrote at 01:41:39 (primary.log:20-23: ctime
//!   01:41:38, 4500 keys, `RDB age 44 seconds` at 01:42:22.733, 4500 keys
//!   loaded, primary.log:34) and is then resynced in full with the new
//!   primary's 238900 keys (primary.log:53): 234400 keys were written after
//!   the dump (steps.txt: the writer's 234400 acknowledged new feeds).
//! - 18: a pids limit makes the save point's BGSAVE fail to fork at
//!   01:40:53.077 and 01:40:59.078 (redis.log:15, 17); writes got -MISCONF
//!   from 01:40:53 to 01:41:05 (steps.txt) until the BGSAVE of 01:41:05
//!   (redis.log:19-22) succeeded; the dump is the save of 01:40:47
//!   (redis.log:10-13, ctime 01:40:47, 4500 keys).
//!
//! For every format (Markdown, text, JSON, HTML): the verdict names the
//! root cause, the chain links the incidents in order, the first action
//! item names the no-TTL pattern with its share of memory (the dump's
//! `rdb --format json` says 0.6556 in both), and every `[n]` resolves to a
//! `file:line` holding the cited text or to a statistic of the dump.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

const FORMATS: &[&str] = &["markdown", "text", "json", "html"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn dump(sc: &str) -> String {
    format!("testdata/logs/{sc}/debian-7.0.15.rdb")
}

fn report(sc: &str, format: &str, extra: &[&str]) -> String {
    let d = dump(sc);
    let logs = format!("testdata/logs/{sc}/debian-7.0.15");
    let mut args = vec![
        "report", "--rdb", &d, "--logs", &logs, "--quiet", "--format", format,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn postmortem(sc: &str, extra: &[&str]) -> Value {
    let v: Value = serde_json::from_str(&report(sc, "json", extra)).unwrap();
    v["postmortem"].clone()
}

/// One evidence entry as a format prints it.
#[derive(Debug)]
enum Entry {
    Line(String, usize, String),
    Stat(String),
}

fn unescape(s: &str) -> String {
    s.replace("<code>", "`")
        .replace("</code>", "`")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn between<'a>(s: &'a str, a: &str, b: &str) -> &'a str {
    let i = s.find(a).unwrap_or_else(|| panic!("{a} missing")) + a.len();
    let rest = &s[i..];
    &rest[..rest.find(b).unwrap_or(rest.len())]
}

/// The evidence list and every number cited before it, per format.
fn citations(format: &str, out: &str) -> (HashMap<usize, Entry>, Vec<usize>) {
    let mut entries = HashMap::new();
    let mut used = Vec::new();
    let numbers = |body: &str, open: &str, close: char| -> Vec<usize> {
        body.split(open)
            .skip(1)
            .filter_map(|p| p.split_once(close))
            .filter_map(|(n, _)| n.parse().ok())
            .collect()
    };
    let split_line = |rest: &str| -> Option<(String, usize, String)> {
        let (place, text) = rest.split_once(": ")?;
        let (file, line) = place.rsplit_once(':')?;
        root().join(file).is_file().then(|| {
            (
                file.to_string(),
                line.parse().ok().unwrap(),
                text.to_string(),
            )
        })
    };
    match format {
        "markdown" | "text" => {
            let head = if format == "markdown" {
                "## Evidence\n"
            } else {
                "\nEvidence\n"
            };
            let at = out.find(head).unwrap();
            let ev = &out[at..];
            let ev = &ev[..ev[head.len()..]
                .find("\n\n")
                .map_or(ev.len(), |k| k + head.len())];
            for l in ev.lines().map(str::trim).filter(|l| l.starts_with('[')) {
                let (n, rest) = l[1..].split_once("] ").unwrap();
                let rest = rest.trim_end();
                let e = if format == "markdown" {
                    match rest.strip_prefix('`') {
                        Some(r) => {
                            let (place, text) = r.split_once("`: `").unwrap();
                            let (file, line) = place.rsplit_once(':').unwrap();
                            Entry::Line(
                                file.into(),
                                line.parse().unwrap(),
                                text.trim_end_matches('`').into(),
                            )
                        }
                        None => Entry::Stat(rest.into()),
                    }
                } else {
                    match split_line(rest) {
                        Some((f, l, t)) => Entry::Line(f, l, t),
                        None => Entry::Stat(rest.into()),
                    }
                };
                entries.insert(n.parse().unwrap(), e);
            }
            used = numbers(&out[..at], "[", ']');
        }
        "html" => {
            let ev = between(out, "<section id=\"evidence\">", "</section>");
            for li in ev.split("<li id=\"ev-").skip(1) {
                let (n, rest) = li.split_once('"').unwrap();
                let body = between(rest, ">", "</li>");
                let e = match body.strip_prefix("<code>") {
                    Some(r) => {
                        let (place, text) = r.split_once("</code>: <code>").unwrap();
                        let (file, line) = place.rsplit_once(':').unwrap();
                        Entry::Line(
                            unescape(file),
                            line.parse().unwrap(),
                            unescape(text.trim_end_matches("</code>")),
                        )
                    }
                    None => Entry::Stat(unescape(body)),
                };
                entries.insert(n.parse().unwrap(), e);
            }
            let body = &out[..out.find("<section id=\"evidence\">").unwrap()];
            used = numbers(body, "href=\"#ev-", '"');
        }
        _ => {
            let v: Value = serde_json::from_str(out).unwrap();
            let pm = &v["postmortem"];
            for e in pm["evidence"].as_array().unwrap() {
                let n = e["n"].as_u64().unwrap() as usize;
                let entry = match e["kind"].as_str().unwrap() {
                    "line" => Entry::Line(
                        e["file"].as_str().unwrap().into(),
                        e["line"].as_u64().unwrap() as usize,
                        e["text"].as_str().unwrap().into(),
                    ),
                    _ => Entry::Stat(e["text"].as_str().unwrap().into()),
                };
                entries.insert(n, entry);
            }
            fn walk(v: &Value, out: &mut Vec<usize>) {
                match v {
                    Value::Object(m) => {
                        for (k, x) in m {
                            if k == "cites" || k == "also_cited" {
                                out.extend(
                                    x.as_array()
                                        .unwrap()
                                        .iter()
                                        .map(|n| n.as_u64().unwrap() as usize),
                                );
                            } else if k != "evidence" {
                                walk(x, out);
                            }
                        }
                    }
                    Value::Array(a) => a.iter().for_each(|x| walk(x, out)),
                    _ => {}
                }
            }
            walk(pm, &mut used);
        }
    }
    (entries, used)
}

/// Every cited number has an entry; a line entry is that line of that
/// file, a statistic is a pattern's numbers or a finding's evidence in the
/// dump's own report.
fn check_citations(sc: &str, format: &str, out: &str) {
    let rdb: Value =
        serde_json::from_str(&run(&["rdb", &dump(sc), "--format", "json", "--quiet"])).unwrap();
    let (entries, used) = citations(format, out);
    assert!(
        used.len() >= 8,
        "{sc} {format}: only {} citations",
        used.len()
    );
    let mut lines_seen = HashMap::new();
    for n in &used {
        let e = entries
            .get(n)
            .unwrap_or_else(|| panic!("{sc} {format}: [{n}] unresolved"));
        match e {
            Entry::Line(file, line, text) => {
                let body = std::fs::read_to_string(root().join(file)).unwrap();
                let got = body.lines().nth(line - 1).unwrap();
                let got = if format == "markdown" {
                    got.replace('`', "'")
                } else {
                    got.to_string()
                };
                assert_eq!(&got, text, "{sc} {format}: [{n}] {file}:{line}");
                // One number per line.
                let prev = lines_seen.insert((file.clone(), *line), *n);
                assert!(
                    prev.is_none_or(|p| p == *n),
                    "{file}:{line} has two numbers"
                );
            }
            Entry::Stat(s) => {
                let pattern_stat = rdb["patterns"].as_array().unwrap().iter().any(|p| {
                    s.starts_with(&format!(
                        "pattern `{}`: {} keys, ",
                        p["pattern"].as_str().unwrap(),
                        p["keys"]
                    )) && s.contains(&format!(
                        "({:.1} %)",
                        p["share_of_memory"].as_f64().unwrap() * 100.0
                    ))
                });
                let finding = rdb["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .flat_map(|f| f["evidence"].as_array().unwrap())
                    .any(|x| x.as_str() == Some(s.as_str()));
                assert!(pattern_stat || finding, "{sc} {format}: [{n}] {s}");
            }
        }
    }
}

fn kinds(pm: &Value) -> Vec<String> {
    pm["chain"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn scenario_17_oom_kill_chain_dump_and_actions() {
    let pm = postmortem("17-no-ttl-oom-failover", &[]);
    assert_eq!(pm["verdict"]["root"], "oom_kill");
    assert_eq!(pm["verdict"]["nodes"], serde_json::json!([":18760"]));
    // The keyspace finding joins the chain (memory ran out), then the
    // incidents in time order, each linked to what explains it.
    assert_eq!(
        kinds(&pm),
        [
            "pattern-without-ttl",
            "oom_kill",
            "unclean_restart",
            "sentinel_failover"
        ]
    );
    let chain = pm["chain"].as_array().unwrap();
    let oom = chain[1]["id"].as_u64().unwrap();
    for s in &chain[2..] {
        let by: Vec<u64> = s["caused_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap())
            .collect();
        assert!(
            by.contains(&oom),
            "{} not linked to the OOM kill: {by:?}",
            s["kind"]
        );
    }
    let starts: Vec<&str> = chain[1..]
        .iter()
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "{starts:?}");

    let d = &pm["dump"];
    assert_eq!(d["ctime"], "2026-12-07 01:41:38.000");
    assert_eq!(d["written_by"], ":18760");
    assert_eq!(d["keys"], 4500);
    assert_eq!(d["used_mem"], 3588992);
    assert_eq!(d["aof_base"], false);
    assert_eq!(d["repl_id"], "71730b1bec3462859157461eada4b82d54fd33ac");
    assert_eq!(d["repl_offset"], 995463);
    // Killed at 01:42:16.000 (kernel.log:79): 38 s after ctime.
    assert_eq!(d["age_at_death_ms"], 38_000);
    assert_eq!(d["reloaded_by"], ":18760");
    // 238900 keys loaded in the full resync (primary.log:53) - 4500.
    assert_eq!(d["keys_written_after"], 234_400);
    let sentences: Vec<&str> = d["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        sentences[0].contains("written by the BGSAVE of :18760 that finished at 01:41:39.131"),
        "{sentences:?}"
    );
    assert!(
        sentences
            .iter()
            .any(|s| s
                .contains("It is the file :18760's restart reloaded: 4500 keys at 01:42:22.801")),
        "{sentences:?}"
    );

    let impact: Vec<&str> = pm["impact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        impact.iter().any(|s| s.starts_with(
            ":18760 was down for 6.8 s: oom-killed at 01:42:16.000, serving again at 01:42:22.801"
        )),
        "{impact:?}"
    );
    assert!(
        impact.iter().any(|s| s.starts_with(
            "At least 234400 keys (98.1 % of the 238900 counted later) were written after the dump"
        )),
        "{impact:?}"
    );

    let actions = pm["actions"].as_array().unwrap();
    assert_eq!(actions[0]["priority"], "P1");
    assert_eq!(
        actions[0]["text"],
        "Add a TTL to `user:*:feed` (or cap it): it holds 65.6 % of memory (667.8 KiB) and none of it expires."
    );
    let texts: Vec<&str> = actions
        .iter()
        .map(|a| a["text"].as_str().unwrap())
        .collect();
    assert!(texts.iter().any(|t| t.starts_with("Enable AOF (`appendonly yes`) on `:18760`: it came back from the dump of 01:41:38.000, 38.0 s old when it died")), "{texts:?}");
    assert!(texts.iter().any(|t| t.starts_with("Set memory headroom on `:18760`") && t.contains("used-mem 3.4 MiB at 01:41:38.000, the kernel killed the server at anon-rss 119.4 MB")), "{texts:?}");
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.starts_with("Set memory headroom"))
            .count(),
        1
    );
    // The full resync of primary.log:45 finished at 01:42:43.605 (54).
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Alert on replica lag on `:18760`")
                && t.contains("its full resync took 5.9 s (01:42:37.725 to 01:42:43.605)")
                && t.contains("238900 keys")),
        "{texts:?}"
    );

    // The timeline marks the dump's ctime, on the node that wrote it.
    let rows = pm["timeline"].as_array().unwrap();
    assert!(rows
        .iter()
        .any(|r| r["event"] == "dump ctime" && r["node"] == ":18760"));
    let times: Vec<&str> = rows.iter().map(|r| r["time"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn scenario_18_fork_failure_misconf() {
    let pm = postmortem("18-fork-failed-misconf", &[]);
    assert_eq!(pm["verdict"]["root"], "fork_failed");
    assert_eq!(pm["verdict"]["nodes"], serde_json::json!([":18780"]));
    let verdict: Vec<&str> = pm["verdict"]["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        verdict
            .iter()
            .any(|s| s.contains("writes were rejected with -MISCONF")),
        "{verdict:?}"
    );
    // EAGAIN from a task limit is not memory running out: no keyspace
    // finding in the chain.
    assert_eq!(kinds(&pm), ["fork_failed"]);
    let d = &pm["dump"];
    assert_eq!(d["ctime"], "2026-12-07 01:40:47.000");
    assert_eq!(d["written_by"], ":18780");
    assert!(d["age_at_death_ms"].is_null() && d["reloaded_by"].is_null());
    let sentences: Vec<&str> = d["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        sentences[0].contains("finished at 01:40:47.161"),
        "{sentences:?}"
    );
    assert!(
        sentences
            .iter()
            .any(|s| s.starts_with("A newer save of :18780 at 01:41:05.127 replaced it")),
        "{sentences:?}"
    );
    assert!(
        sentences
            .iter()
            .any(|s| s.contains("counted at least 100 changes by 01:40:53.075")),
        "{sentences:?}"
    );
    let impact: Vec<&str> = pm["impact"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        impact.iter().any(|s| s.contains("-MISCONF")
            && s.contains(
                "from 01:40:53.077 until the next successful BGSAVE at 01:41:05.170 (12.1 s)"
            )),
        "{impact:?}"
    );
    let actions = pm["actions"].as_array().unwrap();
    assert!(actions[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("Add a TTL to `user:*:feed` (or cap it): it holds 65.6 % of memory"));
    let texts: Vec<&str> = actions
        .iter()
        .map(|a| a["text"].as_str().unwrap())
        .collect();
    assert!(
        texts.iter().any(|t| t.starts_with("Raise the task limit")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Alert on `rdb_last_bgsave_status`")),
        "{texts:?}"
    );
}

#[test]
fn every_format_names_the_root_cause_the_first_action_and_resolves_every_citation() {
    for (sc, root_md, root_txt) in [
        (
            "17-no-ttl-oom-failover",
            "Root cause: **oom_kill** on `:18760`.",
            "Root cause: oom_kill on :18760.",
        ),
        (
            "18-fork-failed-misconf",
            "Root cause: **fork_failed** on `:18780`.",
            "Root cause: fork_failed on :18780.",
        ),
    ] {
        for format in FORMATS {
            let out = report(sc, format, &[]);
            match *format {
                "markdown" => {
                    assert!(between(&out, "## Verdict\n", "\n## ").contains(root_md));
                    let actions = between(&out, "## Action items\n", "\n## ");
                    let first = actions.lines().find(|l| l.starts_with("1. ")).unwrap();
                    assert!(
                        first.contains("Add a TTL to `user:*:feed`")
                            && first.contains("65.6 % of memory"),
                        "{first}"
                    );
                    for s in [
                        "## Impact",
                        "## Failure chain",
                        "## Timeline",
                        "## Root cause and contributing factors",
                        "## Evidence",
                    ] {
                        assert!(out.contains(s), "{s}");
                    }
                }
                "text" => {
                    assert!(
                        out.starts_with(&format!("Verdict\n  {root_txt}")),
                        "{}",
                        &out[..200]
                    );
                    let first = between(&out, "\nAction items\n", "\n").trim();
                    assert!(
                        first.starts_with("1. ")
                            && first.contains("Add a TTL to `user:*:feed`")
                            && first.contains("65.6 %"),
                        "{first}"
                    );
                }
                "html" => {
                    let v = between(&out, "<section id=\"verdict\">", "</section>");
                    assert!(unescape(v).contains(root_txt), "{v}");
                    let a = between(&out, "<section id=\"actions\">", "</section>");
                    let first = between(a, "<li>", "</li>");
                    assert!(
                        unescape(first).contains("Add a TTL to `user:*:feed`")
                            && first.contains("65.6 %"),
                        "{first}"
                    );
                }
                _ => {}
            }
            check_citations(sc, format, &out);
        }
    }
}

#[test]
fn redact_hides_key_names_and_client_addresses_in_every_format() {
    let sc = "17-no-ttl-oom-failover";
    let plain = report(sc, "markdown", &[]);
    // What must go is there without the flag.
    for s in ["user:*:feed", "user:1000:feed", "127.0.0.1", "addr="] {
        assert!(plain.contains(s), "{s} not in the plain report");
    }
    for format in FORMATS {
        let out = report(sc, format, &["--redact"]);
        for s in [
            "user:",
            "session:",
            "cache:product",
            "127.0.0.1",
            "addr=127",
        ] {
            assert!(!out.contains(s), "{format}: `{s}` leaked");
        }
        assert!(out.contains("oom_kill"), "{format}");
    }
}

#[test]
fn since_until_and_node_narrow_the_write_up() {
    let sc = "17-no-ttl-oom-failover";
    // Before the kill: nothing but configuration warnings.
    let pm = postmortem(sc, &["--until", "2026-12-07 01:42:00"]);
    assert!(pm["verdict"]["root"].is_null(), "{}", pm["verdict"]);
    assert!(pm["chain"].as_array().unwrap().is_empty());
    // Only the replica: the failover is its root, the OOM kill is not in.
    let pm = postmortem(sc, &["--node", ":18761"]);
    assert_eq!(pm["verdict"]["root"], "sentinel_failover");
    assert!(!kinds(&pm).contains(&"oom_kill".to_string()));
    let md = report(sc, "markdown", &["--node", "18761"]);
    assert!(md.contains("Root cause: **sentinel_failover**"));
    // A time that does not parse is refused before anything is written.
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args([
            "report",
            "--logs",
            "testdata/logs/17-no-ttl-oom-failover/debian-7.0.15",
            "--since",
            "yesterday",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--since yesterday: expected YYYY-MM-DD"));
}

//! The conventions of a command-line tool: a man page and shell completions
//! generated from the argument definitions, `--color` with `NO_COLOR`, and
//! the Prometheus text output of the keyspace summary, parsed by the
//! Prometheus project's own Python parser.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use clap::CommandFactory;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redsleuth"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

fn stdout(args: &[&str]) -> String {
    let o = bin().args(args).output().unwrap();
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

/// Every subcommand the parser knows, by name.
fn subcommands() -> Vec<String> {
    let names: Vec<String> = redsleuth::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    // The list itself must not shrink unnoticed.
    for must in [
        "check",
        "keys",
        "rdb",
        "diff",
        "merge",
        "report",
        "logs",
        "completions",
        "man",
    ] {
        assert!(
            names.iter().any(|n| n == must),
            "{must} missing from {names:?}"
        );
    }
    names
}

#[test]
fn man_page_lists_every_subcommand() {
    let man = stdout(&["man"]);
    assert!(
        man.starts_with(".ie") || man.contains(".TH redsleuth 1"),
        "{man}"
    );
    let section = man
        .split(".SH SUBCOMMANDS")
        .nth(1)
        .expect("a SUBCOMMANDS section");
    for name in subcommands() {
        // roff escapes the dash of `redsleuth-check(1)`.
        assert!(
            section.contains(&format!("redsleuth\\-{name}(1)")),
            "{name} not in the man page"
        );
    }
    // `--out-dir` writes the pages those references name.
    let dir = std::env::temp_dir().join(format!("redsleuth-man-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    stdout(&["man", "--out-dir", dir.to_str().unwrap()]);
    for name in subcommands() {
        let page = std::fs::read_to_string(dir.join(format!("redsleuth-{name}.1"))).unwrap();
        assert!(
            page.contains(&format!(".TH redsleuth-{name} 1")),
            "{name}: {page}"
        );
    }
    let rdb = std::fs::read_to_string(dir.join("redsleuth-rdb.1")).unwrap();
    assert!(
        rdb.contains("prometheus") && rdb.contains("\\-\\-top"),
        "{rdb}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// What bash completes after `redsleuth WORDS…`, by running the generated
/// script's completion function the way bash's `complete -F` would.
fn bash_complete(words: &[&str]) -> Vec<String> {
    let script = stdout(&["completions", "bash"]);
    let dir = std::env::temp_dir().join(format!("redsleuth-bash-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("redsleuth.bash");
    std::fs::write(&path, script).unwrap();
    let line: Vec<String> = std::iter::once("redsleuth".to_string())
        .chain(words.iter().map(|w| format!("'{w}'")))
        .collect();
    let driver = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n\
         _redsleuth redsleuth \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        path.display(),
        line.join(" "),
        words.len()
    );
    let o = Command::new("bash").arg("-c").arg(driver).output().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_completes_subcommands_and_values() {
    let all = bash_complete(&[""]);
    for name in subcommands() {
        assert!(all.contains(&name), "{name} not offered: {all:?}");
    }
    let r = bash_complete(&["r"]);
    let mut r_sorted = r.clone();
    r_sorted.sort();
    assert_eq!(r_sorted, ["rdb", "report"], "{r:?}");
    let shells = bash_complete(&["completions", ""]);
    for s in ["bash", "zsh", "fish"] {
        assert!(shells.iter().any(|x| x == s), "{s}: {shells:?}");
    }
    let formats = bash_complete(&["rdb", "--format", ""]);
    for f in ["text", "json", "markdown", "html", "prometheus"] {
        assert!(formats.iter().any(|x| x == f), "{f}: {formats:?}");
    }
}

#[test]
fn zsh_and_fish_scripts_name_every_subcommand() {
    let zsh = stdout(&["completions", "zsh"]);
    let fish = stdout(&["completions", "fish"]);
    assert!(zsh.starts_with("#compdef redsleuth"), "{zsh}");
    for name in subcommands() {
        assert!(zsh.contains(&format!("'{name}:")), "zsh: {name}");
        assert!(fish.contains(&format!("-a \"{name}\"")), "fish: {name}");
    }
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let dump = "testdata/rdb/debian-7.0.15/all-types.rdb";
    let run = |color: Option<&str>, no_color: bool| {
        let mut c = bin();
        if let Some(w) = color {
            c.args(["--color", w]);
        }
        c.args(["rdb", "-q", dump]);
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        let o = c.output().unwrap();
        String::from_utf8(o.stdout).unwrap()
    };
    let always = run(Some("always"), true);
    assert!(
        always.contains("\x1b["),
        "--color always colours even with NO_COLOR"
    );
    // A pipe under auto, NO_COLOR under auto, and never: no escapes.
    for out in [
        run(None, false),
        run(Some("auto"), true),
        run(Some("never"), false),
    ] {
        assert!(!out.contains('\x1b'), "{out}");
    }
    // Stripped of its escapes, coloured text is the plain text.
    let stripped = always
        .replace("\x1b[0m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[2m", "")
        .replace("\x1b[1;31m", "");
    assert_eq!(stripped, run(Some("never"), false));
    // The flag is global: accepted after the subcommand too.
    let o = bin()
        .args(["rdb", "-q", dump, "--color", "never", "--format", "json"])
        .output()
        .unwrap();
    assert!(o.status.success());
    // JSON is never coloured.
    let o = bin()
        .args(["--color", "always", "rdb", "-q", dump, "--format", "json"])
        .output()
        .unwrap();
    assert!(!String::from_utf8(o.stdout).unwrap().contains('\x1b'));
}

/// Parses Prometheus text with `prometheus_client` and returns every
/// sample as `[name, labels, value]`.
fn parse_prometheus(python: &std::path::Path, text: &str) -> serde_json::Value {
    let prog = "import sys, json\n\
        from prometheus_client.parser import text_string_to_metric_families\n\
        out = []\n\
        for fam in text_string_to_metric_families(sys.stdin.read()):\n\
        \x20   assert fam.type == 'gauge', (fam.name, fam.type)\n\
        \x20   for s in fam.samples:\n\
        \x20       out.append([s.name, s.labels, s.value])\n\
        print(json.dumps(out))\n";
    let mut child = Command::new(python)
        .args(["-c", prog])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "prometheus_client refused the text: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).unwrap()
}

fn sample(samples: &serde_json::Value, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples.as_array().unwrap().iter().find_map(|s| {
        let ok = s[0] == name
            && s[1].as_object().unwrap().len() == labels.len()
            && labels.iter().all(|(k, v)| s[1][*k] == *v);
        ok.then(|| s[2].as_f64().unwrap())
    })
}

#[test]
fn prometheus_output_parses_and_equals_the_json_report() {
    let Some(python) = common::python() else {
        return;
    };
    let dumps = [
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "testdata/rdb/debian-7.0.15/expire.rdb",
        "testdata/rdb/valkey-9.1.2/multidb.rdb",
    ];
    let mut args = vec!["rdb", "-q"];
    args.extend(dumps);
    let text = stdout(&[&args[..], &["--format", "prometheus"]].concat());
    let json: serde_json::Value =
        serde_json::from_str(&stdout(&[&args[..], &["--format", "json"]].concat())).unwrap();
    let samples = parse_prometheus(&python, &text);
    let ks = &json["keyspace"];
    assert_eq!(sample(&samples, "redsleuth_dumps", &[]), Some(3.0));
    assert_eq!(
        sample(&samples, "redsleuth_keyspace_keys", &[]),
        ks["keys"].as_f64()
    );
    assert_eq!(
        sample(&samples, "redsleuth_keyspace_keys_with_ttl", &[]),
        ks["expires"].as_f64()
    );
    assert_eq!(
        sample(&samples, "redsleuth_keyspace_memory_bytes", &[]),
        ks["memory_bytes"].as_f64()
    );
    for d in ks["dbs"].as_array().unwrap() {
        let db = d["db"].to_string();
        assert_eq!(
            sample(&samples, "redsleuth_db_keys", &[("db", &db)]),
            d["keys"].as_f64()
        );
    }
    for t in json["types"].as_array().unwrap() {
        let l = [
            ("type", t["type"].as_str().unwrap()),
            ("encoding", t["encoding"].as_str().unwrap()),
        ];
        assert_eq!(
            sample(&samples, "redsleuth_type_keys", &l),
            t["keys"].as_f64()
        );
        assert_eq!(
            sample(&samples, "redsleuth_type_memory_bytes", &l),
            t["memory_bytes"].as_f64()
        );
    }
    let patterns = json["patterns"].as_array().unwrap();
    assert!(patterns.len() > 5);
    for p in patterns {
        let l = [("pattern", p["pattern"].as_str().unwrap())];
        assert_eq!(
            sample(&samples, "redsleuth_pattern_keys", &l),
            p["keys"].as_f64(),
            "{p}"
        );
        assert_eq!(
            sample(&samples, "redsleuth_pattern_memory_bytes", &l),
            p["memory_bytes"].as_f64()
        );
        assert_eq!(
            sample(&samples, "redsleuth_pattern_keys_with_ttl", &l),
            p["keys_with_ttl"].as_f64()
        );
        let cov = sample(&samples, "redsleuth_pattern_ttl_coverage_ratio", &l).unwrap();
        assert!(
            (cov - p["ttl_coverage"].as_f64().unwrap()).abs() < 1e-4,
            "{p}"
        );
    }
    // Keys with awkward bytes end in label values that need escaping; the
    // parser reading them back proves the escaping.
    assert!(patterns
        .iter()
        .any(|p| p["pattern"].as_str().unwrap().contains('\\')));
    let sum: f64 = patterns.iter().map(|p| p["keys"].as_f64().unwrap()).sum();
    assert_eq!(Some(sum), ks["keys"].as_f64());
}

#[test]
fn merge_writes_prometheus_too() {
    let Some(python) = common::python() else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("redsleuth-prom-merge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut reports = Vec::new();
    for (i, d) in [
        "testdata/rdb/debian-7.0.15/all-types.rdb",
        "testdata/rdb/debian-7.0.15/expire.rdb",
    ]
    .iter()
    .enumerate()
    {
        let p = dir.join(format!("{i}.json"));
        std::fs::write(&p, stdout(&["rdb", "-q", d, "--format", "json"])).unwrap();
        reports.push(p.to_str().unwrap().to_string());
    }
    let mut args = vec!["merge", "--format", "prometheus"];
    args.extend(reports.iter().map(String::as_str));
    let merged = parse_prometheus(&python, &stdout(&args));
    let both = parse_prometheus(
        &python,
        &stdout(&[
            "rdb",
            "-q",
            "testdata/rdb/debian-7.0.15/all-types.rdb",
            "testdata/rdb/debian-7.0.15/expire.rdb",
            "--format",
            "prometheus",
        ]),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(merged, both);
}

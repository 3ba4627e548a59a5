//! The published JSON Schemas (`schema/`): the checked-in files are what the
//! code generates (`REDSLEUTH_UPDATE_GOLDEN=1 cargo test --test schema`
//! rewrites them), each is a valid draft 2020-12 schema, and every JSON
//! output of the corpus validates against its schema: `rdb`, `check` and
//! `keys --format ndjson` of every dump (the damaged ones included), `diff`,
//! `merge` of keyspace reports and of log analyses, `logs` of every
//! recorded scenario, and `report` of the scenarios recorded with a dump.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(root().join("schema").join(name)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    jsonschema::draft202012::new(&v).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn run(args: &[&str]) -> Vec<u8> {
    let o = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    // 0 ok, 1 findings, 3 corrupt input with partial results: all print
    // their document.
    assert!(
        matches!(o.status.code(), Some(0 | 1 | 3)),
        "redsleuth {args:?}: {:?} {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    o.stdout
}

fn check(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .take(5)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

/// Every dump of `testdata/rdb/` and of the shared corpus.
fn dumps() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root().join("testdata/rdb")];
    let shared = root().join("../shared/corpus/rdb");
    if shared.is_dir() {
        dirs.push(shared);
    }
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rdb") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_checked_in_schemas_are_the_generated_ones() {
    let dir = root().join("schema");
    let update = std::env::var_os("REDSLEUTH_UPDATE_GOLDEN").is_some();
    let docs = redsleuth::schema::documents();
    assert_eq!(docs.len(), 7);
    for (name, doc) in docs {
        let text = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        let path = dir.join(name);
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (REDSLEUTH_UPDATE_GOLDEN=1 writes it)",
                path.display()
            )
        });
        assert_eq!(
            have, text,
            "{name} is stale: REDSLEUTH_UPDATE_GOLDEN=1 cargo test --test schema"
        );
        assert!(
            jsonschema::meta::is_valid(&doc),
            "{name} is not a valid JSON Schema"
        );
        assert_eq!(
            doc["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn rdb_check_and_keys_output_of_every_dump_validates() {
    let rdb = schema("rdb.schema.json");
    let chk = schema("check.schema.json");
    let row = schema("keys-row.schema.json");
    let all = dumps();
    assert!(all.len() >= 40, "{} dumps", all.len());
    let mut headerless = 0;
    for p in &all {
        let p = p.to_str().unwrap();
        let doc: Value =
            serde_json::from_slice(&run(&["rdb", "-q", "--format", "json", p])).unwrap();
        check(&rdb, &doc, &format!("rdb {p}"));
        // `check` of a file that is no RDB at all still writes its
        // document, with the header's fields null and the one error.
        let out = run(&["check", "-q", "--format", "json", p]);
        let doc: Value = serde_json::from_slice(&out)
            .unwrap_or_else(|e| panic!("check {p}: {e}: {:?}", String::from_utf8_lossy(&out)));
        check(&chk, &doc, &format!("check {p}"));
        if doc["source"]["rdb_version"].is_null() {
            headerless += 1;
            assert_eq!(doc["ok"], false, "check {p}");
            let errors = doc["errors"].as_array().unwrap();
            assert_eq!(errors.len(), 1, "check {p}");
            assert_eq!(errors[0]["file"], p, "check {p}");
            assert_eq!(doc["keyspace"]["keys"], 0, "check {p}");
        }
        // Big dumps: the first rows are enough for the shape.
        let out = run(&["keys", "-q", "--format", "ndjson", p]);
        for (n, line) in out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .take(2_000)
            .enumerate()
        {
            let doc: Value = serde_json::from_slice(line).unwrap();
            check(&row, &doc, &format!("keys {p} row {}", n + 1));
        }
    }
    // The corpus's wrong magic, future version, garbage and zero-length
    // files (when the shared corpus is there).
    if root().join("../shared/corpus/rdb/broken").is_dir() {
        assert!(headerless >= 4, "{headerless} header-less documents");
    }
}

#[test]
fn diff_and_keyspace_merge_output_validates() {
    let diff = schema("diff.schema.json");
    let merge = schema("merge.schema.json");
    let a = "testdata/rdb/debian-7.0.15/all-types.rdb";
    let b = "testdata/rdb/valkey-9.1.2/all-types.rdb";
    let doc: Value =
        serde_json::from_slice(&run(&["diff", "-q", "--format", "json", a, b])).unwrap();
    assert!(!doc["patterns"].as_array().unwrap().is_empty());
    check(&diff, &doc, "diff");
    let dir = std::env::temp_dir().join(format!("redsleuth-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut reports = Vec::new();
    for (k, p) in [a, b].iter().enumerate() {
        let f = dir.join(format!("{k}.json"));
        std::fs::write(&f, run(&["rdb", "-q", "--format", "json", p])).unwrap();
        reports.push(f.display().to_string());
    }
    let doc: Value = serde_json::from_slice(&run(&["merge", &reports[0], &reports[1]])).unwrap();
    check(&merge, &doc, "merge of keyspace reports");
    // A keyspace report without its keyspace is neither kind.
    let mut broken = doc.clone();
    broken.as_object_mut().unwrap().remove("keyspace");
    assert!(!merge.is_valid(&broken));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn logs_of_every_scenario_and_their_merge_validate() {
    let logs = schema("logs.schema.json");
    let merge = schema("merge.schema.json");
    let base = root().join("testdata/logs");
    let mut dirs = Vec::new();
    for s in std::fs::read_dir(&base).unwrap() {
        let s = s.unwrap().path();
        if !s.is_dir() || s.ends_with("archives") {
            continue;
        }
        for v in std::fs::read_dir(&s).unwrap() {
            let v = v.unwrap().path();
            if v.is_dir() {
                dirs.push(v);
            }
        }
    }
    dirs.sort();
    assert!(dirs.len() >= 20, "{} scenarios", dirs.len());
    let tmp = std::env::temp_dir().join(format!("redsleuth-schema-logs-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut parts = Vec::new();
    for (k, d) in dirs.iter().enumerate() {
        let d = d.to_str().unwrap();
        let out = run(&["logs", "-q", "--format", "json", d]);
        let doc: Value = serde_json::from_slice(&out).unwrap();
        check(&logs, &doc, &format!("logs {d}"));
        if d.contains("03-sentinel") || d.contains("04-cluster") {
            for f in std::fs::read_dir(d).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|x| x == "log") {
                    let p = tmp.join(format!("{k}-{}.json", parts.len()));
                    std::fs::write(
                        &p,
                        run(&["logs", "-q", "--format", "json", f.to_str().unwrap()]),
                    )
                    .unwrap();
                    parts.push(p.display().to_string());
                }
            }
        }
    }
    let mut args = vec!["merge"];
    args.extend(parts.iter().map(String::as_str));
    let doc: Value = serde_json::from_slice(&run(&args)).unwrap();
    assert!(!doc["unjoined"].as_array().unwrap().is_empty());
    check(&merge, &doc, "merge of log analyses");
    // An incident of an unknown severity is refused.
    let mut broken = doc.clone();
    broken["incidents"][0]["severity"] = Value::from("dire");
    assert!(!merge.is_valid(&broken));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn report_of_each_scenario_with_a_dump_validates() {
    let report = schema("report.schema.json");
    let mut seen = 0;
    for e in std::fs::read_dir(root().join("testdata/logs")).unwrap() {
        let sc = e.unwrap().path();
        let dump = sc.join("debian-7.0.15.rdb");
        if !dump.is_file() {
            continue;
        }
        let logs = sc.join("debian-7.0.15");
        let args = [
            "report",
            "--rdb",
            dump.to_str().unwrap(),
            "--logs",
            logs.to_str().unwrap(),
            "--format",
            "json",
            "--quiet",
        ];
        let doc: Value = serde_json::from_slice(&run(&args)).unwrap();
        assert!(doc["postmortem"]["verdict"]["root"].is_string());
        check(&report, &doc, &format!("report {}", sc.display()));
        let mut broken = doc.clone();
        broken["postmortem"]["evidence"] = serde_json::json!("none");
        assert!(!report.is_valid(&broken));
        seen += 1;
    }
    assert!(seen >= 2, "{seen} scenarios with a dump");
}

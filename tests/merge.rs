//! `redsleuth merge`: what it refuses (the same dump twice, redacted and
//! plain names side by side) and what `--redact` and `--top` make of the
//! merged report.

use std::path::Path;

use serde_json::Value;

const A: &str = "testdata/rdb/debian-7.0.15/all-types.rdb";
const B: &str = "testdata/rdb/valkey-9.1.2/all-types.rdb";

mod common;
use common::{run, Dir};

impl Dir {
    /// `rdb ARGS --format json` saved as `name`; returns its path.
    fn report(&self, name: &str, args: &[&str]) -> String {
        let (code, out, err) = run(&[&["rdb", "-q", "--format", "json"], args].concat());
        assert_eq!(code, 0, "{err}");
        let p = self.0.join(name);
        std::fs::write(&p, out).unwrap();
        p.display().to_string()
    }
}

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn the_same_dump_twice_is_refused() {
    let d = Dir::new("merge-dup");
    let a = d.report("a.json", &[A]);
    let b = d.report("b.json", &[B]);
    let (code, out, err) = run(&["merge", &a, &a]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty(), "nothing is printed: {out}");
    assert!(err.contains(A) && err.contains("twice"), "{err}");
    // A copy under another name is the same dump too.
    let copy = d.0.join("copy.json");
    std::fs::copy(&a, &copy).unwrap();
    let (code, _, err) = run(&["merge", &a, &b, copy.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("a.json") && err.contains("copy.json"), "{err}");
    // So is merging a merge with one of its parts.
    let (code, ab, _) = run(&["merge", &a, &b]);
    assert_eq!(code, 0);
    let ab_path = d.0.join("ab.json");
    std::fs::write(&ab_path, ab).unwrap();
    let (code, _, err) = run(&["merge", ab_path.to_str().unwrap(), &b]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(B), "{err}");
    // And a report over the same file given twice.
    let twice = d.report("twice.json", &[A, A]);
    let (code, _, err) = run(&["merge", &twice, &b]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("twice in"), "{err}");
}

#[test]
fn one_path_holding_two_different_dumps_is_not_a_duplicate() {
    // Nightly jobs write /backups/dump.rdb over and over: the path alone
    // does not make two reports the same dump; ctime and checksum decide.
    let d = Dir::new("merge-samepath");
    let path = d.0.join("dump.rdb");
    let p = path.to_str().unwrap();
    std::fs::copy(A, &path).unwrap();
    let monday = d.report("monday.json", &[p]);
    std::fs::copy(B, &path).unwrap();
    let tuesday = d.report("tuesday.json", &[p]);
    let (code, out, err) = run(&["merge", &monday, &tuesday]);
    assert_eq!(code, 0, "{err}");
    let m = json(&out);
    assert_eq!(m["keyspace"]["keys"], 185 + 188);
    assert_eq!(m["sources"].as_array().unwrap().len(), 2);
}

#[test]
fn redacted_and_plain_reports_do_not_mix() {
    let d = Dir::new("merge-redact");
    // Tokens line up across runs only under one secret: every redacted run
    // below shares this key file.
    let key = d.0.join("team.key");
    std::fs::write(&key, b"a shared secret of 32 bytes, ok.").unwrap();
    let key = key.display().to_string();
    let red = d.report("redacted.json", &["--redact-key", &key, A]);
    let plain = d.report("plain.json", &[B]);
    assert_eq!(
        json(&std::fs::read_to_string(&red).unwrap())["redacted"],
        true
    );
    assert_eq!(
        json(&std::fs::read_to_string(&plain).unwrap())["redacted"],
        false
    );
    let (code, out, err) = run(&["merge", &red, &plain]);
    assert_eq!(code, 2, "{err}");
    assert!(out.is_empty());
    assert!(
        err.contains("redacted.json") && err.contains("plain.json") && err.contains("--redact"),
        "{err}"
    );

    // `merge --redact` redacts the plain one: the result is what one
    // `rdb --redact` over both dumps writes, token for token.
    let (code, out, err) = run(&["merge", "--redact-key", &key, &red, &plain]);
    assert_eq!(code, 0, "{err}");
    let merged = json(&out);
    let (_, whole, _) = run(&["rdb", "-q", "--redact-key", &key, "--format", "json", A, B]);
    let whole = json(&whole);
    for field in [
        "keyspace",
        "patterns",
        "types",
        "top_keys",
        "top_keys_by_elements",
        "big_hashes",
        "findings",
        "redacted",
    ] {
        assert_eq!(merged[field], whole[field], "{field}");
    }
    // No plain key name is left anywhere in any format.
    let (_, md, _) = run(&["merge", "--redact", "--format", "markdown", &red, &plain]);
    let (_, plain_json, _) = run(&["merge", &plain]);
    let names: Vec<String> = json(&plain_json)["top_keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["key"].as_str().unwrap().to_string())
        .collect();
    assert!(names.len() >= 10);
    for n in &names {
        assert!(!out.contains(&format!("\"{n}\"")), "{n} in JSON");
        assert!(!md.contains(&format!("`{n}`")), "{n} in Markdown");
    }
    // Two redacted reports merge without the flag.
    let red_b = d.report("redacted-b.json", &["--redact-key", &key, B]);
    let (code, out, err) = run(&["merge", &red, &red_b]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json(&out)["top_keys"], whole["top_keys"]);
}

#[test]
fn top_sets_the_merged_lists() {
    let d = Dir::new("merge-top");
    let a = d.report("a.json", &[A]);
    let b = d.report("b.json", &[B]);
    let (code, out, err) = run(&["merge", "--top", "3", &a, &b]);
    assert_eq!(code, 0, "{err}");
    let m = json(&out);
    let (_, whole, _) = run(&["rdb", "-q", "--format", "json", "--top", "3", A, B]);
    let whole = json(&whole);
    assert_eq!(m["top"], 3);
    assert_eq!(m["top_keys"].as_array().unwrap().len(), 3);
    for field in [
        "top_keys",
        "top_keys_by_elements",
        "big_hashes",
        "keyspace",
        "patterns",
    ] {
        assert_eq!(m[field], whole[field], "{field}");
    }
    // Text shows three keys per list too.
    let (_, text, _) = run(&["merge", "--top", "3", "--format", "text", &a, &b]);
    let (_, text_whole, _) = run(&["rdb", "-q", "--top", "3", A, B]);
    let strip = |t: &str| {
        t.lines()
            .filter(|l| !l.contains(".rdb"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip(&text), strip(&text_whole));
}

#[test]
fn unreadable_and_foreign_json_name_the_file() {
    let d = Dir::new("merge-bad");
    let empty = d.0.join("empty.json");
    std::fs::write(&empty, "").unwrap();
    let other = d.0.join("other.json");
    std::fs::write(&other, "{\"hello\": 1}").unwrap();
    let broken = d.0.join("broken.json");
    std::fs::write(&broken, "{\n\"keyspace\": ").unwrap();
    for (p, needle) in [
        (&empty, "empty file"),
        (&other, "not a report"),
        (&broken, "line 2"),
    ] {
        let (code, _, err) = run(&["merge", p.to_str().unwrap()]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(Path::new(p).file_name().unwrap().to_str().unwrap())
                && err.contains(needle),
            "{err}"
        );
    }
}

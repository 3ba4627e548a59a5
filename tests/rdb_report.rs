//! The keyspace report end to end: patterns on the incident dumps match the
//! per-prefix aggregates the live server produced, output does not depend on
//! `--threads`, and merging per-shard JSON equals one run over all shards.

use std::path::{Path, PathBuf};

use redsleuth::analyze::Summary;
use redsleuth::commands::report::{analyze, rules, Options};
use redsleuth::memory::Allocator;
use redsleuth::rdb::RdbFile;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn summary(path: &Path, threads: usize, allocator: Allocator) -> Summary {
    summary_with(path, threads, allocator, false)
}

fn summary_with(path: &Path, threads: usize, allocator: Allocator, redact: bool) -> Summary {
    let data = std::fs::read(path).unwrap();
    let file = RdbFile::parse(&data).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    let opts = Options {
        top: 10,
        redact,
        model: None,
        allocator,
        cluster: false,
    };
    analyze(
        &file,
        &path.display().to_string(),
        &pool,
        redsleuth::rdb::scan::Walk::salvage(),
        &opts,
        &|_| {},
    )
}

fn json(s: &Summary) -> Value {
    s.to_json(&rules(s))
}

#[test]
fn incident_patterns_match_the_server_prefix_aggregates() {
    let dir = root().join("../shared/corpus/rdb");
    let mut seen = 0;
    for fam in std::fs::read_dir(&dir).into_iter().flatten() {
        let fam = fam.unwrap().path();
        let truth = fam.join("incident-webapp.truth.json");
        if !truth.exists() {
            continue;
        }
        seen += 1;
        let t: Value = serde_json::from_slice(&std::fs::read(&truth).unwrap()).unwrap();
        let s = summary(&fam.join("incident-webapp.rdb"), 2, Allocator::Jemalloc);
        let ours = s.patterns.patterns();
        let want = t["dbs"]["0"]["prefix_aggregates"].as_object().unwrap();
        let mut names: Vec<&str> = ours.iter().map(|p| p.0.as_str()).collect();
        names.sort();
        let mut expected: Vec<&str> = want.keys().map(String::as_str).collect();
        expected.sort();
        assert_eq!(names, expected, "{}", fam.display());
        for (p, st) in &ours {
            let w = &want[p.as_str()];
            assert_eq!(
                st.keys,
                w["keys"].as_u64().unwrap(),
                "{}: {p} keys",
                fam.display()
            );
            assert_eq!(
                st.keys_with_ttl,
                w["with_ttl"].as_u64().unwrap(),
                "{}: {p} ttl",
                fam.display()
            );
        }
        // The classic incident: the feed pattern without TTL is flagged.
        let f = rules(&s);
        assert!(
            f.iter()
                .any(|x| x.id == "pattern-without-ttl" && x.summary.contains("user:*:feed")),
            "{}: {f:?}",
            fam.display()
        );
    }
    if dir.is_dir() {
        assert!(seen >= 6, "only {seen} incident dumps found");
    }
}

/// Key names in the shapes applications use (framework prefixes, random
/// tails, cluster hash tags, names in key positions) come out as the
/// patterns a person would write, with every key counted once
/// (testdata/rdb/naming/make.py wrote both the dump and the expectation).
#[test]
fn key_names_of_many_shapes_read_as_a_person_would() {
    let dir = root().join("testdata/rdb/naming");
    let want: Value =
        serde_json::from_slice(&std::fs::read(dir.join("key-naming.expected.json")).unwrap())
            .unwrap();
    let s = summary(&dir.join("key-naming.rdb"), 2, Allocator::Jemalloc);
    let ours: serde_json::Map<String, Value> = s
        .patterns
        .patterns()
        .into_iter()
        .map(|(p, st)| (p, Value::from(st.keys)))
        .collect();
    assert_eq!(Value::Object(ours), want);
    let total: u64 = want
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(s.total.keys, total);
}

/// `--redact` keeps every pattern's shape and counts but no name: the
/// redacted report has the same patterns key for key, and none of the
/// words of the key names.
#[test]
fn redaction_keeps_the_pattern_structure() {
    let p = root().join("testdata/rdb/naming/key-naming.rdb");
    let counts = |s: &Summary| {
        let mut v: Vec<(u64, u64)> = s
            .patterns
            .patterns()
            .iter()
            .map(|(_, st)| (st.keys, st.memory_bytes))
            .collect();
        v.sort();
        v
    };
    let plain = summary(&p, 2, Allocator::Jemalloc);
    let redacted = summary_with(&p, 2, Allocator::Jemalloc, true);
    assert_eq!(counts(&plain), counts(&redacted));
    let text = json(&redacted).to_string();
    // Whole words: a pseudonym is `w` and eight random letters of a–p,
    // which may happen to contain `geo` but is never the word itself.
    let words: std::collections::BTreeSet<&str> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .collect();
    for word in [
        "sess", "spring", "celery", "tenant", "orders", "geo", "queue", "inbox", "cart",
    ] {
        assert!(!words.contains(word), "redacted report contains {word:?}");
        assert!(
            json(&plain).to_string().contains(word),
            "{word:?} is not in the plain report"
        );
    }
}

#[test]
fn threads_do_not_change_the_report() {
    for f in [
        "naming/key-naming.rdb",
        "debian-7.0.15/all-types.rdb",
        "valkey-9.1.2/all-types.rdb",
        "redis-8.8-unstable/new-types.rdb",
    ] {
        let p = root().join("testdata/rdb").join(f);
        assert_eq!(
            json(&summary(&p, 1, Allocator::Jemalloc)),
            json(&summary(&p, 4, Allocator::Jemalloc)),
            "{f}"
        );
    }
}

#[test]
fn merging_shard_reports_equals_one_run() {
    let a = root().join("testdata/rdb/debian-7.0.15/all-types.rdb");
    let b = root().join("testdata/rdb/redis-8.0-m01/hashes.rdb");
    assert_eq!(merge_equals_whole(&a, &b), 185 + 5 + 3);
    // Folded and collapsed patterns merge the same way.
    let n = root().join("testdata/rdb/naming/key-naming.rdb");
    merge_equals_whole(&n, &a);
    merge_equals_whole(&a, &n);
}

/// Asserts that merging the two JSON reports equals one run over both
/// files; returns the key count.
fn merge_equals_whole(a: &Path, b: &Path) -> u64 {
    let (sa, sb) = (
        summary(a, 2, Allocator::Jemalloc),
        summary(b, 2, Allocator::Jemalloc),
    );
    let mut whole = sa.clone();
    whole.merge(&sb);
    let mut merged = Summary::from_json(&json(&sa)).unwrap();
    merged.merge(&Summary::from_json(&json(&sb)).unwrap());
    let (w, m) = (json(&whole), json(&merged));
    for field in [
        "keyspace",
        "types",
        "patterns",
        "top_keys",
        "ttl",
        "big_hashes",
        "findings",
        "sources",
    ] {
        assert_eq!(w[field], m[field], "{field}");
    }
    assert_eq!(w["keyspace"]["keys"], sa.total.keys + sb.total.keys);
    sa.total.keys + sb.total.keys
}

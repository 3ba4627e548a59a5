//! Merging log analyses (`logs --format json`) of separate nodes or days.
//!
//! Each input was analysed on its own, so what one process can see alone
//! combines exactly: files, line and event counters, per-node lifetimes
//! (a process cut in two by a day boundary is joined again), events, and
//! the incidents whose evidence all lay in one input. What it cannot see is
//! a failure chain whose evidence was split between inputs: a failover told
//! by a sentinel's log in one input and the primary's in another comes out
//! of each as a fragment. Such fragments are not passed off as incidents;
//! they are listed under `unjoined`, grouped by time, with the inputs they
//! came from, so that a reader knows which chains need the nodes analysed
//! together.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::logs::{most_severe, parse_time, rotation_key, EVENTS_LISTED};

/// How far around its anchor a failure-chain rule reads (the widest window
/// of `logs::chains` is an hour): evidence of another input closer than this
/// to an incident may belong to it.
const REACH_MS: i64 = 3_600_000;

/// Incident kinds whose rules read the events of other nodes than the ones
/// the incident names (sentinels about a primary, replicas about their
/// primary, cluster peers, the host's kernel log about a server), or that a
/// failover on another node makes more severe. Analysed apart from those
/// nodes, they come out partial or not at all.
const CROSS_NODE: &[&str] = &[
    "blocked_event_loop",
    "cluster_down",
    "cluster_failover",
    "full_resync",
    "full_resync_loop",
    "oom_kill",
    "replication_break",
    "sentinel_failover",
    "sentinel_failover_failed",
];

/// The most unparsed-line samples a log analysis lists (as `logs` does).
const UNPARSED_KEPT: usize = 100;

/// One input: the name shown in messages and its document.
struct Input {
    name: String,
    doc: Map<String, Value>,
    /// Disjoint, sorted time intervals (ms) during which the input's logs
    /// say something: process lifetimes and events.
    active: Vec<(i64, i64)>,
}

fn ms(v: &Value) -> Option<i64> {
    v.as_str().and_then(parse_time)
}

fn arr<'a>(doc: &'a Map<String, Value>, k: &str) -> &'a [Value] {
    doc.get(k)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Order of incident and event severities (`info` lowest).
pub fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// A span `(from, to)` of an incident: either end stands for the other when
/// missing; `None` when it has no time at all.
fn span(i: &Value) -> Option<(i64, i64)> {
    let a = ms(&i["start"]);
    let b = ms(&i["end"]);
    match (a.or(b), b.or(a)) {
        (Some(a), Some(b)) => Some((a.min(b), a.max(b))),
        _ => None,
    }
}

/// Checks that `v` has the fields this merge reads, so that a document of
/// another shape is refused with its name rather than merged wrongly.
fn check_shape(name: &str, v: &Value) -> Result<(), String> {
    for (k, array) in [
        ("files", true),
        ("nodes", true),
        ("incidents", true),
        ("events", true),
        ("metrics", false),
        ("lines", false),
    ] {
        let ok = match v.get(k) {
            Some(x) if array => x.is_array(),
            Some(x) => x.is_object() || x.is_u64(),
            None => false,
        };
        if !ok {
            return Err(format!(
                "{name}: a log report without the `{k}` field `redsleuth logs --format json` writes"
            ));
        }
    }
    for f in arr(v.as_object().unwrap_or(&Map::new()), "files") {
        if f.get("path").and_then(Value::as_str).is_none() {
            return Err(format!("{name}: a file of `files` has no `path`"));
        }
    }
    Ok(())
}

fn activity(doc: &Map<String, Value>) -> Vec<(i64, i64)> {
    let mut v: Vec<(i64, i64)> = Vec::new();
    for n in arr(doc, "nodes") {
        for lt in n["lifetimes"].as_array().map_or(&[][..], Vec::as_slice) {
            let a = ms(&lt["start"]).or_else(|| ms(&lt["ready"]));
            let b = ms(&lt["last"]);
            if let (Some(a), Some(b)) = (a.or(b), b.or(a)) {
                v.push((a.min(b), a.max(b)));
            }
        }
    }
    for e in arr(doc, "events") {
        if let Some(t) = ms(&e["ts"]) {
            v.push((t, t));
        }
    }
    for u in arr(doc, "unjoined") {
        if let Some(s) = span(u) {
            v.push(s);
        }
    }
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (a, b) in v {
        match out.last_mut() {
            Some(l) if a <= l.1 => l.1 = l.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// Whether the disjoint sorted intervals touch `[a, b]`.
fn touches(active: &[(i64, i64)], a: i64, b: i64) -> bool {
    let k = active.partition_point(|x| x.1 < a);
    active.get(k).is_some_and(|x| x.0 <= b)
}

/// The node identity the whole analysis would use: the rotation set of the
/// node's first file and its port.
fn node_key(n: &Value) -> (String, Option<u64>) {
    let set = n["files"]
        .as_array()
        .and_then(|f| f.first())
        .and_then(Value::as_str)
        .map_or_else(String::new, |p| rotation_key(Path::new(p)).0);
    (set, n["port"].as_u64())
}

fn set_name(set: &str) -> String {
    Path::new(set)
        .file_name()
        .map_or_else(|| set.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Merges log analyses (`(name shown in messages, document)`), or says why
/// the result would be wrong.
pub fn merge(inputs: Vec<(String, Value)>) -> Result<Value, String> {
    let mut ins: Vec<Input> = Vec::new();
    for (name, v) in inputs {
        check_shape(&name, &v)?;
        let Value::Object(doc) = v else {
            return Err(format!("{name}: not a JSON object"));
        };
        let active = activity(&doc);
        ins.push(Input { name, doc, active });
    }
    refuse_duplicates(&ins)?;

    // Files in the order one analysis of them all would list them:
    // rotation sets by name, oldest file of a set first.
    let mut files: Vec<(String, i64, usize, Value)> = Vec::new();
    for (k, inp) in ins.iter().enumerate() {
        for f in arr(&inp.doc, "files") {
            let p = f["path"].as_str().unwrap_or_default();
            let (set, rank) = rotation_key(Path::new(p));
            files.push((set, rank, k, f.clone()));
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let file_index: BTreeMap<String, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.3["path"].as_str().unwrap_or_default().to_string(), i))
        .collect();
    let fidx = |p: &Value| {
        p.as_str()
            .and_then(|p| file_index.get(p).copied())
            .unwrap_or(usize::MAX)
    };

    // Node names: `:PORT` when the port belongs to one rotation set across
    // every input, `SET:PORT` when servers of several sets share it (as one
    // analysis of them all names them).
    let mut port_sets: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for inp in &ins {
        for n in arr(&inp.doc, "nodes") {
            if let (set, Some(p)) = node_key(n) {
                let v = port_sets.entry(p).or_default();
                if !v.contains(&set) {
                    v.push(set);
                }
            }
        }
    }
    let new_name = |n: &Value| -> String {
        let old = n["name"].as_str().unwrap_or("?").to_string();
        match node_key(n) {
            (set, Some(p)) if port_sets.get(&p).is_some_and(|v| v.len() > 1) => {
                format!("{}:{p}", set_name(&set))
            }
            (_, Some(p)) => format!(":{p}"),
            _ => old,
        }
    };
    let renames: Vec<BTreeMap<String, String>> = ins
        .iter()
        .map(|inp| {
            arr(&inp.doc, "nodes")
                .iter()
                .map(|n| (n["name"].as_str().unwrap_or("?").to_string(), new_name(n)))
                .collect()
        })
        .collect();
    let rename = |k: usize, v: &Value| -> Value {
        match v.as_str() {
            Some(s) => json!(renames[k].get(s).map_or(s, String::as_str)),
            None => v.clone(),
        }
    };

    let (nodes, cuts) = merge_nodes(&ins, &renames, &fidx);

    // Events, in (time, file, line) order as one analysis sorts them.
    let mut events: Vec<Value> = Vec::new();
    for (k, inp) in ins.iter().enumerate() {
        for e in arr(&inp.doc, "events") {
            let mut e = e.clone();
            e["node"] = rename(k, &e["node"]);
            events.push(e);
        }
    }
    events.sort_by_key(|e| {
        (
            ms(&e["ts"]).unwrap_or(i64::MIN),
            fidx(&e["file"]),
            e["line"].as_u64().unwrap_or(0),
        )
    });
    let gathered = events.len();
    let trimmed = ins.iter().any(|i| {
        let m = &i.doc["metrics"];
        m["events_listed"].as_u64() < m["events_kept"].as_u64()
    });
    if trimmed || events.len() > EVENTS_LISTED {
        events.retain(|e| severity_rank(e["severity"].as_str().unwrap_or("")) >= 2);
        if events.len() > EVENTS_LISTED {
            let ranks: Vec<u8> = events
                .iter()
                .map(|e| severity_rank(e["severity"].as_str().unwrap_or("")))
                .collect();
            let mut keep = vec![false; events.len()];
            for k in most_severe(&ranks, EVENTS_LISTED) {
                keep[k] = true;
            }
            let mut it = keep.into_iter();
            events.retain(|_| it.next().unwrap_or(false));
        }
    }

    // Incidents: fragments of chains split between inputs apart from the
    // rest.
    let mut incidents: Vec<Value> = Vec::new();
    let mut fragments: Vec<Value> = Vec::new();
    for (k, inp) in ins.iter().enumerate() {
        for i in arr(&inp.doc, "incidents") {
            let mut i = i.clone();
            if let Some(ns) = i["nodes"].as_array() {
                i["nodes"] = Value::Array(ns.iter().map(|n| rename(k, n)).collect());
            }
            if let Some(text) = i["summary"].as_str() {
                i["summary"] = json!(rename_in_text(text, &renames[k]));
            }
            // Claims are the summary's sentences: renamed the same way.
            if let Some(claims) = i["claims"].as_array_mut() {
                for c in claims {
                    if let Some(text) = c["text"].as_str() {
                        c["text"] = json!(rename_in_text(text, &renames[k]));
                    }
                }
            }
            let cross = CROSS_NODE.contains(&i["kind"].as_str().unwrap_or(""));
            let near_other = span(&i).is_none_or(|(a, b)| {
                ins.iter().enumerate().any(|(j, o)| {
                    j != k
                        && touches(
                            &o.active,
                            a.saturating_sub(REACH_MS),
                            b.saturating_add(REACH_MS),
                        )
                })
            });
            // A node's own chain is cut only where the node's logs go on in
            // another input.
            let own_cut = span(&i).is_some_and(|(a, b)| {
                i["nodes"].as_array().is_some_and(|ns| {
                    ns.iter().any(|n| {
                        cuts.iter().any(|c| {
                            c.node == n.as_str().unwrap_or("")
                                && c.from.saturating_sub(REACH_MS) <= b
                                && a <= c.to.saturating_add(REACH_MS)
                        })
                    })
                })
            });
            if (cross && near_other) || own_cut {
                i["input"] = json!(inp.name);
                fragments.push(i);
            } else {
                incidents.push(i);
            }
        }
        // Fragments an earlier merge could not join stay fragments.
        for u in arr(&inp.doc, "unjoined") {
            for f in u["fragments"].as_array().map_or(&[][..], Vec::as_slice) {
                let mut f = f.clone();
                if let Some(ns) = f["nodes"].as_array() {
                    f["nodes"] = Value::Array(ns.iter().map(|n| rename(k, n)).collect());
                }
                fragments.push(f);
            }
        }
    }
    incidents.sort_by(|a, b| {
        let key = |i: &Value| ms(&i["start"]).unwrap_or(i64::MIN);
        key(a)
            .cmp(&key(b))
            .then_with(|| a["kind"].as_str().cmp(&b["kind"].as_str()))
    });
    let mut unjoined = group_fragments(fragments);
    for c in &cuts {
        let covered = unjoined.iter().any(|u| {
            u["nodes"]
                .as_array()
                .is_some_and(|ns| ns.iter().any(|n| n == c.node.as_str()))
                && span(u).is_some_and(|(a, b)| a <= c.to && c.from <= b)
        });
        if !covered {
            unjoined.push(json!({
                "start": c.from_s, "end": c.to_s, "kinds": [], "nodes": [c.node],
                "inputs": [c.before, c.after], "fragments": [],
                "reason": format!(
                    "the logs of {} end in {} at {} and go on in {} at {}: a chain across the gap (a restart, a failure) needs both in one analysis",
                    c.node, c.before, c.from_s, c.after, c.to_s
                ),
            }));
        }
    }
    for (k, inp) in ins.iter().enumerate() {
        for u in arr(&inp.doc, "unjoined") {
            if u["fragments"].as_array().is_some_and(Vec::is_empty) {
                let mut u = u.clone();
                if let Some(ns) = u["nodes"].as_array() {
                    u["nodes"] = Value::Array(ns.iter().map(|n| rename(k, n)).collect());
                }
                unjoined.push(u);
            }
        }
    }
    unjoined.sort_by_key(|u| span(u).map_or(i64::MIN, |s| s.0));

    let mut unparsed: Vec<Value> = ins
        .iter()
        .flat_map(|i| arr(&i.doc, "unparsed_samples").iter().cloned())
        .collect();
    unparsed.sort_by_key(|u| (fidx(&u["file"]), u["line"].as_u64().unwrap_or(0)));
    unparsed.truncate(UNPARSED_KEPT);
    let errors: Vec<Value> = ins
        .iter()
        .flat_map(|i| arr(&i.doc, "errors").iter().cloned())
        .collect();
    let lines: u64 = ins
        .iter()
        .map(|i| i.doc["lines"].as_u64().unwrap_or(0))
        .sum();
    let metrics = merge_metrics(&ins, &nodes, events.len(), gathered - events.len());
    let tool = ins.first().map_or(Value::Null, |i| i.doc["tool"].clone());
    let mut out = Map::new();
    // Fields this merge does not know (a later version's): kept when every
    // input agrees on them.
    if let Some(first) = ins.first() {
        for (key, v) in &first.doc {
            if ins.iter().all(|o| o.doc.get(key) == Some(v)) {
                out.insert(key.clone(), v.clone());
            }
        }
    }
    out.insert("errors".into(), Value::Array(errors));
    out.insert("events".into(), Value::Array(events));
    out.insert(
        "files".into(),
        Value::Array(files.into_iter().map(|f| f.3).collect()),
    );
    out.insert("incidents".into(), Value::Array(incidents));
    out.insert("lines".into(), json!(lines));
    out.insert("metrics".into(), metrics);
    out.insert("nodes".into(), Value::Array(nodes));
    out.insert("tool".into(), tool);
    out.insert("unjoined".into(), Value::Array(unjoined));
    out.insert("unparsed_samples".into(), Value::Array(unparsed));
    Ok(Value::Object(out))
}

/// `text` with every node name of `names` that is renamed replaced: a name
/// counts only as a whole word (`:6379` in `node :6379 restarted`, not in
/// `10.0.0.1:6379`).
fn rename_in_text(text: &str, names: &BTreeMap<String, String>) -> String {
    let mut out = text.to_string();
    for (old, new) in names {
        if old == new || old.is_empty() {
            continue;
        }
        let mut res = String::with_capacity(out.len());
        let mut rest = out.as_str();
        let mut prev: Option<char> = None;
        while let Some(at) = rest.find(old.as_str()) {
            let before = rest[..at].chars().next_back().or(prev);
            let after = rest[at + old.len()..].chars().next();
            let word = |c: Option<char>| {
                c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '.' || c == ':')
            };
            res.push_str(&rest[..at]);
            if word(before) || after.is_some_and(|c| c.is_ascii_digit()) {
                res.push_str(old);
            } else {
                res.push_str(new);
            }
            prev = old.chars().next_back();
            rest = &rest[at + old.len()..];
        }
        res.push_str(rest);
        out = res;
    }
    out
}

/// The same log file in two inputs would count its lines twice.
fn refuse_duplicates(ins: &[Input]) -> Result<(), String> {
    let mut seen: BTreeMap<(String, u64, u64), &str> = BTreeMap::new();
    for inp in ins {
        for f in arr(&inp.doc, "files") {
            let key = (
                f["path"].as_str().unwrap_or_default().to_string(),
                f["bytes"].as_u64().unwrap_or(0),
                f["lines"].as_u64().unwrap_or(0),
            );
            if let Some(first) = seen.get(&key) {
                let what = if *first == inp.name {
                    format!("twice in {}", inp.name)
                } else {
                    format!("in both {first} and {}", inp.name)
                };
                return Err(format!(
                    "log file {} ({} bytes) is {what}: merging would count its lines twice",
                    key.0, key.1
                ));
            }
            seen.insert(key, &inp.name);
        }
    }
    Ok(())
}

/// Where a node's logs stop in one input and go on in another.
struct Cut {
    node: String,
    before: String,
    after: String,
    from: i64,
    to: i64,
    from_s: Value,
    to_s: Value,
}

/// Merges the nodes of every input: a node seen in several (one per day)
/// becomes one, its lifetimes in time order, a process that ran across the
/// cut joined into one lifetime.
fn merge_nodes(
    ins: &[Input],
    renames: &[BTreeMap<String, String>],
    fidx: &dyn Fn(&Value) -> usize,
) -> (Vec<Value>, Vec<Cut>) {
    struct Acc {
        order: (usize, usize, usize),
        node: Map<String, Value>,
        /// (input, lifetime) in time order.
        lifetimes: Vec<(usize, Value)>,
    }
    let mut acc: BTreeMap<String, Acc> = BTreeMap::new();
    for (k, inp) in ins.iter().enumerate() {
        for (pos, n) in arr(&inp.doc, "nodes").iter().enumerate() {
            let old = n["name"].as_str().unwrap_or("?");
            let name = renames[k]
                .get(old)
                .cloned()
                .unwrap_or_else(|| old.to_string());
            let first_file = n["files"].as_array().map_or(usize::MAX, |f| {
                f.iter().map(fidx).min().unwrap_or(usize::MAX)
            });
            let a = acc.entry(name.clone()).or_insert_with(|| Acc {
                order: (first_file, k, pos),
                node: Map::new(),
                lifetimes: Vec::new(),
            });
            a.order = a.order.min((first_file, k, pos));
            let Some(obj) = n.as_object() else { continue };
            for (key, v) in obj {
                match key.as_str() {
                    "lifetimes" => {}
                    "lifetimes_omitted" => {
                        let sum = a.node.get(key).and_then(Value::as_u64).unwrap_or(0)
                            + v.as_u64().unwrap_or(0);
                        a.node.insert(key.clone(), json!(sum));
                    }
                    "name" => {
                        a.node.insert("name".into(), json!(name));
                    }
                    "files" | "cluster_ids" => {
                        let into = a
                            .node
                            .entry(key.clone())
                            .or_insert_with(|| Value::Array(Vec::new()));
                        if let (Value::Array(into), Some(from)) = (into, v.as_array()) {
                            for x in from {
                                if !into.contains(x) {
                                    into.push(x.clone());
                                }
                            }
                        }
                    }
                    // The later input's mode and version, as one analysis
                    // keeps the last lifetime's.
                    _ => {
                        if !v.is_null() || !a.node.contains_key(key) {
                            a.node.insert(key.clone(), v.clone());
                        }
                    }
                }
            }
            for lt in n["lifetimes"].as_array().map_or(&[][..], Vec::as_slice) {
                a.lifetimes.push((k, lt.clone()));
            }
        }
    }
    let mut cuts = Vec::new();
    let mut nodes: Vec<(usize, usize, usize, Value)> = Vec::new();
    for (name, mut a) in acc {
        if let Some(Value::Array(files)) = a.node.get_mut("files") {
            files.sort_by_key(|f| fidx(f));
        }
        a.lifetimes.sort_by_key(|(k, lt)| {
            (
                ms(&lt["start"])
                    .or_else(|| ms(&lt["last"]))
                    .unwrap_or(i64::MIN),
                *k,
            )
        });
        let mut lts: Vec<(usize, Value)> = Vec::new();
        for (k, lt) in a.lifetimes {
            if let Some((pk, prev)) = lts.last_mut() {
                if *pk != k {
                    cuts.push(Cut {
                        node: name.clone(),
                        before: ins[*pk].name.clone(),
                        after: ins[k].name.clone(),
                        from: ms(&prev["last"]).unwrap_or(i64::MIN),
                        to: ms(&lt["start"]).unwrap_or(i64::MAX),
                        from_s: prev["last"].clone(),
                        to_s: lt["start"].clone(),
                    });
                    if prev["end"] == "running" && prev["pid"] == lt["pid"] && !lt["pid"].is_null()
                    {
                        // One process whose log went on in the next input.
                        for key in ["last", "end"] {
                            prev[key] = lt[key].clone();
                        }
                        for key in ["ready", "version", "keys_loaded", "load_seconds"] {
                            if prev[key].is_null() {
                                prev[key] = lt[key].clone();
                            }
                        }
                        *pk = k;
                        continue;
                    }
                }
                if prev["end"] == "running" {
                    // A process that another started after: killed, as one
                    // analysis would class it without shutdown lines.
                    prev["end"] = json!("unknown-kill");
                }
            }
            lts.push((k, lt));
        }
        a.node.insert(
            "lifetimes".into(),
            Value::Array(lts.into_iter().map(|x| x.1).collect()),
        );
        // Inputs written before the limit existed listed every lifetime.
        a.node
            .entry("lifetimes_omitted")
            .or_insert_with(|| json!(0));
        nodes.push((a.order.0, a.order.1, a.order.2, Value::Object(a.node)));
    }
    nodes.sort_by_key(|n| (n.0, n.1, n.2));
    (nodes.into_iter().map(|n| n.3).collect(), cuts)
}

/// Groups fragments whose spans come within [`REACH_MS`] of each other into
/// one unjoined chain each.
fn group_fragments(mut frags: Vec<Value>) -> Vec<Value> {
    frags.sort_by_key(|f| span(f).map_or(i64::MIN, |s| s.0));
    type Group = (Option<(i64, i64)>, Vec<Value>);
    let mut groups: Vec<Group> = Vec::new();
    for f in frags {
        let s = span(&f);
        match (groups.last_mut(), s) {
            (Some((Some(g), v)), Some((a, b))) if a <= g.1.saturating_add(REACH_MS) => {
                g.1 = g.1.max(b);
                v.push(f);
            }
            (Some((None, v)), None) => v.push(f),
            _ => groups.push((s, vec![f])),
        }
    }
    groups
        .into_iter()
        .map(|(_, v)| {
            let mut kinds: Vec<&str> = v.iter().filter_map(|f| f["kind"].as_str()).collect();
            kinds.sort_unstable();
            kinds.dedup();
            let mut nodes: Vec<&str> = v
                .iter()
                .flat_map(|f| f["nodes"].as_array().into_iter().flatten())
                .filter_map(Value::as_str)
                .collect();
            nodes.sort_unstable();
            nodes.dedup();
            let mut inputs: Vec<&str> = v.iter().filter_map(|f| f["input"].as_str()).collect();
            inputs.sort_unstable();
            inputs.dedup();
            let first = |k: &str| {
                v.iter()
                    .filter_map(|f| f[k].as_str().map(|x| (ms(&f[k]), x)))
                    .collect::<Vec<_>>()
            };
            let start = first("start")
                .into_iter()
                .chain(first("end"))
                .min_by_key(|x| x.0)
                .map(|x| x.1.to_string());
            let end = first("end")
                .into_iter()
                .chain(first("start"))
                .max_by_key(|x| x.0)
                .map(|x| x.1.to_string());
            let reason = format!(
                "{} analysed apart ({}): each saw part of the chain, so its evidence could not be joined; analyse those nodes' logs together",
                if inputs.len() == 1 { "the input was" } else { "the inputs were" },
                inputs.join(", ")
            );
            json!({"start": start, "end": end, "kinds": kinds, "nodes": nodes,
                   "inputs": inputs, "reason": reason, "fragments": v})
        })
        .collect()
}

/// Counters summed, `nodes` and `lifetimes` counted again over the merged
/// nodes (a node in several inputs counts once), `*_max` the largest.
/// `incidents` stays the inputs' sum: each counted what it found alone,
/// fragments of split chains included. `events_omitted` adds the events
/// the merged list left out (`dropped`) to those the inputs left out.
fn merge_metrics(ins: &[Input], nodes: &[Value], listed: usize, dropped: usize) -> Value {
    let mut m: Map<String, Value> = Map::new();
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for inp in ins {
        let Some(obj) = inp.doc["metrics"].as_object() else {
            continue;
        };
        for (k, v) in obj {
            if k == "line_counts" {
                for (kind, c) in v.as_object().into_iter().flatten() {
                    *counts.entry(kind.clone()).or_default() += c.as_u64().unwrap_or(0);
                }
                continue;
            }
            let e = m.entry(k.clone()).or_insert(Value::Null);
            *e = match (&*e, v) {
                (Value::Null, v) => v.clone(),
                (a, b) if k.ends_with("_max") => {
                    json!(a.as_f64().unwrap_or(0.0).max(b.as_f64().unwrap_or(0.0)))
                }
                (a, b) if a.is_u64() && b.is_u64() => {
                    json!(a.as_u64().unwrap_or(0) + b.as_u64().unwrap_or(0))
                }
                (a, b) if a.is_number() && b.is_number() => {
                    json!(a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0))
                }
                (a, _) => a.clone(),
            };
        }
    }
    let servers = nodes.iter().filter(|n| n["mode"] != "kernel").count();
    let lifetimes: u64 = nodes
        .iter()
        .map(|n| {
            n["lifetimes"].as_array().map_or(0, Vec::len) as u64
                + n["lifetimes_omitted"].as_u64().unwrap_or(0)
        })
        .sum();
    let omitted = m.get("events_omitted").and_then(Value::as_u64).unwrap_or(0);
    m.insert("nodes".into(), json!(servers));
    m.insert("lifetimes".into(), json!(lifetimes));
    m.insert("events_listed".into(), json!(listed));
    m.insert("events_omitted".into(), json!(omitted + dropped as u64));
    m.insert("timeline_limit".into(), json!(EVENTS_LISTED));
    m.insert("line_counts".into(), json!(counts));
    Value::Object(m)
}

/// The merged log analysis as Markdown: counts, nodes, the incidents, and
/// the chains that could not be joined.
pub fn markdown(v: &Value, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let s = |x: &Value| x.as_str().unwrap_or("?").to_string();
    let m = &v["metrics"];
    writeln!(w, "## Log analysis (merged)\n")?;
    writeln!(
        w,
        "{} file(s), {} lines, {} node(s), {} process lifetime(s).\n",
        v["files"].as_array().map_or(0, Vec::len),
        v["lines"],
        m["nodes"],
        m["lifetimes"]
    )?;
    writeln!(w, "| node | mode | version | lifetimes | how each ended |")?;
    writeln!(w, "|---|---|---|---|---|")?;
    for n in v["nodes"].as_array().into_iter().flatten() {
        let lts = n["lifetimes"].as_array().map_or(&[][..], Vec::as_slice);
        let ends: Vec<String> = lts.iter().map(|l| s(&l["end"])).collect();
        writeln!(
            w,
            "| `{}` | {} | {} | {} | {} |",
            s(&n["name"]),
            s(&n["mode"]),
            s(&n["version"]),
            lts.len(),
            ends.join(", ")
        )?;
    }
    writeln!(w, "\n### Incidents\n")?;
    let incidents = v["incidents"].as_array().map_or(&[][..], Vec::as_slice);
    if incidents.is_empty() {
        writeln!(w, "No incidents.")?;
    }
    for (k, i) in incidents.iter().enumerate() {
        let nodes: Vec<String> = i["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|n| format!("`{}`", s(n)))
            .collect();
        writeln!(
            w,
            "{}. **{}** ({}, {} → {}, {}): {}",
            k + 1,
            s(&i["kind"]),
            s(&i["severity"]),
            s(&i["start"]),
            s(&i["end"]),
            nodes.join(", "),
            s(&i["summary"])
        )?;
    }
    let unjoined = v["unjoined"].as_array().map_or(&[][..], Vec::as_slice);
    if !unjoined.is_empty() {
        writeln!(w, "\n### Chains that could not be joined\n")?;
        for u in unjoined {
            let kinds: Vec<String> = u["kinds"].as_array().into_iter().flatten().map(s).collect();
            writeln!(
                w,
                "- {} → {} ({}): {}",
                s(&u["start"]),
                s(&u["end"]),
                if kinds.is_empty() {
                    "no fragment".to_string()
                } else {
                    kinds.join(", ")
                },
                s(&u["reason"])
            )?;
        }
    }
    for e in v["errors"].as_array().into_iter().flatten() {
        writeln!(
            w,
            "\nerror: {}",
            e.as_str().map_or_else(|| e.to_string(), str::to_string)
        )?;
    }
    Ok(())
}

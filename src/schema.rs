//! JSON Schemas (draft 2020-12) of every JSON output, published under
//! `schema/` so that the tools reading redsleuth's reports can check them.
//!
//! The parts that are typed structs (sources, top-N keys, findings, faults,
//! diff changes, `keys` rows) come from the types themselves through
//! `schemars`, so the schema cannot drift from what serde writes; the
//! containers built with `serde_json::json!` are described here by hand.
//! Documents accept fields they do not list at the top level: the JSON
//! contract only ever adds fields.

use serde_json::{json, Map, Value};

use crate::analyze::diff::Change;
use crate::analyze::findings::Finding;
use crate::analyze::summary::SourceInfo;
use crate::analyze::topn::TopKey;
use crate::commands::keys::Row;
use crate::faults::{ReadError, SkippedRange};

const DRAFT: &str = "https://json-schema.org/draft/2020-12/schema";
const BASE: &str = "https://redsleuth.invalid/schema/";

fn uint() -> Value {
    json!({"type": "integer", "minimum": 0})
}

fn opt(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn array(items: Value) -> Value {
    json!({"type": "array", "items": items})
}

/// An object with every listed property required.
fn object(props: &[(&str, Value)]) -> Value {
    let required: Vec<&str> = props.iter().map(|p| p.0).collect();
    let properties: Map<String, Value> = props
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    json!({"type": "object", "required": required, "properties": properties})
}

/// The `$defs` of the typed parts, and a `$ref` to each by name.
struct Defs {
    generator: schemars::SchemaGenerator,
}

impl Defs {
    fn new() -> Defs {
        Defs {
            generator: schemars::generate::SchemaSettings::draft2020_12().into_generator(),
        }
    }
    fn of<T: schemars::JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }
    fn into_defs(mut self) -> Value {
        Value::Object(self.generator.take_definitions(true))
    }
}

fn document(name: &str, title: &str, mut body: Value, defs: Defs) -> Value {
    let mut doc = Map::new();
    doc.insert("$schema".into(), json!(DRAFT));
    doc.insert("$id".into(), json!(format!("{BASE}{name}")));
    doc.insert("title".into(), json!(title));
    if let Some(o) = body.as_object_mut() {
        o.insert("additionalProperties".into(), json!(true));
        doc.append(o);
    }
    let defs = defs.into_defs();
    if defs.as_object().is_some_and(|d| !d.is_empty()) {
        doc.insert("$defs".into(), defs);
    }
    Value::Object(doc)
}

fn tool() -> Value {
    object(&[
        ("name", json!({"const": "redsleuth"})),
        ("version", json!({"type": "string"})),
    ])
}

/// `rdb --format json`, and `merge` of such reports.
fn keyspace_body(d: &mut Defs) -> Value {
    let top_key = d.of::<TopKey>();
    let pattern = object(&[
        ("pattern", json!({"type": "string"})),
        ("keys", uint()),
        ("memory_bytes", uint()),
        ("serialized_bytes", uint()),
        ("keys_with_ttl", uint()),
        ("memory_with_ttl", uint()),
        ("cold_memory_bytes", uint()),
        (
            "ttl_coverage",
            json!({"type": "number", "minimum": 0, "maximum": 1}),
        ),
        (
            "ttl_coverage_bytes",
            json!({"type": "number", "minimum": 0, "maximum": 1}),
        ),
        ("share_of_memory", json!({"type": "number", "minimum": 0})),
        (
            "types",
            json!({"type": "object", "additionalProperties": uint()}),
        ),
        (
            "largest",
            json!({"anyOf": [{"type": "null"},
                object(&[("db", uint()), ("key", json!({"type": "string"})), ("memory_bytes", uint())])]}),
        ),
    ]);
    object(&[
        ("tool", tool()),
        (
            "source",
            json!({"anyOf": [{"type": "null"}, d.of::<SourceInfo>()]}),
        ),
        ("sources", array(d.of::<SourceInfo>())),
        (
            "keyspace",
            object(&[
                ("keys", uint()),
                ("expires", uint()),
                ("memory_bytes", uint()),
                ("serialized_bytes", uint()),
                (
                    "dbs",
                    array(object(&[
                        ("db", uint()),
                        ("keys", uint()),
                        ("expires", uint()),
                    ])),
                ),
            ]),
        ),
        (
            "types",
            array(object(&[
                ("type", json!({"type": "string"})),
                ("encoding", json!({"type": "string"})),
                ("keys", uint()),
                ("memory_bytes", uint()),
            ])),
        ),
        ("patterns", array(pattern)),
        ("patterns_truncated_keys", uint()),
        ("top_keys", array(top_key.clone())),
        (
            "top_keys_by_elements",
            json!({"type": "object", "additionalProperties": array(top_key.clone())}),
        ),
        ("big_hashes", array(top_key)),
        (
            "ttl",
            object(&[
                ("keys_with_ttl", uint()),
                ("memory_without_ttl", uint()),
                (
                    "histogram",
                    json!({"type": "array", "minItems": 7, "maxItems": 7, "items": object(&[
                        ("bucket", json!({"enum": crate::analyze::summary::TTL_BUCKETS})),
                        ("keys", uint()),
                        ("memory_bytes", uint()),
                    ])}),
                ),
            ]),
        ),
        (
            "fragmentation",
            object(&[
                ("used_mem", opt("integer")),
                ("dataset_estimate", uint()),
                (
                    "hashes_past_listpack",
                    object(&[("keys", uint()), ("memory_bytes", uint())]),
                ),
                ("keys_with_idle", uint()),
                ("cold_memory_bytes", uint()),
                ("rounding_waste_bytes", uint()),
            ]),
        ),
        ("findings", array(d.of::<Finding>())),
        ("errors", array(d.of::<ReadError>())),
        ("skipped", array(d.of::<SkippedRange>())),
        ("top", uint()),
        ("redacted", json!({"type": "boolean"})),
    ])
}

/// A log timestamp as printed: `YYYY-MM-DD HH:MM:SS.mmm`.
fn ts() -> Value {
    json!({"type": ["string", "null"], "pattern": "^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}$"})
}

fn severity() -> Value {
    json!({"enum": ["info", "low", "medium", "high", "critical"]})
}

/// A non-fatal problem: a message, or (as the faults of dumps) an object
/// naming the file.
fn log_error() -> Value {
    json!({"anyOf": [{"type": "string"}, {"type": "object", "required": ["message"]}]})
}

fn cite() -> Value {
    object(&[
        ("file", json!({"type": "string"})),
        ("line", uint()),
        ("ts", ts()),
        ("text", json!({"type": "string"})),
    ])
}

fn incident() -> Value {
    object(&[
        ("kind", json!({"type": "string"})),
        ("severity", severity()),
        ("start", ts()),
        ("end", ts()),
        ("nodes", array(json!({"type": "string"}))),
        ("summary", json!({"type": "string"})),
        ("evidence", array(cite())),
    ])
}

/// `logs --format json`; `merged` adds `unjoined` (a merge of analyses).
fn logs_body(merged: bool) -> Value {
    let file = object(&[
        ("path", json!({"type": "string"})),
        ("set", json!({"type": "string"})),
        ("compression", json!({"type": "string"})),
        ("bytes", uint()),
        ("lines", uint()),
        ("unparsed_lines", uint()),
        ("year_source", opt("string")),
        ("error", opt("string")),
    ]);
    let lifetime = object(&[
        ("pid", opt("integer")),
        ("start", ts()),
        ("ready", ts()),
        ("last", ts()),
        (
            "end",
            json!({"enum": ["clean", "crash", "fatal-exit", "killed-in-shutdown", "unknown-kill", "oom-killed", "running"]}),
        ),
        ("version", opt("string")),
        ("keys_loaded", opt("integer")),
        ("load_seconds", opt("number")),
    ]);
    let node = object(&[
        ("name", json!({"type": "string"})),
        ("port", opt("integer")),
        ("mode", opt("string")),
        ("version", opt("string")),
        ("files", array(json!({"type": "string"}))),
        ("cluster_ids", array(json!({"type": "string"}))),
        ("lifetimes", array(lifetime)),
        ("lifetimes_omitted", uint()),
    ]);
    let event = object(&[
        ("ts", ts()),
        ("node", opt("string")),
        ("file", json!({"type": "string"})),
        ("line", uint()),
        ("level", opt("string")),
        ("role", opt("string")),
        ("kind", json!({"type": "string"})),
        ("id", json!({"type": "string"})),
        ("severity", severity()),
        ("pid", opt("integer")),
        ("fields", json!({"type": "object"})),
        ("text", json!({"type": "string"})),
    ]);
    let mut metrics = object(&[
        ("lines", uint()),
        ("unparsed_lines", uint()),
        ("bytes", uint()),
        ("nodes", uint()),
        ("lifetimes", uint()),
        ("crashes", uint()),
        ("events", uint()),
        ("events_kept", uint()),
        ("events_listed", uint()),
        ("events_omitted", uint()),
        ("timeline_limit", opt("integer")),
        ("incidents", uint()),
        ("windows", uint()),
        ("full_resyncs", uint()),
        ("partial_resyncs", uint()),
        ("bgsaves_started", uint()),
        ("bgsave_failures", uint()),
        ("aof_fsync_stalls", uint()),
        ("oom_kills", uint()),
        ("cri_partial_lines_joined", uint()),
        (
            "fork_cow_peak_mb_max",
            json!({"type": ["number", "null"], "minimum": 0}),
        ),
        (
            "line_counts",
            json!({"type": "object", "additionalProperties": uint()}),
        ),
    ]);
    metrics["additionalProperties"] = json!(true);
    let mut props = vec![
        ("tool", tool()),
        ("errors", array(log_error())),
        ("events", array(event)),
        ("files", array(file)),
        ("incidents", array(incident())),
        ("lines", uint()),
        ("metrics", metrics),
        ("nodes", array(node)),
        ("unparsed_samples", array(cite())),
    ];
    if merged {
        let mut fragment = incident();
        fragment["properties"]["input"] = json!({"type": "string"});
        props.push((
            "unjoined",
            array(object(&[
                ("start", ts()),
                ("end", ts()),
                ("kinds", array(json!({"type": "string"}))),
                ("nodes", array(json!({"type": "string"}))),
                ("inputs", array(json!({"type": "string"}))),
                ("reason", json!({"type": "string"})),
                ("fragments", array(fragment)),
            ])),
        ));
    }
    object(&props)
}

/// `check --format json`.
fn check_body(d: &mut Defs) -> Value {
    object(&[
        ("tool", tool()),
        (
            "source",
            object(&[
                ("path", json!({"type": "string"})),
                ("bytes", uint()),
                // `null` when the header itself could not be read.
                ("rdb_version", json!({"anyOf": [uint(), {"type": "null"}]})),
                ("magic", opt("string")),
                (
                    "server",
                    json!({"anyOf": [object(&[
                        ("family", json!({"type": "string"})),
                        ("version", json!({"type": "string"})),
                    ]), {"type": "null"}]}),
                ),
                ("aux", d.of::<crate::aux::AuxFields>()),
                ("checksum", d.of::<crate::faults::Checksum>()),
            ]),
        ),
        (
            "keyspace",
            object(&[
                ("keys", uint()),
                ("expires", uint()),
                (
                    "dbs",
                    array(object(&[
                        ("db", uint()),
                        ("keys", uint()),
                        ("expires", uint()),
                    ])),
                ),
            ]),
        ),
        (
            "types",
            array(object(&[
                ("type", json!({"type": "string"})),
                ("encoding", json!({"type": "string"})),
                ("keys", uint()),
            ])),
        ),
        ("functions", uint()),
        ("ok", json!({"type": "boolean"})),
        ("errors", array(d.of::<ReadError>())),
        ("skipped", array(d.of::<SkippedRange>())),
    ])
}

/// `diff --format json`.
fn diff_body(d: &mut Defs) -> Value {
    let pair =
        json!({"type": "array", "prefixItems": [uint(), uint()], "minItems": 2, "maxItems": 2});
    object(&[
        ("tool", tool()),
        (
            "old",
            json!({"anyOf": [{"type": "null"}, d.of::<SourceInfo>()]}),
        ),
        (
            "new",
            json!({"anyOf": [{"type": "null"}, d.of::<SourceInfo>()]}),
        ),
        ("hours_between", opt("number")),
        (
            "total",
            object(&[("keys", pair.clone()), ("memory_bytes", pair)]),
        ),
        ("patterns", array(d.of::<Change>())),
    ])
}

/// Every schema, by the file name it is published under in `schema/`.
pub fn documents() -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let mut d = Defs::new();
    let body = keyspace_body(&mut d);
    out.push((
        "rdb.schema.json",
        document("rdb.schema.json", "redsleuth rdb --format json", body, d),
    ));
    // A row is the type itself: its schema is the root, not a `$ref`.
    let mut row = Defs::new();
    let mut body = row.generator.root_schema_for::<Row>().to_value();
    if let Some(o) = body.as_object_mut() {
        o.remove("$schema");
        o.remove("title");
    }
    out.push((
        "keys-row.schema.json",
        document(
            "keys-row.schema.json",
            "redsleuth keys --format ndjson (one row)",
            body,
            row,
        ),
    ));
    let mut d = Defs::new();
    let body = check_body(&mut d);
    out.push((
        "check.schema.json",
        document(
            "check.schema.json",
            "redsleuth check --format json",
            body,
            d,
        ),
    ));
    let mut d = Defs::new();
    let body = diff_body(&mut d);
    out.push((
        "diff.schema.json",
        document("diff.schema.json", "redsleuth diff --format json", body, d),
    ));
    out.push((
        "logs.schema.json",
        document(
            "logs.schema.json",
            "redsleuth logs --format json",
            logs_body(false),
            Defs::new(),
        ),
    ));
    let mut d = Defs::new();
    let mut keyspace = keyspace_body(&mut d);
    keyspace["additionalProperties"] = json!(true);
    let postmortem = d.of::<crate::commands::rca::PostMortem>();
    out.push((
        "report.schema.json",
        document(
            "report.schema.json",
            "redsleuth report --format json",
            object(&[
                ("schema_version", uint()),
                ("tool", tool()),
                ("keyspace", json!({"anyOf": [{"type": "null"}, keyspace]})),
                (
                    "logs",
                    json!({"anyOf": [{"type": "null"}, logs_body(false)]}),
                ),
                (
                    "postmortem",
                    json!({"anyOf": [{"type": "null"}, postmortem]}),
                ),
            ]),
            d,
        ),
    ));
    let mut d = Defs::new();
    let mut keyspace = keyspace_body(&mut d);
    keyspace["additionalProperties"] = json!(true);
    let mut logs = logs_body(true);
    logs["additionalProperties"] = json!(true);
    out.push((
        "merge.schema.json",
        document(
            "merge.schema.json",
            "redsleuth merge --format json (of keyspace reports, or of log analyses)",
            json!({"oneOf": [keyspace, logs]}),
            d,
        ),
    ));
    out
}

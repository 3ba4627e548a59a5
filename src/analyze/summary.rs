//! The mergeable keyspace summary behind `redsleuth rdb`, `diff` and
//! `merge`, and its JSON form (the contract in the README).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::patterns::{KeyFacts, PatternTable, Stats};
use super::topn::{TopKey, TopN};
use crate::escape::Shown;
use crate::rdb::value::TypeName;

/// Remaining-TTL buckets at snapshot time.
pub const TTL_BUCKETS: [&str; 7] = [
    "expired", "under_1m", "under_1h", "under_1d", "under_7d", "longer", "none",
];

/// Idle time from which memory counts as cold (LRU dumps).
pub const COLD_IDLE_S: u64 = 86_400;
/// The LFU counter a new key starts at (server.h `LFU_INIT_VAL`); a counter
/// below it has decayed, so the key went untouched for a while.
pub const LFU_INIT_VAL: u8 = 5;

/// One input file.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct SourceInfo {
    /// Path as given.
    pub path: String,
    /// Bytes (decompressed).
    pub bytes: u64,
    /// RDB version.
    pub rdb_version: u32,
    /// Server family and version.
    pub server: ServerInfo,
    /// `ctime` AUX: Unix seconds when the dump was written.
    pub ctime: Option<i64>,
    /// `used-mem` AUX: bytes the server had allocated when saving.
    pub used_mem: Option<u64>,
    /// All AUX fields in file order, repeated names included (values
    /// escaped).
    pub aux: crate::aux::AuxFields,
    /// Checksum verdict, with the stored and computed values.
    pub checksum: crate::faults::Checksum,
}

/// Server family and version.
#[derive(
    Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct ServerInfo {
    /// `redis` or `valkey`.
    pub family: String,
    /// Version text.
    pub version: String,
}

/// Everything known about one key, as the summary absorbs it.
#[derive(Debug, Clone)]
pub struct KeyRecord {
    /// Database.
    pub db: u64,
    /// The key's pattern ([`super::patterns::normalize_key`], computed by
    /// the parallel workers so the sequential insert only walks the trie).
    pub pattern: String,
    /// The key's bytes are its shown form ([`crate::escape::is_plain`]),
    /// found while making the pattern, so the sink need not look again.
    pub plain_key: bool,
    /// `TYPE`.
    pub type_name: TypeName,
    /// `OBJECT ENCODING`.
    pub encoding: &'static str,
    /// Element count.
    pub elements: Option<u64>,
    /// Estimated memory.
    pub memory: u64,
    /// Bytes in the file.
    pub serialized: u64,
    /// Absolute expiry, Unix ms.
    pub expire_ms: Option<i64>,
    /// LRU idle seconds.
    pub idle_s: Option<u64>,
    /// LFU counter.
    pub freq: Option<u8>,
    /// Bytes the allocator's size classes add on top of what the value's
    /// main allocations request.
    pub rounding_waste: u64,
}

/// The mergeable summary.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Inputs.
    pub sources: Vec<SourceInfo>,
    /// Keys and expires per db.
    pub dbs: BTreeMap<u64, (u64, u64)>,
    /// Keys and memory per (type, encoding).
    pub types: BTreeMap<(String, String), (u64, u64)>,
    /// Whole keyspace.
    pub total: Stats,
    /// Keys and memory per TTL bucket ([`TTL_BUCKETS`]).
    pub ttl: [(u64, u64); 7],
    /// Key patterns.
    pub patterns: PatternTable,
    /// Biggest keys by memory.
    pub top_memory: TopN,
    /// Biggest keys by element count, per type.
    pub top_elements: BTreeMap<String, TopN>,
    /// Biggest hashes by memory.
    pub big_hashes: TopN,
    /// Hashtable hashes with at most twice the listpack limit of fields:
    /// keys and memory (they cost several times their listpack size).
    pub hashes_past_listpack: (u64, u64),
    /// Keys with LRU idle time or an LFU counter, and memory of the cold
    /// ones (idle a day or more, or LFU counter below its start value).
    pub idle: (u64, u64),
    /// Bytes lost to allocator size-class rounding of the values' main
    /// allocations (strings, listpacks, ziplists, intsets, quicklist nodes).
    pub rounding_waste: u64,
    /// Faults met, in file order per input.
    pub errors: Vec<crate::faults::ReadError>,
    /// Bytes skipped past faults to read on.
    pub skipped: Vec<crate::faults::SkippedRange>,
    /// How many keys each top-N list keeps.
    pub top: usize,
    /// Key names were replaced by `--redact` tokens.
    pub redacted: bool,
}

impl Summary {
    /// An empty summary keeping `top` keys per list.
    pub fn new(top: usize) -> Summary {
        Summary {
            sources: Vec::new(),
            dbs: BTreeMap::new(),
            types: BTreeMap::new(),
            total: Stats::default(),
            ttl: [(0, 0); 7],
            patterns: PatternTable::default(),
            top_memory: TopN::new(top),
            top_elements: BTreeMap::new(),
            big_hashes: TopN::new(top),
            hashes_past_listpack: (0, 0),
            idle: (0, 0),
            rounding_waste: 0,
            errors: Vec::new(),
            skipped: Vec::new(),
            top,
            redacted: false,
        }
    }

    /// Absorbs one key; `shown` is its name (escaped or redacted), made
    /// only when the key competes for a top list, so most keys are never
    /// formatted; `now_ms` is the snapshot time for TTL buckets.
    pub fn absorb(&mut self, k: &KeyRecord, shown: &Shown<'_>, now_ms: Option<i64>) {
        let type_name = k.type_name.as_str();
        let key = || shown.bytes();
        let facts = KeyFacts {
            db: k.db,
            shown: &key,
            type_name,
            memory: k.memory,
            serialized: k.serialized,
            ttl: k.expire_ms.is_some(),
            cold: k.idle_s.is_some_and(|i| i >= COLD_IDLE_S)
                || k.freq.is_some_and(|f| f < LFU_INIT_VAL),
        };
        let d = self.dbs.entry(k.db).or_default();
        d.0 += 1;
        d.1 += u64::from(k.expire_ms.is_some());
        // A handful of (type, encoding) pairs: find before allocating a key.
        match self
            .types
            .iter_mut()
            .find(|((t, e), _)| t == type_name && e == k.encoding)
        {
            Some((_, v)) => {
                v.0 += 1;
                v.1 += k.memory;
            }
            None => {
                self.types.insert(
                    (type_name.to_string(), k.encoding.to_string()),
                    (1, k.memory),
                );
            }
        }
        self.total.add(&facts);
        let bucket = match (k.expire_ms, now_ms) {
            (None, _) => 6,
            (Some(e), Some(now)) => match e - now {
                r if r <= 0 => 0,
                r if r < 60_000 => 1,
                r if r < 3_600_000 => 2,
                r if r < 86_400_000 => 3,
                r if r < 7 * 86_400_000 => 4,
                _ => 5,
            },
            (Some(_), None) => 5,
        };
        self.ttl[bucket].0 += 1;
        self.ttl[bucket].1 += k.memory;
        self.patterns.add_normalized(&k.pattern, &facts);
        let top = || TopKey {
            db: k.db,
            key: crate::escape::shown_string(key()),
            type_name: type_name.to_string(),
            encoding: k.encoding.to_string(),
            elements: k.elements,
            memory_bytes: k.memory,
            expire_at_ms: k.expire_ms,
        };
        if self.top_memory.admits(k.memory, k.db, key) {
            self.top_memory.offer(k.memory, top);
        }
        if let Some(n) = k.elements {
            if type_name != "string" {
                let cap = self.top;
                match self.top_elements.get_mut(type_name) {
                    Some(l) => {
                        if l.admits(n, k.db, key) {
                            l.offer(n, top)
                        }
                    }
                    None => {
                        let mut l = TopN::new(cap);
                        l.offer(n, top);
                        self.top_elements.insert(type_name.to_string(), l);
                    }
                }
            }
        }
        if type_name == "hash" {
            if self.big_hashes.admits(k.memory, k.db, key) {
                self.big_hashes.offer(k.memory, top);
            }
            if k.encoding == "hashtable" && k.elements.is_some_and(|n| n > 512 && n <= 1024) {
                self.hashes_past_listpack.0 += 1;
                self.hashes_past_listpack.1 += k.memory;
            }
        }
        self.rounding_waste += k.rounding_waste;
        if k.idle_s.is_some() || k.freq.is_some() {
            self.idle.0 += 1;
            if facts.cold {
                self.idle.1 += k.memory;
            }
        }
    }

    /// Merges another summary.
    pub fn merge(&mut self, o: &Summary) {
        self.sources.extend(o.sources.iter().cloned());
        for (db, (k, e)) in &o.dbs {
            let d = self.dbs.entry(*db).or_default();
            d.0 += k;
            d.1 += e;
        }
        for (t, (k, m)) in &o.types {
            let d = self.types.entry(t.clone()).or_default();
            d.0 += k;
            d.1 += m;
        }
        self.total.merge(&o.total);
        for (a, b) in self.ttl.iter_mut().zip(o.ttl.iter()) {
            a.0 += b.0;
            a.1 += b.1;
        }
        self.patterns.merge(&o.patterns);
        self.top_memory.merge(&o.top_memory);
        for (t, l) in &o.top_elements {
            let cap = self.top;
            self.top_elements
                .entry(t.clone())
                .or_insert_with(|| TopN::new(cap))
                .merge(l);
        }
        self.big_hashes.merge(&o.big_hashes);
        self.hashes_past_listpack.0 += o.hashes_past_listpack.0;
        self.hashes_past_listpack.1 += o.hashes_past_listpack.1;
        self.rounding_waste += o.rounding_waste;
        self.idle.0 += o.idle.0;
        self.idle.1 += o.idle.1;
        self.errors.extend(o.errors.iter().cloned());
        self.skipped.extend(o.skipped.iter().cloned());
        self.redacted |= o.redacted;
    }

    /// Replaces every key name still shown (top lists, patterns' largest
    /// members) by its `--redact` token, and every pattern by `pattern` of
    /// it, as `rdb --redact` would have written them; a summary already
    /// redacted is left as it is.
    pub fn redact(&mut self, pattern: &dyn Fn(&str) -> String) {
        if self.redacted {
            return;
        }
        let f = |k: &str| {
            if is_redacted(k) {
                k.to_string()
            } else {
                crate::escape::redact_key(&crate::escape::unescape_key(k))
            }
        };
        self.top_memory = self.top_memory.map_keys(&f);
        self.big_hashes = self.big_hashes.map_keys(&f);
        for l in self.top_elements.values_mut() {
            *l = l.map_keys(&f);
        }
        let mut table = PatternTable::default();
        for (p, mut st) in self.patterns.patterns() {
            if let Some((_, _, k)) = st.largest.as_mut() {
                *k = f(k);
            }
            table.add_pattern(&pattern(&p), &st);
        }
        table.truncated_keys = self.patterns.truncated_keys;
        self.patterns = table;
        self.redacted = true;
    }

    /// Every key name the summary shows.
    fn shown_keys(&self) -> impl Iterator<Item = &str> {
        self.top_memory
            .items()
            .chain(self.big_hashes.items())
            .chain(self.top_elements.values().flat_map(|l| l.items()))
            .map(|k| k.key.as_str())
    }

    /// Sum of `used-mem` over the inputs that recorded it.
    pub fn used_mem(&self) -> Option<u64> {
        let v: Vec<u64> = self.sources.iter().filter_map(|s| s.used_mem).collect();
        (!v.is_empty()).then(|| v.iter().sum())
    }

    /// The JSON report (contract in the README).
    pub fn to_json(&self, findings: &[super::findings::Finding]) -> Value {
        let pattern_json = |(p, s): &(String, Stats)| {
            json!({
                "pattern": p, "keys": s.keys, "memory_bytes": s.memory_bytes,
                "serialized_bytes": s.serialized_bytes, "keys_with_ttl": s.keys_with_ttl,
                "memory_with_ttl": s.memory_with_ttl,
                "cold_memory_bytes": s.cold_memory,
                "ttl_coverage": round4(s.ttl_coverage()),
                "ttl_coverage_bytes": round4(s.ttl_coverage_bytes()),
                "share_of_memory": round4(super::patterns::ratio(s.memory_bytes, self.total.memory_bytes)),
                "types": s.types,
                "largest": s.largest.as_ref().map(|(m, db, k)| json!({"db": db, "key": k, "memory_bytes": m})),
            })
        };
        let patterns: Vec<Value> = self.patterns.patterns().iter().map(pattern_json).collect();
        let keys_list = |t: &TopN| {
            t.items()
                .map(|k| serde_json::to_value(k).unwrap_or(Value::Null))
                .collect::<Vec<_>>()
        };
        json!({
            "schema_version": crate::SCHEMA_VERSION,
            "tool": {"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")},
            "source": self.sources.first(),
            "sources": self.sources,
            "keyspace": {
                "keys": self.total.keys, "expires": self.total.keys_with_ttl,
                "memory_bytes": self.total.memory_bytes,
                "serialized_bytes": self.total.serialized_bytes,
                "dbs": self.dbs.iter().map(|(db, (k, e))| json!({"db": db, "keys": k, "expires": e})).collect::<Vec<_>>(),
            },
            "types": self.types.iter().map(|((t, e), (k, m))| json!({"type": t, "encoding": e, "keys": k, "memory_bytes": m})).collect::<Vec<_>>(),
            "patterns": patterns,
            "patterns_truncated_keys": self.patterns.truncated_keys,
            "top_keys": keys_list(&self.top_memory),
            "top_keys_by_elements": self.top_elements.iter().map(|(t, l)| (t.clone(), Value::Array(keys_list(l)))).collect::<serde_json::Map<_, _>>(),
            "big_hashes": keys_list(&self.big_hashes),
            "ttl": {
                "keys_with_ttl": self.total.keys_with_ttl,
                "memory_without_ttl": self.total.memory_bytes - self.total.memory_with_ttl,
                "histogram": TTL_BUCKETS.iter().zip(self.ttl.iter()).map(|(b, (k, m))| json!({"bucket": b, "keys": k, "memory_bytes": m})).collect::<Vec<_>>(),
            },
            "fragmentation": {
                "used_mem": self.used_mem(),
                "dataset_estimate": self.total.memory_bytes,
                "hashes_past_listpack": {"keys": self.hashes_past_listpack.0, "memory_bytes": self.hashes_past_listpack.1},
                "keys_with_idle": self.idle.0,
                "cold_memory_bytes": self.idle.1,
                "rounding_waste_bytes": self.rounding_waste,
            },
            "findings": findings,
            "errors": self.errors,
            "skipped": self.skipped,
            "top": self.top,
            "redacted": self.redacted,
        })
    }

    /// Rebuilds a summary from its JSON report (for `merge`).
    pub fn from_json(v: &Value) -> Option<Summary> {
        let top = v["top"].as_u64().unwrap_or(20) as usize;
        let mut s = Summary::new(top);
        s.sources = serde_json::from_value(v["sources"].clone()).ok()?;
        for d in v["keyspace"]["dbs"].as_array()? {
            s.dbs.insert(
                d["db"].as_u64()?,
                (d["keys"].as_u64()?, d["expires"].as_u64()?),
            );
        }
        for t in v["types"].as_array()? {
            s.types.insert(
                (
                    t["type"].as_str()?.to_string(),
                    t["encoding"].as_str()?.to_string(),
                ),
                (t["keys"].as_u64()?, t["memory_bytes"].as_u64()?),
            );
        }
        for p in v["patterns"].as_array()? {
            let st = pattern_stats(p)?;
            s.total.merge(&st);
            s.patterns.add_pattern(p["pattern"].as_str()?, &st);
        }
        s.patterns.truncated_keys = v["patterns_truncated_keys"].as_u64().unwrap_or(0);
        for (i, h) in v["ttl"]["histogram"].as_array()?.iter().enumerate().take(7) {
            s.ttl[i] = (h["keys"].as_u64()?, h["memory_bytes"].as_u64()?);
        }
        let list = |x: &Value| -> Option<TopN> {
            let mut t = TopN::new(top);
            for k in x.as_array()? {
                let k: TopKey = serde_json::from_value(k.clone()).ok()?;
                t.offer(k.memory_bytes, || k.clone());
            }
            Some(t)
        };
        s.top_memory = list(&v["top_keys"])?;
        s.big_hashes = list(&v["big_hashes"])?;
        for (t, l) in v["top_keys_by_elements"].as_object()? {
            let mut n = TopN::new(top);
            for k in l.as_array()? {
                let k: TopKey = serde_json::from_value(k.clone()).ok()?;
                n.offer(k.elements.unwrap_or(0), || k.clone());
            }
            s.top_elements.insert(t.clone(), n);
        }
        let f = &v["fragmentation"];
        s.hashes_past_listpack = (
            f["hashes_past_listpack"]["keys"].as_u64()?,
            f["hashes_past_listpack"]["memory_bytes"].as_u64()?,
        );
        s.rounding_waste = f["rounding_waste_bytes"].as_u64().unwrap_or(0);
        s.idle = (
            f["keys_with_idle"].as_u64()?,
            f["cold_memory_bytes"].as_u64()?,
        );
        s.errors = serde_json::from_value(v["errors"].clone()).unwrap_or_default();
        s.skipped = serde_json::from_value(v["skipped"].clone()).unwrap_or_default();
        // Reports written before the field existed: redacted when the keys
        // they show are tokens.
        s.redacted = match v["redacted"].as_bool() {
            Some(r) => r,
            None => s.shown_keys().next().is_some_and(is_redacted),
        };
        Some(s)
    }
}

fn pattern_stats(p: &Value) -> Option<Stats> {
    Some(Stats {
        keys: p["keys"].as_u64()?,
        memory_bytes: p["memory_bytes"].as_u64()?,
        serialized_bytes: p["serialized_bytes"].as_u64()?,
        keys_with_ttl: p["keys_with_ttl"].as_u64()?,
        memory_with_ttl: p["memory_with_ttl"].as_u64()?,
        cold_memory: p["cold_memory_bytes"].as_u64().unwrap_or(0),
        types: serde_json::from_value(p["types"].clone()).ok()?,
        largest: p["largest"].as_object().and_then(|l| {
            Some((
                l["memory_bytes"].as_u64()?,
                l["db"].as_u64()?,
                l["key"].as_str()?.to_string(),
            ))
        }),
    })
}

/// Whether a shown key is a `--redact` token.
fn is_redacted(k: &str) -> bool {
    k.starts_with("<redacted:") && k.ends_with('>')
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

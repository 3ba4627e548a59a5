//! Module values: what each module's `mem_usage` callback would answer,
//! computed from the fields its `rdb_save` wrote.
//!
//! `MEMORY USAGE` asks the module (`moduleGetMemUsage`); offline, the
//! callback cannot run, but for the common modules it is a formula over a
//! few header fields (dimensions, capacities, counts) that the module saves
//! first, so the opcode stream ([`ModuleOps`]) is read as far as that
//! formula needs. Structure sizes are those of 64-bit Linux builds (glibc
//! `pthread_rwlock_t` 56 bytes, `pthread_mutex_t` 40).

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};

use super::Model;
use crate::rdb::module::{ModuleOp, ModuleOps};

/// `sizeof(struct vsetObject)` (`vset.c`): graph, dict and matrix pointers,
/// input size, the in-use rwlock, id, attribute count, pending counter.
const VSET_OBJECT: u64 = 112;
/// `sizeof(HNSW)` (`hnsw.h`): entry point, parameters, counters, 32 epoch
/// slots, list head, the global rwlock and 32 slot mutexes, cursors.
const HNSW: u64 = 1672;
/// `sizeof(hnswNode)` without layers: level, id, vector pointer, range and
/// L2, 32 visit epochs, value, list links.
const HNSW_NODE: u64 = 312;
/// `sizeof(hnswNodeLayer)`.
const HNSW_LAYER: u64 = 24;
/// `SAVE_FLAG_HAS_PROJMATRIX`.
const VSET_HAS_PROJECTION: u64 = 1;
/// `SAVE_FLAG_HAS_ATTRIBS`.
const VSET_HAS_ATTRIBS: u64 = 2;
/// Nodes `VectorSetMemUsage` samples for the average item size.
const VSET_SCAN: u64 = 20;
/// `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`.
const EMBSTR_LIMIT: u64 = 44;

impl Model {
    /// The `mem_usage` answer of the module that owns `name`, from its
    /// saved `value` (module id first); `None` when the module or the
    /// layout is not known.
    pub(super) fn module_mem_usage(&self, name: &[u8; 9], value: &[u8]) -> Option<u64> {
        let ops = ModuleOps::new(value)?;
        match name {
            b"vectorset" => self.vectorset(ops),
            b"MBbloom--" => bloom(ops),
            b"MBbloomCF" => cuckoo(ops),
            b"CMSk-TYPE" => count_min(ops),
            b"TopK-TYPE" => top_k(ops),
            b"TSDB-TYPE" => time_series(ops),
            b"ReJSON-RL" => json(ops),
            _ => None,
        }
    }

    /// `RedisModule_MallocSizeString` of a string made like a command
    /// argument (`createStringObject`): one embedded block up to 44 bytes,
    /// else the object header plus the sds.
    fn module_string(&self, len: u64) -> u64 {
        if len <= EMBSTR_LIMIT {
            self.j(16 + 3 + len + 1)
        } else {
            16 + self.sds_alloc_size(len)
        }
    }

    /// `VectorSetMemUsage` (`modules/vector-sets/vset.c`): fixed structs,
    /// the projection matrix, per node the node struct, quantized vector,
    /// 4/3 of a layer struct, layer-0 links (the first node's
    /// `max_links`, normally 2·M) plus a third of half as many for the
    /// upper layers; items at the average `MallocSizeString` of the first
    /// 20 nodes, attributes likewise (64 bytes if none is sampled), and 16
    /// bytes of dict per element.
    ///
    /// The value is `VectorSetRdbSave`'s: dimension, count, quantization
    /// and M packed in one word, flags, an optional projection matrix, then
    /// per node the item, an attribute if flagged, the vector and the
    /// serialized links (`hnsw_serialize_node`: id, level, then per layer
    /// the link count and `max_links`, …).
    fn vectorset(&self, mut ops: ModuleOps<'_>) -> Option<u64> {
        let dim = ops.next()?.uint()?;
        let count = ops.next()?.uint()?;
        let config = ops.next()?.uint()?;
        let flags = ops.next()?.uint()?;
        let vector_bytes = match config & 0xff {
            0 => 4 * dim,
            1 => dim,
            2 => dim.div_ceil(64) * 8,
            _ => return None,
        };
        let mut size = VSET_OBJECT + HNSW;
        if flags & VSET_HAS_PROJECTION != 0 {
            let input = ops.next()?.uint()?;
            ops.next()?;
            size += 4 * input * dim;
        }
        if count == 0 {
            return Some(size);
        }
        let (mut items, mut attribs, mut attribs_sampled) = (0u64, 0u64, 0u64);
        let mut attributed = 0u64;
        let mut level0_links = None;
        for node in 0..count {
            let item = ops.next()?.string_len()?;
            let attrib = if flags & VSET_HAS_ATTRIBS != 0 {
                ops.next()?.string_len()?
            } else {
                0
            };
            ops.next()?.string_len()?;
            let params = ops.next()?.uint()?;
            for p in 0..params {
                let v = ops.next()?.uint()?;
                if node == 0 && p == 3 {
                    level0_links = Some(v);
                }
            }
            attributed += u64::from(attrib > 0);
            if node < VSET_SCAN {
                items += self.module_string(item);
                if attrib > 0 {
                    attribs += self.module_string(attrib);
                    attribs_sampled += 1;
                }
            }
        }
        if attribs_sampled == 0 {
            (attribs, attribs_sampled) = (64, 1);
        }
        let n = count;
        let l0 = level0_links?;
        size += HNSW_NODE * n + vector_bytes * n;
        size += HNSW_LAYER * n * 4 / 3;
        size += 8 * l0 * n + 8 * (l0 / 2) * n / 3;
        size += items / n.min(VSET_SCAN) * n;
        size += attribs / attribs_sampled * attributed;
        size += 16 * n;
        Some(size)
    }
}

/// `sizeof(SBChain)` (RedisBloom `sb.h`): links pointer, size, link count,
/// options, growth.
const SB_CHAIN: u64 = 32;
/// `sizeof(SBLink)`: the inner `struct bloom` (56 bytes) and the link size.
const SB_LINK: u64 = 64;
/// `BF_MIN_OPTIONS_ENC`: options saved from this encoding version on.
const BF_OPTIONS_ENC: u32 = 2;
/// `BF_MIN_GROWTH_ENC`: growth saved from this encoding version on.
const BF_GROWTH_ENC: u32 = 4;
/// `sizeof(CuckooFilter)` (`cuckoo.h`).
const CUCKOO_FILTER: u64 = 40;
/// `sizeof(SubCF)`.
const SUB_CF: u64 = 16;
/// `CF_MIN_EXPANSION_VERSION`: per-filter bucket counts saved from here on.
const CF_EXPANSION_ENC: u32 = 4;
/// `sizeof(TopK)` (`topk.h`): parameters, decay, two pointers and the
/// 256-entry decay lookup table.
const TOPK: u64 = 2088;
/// `sizeof(Bucket)` of a Top-K sketch.
const TOPK_BUCKET: u64 = 8;
/// `sizeof(HeapBucket)`.
const TOPK_HEAP_BUCKET: u64 = 24;

/// `BFMemUsage` (RedisBloom `rebloom.c`): the chain struct plus, per link,
/// the link struct and its bit array. `BFRdbSave` writes size, link count,
/// options (encoding ≥ 2) and growth (≥ 4), then per link entries, error,
/// hashes, bits per entry, [bits, n2 (≥ 1)], the bit array and the link
/// size.
fn bloom(mut ops: ModuleOps<'_>) -> Option<u64> {
    let encver = ops.encver();
    ops.next()?.uint()?;
    let links = ops.next()?.uint()?;
    if encver >= BF_OPTIONS_ENC {
        ops.next()?;
    }
    if encver >= BF_GROWTH_ENC {
        ops.next()?;
    }
    let mut size = SB_CHAIN;
    for _ in 0..links {
        let fields = if encver == 0 { 4 } else { 6 };
        for _ in 0..fields {
            ops.next()?;
        }
        size += SB_LINK + ops.next()?.string_len()?;
        ops.next()?;
    }
    Some(size)
}

/// `CFMemUsage`: the filter struct, one `SubCF` per filter and the bucket
/// arrays (bucket size × buckets bytes, the saved buffers). `CFRdbSave`
/// writes filter count, buckets, items, then (encoding ≥ 4) deletes,
/// bucket size, iterations and expansion, then per filter [its bucket
/// count] and data.
fn cuckoo(mut ops: ModuleOps<'_>) -> Option<u64> {
    let encver = ops.encver();
    let filters = ops.next()?.uint()?;
    let skip = if encver >= CF_EXPANSION_ENC { 6 } else { 2 };
    for _ in 0..skip {
        ops.next()?;
    }
    let mut size = CUCKOO_FILTER + SUB_CF * filters;
    for _ in 0..filters {
        if encver >= CF_EXPANSION_ENC {
            ops.next()?;
        }
        size += ops.next()?.string_len()?;
    }
    Some(size)
}

/// `CMSMemUsage` (`rm_cms.c`): `sizeof(cms)` (a pointer: 8) plus
/// width × depth × `sizeof(size_t)`, although the counters are 32-bit.
/// `CMSRdbSave` writes width and depth first.
fn count_min(mut ops: ModuleOps<'_>) -> Option<u64> {
    let width = ops.next()?.uint()?;
    let depth = ops.next()?.uint()?;
    Some(8 + width.checked_mul(depth)?.checked_mul(8)?)
}

/// `TopKMemUsage` (`rm_topk.c`): the struct, width × depth buckets and k
/// heap entries (item strings not counted). `TopKRdbSave` writes k, width,
/// depth first.
fn top_k(mut ops: ModuleOps<'_>) -> Option<u64> {
    let k = ops.next()?.uint()?;
    let width = ops.next()?.uint()?;
    let depth = ops.next()?.uint()?;
    Some(TOPK + width.checked_mul(depth)? * TOPK_BUCKET + k * TOPK_HEAP_BUCKET)
}

/// `sizeof(CompactionRule)` (RedisTimeSeries `tsdb.h`).
const TS_RULE: u64 = 64;
/// `sizeof(Label)`: key and value string pointers.
const TS_LABEL: u64 = 16;
/// `sizeof(CompressedChunk)` (`gorilla.h`).
const TS_COMPRESSED_CHUNK: u64 = 80;
/// `sizeof(Chunk)` (`chunk.h`), the uncompressed chunk.
const TS_CHUNK: u64 = 32;
/// `SERIES_OPT_UNCOMPRESSED`.
const TS_UNCOMPRESSED: u64 = 1;
/// `TS_SIZE_RDB_VER`: series saved as chunks (before, as samples).
const TS_SIZE_ENC: u32 = 2;

/// `SeriesMemUsage` (RedisTimeSeries `tsdb.c`): `sizeof(series)` (a
/// pointer: 8), one `CompactionRule` per rule, label keys and values with
/// their terminators plus a `Label` each, and every chunk's data with its
/// struct (`GetChunkSize(chunk, true)`).
///
/// `series_rdb_save` writes the key name, retention, chunk size, options,
/// last timestamp and value, sample count, duplicate policy (encoding ≥ 3),
/// an optional source key, the ignore thresholds (≥ 8), labels, rules
/// (destination key, numbers, the aggregation context: numbers only), then
/// the chunks, each ending with its data buffer. The strings after the
/// label section are therefore the rule keys, then one buffer per chunk.
fn time_series(mut ops: ModuleOps<'_>) -> Option<u64> {
    let encver = ops.encver();
    if encver < TS_SIZE_ENC {
        return None;
    }
    ops.next()?.string_len()?;
    ops.next()?;
    ops.next()?;
    let options = ops.next()?.uint()?;
    for _ in 0..3 {
        ops.next()?;
    }
    if encver >= 3 {
        ops.next()?;
    }
    if ops.next()?.uint()? != 0 {
        ops.next()?.string_len()?;
    }
    if encver >= 8 {
        ops.next()?;
        ops.next()?;
    }
    let labels = ops.next()?.uint()?;
    let mut size = 8 + TS_LABEL * labels;
    for _ in 0..2 * labels {
        size += ops.next()?.string_len()? + 1;
    }
    let rules = ops.next()?.uint()?;
    size += TS_RULE * rules;
    let chunk = if options & TS_UNCOMPRESSED != 0 {
        TS_CHUNK
    } else {
        TS_COMPRESSED_CHUNK
    };
    let strings = ops.filter_map(|op| op.string_len());
    for (i, len) in strings.enumerate() {
        if i as u64 >= rules {
            size += chunk + len;
        }
    }
    Some(size)
}

/// RedisJSON's `mem_usage` (`ivalue_manager.rs` `get_memory`) over the
/// document, which RedisJSON 2.x saves as one JSON text: 8 bytes per
/// value; numbers add 0 (−128…383), 4 (24-bit) or 16 (other integers,
/// floats); strings their length; arrays 8·(capacity + 2) and objects
/// 8·(3·capacity + 2) plus key lengths, where the capacity is what `ijson`
/// grows to by pushing (4, then doubling).
fn json(mut ops: ModuleOps<'_>) -> Option<u64> {
    let ModuleOp::String(text) = ops.next()? else {
        return None;
    };
    if ops.next().is_some() {
        return None;
    }
    let mut buf = Vec::new();
    let bytes = text.decode_into(&mut buf).ok()?;
    // serde_json's default depth limit (128) applies; a deeper document
    // falls back to the serialized size.
    let mut de = serde_json::Deserializer::from_slice(bytes);
    JsonMem.deserialize(&mut de).ok()
}

/// `ijson` capacity after `n` pushes onto an empty array or object.
fn ijson_capacity(n: u64) -> u64 {
    match n {
        0 => 0,
        1..=4 => 4,
        _ => n.next_power_of_two(),
    }
}

/// Computes a JSON value's `get_memory` while it is parsed.
struct JsonMem;

impl<'de> DeserializeSeed<'de> for JsonMem {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_any(JsonMem)
    }
}

impl<'de> Visitor<'de> for JsonMem {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: Error>(self) -> Result<u64, E> {
        Ok(8)
    }

    fn visit_bool<E: Error>(self, _: bool) -> Result<u64, E> {
        Ok(8)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
        Ok(8 + match v {
            -128..=383 => 0,
            -8_388_607..=8_388_607 => 4,
            _ => 16,
        })
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => Ok(8 + 16),
        }
    }

    fn visit_f64<E: Error>(self, _: f64) -> Result<u64, E> {
        Ok(8 + 16)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<u64, E> {
        Ok(8 + v.len() as u64)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<u64, A::Error> {
        let (mut n, mut sum) = (0u64, 0u64);
        while let Some(m) = seq.next_element_seed(JsonMem)? {
            n += 1;
            sum += m;
        }
        let cap = ijson_capacity(n);
        Ok(8 + if cap == 0 { 0 } else { 8 * (cap + 2) + sum })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<u64, A::Error> {
        let (mut n, mut sum) = (0u64, 0u64);
        while let Some(key) = map.next_key_seed(JsonKeyLen)? {
            n += 1;
            sum += key + map.next_value_seed(JsonMem)?;
        }
        let cap = ijson_capacity(n);
        Ok(8 + if cap == 0 { 0 } else { 8 * (3 * cap + 2) + sum })
    }
}

/// The byte length of an object key.
struct JsonKeyLen;

impl<'de> DeserializeSeed<'de> for JsonKeyLen {
    type Value = u64;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<u64, D::Error> {
        d.deserialize_str(JsonKeyLen)
    }
}

impl<'de> Visitor<'de> for JsonKeyLen {
    type Value = u64;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<u64, E> {
        Ok(v.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module_value(ops: &[u8]) -> Vec<u8> {
        let mut v = vec![0x05];
        v.extend_from_slice(ops);
        v.push(0x00);
        v
    }

    #[test]
    fn json_memory_follows_ijson() {
        let mem = |text: &str| {
            let mut v = vec![0x05, 0x05, text.len() as u8];
            v.extend_from_slice(text.as_bytes());
            v.push(0x00);
            json(ModuleOps::new(&v).unwrap()).unwrap()
        };
        assert_eq!(mem("42"), 8);
        assert_eq!(mem("1000"), 12);
        assert_eq!(mem("1.5"), 24);
        assert_eq!(mem("[]"), 8);
        // 8 + 8·(8 + 2) + three small ints + "four" + {"five":5}.
        let object = 8 + 8 * (3 * 4 + 2) + 4 + 8;
        assert_eq!(
            mem(r#"[1,2,3,"four",{"five":5}]"#),
            8 + 80 + 24 + 12 + object
        );
    }

    #[test]
    fn count_min_reads_its_dimensions() {
        // 100 needs the 14-bit length form.
        let v = module_value(&[0x02, 0x40, 100, 0x02, 5, 0x02, 10]);
        assert_eq!(count_min(ModuleOps::new(&v).unwrap()), Some(8 + 4000));
    }
}

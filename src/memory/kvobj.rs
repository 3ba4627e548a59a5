//! Redis 8.4+ `MEMORY USAGE`: `kvobjAllocSize` (`object.c`).
//!
//! Since per-slot memory accounting (#14451) the command no longer walks the
//! value: every type keeps a running total of its allocations and the
//! command adds it to the size of the `kvobj` (object header, metadata
//! slots, embedded key). Since #14704 the `kvobj` part is the *requested*
//! size, not the allocator's usable size, and so are type 5 sds strings and
//! listpacks (`lpBytes`); other allocations are tracked at their usable
//! size (`zmalloc_usable`).

use super::alloc::{sds_header, sds_request};
use super::{buckets, Model, RAX, ROBJ};
use crate::rdb::frame::Frame;
use crate::rdb::stream::StreamInfo;
use crate::rdb::value::ValueInfo;

/// `sizeof(dict)` (Redis 8.x `dict.h`).
const DICT: u64 = 56;
/// `sizeof(dictEntry)`: `dictMemUsage` counts every element at this size,
/// also in the `no_value` dicts that store most keys directly in a bucket.
const DICT_ENTRY: u64 = 24;
/// `sizeof(quicklist)` with its `alloc_size` field.
const QUICKLIST: u64 = 48;
/// `sizeof(quicklistNode)`.
const QUICKLIST_NODE: u64 = 32;
/// `sizeof(listpackEx)`: an `ExpireMeta` and the listpack pointer.
const LISTPACK_EX: u64 = 24;
/// `sizeof(ExpireMeta)` (`ebuckets.h`), prepended to hash entries with a TTL.
const EXPIRE_META: u64 = 16;
/// `sizeof(zskiplist)` with its `alloc_size` field.
const ZSKIPLIST: u64 = 40;
/// `sizeof(zset)`.
const ZSET: u64 = 16;
/// `sizeof(zskiplistNode)` without levels: score and backward pointer
/// (the member sds is embedded after the level array).
const ZSL_NODE: u64 = 16;
/// `ZSKIPLIST_MAXLEVEL`.
const ZSL_MAXLEVEL: u64 = 32;
/// `EMBED_VALUE_MAX_ALLOC_SIZE` (`entry.h`): a hash entry embeds its value
/// when field, expiry and value fit in this many bytes.
const EMBED_VALUE_MAX: u64 = 128;
/// `sizeof(stream)` (8.6+, with the idempotent-producer fields).
const STREAM: u64 = 160;
/// `sizeof(streamCG)` with the PEL time list pointers.
const STREAM_CG: u64 = 64;
/// `sizeof(streamNACK)` with the id and PEL time list links.
const STREAM_NACK: u64 = 64;
/// `sizeof(streamConsumer)`.
const STREAM_CONSUMER: u64 = 32;
/// `KEY_SIZE_TO_INCLUDE_EXPIRE_THRESHOLD`: keys this long always get an
/// expire slot.
const KEY_EXPIRE_THRESHOLD: u64 = 128;

impl Model {
    /// `kvobjAllocSize`: `sizeof(kvobj)`, one 8-byte slot per metadata
    /// class (the expire is class 0), the key-header-size byte, the embedded
    /// key sds at its requested size, then the type's tracked bytes.
    pub(super) fn kvobj_alloc_size(
        &self,
        frame: &Frame<'_>,
        key_len: u64,
        info: &ValueInfo,
        n: u64,
    ) -> u64 {
        let head = self.kvobj_head(frame, key_len);
        let shape = &info.shape;
        let body = match info.encoding {
            "int" => 0,
            // `kvobjCreateEmbedString`: the value sds takes whatever the
            // allocation has left, so the whole is the usable size.
            "embstr" => return self.j(head + 3 + shape.bytes + 1),
            "raw" => self.sds_alloc_size(shape.bytes),
            // `lpBytes` and `intsetAllocSize` are exact lengths.
            "ziplist" | "listpack" | "intset" | "zipmap" => shape.bytes,
            "listpackex" => LISTPACK_EX + shape.bytes,
            // `quicklistAllocSize`: usable sizes of the struct and nodes,
            // node payloads at their byte length.
            "quicklist" => {
                let nodes: u64 = shape
                    .nodes
                    .iter()
                    .map(|&(bytes, _)| self.j(QUICKLIST_NODE) + bytes)
                    .sum();
                self.j(QUICKLIST) + nodes
            }
            "hashtable" => {
                let elements = if info.type_name.as_str() == "hash" {
                    self.per_element(info, n, |f, v| self.hash_entry(f, v, false))
                        + self.volatile_entries(info)
                        + self.rehashing_hash(n)
                } else {
                    self.per_element(info, n, |m, _| self.sds_alloc_size(m))
                        + self.rehashing_set(info, n)
                };
                DICT + DICT_ENTRY * n + 8 * buckets(n) + elements
            }
            "skiplist" => {
                let nodes = self.per_element(info, n, |m, _| {
                    self.expected_node(ZSL_NODE + sds_request(m, true, true))
                });
                let zsl = self.j(ZSKIPLIST) + self.j(ZSL_NODE + 16 * ZSL_MAXLEVEL) + nodes;
                ZSET + zsl + DICT + DICT_ENTRY * n + 8 * buckets(n) + self.rehashing_zset(n)
            }
            // The tracked `alloc_size` of `sparsearray.c`; without the
            // element list, the serialized size stands in.
            "sliced-array" if !shape.array.is_empty() => self.array_alloc_size(&shape.array),
            "stream" => match &shape.stream {
                Some(s) => self.stream_alloc_size(info, s),
                None => shape.bytes,
            },
            _ => shape.bytes,
        };
        head + body
    }

    /// Requested bytes of a `kvobj` without an embedded value: header, one
    /// 8-byte slot per metadata class (the expire is class 0), the
    /// key-header-size byte and the key sds.
    pub(super) fn kvobj_head(&self, frame: &Frame<'_>, key_len: u64) -> u64 {
        let ttl = frame.expire_ms.is_some() || key_len >= KEY_EXPIRE_THRESHOLD;
        let meta = 8 * (u64::from(ttl) + u64::from(frame.meta_classes));
        ROBJ + meta + 1 + sds_request(key_len, true, true)
    }

    /// `sdsAllocSize` of an sds made by `sdsnewlen`: type 5 strings report
    /// their requested size (they have no `alloc` field), the others the
    /// allocator's usable size, which `_sdsnewlen` stores in `alloc`.
    pub(super) fn sds_alloc_size(&self, len: u64) -> u64 {
        if sds_header(len, true, true) == 1 {
            sds_request(len, true, true)
        } else {
            self.j(sds_request(len, true, true))
        }
    }

    /// `entryMemUsage` of a hash field (`entry.c`): field and value are
    /// embedded at their requested sizes (value as type 8 sds) when they fit
    /// `EMBED_VALUE_MAX_ALLOC_SIZE`; otherwise the entry holds a value
    /// pointer, the field becomes at least type 8 and the value is a
    /// separate sds. A TTL prepends an `ExpireMeta` and also forces type 8.
    fn hash_entry(&self, field: u64, value: u64, ttl: bool) -> u64 {
        let field_type5 = !ttl;
        let expiry = if ttl { EXPIRE_META } else { 0 };
        let embedded_field = sds_request(field, field_type5, true);
        let embedded_value = sds_request(value, false, true);
        if embedded_field + expiry + embedded_value <= EMBED_VALUE_MAX {
            embedded_field + expiry + embedded_value
        } else {
            sds_request(field, false, true) + expiry + 8 + self.sds_alloc_size(value)
        }
    }

    /// What field TTLs add to a hashtable hash: the `ExpireMeta` of each
    /// volatile field, plus the switch of short fields to type 8 sds.
    /// Lengths of the volatile fields are not known one by one, so the
    /// average field is used.
    fn volatile_entries(&self, info: &ValueInfo) -> u64 {
        let s = &info.shape;
        let n = info.elements.unwrap_or(0);
        if s.volatile_fields == 0 || n == 0 {
            return 0;
        }
        let (f, v) = (s.sum_a / n, s.sum_b / n);
        let delta = self
            .hash_entry(f, v, true)
            .saturating_sub(self.hash_entry(f, v, false));
        delta * s.volatile_fields
    }

    /// A stream's tracked `alloc_size` (`t_stream.c`): the usable sizes of
    /// the struct, of every radix tree (`raxNewWithMetadata` charges its
    /// struct and nodes), of each group, NACK and consumer with its name,
    /// plus the listpacks at `lpBytes`. Without the per-node layout the
    /// node sizes are taken as 24 bytes each.
    pub(super) fn stream_alloc_size(&self, info: &ValueInfo, s: &StreamInfo) -> u64 {
        let shape = &info.shape;
        let structs = 1 + 2 * s.groups + s.consumers + u64::from(s.groups > 0);
        let structs = structs + u64::from(s.pending > 0);
        let trees = structs * self.j(RAX)
            + if shape.rax_nodes.is_empty() {
                let nodes = s.listpack_rax_nodes + s.pel_rax_nodes + s.consumer_pel_rax_nodes;
                nodes * self.j(24)
            } else {
                shape
                    .rax_nodes
                    .iter()
                    .map(|&(_, n)| self.j(u64::from(n)))
                    .sum::<u64>()
            };
        let names = s
            .consumer_name_bytes
            .checked_div(s.consumers)
            .map_or(0, |avg| self.sds_alloc_size(avg) * s.consumers);
        self.j(STREAM)
            + trees
            + s.listpack_bytes_decoded
            + s.groups * self.j(STREAM_CG)
            + s.pending * self.j(STREAM_NACK)
            + s.consumers * self.j(STREAM_CONSUMER)
            + names
    }
}

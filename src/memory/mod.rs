//! The memory model: for each key, an estimate of what `MEMORY USAGE key
//! SAMPLES 0` returned on the server that wrote the snapshot.
//!
//! `MEMORY USAGE` is `objectComputeSize` (the value) plus whatever
//! `memoryCommand` adds for the key and its dictionary entry (Redis and
//! Valkey `src/object.c`). Both changed several times, so the model first
//! picks a server [`Era`] from the file's [`Profile`], then applies that
//! era's formula to the size facts [`inspect`](crate::rdb::value::inspect)
//! extracted ([`ValueInfo`]), rounding every allocation through the server's
//! [`Allocator`]. The functions are pure and allocate nothing per key
//! (except to decode a JSON document or reorder a hand-made array), so
//! workers can call them in parallel.

pub mod alloc;
mod array;
mod kvobj;
mod modules;
mod valkey;

use alloc::sds_request;
pub use alloc::Allocator;

use crate::rdb::frame::Frame;
use crate::rdb::profile::{Family, Profile};
use crate::rdb::stream::RaxTree;
use crate::rdb::value::{TypeName, ValueInfo};

/// A family of servers that compute `MEMORY USAGE` the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Era {
    /// Redis ≤ 4.0 (2.8 and 3.2 had no `MEMORY USAGE`; they are answered
    /// with the 4.0 formula): unrounded `sdsAllocSize`, the key measured
    /// from the command argument, skiplist bookkeeping not counted.
    Redis4,
    /// Redis 5.0: as 4.0, but the key is the keyspace sds and the skiplist
    /// header, `zskiplist` and `dict` structs are counted.
    Redis5,
    /// Redis 6.0 – 6.2: strings rounded by `sdsZmallocSize`; ziplists and
    /// intsets still counted at their exact blob length.
    Redis6,
    /// Redis 7.0 – 8.0 (and Valkey 7.2): every allocation rounded by
    /// `zmalloc_size`.
    Redis7,
    /// Redis 8.2: the key lives in a `kvobj` together with the object
    /// header, an optional expire and small string values.
    Redis8,
    /// Redis 8.4+: `MEMORY USAGE` is `kvobjAllocSize`, the requested size of
    /// the `kvobj` plus the bytes each type tracks for itself (listpacks at
    /// `lpBytes`, hashtables from their dict and tracked element sizes).
    Redis84,
    /// Valkey 8.0: Redis 7.2 value formulas, but set members are counted
    /// without a `dictEntry` unless they share a bucket; the key is
    /// embedded in the keyspace `dictEntry`.
    Valkey8,
    /// Valkey 8.1+: the object embeds key and expire; the key is only
    /// counted for embedded strings.
    Valkey81,
}

impl Era {
    /// The era of a server profile.
    pub fn of(profile: &Profile) -> Era {
        match profile.family {
            Family::Redis if !profile.at_least(5, 0) => Era::Redis4,
            Family::Redis if !profile.at_least(6, 0) => Era::Redis5,
            Family::Redis if !profile.at_least(7, 0) => Era::Redis6,
            Family::Redis if !profile.at_least(8, 2) => Era::Redis7,
            Family::Redis if !profile.at_least(8, 4) => Era::Redis8,
            Family::Redis => Era::Redis84,
            Family::Valkey if !profile.at_least(8, 0) => Era::Redis7,
            Family::Valkey if !profile.at_least(8, 1) => Era::Valkey8,
            Family::Valkey => Era::Valkey81,
        }
    }
}

/// `sizeof(robj)`.
const ROBJ: u64 = 16;
/// `sizeof(dictEntry)`: key, value, next.
const DICT_ENTRY: u64 = 24;
/// `sizeof(quicklist)`.
const QUICKLIST: u64 = 40;
/// `sizeof(quicklistNode)` before 7.0, whose `sz` became a `size_t` (40).
const QUICKLIST_NODE: u64 = 32;
/// `sizeof(zset)`: dict and skiplist pointers.
const ZSET: u64 = 16;
/// `sizeof(zskiplist)`.
const ZSKIPLIST: u64 = 32;
/// `ZSKIPLIST_MAXLEVEL`: the header node carries every level.
const ZSKIPLIST_MAXLEVEL: u64 = 32;
/// Redis's default `list-max-listpack-size -2`: 8 KiB nodes.
const LIST_NODE_BYTES: u64 = 8192;

/// A memory model: server era plus allocator.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Model {
    /// The server whose `MEMORY USAGE` is reproduced.
    pub profile: Profile,
    /// The allocator that server was built with.
    pub allocator: Allocator,
    /// True when the server ran in cluster mode, where Redis 7.0 and 7.2
    /// count per-entry slot metadata (`dictMetadataSize`).
    pub cluster: bool,
}

impl Model {
    /// A model for `profile` rounding through `allocator`.
    pub fn new(profile: Profile, allocator: Allocator) -> Model {
        Model {
            profile,
            allocator,
            cluster: false,
        }
    }

    /// The same model for a server running in cluster mode or not.
    pub fn with_cluster(self, cluster: bool) -> Model {
        Model { cluster, ..self }
    }

    /// Bytes of slot metadata Redis 7.0/7.2 cluster mode keeps per keyspace
    /// entry (`clusterDictMetadata`: two list pointers in 7.0, one in 7.2).
    fn cluster_metadata(&self) -> u64 {
        let era_has_it = self.profile.at_least(7, 0) && !self.profile.at_least(7, 4);
        if !self.cluster || self.profile.family != Family::Redis || !era_has_it {
            0
        } else if self.profile.at_least(7, 2) {
            8
        } else {
            16
        }
    }

    /// Maps a `--model` name to a representative server profile:
    ///
    /// | name | server | formula |
    /// |---|---|---|
    /// | `redis-4` | Redis 4.0.14 | unrounded strings, ziplist blob lengths |
    /// | `redis-5` | Redis 5.0.14 | as 4.0, plus skiplist bookkeeping |
    /// | `redis-6` | Redis 6.2.14 | rounded strings, exact blobs |
    /// | `redis-7.0` | Redis 7.0.15 | everything rounded |
    /// | `redis-7.4` | Redis 7.4.1 | as 7.0, plus hash field TTLs |
    /// | `redis-8.0` | Redis 8.0.0 | as 7.4 |
    /// | `redis-8.8` | Redis 8.8.0 | `kvobj`, exact per-type accounting |
    /// | `valkey-8` | Valkey 8.0.0 | key inside the dict entry |
    /// | `valkey-9` | Valkey 9.0.0 | key inside the object |
    pub fn parse_name(s: &str) -> Option<Profile> {
        let (family, version) = match s.trim().to_ascii_lowercase().as_str() {
            "redis-4" | "redis-4.0" => (Family::Redis, (4, 0, 14)),
            "redis-5" | "redis-5.0" => (Family::Redis, (5, 0, 14)),
            "redis-6" | "redis-6.2" => (Family::Redis, (6, 2, 14)),
            "redis-7" | "redis-7.0" => (Family::Redis, (7, 0, 15)),
            "redis-7.2" => (Family::Redis, (7, 2, 0)),
            "redis-7.4" => (Family::Redis, (7, 4, 1)),
            "redis-8" | "redis-8.0" => (Family::Redis, (8, 0, 0)),
            "redis-8.8" => (Family::Redis, (8, 8, 0)),
            "valkey-8" | "valkey-8.0" => (Family::Valkey, (8, 0, 0)),
            "valkey-8.1" => (Family::Valkey, (8, 1, 0)),
            "valkey-9" | "valkey-9.0" => (Family::Valkey, (9, 0, 0)),
            _ => return None,
        };
        Some(Profile {
            family,
            version,
            from_aux: false,
        })
    }

    /// The server era whose formula applies.
    pub fn era(&self) -> Era {
        Era::of(&self.profile)
    }

    /// Whether [`Depth::element_lengths`](crate::rdb::value::Depth) should
    /// be set: every era rounds hashtable members one by one, so exact
    /// per-element lengths give exact answers (Redis ≤ 5.0 does not round,
    /// but still picks the sds header per element).
    pub fn needs_element_lengths(&self) -> bool {
        true
    }

    /// `zmalloc_size` of a request of `n` bytes.
    fn j(&self, n: u64) -> u64 {
        self.allocator.usable(n)
    }

    /// True when the era measures sds buffers with `sdsZmallocSize` (rounded)
    /// rather than `sdsAllocSize` (requested).
    fn rounds_sds(&self) -> bool {
        self.era() >= Era::Redis6
    }

    /// Size of an sds string created by `sdsnewlen` as the era counts it.
    fn sds(&self, len: u64) -> u64 {
        let req = sds_request(len, true, self.era() >= Era::Redis8);
        if self.rounds_sds() {
            self.j(req)
        } else {
            req
        }
    }

    /// Estimated `MEMORY USAGE key SAMPLES 0` for one key: value, key and
    /// keyspace entry as the era's `memoryCommand` counts them.
    ///
    /// `key_len` is the key's length in bytes; `info` comes from
    /// [`inspect`](crate::rdb::value::inspect) with the same profile.
    pub fn key_memory(&self, frame: &Frame<'_>, key_len: u64, info: &ValueInfo) -> u64 {
        let ttl = frame.expire_ms.is_some();
        self.value_size(frame, key_len, info) + self.key_overhead(key_len, ttl, info)
    }

    /// What `memoryCommand` adds to `objectComputeSize` for the key.
    fn key_overhead(&self, key_len: u64, ttl: bool, info: &ValueInfo) -> u64 {
        match self.era() {
            // 4.0: sdsAllocSize of the command argument, an embstr (type 8
            // header) or a raw sds without the type 5 header.
            Era::Redis4 => sds_request(key_len, false, false) + DICT_ENTRY,
            // 5.0: sdsAllocSize of the keyspace key.
            Era::Redis5 => sds_request(key_len, true, false) + DICT_ENTRY,
            Era::Redis6 | Era::Redis7 => {
                self.j(sds_request(key_len, true, false)) + DICT_ENTRY + self.cluster_metadata()
            }
            // Valkey 8.0 (`memoryCommand`): the key sds sits in the
            // dictEntry, after value and next pointers and a header-size
            // byte.
            Era::Valkey8 => self.j(16 + 1 + sds_request(key_len, false, false)),
            Era::Redis84 => 0,
            Era::Redis8 => {
                if self.is_embstr(info) {
                    0
                } else {
                    self.kvobj(key_len, ttl, 0)
                }
            }
            Era::Valkey81 => 0,
        }
    }

    fn is_embstr(&self, info: &ValueInfo) -> bool {
        info.encoding == "embstr"
    }

    /// Redis 8.2+ `kvobj` allocation: object header, optional expire slot,
    /// key-header-size byte, key sds, and `extra` bytes of embedded value.
    fn kvobj(&self, key_len: u64, ttl: bool, extra: u64) -> u64 {
        let expire = if ttl { 8 } else { 0 };
        self.j(ROBJ + expire + 1 + sds_request(key_len, false, true) + extra)
    }

    /// `objectComputeSize` for the value, including its object header.
    fn value_size(&self, frame: &Frame<'_>, key_len: u64, info: &ValueInfo) -> u64 {
        let shape = &info.shape;
        if let TypeName::Module(name) = info.type_name {
            return self.module_value(frame, key_len, &name);
        }
        let n = info.elements.unwrap_or(0);
        if self.era() == Era::Valkey81 {
            return self.valkey_value(frame, key_len, info, n);
        }
        if self.era() == Era::Redis84 {
            return self.kvobj_alloc_size(frame, key_len, info, n);
        }
        match info.encoding {
            "int" => ROBJ,
            "embstr" => self.embstr(key_len, frame.expire_ms.is_some(), shape.bytes),
            "raw" => ROBJ + self.sds(shape.bytes),
            "ziplist" | "listpack" | "intset" | "zipmap" => ROBJ + self.blob(shape.bytes),
            "listpackex" => ROBJ + self.j(LISTPACK_EX) + self.j(shape.bytes),
            "quicklist" => self.quicklist(info),
            "linkedlist" => self.linkedlist(info),
            "hashtable" => self.hashtable(info, n),
            "skiplist" => self.skiplist(info, n),
            "stream" | "unknown" if shape.stream.is_some() => self.stream(info),
            "sliced-array" => ROBJ + shape.bytes,
            _ => ROBJ + shape.bytes,
        }
    }

    /// A module value: its `mem_usage` answer (`moduleGetMemUsage`), which
    /// Redis 8.4+ adds to the `kvobj` allocation (`kvobjComputeSize`:
    /// `zmalloc_size(o)`); earlier servers count the key separately. For
    /// a module the model cannot read, the serialized size stands in.
    fn module_value(&self, frame: &Frame<'_>, key_len: u64, name: &[u8; 9]) -> u64 {
        match self.module_mem_usage(name, frame.value) {
            Some(usage) if self.era() == Era::Redis84 => {
                self.j(self.kvobj_head(frame, key_len)) + usage
            }
            Some(usage) => usage,
            None => ROBJ + frame.value.len() as u64,
        }
    }

    /// Embedded string: object header and value sds in one allocation.
    fn embstr(&self, key_len: u64, ttl: bool, len: u64) -> u64 {
        match self.era() {
            // `sdslen + 2 + sizeof(robj)`, unrounded.
            Era::Redis4 | Era::Redis5 | Era::Redis6 => ROBJ + len + 2,
            Era::Redis7 | Era::Valkey8 => self.j(ROBJ + 3 + len + 1),
            Era::Redis8 | Era::Redis84 => self.kvobj(key_len, ttl, 3 + len + 1),
            Era::Valkey81 => {
                let expire = if ttl { 8 } else { 0 };
                self.j(ROBJ + expire + 1 + sds_request(key_len, true, false) + 3 + len + 1)
            }
        }
    }

    /// A compact blob (listpack, ziplist, intset): exact before 7.0,
    /// `zmalloc_size` after.
    fn blob(&self, bytes: u64) -> u64 {
        if self.era() <= Era::Redis6 {
            bytes
        } else {
            self.j(bytes)
        }
    }

    fn quicklist(&self, info: &ValueInfo) -> u64 {
        let nodes: u64 = info
            .shape
            .nodes
            .iter()
            .map(|&(bytes, _plain)| self.quicklist_node() + self.blob(bytes))
            .sum();
        ROBJ + QUICKLIST + nodes
    }

    /// `sizeof(quicklistNode)`: 7.0 widened `sz` to a `size_t` for plain
    /// nodes (#9740), 36 bytes padded to 40.
    fn quicklist_node(&self) -> u64 {
        if self.era() >= Era::Redis7 {
            40
        } else {
            QUICKLIST_NODE
        }
    }

    /// A Redis ≤ 3.0 linked list, answered as the quicklist a 4.0 server
    /// would build when loading it: 8 KiB ziplists of 2 bytes of entry
    /// header per element.
    fn linkedlist(&self, info: &ValueInfo) -> u64 {
        let n = info.elements.unwrap_or(0);
        let payload = info.shape.sum_a + 2 * n;
        let nodes = payload.div_ceil(LIST_NODE_BYTES).max(1);
        ROBJ + QUICKLIST + nodes * (QUICKLIST_NODE + 11) + self.blob(payload)
    }

    /// `sizeof(dict)` plus the bucket array after `n` insertions.
    fn dict(&self, n: u64) -> u64 {
        let dict = if self.era() <= Era::Redis6 { 96 } else { 56 };
        dict + 8 * buckets(n)
    }

    /// Sum over elements of `f(member_len, value_len)`, exact when
    /// per-element lengths were collected, else from the average lengths.
    fn per_element(&self, info: &ValueInfo, n: u64, f: impl Fn(u64, u64) -> u64) -> u64 {
        let s = &info.shape;
        if !s.lens.is_empty() {
            return s
                .lens
                .iter()
                .map(|((a, b), count)| f(u64::from(a), u64::from(b)) * count)
                .sum();
        }
        if n == 0 {
            return 0;
        }
        f(s.sum_a / n, s.sum_b / n) * n
    }

    fn hashtable(&self, info: &ValueInfo, n: u64) -> u64 {
        let is_hash = info.type_name.as_str() == "hash";
        let elements = if is_hash {
            self.per_element(info, n, |f, v| self.sds(f) + self.sds(v) + DICT_ENTRY)
                + self.rehashing_hash(n)
        } else if self.era() == Era::Valkey8 {
            // Valkey 8.0 sets are `no_value` dicts: a member alone in its
            // bucket is stored as the bare sds pointer, and only a member
            // added to an occupied bucket gets a 16-byte `{key, next}`
            // entry, which `dictEntryMemUsage` counts.
            let old = self.rehashing_set(info, n);
            let shared = if old > 0 {
                shared_members_mid_rehash(n)
            } else {
                shared_bucket_members(n)
            };
            self.per_element(info, n, |m, _| self.sds(m)) + 16 * shared + old
        } else {
            self.per_element(info, n, |m, _| self.sds(m) + DICT_ENTRY) + self.rehashing_set(info, n)
        };
        ROBJ + self.dict(n) + elements
    }

    /// The old bucket array a set still holds mid-rehash.
    ///
    /// Up to 7.0 `SADD` never presizes: a set of strings starts at 4
    /// buckets and grows one member at a time, even when one command
    /// writes it all, and a set of integers is presized to its 513 members
    /// when it leaves the intset (`setTypeConvert`). Adding member `S + 1`
    /// to a full `S`-bucket table doubles it; each later insertion then
    /// moves one non-empty old bucket (`_dictRehashStep`), about
    /// `S·(1 − (1 − 1/S)^S)` of them, and until then `dictSlots` counts
    /// both tables. Measured on Redis 6.0.20, 6.2.14 and 7.0.15: this
    /// predicts 159–162 of 168 sets exactly. A set loaded from a file is
    /// presized and a set read since its last doubling has finished
    /// rehashing; for those the estimate is high by the old table.
    /// From 7.2 the command creating a set presizes it; see
    /// [`grown_after_first_command`].
    pub(super) fn rehashing_set(&self, info: &ValueInfo, n: u64) -> u64 {
        if self.dict_presizes() {
            return grown_after_first_command(n, 1);
        }
        if self.era() > Era::Redis7 {
            return 0;
        }
        // The table the set had before its last run of single insertions.
        let start = if info.shape.int && n > 512 { 1024 } else { 4 };
        old_table_mid_rehash(n, start, 1)
    }

    /// The old bucket array a hash still holds mid-rehash (dict-based
    /// servers).
    ///
    /// Up to 7.0 a hash is never presized: it leaves the listpack with a
    /// dict grown from 4 buckets, and each new field costs two rehash steps
    /// (`dictFind`, then `dictAdd`). From 7.2 a command writing more than
    /// `hash-max-listpack-entries` (512) fields presizes the dict, so only
    /// hashes of at most 512 fields (made hashtables by a long value) grow
    /// from 4 buckets, one step per field (`dictAddRaw`). Measured on the
    /// hashes of Redis 6.0.20, 6.2.14, 7.0.15, 7.2.6, 7.4.1 and Valkey
    /// 8.0.1 built from their tags, this predicts every one of them.
    /// Larger hashes follow [`grown_after_first_command`].
    pub(super) fn rehashing_hash(&self, n: u64) -> u64 {
        match self.era() {
            Era::Redis4 | Era::Redis5 | Era::Redis6 => old_table_mid_rehash(n, 4, 2),
            Era::Redis7 if !self.profile.at_least(7, 2) => old_table_mid_rehash(n, 4, 2),
            Era::Redis7 | Era::Valkey8 if n <= 512 => old_table_mid_rehash(n, 4, 1),
            _ if self.dict_presizes() => grown_after_first_command(n, 1),
            _ => 0,
        }
    }

    /// Whether the server's dicts are presized by the command creating a
    /// collection (7.2 and later, Valkey 8.0); Valkey 8.1+ hashtables are
    /// handled in `valkey.rs`.
    fn dict_presizes(&self) -> bool {
        match self.era() {
            Era::Redis7 => self.profile.at_least(7, 2),
            Era::Redis8 | Era::Redis84 | Era::Valkey8 => true,
            _ => false,
        }
    }

    fn skiplist(&self, info: &ValueInfo, n: u64) -> u64 {
        let node = self.expected_skiplist_node();
        let elements = self.per_element(info, n, |m, _| self.sds(m) + DICT_ENTRY) + node * n;
        // The header node carries every level: 64 in 5.0 (`server.h`
        // `ZSKIPLIST_MAXLEVEL`, 560e1e6c4, back to 32 in 6.0), 32 otherwise.
        let header_levels = if self.era() == Era::Redis5 {
            64
        } else {
            ZSKIPLIST_MAXLEVEL
        };
        let fixed = if self.era() == Era::Redis4 {
            ROBJ + ZSET + 8 * buckets(n)
        } else {
            ROBJ + ZSET + ZSKIPLIST + self.dict(n) + self.j(24 + 16 * header_levels)
        };
        fixed + elements + self.rehashing_zset(n)
    }

    /// The old bucket array of a sorted set's dict mid-rehash: up to 7.0
    /// it grows from 4 buckets (also when it leaves the listpack at 129
    /// members), two rehash steps per new member (`dictFind`, `dictAdd`);
    /// from 7.2 it is presized by the creating command (see
    /// [`grown_after_first_command`]). A 129-member set on Redis 6.0.20,
    /// 6.2.14 and 7.0.15 built from their tags measures the old 128 buckets.
    pub(super) fn rehashing_zset(&self, n: u64) -> u64 {
        let dict_era = matches!(self.era(), Era::Redis5 | Era::Redis6)
            || (self.era() == Era::Redis7 && !self.profile.at_least(7, 2));
        if dict_era {
            old_table_mid_rehash(n, 4, 2)
        } else if self.dict_presizes() {
            grown_after_first_command(n, 2)
        } else {
            0
        }
    }

    /// Expected `zmalloc_size` of a skiplist node: `24 + 16·level` bytes
    /// with `level` geometric (p = 1/4, `zslRandomLevel`).
    fn expected_skiplist_node(&self) -> u64 {
        self.expected_node(24)
    }

    /// Expected `zmalloc_size` of a skiplist node of `base + 16·level`
    /// bytes (levels to 8 cover all but 2^-16 of the probability).
    fn expected_node(&self, base: u64) -> u64 {
        let mut p = 0.75f64;
        let mut sum = 0.0f64;
        for level in 1..=8 {
            sum += p * self.j(base + 16 * level) as f64;
            p /= 4.0;
        }
        sum.round() as u64
    }

    /// `objectComputeSize` for a stream (Redis 5.0 – 8.2, Valkey): the
    /// stream struct, `streamRadixTreeMemoryUsage` of the listpack tree,
    /// every listpack (`SAMPLES 0` visits them all), and per consumer group
    /// its struct, PEL tree and NACKs, and per consumer its struct, name and
    /// PEL tree.
    ///
    /// Each tree is estimated as 16 bytes per element and a flat `4 + 30·8`
    /// bytes per node (`streamRadixTreeMemoryUsage`, which leaves out the
    /// struct itself), except on Valkey 8.1+, which tracks every tree's
    /// allocations (`raxAllocSize`: struct and nodes at their usable size).
    ///
    /// The listpacks are counted at `lpBytes` in 5.0 and at `zmalloc_size`
    /// from 6.2 (#11885, backported). A live server opens each
    /// node with `lpNew(4096)` (`STREAM_LISTPACK_MAX_PRE_ALLOCATE`) and
    /// shrinks it to fit once full, so only the last listpack keeps the
    /// preallocation (6.2 already preallocated).
    fn stream(&self, info: &ValueInfo) -> u64 {
        let Some(s) = info.shape.stream.as_deref().copied() else {
            return ROBJ;
        };
        if self.era() == Era::Redis84 {
            return ROBJ + self.stream_alloc_size(info, &s);
        }
        // Before 6.2 (#9164, #11885) the stream struct was left out and
        // listpacks were counted at `lpBytes`.
        let redis5 = self.era() <= Era::Redis5
            || (self.era() == Era::Redis6 && !self.profile.at_least(6, 2));
        // `sizeof(stream)` grew by the first/max-deleted ids and the added
        // counter in 7.0.
        let stream_struct = match self.era() {
            _ if redis5 => 0,
            Era::Redis6 => 40,
            _ => 80,
        };
        let cg = if self.era() <= Era::Redis6 { 32 } else { 40 };
        let consumer = if self.era() >= Era::Redis7 && self.profile.at_least(7, 2) {
            32
        } else {
            24
        };
        let floor = if self.profile.at_least(6, 2) { 4096 } else { 0 };
        let measure = |bytes: u64| if redis5 { bytes } else { self.j(bytes) };
        let lps = if info.shape.nodes.len() as u64 == s.listpacks && s.listpacks > 0 {
            let (last, full) = info.shape.nodes.split_last().unwrap_or((&(0, false), &[]));
            full.iter().map(|&(b, _)| measure(b)).sum::<u64>() + measure(last.0.max(floor))
        } else {
            let avg = s
                .listpack_bytes_decoded
                .checked_div(s.listpacks)
                .unwrap_or(0);
            s.listpacks.saturating_sub(1) * measure(avg)
                + u64::from(s.listpacks > 0) * measure(s.last_listpack_bytes.max(floor))
        };
        // Valkey 8.1+ tracks each tree's allocations (`raxAllocSize`);
        // the others estimate them (`streamRadixTreeMemoryUsage`).
        let exact = self.era() == Era::Valkey81 && !info.shape.rax_nodes.is_empty();
        let tree = |kind: RaxTree, trees: u64, numele: u64, numnodes: u64| {
            if exact {
                let nodes = info.shape.rax_nodes.iter().filter(|n| n.0 == kind);
                trees * self.j(RAX) + nodes.map(|n| self.j(u64::from(n.1))).sum::<u64>()
            } else {
                16 * numele + 244 * numnodes
            }
        };
        let listpack_tree = tree(RaxTree::Listpacks, 1, s.listpacks, s.listpack_rax_nodes);
        let mut size = ROBJ + stream_struct + listpack_tree + lps;
        if s.groups > 0 {
            let pels = tree(RaxTree::GroupPel, s.groups, s.pending, s.pel_rax_nodes);
            size += s.groups * cg + pels + 24 * s.pending;
            size += s.consumers * consumer + s.consumer_name_bytes;
            size += tree(
                RaxTree::ConsumerPel,
                s.consumers,
                s.consumer_pending,
                s.consumer_pel_rax_nodes,
            );
        }
        size
    }
}

/// `sizeof(listpackEx)` (Redis 7.4 `t_hash.c`): expire metadata, key
/// pointer and listpack pointer.
const LISTPACK_EX: u64 = 32;

/// Bytes of the old bucket array still counted when a dict that grew one
/// element at a time from `start` buckets holds `n` elements, with
/// `steps_per_element` rehash steps per insertion after a doubling.
///
/// Adding element `S + 1` to a full `S`-bucket table doubles it; each step
/// then moves one non-empty old bucket, `S·(1 − (1 − 1/S)^S)` of them under
/// a uniform hash, and `dictSlots` counts both tables until they are gone.
fn old_table_mid_rehash(n: u64, start: u64, steps_per_element: u64) -> u64 {
    if n <= start {
        return 0;
    }
    // The largest power of two below `n`.
    let old = 1u64 << (63 - (n - 1).leading_zeros());
    if old < start {
        return 0;
    }
    let s = old as f64;
    let buckets = s * (1.0 - (1.0 - 1.0 / s).powf(s));
    if (((n - old - 1) * steps_per_element) as f64) < buckets {
        8 * old
    } else {
        0
    }
}

/// Elements the command creating a collection is assumed to write at most.
/// Bulk writers batch (a multi-megabyte command blocks the server while it
/// runs), 100 to 1 000 members per command, and the creating command
/// presizes the table for its batch only, so a doubling reached past this
/// size came from the single insertions of later commands. Replayed on
/// Redis 7.2.6, 7.4.1 and 8.0-m01 (`testdata/rdb/capture_batched.py`), batches of
/// 100, 300 and 1 000 into collections of 2 300 … 20 000 members leave
/// exactly the old table this predicts. Below it the file cannot tell one
/// command writing 1 500 members (a 2 048-bucket table, never rehashed)
/// from batches of ≤ 1 024 (doubled from 1 024 buckets, rehashing until
/// ~1 670 members), and one command is taken.
pub(super) const ONE_COMMAND_MAX: u64 = 2_048;

/// Old bucket array of a presized dict (7.2+) still rehashing: the command
/// creating a collection sizes its table for the elements it writes, and
/// later commands add one element at a time, each costing
/// `steps_per_element` rehash steps. A file cannot show how many elements
/// the first command wrote, so a doubling the table reached past
/// [`ONE_COMMAND_MAX`] elements is taken to come from single insertions,
/// and one below it to have been skipped by the presize. The incident
/// hashes written 1 000 fields per `HSET` on Redis 7.4, 8.0 and 8.8 measure
/// exactly this old table (512 KiB on 100 000 fields).
pub(super) fn grown_after_first_command(n: u64, steps_per_element: u64) -> u64 {
    old_table_mid_rehash(n, ONE_COMMAND_MAX, steps_per_element)
}

/// Expected members of an `n`-member dict that share their bucket with
/// one added before them: `n` less the expected occupied buckets,
/// `b·(1 − (1 − 1/b)^n)` for `b` buckets under a uniform hash.
fn shared_bucket_members(n: u64) -> u64 {
    let b = buckets(n) as f64;
    if b == 0.0 {
        return 0;
    }
    let occupied = b * (1.0 - (1.0 - 1.0 / b).powf(n as f64));
    (n as f64 - occupied).round() as u64
}

/// Expected members sharing a bucket in a Valkey 8.0 `no_value` dict of
/// `n` members caught rehashing from `S` (the largest power of two below
/// `n`) to `2S` buckets.
///
/// An insertion there first rehashes the new member's own old bucket when
/// it still holds members (`dictFindPositionForInsert` →
/// `dictBucketRehash`), else one bucket at the rehash index; so a member
/// lands beside the ones just moved, and the two tables share buckets more
/// than a uniform spread over the final table gives (by up to 1 100
/// entries, 17 KB, on 9 000 members). With `c` old members (Poisson, mean
/// 1: the table doubled when full) and `m` new ones (Poisson, mean
/// `μ = (n − S)/S`) per old index, a moved index's pair of new buckets is
/// non-empty `2(1 − 2^−(c+m))` times on average and an unmoved one (no new
/// member hit it) holds its one old bucket. The fraction `f` of indexes
/// behind the rehash index follows from each insertion not landing on an
/// unmoved non-empty bucket advancing it past one (integrated in 256
/// steps). Replayed on Valkey 8.0.1 (`capture_batched.py`): sets caught
/// mid-rehash go from 3.2 % median short to the byte counts a simulation
/// of the dict gives.
fn shared_members_mid_rehash(n: u64) -> u64 {
    if n <= 4 {
        return shared_bucket_members(n);
    }
    let s_pow = 1u64 << (63 - (n - 1).leading_zeros());
    let (s, j) = (s_pow as f64, (n - s_pow) as f64);
    let d = 1.0 - (-1.0f64).exp();
    // Insertions after the one that doubled the table each take a step.
    let k = (j - 1.0).max(0.0);
    const PARTS: u32 = 256;
    let dt = k / f64::from(PARTS);
    let mut f = 0.0f64;
    for i in 0..PARTS {
        if f >= 1.0 {
            break;
        }
        let mu = (f64::from(i) + 0.5) * dt / s;
        let density = d * (-mu).exp();
        f += dt * (1.0 - (1.0 - f) * density) / (s * density);
    }
    let f = f.min(1.0);
    let mu = j / s;
    let em = (-mu).exp();
    let both = (-(1.0 + mu) / 2.0).exp();
    let passed = 2.0 * (1.0 - both);
    // An index not passed: its old bucket if no new member hit it, else
    // the pair its members and the new ones split into.
    let alone = d * em;
    let split = 2.0 * ((1.0 - alone) - (both - em * ((-0.5f64).exp() - (-1.0f64).exp())));
    let nonempty = s * (f * passed + (1.0 - f) * (alone + split));
    (n as f64 - nonempty).round().max(0.0) as u64
}

/// Buckets of a dict holding `n` entries built by insertion: the smallest
/// power of two ≥ n, at least 4 (`_dictExpandIfNeeded`, `_dictNextExp`).
fn buckets(n: u64) -> u64 {
    if n == 0 {
        0
    } else {
        n.max(4).next_power_of_two()
    }
}

/// `sizeof(rax)`: head, element and node counts, and the allocation size
/// (Valkey 8.1+) or its pointer (Redis 8.4+).
const RAX: u64 = 32;

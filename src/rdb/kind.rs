//! Value types: the byte before each key, resolved against the file's magic.
//!
//! The same byte can mean different layouts (22 is a Redis 7.4-RC hash with
//! metadata but a Valkey 9 `HASH_2`), so the framer turns every type byte into
//! a [`Kind`] once and dispatches on that.

/// Which fork wrote the file, from its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Magic {
    /// `REDIS` + 4 digits: every Redis, and Valkey up to 8.1.
    Redis,
    /// `VALKEY` + 3 digits: Valkey 9.0 and later.
    Valkey,
}

/// A value type as stored in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 0: a string.
    String,
    /// 1: a linked list (Redis ≤ 3.0).
    List,
    /// 2: a hashtable set.
    Set,
    /// 3: a skiplist zset with string scores (Redis ≤ 3.2).
    Zset,
    /// 4: a hashtable hash.
    Hash,
    /// 5: a skiplist zset with binary scores (Redis 4.0+).
    Zset2,
    /// 6: a module value from 4.0 release candidates (no framing).
    ModulePreGa,
    /// 7: a module value walked by opcodes.
    Module2,
    /// 9: a zipmap hash (Redis 2.4).
    HashZipmap,
    /// 10: a ziplist list (Redis 2.4–3.0).
    ListZiplist,
    /// 11: an intset.
    SetIntset,
    /// 12: a ziplist zset (Redis 2.4–6.2).
    ZsetZiplist,
    /// 13: a ziplist hash (Redis 2.6–6.2).
    HashZiplist,
    /// 14: a quicklist of ziplists (Redis 3.2–6.2).
    ListQuicklist,
    /// 15: a stream, first layout (Redis 5.0–6.2).
    Stream1,
    /// 16: a listpack hash (Redis 7.0+).
    HashListpack,
    /// 17: a listpack zset (Redis 7.0+).
    ZsetListpack,
    /// 18: a quicklist of listpacks or plain nodes (Redis 7.0+).
    ListQuicklist2,
    /// 19: a stream with deletion metadata (Redis 7.0).
    Stream2,
    /// 20: a listpack set (Redis 7.2+).
    SetListpack,
    /// 21: a stream with consumer active times (Redis 7.2–8.4, Valkey).
    Stream3,
    /// 22 under `REDIS`: hash with absolute field TTLs (7.4 release candidates).
    HashMetadataPreGa,
    /// 23 under `REDIS`: listpack hash with TTL triples (7.4 release candidates).
    HashListpackExPreGa,
    /// 24: hashtable hash with field TTLs (Redis 7.4+).
    HashMetadata,
    /// 25: listpack hash with field TTLs (Redis 7.4+).
    HashListpackEx,
    /// 26: a stream with idempotent-producer state (Redis 8.6).
    Stream4,
    /// 27: a stream with a NACK zone per group (Redis 8.8).
    Stream5,
    /// 28: a sparse array (Redis 8.8).
    Array,
    /// 22 under `VALKEY`: hashtable hash with per-field expiry (Valkey 9).
    ValkeyHash2,
}

impl Kind {
    /// Resolves a type byte under a magic; `None` for opcodes and unknown
    /// bytes.
    pub fn from_byte(b: u8, magic: Magic) -> Option<Kind> {
        Some(match (b, magic) {
            (0, _) => Kind::String,
            (1, _) => Kind::List,
            (2, _) => Kind::Set,
            (3, _) => Kind::Zset,
            (4, _) => Kind::Hash,
            (5, _) => Kind::Zset2,
            (6, _) => Kind::ModulePreGa,
            (7, _) => Kind::Module2,
            (9, _) => Kind::HashZipmap,
            (10, _) => Kind::ListZiplist,
            (11, _) => Kind::SetIntset,
            (12, _) => Kind::ZsetZiplist,
            (13, _) => Kind::HashZiplist,
            (14, _) => Kind::ListQuicklist,
            (15, _) => Kind::Stream1,
            (16, _) => Kind::HashListpack,
            (17, _) => Kind::ZsetListpack,
            (18, _) => Kind::ListQuicklist2,
            (19, _) => Kind::Stream2,
            (20, _) => Kind::SetListpack,
            (21, _) => Kind::Stream3,
            (22, Magic::Redis) => Kind::HashMetadataPreGa,
            (22, Magic::Valkey) => Kind::ValkeyHash2,
            (23, Magic::Redis) => Kind::HashListpackExPreGa,
            // Valkey 9.2's PATH_HASH (23) has no documented layout yet.
            (24, Magic::Redis) => Kind::HashMetadata,
            (25, Magic::Redis) => Kind::HashListpackEx,
            (26, Magic::Redis) => Kind::Stream4,
            (27, Magic::Redis) => Kind::Stream5,
            (28, Magic::Redis) => Kind::Array,
            _ => return None,
        })
    }

    /// The type byte as stored.
    pub fn byte(self) -> u8 {
        match self {
            Kind::String => 0,
            Kind::List => 1,
            Kind::Set => 2,
            Kind::Zset => 3,
            Kind::Hash => 4,
            Kind::Zset2 => 5,
            Kind::ModulePreGa => 6,
            Kind::Module2 => 7,
            Kind::HashZipmap => 9,
            Kind::ListZiplist => 10,
            Kind::SetIntset => 11,
            Kind::ZsetZiplist => 12,
            Kind::HashZiplist => 13,
            Kind::ListQuicklist => 14,
            Kind::Stream1 => 15,
            Kind::HashListpack => 16,
            Kind::ZsetListpack => 17,
            Kind::ListQuicklist2 => 18,
            Kind::Stream2 => 19,
            Kind::SetListpack => 20,
            Kind::Stream3 => 21,
            Kind::HashMetadataPreGa | Kind::ValkeyHash2 => 22,
            Kind::HashListpackExPreGa => 23,
            Kind::HashMetadata => 24,
            Kind::HashListpackEx => 25,
            Kind::Stream4 => 26,
            Kind::Stream5 => 27,
            Kind::Array => 28,
        }
    }

    /// The name `TYPE` reports for this kind (modules report their own name,
    /// resolved from the value).
    pub fn type_name(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::List | Kind::ListZiplist | Kind::ListQuicklist | Kind::ListQuicklist2 => "list",
            Kind::Set | Kind::SetIntset | Kind::SetListpack => "set",
            Kind::Zset | Kind::Zset2 | Kind::ZsetZiplist | Kind::ZsetListpack => "zset",
            Kind::Hash
            | Kind::HashZipmap
            | Kind::HashZiplist
            | Kind::HashListpack
            | Kind::HashMetadataPreGa
            | Kind::HashListpackExPreGa
            | Kind::HashMetadata
            | Kind::HashListpackEx
            | Kind::ValkeyHash2 => "hash",
            Kind::Stream1 | Kind::Stream2 | Kind::Stream3 | Kind::Stream4 | Kind::Stream5 => {
                "stream"
            }
            Kind::ModulePreGa | Kind::Module2 => "module",
            Kind::Array => "array",
        }
    }

    /// True for the stream layouts.
    pub fn is_stream(self) -> bool {
        matches!(
            self,
            Kind::Stream1 | Kind::Stream2 | Kind::Stream3 | Kind::Stream4 | Kind::Stream5
        )
    }
}

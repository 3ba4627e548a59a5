//! Opcode and type bytes of the RDB format, each with the server that
//! introduced it (rdb.h of Redis and Valkey). Bytes 22, 23, 242 and 243 mean
//! different things under the `REDIS` and `VALKEY` magics, which is why the
//! framer resolves them through [`crate::rdb::Kind::from_byte`] and never
//! compares raw bytes itself.

/// `0xFF`: end of file; an 8-byte CRC-64 follows from version 5 on.
pub const OP_EOF: u8 = 0xFF;
/// `0xFE`: select database (`len dbid`).
pub const OP_SELECTDB: u8 = 0xFE;
/// `0xFD`: expire time in seconds for the next key (`i32`, RDB 1).
pub const OP_EXPIRETIME: u8 = 0xFD;
/// `0xFC`: expire time in milliseconds for the next key (`i64` LE, RDB 3).
pub const OP_EXPIRETIME_MS: u8 = 0xFC;
/// `0xFB`: database size hints (RDB 7, Redis 3.2).
pub const OP_RESIZEDB: u8 = 0xFB;
/// `0xFA`: auxiliary field, a string pair (RDB 7).
pub const OP_AUX: u8 = 0xFA;
/// `0xF9`: LFU counter of the next key (RDB 9, Redis 5.0).
pub const OP_FREQ: u8 = 0xF9;
/// `0xF8`: LRU idle seconds of the next key (RDB 9).
pub const OP_IDLE: u8 = 0xF8;
/// `0xF7`: module auxiliary data (RDB 9).
pub const OP_MODULE_AUX: u8 = 0xF7;
/// `0xF6`: function library, Redis 7.0 release-candidate layout.
pub const OP_FUNCTION_PRE_GA: u8 = 0xF6;
/// `0xF5`: function library source (RDB 10, Redis 7.0).
pub const OP_FUNCTION2: u8 = 0xF5;
/// `0xF4`: cluster slot key counts (RDB 12, Redis 7.4).
pub const OP_SLOT_INFO: u8 = 0xF4;
/// `0xF3`: Redis key metadata (RDB 13) or Valkey slot import (RDB 80).
pub const OP_F3: u8 = 0xF3;
/// `0xF2`: Valkey inline RESP command in forkless replication streams.
pub const OP_F2: u8 = 0xF2;
/// Redis Enterprise RAM_LRU opcode (one `len`); open-source servers never
/// write it, librdb skips it.
pub const OP_RE_RAM_LRU: u8 = 107;
/// Redis Enterprise SLOT_NUM opcode (one `len`).
pub const OP_RE_SLOT_NUM: u8 = 121;

/// Highest RDB version written with the `REDIS` magic that we know (Redis 8.8).
pub const MAX_REDIS_VERSION: u32 = 14;
/// Lowest and highest RDB versions written with the `VALKEY` magic (Valkey 9).
pub const VALKEY_VERSIONS: std::ops::RangeInclusive<u32> = 80..=81;

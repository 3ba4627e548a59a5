//! Valkey 8.1+ `objectComputeSize` (`object.c`): collections live in
//! `hashtable`s of 64-byte buckets (`hashtable.c`), hash entries embed field
//! and value in one allocation (`entry.c`), and skiplist nodes embed their
//! member (`t_zset.c` `zslCreateNode`).
//!
//! Nothing here is sampled: `MEMORY USAGE key SAMPLES 0` visits every
//! element, so the sums are exact up to two sources of chance the file
//! cannot show: the random level of each skiplist node and the number of
//! child buckets, which depends on how the server's random hash seed spreads
//! the keys over the buckets. Both are counted at their expected value.

use super::alloc::sds_request;
use super::{Model, ONE_COMMAND_MAX, ROBJ, ZSET, ZSKIPLIST_MAXLEVEL};
use crate::rdb::frame::Frame;
use crate::rdb::value::ValueInfo;

/// `ENTRIES_PER_BUCKET` (64-bit builds): a 64-byte bucket holds seven entry
/// pointers after one byte of flags and seven bytes of hash.
const ENTRIES_PER_BUCKET: u64 = 7;
/// `sizeof(bucket)`.
const BUCKET: u64 = 64;
/// `hashtableMemUsage` adds `sizeof(hashtable)` plus the type's metadata to
/// the buckets; measured on Valkey 9.1 as 80 bytes for sets, 88 for hashes
/// (whose metadata points to the volatile-field set) and 72 for the
/// sorted-set member index.
const SET_TABLE: u64 = 80;
/// See [`SET_TABLE`].
const HASH_TABLE: u64 = 88;
/// See [`SET_TABLE`].
const ZSET_TABLE: u64 = 72;
/// `EMBED_VALUE_MAX_ALLOC_SIZE` (`entry.c`): field, optional expiry and
/// value are embedded in one allocation when they fit in this many bytes.
const EMBED_VALUE_MAX: u64 = 128;
/// `sizeof(long long)`: the expiry prepended to a hash entry with a TTL.
const ENTRY_EXPIRY: u64 = 8;
/// `VOLATILESET_VECTOR_BUCKET_MAX_SIZE` (`vset.c`): up to this many volatile
/// fields are tracked in one sorted pointer vector.
const VSET_VECTOR_MAX: u64 = 127;
/// `KEY_SIZE_TO_INCLUDE_EXPIRE_THRESHOLD` (`object.c`): keys this long
/// always get an expire slot.
const KEY_EXPIRE_THRESHOLD: u64 = 128;

impl Model {
    /// Valkey 8.1+ `objectComputeSize`: the object allocation embeds the
    /// key (type 5 sds for short keys, after a header-size byte) and the
    /// expire slot (`createObjectWithKeyAndExpire`); the value's own
    /// allocations follow.
    pub(super) fn valkey_value(
        &self,
        frame: &Frame<'_>,
        key_len: u64,
        info: &ValueInfo,
        n: u64,
    ) -> u64 {
        let ttl = frame.expire_ms.is_some() || key_len >= KEY_EXPIRE_THRESHOLD;
        let key = 1 + sds_request(key_len, true, false) + if ttl { 8 } else { 0 };
        let obj = self.j(ROBJ + key);
        let shape = &info.shape;
        match info.encoding {
            "int" => obj,
            // Valkey 9 drops the value pointer of embedded strings: the
            // header shrinks to 8 bytes.
            "embstr" => {
                let header = if self.profile.at_least(9, 0) { 8 } else { ROBJ };
                self.j(header + key + 3 + shape.bytes + 1)
            }
            "raw" => obj + self.sds(shape.bytes),
            "ziplist" | "listpack" | "intset" | "zipmap" => obj + self.j(shape.bytes),
            "quicklist" => obj - ROBJ + self.quicklist(info),
            "hashtable" if info.type_name.as_str() == "hash" => {
                let entries = self.per_element(info, n, |f, v| self.valkey_hash_entry(f, v, false));
                obj + self.valkey_hashtable(HASH_TABLE, n, 1)
                    + entries
                    + self.valkey_volatile_fields(info, n)
            }
            // Set members are plain sds strings, counted by `sdsAllocSize`
            // (the usable size of the block, type 5 strings included).
            "hashtable" => {
                obj + self.valkey_hashtable(SET_TABLE, n, 1)
                    + self.per_element(info, n, |m, _| self.sds(m))
            }
            "skiplist" => {
                // `zslCreateNode`: score, backward pointer, `level` levels of
                // forward pointer and span, a header-size byte, then the
                // member sds; the header is a `zskiplist` holding a node of
                // `ZSKIPLIST_MAXLEVEL` levels (`zslGetAllocSize`).
                let nodes = self.per_element(info, n, |m, _| {
                    self.expected_node(16 + 1 + sds_request(m, true, false))
                });
                obj + ZSET
                    + self.valkey_hashtable(ZSET_TABLE, n, 2)
                    + self.j(16 + 16 * ZSKIPLIST_MAXLEVEL)
                    + nodes
            }
            "stream" if shape.stream.is_some() => obj - ROBJ + self.stream(info),
            _ => obj + shape.bytes,
        }
    }

    /// `hashtableMemUsage` after `n` insertions: struct and metadata
    /// (`header`), the top-level buckets of both tables and the expected
    /// child buckets.
    ///
    /// Inserting element `7·B + 1` into a full table of `B` buckets starts
    /// a rehash into `2·B`; each later insertion first moves one old bucket
    /// with its chain (`findBucket` → `rehashStep`, `steps` times: once
    /// for hashes and sets, twice for sorted sets, which look the member up
    /// before adding it), and the old array is freed after the last. As for
    /// dicts ([`super::grown_after_first_command`]), a growth past
    /// [`ONE_COMMAND_MAX`] elements is taken to come from single insertions,
    /// one below it to have been skipped by the creating command's presize.
    /// On the 120 000-field incident hash (`HSET` of 1 000 fields at a time)
    /// `DEBUG HTSTATS-KEY` shows rehash index 5 311 of 16 384, and the old
    /// table is a fifth of the key's memory.
    fn valkey_hashtable(&self, header: u64, n: u64, steps: u64) -> u64 {
        if n == 0 {
            return header;
        }
        let buckets = grown_buckets(n);
        let old = buckets / 2;
        let grew_at = old * ENTRIES_PER_BUCKET + 1;
        let rehashed = (n - grew_at.min(n)) * steps;
        if old == 0 || grew_at <= ONE_COMMAND_MAX || rehashed >= old {
            let children = expected_child_buckets(n, buckets);
            return header + BUCKET * buckets + (BUCKET as f64 * children).round() as u64;
        }
        // Mid-rehash. The old table was full (7 entries a bucket); its first
        // `rehashed` buckets have moved to the two new buckets each maps
        // to, beside the insertions spread over the whole new table.
        let left = old - rehashed;
        let inserted = n - (grew_at - 1);
        let old_children = expected_child_buckets(grew_at - 1, old) * left as f64 / old as f64;
        let touched = 2 * rehashed;
        let inserted_there = inserted * touched / buckets;
        let new_children =
            expected_child_buckets(ENTRIES_PER_BUCKET * rehashed + inserted_there, touched)
                + expected_child_buckets(inserted - inserted_there, buckets - touched);
        header
            + BUCKET * (buckets + old)
            + (BUCKET as f64 * (old_children + new_children)).round() as u64
    }

    /// `entryMemUsage` of a hash field without TTL (`entry.c`
    /// `entryReqSize`): a type 5 field (type 8 with a TTL, after the 8-byte
    /// expiry) and a type 8 value in one block when they fit in
    /// `EMBED_VALUE_MAX_ALLOC_SIZE` — the value sds absorbs the block's slack,
    /// so the entry counts at the block's usable size. Otherwise the block
    /// holds a value pointer and a type 8+ field, and the value is a
    /// separate sds.
    fn valkey_hash_entry(&self, field: u64, value: u64, ttl: bool) -> u64 {
        let expiry = if ttl { ENTRY_EXPIRY } else { 0 };
        let embedded = sds_request(field, !ttl, false) + expiry + sds_request(value, false, false);
        if embedded <= EMBED_VALUE_MAX {
            self.j(embedded)
        } else {
            self.j(expiry + 8 + sds_request(field, false, false))
                + self.j(sds_request(value, false, false))
        }
    }

    /// What field TTLs add to a hashtable hash: each volatile entry grows by
    /// its expiry (and a type 8 field), and the hash tracks them in a
    /// volatile set (`vset.c`): nothing for one field (a tagged pointer), a
    /// sorted pointer vector of `8 + 8·k` bytes up to 127 fields, beyond that
    /// vectors per time window in a radix tree, counted here as the vector
    /// bytes. Field lengths of the volatile fields are not known one by one,
    /// so the average field is used.
    fn valkey_volatile_fields(&self, info: &ValueInfo, n: u64) -> u64 {
        let s = &info.shape;
        let k = s.volatile_fields;
        if k == 0 || n == 0 {
            return 0;
        }
        let (f, v) = (s.sum_a / n, s.sum_b / n);
        let grow = self
            .valkey_hash_entry(f, v, true)
            .saturating_sub(self.valkey_hash_entry(f, v, false));
        let vset = match k {
            1 => 0,
            2..=VSET_VECTOR_MAX => self.j(8 + 8 * k),
            _ => {
                let vectors = k.div_ceil(VSET_VECTOR_MAX);
                vectors * self.j(8 + 8 * k.div_ceil(vectors))
            }
        };
        grow * k + vset
    }
}

/// `nextBucketExp`: the smallest power of two ≥ ⌈capacity · 5 / 32⌉, a fill
/// of at most 91 % after a resize.
fn next_buckets(capacity: u64) -> u64 {
    (capacity * 5).div_ceil(32).next_power_of_two()
}

/// Top-level buckets after `n` one-by-one insertions: the table grows when
/// an insertion would exceed 100 % fill (`hashtableExpandIfNeeded`) and is
/// then sized for the new count. A table presized for `n` (a multi-element
/// command, a load) has the same count for most `n`.
fn grown_buckets(n: u64) -> u64 {
    let mut buckets = 0u64;
    while n > buckets * ENTRIES_PER_BUCKET {
        buckets = next_buckets(buckets * ENTRIES_PER_BUCKET + 1);
    }
    buckets
}

/// Expected number of child buckets (`bucketConvertToChained`) when `n`
/// keys hash uniformly into `buckets` buckets: a chain of `c + 1` buckets
/// holds `6c + 7` entries, so a bucket receiving `k > 7` keys has
/// ⌈(k − 7) / 6⌉ children. The load of a bucket is binomial.
fn expected_child_buckets(n: u64, buckets: u64) -> f64 {
    let children = |k: u64| if k <= 7 { 0 } else { (k - 7).div_ceil(6) };
    if buckets <= 1 {
        return children(n) as f64;
    }
    let p = 1.0 / buckets as f64;
    let nf = n as f64;
    // P(load = k), walked up from k = 0 in log space to survive large n.
    let mut log_pk = nf * (-p).ln_1p();
    let ratio = (p / (1.0 - p)).ln();
    let mut sum = 0.0;
    let top = n.min(ENTRIES_PER_BUCKET * 16 + (8.0 * nf * p) as u64);
    for k in 0..top {
        if k >= 8 {
            sum += log_pk.exp() * children(k) as f64;
        }
        log_pk += ((nf - k as f64) / (k as f64 + 1.0)).ln() + ratio;
    }
    if top >= 8 {
        sum += log_pk.exp() * children(top) as f64;
    }
    sum * buckets as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Allocator;
    use crate::rdb::profile::{Family, Profile};

    #[test]
    fn buckets_follow_growth() {
        assert_eq!(grown_buckets(1), 1);
        assert_eq!(grown_buckets(7), 1);
        assert_eq!(grown_buckets(8), 2);
        assert_eq!(grown_buckets(202), 32);
        assert_eq!(grown_buckets(1000), 256);
        assert_eq!(grown_buckets(3000), 512);
    }

    #[test]
    fn child_buckets_only_past_seven() {
        assert_eq!(expected_child_buckets(7, 1), 0.0);
        assert_eq!(expected_child_buckets(8, 1), 1.0);
        assert_eq!(expected_child_buckets(4, 2), 0.0);
        let c = expected_child_buckets(1000, 256);
        assert!(c > 5.0 && c < 20.0, "{c}");
    }

    /// `DEBUG HTSTATS-KEY` of a 120 000-field hash written 1 000 fields per
    /// `HSET` on Valkey 9.1.2: rehash index 5 311, old table 16 384 buckets
    /// with 4 641 children, new table 32 768 buckets with 349 children.
    #[test]
    fn old_table_counted_mid_rehash() {
        let profile = Profile {
            family: Family::Valkey,
            version: (9, 1, 2),
            from_aux: true,
        };
        let model = Model::new(profile, Allocator::Libc);
        let measured = HASH_TABLE + BUCKET * (16_384 + 32_768 + 4_641 + 349);
        let ours = model.valkey_hashtable(HASH_TABLE, 120_000, 1);
        let err = (ours as f64 - measured as f64).abs() / measured as f64;
        assert!(err < 0.01, "{ours} vs {measured}");
        // Written by one command: presized, nothing left to rehash.
        let small = model.valkey_hashtable(SET_TABLE, 2_000, 1);
        assert!(small < SET_TABLE + BUCKET * (512 + 64), "{small}");
    }
}

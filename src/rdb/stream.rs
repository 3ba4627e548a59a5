//! Streams (types 15, 19, 21, 26, 27): a run of listpacks keyed by master
//! entry id, then metadata, consumer groups with their pending entries, and,
//! in the newest layouts, NACK zones and idempotent-producer state.
//!
//! One walker serves both the framer (to find where the value ends) and the
//! analyzers (to report length, groups and pending counts), so the layout's
//! version gates live in one place.

use super::kind::Kind;
use super::primitives::{parse_len, parse_ms, parse_string, take_len, PError, PResult, RdbString};

/// What a stream holds, as far as it matters for reporting and memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamInfo {
    /// Number of listpack nodes.
    pub listpacks: u64,
    /// Bytes of all listpack blobs as stored (compressed size if LZF).
    pub listpack_bytes: u64,
    /// Decoded bytes of all listpack blobs.
    pub listpack_bytes_decoded: u64,
    /// Live entries (XLEN).
    pub length: u64,
    /// Last generated id, milliseconds part.
    pub last_id_ms: u64,
    /// Consumer groups.
    pub groups: u64,
    /// Pending entries over all groups.
    pub pending: u64,
    /// Consumers over all groups.
    pub consumers: u64,
    /// Bytes of consumer names.
    pub consumer_name_bytes: u64,
    /// Entries in NACK zones (type 27).
    pub nacked: u64,
    /// Idempotency ids tracked (types 26, 27).
    pub idmp_ids: u64,
}

const RAW_ID: u64 = 16;

/// Walks a stream value of the given kind.
pub fn parse_stream(i: &[u8], kind: Kind) -> PResult<'_, StreamInfo> {
    let v = match kind {
        Kind::Stream1 => 1,
        Kind::Stream2 => 2,
        Kind::Stream3 => 3,
        Kind::Stream4 => 4,
        Kind::Stream5 => 5,
        _ => return Err(PError::corrupt(i, "stream type")),
    };
    let mut info = StreamInfo::default();
    let (mut i, n) = parse_len(i)?;
    for _ in 0..n {
        let at = i;
        let (r, nodekey) = parse_string(i)?;
        if nodekey.len() != RAW_ID {
            return Err(PError::corrupt(at, "stream node key"));
        }
        let (r, lp) = parse_string(r)?;
        info.listpacks += 1;
        info.listpack_bytes_decoded += lp.len();
        info.listpack_bytes += match lp {
            RdbString::Lzf { data, .. } => data.len() as u64,
            other => other.len(),
        };
        i = r;
    }
    let (r, length) = parse_len(i)?;
    info.length = length;
    let (r, last_ms) = parse_len(r)?;
    info.last_id_ms = last_ms;
    let (mut i, _last_seq) = parse_len(r)?;
    if v >= 2 {
        for _ in 0..5 {
            i = parse_len(i)?.0; // first id, max deleted id, entries added
        }
    }
    let (mut i, groups) = parse_len(i)?;
    info.groups = groups;
    for _ in 0..groups {
        let (r, _name) = parse_string(i)?;
        let (r, _) = parse_len(r)?;
        let (mut r, _) = parse_len(r)?;
        if v >= 2 {
            r = parse_len(r)?.0; // entries_read
        }
        let (mut r, pel) = parse_len(r)?;
        info.pending += pel;
        for _ in 0..pel {
            let (r2, _) = take_len(r, RAW_ID)?;
            let (r2, _) = parse_ms(r2)?;
            r = parse_len(r2)?.0;
        }
        let (mut r, consumers) = parse_len(r)?;
        info.consumers += consumers;
        for _ in 0..consumers {
            let (r2, name) = parse_string(r)?;
            info.consumer_name_bytes += name.len();
            let (mut r2, _seen) = parse_ms(r2)?;
            if v >= 3 {
                r2 = parse_ms(r2)?.0;
            }
            let (r2, cpel) = parse_len(r2)?;
            r = skip_ids(r2, cpel)?.0;
        }
        if v >= 5 {
            let (r2, nack) = parse_len(r)?;
            info.nacked += nack;
            r = skip_ids(r2, nack)?.0;
        }
        i = r;
    }
    if v >= 4 {
        let (r, _duration) = parse_len(i)?;
        let (r, _max) = parse_len(r)?;
        let (mut r, producers) = parse_len(r)?;
        for _ in 0..producers {
            let (r2, _pid) = parse_string(r)?;
            let (mut r2, count) = parse_len(r2)?;
            info.idmp_ids += count;
            for _ in 0..count {
                let (r3, _iid) = parse_string(r2)?;
                let (r3, _) = parse_len(r3)?;
                r2 = parse_len(r3)?.0;
            }
            r = r2;
        }
        let (r, _added) = parse_len(r)?;
        i = parse_len(r)?.0;
    }
    Ok((i, info))
}

fn skip_ids(i: &[u8], n: u64) -> PResult<'_, ()> {
    let bytes = n
        .checked_mul(RAW_ID)
        .ok_or_else(|| PError::corrupt(i, "stream id count"))?;
    take_len(i, bytes).map(|(r, _)| (r, ()))
}

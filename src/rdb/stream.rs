//! Streams (types 15, 19, 21, 26, 27): a run of listpacks keyed by master
//! entry id, then metadata, consumer groups with their pending entries, and,
//! in the newest layouts, NACK zones and idempotent-producer state.
//!
//! One walker serves both the framer (to find where the value ends) and the
//! analyzers (to report length, groups and pending counts), so the layout's
//! version gates live in one place.

use std::borrow::Cow;

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
    /// Decoded bytes of the last listpack (the one a live server appends
    /// to, which may still hold its preallocation).
    pub last_listpack_bytes: u64,
    /// Nodes of the radix tree indexing the listpacks by master id.
    pub listpack_rax_nodes: u64,
    /// Nodes over all consumer group PEL radix trees.
    pub pel_rax_nodes: u64,
    /// Entries over all consumer PELs.
    pub consumer_pending: u64,
    /// Nodes over all consumer PEL radix trees.
    pub consumer_pel_rax_nodes: u64,
}

/// Per-node detail of a stream for exact memory accounting, filled by
/// [`parse_stream_layout`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamLayout {
    /// Decoded bytes of each listpack, in id order.
    pub listpacks: Vec<u64>,
    /// Every node of every radix tree a loaded stream holds, with its tree
    /// and requested bytes (`raxNodeCurrentLength`).
    pub rax_nodes: Vec<(RaxTree, u32)>,
}

/// The radix trees of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaxTree {
    /// Listpacks by master id (one tree).
    Listpacks,
    /// A group's pending entries by id (one tree per group).
    GroupPel,
    /// A consumer's pending entries by id (one tree per consumer).
    ConsumerPel,
    /// A group's consumers by name (one tree per group).
    Consumers,
    /// Groups by name (one tree when there are groups).
    Groups,
    /// Redis 8.4+ `cgroups_ref`: pending ids to the groups holding them
    /// (one tree when anything is pending).
    PendingIndex,
}

const RAW_ID: u64 = 16;

/// Walks a stream value of the given kind.
pub fn parse_stream(i: &[u8], kind: Kind) -> PResult<'_, StreamInfo> {
    walk(i, kind, None)
}

/// [`parse_stream`], also recording the size of every listpack and radix
/// tree node into `layout` (cleared first).
pub fn parse_stream_layout<'a>(
    i: &'a [u8],
    kind: Kind,
    layout: &mut StreamLayout,
) -> PResult<'a, StreamInfo> {
    layout.listpacks.clear();
    layout.rax_nodes.clear();
    walk(i, kind, Some(layout))
}

fn walk<'a>(
    i: &'a [u8],
    kind: Kind,
    mut layout: Option<&mut StreamLayout>,
) -> PResult<'a, StreamInfo> {
    let v = match kind {
        Kind::Stream1 => 1,
        Kind::Stream2 => 2,
        Kind::Stream3 => 3,
        Kind::Stream4 => 4,
        Kind::Stream5 => 5,
        _ => return Err(PError::corrupt(i, "stream type")),
    };
    let mut info = StreamInfo::default();
    let value = i;
    let (mut i, n) = parse_len(i)?;
    let mut ids: Vec<Cow<'a, [u8]>> = Vec::new();
    for k in 0..n {
        crate::pages::passed(value, i, k);
        let at = i;
        let (r, nodekey) = parse_string(i)?;
        if nodekey.len() != RAW_ID {
            return Err(PError::corrupt(at, "stream node key"));
        }
        ids.push(owned(at, nodekey)?);
        let (r, lp) = parse_string(r)?;
        info.listpacks += 1;
        info.listpack_bytes_decoded += lp.len();
        info.last_listpack_bytes = lp.len();
        if let Some(l) = layout.as_deref_mut() {
            l.listpacks.push(lp.len());
        }
        info.listpack_bytes += match lp {
            RdbString::Lzf { data, .. } => data.len() as u64,
            other => other.len(),
        };
        i = r;
    }
    info.listpack_rax_nodes = rax_shape(&mut ids, sink(&mut layout, RaxTree::Listpacks));
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
    let mut group_names = Vec::new();
    let mut all_pending: Vec<Cow<'a, [u8]>> = Vec::new();
    for _ in 0..groups {
        let at = i;
        let (r, name) = parse_string(i)?;
        group_names.push(owned(at, name)?);
        let (r, _) = parse_len(r)?;
        let (mut r, _) = parse_len(r)?;
        if v >= 2 {
            r = parse_len(r)?.0; // entries_read
        }
        let (mut r, pel) = parse_len(r)?;
        info.pending += pel;
        ids.clear();
        for _ in 0..pel {
            let (r2, id) = take_len(r, RAW_ID)?;
            ids.push(Cow::Borrowed(id));
            let (r2, _) = parse_ms(r2)?;
            r = parse_len(r2)?.0;
        }
        all_pending.extend(ids.iter().cloned());
        info.pel_rax_nodes += rax_shape(&mut ids, sink(&mut layout, RaxTree::GroupPel));
        let (mut r, consumers) = parse_len(r)?;
        info.consumers += consumers;
        let mut consumer_names = Vec::new();
        for _ in 0..consumers {
            let at = r;
            let (r2, name) = parse_string(r)?;
            info.consumer_name_bytes += name.len();
            consumer_names.push(owned(at, name)?);
            let (mut r2, _seen) = parse_ms(r2)?;
            if v >= 3 {
                r2 = parse_ms(r2)?.0;
            }
            let (mut r2, cpel) = parse_len(r2)?;
            info.consumer_pending += cpel;
            ids.clear();
            for _ in 0..cpel {
                let (r3, id) = take_len(r2, RAW_ID)?;
                ids.push(Cow::Borrowed(id));
                r2 = r3;
            }
            info.consumer_pel_rax_nodes +=
                rax_shape(&mut ids, sink(&mut layout, RaxTree::ConsumerPel));
            r = r2;
        }
        rax_shape(&mut consumer_names, sink(&mut layout, RaxTree::Consumers));
        if v >= 5 {
            let (r2, nack) = parse_len(r)?;
            info.nacked += nack;
            r = skip_ids(r2, nack)?.0;
        }
        i = r;
    }
    if groups > 0 {
        rax_shape(&mut group_names, sink(&mut layout, RaxTree::Groups));
    }
    if !all_pending.is_empty() {
        rax_shape(&mut all_pending, sink(&mut layout, RaxTree::PendingIndex));
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

/// A string as bytes (decoding integer and LZF encodings).
fn owned<'a>(at: &'a [u8], s: RdbString<'a>) -> Result<Cow<'a, [u8]>, nom::Err<PError<'a>>> {
    s.to_cow().map_err(|_| PError::corrupt(at, "stream string"))
}

/// Where [`rax_shape`] reports the nodes of a `tree`: the layout's list, if
/// any.
fn sink<'l>(
    layout: &'l mut Option<&mut StreamLayout>,
    tree: RaxTree,
) -> Option<(&'l mut Vec<(RaxTree, u32)>, RaxTree)> {
    layout.as_deref_mut().map(|l| (&mut l.rax_nodes, tree))
}

/// Requested bytes of a rax node (`raxNodeCurrentLength`): 4-byte header,
/// `size` key bytes padded to pointer alignment, one child pointer for a
/// compressed node or one per byte otherwise, and the value pointer of a
/// key node.
fn rax_node_len(size: u64, compressed: bool, key: bool) -> u64 {
    let padding = (8 - (size + 4) % 8) % 8;
    let children = if compressed { 1 } else { size };
    4 + size + padding + 8 * children + if key { 8 } else { 0 }
}

/// Node count of the radix tree holding `keys` (sorted and deduplicated
/// here), reporting each node's size to `layout`.
///
/// Insertion without deletion leaves a rax in its canonical form
/// (`rax.c` `raxInsert`): a node with several next bytes is a plain node
/// with one child per byte, a run of single-child positions that are not
/// keys is one compressed node, and every key ends at a node flagged as a
/// key (a leaf of size 0 when nothing follows). An empty tree is one empty
/// head node.
fn rax_shape(
    keys: &mut Vec<Cow<'_, [u8]>>,
    mut sink: Option<(&mut Vec<(RaxTree, u32)>, RaxTree)>,
) -> u64 {
    keys.sort_unstable();
    keys.dedup();
    let mut emit = |len: u64| {
        if let Some((nodes, tree)) = sink.as_mut() {
            nodes.push((*tree, u32::try_from(len).unwrap_or(u32::MAX)));
        }
    };
    if keys.is_empty() {
        emit(rax_node_len(0, false, false));
        return 1;
    }
    let refs: Vec<&[u8]> = keys.iter().map(|k| k.as_ref()).collect();
    let mut nodes = 0;
    // Explicit stack of (keys sharing a prefix, prefix length).
    let mut stack = vec![(&refs[..], 0usize)];
    while let Some((group, depth)) = stack.pop() {
        nodes += 1;
        let key = group[0].len() == depth;
        let rest = if key { &group[1..] } else { group };
        let (Some(first), Some(last)) = (rest.first(), rest.last()) else {
            emit(rax_node_len(0, false, key));
            continue;
        };
        if first[depth] == last[depth] {
            // One next byte: extend the run while no key ends and all keys
            // still agree.
            let mut run = 1;
            while first.len() > depth + run && first[depth + run] == last[depth + run] {
                run += 1;
            }
            emit(rax_node_len(run as u64, run > 1, key));
            stack.push((rest, depth + run));
        } else {
            let mut children = 0;
            let mut start = 0;
            while start < rest.len() {
                let byte = rest[start][depth];
                let end = start + rest[start..].partition_point(|k| k[depth] == byte);
                stack.push((&rest[start..end], depth + 1));
                children += 1;
                start = end;
            }
            emit(rax_node_len(children, false, key));
        }
    }
    nodes
}

fn skip_ids(i: &[u8], n: u64) -> PResult<'_, ()> {
    let bytes = n
        .checked_mul(RAW_ID)
        .ok_or_else(|| PError::corrupt(i, "stream id count"))?;
    take_len(i, bytes).map(|(r, _)| (r, ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(keys: &[&'static [u8]]) -> (u64, Vec<u32>) {
        let mut keys: Vec<Cow<'static, [u8]>> = keys.iter().map(|k| Cow::Borrowed(*k)).collect();
        let mut out = Vec::new();
        let n = rax_shape(&mut keys, Some((&mut out, RaxTree::Listpacks)));
        let mut sizes: Vec<u32> = out.into_iter().map(|(_, s)| s).collect();
        sizes.sort_unstable();
        (n, sizes)
    }

    #[test]
    fn rax_shapes_follow_rax_insert() {
        // Empty tree: the empty head node.
        assert_eq!(shape(&[]), (1, vec![8]));
        // One key: a compressed head and a key leaf holding the value.
        assert_eq!(shape(&[b"abc"]), (2, vec![16, 16]));
        // A fork: compressed "ab", a two-child node, two leaves.
        assert_eq!(shape(&[b"abd", b"abc"]), (4, vec![16, 16, 16, 24]));
        // A key that prefixes another: the inner node is a key with a value.
        assert_eq!(shape(&[b"ab", b"abcd", b"ab"]), (3, vec![16, 16, 24]));
        // Sixteen-byte stream ids sharing their first fifteen bytes.
        let (n, sizes) = shape(&[&[0; 16], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]]);
        assert_eq!(n, 4);
        assert_eq!(sizes, vec![16, 16, 24, 32]);
    }
}

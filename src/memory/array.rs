//! Redis 8.8 arrays (`OBJ_ENCODING_SLICED_ARRAY`, `src/sparsearray.c`):
//! the tracked `alloc_size` that `kvobjAllocSize` adds for an array.
//!
//! Every allocation of the array goes through `arAllocAndTrack` and its
//! siblings, which add the allocator's usable size, so `alloc_size` is the
//! sum of: the `redisArray` header, the directory (a flat vector of slice
//! pointers, or a super-directory of 2048-slot blocks once a slice id
//! reaches 2048), every slice, and every out-of-line `arString` value.
//!
//! The file lists elements by increasing index and `rdbLoadObject` inserts
//! them one by one with `arSet`, so the slice layout after a load is
//! replayed here insertion by insertion. A server that built the array with
//! range writes (`arMayPromoteToDenseForRangeSet`) ends with the same
//! windows: a dense window only grows by doubling until it covers the
//! slice's highest offset. The defaults are assumed: 4096-element slices,
//! sparse slices of at most 10 elements (`array-slice-size`,
//! `array-sparse-kmax`), 64-bit tagged values.

use super::Model;
use crate::rdb::value::ArrayElement;

/// `sizeof(redisArray)`.
const REDIS_ARRAY: u64 = 80;
/// `sizeof(arSlice)`: encoding, count and the dense/sparse layout union.
const AR_SLICE: u64 = 32;
/// `sizeof(arSDirEntry)`: block id, count, padding, slot table pointer.
const AR_SDIR_ENTRY: u64 = 24;
/// `AR_SUPER_BLOCK_SLOTS`: slice pointers per super-directory block.
const SUPER_BLOCK_SLOTS: u64 = 2048;
/// `AR_SLICE_SIZE_DEFAULT` (`array-slice-size`).
const SLICE_SIZE: u32 = 4096;
/// log2 of [`SLICE_SIZE`] (`arSliceBits`).
const SLICE_BITS: u32 = 12;
/// `AR_SPARSE_KMAX_DEFAULT` (`array-sparse-kmax`): a sparse slice holds at
/// most this many elements before it is promoted to dense.
const SPARSE_KMAX: u32 = 10;
/// `AR_SLICE_MIN_ALLOC`: the smallest dense window.
const DENSE_MIN_WINDOW: u32 = 8;
/// `AR_SMALLSTR_MAXLEN` on 64-bit builds: longer strings are `arString`s.
const SMALLSTR_MAX: u64 = 7;

/// `arSparseAllocSize`: header, `cap` 16-bit offsets padded to pointer
/// alignment, `cap` value words.
fn sparse_bytes(cap: u32) -> u64 {
    let offsets = 2 * u64::from(cap);
    AR_SLICE + offsets.next_multiple_of(8) + 8 * u64::from(cap)
}

/// `arDenseAllocSize`: header and one value word per window slot.
fn dense_bytes(window: u32) -> u64 {
    AR_SLICE + 8 * u64::from(window)
}

/// The layout one slice reaches while `arSet` inserts offsets in increasing
/// order.
#[derive(Debug, Clone, Copy)]
enum Slice {
    /// `arSliceSparseNew` (capacity 4), grown 2× up to `SPARSE_KMAX`.
    Sparse {
        /// Elements held.
        count: u32,
        /// Capacity of the allocation.
        cap: u32,
        /// Lowest offset held.
        min: u32,
        /// Highest offset held.
        max: u32,
    },
    /// A window of `window` slots starting at `offset`.
    Dense {
        /// First offset of the window.
        offset: u32,
        /// Window size, a power of two.
        window: u32,
    },
}

impl Slice {
    /// A slice holding its first element at `rel`.
    fn new(rel: u32) -> Slice {
        Slice::Sparse {
            count: 1,
            cap: SPARSE_KMAX.min(4),
            min: rel,
            max: rel,
        }
    }

    /// `arSet` of a new, higher offset `rel`.
    fn insert(self, rel: u32) -> Slice {
        match self {
            Slice::Sparse {
                count, min, max, ..
            } if count >= SPARSE_KMAX => {
                // `arSparsePromote`, then `arSliceDenseGrowIfNeeded`.
                let window = (max - min + 1).next_power_of_two().max(DENSE_MIN_WINDOW);
                Slice::place(min, window).grow_right(rel)
            }
            Slice::Sparse {
                count,
                cap,
                min,
                max,
            } => {
                let cap = if count >= cap {
                    (cap * 2).min(SPARSE_KMAX)
                } else {
                    cap
                };
                Slice::Sparse {
                    count: count + 1,
                    cap,
                    min: min.min(rel),
                    max: max.max(rel),
                }
            }
            Slice::Dense { .. } => self.grow_right(rel),
        }
    }

    /// A dense window of `window` slots at `offset`, clamped to the slice
    /// as `arSparsePromote` and `arSliceDenseGrowRight` do.
    fn place(offset: u32, window: u32) -> Slice {
        if window >= SLICE_SIZE {
            Slice::Dense {
                offset: 0,
                window: SLICE_SIZE,
            }
        } else if offset + window > SLICE_SIZE {
            Slice::Dense {
                offset: SLICE_SIZE - window,
                window,
            }
        } else {
            Slice::Dense { offset, window }
        }
    }

    /// `arSliceDenseGrowRight`: double the window until `rel` fits.
    fn grow_right(self, rel: u32) -> Slice {
        let Slice::Dense { offset, window } = self else {
            return self;
        };
        let mut grown = window;
        while rel >= offset + grown && grown < SLICE_SIZE {
            grown <<= 1;
        }
        Slice::place(offset, grown)
    }

    /// Bytes requested for the slice's allocation.
    fn bytes(self) -> u64 {
        match self {
            Slice::Sparse { cap, .. } => sparse_bytes(cap),
            Slice::Dense { window, .. } => dense_bytes(window),
        }
    }
}

impl Model {
    /// The array's tracked `alloc_size` (`sparsearray.c`): header,
    /// directory, slices and `arString` values, each at its usable size,
    /// with the slice layout replayed from the element indexes.
    pub(super) fn array_alloc_size(&self, elements: &[ArrayElement]) -> u64 {
        let sorted = elements.windows(2).all(|w| w[0].index < w[1].index);
        if !sorted {
            // Only a hand-made file lists an index twice or out of order;
            // the loader then replaces or inserts, as a sorted replay does.
            let mut owned = elements.to_vec();
            owned.reverse();
            owned.sort_by_key(|e| e.index);
            owned.dedup_by_key(|e| e.index);
            return self.array_alloc_size(&owned);
        }
        let mut slices = 0u64;
        let mut blocks = 0u64;
        let mut max_slice = 0u64;
        let mut current: Option<(u64, Slice)> = None;
        for e in elements {
            let id = e.index >> SLICE_BITS;
            let rel = (e.index & u64::from(SLICE_SIZE - 1)) as u32;
            current = Some(match current {
                Some((cid, s)) if cid == id => (id, s.insert(rel)),
                other => {
                    if let Some((cid, s)) = other {
                        slices += self.j(s.bytes());
                        if cid / SUPER_BLOCK_SLOTS != id / SUPER_BLOCK_SLOTS {
                            blocks += 1;
                        }
                    } else {
                        blocks = 1;
                    }
                    (id, Slice::new(rel))
                }
            });
            max_slice = id;
        }
        if let Some((_, s)) = current {
            slices += self.j(s.bytes());
        }
        let strings: u64 = elements.iter().map(|e| self.array_value(e)).sum();
        self.j(REDIS_ARRAY) + self.array_directory(max_slice, blocks) + slices + strings
    }

    /// The directory: while every slice id is below 2048, a flat vector of
    /// slice pointers grown by doubling past the highest id (`arDirGrow`);
    /// beyond, `arPromoteToSuperDir` frees it for a vector of block entries
    /// (capacity 4, doubled) and one zeroed 2048-pointer table per block
    /// holding a slice (`arSuperDirEnsureSlot`).
    fn array_directory(&self, max_slice: u64, blocks: u64) -> u64 {
        if blocks == 0 {
            return 0;
        }
        if max_slice < SUPER_BLOCK_SLOTS {
            let entries = (max_slice + 1).next_power_of_two();
            return self.j(8 * entries);
        }
        let cap = blocks.next_power_of_two().max(4);
        self.j(AR_SDIR_ENTRY * cap) + blocks * self.j(8 * SUPER_BLOCK_SLOTS)
    }

    /// Heap bytes of one value: integers within 62 bits, doubles and strings
    /// of up to 7 bytes live in the tagged slot word; other strings are an
    /// `arString` of a 2-byte (up to 32767 bytes) or 8-byte length header
    /// and the payload (`arStringNew`, `arValueFromRdbInt`).
    fn array_value(&self, e: &ArrayElement) -> u64 {
        let heap_len = match e.tag {
            0 => e.value,
            3 if e.value > SMALLSTR_MAX => e.value,
            1 => {
                let v = e.value as i64;
                if (-(1i64 << 61)..1i64 << 61).contains(&v) {
                    return 0;
                }
                v.to_string().len() as u64
            }
            _ => return 0,
        };
        let header = if heap_len <= 32_767 { 2 } else { 8 };
        self.j(header + heap_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Allocator;
    use crate::rdb::profile::{Family, Profile};

    fn model() -> Model {
        let profile = Profile {
            family: Family::Redis,
            version: (8, 8, 0),
            from_aux: false,
        };
        Model::new(profile, Allocator::Jemalloc)
    }

    fn small(index: u64) -> ArrayElement {
        ArrayElement {
            index,
            tag: 3,
            value: 4,
        }
    }

    #[test]
    fn one_sparse_slice() {
        // Header 80, a one-pointer directory, a capacity-4 sparse slice.
        assert_eq!(model().array_alloc_size(&[small(7)]), 80 + 8 + 80);
    }

    #[test]
    fn dense_windows_double() {
        // 1000 elements: one dense slice with a 1024-slot window.
        let els: Vec<_> = (0..1000).map(small).collect();
        assert_eq!(model().array_alloc_size(&els), 80 + 8 + 10_240);
        // 14 elements: a 16-slot window.
        let els: Vec<_> = (0..14).map(small).collect();
        assert_eq!(model().array_alloc_size(&els), 80 + 8 + 160);
    }

    #[test]
    fn high_indexes_use_super_blocks() {
        let idx = [5, 4096, 1_000_000, 1 << 32, 1_000_000_000_000_000, 1 << 63];
        let els: Vec<_> = idx.iter().map(|&i| small(i)).collect();
        // Blocks 0, 512, 119209 and 2^40: entry vector of capacity 4.
        let want = 80 + 96 + 4 * 16_384 + 6 * 80;
        assert_eq!(model().array_alloc_size(&els), want);
    }

    #[test]
    fn long_values_are_heap_strings() {
        let m = model();
        let s = |tag, value| ArrayElement {
            index: 0,
            tag,
            value,
        };
        assert_eq!(m.array_value(&s(0, 300)), 320);
        assert_eq!(m.array_value(&s(3, 7)), 0);
        assert_eq!(m.array_value(&s(1, (1u64 << 61) - 1)), 0);
        assert_eq!(m.array_value(&s(1, 1u64 << 61)), 24);
        assert_eq!(m.array_value(&s(2, 0)), 0);
    }
}

//! A small, fast hasher for the maps on the per-line and per-record paths.
//!
//! The log fold's maps are keyed by process ids, lifetime and set indexes,
//! and the addresses of `&'static str` kind names: short integers chosen by
//! the program or by the log being read. The pattern table's walk cache is
//! keyed by key patterns, which a dump's author chooses, but a collision
//! there only costs a lookup in a map capped in size. Neither needs the
//! DoS-resistant SipHash of `std`, which costs a noticeable share of the
//! sequential fold on archives of millions of lines.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// Multiply-rotate hasher (the FxHash scheme): one multiplication per word.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

const K: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut it = bytes.chunks_exact(8);
        for c in &mut it {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        for &b in it.remainder() {
            self.add(u64::from(b));
        }
    }
    #[inline]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;
/// A `HashSet` with [`FastHasher`].
pub type FastSet<K> = HashSet<K, BuildHasherDefault<FastHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_small_keys_spread_and_maps_work() {
        let mut m: FastMap<u32, usize> = FastMap::default();
        for p in 0..10_000u32 {
            m.insert(p, p as usize * 2);
        }
        assert_eq!(m.len(), 10_000);
        assert_eq!(m.get(&4242), Some(&8484));
        assert_eq!(m.get(&10_001), None);
        let h = |v: u32| {
            let mut s = FastHasher::default();
            s.write_u32(v);
            s.finish()
        };
        // Top bits (which hashbrown uses for its control bytes) differ.
        assert_ne!(h(1) >> 57, h(2) >> 57);
        let mut s: FastSet<&str> = FastSet::default();
        s.insert("fork_failed");
        assert!(s.contains("fork_failed") && !s.contains("fork_fail"));
    }
}

//! Allocator size classes and sds string sizes: the building blocks every
//! `MEMORY USAGE` formula rounds through.
//!
//! Redis reports allocation sizes with `zmalloc_size`, which asks the
//! allocator for the usable size of a block: jemalloc's size classes, or
//! glibc's `malloc_usable_size` when the server was built against libc
//! malloc. Strings are sds buffers whose header width depends on the string
//! length (`sds.c` `sdsReqType`).

/// The allocator a server was built with, which decides how each request is
/// rounded (`zmalloc.h` `zmalloc_size`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    /// The jemalloc bundled with Redis and Valkey (`deps/Makefile` configures
    /// it `--with-lg-quantum=3`): 8-byte classes up to 64 bytes.
    Jemalloc,
    /// A system jemalloc with its default 16-byte quantum, as linked by
    /// distribution packages (`USE_SYSTEM_JEMALLOC`, e.g. Debian's). `INFO`
    /// reports the same `mem_allocator` for both builds.
    JemallocSystem,
    /// glibc malloc (`make MALLOC=libc`, some distribution and embedded
    /// builds).
    Libc,
}

impl Allocator {
    /// Parses `jemalloc`, `jemalloc-system`, `libc` or an `INFO`
    /// `mem_allocator` value such as `jemalloc-5.3.0` (the bundled build)
    /// or `libc`.
    pub fn parse(s: &str) -> Option<Allocator> {
        let s = s.trim().to_ascii_lowercase();
        if s == "jemalloc-system" {
            Some(Allocator::JemallocSystem)
        } else if s.starts_with("jemalloc") {
            Some(Allocator::Jemalloc)
        } else if s.starts_with("libc") || s.starts_with("glibc") {
            Some(Allocator::Libc)
        } else {
            None
        }
    }

    /// Usable size of a block obtained with `malloc(n)`: what
    /// `zmalloc_size` reports for it.
    ///
    /// jemalloc: four classes per doubling (…, 128, 160, 192, 224, 256,
    /// 320, …), never finer than the quantum: 8 bytes for the bundled build
    /// (8, 16, 24, 32, 40, …, 64, 80, …), 16 for a system build (8, 16, 32,
    /// 48, …). glibc (x86-64): chunks are
    /// multiples of 16 with 8 bytes of header and a 32-byte minimum chunk,
    /// and requests from 128 KiB on are served by `mmap` in whole pages.
    pub fn usable(&self, n: u64) -> u64 {
        match self {
            Allocator::Jemalloc => jemalloc_class(n, 8),
            Allocator::JemallocSystem => jemalloc_class(n, 16),
            Allocator::Libc => libc_usable(n),
        }
    }
}

fn jemalloc_class(n: u64, quantum: u64) -> u64 {
    if n <= 8 {
        return 8;
    }
    // Four classes per doubling: step = 2^(ceil(log2 n) - 3).
    let ceil_log2 = 64 - (n - 1).leading_zeros();
    let step = (1u64 << (ceil_log2 - 3)).max(quantum);
    (n + step - 1) & !(step - 1)
}

/// glibc's default `M_MMAP_THRESHOLD`.
const LIBC_MMAP_THRESHOLD: u64 = 128 * 1024;

fn libc_usable(n: u64) -> u64 {
    if n >= LIBC_MMAP_THRESHOLD {
        // mmapped chunk: header of 16, whole pages.
        return ((n + 16 + 4095) & !4095) - 16;
    }
    ((n + 8 + 15) & !15).max(32) - 8
}

/// Bytes of an sds header for a string of `len` bytes.
///
/// `type5` (1 byte) is only used for non-empty strings shorter than 32 bytes
/// that are created by `sdsnewlen` directly (keys, hashtable members);
/// pass `type5 = false` where the server forces type 8 (embedded strings,
/// empty strings). `sds_8_2` selects the Redis 8.2+ thresholds, which keep
/// a few bytes of headroom below each type's maximum.
pub fn sds_header(len: u64, type5: bool, sds_8_2: bool) -> u64 {
    if type5 && len > 0 && len < 32 {
        return 1;
    }
    let (t8, t16, t32) = if sds_8_2 {
        (252, 65_530, (1u64 << 32) - 10)
    } else {
        (255, 65_535, u64::from(u32::MAX))
    };
    if len <= t8 {
        3
    } else if len <= t16 {
        5
    } else if len <= t32 {
        9
    } else {
        17
    }
}

/// Requested bytes of an sds string: header, payload and terminator.
pub fn sds_request(len: u64, type5: bool, sds_8_2: bool) -> u64 {
    sds_header(len, type5, sds_8_2) + len + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jemalloc_classes() {
        let bundled = [(9, 16), (17, 24), (33, 40), (57, 64), (65, 80), (129, 160)];
        for (n, c) in bundled {
            assert_eq!(Allocator::Jemalloc.usable(n), c, "J({n})");
        }
        let want = [
            (0, 8),
            (1, 8),
            (8, 8),
            (9, 16),
            (17, 32),
            (33, 48),
            (128, 128),
            (129, 160),
            (160, 160),
            (161, 192),
            (257, 320),
            (513, 640),
            (536, 640),
            (1025, 1280),
            (4097, 5120),
        ];
        for (n, c) in want {
            assert_eq!(Allocator::JemallocSystem.usable(n), c, "J({n})");
        }
    }

    #[test]
    fn libc_chunks() {
        let want = [(0, 24), (1, 24), (24, 24), (25, 40), (40, 40), (41, 56)];
        for (n, c) in want {
            assert_eq!(Allocator::Libc.usable(n), c, "libc({n})");
        }
        assert_eq!(Allocator::Libc.usable(200_000), 200_688);
    }

    #[test]
    fn sds_headers_follow_length() {
        assert_eq!(sds_header(5, true, false), 1);
        assert_eq!(sds_header(5, false, false), 3);
        assert_eq!(sds_header(0, true, false), 3);
        assert_eq!(sds_header(255, true, false), 3);
        assert_eq!(sds_header(253, true, true), 5);
        assert_eq!(sds_header(70_000, true, false), 9);
        assert_eq!(sds_request(10, true, false), 12);
    }

    #[test]
    fn allocator_names() {
        assert_eq!(
            Allocator::parse("jemalloc-5.3.0"),
            Some(Allocator::Jemalloc)
        );
        assert_eq!(Allocator::parse("libc"), Some(Allocator::Libc));
        assert_eq!(
            Allocator::parse("jemalloc-system"),
            Some(Allocator::JemallocSystem)
        );
        assert_eq!(Allocator::parse("tcmalloc"), None);
    }
}

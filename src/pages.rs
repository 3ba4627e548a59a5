//! Releasing the pages of a mapped input behind its readers, so a 50 GB dump
//! is read with a resident set of tens of MiB instead of its size.
//!
//! A map's pages stay in the process's resident set once touched, and peak
//! RSS (what `time -v`, `top` and a container's memory limit see) then grows
//! to the file's size even though every byte is read once. After the readers
//! have passed a range, `MADV_DONTNEED` drops it from the process; the page
//! cache keeps it, and a late access (a borrowed key still being formatted)
//! faults it back in from the file, so releasing never changes what is read.
//!
//! Two readers walk a dump at once: the record walk and the checksum
//! thread. A range is released only when both are past it, and the one that
//! runs ahead waits for the other once it is [`WINDOW`] bytes in front, so
//! the resident set is bounded by the window plus the batches in flight.
//! The checksum also keeps within [`CHECKSUM_LEAD`] of the framer, so the
//! bytes it brings into the cache are still there when the framer and the
//! workers read them.
//!
//! A single value can be larger than the window (a hash of tens of millions
//! of fields): the framer walks it to find its end, then a worker walks it
//! again, and neither is "behind" it until it is done. Long element loops
//! therefore report where they are ([`passed`]), and on a thread armed for a
//! mapped input ([`releasing`]) the part of the value already walked is
//! released as they go. The second reader faults the pages back in from the
//! page cache, a cost paid only for values past [`IN_VALUE_MIN`].

use std::cell::Cell;
use std::sync::{Condvar, Mutex};

use memmap2::{Mmap, UncheckedAdvice};

/// How far one reader may run ahead of the other.
pub const WINDOW: u64 = 64 << 20;
/// How far the checksum may run ahead of the framer. The checksum is the
/// fastest reader and the first to touch a range; kept this close, the
/// framer and then the workers find the range still in the cache instead
/// of fetching it from memory a second and third time (`rdb`'s framer
/// spent most of its time on those first loads). 2 MiB was the fastest
/// in side-by-side runs of 1, 2, 3, 8 and 64 MiB on 2 cores with 1 MiB of
/// L2 each (`benches/results/2026-12-07-vm-rdb-scale.md`).
pub const CHECKSUM_LEAD: u64 = 2 << 20;
/// Release in steps of this many bytes, to keep the system calls rare.
const STEP: u64 = 8 << 20;
/// Released ranges end on this boundary, a multiple of every page size.
const ALIGN: u64 = 64 << 10;
/// A value is released while it is walked once this many of its bytes are
/// behind the walk; smaller values are released with their batch.
pub const IN_VALUE_MIN: usize = 16 << 20;
/// [`passed`] looks at the position once every this many elements.
pub const PASSED_EVERY: u64 = 4096;

/// The mapped range this thread may release inside (start and end
/// addresses), and how far into the current value it has released.
#[derive(Clone, Copy)]
struct Armed {
    lo: usize,
    hi: usize,
    /// Start of the value being released, and how far it is released.
    value: usize,
    done: usize,
}

thread_local! {
    static ARMED: Cell<Option<Armed>> = const { Cell::new(None) };
}

#[derive(Debug)]
struct Marks {
    reader: u64,
    /// How far the framer has come; `u64::MAX` when none paces the checksum.
    framer: u64,
    checksum: u64,
    released: u64,
}

/// Tracks how far the readers of one map have come and releases what is
/// behind both. For inputs held in memory (decompressed, stdin) it does
/// nothing: there is no file to fault pages back from.
#[derive(Debug)]
pub struct Pager<'m> {
    map: Option<&'m Mmap>,
    marks: Mutex<Marks>,
    moved: Condvar,
}

impl<'m> Pager<'m> {
    /// A pager for `map`, with no checksum reader (see
    /// [`Pager::checksum_starts`]).
    pub fn new(map: Option<&'m Mmap>) -> Pager<'m> {
        Pager {
            map,
            marks: Mutex::new(Marks {
                reader: 0,
                framer: u64::MAX,
                checksum: u64::MAX,
                released: 0,
            }),
            moved: Condvar::new(),
        }
    }

    /// A pager that releases nothing.
    pub fn none() -> Pager<'static> {
        Pager::new(None)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.marks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A checksum reader starts at offset 0: ranges wait for it too.
    pub fn checksum_starts(&self) {
        if self.map.is_some() {
            self.lock().checksum = 0;
        }
    }

    /// The checksum reader is past `pos`; it waits while it is more than
    /// [`WINDOW`] ahead of the record walk or [`CHECKSUM_LEAD`] ahead of the
    /// framer.
    pub fn checksum_at(&self, pos: u64) {
        if self.map.is_none() {
            return;
        }
        let mut m = self.lock();
        m.checksum = pos;
        self.release(&mut m);
        self.moved.notify_all();
        while m.checksum > m.reader.saturating_add(WINDOW)
            || m.checksum > m.framer.saturating_add(CHECKSUM_LEAD)
        {
            m = self.moved.wait(m).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The checksum reader is done (or gave up): it holds nothing back.
    pub fn checksum_done(&self) {
        if self.map.is_none() {
            return;
        }
        let mut m = self.lock();
        m.checksum = u64::MAX;
        self.release(&mut m);
        self.moved.notify_all();
    }

    /// The framer starts at offset 0: the checksum keeps close ahead of it
    /// (see [`CHECKSUM_LEAD`]) until [`Pager::framer_done`].
    pub fn framer_starts(&self) {
        if self.map.is_some() {
            self.lock().framer = 0;
        }
    }

    /// The framer has read up to `pos`.
    pub fn framer_at(&self, pos: u64) {
        if self.map.is_none() {
            return;
        }
        let mut m = self.lock();
        if m.framer != u64::MAX {
            m.framer = m.framer.max(pos);
            self.moved.notify_all();
        }
    }

    /// The framer is done (or gave up): the checksum runs free.
    pub fn framer_done(&self) {
        if self.map.is_none() {
            return;
        }
        self.lock().framer = u64::MAX;
        self.moved.notify_all();
    }

    /// The record walk no longer needs anything before `pos`; it waits while
    /// it is more than [`WINDOW`] ahead of the checksum reader.
    pub fn reader_at(&self, pos: u64) {
        if self.map.is_none() {
            return;
        }
        let mut m = self.lock();
        m.reader = m.reader.max(pos);
        self.release(&mut m);
        self.moved.notify_all();
        while m.reader > m.checksum.saturating_add(WINDOW) {
            m = self.moved.wait(m).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// The record walk is over: nothing waits for it any more.
    pub fn reader_done(&self) {
        if self.map.is_none() {
            return;
        }
        let mut m = self.lock();
        m.reader = u64::MAX;
        self.release(&mut m);
        self.moved.notify_all();
    }

    /// Runs `f` with this thread armed to release inside large values of
    /// this pager's map (see [`passed`]); without a map, just runs `f`.
    pub fn releasing<R>(&self, f: impl FnOnce() -> R) -> R {
        let Some(map) = self.map else { return f() };
        let lo = map.as_ptr() as usize;
        let armed = Armed {
            lo,
            hi: lo + map.len(),
            value: 0,
            done: 0,
        };
        struct Restore(Option<Armed>);
        impl Drop for Restore {
            fn drop(&mut self) {
                ARMED.with(|a| a.set(self.0));
            }
        }
        let _restore = Restore(ARMED.with(|a| a.replace(Some(armed))));
        f()
    }

    fn release(&self, m: &mut Marks) {
        let Some(map) = self.map else { return };
        let behind = m.reader.min(m.checksum).min(map.len() as u64);
        let upto = behind - behind % ALIGN;
        if upto < m.released + STEP && upto < map.len() as u64 - map.len() as u64 % ALIGN {
            return;
        }
        if upto <= m.released {
            return;
        }
        // SAFETY: the map is a read-only, file-backed mapping (Source maps
        // with `Mmap::map`, never copy-on-write), so MADV_DONTNEED drops our
        // page-table entries and nothing else: a later read of the range
        // faults the same bytes back in from the file. Slices borrowed from
        // the map stay valid and keep their contents, under the contract
        // the map itself already rests on (the file is not modified while
        // mapped; see Source::open).
        #[allow(unsafe_code)]
        let r = unsafe {
            map.unchecked_advise_range(
                UncheckedAdvice::DontNeed,
                m.released as usize,
                (upto - m.released) as usize,
            )
        };
        // Advice is advice: a kernel that refuses it leaves the pages
        // resident, which costs memory, not correctness.
        let _ = r;
        m.released = upto;
    }
}

/// A long loop over the value starting at `value` has reached `rest`, at
/// its `element`th element: every [`PASSED_EVERY`] elements, on a thread
/// armed by [`Pager::releasing`], once more than [`IN_VALUE_MIN`] bytes of
/// the value are behind `rest`, they are released. Elsewhere (heap buffers,
/// unarmed threads, small values) it does nothing.
#[inline]
pub fn passed(value: &[u8], rest: &[u8], element: u64) {
    if element.is_multiple_of(PASSED_EVERY) && element > 0 {
        release_within(value, rest);
    }
}

fn release_within(value: &[u8], rest: &[u8]) {
    let from = value.as_ptr() as usize;
    let to = rest.as_ptr() as usize;
    if to.saturating_sub(from) < IN_VALUE_MIN {
        return;
    }
    ARMED.with(|a| {
        let Some(mut armed) = a.get() else { return };
        if from < armed.lo || to > armed.hi {
            return;
        }
        let align = ALIGN as usize;
        // Whole aligned blocks inside the value only: its first block may
        // hold records of a batch still in flight.
        if armed.value != from {
            armed.value = from;
            armed.done = from.next_multiple_of(align);
        }
        let start = armed.done;
        let end = to - to % align;
        if end < start + STEP as usize {
            return;
        }
        // SAFETY: [start, end) lies inside the map the thread was armed with
        // (checked against its bounds above), which is a read-only,
        // file-backed mapping held by the pager's borrower for as long as
        // the thread is armed; `start` and `end` are multiples of ALIGN, a
        // multiple of the page size, as the map's base is. MADV_DONTNEED on
        // such a mapping only drops page-table entries: a later read of the
        // range (the worker walking this value after the framer) faults the
        // same bytes back in from the file, so borrowed slices keep their
        // contents (see `Pager::release`).
        #[allow(unsafe_code)]
        let r =
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_DONTNEED) };
        // Advice may be refused; that costs memory, not correctness.
        let _ = r;
        armed.done = end;
        a.set(Some(armed));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resident file-backed pages (shared memory too, for a tmpfs TMPDIR).
    fn rss_file_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap()
        };
        field("RssFile:") + field("RssShmem:")
    }

    fn scratch_dir(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("redsleuth-{name}-{}", std::process::id()))
    }

    #[test]
    fn the_checksum_waits_for_the_framer_until_it_is_done() {
        let dir = scratch_dir("lead");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        std::fs::write(&path, vec![7u8; 1 << 20]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is private to this test and not modified.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.unwrap();
        let pager = Pager::new(Some(&map));
        pager.checksum_starts();
        pager.framer_starts();
        pager.reader_at(0);
        let (tx, rx) = std::sync::mpsc::channel();
        let wait = std::time::Duration::from_millis(200);
        std::thread::scope(|sc| {
            sc.spawn(|| {
                pager.checksum_at(CHECKSUM_LEAD);
                tx.send(1).unwrap();
                pager.checksum_at(3 * CHECKSUM_LEAD);
                tx.send(2).unwrap();
            });
            // Exactly the lead ahead passes; further waits for the framer.
            assert_eq!(rx.recv_timeout(10 * wait), Ok(1));
            assert!(rx.recv_timeout(wait).is_err(), "ran past the framer");
            pager.framer_at(CHECKSUM_LEAD);
            assert!(rx.recv_timeout(wait).is_err(), "still two leads ahead");
            pager.framer_done();
            assert_eq!(rx.recv_timeout(10 * wait), Ok(2));
        });
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn released_ranges_leave_the_resident_set_and_read_back_the_same() {
        let dir = scratch_dir("pages");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        let len = 96usize << 20;
        let bytes: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is private to this test and not modified.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.unwrap();
        let before = rss_file_kib();
        let sum: u64 = map.iter().map(|&b| u64::from(b)).sum();
        let touched = rss_file_kib();
        assert!(
            touched >= before + 90 * 1024,
            "reading 96 MiB maps it: {before} -> {touched} KiB"
        );
        let pager = Pager::new(Some(&map));
        pager.reader_done();
        let released = rss_file_kib();
        assert!(
            released + 90 * 1024 <= touched,
            "released: {touched} -> {released} KiB"
        );
        // Read again: the same bytes fault back in from the file.
        let again: u64 = map.iter().map(|&b| u64::from(b)).sum();
        assert_eq!(sum, again);
        assert_eq!(&map[len - 10..], &bytes[len - 10..]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_checksum_reader_holds_ranges_back() {
        let dir = scratch_dir("pages2");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        std::fs::write(&path, vec![7u8; 32 << 20]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is private to this test and not modified.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.unwrap();
        let pager = Pager::new(Some(&map));
        pager.checksum_starts();
        pager.reader_at(30 << 20);
        assert_eq!(pager.lock().released, 0, "the checksum is still at 0");
        pager.checksum_at(16 << 20);
        assert_eq!(pager.lock().released, 16 << 20);
        pager.checksum_done();
        assert_eq!(pager.lock().released, 30 << 20);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_long_walk_releases_the_value_behind_it_on_an_armed_thread_only() {
        let dir = scratch_dir("pages3");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data");
        let len = 64usize << 20;
        std::fs::write(&path, vec![3u8; len]).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        // SAFETY: the file is private to this test and not modified.
        #[allow(unsafe_code)]
        let map = unsafe { Mmap::map(&file) }.unwrap();
        let touch = |m: &[u8]| m.iter().map(|&b| u64::from(b)).sum::<u64>();
        assert_eq!(touch(&map), 3 * len as u64);
        let full = rss_file_kib();
        // Unarmed, or between elements the position is looked at: nothing.
        passed(&map, &map[48 << 20..], PASSED_EVERY);
        let pager = Pager::new(Some(&map));
        pager.releasing(|| passed(&map, &map[48 << 20..], PASSED_EVERY - 1));
        assert!(rss_file_kib() + 16 * 1024 > full, "nothing released");
        pager.releasing(|| passed(&map, &map[48 << 20..], PASSED_EVERY));
        let after = rss_file_kib();
        assert!(
            after + 40 * 1024 <= full,
            "48 MiB behind the walk released: {full} -> {after} KiB"
        );
        // The bytes read back the same, and the thread is disarmed again.
        assert_eq!(touch(&map), 3 * len as u64);
        assert!(ARMED.with(|a| a.get()).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

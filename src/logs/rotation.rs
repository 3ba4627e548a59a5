//! The order of the files inside one rotation set, judged by what they hold.
//!
//! [`rotation_key`](super::rotation_key) groups files into sets and ranks
//! them by name (`redis.log.2.gz` before `redis.log.1` before `redis.log`).
//! Names lie in practice: copies renamed by hand, archives re-numbered by a
//! collector, a `.1` written after a manual rotate. So before a set of more
//! than one file is folded, each file's first timestamped line is peeked and
//! the files that have one are put in the order of those times; a file
//! without one keeps its place in the name order, and equal times keep the
//! name order between them. With consistent names nothing moves. Which
//! files form a set is still judged by name alone.
//!
//! The peek is bounded: at most [`PEEK`] bytes of decompressed text are read
//! from the head of each file (through the decompressor for `.gz`, `.lz4`
//! and `.zst`), never a whole file or a whole line.

use std::cmp::Ordering;
use std::io::Read;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::line::{civil_from_days, parse_line, Stamp, MAX_PARSE};
use crate::source;

/// How many decompressed bytes of a file's head are read to find its first
/// timestamp.
pub const PEEK: u64 = 64 * 1024;

/// How much is read at a time while peeking.
const STEP: usize = 4096;

/// A cut-off last line is parsed only when at least this long, so that its
/// timestamp cannot have been cut through (every native prefix is shorter).
const PARTIAL_MIN: usize = 256;

/// The timestamp of the first line of `path` that has one within its first
/// [`PEEK`] bytes; `None` when there is none there, or the file cannot be
/// read (the full read reports why). Standard input (`-`) is never peeked.
pub fn first_stamp(path: &Path) -> Option<Stamp> {
    if path == Path::new("-") {
        return None;
    }
    let (r, _) = source::open_stream(path).ok()?;
    let mut r = r.take(PEEK);
    let mut head = Vec::with_capacity(STEP);
    // Complete lines before this offset were parsed and had no time.
    let mut scanned = 0;
    let mut buf = [0u8; STEP];
    loop {
        // A read error midway (a truncated archive) still leaves what was
        // read to look at.
        let n = match r.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => 0,
        };
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
        // Most files have a time on their first line: look as soon as a
        // line is whole, so the peek rarely decompresses more than a step.
        if let Some(end) = memchr::memrchr(b'\n', &head[scanned..]) {
            let end = scanned + end + 1;
            if let Some(s) = first_stamp_in(&head[scanned..end], true) {
                return Some(s);
            }
            scanned = end;
        }
    }
    let whole = (head.len() as u64) < PEEK;
    first_stamp_in(&head[scanned..], whole)
}

/// The first placed timestamp among the lines of `head`, the first bytes
/// of a file (`whole` when they are the entire file). Times since boot
/// (plain `dmesg`) do not order files and are passed over.
pub fn first_stamp_in(head: &[u8], whole: bool) -> Option<Stamp> {
    let mut rest = head;
    while !rest.is_empty() {
        let (line, next, complete) = match memchr::memchr(b'\n', rest) {
            Some(n) => (&rest[..n], &rest[n + 1..], true),
            None => (rest, &rest[rest.len()..], whole),
        };
        rest = next;
        if !complete && line.len() < PARTIAL_MIN {
            break;
        }
        let line = &line[..line.len().min(MAX_PARSE)];
        match parse_line(line).and_then(|l| l.stamp) {
            Some(s @ (Stamp::Abs(_) | Stamp::NoYear { .. })) => return Some(s),
            _ => continue,
        }
    }
    None
}

/// A year-less view of a stamp: month, day, milliseconds since midnight.
fn within_year(s: Stamp) -> (u8, u8, u32) {
    match s {
        Stamp::NoYear { mon, day, msod } => (mon, day, msod),
        Stamp::Abs(ms) | Stamp::SinceBoot(ms) => {
            let (_, m, d) = civil_from_days(ms.div_euclid(86_400_000));
            (m as u8, d as u8, ms.rem_euclid(86_400_000) as u32)
        }
    }
}

/// The order of a set's files by content, given each file's first stamp in
/// name order (oldest first): indexes into `stamps`, oldest first. Files
/// with a stamp are sorted by it, into the places files with a stamp held;
/// a file without one stays where its name put it. Ties keep name order.
/// When every stamp carries a year they compare as instants; otherwise all
/// compare within a year (month, day, time), as the files of one set span
/// less than one.
pub fn content_order(stamps: &[Option<Stamp>]) -> Vec<usize> {
    let mut dated: Vec<(usize, Stamp)> = stamps
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (i, s)))
        .collect();
    let all_abs = dated.iter().all(|(_, s)| matches!(s, Stamp::Abs(_)));
    let cmp = |a: &Stamp, b: &Stamp| -> Ordering {
        match (a, b) {
            (Stamp::Abs(x), Stamp::Abs(y)) if all_abs => x.cmp(y),
            _ => within_year(*a).cmp(&within_year(*b)),
        }
    };
    // Stable: equal times keep their name order.
    dated.sort_by(|a, b| cmp(&a.1, &b.1));
    let mut sorted = dated.into_iter().map(|(i, _)| i);
    stamps
        .iter()
        .enumerate()
        .map(|(i, s)| match s {
            Some(_) => sorted.next().unwrap_or(i),
            None => i,
        })
        .collect()
}

/// The [`first_stamp`] of each of `paths`. The peeks are independent reads
/// (decompressions for most rotated pieces): in parallel.
pub fn first_stamps(paths: &[PathBuf]) -> Vec<Option<Stamp>> {
    paths.par_iter().map(|p| first_stamp(p)).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::PathBuf;

    use super::*;
    use crate::logs::line::days_from_civil;

    /// The order of `paths`, one rotation set listed in name order, by
    /// content, as `analyze` takes it.
    fn order_set(paths: &[&Path]) -> Vec<usize> {
        let owned: Vec<PathBuf> = paths.iter().map(|p| p.to_path_buf()).collect();
        content_order(&first_stamps(&owned))
    }

    fn at(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64) -> Stamp {
        Stamp::Abs(days_from_civil(y, mo, d) * 86_400_000 + ((h * 60 + mi) * 60 + s) * 1000)
    }

    fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn files_are_ordered_by_their_first_time_and_an_undated_one_keeps_its_place() {
        let d = tempfile::tempdir().unwrap();
        // In name order, oldest first: the names say .3.gz, .2, .1, plain.
        let newest = write(
            d.path(),
            "redis.log.3.gz",
            &gzip(b"41:M 05 Dec 2026 12:00:00.000 * Ready to accept connections\n"),
        );
        let undated = write(d.path(), "redis.log.2", b"no time here\n\nstill none\n");
        let oldest = write(
            d.path(),
            "redis.log.1",
            b"garbage first\n40:M 05 Dec 2026 10:00:00.000 * Server initialized\n",
        );
        let middle = write(
            d.path(),
            "redis.log",
            b"40:M 05 Dec 2026 11:00:00.000 # User requested shutdown...\n",
        );
        assert_eq!(first_stamp(&newest), Some(at(2026, 12, 5, 12, 0, 0)));
        assert_eq!(first_stamp(&undated), None);
        assert_eq!(first_stamp(&oldest), Some(at(2026, 12, 5, 10, 0, 0)));
        let paths = [&*newest, &*undated, &*oldest, &*middle];
        // Dated files take the dated places (0, 2, 3) in time order; the
        // undated one stays second.
        assert_eq!(order_set(&paths), [2, 1, 3, 0]);
    }

    #[test]
    fn consistent_names_and_single_files_do_not_move() {
        let d = tempfile::tempdir().unwrap();
        let a = write(
            d.path(),
            "redis.log.1",
            b"1:M 05 Dec 2026 10:00:00.000 * a\n",
        );
        let b = write(d.path(), "redis.log", b"1:M 05 Dec 2026 10:00:01.000 * b\n");
        assert_eq!(order_set(&[&*a, &*b]), [0, 1]);
        assert_eq!(order_set(&[&*b]), [0]);
        assert_eq!(order_set(&[]), Vec::<usize>::new());
        // A missing file is undated, not an error here.
        let gone = d.path().join("redis.log.2");
        assert_eq!(order_set(&[&*gone, &*b, &*a]), [0, 2, 1]);
    }

    #[test]
    fn equal_times_keep_name_order() {
        let t = at(2026, 12, 5, 10, 0, 0);
        assert_eq!(content_order(&[Some(t), None, Some(t)]), [0, 1, 2]);
        let later = at(2026, 12, 5, 10, 0, 1);
        assert_eq!(content_order(&[Some(later), Some(t), Some(t)]), [1, 2, 0]);
        assert_eq!(content_order(&[None, None]), [0, 1]);
    }

    #[test]
    fn year_less_times_compare_within_the_year() {
        let jan = Stamp::NoYear {
            mon: 1,
            day: 12,
            msod: 1000,
        };
        let mar = Stamp::NoYear {
            mon: 3,
            day: 1,
            msod: 0,
        };
        assert_eq!(content_order(&[Some(mar), Some(jan)]), [1, 0]);
        // Mixed with a dated stamp, the dated one is read without its year.
        let feb = at(2031, 2, 2, 0, 0, 0);
        assert_eq!(content_order(&[Some(mar), Some(feb), Some(jan)]), [2, 1, 0]);
        assert_eq!(
            first_stamp_in(b"1718:S 12 Jan 11:20:08.963 # Connection lost.\n", true),
            Some(Stamp::NoYear {
                mon: 1,
                day: 12,
                msod: ((11 * 60 + 20) * 60 + 8) * 1000 + 963,
            })
        );
    }

    #[test]
    fn a_time_past_the_first_reads_and_across_their_edges_is_found() {
        let d = tempfile::tempdir().unwrap();
        // Undated lines over several reads, then a dated line that starts
        // just before a read's edge and ends after it.
        let mut text = Vec::new();
        while text.len() < 3 * STEP - 10 {
            text.extend_from_slice(b"                 _._\n");
        }
        text.extend_from_slice(b"7:M 05 Dec 2026 10:00:00.000 * Server initialized\n");
        let plain = write(d.path(), "a.log", &text);
        let packed = write(d.path(), "b.log.gz", &gzip(&text));
        let want = Some(at(2026, 12, 5, 10, 0, 0));
        assert_eq!(first_stamp(&plain), want);
        assert_eq!(first_stamp(&packed), want);
        assert_eq!(first_stamp_in(&text, true), want);
    }

    #[test]
    fn the_peek_is_bounded() {
        let d = tempfile::tempdir().unwrap();
        // A time beyond the peek is not seen.
        let mut late = vec![b'x'; PEEK as usize + 10];
        late.extend_from_slice(b"\n1:M 05 Dec 2026 10:00:00.000 * a\n");
        let late = write(d.path(), "late.log", &late);
        assert_eq!(first_stamp(&late), None);
        // A huge first line is read only up to the peek, and its time is
        // at its head.
        let mut huge = b"1:M 05 Dec 2026 10:00:00.000 * ".to_vec();
        huge.resize(4 << 20, b'y');
        huge.push(b'\n');
        let huge = write(d.path(), "huge.log.gz", &gzip(&huge));
        assert_eq!(first_stamp(&huge), Some(at(2026, 12, 5, 10, 0, 0)));
        // A short piece cut off by the peek is not trusted.
        let mut cut = vec![b'\n'; PEEK as usize - 20];
        cut.extend_from_slice(b"1:M 05 Dec 2026 10:00:00.000 * a\n");
        assert_eq!(first_stamp_in(&cut[..PEEK as usize], false), None);
        assert_eq!(first_stamp_in(&cut, true), Some(at(2026, 12, 5, 10, 0, 0)));
    }
}

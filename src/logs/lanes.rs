//! Several rotation sets read at once and folded in time order.
//!
//! A fleet's archive holds one log, or one rotation set, per node, all of
//! the same hours. Read one after the other, the first node's whole file
//! would be held before the second's began: no window can close before a
//! file still to come starts (see [`super::window`]). Instead each set is a
//! lane. A thread per lane reads its files in rotation order (parsing on
//! the shared pool, decompressing on a thread of its own, so several
//! compressed files decompress at once) and hands each batch of records
//! through a rendezvous channel; the fold takes, of every lane's next batch,
//! the one that starts earliest. What is settled then advances with the
//! slowest lane, and memory is bounded by the number of lanes times their
//! buffers; the buffers shrink as lanes are added (see [`Budget`]).
//!
//! The fold waits for every open lane's next batch before it picks, and
//! picks by the batches' contents alone (first timestamp, then lane), so
//! the order they are folded in, and the output, never depend on which
//! thread was faster. At most [`MAX_LANES`] lanes run at once; the rest
//! start as those end, in set order, and until then their first lines
//! bound what can be settled (a fleet of more nodes than that is held in
//! part, as a single lane was before).

use std::path::PathBuf;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use rayon::prelude::*;

use super::chunk::{self, Counters, Item, Parsed};
use super::line::Stamp;
use super::window::Windowed;
use super::{comp_name, counter, is_plain, mtime_of};
use crate::source;

/// Lanes read at once.
pub const MAX_LANES: usize = 64;

/// Plain files up to this size (and compressed ones up to a tenth of it)
/// are parsed whole, several at once; larger ones are streamed piece by
/// piece into the timeline.
pub const SMALL_FILE: u64 = 16 * 1024 * 1024;
/// At most this many on-disk bytes of small files are parsed at once (by
/// all lanes together; a lane parses at least one).
const SMALL_GROUP: u64 = 64 * 1024 * 1024;

/// One file of a lane, in rotation order.
pub struct Job {
    /// The name the output shows.
    shown: String,
    /// Where it is read from (standard input's spool, for `-`).
    path: PathBuf,
    /// Its rotation set.
    set: usize,
    /// Its first timestamp (`i64::MIN`: unknown).
    first: i64,
    /// Whether it is stored uncompressed (then it is memory-mapped).
    plain: bool,
    /// Its on-disk size, when small enough to be parsed whole.
    small: Option<u64>,
}

impl Job {
    /// A file `path` of set `set`, shown as `shown`, whose first timestamp
    /// is `first`.
    pub fn new(shown: String, path: PathBuf, set: usize, first: i64) -> Job {
        let plain = is_plain(&path);
        let len = std::fs::metadata(&path).map_or(u64::MAX, |m| m.len());
        let limit = if plain { SMALL_FILE } else { SMALL_FILE / 10 };
        Job {
            shown,
            path,
            set,
            first,
            plain,
            small: (len <= limit).then_some(len),
        }
    }
}

/// What a lane sends, in its files' order.
enum Msg {
    /// Job `job` of the lane starts.
    Begin {
        job: usize,
        plain: bool,
        comp: &'static str,
    },
    /// The next records of the file begun last (the counters boxed: they
    /// are most of the message's size).
    Batch(Vec<Item>, Box<Counters>),
    /// The file begun last ended: its decompressed size, and the error
    /// that stopped it.
    End { bytes: u64, error: Option<String> },
}

/// The piece (plain), block (streamed) and small-file group sizes of a
/// lane when `lanes` are read at once: their buffers together stay about
/// those of one lane read alone, but pieces and blocks never fall below
/// [`chunk::MIN_BLOCK`].
struct Budget {
    piece: usize,
    block: usize,
    group: u64,
}

impl Budget {
    fn for_lanes(lanes: usize) -> Budget {
        let n = lanes.clamp(1, MAX_LANES);
        Budget {
            piece: (chunk::PIECE / n).max(chunk::MIN_BLOCK),
            block: (chunk::BLOCK / n).max(chunk::MIN_BLOCK),
            group: SMALL_GROUP / n as u64,
        }
    }
}

/// Reads a small file whole.
fn read_one(
    job: &Job,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> (Parsed, &'static str, Option<String>) {
    let path = job.path.as_path();
    // Plain files: one mmap, parsed in parallel chunks.
    if job.plain {
        return match source::Source::open(path) {
            Ok(src) => (chunk::parse_all(src.bytes(), threads, tick), "none", None),
            Err(e) => (Parsed::default(), "none", Some(e.to_string())),
        };
    }
    // Compressed files: streamed through the decompressor; progress
    // counts the compressed bytes read.
    match source::open_stream_counted(path, counter(tick)) {
        Ok((mut r, comp)) => {
            let (p, err) = chunk::parse_stream(&mut *r, threads, &|_| {});
            (
                p,
                comp_name(comp),
                err.map(|e| format!("{}: {e}", path.display())),
            )
        }
        Err(e) => (Parsed::default(), "none", Some(e.to_string())),
    }
}

/// The channel's receiver went away (the fold stopped): nothing more is
/// worth reading.
struct Gone;

fn send(tx: &SyncSender<Msg>, m: Msg) -> Result<(), Gone> {
    tx.send(m).map_err(|_| Gone)
}

/// Streams one large file, the lane's job `k`, down the lane.
fn stream_one(
    k: usize,
    job: &Job,
    budget: &Budget,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
    tx: &SyncSender<Msg>,
) -> Result<(), Gone> {
    let mut gone = false;
    let mut sink = |items: Vec<Item>, c: Counters| {
        gone = gone || tx.send(Msg::Batch(items, Box::new(c))).is_err();
    };
    let path = job.path.as_path();
    if job.plain {
        let begin = Msg::Begin {
            job: k,
            plain: true,
            comp: "none",
        };
        send(tx, begin)?;
        let end = match source::Source::open(path) {
            Ok(src) => {
                let bytes = src.bytes();
                // The map's pages behind the parse leave the resident set,
                // so it does not grow with the file (cited lines are read
                // back by offset, faulting in a page or two).
                let pager = src.pager();
                let passed = |pos: u64| pager.reader_at(pos);
                chunk::parse_mmap_with(bytes, budget.piece, threads, tick, &passed, &mut sink);
                pager.reader_done();
                Msg::End {
                    bytes: bytes.len() as u64,
                    error: None,
                }
            }
            Err(e) => Msg::End {
                bytes: 0,
                error: Some(e.to_string()),
            },
        };
        if gone {
            return Err(Gone);
        }
        return send(tx, end);
    }
    match source::open_stream_counted(path, counter(tick)) {
        Ok((mut r, comp)) => {
            let begin = Msg::Begin {
                job: k,
                plain: false,
                comp: comp_name(comp),
            };
            send(tx, begin)?;
            let (bytes, err) =
                chunk::parse_stream_with(&mut *r, budget.block, threads, &|_| {}, &mut sink);
            if gone {
                return Err(Gone);
            }
            let error = err.map(|e| format!("{}: {e}", path.display()));
            send(tx, Msg::End { bytes, error })
        }
        Err(e) => {
            let begin = Msg::Begin {
                job: k,
                plain: false,
                comp: "none",
            };
            send(tx, begin)?;
            let error = Some(e.to_string());
            send(tx, Msg::End { bytes: 0, error })
        }
    }
}

/// Reads a lane's files in order: runs of small files parsed whole, in
/// parallel, large ones streamed.
fn produce(
    jobs: &[Job],
    budget: &Budget,
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
    tx: &SyncSender<Msg>,
) -> Result<(), Gone> {
    let mut k = 0;
    while k < jobs.len() {
        if jobs[k].small.is_none() {
            stream_one(k, &jobs[k], budget, threads, tick, tx)?;
            k += 1;
            continue;
        }
        let mut end = k;
        let mut total = 0u64;
        while end < jobs.len() {
            match jobs[end].small {
                Some(len) if end == k || total + len <= budget.group => {
                    total += len;
                    end += 1;
                }
                _ => break,
            }
        }
        let parsed: Vec<_> = jobs[k..end]
            .par_iter()
            .map(|j| read_one(j, threads, tick))
            .collect();
        for (job, (p, comp, error)) in (k..).zip(parsed) {
            let plain = comp == "none";
            send(tx, Msg::Begin { job, plain, comp })?;
            send(tx, Msg::Batch(p.items, Box::new(p.counters)))?;
            send(
                tx,
                Msg::End {
                    bytes: p.bytes,
                    error,
                },
            )?;
        }
        k = end;
    }
    Ok(())
}

/// The first absolute timestamp of a batch: the key it is folded by.
fn first_abs(items: &[Item]) -> Option<i64> {
    items.iter().find_map(|it| match it {
        Item::Rec(r) => match r.stamp {
            Some(Stamp::Abs(ms)) => Some(ms),
            _ => None,
        },
        Item::Span(s) => match s.first_stamp {
            Some(Stamp::Abs(ms)) => Some(ms),
            _ => None,
        },
    })
}

/// A lane the fold reads from.
struct Open {
    rx: Receiver<Msg>,
    /// Its next message, once received.
    head: Option<Msg>,
    /// Whether its thread ended and every message was taken.
    done: bool,
    /// The file begun and not yet ended: job, builder file, counters.
    file: Option<(usize, usize, Counters)>,
    /// The job to begin next.
    next: usize,
    /// Key of its latest batch received: its first timestamp (a batch
    /// without one keeps the key of the batch before).
    key: i64,
}

/// The earliest time any lane may still fold from, but for the files open
/// (the builder's `reached` bounds those): `rest[l][j]` is the earliest
/// first line of lane `l`'s jobs from `j` on.
fn still_to_come(lanes: &[Vec<Job>], open: &[Open], rest: &[Vec<i64>]) -> i64 {
    (0..lanes.len())
        .map(|l| match open.get(l) {
            None => rest[l][0],
            Some(o) => match o.file {
                Some((job, _, _)) => rest[l][job + 1],
                None if o.done => i64::MAX,
                None => rest[l][o.next],
            },
        })
        .min()
        .unwrap_or(i64::MAX)
}

/// Reads every lane and folds their batches into `w` in time order;
/// returns the errors of files that could not be read (in fold order).
pub fn fold(
    w: &mut Windowed,
    lanes: &[Vec<Job>],
    threads: usize,
    tick: &(dyn Fn(u64) + Sync),
) -> Vec<String> {
    let budget = Budget::for_lanes(lanes.len());
    let rest: Vec<Vec<i64>> = lanes
        .iter()
        .map(|jobs| {
            let mut r = vec![i64::MAX; jobs.len() + 1];
            for j in (0..jobs.len()).rev() {
                r[j] = r[j + 1].min(jobs[j].first);
            }
            r
        })
        .collect();
    let mut errors = Vec::new();
    std::thread::scope(|scope| {
        let budget = &budget;
        let mut open: Vec<Open> = Vec::new();
        let mut running = 0;
        loop {
            while running < MAX_LANES && open.len() < lanes.len() {
                let jobs = &lanes[open.len()];
                let (tx, rx) = sync_channel(0);
                scope.spawn(move || produce(jobs, budget, threads, tick, &tx));
                open.push(Open {
                    rx,
                    head: None,
                    done: false,
                    file: None,
                    next: 0,
                    key: i64::MIN,
                });
                running += 1;
            }
            for o in open.iter_mut().filter(|o| !o.done && o.head.is_none()) {
                match o.rx.recv() {
                    Ok(m) => {
                        if let Msg::Batch(items, _) = &m {
                            o.key = first_abs(items).unwrap_or(o.key);
                        }
                        o.head = Some(m);
                    }
                    Err(_) => {
                        o.done = true;
                        running -= 1;
                    }
                }
            }
            // Beginnings and ends carry no time: taken as soon as they
            // come; then the earliest batch.
            let pick = open
                .iter()
                .position(|o| matches!(o.head, Some(Msg::Begin { .. } | Msg::End { .. })))
                .or_else(|| {
                    let keyed = open.iter().enumerate().filter_map(|(l, o)| match &o.head {
                        Some(Msg::Batch(..)) => Some((o.key, l)),
                        _ => None,
                    });
                    keyed.min().map(|(_, l)| l)
                });
            let Some(l) = pick else {
                if open.len() == lanes.len() {
                    break;
                }
                continue;
            };
            match open[l].head.take() {
                Some(Msg::Begin { job, plain, comp }) => {
                    let j = &lanes[l][job];
                    let f = w.builder().begin_file(
                        j.shown.clone(),
                        j.path.clone(),
                        plain,
                        j.set,
                        mtime_of(&j.path),
                        comp,
                    );
                    w.builder().set_first(f, j.first);
                    open[l].file = Some((job, f, Counters::default()));
                    open[l].next = job + 1;
                }
                Some(Msg::Batch(items, c)) => {
                    w.set_upcoming(still_to_come(lanes, &open, &rest));
                    if let Some((_, f, counters)) = &mut open[l].file {
                        w.feed(*f, items);
                        counters.merge(*c);
                    }
                }
                Some(Msg::End { bytes, error }) => {
                    if let Some((_, f, counters)) = open[l].file.take() {
                        w.builder().end_file(f, &counters, bytes, error.clone());
                    }
                    errors.extend(error);
                }
                None => {}
            }
        }
    });
    errors
}

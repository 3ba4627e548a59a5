//! The parallel read: the framer walks records on its own thread and sends
//! batches through a bounded channel; each batch's key frames are worked on in
//! parallel on a rayon pool; results reach the caller in file order.
//!
//! Order is kept by construction (one batch at a time, `par_iter().collect()`
//! keeps positions), so output is identical for `--threads 1` and
//! `--threads N`. The channel holds at most a few batches, and the
//! [`Pager`] releases the map's pages once a batch is sunk, so memory stays
//! flat however large the file.
//!
//! A fault does not end a salvaging walk: it is recorded with the range the
//! framer skipped to find records again ([`super::salvage`]), and the walk
//! goes on. A strict walk stops at the first fault, as redis-check-rdb does.

use std::sync::mpsc::sync_channel;

use rayon::prelude::*;

use super::error::Error;
use super::frame::{Frame, Record};
use super::salvage::Skipped;
use super::{crc64, RdbFile};
use crate::pages::{Pager, IN_VALUE_MIN};

/// Records per batch: large enough to amortise the channel and the rayon
/// fan-out, small enough to keep every core busy on small files.
const BATCH_RECORDS: usize = 2048;
/// Value bytes per batch, so batches of huge values stay bounded too.
const BATCH_BYTES: usize = 8 << 20;
/// The checksum thread reports its progress every this many bytes.
const CRC_CHUNK: usize = 1 << 20;
/// The framer reports its progress every this many bytes, for the checksum
/// to keep close ahead of it ([`crate::pages::CHECKSUM_LEAD`]).
const FRAMER_STEP: u64 = 1 << 20;

/// How a walk meets a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnFault {
    /// Record it, skip to the next plausible record and go on.
    #[default]
    Salvage,
    /// Stop there.
    Stop,
}

/// How to walk a file: what to do on a fault, and whose pages to release.
#[derive(Clone, Copy)]
pub struct Walk<'p> {
    /// Salvage or stop.
    pub on_fault: OnFault,
    /// Releases the input's pages behind the walk.
    pub pager: &'p Pager<'p>,
}

static NO_PAGER: std::sync::OnceLock<Pager<'static>> = std::sync::OnceLock::new();

impl Walk<'static> {
    /// Salvaging, releasing nothing: for inputs held in memory and tests.
    pub fn salvage() -> Walk<'static> {
        Walk {
            on_fault: OnFault::Salvage,
            pager: NO_PAGER.get_or_init(Pager::none),
        }
    }

    /// Stopping at the first fault, releasing nothing.
    pub fn strict() -> Walk<'static> {
        Walk {
            on_fault: OnFault::Stop,
            ..Walk::salvage()
        }
    }
}

/// A fault met by the framer: what was wrong where, the bytes skipped to
/// read on (none when the walk stopped), and the keys read on either side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The error, with its byte offset.
    pub error: Error,
    /// The range passed over; `None` when the walk stopped here.
    pub skipped: Option<Skipped>,
    /// Keys framed before the fault.
    pub keys_before: u64,
    /// Keys framed after it, up to the next fault or the end.
    pub keys_after: u64,
}

/// [`scan`], with the file's CRC-64 computed on a thread of its own
/// meanwhile, kept close ahead of the framer ([`crate::pages::CHECKSUM_LEAD`]),
/// for files that carry one (RDB 5+): returns the faults and the
/// checksum of everything but the last 8 bytes, to pass to
/// [`RdbFile::verify_checksum_with`].
pub fn scan_with_checksum<'a, R, W, S, P>(
    file: &RdbFile<'a>,
    pool: &rayon::ThreadPool,
    walk: Walk<'_>,
    work: W,
    sink: S,
    progress: P,
) -> (Vec<Fault>, Option<(u64, u64)>)
where
    R: Send,
    W: Fn(&Frame<'a>) -> R + Sync,
    S: FnMut(&Record<'a>, Option<R>),
    P: Fn(u64),
{
    let pager = walk.pager;
    std::thread::scope(|sc| {
        let crc = (file.header().version >= 5).then(|| {
            pager.checksum_starts();
            pager.framer_starts();
            sc.spawn(move || {
                let data = file.data();
                let covered = data.len().saturating_sub(8);
                let crc =
                    crc64::crc64_chunked(&data[..covered], CRC_CHUNK, |p| pager.checksum_at(p));
                pager.checksum_done();
                (covered as u64, crc)
            })
        });
        let faults = scan(file, pool, walk, work, sink, progress);
        (faults, crc.and_then(|h| h.join().ok()))
    })
}

enum Msg<'a> {
    Batch(Vec<Record<'a>>, u64),
    Fault(Error, Option<Skipped>),
}

/// A batch with its results, or a fault, on its way to the sink.
enum Done<'a, R> {
    Batch(Vec<Record<'a>>, Vec<Option<R>>, u64),
    Fault(Error, Option<Skipped>),
}

/// Reads every record of `file`, applying `work` to each key frame in parallel
/// on `pool`, and calls `sink` with each record and its result in file order.
/// `progress` receives the framer's byte position after each batch. Returns
/// the faults met, in file order; everything readable around them was sunk.
pub fn scan<'a, R, W, S, P>(
    file: &RdbFile<'a>,
    pool: &rayon::ThreadPool,
    walk: Walk<'_>,
    work: W,
    mut sink: S,
    progress: P,
) -> Vec<Fault>
where
    R: Send,
    W: Fn(&Frame<'a>) -> R + Sync,
    S: FnMut(&Record<'a>, Option<R>),
    P: Fn(u64),
{
    // Batches waiting for the pool: one a worker is enough to never starve
    // it, and fewer keep what the framer read still in the cache when the
    // workers read it (2 per worker was 3 % slower on 2 cores).
    let depth = pool.current_num_threads().max(2);
    let (tx, rx) = sync_channel::<Msg<'a>>(depth);
    let mut faults: Vec<Fault> = Vec::new();
    let mut keys = 0u64;
    std::thread::scope(|scope| {
        let mut records = match walk.on_fault {
            OnFault::Salvage => file.records().salvaging(),
            OnFault::Stop => file.records(),
        };
        let pager = walk.pager;
        scope.spawn(move || {
            /// Lets the checksum run free however the framer ends.
            struct FramerDone<'p>(&'p Pager<'p>);
            impl Drop for FramerDone<'_> {
                fn drop(&mut self) {
                    self.0.framer_done();
                }
            }
            let _done = FramerDone(pager);
            pager.releasing(|| {
                let mut batch = Vec::with_capacity(BATCH_RECORDS);
                let mut bytes = 0usize;
                let mut told = 0u64;
                let flush = |batch: &mut Vec<Record<'a>>, pos: u64| {
                    let full = std::mem::replace(batch, Vec::with_capacity(BATCH_RECORDS));
                    full.is_empty() || tx.send(Msg::Batch(full, pos)).is_ok()
                };
                loop {
                    let at = records.position();
                    if at >= told + FRAMER_STEP {
                        pager.framer_at(at);
                        told = at;
                    }
                    match records.next() {
                        Some(Ok(rec)) => {
                            if let Record::Key(f) = &rec {
                                bytes += f.value.len();
                            }
                            batch.push(rec);
                            if batch.len() >= BATCH_RECORDS || bytes >= BATCH_BYTES {
                                bytes = 0;
                                if !flush(&mut batch, records.position()) {
                                    return;
                                }
                            }
                        }
                        Some(Err(e)) => {
                            let skipped = records.take_skipped();
                            let at = skipped.map_or(records.position(), |s| s.from);
                            if !flush(&mut batch, at) || tx.send(Msg::Fault(e, skipped)).is_err() {
                                return;
                            }
                        }
                        None => {
                            flush(&mut batch, records.position());
                            return;
                        }
                    }
                }
            })
        });
        // The work stage: each batch's key frames on the pool, while the
        // caller's thread sinks the batch before it. Sinking in the stage
        // itself would leave the pool idle for the sink's share of every
        // batch (a third of `rdb`'s time, for its pattern table).
        let (done_tx, done_rx) = sync_channel::<Done<'a, R>>(2);
        let work = &work;
        scope.spawn(move || {
            for msg in rx {
                let out = match msg {
                    Msg::Batch(batch, pos) => {
                        let results: Vec<Option<R>> = pool.install(|| {
                            batch
                                .par_iter()
                                .map(|r| match r {
                                    // Large values are released as they
                                    // are walked (see `pages::passed`).
                                    Record::Key(f) if f.value.len() >= IN_VALUE_MIN => {
                                        Some(walk.pager.releasing(|| work(f)))
                                    }
                                    Record::Key(f) => Some(work(f)),
                                    _ => None,
                                })
                                .collect()
                        });
                        Done::Batch(batch, results, pos)
                    }
                    Msg::Fault(error, skipped) => Done::Fault(error, skipped),
                };
                if done_tx.send(out).is_err() {
                    return;
                }
            }
        });
        for done in done_rx {
            match done {
                Done::Batch(batch, results, pos) => {
                    for (rec, res) in batch.iter().zip(results) {
                        keys += u64::from(matches!(rec, Record::Key(_)));
                        sink(rec, res);
                    }
                    drop(batch);
                    walk.pager.reader_at(pos);
                    progress(pos);
                }
                Done::Fault(error, skipped) => {
                    if let Some(s) = &skipped {
                        walk.pager.reader_at(s.to);
                    }
                    faults.push(Fault {
                        error,
                        skipped,
                        keys_before: keys,
                        keys_after: 0,
                    })
                }
            }
        }
        walk.pager.reader_done();
    });
    let ends: Vec<u64> = faults
        .iter()
        .skip(1)
        .map(|f| f.keys_before)
        .chain(std::iter::once(keys))
        .collect();
    for (f, end) in faults.iter_mut().zip(ends) {
        f.keys_after = end - f.keys_before;
    }
    faults
}

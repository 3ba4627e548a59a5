//! The parallel read: the framer walks records on its own thread and sends
//! batches through a bounded channel; each batch's key frames are worked on in
//! parallel on a rayon pool; results reach the caller in file order.
//!
//! Order is kept by construction (one batch at a time, `par_iter().collect()`
//! keeps positions), so output is identical for `--threads 1` and
//! `--threads N`. The channel holds at most a few batches, so memory stays flat
//! however large the file: frames borrow the map and are dropped once sunk.

use std::sync::mpsc::sync_channel;

use rayon::prelude::*;

use super::error::Error;
use super::frame::{Frame, Record};
use super::RdbFile;

/// Records per batch: large enough to amortise the channel and the rayon
/// fan-out, small enough to keep every core busy on small files.
const BATCH_RECORDS: usize = 2048;
/// Value bytes per batch, so batches of huge values stay bounded too.
const BATCH_BYTES: usize = 8 << 20;

/// [`scan`], with the file's CRC-64 computed on a thread of its own
/// meanwhile ([`RdbFile::speculative_checksum`]), for files that carry one
/// (RDB 5+): returns the stopping error and the checksum to pass to
/// [`RdbFile::verify_checksum_with`].
pub fn scan_with_checksum<'a, R, W, S, P>(
    file: &RdbFile<'a>,
    pool: &rayon::ThreadPool,
    work: W,
    sink: S,
    progress: P,
) -> (Option<Error>, Option<(u64, u64)>)
where
    R: Send,
    W: Fn(&Frame<'a>) -> R + Sync,
    S: FnMut(&Record<'a>, Option<R>),
    P: Fn(u64),
{
    std::thread::scope(|sc| {
        let crc = (file.header().version >= 5).then(|| sc.spawn(|| file.speculative_checksum()));
        let fatal = scan(file, pool, work, sink, progress);
        (fatal, crc.and_then(|h| h.join().ok()))
    })
}

/// Reads every record of `file`, applying `work` to each key frame in parallel
/// on `pool`, and calls `sink` with each record and its result in file order.
/// `progress` receives the framer's byte position after each batch. Returns
/// the error that stopped the walk, if any; everything before it was sunk.
pub fn scan<'a, R, W, S, P>(
    file: &RdbFile<'a>,
    pool: &rayon::ThreadPool,
    work: W,
    mut sink: S,
    progress: P,
) -> Option<Error>
where
    R: Send,
    W: Fn(&Frame<'a>) -> R + Sync,
    S: FnMut(&Record<'a>, Option<R>),
    P: Fn(u64),
{
    let depth = 2 * pool.current_num_threads().max(1);
    let (tx, rx) = sync_channel::<Result<(Vec<Record<'a>>, u64), Error>>(depth);
    std::thread::scope(|scope| {
        let mut records = file.records();
        scope.spawn(move || {
            let mut batch = Vec::with_capacity(BATCH_RECORDS);
            let mut bytes = 0usize;
            loop {
                match records.next() {
                    Some(Ok(rec)) => {
                        if let Record::Key(f) = &rec {
                            bytes += f.value.len();
                        }
                        batch.push(rec);
                        if batch.len() >= BATCH_RECORDS || bytes >= BATCH_BYTES {
                            let full =
                                std::mem::replace(&mut batch, Vec::with_capacity(BATCH_RECORDS));
                            bytes = 0;
                            if tx.send(Ok((full, records.position()))).is_err() {
                                return;
                            }
                        }
                    }
                    Some(Err(e)) => {
                        if !batch.is_empty() {
                            let _ = tx.send(Ok((std::mem::take(&mut batch), records.position())));
                        }
                        let _ = tx.send(Err(e));
                        return;
                    }
                    None => {
                        if !batch.is_empty() {
                            let _ = tx.send(Ok((batch, records.position())));
                        }
                        return;
                    }
                }
            }
        });
        for msg in rx {
            match msg {
                Ok((batch, pos)) => {
                    let results: Vec<Option<R>> = pool.install(|| {
                        batch
                            .par_iter()
                            .map(|r| match r {
                                Record::Key(f) => Some(work(f)),
                                _ => None,
                            })
                            .collect()
                    });
                    for (rec, res) in batch.iter().zip(results) {
                        sink(rec, res);
                    }
                    progress(pos);
                }
                Err(e) => return Some(e),
            }
        }
        None
    })
}

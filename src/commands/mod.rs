//! The RDB subcommands as library functions: each takes an opened file and
//! options, and returns a report that the renderers print.

pub mod check;
pub mod keys;
pub mod merge;
pub mod merge_logs;
pub mod prometheus;
pub mod rca;
pub mod rca_render;
pub mod report;

use std::path::Path;

use crate::rdb::{self, RdbFile};
use crate::source::{Source, SourceError};

/// Opens an input and checks that it is an RDB file.
pub fn open(path: &Path) -> Result<Source, SourceError> {
    Source::open(path)
}

/// Opens an input as [`open`] does, counting the bytes of standard input
/// as they arrive on a terminal's stderr unless `quiet`.
pub fn open_progress(path: &Path, quiet: bool) -> Result<Source, SourceError> {
    let bar = crate::progress::stdin_counter(quiet || path != Path::new("-"));
    let src = Source::open_with_progress(path, &|n| bar.set_position(n));
    bar.finish_and_clear();
    src
}

/// Parses the header of an opened source.
pub fn parse(src: &Source) -> rdb::Result<RdbFile<'_>> {
    RdbFile::parse(src.bytes())
}

/// An AUX field as printable text (escaped like key names).
pub fn aux_text(
    key: &crate::rdb::RdbString<'_>,
    value: &crate::rdb::RdbString<'_>,
) -> (String, String) {
    let text = |s: &crate::rdb::RdbString<'_>| {
        s.to_cow()
            .map(|b| crate::escape::escape_key(&b))
            .unwrap_or_default()
    };
    (text(key), text(value))
}

/// Builds the worker pool for `--threads` (0 or absent: all cores).
pub fn pool(threads: Option<usize>) -> rayon::ThreadPool {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(n) = threads.filter(|&n| n > 0) {
        b = b.num_threads(n);
    }
    b.build().unwrap_or_else(|_| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("a one-thread pool")
    })
}

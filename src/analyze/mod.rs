//! Keyspace analysis: everything `redsleuth rdb` reports, accumulated in a
//! [`Summary`] that is mergeable — sums, fixed histograms, bounded top-N
//! lists and a bounded pattern table — so one process per dump and a
//! `merge` of their JSON gives the same numbers as one run over all dumps.

pub mod diff;
pub mod findings;
pub mod patterns;
pub mod summary;
pub mod topn;

pub use patterns::{PatternTable, Stats};
pub use summary::Summary;

//! redsleuth: an offline analyzer of Redis and Valkey RDB snapshots and server
//! logs.
//!
//! The library follows one data flow for both halves:
//!
//! ```text
//! source ──► framer ──► frames ──► analyzers (rayon) ──► summary ──► render
//! ```
//!
//! * [`source`] hands out a whole input as `&[u8]` (memory-mapped, or
//!   decompressed from `.gz`/`.lz4`/`.zst`); [`pages`] releases a map's
//!   pages behind its readers so memory stays flat on any file size.
//! * [`rdb`] reads RDB files of every version: [`rdb::RdbFile::parse`] checks
//!   the header and yields borrowed [`rdb::Frame`]s, one per key, without
//!   decoding values; [`rdb::value`] decodes a frame's value as far as asked.
//! * [`logs`] parses Redis/Valkey server logs into events, timelines and
//!   incidents.
//!
//! Nothing here connects to a server: every answer comes from files.
#![deny(missing_docs)]
#![deny(unsafe_code)]

/// Version of the JSON documents' shape, in every one of them as
/// `schema_version`. Fields are only ever added; this number grows when a
/// field's meaning changes (2: one severity scale, `warning` became
/// `medium`).
pub const SCHEMA_VERSION: u32 = 2;

pub mod analyze;
pub mod app;
pub mod aux;
pub mod cli;
pub mod color;
pub mod commands;
pub mod escape;
pub mod fasthash;
pub mod faults;
pub mod html;
pub mod logs;
pub mod memory;
pub mod pages;
pub mod progress;
pub mod rdb;
pub mod schema;
pub mod source;

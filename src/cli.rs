//! Command-line definitions (clap derive). Nothing below `app` sees clap
//! types except the `logs` arguments, which that module owns.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Offline analyzer of Redis/Valkey RDB snapshots and server logs.
#[derive(Debug, Parser)]
#[command(name = "redsleuth", version, about, long_about = None)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Verify an RDB file like redis-check-rdb: header, aux fields, keys and
    /// expires per db, types, checksum. Exit 3 on a broken file.
    Check(CheckArgs),
    /// One row per key: db, key, type, encoding, elements, sizes, TTL.
    Keys(KeysArgs),
    /// Analyze Redis/Valkey server logs: timeline, events, incidents.
    Logs(crate::logs::cli::LogsArgs),
}

/// Options shared by the RDB subcommands.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Hide key names in every output (each key becomes a stable token).
    #[arg(long)]
    pub redact: bool,
}

/// `check` arguments.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// RDB file (`-` for stdin; .gz/.lz4/.zst are decompressed).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Human-readable report.
    Text,
    /// One JSON object.
    Json,
}

/// `keys` arguments.
#[derive(Debug, Args)]
pub struct KeysArgs {
    /// RDB file (`-` for stdin; .gz/.lz4/.zst are decompressed).
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = KeysFormat::Ndjson)]
    pub format: KeysFormat,
    /// Only keys matching this Redis glob (`user:*:feed`).
    #[arg(long = "match", value_name = "GLOB")]
    pub pattern: Option<String>,
    /// Only keys of this type (`string`, `hash`, … or a module type name).
    #[arg(long = "type", value_name = "TYPE")]
    pub type_name: Option<String>,
    /// Only keys in this database.
    #[arg(long)]
    pub db: Option<u64>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// Output formats of `keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KeysFormat {
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

//! Command-line definitions (clap derive). Nothing below `app` sees clap
//! types except the `logs` arguments, which that module owns.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Offline analyzer of Redis/Valkey RDB snapshots and server logs.
#[derive(Debug, Parser)]
#[command(name = "redsleuth", version, about, long_about = None)]
pub struct Cli {
    /// Colour text output: auto (a terminal, unless `NO_COLOR` is set),
    /// always, or never.
    #[arg(long, global = true, value_enum, default_value_t = crate::color::ColorWhen::Auto, value_name = "WHEN")]
    pub color: crate::color::ColorWhen,
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
    /// Keyspace report: patterns, TTL coverage, big keys, memory, findings.
    Rdb(RdbArgs),
    /// Growth between two snapshots, per pattern.
    Diff(DiffArgs),
    /// Combine per-shard `rdb --format json` reports, or per-node/per-day
    /// `logs --format json` reports, into one.
    Merge(MergeArgs),
    /// A post-incident write-up: the keyspace report of the dumps and the
    /// log analysis in one document.
    Report(PostmortemArgs),
    /// Analyze Redis/Valkey server logs: timeline, events, incidents.
    Logs(crate::logs::cli::LogsArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print the man page (roff) to stdout, or write one page per
    /// subcommand into a directory.
    Man(ManArgs),
}

/// `man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `redsleuth.1` and one `redsleuth-SUBCOMMAND.1` per subcommand
    /// into this directory instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// `completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
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
    /// Hide key names in every output (each key becomes a token keyed by a
    /// secret drawn at random for this run).
    #[arg(long)]
    pub redact: bool,
    /// Key the --redact tokens with the secret in FILE (at least 16 bytes;
    /// implies --redact), so reports of several runs line up for diff and
    /// merge.
    #[arg(long, value_name = "FILE")]
    pub redact_key: Option<PathBuf>,
    /// Stop at the first corrupt record instead of skipping past it to read
    /// the rest of the file.
    #[arg(long)]
    pub strict: bool,
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
    /// Only keys of this type: string, list, set, zset, hash, stream, array,
    /// or a module type name (ReJSON-RL, vectorset, …).
    #[arg(long = "type", value_name = "TYPE")]
    pub type_name: Option<String>,
    /// Only keys of this encoding (what OBJECT ENCODING returned): raw, int,
    /// embstr, linkedlist, ziplist, quicklist, listpack, listpackex, intset,
    /// hashtable, skiplist, zipmap, stream, sliced-array.
    #[arg(long, value_name = "ENCODING")]
    pub encoding: Option<String>,
    /// Only keys in this database.
    #[arg(long)]
    pub db: Option<u64>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub model: ModelArgs,
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

/// Output formats of the report subcommands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Human-readable text.
    Text,
    /// One JSON object (the contract in the README).
    Json,
    /// Markdown, ready to paste into a write-up.
    Markdown,
    /// A self-contained HTML page.
    Html,
    /// Prometheus text exposition of the keyspace summary (keys, memory,
    /// TTL coverage per pattern), for node_exporter's textfile collector.
    Prometheus,
}

/// Severity threshold for `--fail-on`: the one scale of dump findings and
/// log incidents (info < low < medium < high < critical).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Any finding.
    Info,
    /// Low and above.
    Low,
    /// Medium and above (`warning`, the name of the former three-step
    /// scale, is accepted for it).
    #[value(alias = "warning")]
    Medium,
    /// High and critical.
    High,
    /// Critical only.
    Critical,
}

impl FailOn {
    /// The severity this threshold starts at.
    pub fn severity(self) -> crate::analyze::findings::Severity {
        use crate::analyze::findings::Severity;
        match self {
            FailOn::Info => Severity::Info,
            FailOn::Low => Severity::Low,
            FailOn::Medium => Severity::Medium,
            FailOn::High => Severity::High,
            FailOn::Critical => Severity::Critical,
        }
    }
}

/// Options of the keyspace report.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    /// Keys per top-N list and patterns shown.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub model: ModelArgs,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

/// How memory is estimated.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Memory model to estimate with instead of the writer's (answers "how
    /// big would this be on …?"): redis-4, redis-5, redis-6, redis-7.0,
    /// redis-7.2, redis-7.4, redis-8.0, redis-8.8, valkey-8, valkey-8.1,
    /// valkey-9.
    #[arg(long, value_name = "MODEL")]
    pub model: Option<String>,
    /// Allocator whose size classes round allocations.
    #[arg(long, value_enum, default_value_t = AllocatorArg::Jemalloc)]
    pub allocator: AllocatorArg,
    /// The server ran in cluster mode (Redis 7.0/7.2 keep slot metadata per
    /// key).
    #[arg(long)]
    pub cluster: bool,
}

/// Allocator choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AllocatorArg {
    /// The jemalloc bundled with Redis/Valkey source builds (8-byte small
    /// classes), what most production builds and container images use.
    Jemalloc,
    /// A system jemalloc (16-byte small classes), as linked by distribution
    /// packages such as Debian's and Ubuntu's.
    JemallocSystem,
    /// glibc malloc.
    Libc,
}

/// `rdb` arguments.
#[derive(Debug, Args)]
pub struct RdbArgs {
    /// RDB files (one per shard is fine; `-` for stdin).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Only keys matching this Redis glob (`user:*:feed`): every section
    /// covers those keys.
    #[arg(long = "match", value_name = "GLOB")]
    pub pattern: Option<String>,
    /// Only keys in this database.
    #[arg(long)]
    pub db: Option<u64>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub report: ReportArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// `diff` arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older snapshot.
    pub old: PathBuf,
    /// The newer snapshot.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// Patterns shown (biggest movers first).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub model: ModelArgs,
    /// A pattern growing faster than this per hour (between the two
    /// `ctime`s; the whole change when a dump has none) is a
    /// `pattern-growth` finding: medium, high at ten times the rate,
    /// critical at a hundred. Bytes, or with KiB, MiB, GiB, TiB.
    #[arg(long, default_value = "64MiB", value_name = "SIZE")]
    pub growth_per_hour: String,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Human-readable text.
    Text,
    /// One JSON object.
    Json,
    /// Markdown, ready to paste into a write-up.
    Markdown,
    /// A self-contained HTML page.
    Html,
}

/// `merge` arguments.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// JSON reports written by `rdb --format json` (or by `logs --format
    /// json`), or by earlier merges of them; all of one kind.
    #[arg(required = true)]
    pub reports: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Json)]
    pub format: ReportFormat,
    /// Exit 1 when a finding at or above this severity exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    /// Keys per top-N list and patterns shown (default: the largest of the
    /// inputs').
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
    /// Hide key names in every output; inputs may then mix redacted and
    /// plain reports.
    #[arg(long)]
    pub redact: bool,
    /// Key the --redact tokens with the secret in FILE (implies --redact):
    /// the same file as the `rdb --redact-key` runs gives the same tokens.
    #[arg(long, value_name = "FILE")]
    pub redact_key: Option<PathBuf>,
}

/// `report` arguments.
#[derive(Debug, Args)]
pub struct PostmortemArgs {
    /// RDB dumps to report on (one per shard is fine).
    #[arg(long = "rdb", value_name = "FILE", num_args = 1..)]
    pub rdb: Vec<PathBuf>,
    /// Log files, directories or globs.
    #[arg(long = "logs", value_name = "PATH", num_args = 1..)]
    pub logs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PostmortemFormat::Markdown)]
    pub format: PostmortemFormat,
    /// Keys per top-N list and patterns shown, and incidents kept.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub top: usize,
    /// Only log events and incidents at or after this time
    /// (`YYYY-MM-DD[ HH:MM[:SS]]`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only log events and incidents at or before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only these nodes in the log analysis (`:6379`, or a port number);
    /// repeatable.
    #[arg(long)]
    pub node: Vec<String>,
    /// Analyse long logs window by window every N retained events (0: the
    /// whole run at once), as `logs --window-events` does; what the
    /// write-up reads of a window (the lines incidents cite, saves, resyncs
    /// and loads near an incident or the dump's save) is held to the end.
    #[arg(long, value_name = "N", default_value_t = crate::logs::window::FLUSH_EVENTS)]
    pub window_events: usize,
    /// Events the log half's timeline lists at most, as `logs
    /// --timeline-limit` does (the write-up reads what it needs either way).
    #[arg(long, value_name = "N", default_value_t = crate::logs::EVENTS_LISTED)]
    pub timeline_limit: usize,
    /// Exit 1 when a dump finding or a log incident at or above this
    /// severity exists.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub model: ModelArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// Output formats of `report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PostmortemFormat {
    /// Markdown, ready to paste into a write-up.
    Markdown,
    /// Human-readable text.
    Text,
    /// One self-contained HTML page (keyspace report, then log analysis).
    Html,
    /// One JSON object: `keyspace` as `rdb --format json` writes it, `logs`
    /// as `logs --format json` does.
    Json,
}

//! Arguments of `redsleuth logs`: every flag of the subcommand, parsed by
//! clap and handed to [`crate::logs::run`] unchanged.

use std::path::PathBuf;

use super::catalog::Severity;

/// Output format of `redsleuth logs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable timeline and incidents.
    Text,
    /// The stable JSON contract (`files`, `lines`, `nodes`, `events`, `incidents`, `metrics`).
    Json,
    /// Markdown ready to paste into a post-mortem, with numbered citations.
    Markdown,
    /// A self-contained HTML page: a timeline lane per node, incidents with
    /// their evidence lines.
    Html,
    /// The HTML page's content without the page around it, for the
    /// post-incident report.
    #[value(skip)]
    HtmlBody,
}

/// Arguments of `redsleuth logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Log files, directories or globs; plain or .gz/.lz4/.zst. Rotated sets
    /// (redis.log, redis.log.1, redis.log.2.gz) are read oldest first: by the
    /// time of each file's first timestamped line (found in its first 64 KiB
    /// of text), so renamed or re-numbered archives still fold in order; a
    /// file with no time there keeps its place by name, and equal times keep
    /// name order.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub format: LogFormat,
    /// Only events and incidents at or after this time (`2026-11-23 07:23:00`,
    /// `2026-11-23T07:23`, or `2026-11-23`).
    #[arg(long)]
    pub since: Option<String>,
    /// Only events and incidents at or before this time.
    #[arg(long)]
    pub until: Option<String>,
    /// Only these nodes (`:6379`, or a port number); repeatable.
    #[arg(long)]
    pub node: Vec<String>,
    /// Hide incidents below this severity.
    #[arg(long, value_enum, default_value_t = Severity::Low)]
    pub min_severity: Severity,
    /// Year of year-less timestamps (Redis < 5.0, RFC3164 syslog); inferred
    /// from signal-handler epochs or the file's mtime when absent.
    #[arg(long)]
    pub year: Option<i64>,
    /// When the host booted (`2026-11-23 05:10:03`, as `uptime -s` prints
    /// it), to place plain `dmesg` lines (`[ 3265.496077] …`, seconds since
    /// boot) in time.
    #[arg(long, value_name = "WHEN")]
    pub boot_time: Option<String>,
    /// Hide key and script names, client names, user names, IPv4 and IPv6
    /// addresses, host names and file paths of the host in every output.
    #[arg(long)]
    pub redact: bool,
    /// Accepted for the same command line as the RDB subcommands (implies
    /// --redact); log redaction masks rather than tokenizes.
    #[arg(long, value_name = "FILE")]
    pub redact_key: Option<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Show at most this many incidents (most severe first), and this many
    /// timeline events per node in text output.
    #[arg(long, default_value_t = 50)]
    pub top: usize,
    /// List every catalogued event in the JSON `events[]` (by default,
    /// past `--timeline-limit` events only those of medium severity and
    /// above are listed), and keep every event in memory to do so.
    #[arg(long)]
    pub all_events: bool,
    /// List at most this many events on the timeline, in every format, and
    /// at most this many lifetimes per node in JSON (the latest, and at
    /// most 1000 of them); what is
    /// left out is counted (`metrics.events_omitted`,
    /// `nodes[].lifetimes_omitted`, a closing line in text and HTML).
    /// Past the limit the most severe events are kept. `--all-events`
    /// lifts it.
    #[arg(long, value_name = "N", default_value_t = super::EVENTS_LISTED)]
    pub timeline_limit: usize,
    /// Analyse a long archive window by window every N retained events,
    /// letting go of what is settled (0: the whole run at once). Output
    /// does not depend on it beyond what windows cannot see: an incident
    /// whose lines lie more than six hours from its start, and input out of
    /// time order (reported, exit code 3).
    #[arg(long, value_name = "N", default_value_t = super::window::FLUSH_EVENTS)]
    pub window_events: usize,
    /// Exit with code 1 when an incident at or above this severity exists.
    #[arg(long, value_enum)]
    pub fail_on: Option<Severity>,
}

impl LogsArgs {
    /// The arguments `redsleuth logs PATHS --format FORMAT` would give, every
    /// other flag at its command-line default; for callers that build a run
    /// in code (other subcommands, tests).
    pub fn new(paths: Vec<PathBuf>, format: LogFormat) -> LogsArgs {
        LogsArgs {
            paths,
            format,
            since: None,
            until: None,
            node: Vec::new(),
            min_severity: Severity::Low,
            year: None,
            boot_time: None,
            redact: false,
            redact_key: None,
            threads: None,
            quiet: false,
            top: 50,
            all_events: false,
            timeline_limit: super::EVENTS_LISTED,
            window_events: super::window::FLUSH_EVENTS,
            fail_on: None,
        }
    }
}

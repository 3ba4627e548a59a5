//! Log analysis: Redis/Valkey server logs → events, nodes, timeline and
//! incidents.
//!
//! The flow, one module per stage:
//!
//! ```text
//! paths ──► source ──► chunk ──► line ──► catalog ──► timeline ──► rules  ──► render
//! (files,   (mmap, or  (newline   (nom     (known      (lifetimes,  (failure   (text,
//!  dirs,     streamed   splits,    grammar, messages,   nodes, one   chains →   json,
//!  globs)    decomp.)   rayon)     wrappers) kinds)      timeline)    incidents) markdown)
//! ```
//!
//! Plain files are memory-mapped and parsed in parallel chunks; compressed
//! files (`.gz`, `.lz4`, `.zst`) are streamed through the decompressor in
//! blocks, so a huge archive or a 100 MB line never sits in memory whole.
//! Each rotation set (a node's log) is read on a lane of its own, all at
//! once, and their records are folded in time order ([`lanes`]);
//! everything after the parse is sequential and deterministic, so output
//! does not depend on `--threads`.
//! A long archive is analysed window by window ([`window`]): the timeline
//! and the rules see the settled part of the run, which is then pruned, so
//! memory does not grow with the input.

pub mod catalog;
pub mod chunk;
pub mod cli;
pub mod crash;
pub mod lanes;
pub mod line;
pub mod render;
pub mod rotation;
pub mod rules;
pub mod text;
pub mod timeline;
pub mod window;

#[cfg(test)]
mod tests;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::source::{self, Compression};
use timeline::{Builder, Timeline};
use window::Windowed;

/// The result of analysing a set of logs, before rendering.
pub struct Analysis {
    /// Nodes, lifetimes, events.
    pub timeline: Timeline,
    /// Incidents from the failure-chain rules.
    pub incidents: Vec<rules::Incident>,
    /// Non-fatal problems (unreadable files), as `path: reason`.
    pub errors: Vec<String>,
    /// Windows the run was analysed in (1: as a whole; see [`window`]).
    pub windows: usize,
    /// The most events retained at once: what bounds the analysis's
    /// memory (see [`window`]).
    pub peak_events: usize,
    /// Standard input's copy, removed with the analysis.
    _spool: Option<Spool>,
}

/// Options of [`analyze`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Year for year-less timestamps.
    pub year: Option<i64>,
    /// Wall clock of the host's boot, for plain `dmesg` lines.
    pub boot: Option<i64>,
    /// Worker threads (0 = rayon default).
    pub threads: usize,
    /// Hide key names and client addresses in summaries.
    pub redact: bool,
    /// Show a progress bar on stderr (only honoured on a TTY).
    pub progress: bool,
    /// Keep every event, not only those rules read or of medium severity
    /// and above (see [`timeline::LOW_VALUE_KEPT`]).
    pub all_events: bool,
    /// Analyse window by window every this many retained events, pruning
    /// what is settled (0: the whole run at once; see [`window`]).
    pub window_events: usize,
    /// The events `logs` lists, held while windows are pruned.
    pub listing: Option<ListingOpts>,
    /// The events the write-up (`report --logs`) reads, held while windows
    /// are pruned: those of these kinds near an incident or near the
    /// dump's save (its `ctime`, ms), and those incidents cite.
    pub writeup: Option<(&'static [&'static str], Option<i64>)>,
}

/// Which events a listing shows (see [`timeline::Listing`]).
#[derive(Debug, Clone, Default)]
pub struct ListingOpts {
    /// `--timeline-limit` (`usize::MAX` with `--all-events`).
    pub limit: usize,
    /// Whether events below medium severity may be listed (JSON).
    pub low: bool,
    /// `--node`.
    pub nodes: Vec<String>,
    /// `--since`.
    pub since: Option<i64>,
    /// `--until`.
    pub until: Option<i64>,
}

impl ListingOpts {
    fn listing(&self) -> timeline::Listing {
        let o = self.clone();
        timeline::Listing {
            limit: o.limit,
            low: o.low,
            wanted: Box::new(move |name, ts| {
                node_wanted(name, &o.nodes) && in_window(ts, ts, o.since, o.until)
            }),
        }
    }
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Matches one path component against a glob with `*`, `?` and `[...]`.
fn glob_match(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => glob_match(&p[1..], s) || (!s.is_empty() && glob_match(p, &s[1..])),
        (Some(b'?'), Some(_)) => glob_match(&p[1..], &s[1..]),
        (Some(b'['), Some(c)) => match p.iter().position(|x| *x == b']') {
            Some(end) => {
                let set = &p[1..end];
                let (neg, set) = match set.first() {
                    Some(b'!') | Some(b'^') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut k = 0;
                while k < set.len() {
                    if k + 2 < set.len() && set[k + 1] == b'-' {
                        hit |= set[k] <= *c && *c <= set[k + 2];
                        k += 3;
                    } else {
                        hit |= set[k] == *c;
                        k += 1;
                    }
                }
                hit != neg && glob_match(&p[end + 1..], &s[1..])
            }
            None => false,
        },
        (Some(a), Some(b)) if a == b => glob_match(&p[1..], &s[1..]),
        _ => false,
    }
}

fn walk_glob(base: &Path, parts: &[String], out: &mut Vec<PathBuf>) {
    let Some((first, rest)) = parts.split_first() else {
        if base.is_file() {
            out.push(base.to_path_buf());
        }
        return;
    };
    if first == "**" {
        walk_glob(base, rest, out);
        if let Ok(rd) = std::fs::read_dir(base) {
            let mut ents: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.is_dir())
                .collect();
            ents.sort();
            for d in ents {
                walk_glob(&d, parts, out);
            }
        }
        return;
    }
    if !is_glob(first) {
        walk_glob(&base.join(first), rest, out);
        return;
    }
    if let Ok(rd) = std::fs::read_dir(base) {
        let mut ents: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
        ents.sort();
        for p in ents {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if glob_match(first.as_bytes(), name.as_bytes()) {
                walk_glob(&p, rest, out);
            }
        }
    }
}

/// Whether a file found under a directory looks like a server log.
fn looks_like_log(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    !name.starts_with('.')
        && (name.contains(".log")
            || name.ends_with("log")
            || name.contains("redis") && !name.ends_with(".rdb") && !name.ends_with(".conf"))
}

fn walk_dir(d: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(d) else { return };
    let mut ents: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    ents.sort();
    for p in ents {
        if p.is_dir() {
            walk_dir(&p, out);
        } else if looks_like_log(&p) {
            out.push(p);
        }
    }
}

/// Expands the command-line paths: files as given, directories recursively
/// (files whose name looks like a log), globs (`*`, `?`, `[..]`, `**`).
/// Returns the files and the paths that matched nothing.
pub fn expand(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for p in paths {
        let s = p.to_string_lossy().into_owned();
        let before = files.len();
        if p.is_dir() {
            walk_dir(p, &mut files);
        } else if p.exists() || s == "-" {
            files.push(p.clone());
        } else if is_glob(&s) {
            let abs = s.starts_with('/');
            let parts: Vec<String> = s
                .split('/')
                .filter(|x| !x.is_empty())
                .map(String::from)
                .collect();
            let k = parts.iter().position(|x| is_glob(x)).unwrap_or(parts.len());
            let base: PathBuf = if abs {
                PathBuf::from("/")
            } else {
                PathBuf::from(".")
            }
            .join(parts[..k].join("/"));
            let mut found = Vec::new();
            walk_glob(&base, &parts[k..], &mut found);
            for f in found {
                // Keep paths relative as the user typed them.
                let f = if abs {
                    f
                } else {
                    f.strip_prefix(".").map(Path::to_path_buf).unwrap_or(f)
                };
                files.push(f);
            }
            if files.len() == before {
                missing.push(format!("{s}: no file matches this pattern"));
            }
            continue;
        } else {
            missing.push(format!("{s}: No such file or directory"));
            continue;
        }
        if files.len() == before && p.is_dir() {
            missing.push(format!("{s}: directory holds no log files"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    (files, missing)
}

/// The rotation set of a file and its age rank within the set (higher is
/// older): `redis.log.2.gz` → (`dir/redis.log`, 2); `redis.log-20240303.gz`
/// → (`dir/redis.log`, -20240303).
pub fn rotation_key(p: &Path) -> (String, i64) {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = p
        .parent()
        .map(|d| d.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut base = name.as_str();
    for ext in [".gz", ".lz4", ".zst", ".zstd"] {
        if let Some(b) = base.strip_suffix(ext) {
            base = b;
            break;
        }
    }
    let mut rank = 0i64;
    if let Some((b, n)) = base.rsplit_once('.') {
        if !n.is_empty() && n.len() <= 4 && n.bytes().all(|c| c.is_ascii_digit()) {
            rank = n.parse().unwrap_or(0);
            base = b;
        }
    }
    if let Some((b, d)) = base.rsplit_once('-') {
        if d.len() == 8 && d.bytes().all(|c| c.is_ascii_digit()) {
            rank = -d.parse::<i64>().unwrap_or(0);
            base = b;
        }
    }
    (
        if dir.is_empty() {
            base.to_string()
        } else {
            format!("{dir}/{base}")
        },
        rank,
    )
}

fn mtime_of(p: &Path) -> Option<(i64, u32)> {
    let m = std::fs::metadata(p).ok()?.modified().ok()?;
    let secs = m.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs() as i64;
    let (y, mo, _) = line::civil_from_days(secs.div_euclid(86_400));
    Some((y, mo))
}

fn comp_name(c: Compression) -> &'static str {
    match c {
        Compression::None => "none",
        Compression::Gzip => "gzip",
        Compression::Lz4 => "lz4",
        Compression::Zstd => "zstd",
    }
}

fn is_plain(path: &Path) -> bool {
    use std::io::Read;
    if path == Path::new("-") {
        return false;
    }
    let mut head = [0u8; 4];
    let mut got = 0;
    if let Ok(mut f) = std::fs::File::open(path) {
        while got < head.len() {
            match f.read(&mut head[got..]) {
                Ok(0) | Err(_) => break,
                Ok(n) => got += n,
            }
        }
    }
    Compression::sniff(&head[..got]) == Compression::None
}

/// The progress tick of a decompressing reader (which runs on a thread of
/// its own, hence `Send`).
fn counter<'t>(tick: &'t (dyn Fn(u64) + Sync)) -> Box<dyn Fn(u64) + Send + 't> {
    Box::new(tick)
}

/// Standard input copied to a temporary file, so that cited lines can be
/// read back like any other input's; removed when dropped.
struct Spool(PathBuf);

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Copies standard input to a file, counting the bytes read on a terminal
/// (its size is unknown until it ends, so the count comes before the bar).
fn spool_stdin(show: bool) -> std::io::Result<Spool> {
    let p = std::env::temp_dir().join(format!("redsleuth-stdin-{}.log", std::process::id()));
    let spool = Spool(p);
    let mut f = std::fs::File::create(&spool.0)?;
    let counter = crate::progress::stdin_counter(!show);
    source::copy_counted(&mut std::io::stdin().lock(), &mut f, &|n| {
        counter.set_position(n)
    })?;
    counter.finish_and_clear();
    Ok(spool)
}

/// The names sets are shown by: the file name, with as many of the
/// directories above it as tell it from the other sets (a fleet's archive
/// is often `node-a/redis.log`, `node-b/redis.log`, …).
pub fn set_names(sets: &[String]) -> Vec<String> {
    let parts: Vec<Vec<&str>> = sets
        .iter()
        .map(|s| {
            let p: Vec<&str> = s
                .split('/')
                .filter(|c| !c.is_empty() && *c != ".")
                .collect();
            if p.is_empty() {
                vec![s.as_str()]
            } else {
                p
            }
        })
        .collect();
    let mut depth = vec![1; sets.len()];
    loop {
        let names: Vec<String> = parts
            .iter()
            .zip(&depth)
            .map(|(p, &d)| p[p.len() - d.min(p.len())..].join("/"))
            .collect();
        let mut deeper = false;
        for (i, name) in names.iter().enumerate() {
            let shared = names.iter().enumerate().any(|(j, n)| j != i && n == name);
            if shared && depth[i] < parts[i].len() {
                depth[i] += 1;
                deeper = true;
            }
        }
        if !deeper {
            return names;
        }
    }
}

/// Reads, parses and analyses `paths` (already expanded).
pub fn analyze(files: &[PathBuf], opts: &Options) -> Analysis {
    // Rotation sets: oldest first within a set by name (reordered by
    // content below), sets in name order.
    let mut keyed: Vec<(String, i64, usize)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let (k, r) = rotation_key(f);
            (k, r, i)
        })
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut sets: Vec<String> = Vec::new();
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (k, _, i) in &keyed {
        if sets.last() != Some(k) {
            sets.push(k.clone());
        }
        order.push((sets.len() - 1, *i));
    }
    let set_names = set_names(&sets);
    let threads = opts.threads.max(1);
    let mut errors = Vec::new();
    let mut spool = None;
    // Where each input is read from: stdin is spooled to a file first.
    let readable: Vec<PathBuf> = files
        .iter()
        .map(|p| {
            if p != Path::new("-") {
                return p.clone();
            }
            match spool_stdin(opts.progress) {
                Ok(s) => {
                    let path = s.0.clone();
                    spool = Some(s);
                    path
                }
                Err(e) => {
                    errors.push(format!("-: {e}"));
                    PathBuf::from("-")
                }
            }
        })
        .collect();
    // Each input's first timestamp, read once from its head: within a set
    // of several files, the order their contents begin in overrides the
    // names' (see `rotation`; sets keep their name order), and a window is
    // settled only up to where the files still to come start.
    let firsts = rotation::first_stamps(&readable);
    for set in order.chunk_by_mut(|a, b| a.0 == b.0) {
        let stamps: Vec<_> = set.iter().map(|&(_, i)| firsts[i]).collect();
        let by_content: Vec<(usize, usize)> = rotation::content_order(&stamps)
            .into_iter()
            .map(|j| set[j])
            .collect();
        set.copy_from_slice(&by_content);
    }
    // One bar over the bytes of every input as stored: plain files tick
    // as they are parsed, compressed ones as their compressed bytes are
    // read (see `lanes`).
    let total: u64 = readable
        .iter()
        .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
        .sum();
    let pb = crate::progress::bytes_bar(total, !opts.progress);
    let tick = |n: u64| pb.inc(n);
    let mut b = Builder::new(&set_names, opts.year, opts.all_events).with_boot_time(opts.boot);
    if let Some(l) = &opts.listing {
        b = b.with_listing(l.listing());
    }
    if let Some((kinds, ctime)) = opts.writeup {
        b = b.with_writeup(timeline::Writeup::new(kinds, ctime));
    }
    let mut w = Windowed::new(b, opts.redact, opts.window_events);
    // One lane per set, its files in order.
    let lanes: Vec<Vec<lanes::Job>> = order
        .chunk_by(|a, b| a.0 == b.0)
        .map(|set| {
            set.iter()
                .map(|&(set, i)| {
                    let first = match firsts[i] {
                        Some(line::Stamp::Abs(ms)) => ms,
                        _ => i64::MIN,
                    };
                    lanes::Job::new(source::shown(&files[i]), readable[i].clone(), set, first)
                })
                .collect()
        })
        .collect();
    errors.extend(lanes::fold(&mut w, &lanes, threads, &tick));
    pb.finish_and_clear();
    let (t, incidents, windows, peak_events, late) = w.finish();
    errors.extend(late);
    Analysis {
        windows,
        peak_events,
        timeline: t,
        incidents,
        errors,
        _spool: spool,
    }
}

/// Parses `--since`/`--until`: `YYYY-MM-DD[ T]HH:MM[:SS[.mmm]]` or a date.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    let mut ms = line::days_from_civil(y, mo as u32, d as u32) * 86_400_000;
    if b.len() > 10 {
        if !matches!(b[10], b' ' | b'T') {
            return None;
        }
        let h = n(11..13)?;
        let mi = n(14..16)?;
        let sec = if b.len() >= 19 { n(17..19)? } else { 0 };
        let frac = if b.len() > 20 {
            n(20..b.len().min(23))?
        } else {
            0
        };
        ms += ((h * 60 + mi) * 60 + sec) * 1000 + frac;
    }
    Some(ms)
}

/// The default `--timeline-limit`: at most this many events are listed
/// unless `--all-events` is given; past it only notable ones (medium
/// severity and above, most severe first) are listed, and `metrics` says
/// how many exist and how many were left out.
pub const EVENTS_LISTED: usize = 10_000;

/// Indexes of the `limit` most severe of `severities` (the earlier first
/// among equals), in their original order: the events a capped timeline
/// lists, here and in `merge`.
pub fn most_severe<S: Ord>(severities: &[S], limit: usize) -> Vec<usize> {
    let mut by_sev: Vec<usize> = (0..severities.len()).collect();
    by_sev.sort_by(|&a, &b| severities[b].cmp(&severities[a]).then(a.cmp(&b)));
    by_sev.truncate(limit);
    by_sev.sort_unstable();
    by_sev
}

fn metrics(a: &Analysis, listed: usize, omitted: usize, limit: usize) -> serde_json::Value {
    let t = &a.timeline;
    let count = |k: &str| t.kind_counts.get(k).copied().unwrap_or(0);
    let kinds: serde_json::Map<String, serde_json::Value> = t
        .kind_counts
        .iter()
        .map(|(k, v)| ((*k).to_string(), json!(v)))
        .collect();
    json!({
        "lines": t.lines,
        "unparsed_lines": t.files.iter().map(|f| f.unparsed).sum::<u64>(),
        "bytes": t.files.iter().map(|f| f.bytes).sum::<u64>(),
        "nodes": t.server_nodes(),
        "lifetimes": t.nodes.iter().map(|n| n.lifetime_count()).sum::<u64>(),
        "crashes": t.crashes_total,
        "events": t.events_total,
        "events_kept": t.listable().count() as u64 + t.events_gone,
        "events_listed": listed,
        "events_omitted": omitted,
        "timeline_limit": (limit != usize::MAX).then_some(limit),
        "incidents": a.incidents.len(),
        "windows": a.windows,
        "full_resyncs": count("full_resync"),
        "partial_resyncs": count("psync_ok"),
        "bgsaves_started": count("bgsave_started"),
        // A child killed by a signal other than SIGUSR1 (the parent
        // stopping it on purpose) failed too.
        "bgsave_failures": count("bgsave_error")
            + count("fork_failed")
            + t.bgsave_killed_gone
            + t.listable().filter(|e| e.kind() == "bgsave_signal" && e.num(t, "signal") != Some(10.0)).count() as u64,
        "aof_fsync_stalls": count("aof_fsync_slow"),
        "oom_kills": count("kernel_oom_kill"),
        "cri_partial_lines_joined": t.cri_joined,
        "fork_cow_peak_mb_max": t.cow_peak_mb,
        "line_counts": kinds,
    })
}

/// Whether `--node` selects the node `name` (`:6379`, `6379`, or a name
/// ending in `:6379`); an empty list selects every node.
pub fn node_wanted(name: &str, wants: &[String]) -> bool {
    wants.is_empty()
        || wants.iter().any(|want| {
            name == want
                || name.trim_start_matches(':') == want.trim_start_matches(':')
                || name.ends_with(&format!(":{}", want.trim_start_matches(':')))
        })
}

/// Whether a span from `a` to `b` (either may be unknown) overlaps
/// `--since`/`--until`.
pub fn in_window(a: Option<i64>, b: Option<i64>, since: Option<i64>, until: Option<i64>) -> bool {
    let a2 = a.or(b);
    let b2 = b.or(a);
    since.is_none_or(|s| b2.is_none_or(|x| x >= s))
        && until.is_none_or(|u| a2.is_none_or(|x| x <= u))
}

/// `--since` and `--until` as times (a bare `--until` date means the
/// whole day), or the message naming the flag that does not parse.
pub fn parse_window(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<i64>, Option<i64>), String> {
    let since = match since.map(|s| (s, parse_time(s))) {
        Some((s, None)) => return Err(format!("--since {s}: expected YYYY-MM-DD[ HH:MM[:SS]]")),
        Some((_, t)) => t,
        None => None,
    };
    let until = match until.map(|s| (s, parse_time(s))) {
        Some((s, None)) => return Err(format!("--until {s}: expected YYYY-MM-DD[ HH:MM[:SS]]")),
        Some((s, Some(t))) => Some(if s.trim().len() == 10 {
            t + 86_399_999
        } else {
            t
        }),
        None => None,
    };
    Ok((since, until))
}

/// What `redsleuth logs` reads and how, from its arguments.
pub struct Plan {
    /// The inputs, expanded.
    files: Vec<PathBuf>,
    /// Paths that matched nothing (already said).
    missing: Vec<String>,
    /// How they are analysed; `report` adds what its write-up reads
    /// (`writeup`), so that one analysis serves both.
    pub opts: Options,
    since: Option<i64>,
    until: Option<i64>,
    limit: usize,
    json: bool,
}

impl Plan {
    /// Reads and analyses the inputs on a pool of `opts.threads`.
    pub fn analyze(&self) -> Analysis {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.opts.threads)
            .build();
        match pool {
            Ok(p) => p.install(|| analyze(&self.files, &self.opts)),
            Err(_) => analyze(&self.files, &self.opts),
        }
    }
}

/// Runs `redsleuth logs`; returns the process exit code (0 ok, 1 incident at
/// or above `--fail-on`, 2 usage or I/O error, 3 some input unreadable with
/// partial results printed).
pub fn run(args: &cli::LogsArgs, out: &mut dyn Write) -> std::io::Result<u8> {
    let plan = match plan(args) {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    let analysis = plan.analyze();
    let code = report(args, &plan, &analysis, out)?;
    // Freeing millions of records one by one takes a noticeable time on a
    // large archive, and the output is already written: hand it to a thread
    // of its own (a process that exits next need not wait for it).
    let Analysis {
        timeline,
        incidents,
        errors,
        _spool,
        ..
    } = analysis;
    drop((errors, _spool));
    std::thread::spawn(move || drop((timeline, incidents)));
    Ok(code)
}

/// The [`Plan`] of `logs` ARGS, or the exit code of arguments that do
/// not make one (said on stderr).
pub fn plan(args: &cli::LogsArgs) -> Result<Plan, u8> {
    let since = match args.since.as_deref().map(|s| (s, parse_time(s))) {
        Some((s, None)) => {
            eprintln!("redsleuth: --since {s}: expected YYYY-MM-DD[ HH:MM[:SS]]");
            return Err(2);
        }
        Some((_, t)) => t,
        None => None,
    };
    let boot = match args.boot_time.as_deref().map(|s| (s, parse_time(s))) {
        Some((s, None)) => {
            eprintln!("redsleuth: --boot-time {s}: expected YYYY-MM-DD[ HH:MM[:SS]]");
            return Err(2);
        }
        Some((_, t)) => t,
        None => None,
    };
    let until = match args.until.as_deref().map(|s| (s, parse_time(s))) {
        Some((s, None)) => {
            eprintln!("redsleuth: --until {s}: expected YYYY-MM-DD[ HH:MM[:SS]]");
            return Err(2);
        }
        // A bare date means the whole day.
        Some((s, Some(t))) => Some(if s.trim().len() == 10 {
            t + 86_399_999
        } else {
            t
        }),
        None => None,
    };
    if args.threads == Some(0) {
        eprintln!("redsleuth: --threads must be at least 1");
        return Err(2);
    }
    let (files, missing) = expand(&args.paths);
    for m in &missing {
        eprintln!("redsleuth: {m}");
    }
    if files.is_empty() {
        return Err(2);
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let json = args.format == cli::LogFormat::Json;
    let limit = if args.all_events {
        usize::MAX
    } else {
        args.timeline_limit
    };
    let opts = Options {
        year: args.year,
        boot,
        threads,
        redact: args.redact,
        progress: !args.quiet,
        all_events: args.all_events,
        window_events: args.window_events,
        listing: Some(ListingOpts {
            limit,
            low: json,
            nodes: args.node.clone(),
            since,
            until,
        }),
        writeup: None,
    };
    Ok(Plan {
        files,
        missing,
        opts,
        since,
        until,
        limit,
        json,
    })
}

/// Writes the `logs` report of an analysis of `plan` in ARGS's format;
/// returns the exit code (see [`run`]).
pub fn report(
    args: &cli::LogsArgs,
    plan: &Plan,
    analysis: &Analysis,
    out: &mut dyn Write,
) -> std::io::Result<u8> {
    report_reading(args, plan, analysis, Vec::new(), out).map(|(code, _)| code)
}

/// [`report`], reading back besides its own the lines at `also` (file,
/// byte offset) in the same pass over each input, and returning them all:
/// a compressed input is decompressed once for the report and the
/// write-up that cites it.
pub fn report_reading(
    args: &cli::LogsArgs,
    plan: &Plan,
    analysis: &Analysis,
    also: Vec<(usize, u64)>,
    out: &mut dyn Write,
) -> std::io::Result<(u8, text::Texts)> {
    let Plan {
        files,
        missing,
        since,
        until,
        limit,
        json,
        ..
    } = plan;
    let (since, until, limit, json) = (*since, *until, *limit, *json);
    for e in &analysis.errors {
        eprintln!("redsleuth: {e}");
    }
    let t = &analysis.timeline;
    // Inputs that read but hold no log: a PNG, a README, a dump. An empty
    // file is said as such; it fails the run only when nothing else was
    // given (an empty file beside the logs is a rotated-away one).
    let mut not_logs = Vec::new();
    let mut empty = 0;
    for f in t.files.iter().filter(|f| f.error.is_none()) {
        if f.bytes == 0 {
            empty += 1;
            not_logs.push(format!("{}: empty file", f.path));
        } else if f.unparsed >= f.lines {
            not_logs.push(format!(
                "{}: no line looked like a Redis/Valkey log ({} line(s), none with a log prefix)",
                f.path, f.lines
            ));
        }
    }
    for m in &not_logs {
        eprintln!("redsleuth: {m}");
    }
    let read_ok = t.files.iter().filter(|f| f.error.is_none()).count();
    if read_ok > 0 && not_logs.len() == read_ok {
        return Ok((2, text::Texts::default()));
    }
    let some_not_logs = not_logs.len() > empty;
    let mut errors = analysis.errors.clone();
    errors.extend(not_logs);
    let node_ok = |n: usize| node_wanted(&t.nodes[n].name, &args.node);
    let in_time = |a: Option<i64>, b: Option<i64>| in_window(a, b, since, until);
    let mut incidents: Vec<&rules::Incident> = analysis
        .incidents
        .iter()
        .filter(|i| i.severity >= args.min_severity)
        .filter(|i| {
            i.nodes.iter().any(|&n| node_ok(n)) || i.nodes.is_empty() && args.node.is_empty()
        })
        .filter(|i| in_time(i.start, i.end))
        .collect();
    let failing = args
        .fail_on
        .is_some_and(|f| incidents.iter().any(|i| i.severity >= f));
    if incidents.len() > args.top {
        // Keep the most severe, then show them in time order.
        let mut by_sev = incidents.clone();
        by_sev.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.start.cmp(&b.start)));
        by_sev.truncate(args.top);
        incidents.retain(|i| by_sev.iter().any(|k| std::ptr::eq(*k, *i)));
    }
    let mut events: Vec<&timeline::Event> = t
        .listable()
        .filter(|e| node_ok(e.node()) && in_time(e.ts(), e.ts()))
        .collect();
    // Text and HTML list events of medium severity and above; JSON lists
    // every kept event until the limit, then those only. Events a long
    // archive's windows let go of count too.
    let (gone, gone_medium) = t.unlisted;
    let mut matching = events.len() + gone as usize;
    if !json || t.events_trimmed || matching > limit {
        events.retain(|e| e.severity >= catalog::Severity::Medium);
        matching = events.len() + gone_medium as usize;
    }
    if events.len() > limit {
        let severities: Vec<catalog::Severity> = events.iter().map(|e| e.severity).collect();
        events = most_severe(&severities, limit)
            .into_iter()
            .map(|k| events[k])
            .collect();
    }
    let omitted = matching - events.len();
    // Read back only the lines that get printed.
    let mut wanted: Vec<(usize, u64)> = also;
    wanted.extend(
        incidents
            .iter()
            .flat_map(|i| i.evidence.iter().map(|c| (c.file(), c.at))),
    );
    if json {
        wanted.extend(events.iter().map(|e| (e.file(), e.at())));
    }
    let texts = text::read_back(&t.files, wanted);
    let listed = events.len();
    let report = render::Report {
        t,
        incidents,
        events,
        redact: args.redact,
        top: args.top,
        timeline_limit: limit,
        events_omitted: omitted,
        errors,
        texts: &texts,
    };
    let res = match args.format {
        cli::LogFormat::Text => render::text(&report, out),
        cli::LogFormat::Markdown => render::markdown(&report, out),
        cli::LogFormat::Html => render::html(&report, out),
        cli::LogFormat::HtmlBody => render::html_body(&report, out),
        cli::LogFormat::Json => {
            render::json_out(&report, metrics(analysis, listed, omitted, limit), out)
        }
    };
    match res {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok((0, texts)),
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    let all_failed = analysis.errors.len() >= files.len() && t.lines == 0;
    let partial = !analysis.errors.is_empty() || !missing.is_empty() || some_not_logs;
    let code = if all_failed {
        2
    } else if failing {
        1
    } else if partial {
        3
    } else {
        0
    };
    Ok((code, texts))
}

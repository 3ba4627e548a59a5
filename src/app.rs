//! Glue between the command line and the library: one function per
//! subcommand, each opening inputs, running the library, rendering, and
//! mapping the outcome to an exit code.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::analyze::findings::{Finding, Severity};
use crate::analyze::Summary;
use crate::cli::{
    AllocatorArg, CheckArgs, CheckFormat, Cli, Command, CommonArgs, DiffArgs, FailOn, KeysArgs,
    KeysFormat, MergeArgs, ModelArgs, PostmortemArgs, PostmortemFormat, RdbArgs, ReportArgs,
    ReportFormat,
};
use crate::commands::{self, check, keys, report as rdb};
use crate::progress::bytes_bar;
use crate::rdb::scan::{OnFault, Walk};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: corrupt input; partial results were printed.
pub const EXIT_CORRUPT: u8 = 3;

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    crate::color::init(cli.color);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let code = match cli.command {
        Command::Check(a) => run_check(&a, &mut out),
        Command::Keys(a) => run_keys(&a, &mut out),
        Command::Rdb(a) => run_rdb(&a, &mut out),
        Command::Diff(a) => run_diff(&a, &mut out),
        Command::Merge(a) => run_merge(&a, &mut out),
        Command::Report(a) => run_postmortem(&a, &mut out),
        Command::Logs(a) => match crate::logs::run(&a, &mut out) {
            Ok(code) => code,
            Err(e) => io_exit(e),
        },
        Command::Completions(a) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(a.shell, &mut cmd, "redsleuth", &mut out);
            EXIT_OK
        }
        Command::Man(a) => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let r = match &a.out_dir {
                None => clap_mangen::Man::new(cmd).render(&mut out),
                Some(dir) => std::fs::create_dir_all(dir)
                    .and_then(|()| clap_mangen::generate_to(cmd, dir))
                    .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
            };
            match r {
                Ok(()) => EXIT_OK,
                Err(e) => io_exit(e),
            }
        }
    };
    match out.flush() {
        Ok(()) => code,
        Err(e) => io_exit(e).max(code),
    }
}

/// A closed pipe (`| head`) is not an error; anything else is exit 2.
fn io_exit(e: io::Error) -> u8 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        EXIT_OK
    } else {
        eprintln!("redsleuth: {e}");
        EXIT_ERROR
    }
}

/// How `common`'s flags walk an input whose pages `pager` releases.
fn walk<'p>(common: &CommonArgs, pager: &'p crate::pages::Pager<'p>) -> Walk<'p> {
    Walk {
        on_fault: if common.strict {
            OnFault::Stop
        } else {
            OnFault::Salvage
        },
        pager,
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

/// Opens an input; an unreadable one is exit 2.
fn open_input(path: &Path) -> Result<crate::source::Source, u8> {
    commands::open(path).map_err(|e| {
        eprintln!("redsleuth: {e}");
        EXIT_ERROR
    })
}

/// Reads an input's RDB header; a bad one is exit 3 (corrupt input).
fn parse_input<'s>(
    src: &'s crate::source::Source,
    path: &str,
) -> Result<crate::rdb::RdbFile<'s>, u8> {
    commands::parse(src).map_err(|e| {
        eprintln!("redsleuth: {path}: {e}");
        EXIT_CORRUPT
    })
}

fn run_check(a: &CheckArgs, out: &mut dyn Write) -> u8 {
    let src = match open_input(&a.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let path = display(&a.file);
    let file = match parse_input(&src, &path) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let pool = commands::pool(a.common.threads);
    let bar = bytes_bar(src.bytes().len() as u64, a.common.quiet);
    let pager = src.pager();
    let mut report = check::check(&file, &pool, walk(&a.common, &pager), &|p| {
        bar.set_position(p)
    });
    bar.finish_and_clear();
    if a.common.redact {
        report.aux = report.aux.redacted();
    }
    let r = match a.format {
        CheckFormat::Text => check::render_text(&report, &path, out),
        CheckFormat::Json => check::render_json(&report, &path, out),
    };
    if let Err(e) = r {
        return io_exit(e);
    }
    if report.is_ok() {
        EXIT_OK
    } else {
        for e in &report.errors {
            eprintln!("redsleuth: {path}: {e}");
        }
        let faults = crate::faults::Faults::from_scan(&path, &report.faults);
        for s in &faults.skipped {
            eprintln!("redsleuth: {s}");
        }
        if report.checksum.is_mismatch() {
            // Where redis-check-rdb reports it: the end of the trailer.
            eprintln!(
                "redsleuth: {path}: checksum mismatch at byte {}: {}",
                report.bytes, report.checksum
            );
        }
        EXIT_CORRUPT
    }
}

fn run_keys(a: &KeysArgs, out: &mut dyn Write) -> u8 {
    let src = match open_input(&a.file) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let path = display(&a.file);
    let file = match parse_input(&src, &path) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let (model, allocator) = match model_choice(&a.model) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let profile = model.unwrap_or_else(|| file.profile());
    let model = crate::memory::Model::new(profile, allocator).with_cluster(a.model.cluster);
    let filter = keys::Filter {
        pattern: a.pattern.as_ref().map(|p| p.as_bytes().to_vec()),
        type_name: a.type_name.clone(),
        db: a.db,
    };
    let pool = commands::pool(a.common.threads);
    let bar = bytes_bar(src.bytes().len() as u64, a.common.quiet);
    let mut w = keys::RowWriter::new(out, a.format == KeysFormat::Csv);
    let pager = src.pager();
    let listed = keys::list(
        &file,
        &pool,
        walk(&a.common, &pager),
        &filter,
        &model,
        a.common.redact,
        &|p| bar.set_position(p),
        &mut |r| w.write(&r),
    );
    bar.finish_and_clear();
    if let Some(e) = w.error.take() {
        return io_exit(e);
    }
    let faults = crate::faults::Faults::from_scan(&path, &listed.faults);
    let mut all: Vec<&crate::rdb::Error> = listed.errors.iter().collect();
    all.extend(listed.faults.iter().map(|f| &f.error));
    all.sort_by_key(|e| e.offset);
    for e in all {
        eprintln!("redsleuth: {path}: {e}");
    }
    for s in &faults.skipped {
        eprintln!("redsleuth: {s}");
    }
    if listed.checksum.is_mismatch() {
        eprintln!(
            "redsleuth: {path}: checksum {}: every row was printed, but the file's contents are not what was written",
            listed.checksum
        );
    }
    if listed.is_ok() {
        EXIT_OK
    } else {
        EXIT_CORRUPT
    }
}

fn model_choice(
    r: &ModelArgs,
) -> Result<(Option<crate::rdb::Profile>, crate::memory::Allocator), u8> {
    let model = match &r.model {
        None => None,
        Some(m) => match crate::memory::Model::parse_name(m) {
            Some(p) => Some(p),
            None => {
                eprintln!(
                    "redsleuth: unknown --model '{m}'; use one of redis-4, redis-5, redis-6, \
                     redis-7.0, redis-7.2, redis-7.4, redis-8.0, redis-8.8, valkey-8, \
                     valkey-8.1, valkey-9"
                );
                return Err(EXIT_ERROR);
            }
        },
    };
    let allocator = match r.allocator {
        AllocatorArg::Jemalloc => crate::memory::Allocator::Jemalloc,
        AllocatorArg::JemallocSystem => crate::memory::Allocator::JemallocSystem,
        AllocatorArg::Libc => crate::memory::Allocator::Libc,
    };
    Ok((model, allocator))
}

fn options(r: &ReportArgs, common: &CommonArgs) -> Result<rdb::Options, u8> {
    let (model, allocator) = model_choice(&r.model)?;
    Ok(rdb::Options {
        top: r.top.max(1),
        redact: common.redact,
        model,
        allocator,
        cluster: r.model.cluster,
    })
}

/// Analyzes each file into one merged summary; returns it with a flag set
/// when any input was corrupt, or an exit code when nothing could be read.
fn analyze_files(
    files: &[std::path::PathBuf],
    opts: &rdb::Options,
    common: &CommonArgs,
) -> Result<(Summary, bool), u8> {
    let pool = commands::pool(common.threads);
    let mut total = Summary::new(opts.top);
    total.redacted = opts.redact;
    let mut corrupt = false;
    for path in files {
        let shown = display(path);
        let src = match commands::open(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("redsleuth: {e}");
                return Err(EXIT_ERROR);
            }
        };
        let file = match commands::parse(&src) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("redsleuth: {shown}: {e}");
                total.errors.push(crate::faults::ReadError::new(&shown, &e));
                corrupt = true;
                continue;
            }
        };
        let bar = bytes_bar(src.bytes().len() as u64, common.quiet);
        let pager = src.pager();
        let s = rdb::analyze(&file, &shown, &pool, walk(common, &pager), opts, &|p| {
            bar.set_position(p)
        });
        bar.finish_and_clear();
        for e in &s.errors {
            eprintln!("redsleuth: {e}");
        }
        for k in &s.skipped {
            eprintln!("redsleuth: {k}");
        }
        corrupt |= !s.errors.is_empty();
        total.merge(&s);
    }
    Ok((total, corrupt))
}

fn fails(findings: &[Finding], fail_on: Option<FailOn>) -> bool {
    let min = match fail_on {
        None => return false,
        Some(FailOn::Info) => Severity::Info,
        Some(FailOn::Warning) => Severity::Warning,
        Some(FailOn::Critical) => Severity::Critical,
    };
    findings.iter().any(|f| f.severity >= min)
}

fn render_report(
    s: &Summary,
    format: ReportFormat,
    out: &mut dyn Write,
) -> io::Result<Vec<Finding>> {
    let findings = rdb::rules(s);
    match format {
        ReportFormat::Text => rdb::render_text(s, &findings, out)?,
        ReportFormat::Markdown => rdb::render_markdown(s, &findings, out)?,
        ReportFormat::Html => rdb::render_html(s, &findings, out)?,
        ReportFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &s.to_json(&findings))?;
            writeln!(out)?;
        }
        ReportFormat::Prometheus => commands::prometheus::render(s, out)?,
    }
    Ok(findings)
}

fn exit_for(corrupt: bool, findings: &[Finding], fail_on: Option<FailOn>) -> u8 {
    if corrupt {
        EXIT_CORRUPT
    } else if fails(findings, fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn run_rdb(a: &RdbArgs, out: &mut dyn Write) -> u8 {
    let opts = match options(&a.report, &a.common) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let (summary, corrupt) = match analyze_files(&a.files, &opts, &a.common) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match render_report(&summary, a.report.format, out) {
        Ok(f) => exit_for(corrupt, &f, a.report.fail_on),
        Err(e) => io_exit(e),
    }
}

fn run_diff(a: &DiffArgs, out: &mut dyn Write) -> u8 {
    if matches!(
        a.report.format,
        ReportFormat::Html | ReportFormat::Prometheus
    ) {
        eprintln!("redsleuth: diff writes text, json or markdown; use --format markdown");
        return EXIT_ERROR;
    }
    let opts = match options(&a.report, &a.common) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let mut sides = Vec::new();
    let mut corrupt = false;
    for p in [&a.old, &a.new] {
        match analyze_files(std::slice::from_ref(p), &opts, &a.common) {
            Ok((s, c)) => {
                corrupt |= c;
                sides.push(s);
            }
            Err(code) => return code,
        }
    }
    let (changes, hours) = crate::analyze::diff::diff(&sides[0], &sides[1]);
    let r = match a.report.format {
        ReportFormat::Json => {
            let v = serde_json::json!({
                "tool": {"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")},
                "old": sides[0].sources.first(), "new": sides[1].sources.first(),
                "hours_between": hours,
                "total": {"keys": [sides[0].total.keys, sides[1].total.keys],
                    "memory_bytes": [sides[0].total.memory_bytes, sides[1].total.memory_bytes]},
                "patterns": changes,
            });
            serde_json::to_writer_pretty(&mut *out, &v)
                .map_err(io::Error::from)
                .and_then(|_| writeln!(out))
        }
        f => write_diff(
            &sides,
            &changes,
            hours,
            f == ReportFormat::Markdown,
            a.report.top,
            out,
        ),
    };
    match r {
        Ok(()) => {
            if corrupt {
                EXIT_CORRUPT
            } else {
                EXIT_OK
            }
        }
        Err(e) => io_exit(e),
    }
}

fn write_diff(
    sides: &[Summary],
    changes: &[crate::analyze::diff::Change],
    hours: Option<f64>,
    markdown: bool,
    top: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    use crate::analyze::findings::human_bytes;
    let signed = |x: i128| {
        if x < 0 {
            format!("-{}", human_bytes((-x) as u64))
        } else {
            format!("+{}", human_bytes(x as u64))
        }
    };
    let (o, n) = (&sides[0].total, &sides[1].total);
    let span = match hours {
        Some(h) if h >= 1.0 => format!(" over {h:.1} h"),
        Some(h) => format!(" over {:.0} min", h * 60.0),
        None => String::new(),
    };
    writeln!(
        out,
        "{}{} keys → {} keys, {} → {}{span}\n",
        if markdown { "# Snapshot diff\n\n" } else { "" },
        o.keys,
        n.keys,
        human_bytes(o.memory_bytes),
        human_bytes(n.memory_bytes)
    )?;
    if markdown {
        writeln!(out, "| pattern | status | keys | memory | change | per hour | TTL coverage |\n|---|---|---:|---:|---:|---:|---:|")?;
    } else {
        writeln!(
            out,
            "{:<36} {:<8} {:>17} {:>23} {:>11} {:>11} {:>11}",
            "pattern", "status", "keys", "memory", "change", "per hour", "ttl"
        )?;
    }
    for c in changes.iter().take(top) {
        let delta = c.memory_bytes.1 as i128 - c.memory_bytes.0 as i128;
        let rate = c
            .memory_per_hour
            .map(|r| format!("{}/h", signed(r as i128)))
            .unwrap_or_default();
        let keys = format!("{} → {}", c.keys.0, c.keys.1);
        let mem = format!(
            "{} → {}",
            human_bytes(c.memory_bytes.0),
            human_bytes(c.memory_bytes.1)
        );
        let ttl = format!(
            "{:.0}→{:.0}%",
            c.ttl_coverage.0 * 100.0,
            c.ttl_coverage.1 * 100.0
        );
        if markdown {
            writeln!(
                out,
                "| `{}` | {} | {keys} | {mem} | {} | {rate} | {ttl} |",
                c.pattern,
                c.status,
                signed(delta)
            )?;
        } else {
            writeln!(
                out,
                "{:<36} {:<8} {:>17} {:>23} {:>11} {:>11} {:>11}",
                c.pattern,
                c.status,
                keys,
                mem,
                signed(delta),
                rate,
                ttl
            )?;
        }
    }
    Ok(())
}

fn run_merge(a: &MergeArgs, out: &mut dyn Write) -> u8 {
    use crate::commands::merge::{self, Report};
    let mut keyspace = Vec::new();
    let mut logs = Vec::new();
    for p in &a.reports {
        match merge::read(p) {
            Ok(Report::Keyspace(s)) => keyspace.push((display(p), *s)),
            Ok(Report::Logs(v)) => logs.push((display(p), v)),
            Err(e) => {
                eprintln!("redsleuth: {e}");
                return EXIT_ERROR;
            }
        }
    }
    if !keyspace.is_empty() && !logs.is_empty() {
        eprintln!(
            "redsleuth: merge takes keyspace reports or log reports, not both ({} is a log report, {} a keyspace report)",
            logs[0].0, keyspace[0].0
        );
        return EXIT_ERROR;
    }
    if !logs.is_empty() {
        eprintln!("redsleuth: merging log reports is not supported yet");
        return EXIT_ERROR;
    }
    let opts = merge::Options {
        top: a.top,
        redact: a.redact,
    };
    let total = match merge::keyspace(keyspace, opts) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("redsleuth: {e}");
            return EXIT_ERROR;
        }
    };
    let corrupt = !total.errors.is_empty();
    match render_report(&total, a.format, out) {
        Ok(f) => exit_for(corrupt, &f, a.fail_on),
        Err(e) => io_exit(e),
    }
}

/// The root-cause write-up of `report` ([`commands::rca`]), ahead of the
/// keyspace report and the log analysis it draws on.
fn write_rca(a: &PostmortemArgs, out: &mut dyn Write) -> io::Result<()> {
    let (files, _) = crate::logs::expand(&a.logs);
    let opts = crate::logs::Options {
        threads: a.common.threads.unwrap_or(0),
        redact: a.common.redact,
        ..Default::default()
    };
    let analysis = crate::logs::analyze(&files, &opts);
    let wanted: Vec<(usize, u64)> = analysis
        .incidents
        .iter()
        .flat_map(|i| i.evidence.iter().map(|c| (c.file(), c.at)))
        .collect();
    let texts = crate::logs::text::read_back(&analysis.timeline.files, wanted);
    let mut dump = None;
    if !a.rdb.is_empty() {
        let report = ReportArgs {
            format: ReportFormat::Markdown,
            top: a.top,
            model: ModelArgs {
                model: a.model.model.clone(),
                allocator: a.model.allocator,
                cluster: a.model.cluster,
            },
            fail_on: None,
        };
        if let Ok(o) = options(&report, &a.common) {
            if let Ok((s, _)) = analyze_files(&a.rdb, &o, &a.common) {
                let f = rdb::rules(&s);
                dump = Some((s, f));
            }
        }
    }
    commands::rca::markdown(
        &analysis.timeline,
        &analysis.incidents,
        &texts,
        dump.as_ref().map(|(s, f)| (s, f.as_slice())),
        a.common.redact,
        out,
    )
}

fn run_postmortem(a: &PostmortemArgs, out: &mut dyn Write) -> u8 {
    if a.rdb.is_empty() && a.logs.is_empty() {
        eprintln!("redsleuth: report needs --rdb FILE…, --logs PATH…, or both");
        return EXIT_ERROR;
    }
    let markdown = a.format == PostmortemFormat::Markdown;
    let html = a.format == PostmortemFormat::Html;
    let mut code = EXIT_OK;
    let head = if html {
        crate::html::page_start(out, "redsleuth post-incident report")
            .and_then(|()| writeln!(out, "<h1>Post-incident report</h1>"))
    } else if markdown {
        writeln!(out, "# Post-incident report\n")
    } else {
        Ok(())
    };
    if let Err(e) = head {
        return io_exit(e);
    }
    if markdown && !a.logs.is_empty() {
        if let Err(e) = write_rca(a, out) {
            return io_exit(e);
        }
    }
    if !a.rdb.is_empty() {
        let report = ReportArgs {
            format: match a.format {
                PostmortemFormat::Markdown => ReportFormat::Markdown,
                PostmortemFormat::Text => ReportFormat::Text,
                PostmortemFormat::Html => ReportFormat::Html,
            },
            top: a.top,
            model: ModelArgs {
                model: a.model.model.clone(),
                allocator: a.model.allocator,
                cluster: a.model.cluster,
            },
            fail_on: None,
        };
        let opts = match options(&report, &a.common) {
            Ok(o) => o,
            Err(c) => return c,
        };
        let (summary, corrupt) = match analyze_files(&a.rdb, &opts, &a.common) {
            Ok(x) => x,
            Err(c) => return c,
        };
        let written = if html {
            let findings = rdb::rules(&summary);
            rdb::render_html_body(&summary, &findings, out)
        } else {
            render_report(&summary, report.format, out).map(|_| ())
        };
        if let Err(e) = written {
            return io_exit(e);
        }
        if corrupt {
            code = EXIT_CORRUPT;
        }
    }
    if !a.logs.is_empty() {
        if let Err(e) = writeln!(out) {
            return io_exit(e);
        }
        let format = match a.format {
            PostmortemFormat::Markdown => crate::logs::cli::LogFormat::Markdown,
            PostmortemFormat::Text => crate::logs::cli::LogFormat::Text,
            PostmortemFormat::Html => crate::logs::cli::LogFormat::HtmlBody,
        };
        let args = crate::logs::cli::LogsArgs {
            threads: a.common.threads,
            quiet: a.common.quiet,
            redact: a.common.redact,
            ..crate::logs::cli::LogsArgs::new(a.logs.clone(), format)
        };
        match crate::logs::run(&args, out) {
            Ok(c) => code = code.max(c),
            Err(e) => return io_exit(e),
        }
    }
    if html {
        if let Err(e) = crate::html::page_end(out) {
            return io_exit(e);
        }
    }
    code
}

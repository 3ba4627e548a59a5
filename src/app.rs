//! Glue between the command line and the library: one function per
//! subcommand, each opening inputs, running the library, rendering, and
//! mapping the outcome to an exit code.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::analyze::findings::Finding;
use crate::analyze::Summary;
use crate::cli::DiffFormat;
use crate::cli::{
    AllocatorArg, CheckArgs, CheckFormat, Cli, Command, CommonArgs, DiffArgs, FailOn, KeysArgs,
    KeysFormat, MergeArgs, ModelArgs, PostmortemArgs, PostmortemFormat, RdbArgs, ReportFormat,
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
pub fn run(mut cli: Cli) -> u8 {
    crate::color::init(cli.color);
    if let Err(code) = apply_redact_key(&mut cli.command) {
        return code;
    }
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

/// `--redact-key FILE` implies `--redact` and keys every token of the run
/// with the file's secret; an unreadable or short file is a usage error.
fn apply_redact_key(cmd: &mut Command) -> Result<(), u8> {
    let (key, redact) = match cmd {
        Command::Check(a) => (&a.common.redact_key, &mut a.common.redact),
        Command::Keys(a) => (&a.common.redact_key, &mut a.common.redact),
        Command::Rdb(a) => (&a.common.redact_key, &mut a.common.redact),
        Command::Diff(a) => (&a.common.redact_key, &mut a.common.redact),
        Command::Report(a) => (&a.common.redact_key, &mut a.common.redact),
        Command::Merge(a) => (&a.redact_key, &mut a.redact),
        Command::Logs(a) => (&a.redact_key, &mut a.redact),
        Command::Completions(_) | Command::Man(_) => return Ok(()),
    };
    let Some(path) = key else {
        return Ok(());
    };
    *redact = true;
    match crate::escape::redact_secret_from_file(path) {
        Ok(secret) => {
            crate::escape::set_redact_secret(secret);
            Ok(())
        }
        Err(e) => {
            eprintln!("redsleuth: {e}");
            Err(EXIT_ERROR)
        }
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
    crate::source::shown(path)
}

/// Opens an input; an unreadable one is exit 2.
fn open_input(path: &Path, quiet: bool) -> Result<crate::source::Source, u8> {
    commands::open_progress(path, quiet).map_err(|e| {
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
    let src = match open_input(&a.file, a.common.quiet) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let path = display(&a.file);
    let file = match commands::parse(&src) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("redsleuth: {path}: {e}");
            if a.format == CheckFormat::Json {
                let bytes = src.bytes().len() as u64;
                if let Err(e) = check::render_json_unreadable(&path, bytes, &e, out) {
                    return io_exit(e);
                }
            }
            return EXIT_CORRUPT;
        }
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
    let checks = [
        a.type_name.as_deref().map(keys::check_type),
        a.encoding.as_deref().map(keys::check_encoding),
    ];
    if let Some(e) = checks.into_iter().flatten().find_map(Result::err) {
        eprintln!("redsleuth: {e}");
        return EXIT_ERROR;
    }
    let src = match open_input(&a.file, a.common.quiet) {
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
        encoding: a.encoding.clone(),
        db: a.db,
    };
    let pool = commands::pool(a.common.threads);
    let bar = bytes_bar(src.bytes().len() as u64, a.common.quiet);
    let csv = a.format == KeysFormat::Csv;
    let mut w = keys::RowWriter::new(out, csv);
    let pager = src.pager();
    let listed = keys::list(
        &file,
        &pool,
        walk(&a.common, &pager),
        &filter,
        &model,
        a.common.redact,
        &|p| bar.set_position(p),
        &|r| {
            let mut line = Vec::with_capacity(192);
            if csv {
                r.write_csv(&mut line);
            } else {
                r.write_ndjson(&mut line);
            }
            line
        },
        &mut |line| w.write(&line),
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

fn options(top: usize, m: &ModelArgs, common: &CommonArgs) -> Result<rdb::Options, u8> {
    let (model, allocator) = model_choice(m)?;
    Ok(rdb::Options {
        top: top.max(1),
        redact: common.redact,
        model,
        allocator,
        cluster: m.cluster,
    })
}

/// Analyzes each file into one merged summary; returns it with a flag set
/// when any input was corrupt, or an exit code when nothing could be read.
fn analyze_files(
    files: &[std::path::PathBuf],
    opts: &rdb::Options,
    filter: &rdb::KeyFilter,
    common: &CommonArgs,
) -> Result<(Summary, bool), u8> {
    let pool = commands::pool(common.threads);
    let mut total = Summary::new(opts.top);
    total.redacted = opts.redact;
    let mut corrupt = false;
    for path in files {
        let shown = display(path);
        let src = match commands::open_progress(path, common.quiet) {
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
        let s = rdb::analyze_filtered(
            &file,
            &shown,
            &pool,
            walk(common, &pager),
            opts,
            filter,
            &|p| bar.set_position(p),
        );
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
    let Some(min) = fail_on.map(FailOn::severity) else {
        return false;
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
    let opts = match options(a.report.top, &a.report.model, &a.common) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let filter = rdb::KeyFilter {
        pattern: a.pattern.as_ref().map(|p| p.as_bytes().to_vec()),
        db: a.db,
    };
    let (summary, corrupt) = match analyze_files(&a.files, &opts, &filter, &a.common) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match render_report(&summary, a.report.format, out) {
        Ok(f) => exit_for(corrupt, &f, a.report.fail_on),
        Err(e) => io_exit(e),
    }
}

fn run_diff(a: &DiffArgs, out: &mut dyn Write) -> u8 {
    let Some(threshold) = parse_size(&a.growth_per_hour) else {
        eprintln!(
            "redsleuth: --growth-per-hour {}: expected bytes, or a number with KiB, MiB, GiB or TiB",
            a.growth_per_hour
        );
        return EXIT_ERROR;
    };
    let opts = match options(a.top, &a.model, &a.common) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let mut sides = Vec::new();
    let mut corrupt = false;
    for p in [&a.old, &a.new] {
        match analyze_files(
            std::slice::from_ref(p),
            &opts,
            &rdb::KeyFilter::default(),
            &a.common,
        ) {
            Ok((s, c)) => {
                corrupt |= c;
                sides.push(s);
            }
            Err(code) => return code,
        }
    }
    let (changes, hours) = crate::analyze::diff::diff(&sides[0], &sides[1]);
    let findings = crate::analyze::diff::growth_findings(&changes, hours, threshold);
    let r = match a.format {
        DiffFormat::Json => {
            let errors: Vec<_> = sides.iter().flat_map(|s| s.errors.iter()).collect();
            let skipped: Vec<_> = sides.iter().flat_map(|s| s.skipped.iter()).collect();
            let v = serde_json::json!({
                "schema_version": crate::SCHEMA_VERSION,
                "tool": {"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")},
                "old": sides[0].sources.first(), "new": sides[1].sources.first(),
                "hours_between": hours,
                "total": {"keys": [sides[0].total.keys, sides[1].total.keys],
                    "memory_bytes": [sides[0].total.memory_bytes, sides[1].total.memory_bytes]},
                "patterns": changes.iter().take(a.top.max(1)).collect::<Vec<_>>(),
                "patterns_total": changes.len(),
                "top": a.top.max(1),
                "growth_per_hour_threshold": threshold,
                "findings": findings,
                "errors": errors,
                "skipped": skipped,
                "redacted": opts.redact,
            });
            serde_json::to_writer_pretty(&mut *out, &v)
                .map_err(io::Error::from)
                .and_then(|_| writeln!(out))
        }
        f => write_diff(&sides, &changes, &findings, hours, f, a.top.max(1), out),
    };
    match r {
        Ok(()) => exit_for(corrupt, &findings, a.fail_on),
        Err(e) => io_exit(e),
    }
}

/// `64MiB`, `1.5 GiB`, `500kb`, `1048576`: bytes.
fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    (n.is_finite() && n >= 0.0).then_some((n * mult) as u64)
}

fn write_diff(
    sides: &[Summary],
    changes: &[crate::analyze::diff::Change],
    findings: &[Finding],
    hours: Option<f64>,
    format: DiffFormat,
    top: usize,
    out: &mut dyn Write,
) -> io::Result<()> {
    use crate::analyze::findings::human_bytes;
    use crate::html::escape as h;
    let markdown = format == DiffFormat::Markdown;
    let html = format == DiffFormat::Html;
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
    let headline = format!(
        "{} keys → {} keys, {} → {}{span}",
        o.keys,
        n.keys,
        human_bytes(o.memory_bytes),
        human_bytes(n.memory_bytes)
    );
    if html {
        crate::html::page_start(out, "redsleuth snapshot diff")?;
        writeln!(out, "<h1>Snapshot diff</h1>")?;
        writeln!(out, "<ul>")?;
        for (side, s) in ["old", "new"].iter().zip(sides) {
            for src in &s.sources {
                writeln!(
                    out,
                    "<li>{side}: <code>{}</code>, RDB {} from {} {}, checksum {}</li>",
                    h(&src.path),
                    src.rdb_version,
                    h(&src.server.family),
                    h(&src.server.version),
                    h(&src.checksum.to_string())
                )?;
            }
        }
        writeln!(out, "</ul><p>{}</p>", h(&headline))?;
    } else if markdown {
        writeln!(out, "# Snapshot diff\n\n{headline}\n")?;
    } else {
        writeln!(out, "{headline}\n")?;
    }
    if !findings.is_empty() {
        if html {
            writeln!(out, "<h2>Findings</h2><ul>")?;
        } else if markdown {
            writeln!(out, "## Findings\n")?;
        } else {
            writeln!(out, "Findings")?;
        }
        for x in findings {
            let sev = x.severity.name();
            if html {
                writeln!(
                    out,
                    "<li><b class=\"{sev}\">{sev}</b> <code>{}</code>: {}<ul>",
                    x.id,
                    h(&x.summary)
                )?;
                for e in &x.evidence {
                    writeln!(out, "<li>{}</li>", h(e))?;
                }
                writeln!(out, "</ul></li>")?;
            } else if markdown {
                writeln!(out, "- **{sev}** `{}`: {}", x.id, x.summary)?;
                for e in &x.evidence {
                    writeln!(out, "  - {e}")?;
                }
            } else {
                let tag = crate::color::paint(&sev.to_uppercase(), sev);
                writeln!(out, "  [{tag}] {}: {}", x.id, x.summary)?;
                for e in &x.evidence {
                    writeln!(out, "      evidence: {e}")?;
                }
            }
        }
        if html {
            writeln!(out, "</ul>")?;
        } else {
            writeln!(out)?;
        }
    }
    if html {
        writeln!(out, "<h2>Patterns</h2><table><tr><th>pattern</th><th>status</th><th>keys</th><th>memory</th><th>change</th><th>per hour</th><th>TTL coverage</th></tr>")?;
    } else if markdown {
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
        if html {
            writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{keys}</td><td>{mem}</td><td>{}</td><td>{rate}</td><td>{ttl}</td></tr>",
                h(&c.pattern),
                c.status,
                signed(delta)
            )?;
        } else if markdown {
            writeln!(
                out,
                "| `{}` | {} | {keys} | {mem} | {} | {rate} | {ttl} |",
                c.pattern.replace('|', "\\|"),
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
    if html {
        writeln!(out, "</table>")?;
    }
    for s in sides {
        for e in &s.errors {
            if html {
                writeln!(
                    out,
                    "<p class=\"critical\">error: {}</p>",
                    h(&e.to_string())
                )?;
            } else if markdown {
                writeln!(out, "\n- error: `{e}`")?;
            } else {
                writeln!(out, "\nerror: {e}")?;
            }
        }
    }
    if html {
        crate::html::page_end(out)?;
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
        return merge_logs(logs, a, out);
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

fn merge_logs(logs: Vec<(String, serde_json::Value)>, a: &MergeArgs, out: &mut dyn Write) -> u8 {
    use crate::commands::merge_logs;
    if a.redact || a.top.is_some() {
        eprintln!(
            "redsleuth: --redact and --top apply to keyspace reports; pass them to `logs` instead"
        );
        return EXIT_ERROR;
    }
    let v = match merge_logs::merge(logs) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("redsleuth: {e}");
            return EXIT_ERROR;
        }
    };
    let written = match a.format {
        ReportFormat::Json => serde_json::to_writer_pretty(&mut *out, &v)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out)),
        ReportFormat::Markdown => merge_logs::markdown(&v, out),
        f => {
            eprintln!(
                "redsleuth: merged log reports are written as json or markdown, not {}",
                format!("{f:?}").to_lowercase()
            );
            return EXIT_ERROR;
        }
    };
    if let Err(e) = written {
        return io_exit(e);
    }
    let failing =
        a.fail_on.is_some_and(|f| {
            let at_least = merge_logs::severity_rank(f.severity().name());
            v["incidents"].as_array().into_iter().flatten().any(|i| {
                merge_logs::severity_rank(i["severity"].as_str().unwrap_or("")) >= at_least
            })
        });
    if !v["errors"].as_array().is_none_or(Vec::is_empty) {
        EXIT_CORRUPT
    } else if failing {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

/// The lines the write-up of `report` may quote: the incidents' evidence,
/// the saves and loads, and the ends of lifetimes.
fn postmortem_lines(analysis: &crate::logs::Analysis) -> Vec<(usize, u64)> {
    let t = &analysis.timeline;
    analysis
        .incidents
        .iter()
        .flat_map(|i| i.evidence.iter().map(|c| (c.file(), c.at)))
        .chain(
            t.events
                .iter()
                .filter(|e| commands::rca::DUMP_KINDS.contains(&e.kind()))
                .map(|e| (e.file(), e.at())),
        )
        .chain(t.lifetimes.iter().flat_map(|l| {
            [l.last, l.ready, l.oom_kill]
                .into_iter()
                .flatten()
                .map(|c| (c.file(), c.at))
        }))
        .collect()
}

/// The root-cause write-up of `report` ([`commands::rca`]), built once
/// from the logs' analysis and the dump (already analysed) for every
/// format; `texts` holds the lines of [`postmortem_lines`].
fn postmortem(
    a: &PostmortemArgs,
    scope: &commands::rca::Scope,
    analysis: &crate::logs::Analysis,
    texts: &crate::logs::text::Texts,
    dump: Option<(&Summary, &[Finding])>,
) -> commands::rca::PostMortem {
    let t = &analysis.timeline;
    commands::rca::build(&commands::rca::Input {
        t,
        incidents: &analysis.incidents,
        texts,
        dump,
        scope,
        redacted: a.common.redact,
        top: a.top.max(1),
    })
}

/// `logs`'s arguments for the log half of `report`.
fn logs_args(a: &PostmortemArgs) -> crate::logs::cli::LogsArgs {
    let format = match a.format {
        PostmortemFormat::Markdown => crate::logs::cli::LogFormat::Markdown,
        PostmortemFormat::Text => crate::logs::cli::LogFormat::Text,
        PostmortemFormat::Html => crate::logs::cli::LogFormat::HtmlBody,
        PostmortemFormat::Json => crate::logs::cli::LogFormat::Json,
    };
    crate::logs::cli::LogsArgs {
        threads: a.common.threads,
        quiet: a.common.quiet,
        redact: a.common.redact,
        since: a.since.clone(),
        until: a.until.clone(),
        node: a.node.clone(),
        top: a.top.max(1),
        fail_on: a.fail_on.map(FailOn::severity),
        window_events: a.window_events,
        timeline_limit: a.timeline_limit,
        ..crate::logs::cli::LogsArgs::new(a.logs.clone(), format)
    }
}

fn run_postmortem(a: &PostmortemArgs, out: &mut dyn Write) -> u8 {
    if a.rdb.is_empty() && a.logs.is_empty() {
        eprintln!("redsleuth: report needs --rdb FILE…, --logs PATH…, or both");
        return EXIT_ERROR;
    }
    let (since, until) = match crate::logs::parse_window(a.since.as_deref(), a.until.as_deref()) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("redsleuth: {e}");
            return EXIT_ERROR;
        }
    };
    let scope = commands::rca::Scope {
        since,
        until,
        nodes: a.node.clone(),
    };
    let html = a.format == PostmortemFormat::Html;
    let json = a.format == PostmortemFormat::Json;
    let mut code = EXIT_OK;
    let mut failing = false;
    // The dump, analysed once for the write-up and the keyspace report.
    let mut dump = None;
    if !a.rdb.is_empty() {
        let opts = match options(a.top, &a.model, &a.common) {
            Ok(o) => o,
            Err(c) => return c,
        };
        let (summary, corrupt) =
            match analyze_files(&a.rdb, &opts, &rdb::KeyFilter::default(), &a.common) {
                Ok(x) => x,
                Err(c) => return c,
            };
        let findings = rdb::rules(&summary);
        failing |= fails(&findings, a.fail_on);
        if corrupt {
            code = EXIT_CORRUPT;
        }
        dump = Some((summary, findings));
    }
    // The logs, analysed once for the write-up and the log report: the
    // analysis holds, besides what `logs` lists, what the write-up reads.
    let logs = if a.logs.is_empty() {
        None
    } else {
        let args = logs_args(a);
        let mut plan = match crate::logs::plan(&args) {
            Ok(p) => p,
            Err(c) => return c,
        };
        // The dump's save, to hold what places it on the timeline.
        let ctime = dump
            .as_ref()
            .and_then(|(s, _)| s.sources.first())
            .and_then(|src| src.ctime)
            .map(|c| c * 1000);
        plan.opts.writeup = Some((commands::rca::DUMP_KINDS, ctime));
        let analysis = plan.analyze();
        Some((args, plan, analysis))
    };
    // The log half is rendered first (into memory), reading back the
    // lines the write-up quotes in the same pass, so that each compressed
    // input is decompressed once more, not twice.
    let mut log_half = Vec::new();
    let rendered = match &logs {
        Some((args, plan, analysis)) => {
            let also = postmortem_lines(analysis);
            match crate::logs::report_reading(args, plan, analysis, also, &mut log_half) {
                Ok((c, texts)) => {
                    let d = dump.as_ref().map(|(s, f)| (s, f.as_slice()));
                    Some((c, postmortem(a, &scope, analysis, &texts, d)))
                }
                Err(e) => return io_exit(e),
            }
        }
        None => None,
    };
    let pm = rendered.as_ref().map(|(_, pm)| pm);
    let head = match a.format {
        PostmortemFormat::Html => crate::html::page_start(out, "redsleuth post-incident report")
            .and_then(|()| writeln!(out, "<h1>Post-incident report</h1>")),
        PostmortemFormat::Markdown => writeln!(out, "# Post-incident report\n"),
        _ => Ok(()),
    };
    if let Err(e) = head {
        return io_exit(e);
    }
    if let Some(pm) = pm {
        let written = match a.format {
            PostmortemFormat::Markdown => commands::rca_render::markdown(pm, out),
            PostmortemFormat::Text => commands::rca_render::text(pm, out),
            PostmortemFormat::Html => commands::rca_render::html(pm, out),
            PostmortemFormat::Json => Ok(()),
        };
        if let Err(e) = written {
            return io_exit(e);
        }
    }
    let mut doc = serde_json::json!({
        "schema_version": crate::SCHEMA_VERSION,
        "tool": {"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")},
        "keyspace": null,
        "logs": null,
    });
    doc["postmortem"] = match pm {
        Some(pm) => match serde_json::to_value(pm) {
            Ok(v) => v,
            Err(e) => return io_exit(io::Error::other(e)),
        },
        None => serde_json::Value::Null,
    };
    if let Some((summary, findings)) = &dump {
        let written = match a.format {
            PostmortemFormat::Html => rdb::render_html_body(summary, findings, out),
            PostmortemFormat::Markdown => rdb::render_markdown(summary, findings, out),
            PostmortemFormat::Text => rdb::render_text(summary, findings, out),
            PostmortemFormat::Json => {
                doc["keyspace"] = summary.to_json(findings);
                Ok(())
            }
        };
        if let Err(e) = written {
            return io_exit(e);
        }
    }
    if let Some((c, _)) = rendered {
        match c {
            EXIT_ERROR => return EXIT_ERROR,
            EXIT_FINDINGS => failing = true,
            c => code = code.max(c),
        }
        if json {
            match serde_json::from_slice::<serde_json::Value>(&log_half) {
                Ok(v) => doc["logs"] = v,
                Err(e) => return io_exit(io::Error::other(e)),
            }
        } else if let Err(e) = writeln!(out).and_then(|()| out.write_all(&log_half)) {
            return io_exit(e);
        }
    }
    let tail = if html {
        crate::html::page_end(out)
    } else if json {
        serde_json::to_writer_pretty(&mut *out, &doc)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(out))
    } else {
        Ok(())
    };
    if let Err(e) = tail {
        return io_exit(e);
    }
    if code == EXIT_OK && failing {
        EXIT_FINDINGS
    } else {
        code
    }
}

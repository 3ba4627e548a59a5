//! `redsleuth rdb`: the keyspace report an on-call engineer runs first —
//! what filled memory, which pattern has no TTL, which keys are huge.
//!
//! Workers decode each value, estimate its memory and format its name in
//! parallel; the summary absorbs the results in file order, so the report is
//! identical for any `--threads`.

use std::io::{self, Write};

use crate::analyze::findings::{findings, human_bytes, Finding};
use crate::analyze::patterns::{normalize_key, normalize_shown};
use crate::analyze::summary::{KeyRecord, ServerInfo, SourceInfo, Summary, TTL_BUCKETS};
use crate::escape::Shown;
use crate::faults::{Checksum, Faults, ReadError};
use crate::html::escape as html;
use crate::memory::{Allocator, Model};
use crate::rdb::scan::Walk;
use crate::rdb::value::{with_inspected, Depth};
use crate::rdb::{self, Frame, Profile, RdbFile, Record};

/// How to analyze.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Keys per top-N list.
    pub top: usize,
    /// Hide key names.
    pub redact: bool,
    /// Memory model override (`--model`).
    pub model: Option<Profile>,
    /// Allocator (`--allocator`).
    pub allocator: Allocator,
    /// The server ran in cluster mode (`--cluster`).
    pub cluster: bool,
}

/// Which keys a report covers (`rdb --match/--db`); the default covers all.
#[derive(Debug, Clone, Default)]
pub struct KeyFilter {
    /// Redis glob over the key name.
    pub pattern: Option<Vec<u8>>,
    /// Database.
    pub db: Option<u64>,
}

impl KeyFilter {
    fn admits(&self, db: u64, key: &[u8]) -> bool {
        self.db.is_none_or(|d| d == db)
            && self
                .pattern
                .as_deref()
                .is_none_or(|p| crate::escape::glob_match(p, key))
    }
}

/// Analyzes one file into a summary. Faults are recorded in
/// `summary.errors`; what was read before them is kept.
pub fn analyze(
    file: &RdbFile<'_>,
    path: &str,
    pool: &rayon::ThreadPool,
    walk: Walk<'_>,
    opts: &Options,
    progress: &dyn Fn(u64),
) -> Summary {
    analyze_filtered(
        file,
        path,
        pool,
        walk,
        opts,
        &KeyFilter::default(),
        progress,
    )
}

/// [`analyze`] over the keys `filter` admits only: every section (keyspace,
/// types, patterns, top lists, TTL) covers those keys; faults and the
/// checksum still cover the whole file.
pub fn analyze_filtered(
    file: &RdbFile<'_>,
    path: &str,
    pool: &rayon::ThreadPool,
    walk: Walk<'_>,
    opts: &Options,
    filter: &KeyFilter,
    progress: &dyn Fn(u64),
) -> Summary {
    let profile = file.profile();
    let model =
        Model::new(opts.model.unwrap_or(profile), opts.allocator).with_cluster(opts.cluster);
    let depth = Depth {
        element_lengths: model.needs_element_lengths(),
    };
    let mut summary = Summary::new(opts.top);
    summary.redacted = opts.redact;
    let mut source = SourceInfo {
        path: path.to_string(),
        bytes: file.data().len() as u64,
        rdb_version: file.header().version,
        server: ServerInfo {
            family: format!("{:?}", profile.family).to_lowercase(),
            version: format!(
                "{}.{}.{}",
                profile.version.0, profile.version.1, profile.version.2
            ),
        },
        checksum: Checksum::default(),
        ..SourceInfo::default()
    };
    let work = |f: &Frame<'_>| -> Result<KeyRecord, rdb::Error> {
        let key = f
            .key
            .to_cow()
            .map_err(|e| rdb::Error::from_blob(e, f.offset, true))?;
        let (type_name, encoding, elements, memory, waste) =
            with_inspected(f, &profile, depth, |info| {
                (
                    info.type_name,
                    info.encoding,
                    info.elements,
                    model.key_memory(f, key.len() as u64, info),
                    rounding_waste(info, opts.allocator),
                )
            })?;
        let (pattern, plain_key) = if opts.redact {
            (normalize_key(&redacted_tokens(&key)), false)
        } else {
            let text = crate::escape::escaped(&key);
            let plain = matches!(text, std::borrow::Cow::Borrowed(_));
            (normalize_shown(&text), plain)
        };
        Ok(KeyRecord {
            db: f.db,
            pattern,
            plain_key,
            type_name,
            encoding,
            elements,
            memory,
            serialized: f.serialized_bytes,
            expire_ms: f.expire_ms,
            idle_s: f.idle_s,
            freq: f.freq,
            rounding_waste: waste,
        })
    };
    let mut eof = None;
    let mut now_ms = None;
    let (faults, crc) = rdb::scan::scan_with_checksum(
        file,
        pool,
        walk,
        work,
        |rec, res| match (rec, res) {
            (Record::Aux { key, value, .. }, _) => {
                let (k, v) = super::aux_text(key, value);
                match k.as_str() {
                    "ctime" => {
                        source.ctime = v.parse().ok();
                        now_ms = source.ctime.map(|c| c * 1000);
                    }
                    "used-mem" => source.used_mem = v.parse().ok(),
                    _ => {}
                }
                source.aux.push(k, v);
            }
            (Record::Key(f), Some(Ok(k))) => {
                // The key borrows the map (copied only when int-encoded or
                // compressed); it is formatted only if it enters a top list.
                let key = f.key.to_cow().unwrap_or_default();
                if filter.admits(f.db, &key) {
                    summary.absorb(&k, &Shown::new(&key, opts.redact, k.plain_key), now_ms)
                }
            }
            (Record::Key(_), Some(Err(e))) => summary.errors.push(ReadError::new(path, &e)),
            (
                Record::Eof {
                    offset, stored_crc, ..
                },
                _,
            ) => eof = Some((*offset, *stored_crc)),
            _ => {}
        },
        progress,
    );
    let found = Faults::from_scan(path, &faults);
    summary.errors.extend(found.errors);
    summary.errors.sort_by_key(|e| e.offset);
    summary.skipped.extend(found.skipped);
    if let Some((offset, stored)) = eof {
        let verdict = file.verify_checksum_with(offset, stored, crc);
        source.checksum = Checksum::from_verify(stored, &verdict);
        if let Err(e) = verdict {
            summary.errors.push(ReadError::new(path, &e));
        }
    }
    if opts.redact {
        source.aux = source.aux.redacted();
    }
    summary.sources.push(source);
    summary
}

/// What size-class rounding adds to a value's main allocations: the sds of a
/// raw string, a compact blob (allocated at its exact length when loaded),
/// each quicklist node. Dict entries and object headers have fixed sizes
/// that sit on class boundaries, so they add nothing here.
fn rounding_waste(info: &crate::rdb::value::ValueInfo, allocator: Allocator) -> u64 {
    let waste = |req: u64| allocator.usable(req).saturating_sub(req);
    let sds = |len: u64| match len {
        l if l < 256 => 3 + l + 1,
        l if l < 65_536 => 5 + l + 1,
        l => 9 + l + 1,
    };
    match info.encoding {
        "raw" if info.type_name == crate::rdb::value::TypeName::Builtin("string") => {
            waste(sds(info.shape.bytes))
        }
        "listpack" | "ziplist" | "intset" | "listpackex" | "zipmap" => waste(info.shape.bytes),
        "quicklist" => info.shape.nodes.iter().map(|&(b, _)| waste(b)).sum(),
        _ => 0,
    }
}

/// The pattern `rdb --redact` writes for keys of the plain `pattern` (as
/// shown: escaped, `*` for variables).
pub fn redact_pattern(pattern: &str) -> String {
    normalize_key(&redacted_tokens(&crate::escape::unescape_key(pattern)))
}

/// Under `--redact`, patterns are built from a key whose literal words are
/// replaced by stable pseudonyms, so structure (`<t1>:*:<t2>`, `<t3>_*`)
/// survives but no name does. A pseudonym is `w` and eight letters: no
/// digits, so it never reads as an identifier or a word with a number;
/// each `*` becomes `000`, which reads as one again.
fn redacted_tokens(key: &[u8]) -> Vec<u8> {
    let mut out = String::new();
    for t in crate::analyze::patterns::tokenize(key) {
        let mut word = String::new();
        let flush = |word: &mut String, out: &mut String| {
            if !word.is_empty() {
                let h = crate::escape::redact_key(word.as_bytes());
                out.push('w');
                // `<redacted:` then 16 hex digits: letters a–p for 8 of them.
                out.extend(h[10..18].bytes().map(|b| {
                    let v = (b as char).to_digit(16).unwrap_or(0) as u8;
                    char::from(b'a' + v)
                }));
                word.clear();
            }
        };
        for c in t.chars() {
            match c {
                '*' => {
                    flush(&mut word, &mut out);
                    out.push_str("000");
                }
                c if matches!(c, '.' | '-' | '_') || crate::analyze::patterns::is_sep(c) => {
                    flush(&mut word, &mut out);
                    out.push(c);
                }
                c => word.push(c),
            }
        }
        flush(&mut word, &mut out);
    }
    out.into_bytes()
}

/// Writes the text report.
pub fn render_text(s: &Summary, f: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    for src in &s.sources {
        writeln!(
            out,
            "{}: RDB {} from {} {}, {} bytes, checksum {}{}",
            src.path,
            src.rdb_version,
            src.server.family,
            src.server.version,
            src.bytes,
            src.checksum,
            src.used_mem
                .map(|u| format!(", used-mem {}", human_bytes(u)))
                .unwrap_or_default()
        )?;
    }
    let t = &s.total;
    writeln!(
        out,
        "\nKeyspace: {} keys, {} with TTL, {} estimated memory, {} serialized",
        t.keys,
        t.keys_with_ttl,
        human_bytes(t.memory_bytes),
        human_bytes(t.serialized_bytes)
    )?;
    for (db, (k, e)) in &s.dbs {
        writeln!(out, "  db {db}: {k} keys, {e} expires")?;
    }
    if !f.is_empty() {
        writeln!(out, "\nFindings")?;
        for x in f {
            let sev = format!("{:?}", x.severity);
            let sev = crate::color::paint(&sev, &sev);
            writeln!(out, "  [{sev}] {}: {}", x.id, x.summary)?;
            for e in &x.evidence {
                writeln!(out, "      evidence: {e}")?;
            }
        }
    }
    writeln!(out, "\nTypes")?;
    writeln!(
        out,
        "  {:<28} {:>10} {:>12} {:>7}",
        "type/encoding", "keys", "memory", "share"
    )?;
    for ((ty, enc), (k, m)) in &s.types {
        let share = crate::analyze::patterns::ratio(*m, t.memory_bytes) * 100.0;
        writeln!(
            out,
            "  {:<28} {:>10} {:>12} {:>6.1}%",
            format!("{ty}/{enc}"),
            k,
            human_bytes(*m),
            share
        )?;
    }
    writeln!(out, "\nPatterns (by memory)")?;
    writeln!(
        out,
        "  {:<36} {:>9} {:>11} {:>6} {:>8} {:>8}",
        "pattern", "keys", "memory", "share", "ttl keys", "ttl mem"
    )?;
    for (p, st) in s.patterns.patterns().iter().take(s.top) {
        writeln!(
            out,
            "  {:<36} {:>9} {:>11} {:>5.1}% {:>7.0}% {:>7.0}%",
            p,
            st.keys,
            human_bytes(st.memory_bytes),
            crate::analyze::patterns::ratio(st.memory_bytes, t.memory_bytes) * 100.0,
            st.ttl_coverage() * 100.0,
            st.ttl_coverage_bytes() * 100.0
        )?;
    }
    writeln!(out, "\nFragmentation clues")?;
    if let Some(used) = s.used_mem() {
        writeln!(
            out,
            "  used-mem at save time {} vs {} estimated for the keys ({:.2}x)",
            human_bytes(used),
            human_bytes(t.memory_bytes),
            used as f64 / t.memory_bytes.max(1) as f64
        )?;
    }
    writeln!(
        out,
        "  size-class rounding of values: {} ({:.1}% of the estimate)",
        human_bytes(s.rounding_waste),
        crate::analyze::patterns::ratio(s.rounding_waste, t.memory_bytes) * 100.0
    )?;
    if s.hashes_past_listpack.0 > 0 {
        writeln!(
            out,
            "  {} hashtable hashes just past the listpack limit hold {}",
            s.hashes_past_listpack.0,
            human_bytes(s.hashes_past_listpack.1)
        )?;
    }
    if s.idle.0 > 0 {
        writeln!(
            out,
            "  cold (idle >= 1 day or LFU decayed): {} of {} keys with access data",
            human_bytes(s.idle.1),
            s.idle.0
        )?;
    }
    writeln!(out, "\nTTL at snapshot time")?;
    for (b, (k, m)) in TTL_BUCKETS.iter().zip(s.ttl.iter()) {
        writeln!(out, "  {:<10} {:>10} keys {:>12}", b, k, human_bytes(*m))?;
    }
    writeln!(out, "\nBiggest keys by memory")?;
    for k in s.top_memory.items() {
        writeln!(
            out,
            "  {:>11}  {}/{}  {} elements  db {}  {}",
            human_bytes(k.memory_bytes),
            k.type_name,
            k.encoding,
            k.elements
                .map(|e| e.to_string())
                .unwrap_or_else(|| "?".into()),
            k.db,
            k.key
        )?;
    }
    if s.big_hashes.items().next().is_some() {
        writeln!(out, "\nBiggest hashes")?;
        for k in s.big_hashes.items() {
            writeln!(
                out,
                "  {:>11}  {:>9} fields  {}  db {}  {}",
                human_bytes(k.memory_bytes),
                k.elements.unwrap_or(0),
                k.encoding,
                k.db,
                k.key
            )?;
        }
    }
    for (ty, l) in &s.top_elements {
        writeln!(out, "\nBiggest {ty} keys by elements")?;
        for k in l.items().take(s.top) {
            writeln!(
                out,
                "  {:>10}  {:>11}  db {}  {}",
                k.elements.unwrap_or(0),
                human_bytes(k.memory_bytes),
                k.db,
                k.key
            )?;
        }
    }
    for e in &s.errors {
        writeln!(out, "\nerror: {e}")?;
    }
    for k in &s.skipped {
        writeln!(out, "skipped: {k}")?;
    }
    Ok(())
}

/// Writes the Markdown report.
pub fn render_markdown(s: &Summary, f: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    let t = &s.total;
    writeln!(out, "# Keyspace report\n")?;
    for src in &s.sources {
        writeln!(
            out,
            "- `{}`: RDB {} from {} {}, {} bytes, checksum {}",
            src.path,
            src.rdb_version,
            src.server.family,
            src.server.version,
            src.bytes,
            src.checksum
        )?;
    }
    writeln!(
        out,
        "\n{} keys, {} with a TTL, {} estimated memory.\n",
        t.keys,
        t.keys_with_ttl,
        human_bytes(t.memory_bytes)
    )?;
    if !f.is_empty() {
        writeln!(out, "## Findings\n")?;
        for x in f {
            writeln!(out, "- **{:?}** `{}`: {}", x.severity, x.id, x.summary)?;
            for e in &x.evidence {
                writeln!(out, "  - {e}")?;
            }
        }
        writeln!(out)?;
    }
    writeln!(out, "## Patterns\n\n| pattern | keys | memory | share | keys with TTL | memory with TTL |\n|---|---:|---:|---:|---:|---:|")?;
    for (p, st) in s.patterns.patterns().iter().take(s.top) {
        writeln!(
            out,
            "| `{}` | {} | {} | {:.1} % | {:.0} % | {:.0} % |",
            p.replace('|', "\\|"),
            st.keys,
            human_bytes(st.memory_bytes),
            crate::analyze::patterns::ratio(st.memory_bytes, t.memory_bytes) * 100.0,
            st.ttl_coverage() * 100.0,
            st.ttl_coverage_bytes() * 100.0
        )?;
    }
    writeln!(
        out,
        "\n## Types\n\n| type | encoding | keys | memory |\n|---|---|---:|---:|"
    )?;
    for ((ty, enc), (k, m)) in &s.types {
        writeln!(out, "| {ty} | {enc} | {k} | {} |", human_bytes(*m))?;
    }
    writeln!(
        out,
        "\n## Biggest keys\n\n| key | db | type | elements | memory |\n|---|---:|---|---:|---:|"
    )?;
    for k in s.top_memory.items() {
        writeln!(
            out,
            "| `{}` | {} | {}/{} | {} | {} |",
            k.key.replace('|', "\\|"),
            k.db,
            k.type_name,
            k.encoding,
            k.elements.map(|e| e.to_string()).unwrap_or_default(),
            human_bytes(k.memory_bytes)
        )?;
    }
    for t in extra_tables(s) {
        writeln!(out, "\n## {}\n", t.title)?;
        for n in &t.notes {
            writeln!(out, "{n}\n")?;
        }
        if t.rows.is_empty() {
            continue;
        }
        writeln!(out, "| {} |", t.head.join(" | "))?;
        writeln!(
            out,
            "|{}|",
            t.head
                .iter()
                .enumerate()
                .map(|(k, _)| if k < t.left { "---" } else { "---:" })
                .collect::<Vec<_>>()
                .join("|")
        )?;
        for r in &t.rows {
            let cells: Vec<String> = r
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    if t.code.contains(&k) {
                        format!("`{}`", c.replace('|', "\\|").replace('`', "'"))
                    } else {
                        c.replace('|', "\\|")
                    }
                })
                .collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
    }
    writeln!(
        out,
        "\n## TTL at snapshot time\n\n| remaining | keys | memory |\n|---|---:|---:|"
    )?;
    for (b, (k, m)) in TTL_BUCKETS.iter().zip(s.ttl.iter()) {
        writeln!(out, "| {b} | {k} | {} |", human_bytes(*m))?;
    }
    if !s.errors.is_empty() {
        writeln!(out, "\n## Faults in the input\n")?;
        for e in &s.errors {
            writeln!(out, "- error: `{e}`")?;
        }
        for k in &s.skipped {
            writeln!(out, "- skipped: {k}")?;
        }
    }
    Ok(())
}

/// A section of the report that Markdown and HTML render alike.
struct Table {
    title: String,
    notes: Vec<String>,
    head: Vec<&'static str>,
    /// Columns before this one are left-aligned.
    left: usize,
    /// Columns shown as code (key names).
    code: Vec<usize>,
    rows: Vec<Vec<String>>,
}

/// The sections text and JSON carry beyond patterns, types, the biggest
/// keys and TTL: keys per database, fragmentation clues, the biggest
/// hashes and the biggest keys by elements per type, each list cut at
/// `--top` as in every format.
fn extra_tables(s: &Summary) -> Vec<Table> {
    let t = &s.total;
    let mut out = vec![Table {
        title: "Databases".into(),
        notes: Vec::new(),
        head: vec!["db", "keys", "expires"],
        left: 0,
        code: Vec::new(),
        rows: s
            .dbs
            .iter()
            .map(|(db, (k, e))| vec![db.to_string(), k.to_string(), e.to_string()])
            .collect(),
    }];
    let mut notes = Vec::new();
    if let Some(used) = s.used_mem() {
        notes.push(format!(
            "used-mem at save time {} vs {} estimated for the keys ({:.2}x).",
            human_bytes(used),
            human_bytes(t.memory_bytes),
            used as f64 / t.memory_bytes.max(1) as f64
        ));
    }
    notes.push(format!(
        "Size-class rounding of values: {} ({:.1}% of the estimate).",
        human_bytes(s.rounding_waste),
        crate::analyze::patterns::ratio(s.rounding_waste, t.memory_bytes) * 100.0
    ));
    if s.hashes_past_listpack.0 > 0 {
        notes.push(format!(
            "{} hashtable hashes just past the listpack limit hold {}.",
            s.hashes_past_listpack.0,
            human_bytes(s.hashes_past_listpack.1)
        ));
    }
    if s.idle.0 > 0 {
        notes.push(format!(
            "Cold (idle >= 1 day or LFU decayed): {} of {} keys with access data.",
            human_bytes(s.idle.1),
            s.idle.0
        ));
    }
    out.push(Table {
        title: "Fragmentation clues".into(),
        notes,
        head: Vec::new(),
        left: 0,
        code: Vec::new(),
        rows: Vec::new(),
    });
    if s.big_hashes.items().next().is_some() {
        out.push(Table {
            title: "Biggest hashes".into(),
            notes: Vec::new(),
            head: vec!["key", "db", "encoding", "fields", "memory"],
            left: 3,
            code: vec![0],
            rows: s
                .big_hashes
                .items()
                .take(s.top)
                .map(|k| {
                    vec![
                        k.key.clone(),
                        k.db.to_string(),
                        k.encoding.to_string(),
                        k.elements.unwrap_or(0).to_string(),
                        human_bytes(k.memory_bytes),
                    ]
                })
                .collect(),
        });
    }
    for (ty, l) in &s.top_elements {
        out.push(Table {
            title: format!("Biggest {ty} keys by elements"),
            notes: Vec::new(),
            head: vec!["key", "db", "elements", "memory"],
            left: 1,
            code: vec![0],
            rows: l
                .items()
                .take(s.top)
                .map(|k| {
                    vec![
                        k.key.clone(),
                        k.db.to_string(),
                        k.elements.unwrap_or(0).to_string(),
                        human_bytes(k.memory_bytes),
                    ]
                })
                .collect(),
        });
    }
    out
}

/// Findings for a summary.
pub fn rules(s: &Summary) -> Vec<Finding> {
    findings(s)
}

/// Writes a self-contained HTML report (inline style, no scripts, no
/// external resources), for attaching to a ticket or opening offline.
pub fn render_html(s: &Summary, f: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    crate::html::page_start(out, "redsleuth keyspace report")?;
    render_html_body(s, f, out)?;
    crate::html::page_end(out)
}

/// The keyspace report as HTML elements, for a page of its own or for the
/// post-incident report beside the log analysis.
pub fn render_html_body(s: &Summary, f: &[Finding], out: &mut dyn Write) -> io::Result<()> {
    let t = &s.total;
    let share = |m: u64| crate::analyze::patterns::ratio(m, t.memory_bytes) * 100.0;
    writeln!(out, "<h1>Keyspace report</h1>")?;
    writeln!(out, "<ul>")?;
    for src in &s.sources {
        writeln!(
            out,
            "<li><code>{}</code>: RDB {} from {} {}, {} bytes, checksum {}</li>",
            html(&src.path),
            src.rdb_version,
            html(&src.server.family),
            html(&src.server.version),
            src.bytes,
            html(&src.checksum.to_string())
        )?;
    }
    writeln!(
        out,
        "</ul><p>{} keys, {} with a TTL, {} estimated memory.</p>",
        t.keys,
        t.keys_with_ttl,
        human_bytes(t.memory_bytes)
    )?;
    if !f.is_empty() {
        writeln!(out, "<h2>Findings</h2><ul>")?;
        for x in f {
            let sev = format!("{:?}", x.severity).to_lowercase();
            writeln!(
                out,
                "<li><b class=\"{sev}\">{sev}</b> <code>{}</code>: {}<ul>",
                x.id,
                html(&x.summary)
            )?;
            for e in &x.evidence {
                writeln!(out, "<li>{}</li>", html(e))?;
            }
            writeln!(out, "</ul></li>")?;
        }
        writeln!(out, "</ul>")?;
    }
    writeln!(
        out,
        "<h2>Patterns</h2><table><tr><th>pattern</th><th>keys</th><th>memory</th>\
         <th>share</th><th></th><th>keys with TTL</th><th>memory with TTL</th></tr>"
    )?;
    for (p, st) in s.patterns.patterns().iter().take(s.top) {
        let sh = share(st.memory_bytes);
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{sh:.1} %</td>\
             <td style=\"text-align:left\"><span class=\"bar\" style=\"width:{:.0}px\"></span></td>\
             <td>{:.0} %</td><td>{:.0} %</td></tr>",
            html(p),
            st.keys,
            human_bytes(st.memory_bytes),
            sh * 2.0,
            st.ttl_coverage() * 100.0,
            st.ttl_coverage_bytes() * 100.0
        )?;
    }
    writeln!(out, "</table><h2>Types</h2><table><tr><th>type</th><th>encoding</th><th>keys</th><th>memory</th></tr>")?;
    for ((ty, enc), (k, m)) in &s.types {
        writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{k}</td><td>{}</td></tr>",
            html(ty),
            html(enc),
            human_bytes(*m)
        )?;
    }
    writeln!(out, "</table><h2>Biggest keys</h2><table><tr><th>key</th><th>db</th><th>type</th><th>elements</th><th>memory</th></tr>")?;
    for k in s.top_memory.items() {
        writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}/{}</td><td>{}</td><td>{}</td></tr>",
            html(&k.key),
            k.db,
            html(&k.type_name),
            html(&k.encoding),
            k.elements.map(|e| e.to_string()).unwrap_or_default(),
            human_bytes(k.memory_bytes)
        )?;
    }
    writeln!(out, "</table>")?;
    for t in extra_tables(s) {
        writeln!(out, "<h2>{}</h2>", html(&t.title))?;
        for n in &t.notes {
            writeln!(out, "<p>{}</p>", html(n))?;
        }
        if t.rows.is_empty() {
            continue;
        }
        let head: String = t
            .head
            .iter()
            .map(|h| format!("<th>{}</th>", html(h)))
            .collect();
        writeln!(out, "<table><tr>{head}</tr>")?;
        for r in &t.rows {
            let cells: String = r
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    if t.code.contains(&k) {
                        format!("<td><code>{}</code></td>", html(c))
                    } else {
                        format!("<td>{}</td>", html(c))
                    }
                })
                .collect();
            writeln!(out, "<tr>{cells}</tr>")?;
        }
        writeln!(out, "</table>")?;
    }
    writeln!(out, "<h2>TTL at snapshot time</h2><table><tr><th>remaining</th><th>keys</th><th>memory</th></tr>")?;
    for (b, (k, m)) in TTL_BUCKETS.iter().zip(s.ttl.iter()) {
        writeln!(
            out,
            "<tr><td>{b}</td><td>{k}</td><td>{}</td></tr>",
            human_bytes(*m)
        )?;
    }
    writeln!(out, "</table>")?;
    for e in &s.errors {
        writeln!(
            out,
            "<p class=\"critical\">error: {}</p>",
            html(&e.to_string())
        )?;
    }
    for k in &s.skipped {
        writeln!(
            out,
            "<p class=\"critical\">skipped: {}</p>",
            html(&k.to_string())
        )?;
    }
    Ok(())
}

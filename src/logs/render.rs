//! Rendering: the timeline and incidents as text, JSON, Markdown or HTML.
//!
//! The last stage of the log flow. Pure functions of a [`Report`]; `--redact`
//! is applied here, to every piece of log text that reaches any output
//! (evidence lines, event text, summaries), so no format can leak a key name
//! or a client address the others hide.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::catalog::Severity;
use super::crash::Cite;
use super::line::format_ms;
use super::rules::{hms, Incident};
use super::text::Texts;
use super::timeline::{Event, Node, Timeline};

/// Everything rendered.
pub struct Report<'a> {
    /// The assembled timeline.
    pub t: &'a Timeline,
    /// Incidents after filtering.
    pub incidents: Vec<&'a Incident>,
    /// Events after filtering.
    pub events: Vec<&'a Event>,
    /// Hide key names and client addresses.
    pub redact: bool,
    /// Per-node cap on timeline events in text.
    pub top: usize,
    /// `--timeline-limit`: events listed at most (`usize::MAX`: no limit),
    /// and lifetimes listed per node in JSON.
    pub timeline_limit: usize,
    /// Events that matched the filters but were left out by the limit.
    pub events_omitted: usize,
    /// Non-fatal problems.
    pub errors: Vec<String>,
    /// Texts of the cited lines and listed events, read back from the inputs.
    pub texts: &'a Texts,
}

/// Masks what may be personal data in a log line: quoted strings (key names,
/// script names, argv), client identity fields (`addr=`, `laddr=`, `name=`,
/// `user=`, `lib-name=`, `lib-ver=`), IPv4 and IPv6 addresses, host names
/// (`host:port` after a replication word or with a `.`/`-` in it, dotted
/// names of three labels or a common top-level domain, the host field of a
/// syslog prefix, a Sentinel event's `host port`) and file paths of the host
/// (`/var/lib/redis/dump.rdb`, `./x`, `~/x`). Structure stays: the masks say
/// what stood there (`x.x.x.x`, `x::x`, `<host>`, `<path>`, `*redacted*`).
pub fn redact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let b = s.as_bytes();
    let sentinel_event = is_sentinel_event(s);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        // Quoted text: keep the quotes, hide the content. logfmt field
        // values (`message="…"`) are structure, not data: keep them.
        if (c == b'\'' || c == b'"') && !(c == b'"' && i > 0 && b[i - 1] == b'=') {
            if let Some(end) = s[i + 1..].find(c as char) {
                out.push(c as char);
                out.push_str("*redacted*");
                out.push(c as char);
                i += end + 2;
                continue;
            }
        }
        let rest = &s[i..];
        let prev = if i == 0 { None } else { Some(b[i - 1]) };
        if let Some(len) = path_len(rest, prev) {
            out.push_str("<path>");
            i += len;
            continue;
        }
        let at_word = prev.is_none_or(|p| !(p.is_ascii_alphanumeric() || p == b'-' || p == b'_'));
        if at_word {
            // Client fields.
            if let Some(k) = ["addr=", "laddr=", "name=", "user=", "lib-name=", "lib-ver="]
                .iter()
                .find(|k| rest.starts_with(**k))
            {
                out.push_str(k);
                out.push_str("*redacted*");
                let end = rest[k.len()..]
                    .find([' ', '\'', '"', ')', ','])
                    .map_or(rest.len(), |e| e + k.len());
                i += end;
                continue;
            }
            if prev.is_none_or(|p| p != b':' && p != b'.') {
                if let Some(len) = ipv6_len(rest) {
                    out.push_str("x::x");
                    i += len;
                    continue;
                }
            }
            if prev.is_none_or(|p| p != b'.') {
                if let Some(len) = ipv4_len(rest) {
                    out.push_str("x.x.x.x");
                    i += len;
                    continue;
                }
                if let Some(len) = host_len(s, i, sentinel_event) {
                    out.push_str("<host>");
                    i += len;
                    continue;
                }
            }
        }
        let ch = rest.chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// A path of the host file system starting here: `/a…`, `./a…`, `../a…`
/// or `~/a…` after a space, `=`, `:` or an opening bracket, up to a space,
/// quote, bracket or comma, less a sentence's trailing `.`/`:`.
fn path_len(rest: &str, prev: Option<u8>) -> Option<usize> {
    if prev.is_some_and(|p| !matches!(p, b' ' | b'\t' | b'=' | b':' | b'(' | b'[' | b'<' | b',')) {
        return None;
    }
    let b = rest.as_bytes();
    let body = if b.starts_with(b"/") {
        1
    } else if b.starts_with(b"./") || b.starts_with(b"~/") {
        2
    } else if b.starts_with(b"../") {
        3
    } else {
        return None;
    };
    let first = *b.get(body)?;
    if !(first.is_ascii_alphanumeric() || matches!(first, b'.' | b'_' | b'-' | b'/')) {
        return None;
    }
    let mut len = b
        .iter()
        .position(|&c| {
            c.is_ascii_whitespace()
                || matches!(
                    c,
                    b'\'' | b'"' | b'(' | b')' | b'[' | b']' | b',' | b';' | b'<' | b'>'
                )
        })
        .unwrap_or(b.len());
    while len > body && matches!(b[len - 1], b'.' | b':') {
        len -= 1;
    }
    // `//` alone (a URL's scheme separator) is no path.
    (len > body && b[..len].iter().any(|c| c.is_ascii_alphanumeric())).then_some(len)
}

/// An IPv6 address starting here (`::1`, `fe80::1`, `2001:db8::5`,
/// `::ffff:10.0.0.1`, the full eight-group form): hex groups of at most
/// four digits, with `::` or seven colons, so a time (`07:23:35.442`) or a
/// `key:value` is not one.
fn ipv6_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let run = b
        .iter()
        .take_while(|c| c.is_ascii_hexdigit() || **c == b':' || **c == b'.')
        .count();
    let mut cand = &s[..run];
    // A sentence's trailing colon or dot is not part of the address.
    while cand.ends_with('.') || (cand.ends_with(':') && !cand.ends_with("::")) {
        cand = &cand[..cand.len() - 1];
    }
    let colons = cand.bytes().filter(|&c| c == b':').count();
    if colons < 2 || !(cand.contains("::") || colons == 7) {
        return None;
    }
    if b.get(cand.len()).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let groups: Vec<&str> = cand.split(':').collect();
    let last = groups.len() - 1;
    for (k, g) in groups.iter().enumerate() {
        let ok = if k == last && g.contains('.') {
            ipv4_len(g) == Some(g.len())
        } else {
            g.len() <= 4 && g.bytes().all(|c| c.is_ascii_hexdigit())
        };
        if !ok {
            return None;
        }
    }
    if cand.contains(":::") || cand.matches("::").count() > 1 {
        return None;
    }
    Some(cand.len())
}

/// File-name extensions: `debug.c:530`, `dump.rdb`, `redis.conf` are names
/// of files, not hosts.
const FILE_EXTENSIONS: &[&str] = &[
    "c", "h", "cc", "cpp", "rs", "py", "lua", "rdb", "aof", "conf", "log", "pid", "sock", "so",
    "txt", "json", "gz", "lz4", "zst", "tmp", "manifest", "base", "incr", "sh", "md",
];

/// Top-level domains that make a two-label name (`cache.example.com` has
/// three labels and needs none) read as a host.
const TLDS: &[&str] = &[
    "com",
    "net",
    "org",
    "io",
    "local",
    "internal",
    "lan",
    "svc",
    "cloud",
    "dev",
    "corp",
    "home",
    "localdomain",
    "intra",
    "prod",
    "cluster",
];

/// Words after which a `name:port` is a replication peer.
const PEER_WORDS: &[&str] = &[
    "MASTER",
    "master",
    "PRIMARY",
    "primary",
    "replica",
    "Replica",
    "REPLICA",
    "slave",
    "Slave",
    "SLAVE",
    "to",
    "from",
    "with",
    "REPLICAOF",
    "SLAVEOF",
    "node",
    "Node",
];

/// A host name starting at `i` of `s`; see [`redact`] for the shapes.
fn host_len(s: &str, i: usize, sentinel_event: bool) -> Option<usize> {
    let b = s.as_bytes();
    let rest = &b[i..];
    if !rest.first()?.is_ascii_alphanumeric() {
        return None;
    }
    let mut len = rest
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'.' || **c == b'-')
        .count();
    while len > 0 && matches!(rest[len - 1], b'.' | b'-') {
        len -= 1;
    }
    let tok = &s[i..i + len];
    let after = &rest[len..];
    if after.first().is_some_and(|&c| c == b'_' || c == b'/')
        || !tok.bytes().any(|c| c.is_ascii_alphabetic())
    {
        return None;
    }
    let labels: Vec<&str> = tok.split('.').collect();
    let last = *labels.last()?;
    let is_file = labels.len() > 1 && FILE_EXTENSIONS.contains(&last.to_ascii_lowercase().as_str());
    if is_file {
        return None;
    }
    // A node id (40 hex digits) or a word of hex is not a host.
    if tok.len() >= 16 && tok.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let last_alpha = last.len() >= 2 && last.bytes().all(|c| c.is_ascii_alphabetic());
    if last_alpha
        && (labels.len() >= 3
            || (labels.len() == 2 && TLDS.contains(&last.to_ascii_lowercase().as_str())))
    {
        return Some(len);
    }
    // `name:port`, then a non-word: with a `.` or `-` in the name, or after
    // a replication word (`Connecting to MASTER cache:6379`); never at the
    // start of a line, where `key:value` pairs of INFO output stand.
    if let Some(port) = port_after(after, b':') {
        let prev_word = s[..i].split_whitespace().next_back().unwrap_or("");
        let prev_word = prev_word.trim_matches(|c: char| !c.is_ascii_alphanumeric());
        if i > 0 && port > 0 && (tok.contains(['.', '-']) || PEER_WORDS.contains(&prev_word)) {
            return Some(len);
        }
    }
    // Syslog prefix: `<host> <ident>[<pid>]:`.
    if after.first() == Some(&b' ') {
        let id = &after[1..];
        let n = id
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b'/'))
            .count();
        if n > 0 && id.get(n) == Some(&b'[') {
            let d = id[n + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if d > 0 && id.get(n + 1 + d) == Some(&b']') && id.get(n + 2 + d) == Some(&b':') {
                return Some(len);
            }
        }
        // Sentinel events name an instance as `<host> <port>`.
        if sentinel_event
            && port_after(after, b' ').is_some_and(|p| p > 0)
            && !tok.chars().all(|c| c.is_ascii_digit())
        {
            return Some(len);
        }
    }
    None
}

/// The port number after `sep` at the start of `after`, when a non-word
/// follows it.
fn port_after(after: &[u8], sep: u8) -> Option<u32> {
    if after.first() != Some(&sep) {
        return None;
    }
    let d = after[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    if d == 0
        || d > 5
        || after.get(1 + d).is_some_and(|c| {
            c.is_ascii_alphanumeric()
                || *c == b'.' && after.get(2 + d).is_some_and(|c| c.is_ascii_digit())
        })
    {
        return None;
    }
    std::str::from_utf8(&after[1..1 + d])
        .ok()?
        .parse()
        .ok()
        .filter(|&p| p <= 65535)
}

/// A Sentinel event line (`+sdown master mymaster 10.0.0.1 6379`,
/// `+switch-master …`): its instances are written as `host port`.
fn is_sentinel_event(s: &str) -> bool {
    s.split_whitespace().any(|w| {
        (w.starts_with('+') || w.starts_with('-'))
            && w.len() > 2
            && w[1..].bytes().all(|c| c.is_ascii_lowercase() || c == b'-')
    })
}

fn ipv4_len(s: &str) -> Option<usize> {
    let mut len = 0;
    for part in 0..4 {
        let d = s[len..].bytes().take_while(|c| c.is_ascii_digit()).count();
        if d == 0 || d > 3 {
            return None;
        }
        len += d;
        if part < 3 {
            if s.as_bytes().get(len) != Some(&b'.') {
                return None;
            }
            len += 1;
        }
    }
    if s.as_bytes()
        .get(len)
        .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
    {
        return None;
    }
    Some(len)
}

impl Report<'_> {
    fn txt<'s>(&self, s: &'s str) -> std::borrow::Cow<'s, str> {
        if self.redact {
            redact(s).into()
        } else {
            s.into()
        }
    }
    fn path(&self, c: &Cite) -> &str {
        self.t.files.get(c.file()).map_or("?", |f| f.path.as_str())
    }
    fn node_names(&self, nodes: &[usize]) -> Vec<&str> {
        nodes
            .iter()
            .map(|&n| self.t.nodes.get(n).map_or("?", |x| x.name.as_str()))
            .collect()
    }
    fn span(&self) -> (Option<i64>, Option<i64>) {
        self.t.span
    }
    fn line(&self, c: &Cite) -> std::borrow::Cow<'_, str> {
        self.txt(self.texts.get(c.file(), c.at))
    }
}

/// How a node's processes ended: each in order for a few, else a count per
/// way (`clean ×10483, crash ×5242`, in order of first appearance), so a
/// node restarted thousands of times still fits on one line.
pub(super) fn lifetime_ends(t: &Timeline, n: &Node) -> String {
    const LISTED: usize = 12;
    if n.is_kernel() {
        return "host kernel log (no server process)".to_string();
    }
    let ends = n.lifetimes.iter().map(|&l| t.lifetimes[l].end.name());
    if n.lifetime_count() <= LISTED as u64 {
        return ends.collect::<Vec<_>>().join(", ");
    }
    // Those a long archive no longer holds came first.
    let mut counts: Vec<(&str, u64)> = n.gone_ends.iter().map(|(e, k)| (e.name(), *k)).collect();
    for e in ends {
        match counts.iter_mut().find(|c| c.0 == e) {
            Some(c) => c.1 += 1,
            None => counts.push((e, 1)),
        }
    }
    counts
        .iter()
        .map(|(e, k)| format!("{e} ×{k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ts_str(ts: Option<i64>) -> String {
    ts.map_or_else(|| "?".to_string(), format_ms)
}

/// Text output.
pub fn text(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let t = r.t;
    let unparsed: u64 = t.files.iter().map(|f| f.unparsed).sum();
    let (a, b) = r.span();
    writeln!(
        w,
        "redsleuth logs: {} file(s), {} lines ({} without a log prefix), {} node(s), {} → {}",
        t.files.len(),
        t.lines,
        unparsed,
        t.server_nodes(),
        ts_str(a),
        ts_str(b)
    )?;
    for f in &t.files {
        if let Some(y) = &f.year_source {
            writeln!(
                w,
                "  note: {}: year of year-less timestamps from {y}",
                f.path
            )?;
        }
    }
    writeln!(w, "\nNodes")?;
    for n in &t.nodes {
        writeln!(
            w,
            "  {:<10} {:<10} {:<16} {} process lifetime(s) [{}]",
            n.name,
            n.mode.as_deref().unwrap_or("?"),
            n.version.as_deref().unwrap_or("?"),
            n.lifetime_count(),
            lifetime_ends(t, n)
        )?;
    }
    writeln!(w, "\nIncidents ({})", r.incidents.len())?;
    if r.incidents.is_empty() {
        writeln!(w, "  none at or above the chosen severity")?;
    }
    for (k, i) in r.incidents.iter().enumerate() {
        writeln!(
            w,
            "\n[{}] {} {}  {} → {}  {}",
            k + 1,
            crate::color::paint(&i.severity.name().to_uppercase(), i.severity.name()),
            i.kind,
            ts_str(i.start),
            hms(i.end),
            r.node_names(&i.nodes).join(", ")
        )?;
        writeln!(w, "    {}", r.txt(&i.summary))?;
        writeln!(w, "    evidence:")?;
        for c in &i.evidence {
            writeln!(w, "      {}:{}: {}", r.path(c), c.line(), r.line(c))?;
        }
    }
    writeln!(w, "\nTimeline (events of medium severity and above)")?;
    // Ordered by node, so that the `… more on` lines come out the same on
    // every run.
    let mut per_node = std::collections::BTreeMap::new();
    for e in &r.events {
        if e.severity < super::catalog::Severity::Medium {
            continue;
        }
        let cnt = per_node.entry(e.node()).or_insert(0usize);
        *cnt += 1;
        if *cnt > r.top {
            continue;
        }
        writeln!(
            w,
            "  {}  {:<10} {:<28} {}:{}",
            ts_str(e.ts()),
            t.nodes.get(e.node()).map_or("?", |n| n.name.as_str()),
            e.kind(),
            t.files[e.file()].path,
            e.line()
        )?;
    }
    for (n, cnt) in per_node {
        if cnt > r.top {
            writeln!(
                w,
                "  … {} more on {} (raise --top)",
                cnt - r.top,
                t.nodes[n].name
            )?;
        }
    }
    if r.events_omitted > 0 {
        writeln!(
            w,
            "  … {} more past --timeline-limit {} (the most severe are listed)",
            r.events_omitted, r.timeline_limit
        )?;
    }
    for e in &r.errors {
        writeln!(w, "error: {e}")?;
    }
    Ok(())
}

/// Markdown output with numbered citations.
pub fn markdown(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let t = r.t;
    let (a, b) = r.span();
    writeln!(w, "## Log analysis\n")?;
    writeln!(
        w,
        "{} file(s), {} lines, {} node(s), from {} to {}.\n",
        t.files.len(),
        t.lines,
        t.server_nodes(),
        ts_str(a),
        ts_str(b)
    )?;
    writeln!(w, "| node | mode | version | lifetimes | how each ended |")?;
    writeln!(w, "|---|---|---|---|---|")?;
    for n in &t.nodes {
        writeln!(
            w,
            "| `{}` | {} | {} | {} | {} |",
            n.name,
            n.mode.as_deref().unwrap_or("?"),
            n.version.as_deref().unwrap_or("?"),
            n.lifetime_count(),
            lifetime_ends(t, n)
        )?;
    }
    writeln!(w, "\n### Incidents\n")?;
    if r.incidents.is_empty() {
        writeln!(w, "No incidents at or above the chosen severity.")?;
    }
    let mut cites: Vec<Cite> = Vec::new();
    for i in &r.incidents {
        let mut num = |c: &Cite| -> String {
            let at = cites
                .iter()
                .position(|x| x.file() == c.file() && x.line() == c.line())
                .unwrap_or_else(|| {
                    cites.push(*c);
                    cites.len() - 1
                });
            format!("[{}]", at + 1)
        };
        let body = cited_prose(i, &mut num, &|t| r.txt(t).into_owned());
        let links = if i.caused_by.is_empty() {
            String::new()
        } else {
            format!(
                " (after {})",
                i.caused_by
                    .iter()
                    .map(|id| format!("#{id}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        writeln!(
            w,
            "- #{} **{}**{links} ({}, {} → {}, {}): {}",
            i.id,
            i.kind,
            i.severity.name(),
            ts_str(i.start),
            hms(i.end),
            r.node_names(&i.nodes)
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            body
        )?;
    }
    if !cites.is_empty() {
        writeln!(w, "\n### Evidence\n")?;
        for (k, c) in cites.iter().enumerate() {
            writeln!(
                w,
                "[{}] `{}:{}`: `{}`  ",
                k + 1,
                r.path(c),
                c.line(),
                r.line(c).replace('`', "'")
            )?;
        }
    }
    Ok(())
}

/// An incident's claims as prose, each followed by the numbers of the
/// lines it cites (`num` hands out one number per line, so a line cited
/// twice keeps its first); evidence no claim cites is listed after them.
pub fn cited_prose(
    i: &Incident,
    num: &mut dyn FnMut(&Cite) -> String,
    txt: &dyn Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    let mut used = vec![false; i.evidence.len()];
    for c in &i.claims {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&txt(&c.text));
        for &k in &c.cites {
            used[k] = true;
            out.push_str(&num(&i.evidence[k]));
        }
    }
    if i.claims.is_empty() {
        out.push_str(&txt(&i.summary));
    }
    let rest: String = used
        .iter()
        .enumerate()
        .filter(|(_, u)| !**u)
        .map(|(k, _)| num(&i.evidence[k]))
        .collect();
    if !rest.is_empty() {
        out.push_str(" Also cited: ");
        out.push_str(&rest);
        out.push('.');
    }
    out
}

fn cite_json(r: &Report, c: &Cite) -> Value {
    json!({ "file": r.path(c), "line": c.line(), "ts": c.ts().map(format_ms), "text": r.line(c) })
}

/// JSON output (the stable contract; additive changes only).
pub fn json_out(r: &Report, metrics: Value, w: &mut dyn Write) -> io::Result<()> {
    let t = r.t;
    let files: Vec<Value> = t
        .files
        .iter()
        .map(|f| {
            json!({"path": f.path, "set": f.set, "compression": f.compression, "bytes": f.bytes,
                   "lines": f.lines, "unparsed_lines": f.unparsed, "year_source": f.year_source,
                   "error": f.error})
        })
        .collect();
    let nodes: Vec<NodeJson> = t
        .nodes
        .iter()
        .map(|n| {
            // The latest lifetimes, when a node restarted more often than
            // the timeline lists.
            let listed = r.timeline_limit.min(super::timeline::LIFETIMES_LISTED);
            let skip = n.lifetimes.len().saturating_sub(listed);
            NodeJson {
                cluster_ids: &n.cluster_ids,
                files: n.files.iter().map(|&f| t.files[f].path.as_str()).collect(),
                lifetimes: Lifetimes(t, &n.lifetimes[skip..]),
                lifetimes_omitted: n.gone + skip as u64,
                mode: n.mode.as_deref(),
                name: &n.name,
                port: n.port,
                version: n.version.as_deref(),
            }
        })
        .collect();
    let incidents: Vec<Value> = r
        .incidents
        .iter()
        .map(|i| {
            let ev: Vec<Value> = i.evidence.iter().map(|c| cite_json(r, c)).collect();
            let claims: Vec<Value> = i
                .claims
                .iter()
                .map(|c| {
                    let numbers: Vec<Value> = c
                        .numbers
                        .iter()
                        .map(|n| json!({"value": n.value, "unit": n.unit}))
                        .collect();
                    json!({"text": r.txt(&c.text), "cites": c.cites, "numbers": numbers})
                })
                .collect();
            json!({"id": i.id, "kind": i.kind, "severity": i.severity.name(), "start": i.start.map(format_ms),
                   "end": i.end.map(format_ms), "nodes": r.node_names(&i.nodes),
                   "summary": r.txt(&i.summary), "claims": claims, "caused_by": i.caused_by,
                   "led_to": i.led_to, "evidence": ev})
        })
        .collect();
    let unparsed: Vec<Value> = t
        .unparsed
        .iter()
        .map(|(c, text)| {
            json!({ "file": r.path(c), "line": c.line(), "ts": c.ts().map(format_ms), "text": r.txt(text) })
        })
        .collect();
    // Keys in the order a JSON object map prints them (alphabetical), so
    // the output is the same as one whole document's; events are written
    // one at a time instead of being built as one tree first.
    #[derive(serde::Serialize)]
    struct Doc<'d> {
        errors: &'d [String],
        events: Events<'d>,
        files: Vec<Value>,
        incidents: Vec<Value>,
        lines: u64,
        metrics: Value,
        nodes: Vec<NodeJson<'d>>,
        schema_version: u32,
        tool: Value,
        unparsed_samples: Vec<Value>,
    }
    let doc = Doc {
        errors: &r.errors,
        events: Events(r),
        files,
        incidents,
        lines: t.lines,
        metrics,
        nodes,
        schema_version: crate::SCHEMA_VERSION,
        tool: json!({"name": "redsleuth", "version": env!("CARGO_PKG_VERSION")}),
        unparsed_samples: unparsed,
    };
    let mut bw = io::BufWriter::new(&mut *w);
    serde_json::to_writer_pretty(&mut bw, &doc)?;
    writeln!(bw)?;
    bw.flush()
}

/// A node in JSON, fields in the order a JSON object map prints them; its
/// lifetimes are written one by one, not built as a tree of maps first (a
/// node restarted 100 000 times made 100 MB of them on a 0.5 GiB archive).
#[derive(serde::Serialize)]
struct NodeJson<'d> {
    cluster_ids: &'d [String],
    files: Vec<&'d str>,
    lifetimes: Lifetimes<'d>,
    lifetimes_omitted: u64,
    mode: Option<&'d str>,
    name: &'d str,
    port: Option<u32>,
    version: Option<&'d str>,
}

/// The listed lifetimes of a node.
struct Lifetimes<'d>(&'d Timeline, &'d [usize]);

/// One lifetime in JSON (fields in map order, as [`NodeJson`]).
#[derive(serde::Serialize)]
struct LifetimeJson<'d> {
    end: &'static str,
    keys_loaded: Option<u64>,
    last: Option<String>,
    load_seconds: Option<f64>,
    pid: u32,
    ready: Option<String>,
    start: Option<String>,
    version: Option<&'d str>,
}

impl serde::Serialize for Lifetimes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let ts = |c: &Option<Cite>| c.as_ref().and_then(|c| c.ts()).map(format_ms);
        let mut seq = s.serialize_seq(Some(self.1.len()))?;
        for &l in self.1 {
            let lt = &self.0.lifetimes[l];
            seq.serialize_element(&LifetimeJson {
                end: lt.end.name(),
                keys_loaded: lt.keys_loaded.as_ref().map(|k| k.0),
                last: ts(&lt.last),
                load_seconds: lt.load_secs.as_ref().map(|k| k.0),
                pid: lt.pid,
                ready: ts(&lt.ready),
                start: ts(&lt.first),
                version: lt.version.as_deref(),
            })?;
        }
        seq.end()
    }
}

/// The listed events, serialized one by one.
struct Events<'d>(&'d Report<'d>);

impl serde::Serialize for Events<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.0.events.len()))?;
        for e in &self.0.events {
            seq.serialize_element(&event_json(self.0, e))?;
        }
        seq.end()
    }
}

fn event_json(r: &Report, e: &Event) -> Value {
    let t = r.t;
    let mut fields = serde_json::Map::new();
    for (k, v) in e.caps(t) {
        let val = match v {
            super::catalog::Cap::Num(n) => json!(n),
            super::catalog::Cap::Text(s) => json!(r.txt(s)),
        };
        fields.insert((*k).to_string(), val);
    }
    if let Some(ci) = e.crash() {
        let cr = &t.crashes[ci as usize];
        fields.insert("reason".into(), json!(cr.reason()));
        let frames: Vec<std::borrow::Cow<'_, str>> = cr.frames.iter().map(|f| r.txt(f)).collect();
        fields.insert("frames".into(), json!(frames));
        let info: serde_json::Map<String, Value> = cr
            .info_pairs()
            .map(|(k, v)| (k.to_string(), json!(r.txt(v))))
            .collect();
        fields.insert("info".into(), Value::Object(info));
        fields.insert(
            "command".into(),
            json!(cr.command.as_deref().map(|c| r.txt(c).into_owned())),
        );
        fields.insert("class".into(), json!(cr.class()));
        fields.insert("memtest_passed".into(), json!(cr.memtest));
    }
    json!({"ts": e.ts().map(format_ms), "node": t.nodes.get(e.node()).map(|n| n.name.as_str()),
           "file": t.files[e.file()].path, "line": e.line(),
           "level": e.level.map(|l| l.name()), "role": e.role.map(|x| x.name()),
           "kind": e.kind(), "id": e.id(), "severity": e.severity.name(), "pid": e.pid(),
           "fields": fields, "text": r.txt(r.texts.get(e.file(), e.at()))})
}

/// A self-contained HTML page: the log analysis of [`html_body`].
pub fn html(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    crate::html::page_start(w, "redsleuth log analysis")?;
    html_body(r, w)?;
    crate::html::page_end(w)
}

/// Fill colour of an incident bar by severity.
fn severity_colour(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "#b00",
        Severity::High => "#d33",
        Severity::Medium => "#e90",
        Severity::Low => "#49c",
        Severity::Info => "#9ab",
    }
}

/// The log analysis as HTML elements: summary line, a timeline with one
/// lane per node (incidents as bars, process starts as ticks), the node
/// table, every incident with its evidence lines, and the notable events.
pub fn html_body(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    use crate::html::escape as e;
    let t = r.t;
    let unparsed: u64 = t.files.iter().map(|f| f.unparsed).sum();
    let (a, b) = r.span();
    writeln!(w, "<h1>Log analysis</h1>")?;
    writeln!(
        w,
        "<p>{} file(s), {} lines ({} without a log prefix), {} node(s), from {} to {}.</p>",
        t.files.len(),
        t.lines,
        unparsed,
        t.server_nodes(),
        e(&ts_str(a)),
        e(&ts_str(b))
    )?;
    for f in &t.files {
        if let Some(y) = &f.year_source {
            writeln!(
                w,
                "<p class=\"info\">{}: year of year-less timestamps from {}</p>",
                e(&f.path),
                e(y)
            )?;
        }
    }
    if let (Some(a), Some(b)) = (a, b) {
        timeline_svg(r, a, b, w)?;
    }
    writeln!(
        w,
        "<h2>Nodes</h2><table><tr><th>node</th><th class=\"l\">mode</th>\
         <th class=\"l\">version</th><th>lifetimes</th><th class=\"l\">how each ended</th></tr>"
    )?;
    for n in &t.nodes {
        writeln!(
            w,
            "<tr><td><code>{}</code></td><td class=\"l\">{}</td><td class=\"l\">{}</td>\
             <td>{}</td><td class=\"l\">{}</td></tr>",
            e(&n.name),
            e(n.mode.as_deref().unwrap_or("?")),
            e(n.version.as_deref().unwrap_or("?")),
            n.lifetime_count(),
            e(&lifetime_ends(t, n))
        )?;
    }
    writeln!(w, "</table><h2>Incidents ({})</h2>", r.incidents.len())?;
    if r.incidents.is_empty() {
        writeln!(w, "<p>None at or above the chosen severity.</p>")?;
    }
    for (k, i) in r.incidents.iter().enumerate() {
        let sev = i.severity.name();
        writeln!(
            w,
            "<h3 id=\"incident-{}\">{}. <span class=\"{sev}\">{}</span> {}</h3>\
             <p>{} → {} · {}</p><p>{}</p><ol class=\"ev\">",
            k + 1,
            k + 1,
            sev.to_uppercase(),
            e(i.kind),
            e(&ts_str(i.start)),
            e(&hms(i.end)),
            e(&r.node_names(&i.nodes).join(", ")),
            e(&r.txt(&i.summary))
        )?;
        for c in &i.evidence {
            writeln!(
                w,
                "<li><code>{}:{}</code> <code>{}</code></li>",
                e(r.path(c)),
                c.line(),
                e(&r.line(c))
            )?;
        }
        writeln!(w, "</ol>")?;
    }
    writeln!(
        w,
        "<h2>Events of medium severity and above</h2><table><tr><th>time</th><th>node</th>\
         <th class=\"l\">kind</th><th class=\"l\">where</th></tr>"
    )?;
    let mut per_node = std::collections::BTreeMap::new();
    for ev in &r.events {
        if ev.severity < Severity::Medium {
            continue;
        }
        let cnt = per_node.entry(ev.node()).or_insert(0usize);
        *cnt += 1;
        if *cnt > r.top {
            continue;
        }
        writeln!(
            w,
            "<tr><td>{}</td><td><code>{}</code></td><td class=\"l {}\">{}</td>\
             <td class=\"l\"><code>{}:{}</code></td></tr>",
            e(&ts_str(ev.ts())),
            e(t.nodes.get(ev.node()).map_or("?", |n| n.name.as_str())),
            ev.severity.name(),
            e(ev.kind()),
            e(&t.files[ev.file()].path),
            ev.line()
        )?;
    }
    writeln!(w, "</table>")?;
    for (n, cnt) in per_node {
        if cnt > r.top {
            writeln!(
                w,
                "<p>… {} more on <code>{}</code> (raise --top)</p>",
                cnt - r.top,
                e(&t.nodes[n].name)
            )?;
        }
    }
    if r.events_omitted > 0 {
        writeln!(
            w,
            "<p>… {} more past --timeline-limit {} (the most severe are listed)</p>",
            r.events_omitted, r.timeline_limit
        )?;
    }
    for er in &r.errors {
        writeln!(w, "<p class=\"critical\">error: {}</p>", e(er))?;
    }
    Ok(())
}

/// One lane per node across the span `a..=b`: incidents as bars coloured
/// by severity (hover for kind and summary), process starts as grey ticks
/// when there are few enough to read.
fn timeline_svg(r: &Report, a: i64, b: i64, w: &mut dyn Write) -> io::Result<()> {
    use crate::html::escape as e;
    const WIDTH: f64 = 900.0;
    const LABEL: f64 = 90.0;
    const LANE: f64 = 24.0;
    const TICKS: usize = 2_000;
    let t = r.t;
    let span = (b - a).max(1) as f64;
    let x = |ts: i64| LABEL + (ts - a) as f64 / span * WIDTH;
    let height = LANE * t.nodes.len() as f64 + 24.0;
    writeln!(
        w,
        "<h2>Timeline</h2><svg width=\"{:.0}\" height=\"{height:.0}\" role=\"img\">",
        LABEL + WIDTH + 10.0
    )?;
    for (n, node) in t.nodes.iter().enumerate() {
        let y = LANE * n as f64;
        writeln!(
            w,
            "<text x=\"0\" y=\"{:.0}\">{}</text><line x1=\"{LABEL}\" x2=\"{:.0}\" y1=\"{:.0}\" y2=\"{:.0}\" stroke=\"#ddd\"/>",
            y + 16.0,
            e(&node.name),
            LABEL + WIDTH,
            y + 12.0,
            y + 12.0
        )?;
    }
    let starts: u64 = t.nodes.iter().map(|n| n.lifetime_count()).sum();
    if starts <= TICKS as u64 {
        for (n, node) in t.nodes.iter().enumerate() {
            let y = LANE * n as f64;
            for &l in &node.lifetimes {
                if let Some(ts) = t.lifetimes[l].first.as_ref().and_then(|c| c.ts()) {
                    writeln!(
                        w,
                        "<line x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{1:.0}\" y2=\"{2:.0}\" stroke=\"#888\"><title>process start {3}</title></line>",
                        x(ts),
                        y + 3.0,
                        y + 21.0,
                        e(&ts_str(Some(ts)))
                    )?;
                }
            }
        }
    }
    for (k, i) in r.incidents.iter().enumerate() {
        let Some(s) = i.start.or(i.end) else { continue };
        let end = i.end.unwrap_or(s).max(s);
        let (x1, x2) = (x(s), x(end));
        for &n in &i.nodes {
            writeln!(
                w,
                "<a href=\"#incident-{}\"><rect x=\"{x1:.1}\" y=\"{:.0}\" width=\"{:.1}\" height=\"12\" fill=\"{}\" opacity=\"0.85\"><title>{}. {} {}: {}</title></rect></a>",
                k + 1,
                LANE * n as f64 + 6.0,
                (x2 - x1).max(3.0),
                severity_colour(i.severity),
                k + 1,
                i.severity.name(),
                e(i.kind),
                e(&r.txt(&i.summary))
            )?;
        }
    }
    let y = LANE * t.nodes.len() as f64 + 14.0;
    writeln!(
        w,
        "<text x=\"{LABEL}\" y=\"{y:.0}\">{}</text><text x=\"{:.0}\" y=\"{y:.0}\" text-anchor=\"end\">{}</text></svg>",
        e(&ts_str(Some(a))),
        LABEL + WIDTH,
        e(&ts_str(Some(b)))
    )
}

#[cfg(test)]
mod redact_tests {
    use super::redact;

    #[test]
    fn hides_addresses_hosts_names_and_paths() {
        let cases = [
            (
                "Connecting to MASTER redis-0.redis.prod.svc:6379",
                "Connecting to MASTER <host>:6379",
            ),
            (
                "Connecting to MASTER cache:6379",
                "Connecting to MASTER <host>:6379",
            ),
            (
                "Replica [2001:db8::5]:6380 asks",
                "Replica [x::x]:6380 asks",
            ),
            ("Connecting to MASTER ::1:6379", "Connecting to MASTER x::x"),
            ("from ::ffff:10.0.0.1 now", "from x::x now"),
            ("Replica 10.0.0.7:6380 asks", "Replica x.x.x.x:6380 asks"),
            (
                "Nov 23 07:30:04 db-host-17 redis-server[5200]: ready",
                "Nov 23 07:30:04 <host> redis-server[5200]: ready",
            ),
            (
                "+sdown master mymaster redis-0.redis 6379",
                "+sdown master mymaster <host> 6379",
            ),
            (
                "(in server root dir /srv/acme/data) for saving",
                "(in server root dir <path>) for saving",
            ),
            ("config_file:/home/alice/redis.conf", "config_file:<path>"),
            ("Loading ./data/x.rdb.", "Loading <path>."),
            (
                "id=3 addr=127.0.0.1:5 name=worker user=bob cmd=get",
                "id=3 addr=*redacted* name=*redacted* user=*redacted* cmd=get",
            ),
            ("see cache.example.com for", "see <host> for"),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
    }

    #[test]
    fn keeps_what_is_no_personal_data() {
        for line in [
            "14973:M 23 Nov 2026 07:25:27.656 # ==> debug.c:530 is not true",
            "maxmemory:0",
            "hz:10",
            "total-vm:1048576kB, anon-rss:917504kB",
            "Redis version=7.0.15, bits=64, commit=00000000",
            "Loading RDB produced by version 7.0.15",
            "DB loaded from disk: 0.001 seconds",
            "Full resync from master: 8c0e4d4b3a9f5c2e1d0b7a6f5e4d3c2b1a0f9e8d:0",
            "Failed opening the temp RDB file temp-4130.rdb (in",
            "RAX:0000000000000000 RBX:00007f41e444524a",
            "MASTER <-> REPLICA sync: Finished with success",
            "at 07:23:35.442 and 1/2 of them",
            "vm.overcommit_memory = 1",
            "jemalloc-5.2.1 libc.so.6",
        ] {
            assert_eq!(redact(line), line);
        }
    }
}

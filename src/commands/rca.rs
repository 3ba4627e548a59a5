//! The root-cause write-up that opens `report`: the verdict, the failure
//! chain in cause order, and action items derived from the findings, every
//! claim cited `[n]` to a log line or a pattern statistic of the evidence
//! list (a line cited twice keeps one number).

use std::io::{self, Write};

use crate::analyze::findings::{human_bytes, Finding};
use crate::analyze::patterns::ratio;
use crate::analyze::Summary;
use crate::logs::render::{cited_prose, redact};
use crate::logs::rules::Incident;
use crate::logs::text::Texts;
use crate::logs::timeline::Timeline;

/// One entry of the evidence list.
enum Evidence {
    /// A log line: path, line number, text.
    Line(String, u64, String),
    /// A pattern statistic of the dump.
    Stat(String),
}

/// The evidence list, numbered in first-cited order.
#[derive(Default)]
struct Refs {
    list: Vec<Evidence>,
    lines: Vec<(usize, u64)>,
}

impl Refs {
    fn line(
        &mut self,
        t: &Timeline,
        texts: &Texts,
        redacted: bool,
        c: &crate::logs::crash::Cite,
    ) -> String {
        let key = (c.file(), c.line());
        let at = self
            .lines
            .iter()
            .position(|x| *x == key)
            .unwrap_or_else(|| {
                let path = t.files.get(c.file()).map_or("?", |f| f.path.as_str());
                let text = texts.get(c.file(), c.at);
                let text = if redacted {
                    redact(text)
                } else {
                    text.to_string()
                };
                self.list
                    .push(Evidence::Line(path.to_string(), c.line(), text));
                self.lines.push(key);
                self.lines.len() - 1
            });
        format!("[{}]", at + 1)
    }
    fn stat(&mut self, s: String) -> String {
        self.list.push(Evidence::Stat(s));
        self.lines.push((usize::MAX, self.list.len() as u64));
        format!("[{}]", self.list.len())
    }
}

/// The incidents of the failure chain: the root (an incident that explains
/// others and is explained by none, most severe first) and everything it
/// led to, in time order. Without links, the most severe incident alone.
fn chain(inc: &[Incident]) -> Vec<&Incident> {
    let by_id = |id: usize| inc.iter().find(|i| i.id == id);
    let root = inc
        .iter()
        .filter(|i| i.caused_by.is_empty() && !i.led_to.is_empty())
        .max_by_key(|i| (i.severity, std::cmp::Reverse(i.start)))
        .or_else(|| {
            inc.iter()
                .filter(|i| i.kind != "config_hazard")
                .max_by_key(|i| (i.severity, std::cmp::Reverse(i.start)))
        });
    let Some(root) = root else { return Vec::new() };
    let mut out = vec![root];
    let mut k = 0;
    while k < out.len() {
        for &id in &out[k].led_to {
            if let Some(n) = by_id(id) {
                if !out.iter().any(|x| x.id == n.id) {
                    out.push(n);
                }
            }
        }
        k += 1;
    }
    out.sort_by_key(|i| (i.start, i.id));
    out
}

/// Writes the write-up in Markdown: verdict, failure chain, action items,
/// evidence. `dump` is the keyspace summary and its findings, when a dump
/// was given.
pub fn markdown(
    t: &Timeline,
    inc: &[Incident],
    texts: &Texts,
    dump: Option<(&Summary, &[Finding])>,
    redacted: bool,
    w: &mut dyn Write,
) -> io::Result<()> {
    let txt = |s: &str| if redacted { redact(s) } else { s.to_string() };
    let mut refs = Refs::default();
    let steps = chain(inc);
    let node = |i: &Incident| {
        i.nodes
            .iter()
            .map(|&n| t.nodes.get(n).map_or("?", |x| x.name.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut chain_text = Vec::new();
    for i in &steps {
        let mut num = |c: &crate::logs::crash::Cite| refs.line(t, texts, redacted, c);
        chain_text.push(cited_prose(i, &mut num, &|s| txt(s)));
    }
    // The dump's share of memory without a TTL, when memory ran out.
    let memory_events = steps.iter().any(|i| {
        matches!(
            i.kind,
            "oom_kill" | "memory_growth" | "bgsave_killed" | "fork_failed"
        )
    });
    let mut no_ttl = None;
    if let Some((s, _)) = dump {
        let total = s.total.memory_bytes;
        if let Some((p, st)) = s
            .patterns
            .patterns()
            .into_iter()
            .filter(|(_, st)| st.ttl_coverage_bytes() < 0.1 && st.keys >= 10)
            .max_by_key(|(_, st)| st.memory_bytes)
        {
            let share = ratio(st.memory_bytes, total) * 100.0;
            let r = refs.stat(format!(
                "pattern `{p}`: {} keys, {} of {} estimated memory ({share:.1} %), {} keys with a TTL",
                st.keys,
                human_bytes(st.memory_bytes),
                human_bytes(total),
                st.keys_with_ttl
            ));
            no_ttl = Some((p, share, st.memory_bytes, r));
        }
    }
    writeln!(w, "## Verdict\n")?;
    match steps.first() {
        Some(root) => {
            let first = root
                .claims
                .first()
                .map_or(root.summary.as_str(), |c| c.text.as_str());
            let cites: String = root
                .claims
                .first()
                .map(|c| {
                    c.cites
                        .iter()
                        .map(|&k| refs.line(t, texts, redacted, &root.evidence[k]))
                        .collect()
                })
                .unwrap_or_default();
            let then: Vec<&str> = steps[1..].iter().map(|i| i.kind).collect();
            write!(
                w,
                "Root cause: **{}** on `{}`. {}{cites}",
                root.kind,
                node(root),
                txt(first)
            )?;
            if !then.is_empty() {
                write!(w, " It led to: {}.", then.join(" → "))?;
            }
            if let (Some((p, share, _, r)), true) = (&no_ttl, memory_events) {
                write!(
                    w,
                    " The dump shows pattern `{p}` holding {share:.1} % of memory with no TTL{r}."
                )?;
            }
            writeln!(w, "\n")?;
        }
        None => writeln!(w, "No incident in the logs.\n")?,
    }
    writeln!(w, "## Failure chain\n")?;
    for (i, text) in steps.iter().zip(&chain_text) {
        writeln!(
            w,
            "{}. #{} **{}** (`{}`, {}): {text}",
            steps.iter().position(|x| x.id == i.id).unwrap_or(0) + 1,
            i.id,
            i.kind,
            node(i),
            i.severity.name()
        )?;
    }
    writeln!(w, "\n## Action items\n")?;
    let mut actions: Vec<String> = Vec::new();
    if let Some((p, share, mem, r)) = &no_ttl {
        actions.push(format!(
            "**P1** Add a TTL to `{p}` (or cap it): it holds {share:.1} % of memory ({}) and none of it expires{r}.",
            human_bytes(*mem)
        ));
    }
    for i in &steps {
        for c in &i.claims {
            let cites: String = c
                .cites
                .iter()
                .map(|&k| refs.line(t, texts, redacted, &i.evidence[k]))
                .collect();
            if c.text.contains("were lost") {
                actions.push(format!(
                    "**P1** Enable AOF (`appendonly yes`) on `{}`: {}{cites}",
                    node(i),
                    txt(&c.text)
                ));
            } else if c.text.contains("-MISCONF") {
                actions.push(format!(
                    "**P2** Alert on `rdb_last_bgsave_status` on `{}`: {}{cites}",
                    node(i),
                    txt(&c.text)
                ));
            } else if c.text.contains("limit was reached") || c.text.contains("maxmemory") {
                actions.push(format!(
                    "**P1** Set memory headroom on `{}`: {}{cites}",
                    node(i),
                    txt(&c.text)
                ));
            } else if c.text.starts_with("A full resync followed") {
                actions.push(format!(
                    "**P2** Alert on replica lag on `{}`: {}{cites}",
                    node(i),
                    txt(&c.text)
                ));
            }
        }
    }
    if actions.is_empty() {
        writeln!(w, "None derived from the findings.")?;
    }
    for (k, a) in actions.iter().enumerate() {
        writeln!(w, "{}. {a}", k + 1)?;
    }
    writeln!(w, "\n## Evidence\n")?;
    for (k, e) in refs.list.iter().enumerate() {
        match e {
            Evidence::Line(p, l, text) => {
                writeln!(w, "[{}] `{p}:{l}`: `{}`  ", k + 1, text.replace('`', "'"))?
            }
            Evidence::Stat(s) => writeln!(w, "[{}] {s}  ", k + 1)?,
        }
    }
    writeln!(w)
}

//! The root-cause write-up that opens `report`: one [`PostMortem`] value,
//! built once from the log analysis and the dump, then written as
//! Markdown, text, JSON (the value itself) or HTML ([`super::rca_render`]).
//!
//! It reads in the order a post-mortem does: the verdict, the impact, the
//! failure chain in cause order, the timeline, the root cause with what
//! contributed, and action items derived from the findings; every claim is
//! cited `[n]` to one entry of the evidence list, a log line (`file:line`
//! and its text) or a pattern statistic of the dump, and a line cited twice
//! keeps one number.
//!
//! The dump is placed on the log timeline: its `ctime` names the save that
//! wrote it, the node's death says how old it was, the restart's `RDB age`
//! and key count say whether it is the file that was reloaded, and the key
//! counts logged after it say how much of the keyspace it does not hold.

use std::collections::HashMap;

use crate::analyze::findings::{human_bytes, Finding};
use crate::analyze::patterns::ratio;
use crate::analyze::Summary;
use crate::logs::crash::Cite;
use crate::logs::line::format_ms;
use crate::logs::render::redact;
use crate::logs::rules::{dur, hms, Incident};
use crate::logs::text::Texts;
use crate::logs::timeline::{EndClass, Event, Timeline};

/// The whole write-up; the JSON output is this value as serde writes it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PostMortem {
    /// The root incident and what it led to, in two or three sentences.
    pub verdict: Verdict,
    /// Downtime per node, data lost since the last save, keys lost.
    pub impact: Vec<Sentence>,
    /// Keyspace findings (when memory ran out) and the incidents from the
    /// root on, in time order.
    pub chain: Vec<Step>,
    /// The cited lines of the chain and the dump's events, by time.
    pub timeline: Vec<Row>,
    /// Where the dump sits on the log timeline, when one was given.
    pub dump: Option<DumpPlacement>,
    /// What started the chain.
    pub root_cause: Vec<Sentence>,
    /// What made it possible or worse.
    pub contributing: Vec<Sentence>,
    /// What to change, most urgent first, each from one finding.
    pub actions: Vec<Action>,
    /// The dump's patterns by memory (for the charts), most first.
    pub patterns: Vec<PatternShare>,
    /// Every cited entry; `[n]` is `evidence[n - 1]`.
    pub evidence: Vec<Evidence>,
    /// First and last time of the timeline (ms since the epoch, log clock).
    pub span_ms: Option<[i64; 2]>,
    /// Key names and client addresses are hidden.
    pub redacted: bool,
}

/// One sentence and the evidence numbers that back it.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Sentence {
    /// The claim.
    pub text: String,
    /// Evidence numbers (1-based).
    pub cites: Vec<usize>,
}

/// The verdict.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Verdict {
    /// The root incident's kind, when there is an incident.
    pub root: Option<String>,
    /// Its nodes.
    pub nodes: Vec<String>,
    /// The kinds it led to, in order.
    pub led_to: Vec<String>,
    /// The verdict's sentences after `Root cause: KIND on NODE.`.
    pub sentences: Vec<Sentence>,
}

/// One link of the failure chain.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Step {
    /// `logs` for an incident, `dump` for a keyspace finding.
    pub source: String,
    /// The incident's id (0 for a dump finding).
    pub id: usize,
    /// Incident kind or finding id.
    pub kind: String,
    /// Node names (the dump's file for a finding).
    pub nodes: Vec<String>,
    /// Severity name.
    pub severity: String,
    /// Start (`YYYY-MM-DD HH:MM:SS.mmm`).
    pub start: Option<String>,
    /// End.
    pub end: Option<String>,
    /// Start, ms.
    pub start_ms: Option<i64>,
    /// End, ms.
    pub end_ms: Option<i64>,
    /// Its claims, each with its citations.
    pub claims: Vec<Sentence>,
    /// Evidence no claim states, cited after them.
    pub also_cited: Vec<usize>,
    /// Ids of the incidents that explain it.
    pub caused_by: Vec<usize>,
    /// Ids of the incidents it explains.
    pub led_to: Vec<usize>,
}

/// One row of the timeline table.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Row {
    /// `YYYY-MM-DD HH:MM:SS.mmm`.
    pub time: String,
    /// The same, ms.
    pub ts_ms: Option<i64>,
    /// Node name.
    pub node: String,
    /// What happened (the event kind, or `dump ctime`).
    pub event: String,
    /// The incident it belongs to, if any.
    pub incident: Option<usize>,
    /// Evidence numbers.
    pub cites: Vec<usize>,
}

/// The dump on the log timeline.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct DumpPlacement {
    /// Path as given.
    pub file: String,
    /// `redis` or `valkey` and the version of the server that wrote it.
    pub server: String,
    /// `ctime` (log clock, `YYYY-MM-DD HH:MM:SS.mmm`).
    pub ctime: Option<String>,
    /// `ctime`, ms.
    pub ctime_ms: Option<i64>,
    /// `used-mem` AUX, bytes.
    pub used_mem: Option<u64>,
    /// `aof-base` AUX: the file is an AOF's base.
    pub aof_base: Option<bool>,
    /// `repl-id` AUX.
    pub repl_id: Option<String>,
    /// `repl-offset` AUX.
    pub repl_offset: Option<u64>,
    /// Keys in the dump.
    pub keys: u64,
    /// The node whose save wrote it.
    pub written_by: Option<String>,
    /// How old it was when that node died (ms).
    pub age_at_death_ms: Option<i64>,
    /// The node whose restart reloaded it.
    pub reloaded_by: Option<String>,
    /// Keys the logs counted after it beyond the dump's own.
    pub keys_written_after: Option<u64>,
    /// The above as cited sentences.
    pub sentences: Vec<Sentence>,
}

/// An action item.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Action {
    /// `P1` (do now) to `P3`.
    pub priority: String,
    /// What to do, with the numbers behind it.
    pub text: String,
    /// Evidence numbers.
    pub cites: Vec<usize>,
    /// The finding or incident kind it is derived from.
    pub from: String,
}

/// A pattern's share of the dump's memory.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct PatternShare {
    /// The pattern (redacted under `--redact`).
    pub pattern: String,
    /// Keys.
    pub keys: u64,
    /// Estimated memory, bytes.
    pub memory_bytes: u64,
    /// Share of the dump's memory, 0-1.
    pub share: f64,
    /// Share of its memory held by keys with a TTL, 0-1.
    pub ttl_coverage_bytes: f64,
}

/// One entry of the evidence list.
#[derive(Debug, Clone, serde::Serialize, schemars::JsonSchema)]
pub struct Evidence {
    /// Its number.
    pub n: usize,
    /// `line` or `statistic`.
    pub kind: String,
    /// The log file, for a line.
    pub file: Option<String>,
    /// The line number, for a line.
    pub line: Option<u64>,
    /// The line's text, or the statistic.
    pub text: String,
}

/// What the write-up covers: `--since`, `--until`, `--node`.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// Earliest time (ms).
    pub since: Option<i64>,
    /// Latest time (ms).
    pub until: Option<i64>,
    /// Node names or ports; empty for all.
    pub nodes: Vec<String>,
}

impl Scope {
    fn node_ok(&self, name: &str) -> bool {
        crate::logs::node_wanted(name, &self.nodes)
    }
    fn time_ok(&self, a: Option<i64>, b: Option<i64>) -> bool {
        crate::logs::in_window(a, b, self.since, self.until)
    }
}

/// The event kinds whose lines the dump's placement and the action items
/// may cite beyond the incidents' own.
pub const DUMP_KINDS: &[&str] = &[
    "full_resync",
    "sync_done",
    "db_saved",
    "bgsave_started",
    "bgsave_ok",
    "save_triggered",
    "rdb_age",
    "keys_loaded",
];

/// A reference before numbering.
#[derive(Clone, PartialEq)]
enum Ref {
    Line(usize, u64),
    Stat(String),
}

/// The evidence list under construction: numbers in registration order,
/// renumbered in document order at the end.
struct Refs<'a> {
    t: &'a Timeline,
    texts: &'a Texts,
    redacted: bool,
    list: Vec<(Ref, Evidence)>,
}

impl Refs<'_> {
    fn line(&mut self, c: &Cite) -> usize {
        let key = Ref::Line(c.file(), c.line());
        if let Some(k) = self.list.iter().position(|(r, _)| *r == key) {
            return k + 1;
        }
        let path = self.t.files.get(c.file()).map_or("?", |f| f.path.as_str());
        let text = self.texts.get(c.file(), c.at);
        let text = if self.redacted {
            redact(text)
        } else {
            text.to_string()
        };
        self.list.push((
            key,
            Evidence {
                n: 0,
                kind: "line".into(),
                file: Some(path.to_string()),
                line: Some(c.line()),
                text,
            },
        ));
        self.list.len()
    }
    fn stat(&mut self, s: String) -> usize {
        let key = Ref::Stat(s.clone());
        if let Some(k) = self.list.iter().position(|(r, _)| *r == key) {
            return k + 1;
        }
        self.list.push((
            key,
            Evidence {
                n: 0,
                kind: "statistic".into(),
                file: None,
                line: None,
                text: s,
            },
        ));
        self.list.len()
    }
}

/// The incidents of the failure chain: the root (an incident that explains
/// others and is explained by none, most severe first) and everything it
/// led to, in time order. Without links, the most severe incident alone.
fn chain<'i>(inc: &[&'i Incident]) -> Vec<&'i Incident> {
    let by_id = |id: usize| inc.iter().find(|i| i.id == id).copied();
    let root = inc
        .iter()
        .filter(|i| {
            !i.led_to.is_empty() && i.caused_by.iter().all(|c| inc.iter().all(|x| x.id != *c))
        })
        .max_by_key(|i| (i.severity, std::cmp::Reverse(i.start)))
        .or_else(|| {
            inc.iter()
                .filter(|i| i.kind != "config_hazard")
                .max_by_key(|i| (i.severity, std::cmp::Reverse(i.start)))
        });
    let Some(root) = root else { return Vec::new() };
    let mut out: Vec<&Incident> = vec![root];
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

/// Kinds that say memory (or what a fork needs) ran out: with one of them
/// in the chain, the keyspace that filled it is part of the story.
const MEMORY_KINDS: &[&str] = &[
    "oom_kill",
    "memory_exhaustion",
    "memory_growth",
    "bgsave_killed",
    "fork_failed",
];

/// Keyspace findings that explain memory running out.
const KEYSPACE_FINDINGS: &[&str] = &[
    "pattern-without-ttl",
    "keyspace-without-ttl",
    "big-key",
    "huge-hash",
    "overhead-beyond-dataset",
];

/// What the write-up is built from.
pub struct Input<'a> {
    /// The merged log timeline.
    pub t: &'a Timeline,
    /// Every incident of the analysis.
    pub incidents: &'a [Incident],
    /// The text of the lines that may be cited.
    pub texts: &'a Texts,
    /// The dump's summary and findings, when a dump was given.
    pub dump: Option<(&'a Summary, &'a [Finding])>,
    /// `--since/--until/--node`.
    pub scope: &'a Scope,
    /// `--redact`.
    pub redacted: bool,
    /// `--top`: patterns kept for the charts.
    pub top: usize,
}

/// Builds the write-up.
pub fn build(inp: &Input) -> PostMortem {
    let t = inp.t;
    let scope = inp.scope;
    let txt = |s: &str| {
        if inp.redacted {
            redact(s)
        } else {
            s.to_string()
        }
    };
    let name = |n: usize| t.nodes.get(n).map_or("?", |x| x.name.as_str());
    let scoped: Vec<&Incident> = inp
        .incidents
        .iter()
        .filter(|i| {
            (i.nodes.is_empty() && scope.nodes.is_empty())
                || i.nodes.iter().any(|&n| scope.node_ok(name(n)))
        })
        .filter(|i| scope.time_ok(i.start, i.end))
        .collect();
    let steps = chain(&scoped);
    let mut refs = Refs {
        t,
        texts: inp.texts,
        redacted: inp.redacted,
        list: Vec::new(),
    };
    let nodes_of =
        |i: &Incident| -> Vec<String> { i.nodes.iter().map(|&n| name(n).to_string()).collect() };
    // A fork refused for a task limit (EAGAIN) is not memory running out.
    let memory_event = steps.iter().any(|i| {
        MEMORY_KINDS.contains(&i.kind)
            && !i
                .claims
                .iter()
                .any(|c| c.text.contains("not a memory problem"))
    }) || t.crashes.iter().any(|c| {
        c.info("mem_fragmentation_ratio")
            .and_then(|v| v.trim().parse::<f64>().ok())
            .is_some_and(|r| r >= 1.5)
    });

    // The dump's biggest pattern without a TTL, and the pattern shares.
    let mut no_ttl = None;
    let mut patterns = Vec::new();
    if let Some((s, _)) = inp.dump {
        let total = s.total.memory_bytes;
        let mut all = s.patterns.patterns();
        all.sort_by(|a, b| b.1.memory_bytes.cmp(&a.1.memory_bytes).then(a.0.cmp(&b.0)));
        if let Some((p, st)) = all
            .iter()
            .filter(|(_, st)| st.ttl_coverage_bytes() < 0.1 && st.keys >= 10)
            .max_by_key(|(_, st)| st.memory_bytes)
        {
            let share = ratio(st.memory_bytes, total) * 100.0;
            no_ttl = Some((p.clone(), share, st.memory_bytes, st.keys, st.keys_with_ttl));
        }
        patterns = all
            .iter()
            .take(inp.top.max(1))
            .map(|(p, st)| PatternShare {
                pattern: p.clone(),
                keys: st.keys,
                memory_bytes: st.memory_bytes,
                share: ratio(st.memory_bytes, total),
                ttl_coverage_bytes: st.ttl_coverage_bytes(),
            })
            .collect();
    }
    let no_ttl_stat = |refs: &mut Refs| {
        no_ttl.as_ref().map(|(p, share, mem, keys, with)| {
            let total = inp.dump.map_or(0, |(s, _)| s.total.memory_bytes);
            refs.stat(format!(
                "pattern `{p}`: {keys} keys, {} of {} estimated memory ({share:.1} %), {with} keys with a TTL",
                human_bytes(*mem),
                human_bytes(total),
            ))
        })
    };

    // Verdict.
    let mut verdict = Verdict {
        root: None,
        nodes: Vec::new(),
        led_to: Vec::new(),
        sentences: Vec::new(),
    };
    if let Some(root) = steps.first() {
        verdict.root = Some(root.kind.to_string());
        verdict.nodes = nodes_of(root);
        verdict.led_to = steps[1..].iter().map(|i| i.kind.to_string()).collect();
        let (text, cites) = root.claims.first().map_or_else(
            || (root.summary.clone(), Vec::new()),
            |c| {
                (
                    c.text.clone(),
                    c.cites
                        .iter()
                        .map(|&k| refs.line(&root.evidence[k]))
                        .collect(),
                )
            },
        );
        verdict.sentences.push(Sentence {
            text: txt(&text),
            cites,
        });
        // What the root refused or lost, as the root itself states it.
        for c in root
            .claims
            .iter()
            .skip(1)
            .filter(|c| c.text.contains("-MISCONF"))
        {
            verdict.sentences.push(Sentence {
                text: txt(&c.text),
                cites: c
                    .cites
                    .iter()
                    .map(|&k| refs.line(&root.evidence[k]))
                    .collect(),
            });
        }
        if !verdict.led_to.is_empty() {
            verdict.sentences.push(Sentence {
                text: format!("It led to: {}.", verdict.led_to.join(" → ")),
                cites: Vec::new(),
            });
        }
        if memory_event {
            if let (Some(r), Some((p, share, ..))) = (no_ttl_stat(&mut refs), &no_ttl) {
                verdict.sentences.push(Sentence {
                    text: format!(
                        "The dump shows pattern `{p}` holding {share:.1} % of memory with no TTL."
                    ),
                    cites: vec![r],
                });
            }
        }
    }

    // The dump on the timeline (its sentences feed the impact too).
    let placement = inp
        .dump
        .and_then(|(s, _)| place_dump(t, s, scope, &mut refs));

    // Impact.
    let mut impact = Vec::new();
    let chain_nodes: Vec<usize> = steps.iter().flat_map(|i| i.nodes.iter().copied()).collect();
    for (n, node) in t.nodes.iter().enumerate() {
        if !chain_nodes.contains(&n) || node.is_kernel() {
            continue;
        }
        for (k, &l) in node.lifetimes.iter().enumerate() {
            let lt = &t.lifetimes[l];
            if matches!(lt.end, EndClass::Clean | EndClass::Running) {
                continue;
            }
            let died = lt.oom_kill.or(lt.last);
            let Some(died) = died else { continue };
            if !scope.time_ok(died.ts(), died.ts()) {
                continue;
            }
            let next = node.lifetimes.get(k + 1).map(|&x| &t.lifetimes[x]);
            let mut cites = vec![refs.line(&died)];
            let text = match next.and_then(|x| x.ready) {
                Some(ready) => {
                    cites.push(refs.line(&ready));
                    format!(
                        "{} was down for {}: {} at {}, serving again at {}.",
                        node.name,
                        dur(died.ts(), ready.ts()),
                        lt.end.name(),
                        hms(died.ts()),
                        hms(ready.ts())
                    )
                }
                None => format!(
                    "{} stopped at {} ({}) and did not come back within the logs.",
                    node.name,
                    hms(died.ts()),
                    lt.end.name()
                ),
            };
            impact.push(Sentence { text, cites });
        }
    }
    if let Some(p) = &placement {
        // The placement's sentences speak of "it"; here the dump is named.
        for s in p.1.iter().filter(|s| s.1) {
            let text = match s.0.text.strip_prefix("It ") {
                Some(rest) => format!("The dump {rest}"),
                None => s.0.text.clone(),
            };
            impact.push(Sentence {
                text: text.replace(" after it:", " after the dump:"),
                cites: s.0.cites.clone(),
            });
        }
    }
    for i in &steps {
        for c in &i.claims {
            let lost = c.text.contains("were lost")
                && placement.as_ref().is_none_or(|p| p.0.reloaded_by.is_none());
            if lost || c.text.contains("-MISCONF") || i.kind == "cold_start" {
                impact.push(Sentence {
                    text: txt(&c.text),
                    cites: c.cites.iter().map(|&k| refs.line(&i.evidence[k])).collect(),
                });
            }
        }
    }

    // Failure chain: the keyspace findings first when memory ran out.
    let mut chain_steps = Vec::new();
    if memory_event {
        if let Some((s, findings)) = inp.dump {
            let file = s
                .sources
                .first()
                .map(|x| x.path.clone())
                .unwrap_or_default();
            for f in findings
                .iter()
                .filter(|f| KEYSPACE_FINDINGS.contains(&f.id))
            {
                let cites: Vec<usize> = f
                    .evidence
                    .iter()
                    .take(3)
                    .map(|e| refs.stat(e.clone()))
                    .collect();
                chain_steps.push(Step {
                    source: "dump".into(),
                    id: 0,
                    kind: f.id.to_string(),
                    nodes: vec![file.clone()],
                    severity: f.severity.name().to_string(),
                    start: None,
                    end: None,
                    start_ms: None,
                    end_ms: None,
                    claims: vec![Sentence {
                        text: format!("{}.", f.summary.trim_end_matches('.')),
                        cites,
                    }],
                    also_cited: Vec::new(),
                    caused_by: Vec::new(),
                    led_to: Vec::new(),
                });
            }
        }
    }
    for i in &steps {
        let mut used = vec![false; i.evidence.len()];
        let claims: Vec<Sentence> = i
            .claims
            .iter()
            .map(|c| Sentence {
                text: txt(&c.text),
                cites: c
                    .cites
                    .iter()
                    .map(|&k| {
                        used[k] = true;
                        refs.line(&i.evidence[k])
                    })
                    .collect(),
            })
            .collect();
        let claims = if claims.is_empty() {
            vec![Sentence {
                text: txt(&i.summary),
                cites: Vec::new(),
            }]
        } else {
            claims
        };
        let also: Vec<usize> = used
            .iter()
            .enumerate()
            .filter(|(_, u)| !**u)
            .map(|(k, _)| refs.line(&i.evidence[k]))
            .collect();
        chain_steps.push(Step {
            source: "logs".into(),
            id: i.id,
            kind: i.kind.to_string(),
            nodes: nodes_of(i),
            severity: i.severity.name().to_string(),
            start: i.start.map(format_ms),
            end: i.end.map(format_ms),
            start_ms: i.start,
            end_ms: i.end,
            claims,
            also_cited: also,
            caused_by: i.caused_by.clone(),
            led_to: i.led_to.clone(),
        });
    }

    // Timeline: every line the chain cites, and the dump's events.
    let at_line: HashMap<(usize, u64), usize> = t
        .events
        .iter()
        .enumerate()
        .map(|(k, e)| ((e.file(), e.line()), k))
        .collect();
    let mut rows: Vec<Row> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut push_row = |refs: &mut Refs, c: &Cite, incident: Option<usize>, rows: &mut Vec<Row>| {
        if !seen.insert((c.file(), c.line())) {
            return;
        }
        let (node, event) = match at_line.get(&(c.file(), c.line())).map(|&k| &t.events[k]) {
            Some(e) => (name(e.node()).to_string(), e.kind().to_string()),
            None => {
                let node = t
                    .nodes
                    .iter()
                    .find(|n| n.files.contains(&c.file()))
                    .map_or("?".to_string(), |n| n.name.clone());
                (node, "line".to_string())
            }
        };
        rows.push(Row {
            time: c.ts().map_or("?".into(), format_ms),
            ts_ms: c.ts(),
            node,
            event,
            incident,
            cites: vec![refs.line(c)],
        });
    };
    for i in &steps {
        for c in &i.evidence {
            push_row(&mut refs, c, Some(i.id), &mut rows);
        }
    }
    if let Some((p, _, cites)) = &placement {
        for c in cites {
            push_row(&mut refs, c, None, &mut rows);
        }
        if let Some(ms) = p.ctime_ms {
            rows.push(Row {
                time: format_ms(ms),
                ts_ms: Some(ms),
                node: p.written_by.clone().unwrap_or_else(|| "?".into()),
                event: "dump ctime".into(),
                incident: None,
                cites: Vec::new(),
            });
        }
    }
    rows.sort_by_key(|r| (r.ts_ms.unwrap_or(i64::MAX), r.ts_ms.is_none()));

    // Root cause and contributing factors.
    let mut root_cause = Vec::new();
    if let Some(root) = steps.first() {
        for c in root.claims.iter().take(2) {
            root_cause.push(Sentence {
                text: txt(&c.text),
                cites: c
                    .cites
                    .iter()
                    .map(|&k| refs.line(&root.evidence[k]))
                    .collect(),
            });
        }
    }
    let mut contributing = Vec::new();
    if memory_event {
        if let (Some((p, share, mem, ..)), Some(r)) = (&no_ttl, no_ttl_stat(&mut refs)) {
            contributing.push(Sentence {
                text: format!(
                    "Keys without a TTL filled the memory: pattern `{p}` holds {share:.1} % of the dump's memory ({}) and none of it expires.",
                    human_bytes(*mem)
                ),
                cites: vec![r],
            });
        }
        if let Some((_, findings)) = inp.dump {
            for f in findings
                .iter()
                .filter(|f| matches!(f.id, "big-key" | "huge-hash" | "overhead-beyond-dataset"))
            {
                let cites = f
                    .evidence
                    .iter()
                    .take(1)
                    .map(|e| refs.stat(e.clone()))
                    .collect();
                contributing.push(Sentence {
                    text: format!("{}.", f.summary.trim_end_matches('.')),
                    cites,
                });
            }
        }
    }
    for i in scoped
        .iter()
        .filter(|i| i.kind == "config_hazard" && i.nodes.iter().any(|n| chain_nodes.contains(n)))
    {
        if let Some(c) = i.claims.first() {
            contributing.push(Sentence {
                text: txt(&c.text),
                cites: c.cites.iter().map(|&k| refs.line(&i.evidence[k])).collect(),
            });
        }
    }

    // Action items, from the findings.
    let mut actions = Vec::new();
    if let Some((p, share, mem, ..)) = &no_ttl {
        if let Some(r) = no_ttl_stat(&mut refs) {
            actions.push(Action {
                priority: if memory_event { "P1" } else { "P2" }.into(),
                text: format!(
                    "Add a TTL to `{p}` (or cap it): it holds {share:.1} % of memory ({}) and none of it expires.",
                    human_bytes(*mem)
                ),
                cites: vec![r],
                from: "pattern-without-ttl".into(),
            });
        }
    }
    let node_list = |i: &Incident| nodes_of(i).join(", ");
    for i in &steps {
        for c in &i.claims {
            let cites: Vec<usize> = c.cites.iter().map(|&k| refs.line(&i.evidence[k])).collect();
            let text = txt(&c.text);
            let (pri, what) = if c.text.contains("were lost") {
                (
                    "P1",
                    format!("Enable AOF (`appendonly yes`) on `{}`", node_list(i)),
                )
            } else if c.text.contains("-MISCONF") {
                (
                    "P2",
                    format!("Alert on `rdb_last_bgsave_status` on `{}`", node_list(i)),
                )
            } else if c.text.contains("pids.max") {
                (
                    "P1",
                    format!(
                        "Raise the task limit (`pids.max`, `RLIMIT_NPROC`) of `{}`",
                        node_list(i)
                    ),
                )
            } else if c.text.contains("limit was reached") || c.text.contains("maxmemory") {
                ("P1", format!("Set memory headroom on `{}`", node_list(i)))
            } else if c.text.starts_with("A full resync followed")
                || i.kind.starts_with("full_resync")
            {
                ("P2", format!("Alert on replica lag on `{}`", node_list(i)))
            } else {
                continue;
            };
            if actions.iter().any(|a: &Action| a.text.starts_with(&what)) {
                continue;
            }
            // The dump says how much was lost, with the lines behind it.
            let reloaded = placement.as_ref().filter(|p| {
                c.text.contains("were lost")
                    && p.0.reloaded_by.as_deref() == Some(node_list(i).as_str())
            });
            let (text, cites) = match reloaded.and_then(|p| Some((p, p.0.age_at_death_ms?))) {
                Some((p, age)) => {
                    let cites: Vec<usize> =
                        p.1.iter()
                            .filter(|s| {
                                s.0.text.starts_with("It was ")
                                    || s.0.text.starts_with("It is the file")
                            })
                            .flat_map(|s| s.0.cites.iter().copied())
                            .collect();
                    (
                        format!(
                            "it came back from the dump of {}, {} old when it died: the writes of those {} were lost on it.",
                            p.0.ctime_ms.map_or("?".into(), |m| hms(Some(m))),
                            dur(Some(0), Some(age)),
                            dur(Some(0), Some(age))
                        ),
                        cites,
                    )
                }
                None => (text, cites),
            };
            actions.push(Action {
                priority: pri.into(),
                text: format!("{what}: {text}"),
                cites,
                from: i.kind.to_string(),
            });
        }
    }
    // Replica lag: how long each full resync of a chain node took, from
    // `Full resync from primary` to `sync: Finished with success`.
    if let Some(from) = steps.first().and_then(|r| r.start) {
        // The ends of resyncs by node and kind, in timeline order: a scan
        // of every event per resync was most of a long archive's write-up.
        let mut ends: HashMap<(usize, &str), Vec<&Event>> = HashMap::new();
        for x in &t.events {
            if matches!(x.kind(), "sync_done" | "keys_loaded") {
                ends.entry((x.node(), x.kind())).or_default().push(x);
            }
        }
        for e in t.events.iter().filter(|e| {
            e.kind() == "full_resync"
                && chain_nodes.contains(&e.node())
                && e.ts().is_some_and(|x| x >= from)
                && scope.time_ok(e.ts(), e.ts())
        }) {
            let after = |k: &str| {
                ends.get(&(e.node(), k)).and_then(|xs| {
                    let from = xs.partition_point(|x| x.ts() < e.ts());
                    xs[from..]
                        .iter()
                        .copied()
                        .find(|x| x.lifetime() == e.lifetime())
                })
            };
            let Some(done) = after("sync_done") else {
                continue;
            };
            let keys = after("keys_loaded")
                .filter(|k| k.ts() <= done.ts())
                .and_then(|k| k.num(t, "loaded"))
                .map_or(String::new(), |k| format!(" and reloaded {k:.0} keys"));
            let n = name(e.node());
            let what = format!("Alert on replica lag on `{n}`");
            if actions.iter().any(|a| a.text.starts_with(&what)) {
                continue;
            }
            actions.push(Action {
                priority: "P2".into(),
                text: format!(
                    "{what} (`master_link_status`, `master_last_io_seconds_ago`): its full resync took {} ({} to {}): it served no replicated data{keys} in that time.",
                    dur(e.ts(), done.ts()),
                    hms(e.ts()),
                    hms(done.ts())
                ),
                cites: vec![refs.line(&e.cite()), refs.line(&done.cite())],
                from: "full_resync".into(),
            });
        }
    }
    // Headroom from the dump's used-mem against what the kernel saw.
    if let (Some(p), Some(oom)) = (&placement, steps.iter().find(|i| i.kind == "oom_kill")) {
        if let Some(used) = p.0.used_mem {
            let rss = oom
                .claims
                .iter()
                .flat_map(|c| c.numbers.iter())
                .find(|n| n.unit == "MB")
                .map(|n| n.value);
            if let Some(rss) = rss {
                let cites = oom
                    .claims
                    .first()
                    .map(|c| {
                        c.cites
                            .iter()
                            .map(|&k| refs.line(&oom.evidence[k]))
                            .collect()
                    })
                    .unwrap_or_default();
                let what = format!("Set memory headroom on `{}`", node_list(oom));
                let item = Action {
                    priority: "P1".into(),
                    text: format!(
                        "{what}: size `maxmemory` below the memory limit, with room for fork copy-on-write and buffers: the dump recorded used-mem {} at {}, the kernel killed the server at anon-rss {rss:.1} MB ({:.0}× as much).",
                        human_bytes(used),
                        p.0.ctime_ms.map_or("?".into(), |m| hms(Some(m))),
                        rss * 1024.0 * 1024.0 / used.max(1) as f64
                    ),
                    cites,
                    from: "oom_kill".into(),
                };
                // It says what the claim-derived item says, with numbers.
                match actions.iter().position(|a| a.text.starts_with(&what)) {
                    Some(k) => actions[k] = item,
                    None => actions.push(item),
                }
            }
        }
    }
    if let Some((_, findings)) = inp.dump {
        for f in findings.iter().filter(|f| f.id == "big-key") {
            let cites = f
                .evidence
                .iter()
                .take(1)
                .map(|e| refs.stat(e.clone()))
                .collect();
            actions.push(Action {
                priority: "P3".into(),
                text: format!("Split the big key: {}.", f.summary.trim_end_matches('.')),
                cites,
                from: "big-key".into(),
            });
        }
    }
    // The TTL item first (the keyspace is what the other items protect),
    // then the most urgent.
    let skip = usize::from(
        actions
            .first()
            .is_some_and(|a| a.from == "pattern-without-ttl"),
    );
    actions[skip..].sort_by(|a, b| a.priority.cmp(&b.priority));

    let span = rows
        .iter()
        .filter_map(|r| r.ts_ms)
        .chain(
            chain_steps
                .iter()
                .flat_map(|s| [s.start_ms, s.end_ms])
                .flatten(),
        )
        .fold(None, |acc: Option<[i64; 2]>, x| {
            Some(acc.map_or([x, x], |[a, b]| [a.min(x), b.max(x)]))
        });
    let mut pm = PostMortem {
        verdict,
        impact,
        chain: chain_steps,
        timeline: rows,
        dump: placement.map(|(mut p, s, _)| {
            p.sentences = s.into_iter().map(|x| x.0).collect();
            p
        }),
        root_cause,
        contributing,
        actions,
        patterns,
        evidence: Vec::new(),
        span_ms: span,
        redacted: inp.redacted,
    };
    renumber(&mut pm, refs.list.into_iter().map(|x| x.1).collect());
    pm
}

/// Numbers the evidence in the order the document cites it.
fn renumber(pm: &mut PostMortem, list: Vec<Evidence>) {
    let mut map: HashMap<usize, usize> = HashMap::new();
    let mut order: Vec<usize> = Vec::new();
    let mut visit = |v: &mut Vec<usize>| {
        for n in v.iter_mut() {
            let next = map.len() + 1;
            let m = *map.entry(*n).or_insert_with(|| {
                order.push(*n);
                next
            });
            *n = m;
        }
    };
    for s in &mut pm.verdict.sentences {
        visit(&mut s.cites);
    }
    for s in &mut pm.impact {
        visit(&mut s.cites);
    }
    for st in &mut pm.chain {
        for s in &mut st.claims {
            visit(&mut s.cites);
        }
        visit(&mut st.also_cited);
    }
    for r in &mut pm.timeline {
        visit(&mut r.cites);
    }
    if let Some(d) = &mut pm.dump {
        for s in &mut d.sentences {
            visit(&mut s.cites);
        }
    }
    for s in pm.root_cause.iter_mut().chain(pm.contributing.iter_mut()) {
        visit(&mut s.cites);
    }
    for a in &mut pm.actions {
        visit(&mut a.cites);
    }
    pm.evidence = order
        .iter()
        .enumerate()
        .filter_map(|(k, &old)| {
            let mut e = list.get(old - 1)?.clone();
            e.n = k + 1;
            Some(e)
        })
        .collect();
}

/// Places the dump on the timeline. Returns the placement, its sentences
/// (flagged when they state an impact) and the lines they cite.
#[allow(clippy::type_complexity)]
fn place_dump(
    t: &Timeline,
    s: &Summary,
    scope: &Scope,
    refs: &mut Refs,
) -> Option<(DumpPlacement, Vec<(Sentence, bool)>, Vec<Cite>)> {
    let src = s.sources.first()?;
    let aux = |k: &str| src.aux.get(k);
    let mut p = DumpPlacement {
        file: src.path.clone(),
        server: format!("{} {}", src.server.family, src.server.version),
        ctime: src.ctime.map(|c| format_ms(c * 1000)),
        ctime_ms: src.ctime.map(|c| c * 1000),
        used_mem: src.used_mem,
        aof_base: aux("aof-base").map(|v| v.trim() == "1"),
        repl_id: aux("repl-id").map(str::to_string),
        repl_offset: aux("repl-offset").and_then(|v| v.trim().parse().ok()),
        keys: s.total.keys,
        written_by: None,
        age_at_death_ms: None,
        reloaded_by: None,
        keys_written_after: None,
        sentences: Vec::new(),
    };
    let mut out: Vec<(Sentence, bool)> = Vec::new();
    let mut cited: Vec<Cite> = Vec::new();
    let cite = |refs: &mut Refs, c: Cite, cited: &mut Vec<Cite>| {
        cited.push(c);
        refs.line(&c)
    };
    let Some(ctime) = p.ctime_ms else {
        out.push((
            Sentence {
                text: format!(
                    "The dump `{}` has no `ctime`: it cannot be placed on the timeline.",
                    p.file
                ),
                cites: Vec::new(),
            },
            false,
        ));
        return Some((p, out, cited));
    };
    let version = src.server.version.as_str();
    let node_ok = |n: usize| {
        t.nodes.get(n).is_some_and(|x| {
            !x.is_kernel()
                && scope.node_ok(&x.name)
                && x.version.as_deref().is_none_or(|v| {
                    // Nodes read `Redis 7.0.15`, the dump `7.0.15`.
                    v == version || v.rsplit(' ').next() == Some(version)
                })
        })
    };
    // `ctime` is stamped (in whole seconds) when the save begins, so the
    // save that wrote the file is the first one to complete at or after it.
    let saved = t
        .events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e.kind(), "db_saved" | "bgsave_ok") && node_ok(e.node()))
        .filter(|(_, e)| e.ts().is_some_and(|x| x >= ctime && x < ctime + 600_000))
        .min_by_key(|(_, e)| (e.ts(), e.kind() != "db_saved"));
    let mut death: Option<(usize, Cite, EndClass)> = None;
    match saved {
        Some((k, e)) => {
            let node = e.node();
            let nname = t.nodes[node].name.clone();
            p.written_by = Some(nname.clone());
            let started = t.events[..k]
                .iter()
                .rev()
                .take_while(|x| x.ts().is_some_and(|ts| ts >= ctime - 1000))
                .find(|x| x.node() == node && x.kind() == "bgsave_started");
            let mut cites = Vec::new();
            if let Some(b) = started {
                cites.push(cite(refs, b.cite(), &mut cited));
            }
            cites.push(cite(refs, e.cite(), &mut cited));
            let how = if started.is_some() { "the BGSAVE" } else { "the save" };
            out.push((
                Sentence {
                    text: format!(
                        "The dump `{}` ({}, {} keys, used-mem {}, ctime {}) was written by {how} of {nname} that finished at {}.",
                        p.file,
                        p.server,
                        p.keys,
                        p.used_mem.map_or("?".into(), human_bytes),
                        hms(Some(ctime)),
                        hms(e.ts())
                    ),
                    cites,
                },
                false,
            ));
            // The lifetime that saved it, and how it ended.
            let lt_index = e.lifetime();
            if let Some(lt) = t.lifetimes.get(lt_index) {
                if !matches!(lt.end, EndClass::Clean | EndClass::Running) {
                    if let Some(d) = lt.oom_kill.or(lt.last) {
                        let age = d.ts().map(|x| x - ctime);
                        p.age_at_death_ms = age;
                        let c = cite(refs, d, &mut cited);
                        death = Some((lt_index, d, lt.end));
                        out.push((
                            Sentence {
                                text: format!(
                                    "It was {} old when {nname} died at {} ({}): writes to {nname} after {} are not in it.",
                                    dur(Some(ctime), d.ts()),
                                    hms(d.ts()),
                                    lt.end.name(),
                                    hms(Some(ctime))
                                ),
                                cites: vec![c],
                            },
                            true,
                        ));
                    }
                }
            }
            // A newer save on the same node replaced it.
            if death.is_none() {
                if let Some(newer) = t.events.iter().find(|x| {
                    x.node() == node
                        && x.kind() == "db_saved"
                        && x.ts().is_some_and(|ts| ts > e.ts().unwrap_or(i64::MAX))
                }) {
                    let c = cite(refs, newer.cite(), &mut cited);
                    out.push((
                        Sentence {
                            text: format!(
                                "A newer save of {nname} at {} replaced it: {} after the dump.",
                                hms(newer.ts()),
                                dur(Some(ctime), newer.ts())
                            ),
                            cites: vec![c],
                        },
                        false,
                    ));
                }
            }
            // Whether the restart reloaded it: the next lifetime's load,
            // whose `RDB age` points back at ctime and whose key count is
            // the dump's.
            if let Some((lt_index, _, _)) = death {
                let n = &t.nodes[node];
                let pos = n.lifetimes.iter().position(|&l| l == lt_index);
                if let Some(&next) = pos.and_then(|k| n.lifetimes.get(k + 1)) {
                    let age = t
                        .events
                        .iter()
                        .find(|x| x.lifetime() == next && x.node() == node && x.kind() == "rdb_age");
                    let loaded = t
                        .events
                        .iter()
                        .find(|x| x.lifetime() == next && x.node() == node && x.kind() == "keys_loaded");
                    if let Some(l) = loaded {
                        let keys = l.num(t, "loaded").unwrap_or(-1.0) as i64;
                        let back = age.and_then(|a| Some(a.ts()? - (a.num(t, "age")? * 1000.0) as i64));
                        let same_time = back.is_some_and(|b| (b - ctime).abs() <= 2000);
                        let mut cites = Vec::new();
                        if let Some(a) = age {
                            cites.push(cite(refs, a.cite(), &mut cited));
                        }
                        cites.push(cite(refs, l.cite(), &mut cited));
                        let text = if keys == p.keys as i64 && (same_time || age.is_none()) {
                            p.reloaded_by = Some(nname.clone());
                            format!(
                                "It is the file {nname}'s restart reloaded: {keys} keys at {}{}, the dump's count.",
                                hms(l.ts()),
                                age.and_then(|a| a.num(t, "age"))
                                    .map_or(String::new(), |a| format!(" (RDB age {a:.0} s: written at {})", hms(back)))
                            )
                        } else {
                            format!(
                                "{nname}'s restart loaded {keys} keys at {}, not this file ({} keys).",
                                hms(l.ts()),
                                p.keys
                            )
                        };
                        out.push((Sentence { text, cites }, p.reloaded_by.is_some()));
                    }
                }
            }
        }
        None => out.push((
            Sentence {
                text: format!(
                    "No save in the logs (on a node running {}) finished within 10 min after the dump's ctime {}: the dump is not from these logs' nodes, or their clock differs.",
                    p.server,
                    format_ms(ctime)
                ),
                cites: Vec::new(),
            },
            false,
        )),
    }
    // How much of the keyspace came after it: the largest key count a
    // load logged later, on a node of the same version.
    let later = t
        .events
        .iter()
        .filter(|e| e.kind() == "keys_loaded" && node_ok(e.node()))
        .filter(|e| e.ts().is_some_and(|x| x > ctime))
        .filter_map(|e| Some((e.num(t, "loaded")? as u64, e)))
        .max_by_key(|(k, e)| (*k, std::cmp::Reverse(e.ts())));
    if let Some((k, e)) = later.filter(|(k, _)| *k > p.keys) {
        let more = k - p.keys;
        p.keys_written_after = Some(more);
        let c = cite(refs, e.cite(), &mut cited);
        out.push((
            Sentence {
                text: format!(
                    "At least {more} keys ({:.1} % of the {k} counted later) were written after it: {} loaded {k} keys at {}.",
                    ratio(more, k) * 100.0,
                    t.nodes[e.node()].name,
                    hms(e.ts())
                ),
                cites: vec![c],
            },
            true,
        ));
    } else if let Some(w) = t.events.iter().find(|e| {
        e.kind() == "save_triggered"
            && node_ok(e.node())
            && e.ts().is_some_and(|x| x > ctime + 1000)
    }) {
        let changes = w.num(t, "changes").unwrap_or(0.0);
        let c = cite(refs, w.cite(), &mut cited);
        out.push((
            Sentence {
                text: format!(
                    "Writes went on after it: {} counted at least {changes:.0} changes by {}, {} after the dump.",
                    t.nodes[w.node()].name,
                    hms(w.ts()),
                    dur(Some(ctime), w.ts())
                ),
                cites: vec![c],
            },
            false,
        ));
    }
    Some((p, out, cited))
}

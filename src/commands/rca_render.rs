//! The write-up's renderers: Markdown, text and HTML, all from one
//! [`PostMortem`] value (JSON is the value itself), so every format says
//! the same thing with the same evidence numbers.

use std::io::{self, Write};

use super::rca::{PostMortem, Sentence, Step};
use crate::analyze::findings::human_bytes;
use crate::html::escape as h;
use crate::logs::rules::hms;

fn nums(cites: &[usize]) -> String {
    cites.iter().map(|n| format!("[{n}]")).collect()
}

fn prose(s: &[Sentence]) -> String {
    s.iter()
        .map(|x| format!("{}{}", x.text, nums(&x.cites)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn step_line(s: &Step, md: bool) -> String {
    let b = |x: &str| {
        if md {
            format!("**{x}**")
        } else {
            x.to_string()
        }
    };
    let c = |x: &str| if md { format!("`{x}`") } else { x.to_string() };
    let head = if s.source == "dump" {
        format!(
            "dump finding {} ({}, {})",
            b(&s.kind),
            c(&s.nodes.join(", ")),
            s.severity
        )
    } else {
        format!(
            "#{} {} ({}, {})",
            s.id,
            b(&s.kind),
            c(&s.nodes.join(", ")),
            s.severity
        )
    };
    let mut out = format!("{head}: {}", prose(&s.claims));
    if !s.also_cited.is_empty() {
        out.push_str(&format!(" Also cited: {}.", nums(&s.also_cited)));
    }
    out
}

fn verdict_head(pm: &PostMortem, md: bool) -> String {
    match &pm.verdict.root {
        Some(k) if md => format!("Root cause: **{k}** on `{}`.", pm.verdict.nodes.join(", ")),
        Some(k) => format!("Root cause: {k} on {}.", pm.verdict.nodes.join(", ")),
        None => "No incident in the logs.".to_string(),
    }
}

/// Markdown.
pub fn markdown(pm: &PostMortem, w: &mut dyn Write) -> io::Result<()> {
    writeln!(w, "## Verdict\n")?;
    writeln!(
        w,
        "{} {}\n",
        verdict_head(pm, true),
        prose(&pm.verdict.sentences)
    )?;
    writeln!(w, "## Impact\n")?;
    if pm.impact.is_empty() {
        writeln!(w, "None stated by the logs.")?;
    }
    for s in &pm.impact {
        writeln!(w, "- {}{}", s.text, nums(&s.cites))?;
    }
    writeln!(w, "\n## Failure chain\n")?;
    for (k, s) in pm.chain.iter().enumerate() {
        writeln!(w, "{}. {}", k + 1, step_line(s, true))?;
    }
    writeln!(w, "\n## Timeline\n")?;
    writeln!(w, "| time | node | event | evidence |\n|---|---|---|---|")?;
    for r in &pm.timeline {
        let inc = r.incident.map_or(String::new(), |i| format!(" (#{i})"));
        writeln!(
            w,
            "| {} | `{}` | {}{inc} | {} |",
            r.time,
            r.node.replace('|', "\\|"),
            r.event,
            nums(&r.cites)
        )?;
    }
    if let Some(d) = &pm.dump {
        writeln!(w, "\nThe dump on the timeline:\n")?;
        for s in &d.sentences {
            writeln!(w, "- {}{}", s.text, nums(&s.cites))?;
        }
    }
    writeln!(w, "\n## Root cause and contributing factors\n")?;
    writeln!(w, "**Root cause.** {}\n", prose(&pm.root_cause))?;
    if !pm.contributing.is_empty() {
        writeln!(w, "**Contributing factors.**\n")?;
        for s in &pm.contributing {
            writeln!(w, "- {}{}", s.text, nums(&s.cites))?;
        }
        writeln!(w)?;
    }
    writeln!(w, "## Action items\n")?;
    if pm.actions.is_empty() {
        writeln!(w, "None derived from the findings.")?;
    }
    for (k, a) in pm.actions.iter().enumerate() {
        writeln!(
            w,
            "{}. **{}** {}{}",
            k + 1,
            a.priority,
            a.text,
            nums(&a.cites)
        )?;
    }
    writeln!(w, "\n## Evidence\n")?;
    for e in &pm.evidence {
        match (&e.file, e.line) {
            (Some(f), Some(l)) => {
                writeln!(w, "[{}] `{f}:{l}`: `{}`  ", e.n, e.text.replace('`', "'"))?
            }
            _ => writeln!(w, "[{}] {}  ", e.n, e.text)?,
        }
    }
    writeln!(w)
}

/// Plain text.
pub fn text(pm: &PostMortem, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "Verdict\n  {} {}\n",
        verdict_head(pm, false),
        prose(&pm.verdict.sentences)
    )?;
    writeln!(w, "Impact")?;
    for s in &pm.impact {
        writeln!(w, "  - {}{}", s.text, nums(&s.cites))?;
    }
    writeln!(w, "\nFailure chain")?;
    for (k, s) in pm.chain.iter().enumerate() {
        writeln!(w, "  {}. {}", k + 1, step_line(s, false))?;
    }
    writeln!(w, "\nTimeline")?;
    for r in &pm.timeline {
        let inc = r.incident.map_or(String::new(), |i| format!(" (#{i})"));
        writeln!(
            w,
            "  {}  {:<8} {}{inc} {}",
            r.time,
            r.node,
            r.event,
            nums(&r.cites)
        )?;
    }
    if let Some(d) = &pm.dump {
        writeln!(w, "\nThe dump on the timeline")?;
        for s in &d.sentences {
            writeln!(w, "  - {}{}", s.text, nums(&s.cites))?;
        }
    }
    writeln!(w, "\nRoot cause\n  {}", prose(&pm.root_cause))?;
    if !pm.contributing.is_empty() {
        writeln!(w, "\nContributing factors")?;
        for s in &pm.contributing {
            writeln!(w, "  - {}{}", s.text, nums(&s.cites))?;
        }
    }
    writeln!(w, "\nAction items")?;
    for (k, a) in pm.actions.iter().enumerate() {
        writeln!(
            w,
            "  {}. {} {}{}",
            k + 1,
            a.priority,
            a.text,
            nums(&a.cites)
        )?;
    }
    writeln!(w, "\nEvidence")?;
    for e in &pm.evidence {
        match (&e.file, e.line) {
            (Some(f), Some(l)) => writeln!(w, "  [{}] {f}:{l}: {}", e.n, e.text)?,
            _ => writeln!(w, "  [{}] {}", e.n, e.text)?,
        }
    }
    writeln!(w)
}

fn links(cites: &[usize]) -> String {
    cites
        .iter()
        .map(|n| format!("<a class=\"cite\" href=\"#ev-{n}\">[{n}]</a>"))
        .collect()
}

/// Escapes a sentence, turning its backquoted words into `<code>`.
fn hs(s: &str) -> String {
    let mut out = String::new();
    for (k, part) in s.split('`').enumerate() {
        if k % 2 == 1 {
            out.push_str(&format!("<code>{}</code>", h(part)));
        } else {
            out.push_str(&h(part));
        }
    }
    out
}

fn hprose(s: &[Sentence]) -> String {
    s.iter()
        .map(|x| format!("{}{}", hs(&x.text), links(&x.cites)))
        .collect::<Vec<_>>()
        .join(" ")
}

const COLORS: &[&str] = &[
    "#4a90d9", "#e07b39", "#6ab04c", "#9b59b6", "#e84393", "#16a085", "#c0a000", "#7f8c8d",
];

fn sev_color(s: &str) -> &'static str {
    match s {
        "critical" => "#c0392b",
        "high" => "#e67e22",
        "medium" => "#f1c40f",
        "low" => "#3498db",
        _ => "#95a5a6",
    }
}

/// The dump's memory by pattern as one stacked bar, with a legend.
fn memory_svg(pm: &PostMortem, w: &mut dyn Write) -> io::Result<()> {
    let width = 860.0;
    let shown: Vec<_> = pm.patterns.iter().take(COLORS.len() - 1).collect();
    let rest: f64 = 1.0 - shown.iter().map(|p| p.share).sum::<f64>();
    let rows = shown.len() + usize::from(rest > 0.0005);
    let height = 40 + 18 * rows;
    writeln!(
        w,
        "<svg id=\"memory-chart\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"memory by pattern\">"
    )?;
    let mut x = 0.0;
    let mut legend = Vec::new();
    for (k, p) in shown.iter().enumerate() {
        let wd = p.share * width;
        writeln!(
            w,
            "<rect x=\"{x:.1}\" y=\"0\" width=\"{wd:.1}\" height=\"26\" fill=\"{}\"><title>{} {:.1} %</title></rect>",
            COLORS[k],
            h(&p.pattern),
            p.share * 100.0
        )?;
        legend.push((
            COLORS[k],
            format!(
                "{} — {:.1} % ({}, {} keys)",
                p.pattern,
                p.share * 100.0,
                human_bytes(p.memory_bytes),
                p.keys
            ),
        ));
        x += wd;
    }
    if rest > 0.0005 {
        let c = COLORS[COLORS.len() - 1];
        writeln!(
            w,
            "<rect x=\"{x:.1}\" y=\"0\" width=\"{:.1}\" height=\"26\" fill=\"{c}\"/>",
            (width - x).max(0.0)
        )?;
        legend.push((c, format!("other patterns — {:.1} %", rest * 100.0)));
    }
    for (k, (c, label)) in legend.iter().enumerate() {
        let y = 40 + 18 * k;
        writeln!(
            w,
            "<rect x=\"0\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{c}\"/><text x=\"18\" y=\"{}\">{}</text>",
            y - 10,
            y,
            h(label)
        )?;
    }
    writeln!(w, "</svg>")
}

/// TTL coverage (by memory) per pattern: the share with a TTL in green.
fn ttl_svg(pm: &PostMortem, w: &mut dyn Write) -> io::Result<()> {
    let rows = pm.patterns.len();
    let height = 20 * rows + 10;
    writeln!(
        w,
        "<svg id=\"ttl-chart\" width=\"860\" height=\"{height}\" viewBox=\"0 0 860 {height}\" role=\"img\" aria-label=\"TTL coverage per pattern\">"
    )?;
    for (k, p) in pm.patterns.iter().enumerate() {
        let y = 20 * k;
        let with = p.ttl_coverage_bytes * 400.0;
        writeln!(
            w,
            "<text x=\"0\" y=\"{}\">{}</text><rect x=\"300\" y=\"{}\" width=\"400\" height=\"14\" fill=\"#e74c3c\"/><rect x=\"300\" y=\"{}\" width=\"{with:.1}\" height=\"14\" fill=\"#27ae60\"/><text x=\"710\" y=\"{}\">{:.0} % with a TTL</text>",
            y + 12,
            h(&p.pattern),
            y + 1,
            y + 1,
            y + 12,
            p.ttl_coverage_bytes * 100.0
        )?;
    }
    writeln!(w, "</svg>")
}

/// One row per incident of the chain with its span, then one lane per
/// node with a tick for each cited line, and the dump's `ctime` as a
/// dashed line across all of them.
fn timeline_svg(pm: &PostMortem, w: &mut dyn Write) -> io::Result<()> {
    let Some([a, b]) = pm.span_ms else {
        return Ok(());
    };
    let span = (b - a).max(1) as f64;
    let incidents: Vec<&Step> = pm
        .chain
        .iter()
        .filter(|s| s.source == "logs" && s.start_ms.is_some())
        .collect();
    let mut lanes: Vec<String> = Vec::new();
    for r in &pm.timeline {
        if !lanes.contains(&r.node) {
            lanes.push(r.node.clone());
        }
    }
    let (left, width) = (190.0, 660.0);
    let x = |ms: i64| left + (ms - a) as f64 / span * width;
    let top = 24;
    let lane_y = |k: usize| top + 26 * k;
    let rows = incidents.len() + lanes.len();
    let height = top + 26 * rows + 24;
    writeln!(
        w,
        "<svg id=\"timeline-chart\" width=\"880\" height=\"{height}\" viewBox=\"0 0 880 {height}\" role=\"img\" aria-label=\"timeline\">"
    )?;
    for (k, s) in incidents.iter().enumerate() {
        let Some(s0) = s.start_ms else { continue };
        let e0 = s.end_ms.unwrap_or(s0);
        let (x0, x1) = (x(s0), x(e0));
        let y = lane_y(k);
        writeln!(
            w,
            "<text x=\"0\" y=\"{}\">#{} {}</text><rect class=\"span\" x=\"{x0:.1}\" y=\"{y}\" width=\"{:.1}\" height=\"18\" fill=\"{}\"><title>#{} {} {}–{}</title></rect>",
            y + 13,
            s.id,
            h(&s.kind),
            (x1 - x0).max(4.0),
            sev_color(&s.severity),
            s.id,
            h(&s.kind),
            hms(Some(s0)),
            hms(Some(e0))
        )?;
    }
    for (k, n) in lanes.iter().enumerate() {
        let y = lane_y(incidents.len() + k);
        writeln!(
            w,
            "<text x=\"0\" y=\"{}\">{}</text><line x1=\"{left}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#ccc\"/>",
            y + 13,
            h(n),
            y + 9,
            left + width,
            y + 9
        )?;
        for r in pm.timeline.iter().filter(|r| &r.node == n) {
            let Some(ms) = r.ts_ms else { continue };
            writeln!(
                w,
                "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" stroke=\"#333\" stroke-width=\"2\"><title>{3} {4}</title></line>",
                x(ms),
                y + 1,
                y + 17,
                h(&r.time),
                h(&r.event)
            )?;
        }
    }
    if let Some(ms) = pm.dump.as_ref().and_then(|d| d.ctime_ms) {
        let cx = x(ms);
        writeln!(
            w,
            "<line id=\"dump-ctime\" x1=\"{cx:.1}\" y1=\"14\" x2=\"{cx:.1}\" y2=\"{}\" stroke=\"#8e44ad\" stroke-width=\"2\" stroke-dasharray=\"5,3\"/><text x=\"{:.1}\" y=\"10\" fill=\"#8e44ad\">dump ctime {}</text>",
            height - 20,
            (cx + 4.0).min(left + width - 120.0),
            hms(Some(ms))
        )?;
    }
    writeln!(
        w,
        "<text x=\"{left}\" y=\"{}\">{}</text><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
        height - 4,
        hms(Some(a)),
        left + width,
        height - 4,
        hms(Some(b))
    )?;
    writeln!(w, "</svg>")
}

/// HTML: sections with the same content as the Markdown, the charts as
/// inline SVG, every `[n]` a link to its evidence entry.
pub fn html(pm: &PostMortem, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "<section id=\"verdict\"><h2>Verdict</h2><p>{} {}</p></section>",
        hs(&verdict_head(pm, false)),
        hprose(&pm.verdict.sentences)
    )?;
    writeln!(w, "<section id=\"impact\"><h2>Impact</h2><ul>")?;
    for s in &pm.impact {
        writeln!(w, "<li>{}{}</li>", hs(&s.text), links(&s.cites))?;
    }
    writeln!(w, "</ul></section>")?;
    writeln!(w, "<section id=\"chain\"><h2>Failure chain</h2><ol>")?;
    for s in &pm.chain {
        let head = if s.source == "dump" {
            format!("dump finding <b>{}</b>", h(&s.kind))
        } else {
            format!("#{} <b>{}</b>", s.id, h(&s.kind))
        };
        let also = if s.also_cited.is_empty() {
            String::new()
        } else {
            format!(" Also cited: {}.", links(&s.also_cited))
        };
        writeln!(
            w,
            "<li>{head} (<code>{}</code>, <span class=\"{}\">{}</span>): {}{also}</li>",
            h(&s.nodes.join(", ")),
            h(&s.severity),
            h(&s.severity),
            hprose(&s.claims)
        )?;
    }
    writeln!(w, "</ol></section>")?;
    writeln!(w, "<section id=\"timeline\"><h2>Timeline</h2>")?;
    timeline_svg(pm, w)?;
    writeln!(w, "<table><tr><th>time</th><th class=\"l\">node</th><th class=\"l\">event</th><th class=\"l\">evidence</th></tr>")?;
    for r in &pm.timeline {
        let inc = r.incident.map_or(String::new(), |i| format!(" (#{i})"));
        writeln!(
            w,
            "<tr><td>{}</td><td class=\"l\"><code>{}</code></td><td class=\"l\">{}{inc}</td><td class=\"l\">{}</td></tr>",
            h(&r.time),
            h(&r.node),
            h(&r.event),
            links(&r.cites)
        )?;
    }
    writeln!(w, "</table>")?;
    if let Some(d) = &pm.dump {
        writeln!(w, "<h3>The dump on the timeline</h3><ul id=\"dump\">")?;
        for s in &d.sentences {
            writeln!(w, "<li>{}{}</li>", hs(&s.text), links(&s.cites))?;
        }
        writeln!(w, "</ul>")?;
    }
    writeln!(w, "</section>")?;
    if !pm.patterns.is_empty() {
        writeln!(w, "<section id=\"memory\"><h2>Memory by pattern</h2>")?;
        memory_svg(pm, w)?;
        writeln!(w, "<h3>TTL coverage per pattern</h3>")?;
        ttl_svg(pm, w)?;
        writeln!(w, "</section>")?;
    }
    writeln!(w, "<section id=\"root-cause\"><h2>Root cause and contributing factors</h2><p><b>Root cause.</b> {}</p>", hprose(&pm.root_cause))?;
    if !pm.contributing.is_empty() {
        writeln!(w, "<p><b>Contributing factors.</b></p><ul>")?;
        for s in &pm.contributing {
            writeln!(w, "<li>{}{}</li>", hs(&s.text), links(&s.cites))?;
        }
        writeln!(w, "</ul>")?;
    }
    writeln!(w, "</section>")?;
    writeln!(w, "<section id=\"actions\"><h2>Action items</h2><ol>")?;
    for a in &pm.actions {
        writeln!(
            w,
            "<li><b>{}</b> {}{}</li>",
            h(&a.priority),
            hs(&a.text),
            links(&a.cites)
        )?;
    }
    writeln!(w, "</ol></section>")?;
    writeln!(
        w,
        "<section id=\"evidence\"><h2>Evidence</h2><ol class=\"ev\">"
    )?;
    for e in &pm.evidence {
        match (&e.file, e.line) {
            (Some(f), Some(l)) => writeln!(
                w,
                "<li id=\"ev-{0}\" value=\"{0}\"><code>{1}:{2}</code>: <code>{3}</code></li>",
                e.n,
                h(f),
                l,
                h(&e.text)
            )?,
            _ => writeln!(
                w,
                "<li id=\"ev-{0}\" value=\"{0}\">{1}</li>",
                e.n,
                hs(&e.text)
            )?,
        }
    }
    writeln!(w, "</ol></section>")
}

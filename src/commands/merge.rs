//! `redsleuth merge`: reduces JSON reports written by separate processes
//! (one per shard, node or day) into one, refusing what would make the
//! result wrong rather than merely incomplete: the same dump counted twice,
//! or redacted and plain key names side by side.

use std::path::Path;

use crate::analyze::summary::SourceInfo;
use crate::analyze::Summary;

/// What a report passed to `merge` is.
#[derive(Debug)]
pub enum Report {
    /// A keyspace report (`rdb --format json`, or an earlier merge of them).
    Keyspace(Box<Summary>),
    /// A log analysis (`logs --format json`, or an earlier merge of them).
    Logs(serde_json::Value),
}

/// Reads one report; the error names the file.
pub fn read(path: &Path) -> Result<Report, String> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| format!("{shown}: {e}"))?;
    if bytes.is_empty() {
        return Err(format!("{shown}: empty file"));
    }
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        format!(
            "{shown}: not JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    if v.get("keyspace").is_some() {
        return Summary::from_json(&v)
            .map(|s| Report::Keyspace(Box::new(s)))
            .ok_or_else(|| {
                format!("{shown}: a keyspace report missing fields `redsleuth rdb --format json` writes")
            });
    }
    if v.get("nodes").is_some() && v.get("incidents").is_some() && v.get("files").is_some() {
        return Ok(Report::Logs(v));
    }
    Err(format!(
        "{shown}: not a report written by `redsleuth rdb --format json` or `redsleuth logs --format json`"
    ))
}

/// How keyspace reports are merged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Keys per top-N list of the result (default: the largest of the
    /// inputs').
    pub top: Option<usize>,
    /// Redact every key name (inputs may then mix redacted and plain).
    pub redact: bool,
}

/// Whether two inputs describe the same dump: same path, same `ctime`,
/// same checksum (stored and computed).
fn same_dump(a: &SourceInfo, b: &SourceInfo) -> bool {
    a.path == b.path && a.ctime == b.ctime && a.checksum == b.checksum
}

/// Merges keyspace reports (`(name shown in messages, summary)`), or says
/// why the result would be wrong.
pub fn keyspace(inputs: Vec<(String, Summary)>, opts: Options) -> Result<Summary, String> {
    let mut seen: Vec<(&SourceInfo, &str)> = Vec::new();
    for (name, s) in &inputs {
        for src in &s.sources {
            if let Some((_, first)) = seen.iter().find(|(x, _)| same_dump(x, src)) {
                let what = if *first == name.as_str() {
                    format!("twice in {name}")
                } else {
                    format!("in both {first} and {name}")
                };
                return Err(format!(
                    "dump {} (ctime {}, checksum {}) is {what}: merging would count its keys twice",
                    src.path,
                    src.ctime.map_or("absent".to_string(), |c| c.to_string()),
                    src.checksum
                ));
            }
            seen.push((src, name));
        }
    }
    if !opts.redact {
        let red: Vec<&str> = inputs
            .iter()
            .filter(|(_, s)| s.redacted)
            .map(|(n, _)| n.as_str())
            .collect();
        let plain: Vec<&str> = inputs
            .iter()
            .filter(|(_, s)| !s.redacted)
            .map(|(n, _)| n.as_str())
            .collect();
        if !red.is_empty() && !plain.is_empty() {
            return Err(format!(
                "{} redacted key names and {} did not: the merged report would show both; \
                 pass --redact to redact every input, or re-run `rdb` with the same --redact",
                red.join(", "),
                plain.join(", ")
            ));
        }
    }
    let top = opts
        .top
        .unwrap_or_else(|| inputs.iter().map(|(_, s)| s.top).max().unwrap_or(20))
        .max(1);
    let mut total = Summary::new(top);
    total.redacted = opts.redact;
    for (_, mut s) in inputs {
        if opts.redact {
            s.redact(&super::report::redact_pattern);
        }
        total.merge(&s);
    }
    Ok(total)
}

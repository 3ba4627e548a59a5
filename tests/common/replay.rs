//! Replaying recorded scenario logs at other dates: the archives the
//! scale tests build.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use redsleuth::logs::line::{civil_from_days, days_from_civil};

/// Month names as log prefixes print them.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The day (since the epoch) of a line's `PID:R DD Mon YYYY` prefix.
pub fn day_of(line: &str) -> Option<i64> {
    let (head, rest) = line.split_once(':')?;
    let dated = !head.is_empty()
        && head.bytes().all(|c| c.is_ascii_digit())
        && rest.len() > 13
        && rest.as_bytes()[1] == b' ';
    if !dated {
        return None;
    }
    let s = &rest[2..];
    let d: u32 = s.get(0..2)?.parse().ok()?;
    let m = MONTHS.iter().position(|&m| Some(m) == s.get(3..6))? as u32 + 1;
    let y: i64 = s.get(7..11)?.parse().ok()?;
    Some(days_from_civil(y, m, d))
}

/// A scenario line moved by `days` (lines without a dated prefix, such as
/// a crash report's body, are copied as they are).
pub fn shift_line(line: &str, days: i64) -> String {
    match day_of(line) {
        Some(day) => {
            let colon = line.find(':').unwrap();
            let (head, rest) = (&line[..colon], &line[colon + 1..]);
            let (y, m, d) = civil_from_days(day + days);
            format!(
                "{head}:{} {d:02} {} {y}{}",
                &rest[..1],
                MONTHS[m as usize - 1],
                &rest[13..]
            )
        }
        None => line.to_string(),
    }
}

/// `logs --format json` of `path` with every incident listed and `extra`
/// arguments; the exit code must say it ran (0, or 1 for `--fail-on`).
pub fn logs_json(path: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<&OsStr> = ["logs", "--quiet", "--format", "json", "--top", "1000000"]
        .iter()
        .chain(extra)
        .map(OsStr::new)
        .collect();
    args.push(path.as_os_str());
    json_of(&args)
}

/// The JSON document `redsleuth ARGS` writes; the exit code must say it
/// ran (0, or 1 for `--fail-on`).
pub fn json_of(args: &[&OsStr]) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_redsleuth"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Panics with where the documents `a` and `b` (of the field `what`)
/// first differ, if they do.
pub fn assert_same(what: &str, a: &serde_json::Value, b: &serde_json::Value) {
    if a == b {
        return;
    }
    let (a, b) = (a.to_string(), b.to_string());
    let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let from = at.saturating_sub(300);
    panic!(
        "{what} differs at byte {at}:\nwhole    …{}\nwindowed …{}",
        &a[from..(at + 300).min(a.len())],
        &b[from..(at + 300).min(b.len())]
    );
}

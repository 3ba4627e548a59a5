//! Crash reports ("bug reports") folded into one record each.
//!
//! Part of the timeline stage: while the timeline walks a file in line order
//! it feeds every line between `=== REDIS BUG REPORT START` and `... END`
//! (or the end of the file, for a report cut short by the process dying)
//! into a [`Crash`], which keeps the reason (signal, fault address,
//! assertion, Guru Meditation), the top stack frames of the crashing thread,
//! the INFO gauges of log-events.md §3, the command being run and the memory
//! test verdict. The failure-chain rules then turn it into one incident.

use std::num::NonZeroU64;

use super::catalog::{self, RawKind};
use super::chunk::{Rec, What};

/// Frames dropped from "top frames": the signal handler's own frames.
const HANDLER_FRAMES: &[&str] = &[
    "logStackTrace",
    "sigsegvHandler",
    "__restore_rt",
    "__kernel_rt_sigreturn",
    "_serverAssert",
    "_serverAssertPrintClientInfo",
    "_serverPanic",
    "printCrashReport",
    "bugReportStart",
    "watchdogSignalHandler",
];

/// A line cited as evidence: file index, 1-based line, byte offset, time.
/// The text is not kept: the few cited lines that get rendered are read
/// back from the input by offset ([`super::text`]).
///
/// Millions of these are held (several per process lifetime, one per
/// event), so the file index and line share one word and a missing time is
/// a reserved value: 24 bytes, and `Option<Cite>` costs nothing more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cite {
    /// Byte offset of the line's start in the decompressed file.
    pub at: u64,
    /// `file << LINE_BITS | line`, plus one so that it is never zero.
    place: NonZeroU64,
    /// Resolved time (ms), or [`NO_TS`].
    ts: i64,
}

/// Bits of [`Cite`]'s packed word that hold the line (17 × 10^12 lines per
/// file; the other 20 bits number a million files).
const LINE_BITS: u32 = 44;
const LINE_MASK: u64 = (1 << LINE_BITS) - 1;
/// The stored time of a cite without one (no log line can carry it).
const NO_TS: i64 = i64::MIN;

impl Cite {
    /// A cite of `line` (1-based) at byte `at` of file `file`, at time `ts`
    /// (ms, wall clock as printed). Indexes past the packed range saturate.
    pub fn new(file: usize, line: u64, at: u64, ts: Option<i64>) -> Cite {
        let file = (file as u64).min(u64::MAX >> LINE_BITS);
        let packed = (file << LINE_BITS) | line.min(LINE_MASK);
        Cite {
            at,
            place: NonZeroU64::new(packed.saturating_add(1)).unwrap_or(NonZeroU64::MAX),
            ts: ts.unwrap_or(NO_TS),
        }
    }
    /// Index into the file list.
    pub fn file(&self) -> usize {
        ((self.place.get() - 1) >> LINE_BITS) as usize
    }
    /// 1-based line in the decompressed file.
    pub fn line(&self) -> u64 {
        (self.place.get() - 1) & LINE_MASK
    }
    /// Resolved time (ms, wall clock as printed), if known.
    pub fn ts(&self) -> Option<i64> {
        (self.ts != NO_TS).then_some(self.ts)
    }
}

/// One crash report.
#[derive(Debug, Clone, Default)]
pub struct Crash {
    /// The START banner.
    pub start: Option<Cite>,
    /// The END banner, if the report was finished.
    pub end: Option<Cite>,
    /// Signal number (`crashed by signal: 11`).
    pub signal: Option<u32>,
    /// Fault address.
    pub address: Option<String>,
    /// `Killed by PID: N, UID: U`.
    pub killed_by: Option<String>,
    /// Assertion `file:line 'expr'`.
    pub assertion: Option<String>,
    /// Guru Meditation message.
    pub panic: Option<String>,
    /// Top frames (function names) of the crashing thread.
    pub frames: Vec<String>,
    /// INFO gauges, in report order, as `key:value` lines (a key has no
    /// `:`); read them with [`Crash::info`] and [`Crash::info_pairs`]. One
    /// string per report instead of two per gauge keeps tens of thousands
    /// of reports small.
    info: String,
    /// `argv[0]` of the client being served.
    pub command: Option<String>,
    /// Fast memory test verdict: `Some(true)` passed.
    pub memtest: Option<bool>,
    /// The line that states the reason (signal, assertion or panic).
    pub reason_line: Option<Cite>,
    /// The first stack frame line.
    pub frame_line: Option<Cite>,
    /// The INFO `used_memory` line.
    pub memory_line: Option<Cite>,
    section: String,
    in_main_thread: bool,
    saw_thread_headers: bool,
}

fn signal_name(s: u32) -> &'static str {
    match s {
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// Extracts the function name from a backtrace frame
/// `binary(function+0x26f)[0x55e0ae28675f]`; `None` for anonymous frames.
pub fn frame_function(frame: &str) -> Option<&str> {
    let open = frame.rfind('(')?;
    let rest = &frame[open + 1..];
    let end = rest.find(['+', ')'])?;
    let f = &rest[..end];
    (!f.is_empty()).then_some(f)
}

impl Crash {
    /// A report opened by its START banner.
    pub fn open(start: Cite) -> Crash {
        Crash {
            start: Some(start),
            ..Crash::default()
        }
    }

    /// A one-line reason: "signal 11 (SIGSEGV) accessing 0x…", "assertion
    /// debug.c:530 '1 == 2' is not true", or the Guru Meditation message.
    pub fn reason(&self) -> String {
        if let Some(a) = &self.assertion {
            return format!("assertion failed: {a}");
        }
        if let Some(p) = &self.panic {
            return format!("panic: {p}");
        }
        match self.signal {
            Some(s) => {
                let mut r = format!("signal {s} ({})", signal_name(s));
                if let Some(a) = &self.address {
                    r.push_str(&format!(" accessing {a}"));
                }
                if let Some(k) = &self.killed_by {
                    r.push_str(&format!(", sent by {k}"));
                }
                r
            }
            None => "unknown (report incomplete)".to_string(),
        }
    }

    /// Classification per log-events.md FC14.
    pub fn class(&self) -> &'static str {
        let oom = self
            .panic
            .as_deref()
            .is_some_and(|p| p.contains("OUT OF MEMORY"));
        if oom {
            return "memory";
        }
        if self.memtest == Some(false) {
            return "hardware";
        }
        if self
            .frames
            .iter()
            .any(|f| f.contains("readSyncBulkPayload") || f.starts_with("replication"))
        {
            return "replication";
        }
        if self
            .frames
            .iter()
            .any(|f| f.starts_with("RM_") || f.starts_with("VM_") || f.contains("Module"))
        {
            return "module";
        }
        if self.killed_by.is_some() {
            return "killed";
        }
        "bug"
    }

    /// Value of an INFO gauge.
    pub fn info(&self, key: &str) -> Option<&str> {
        self.info_pairs().find(|(k, _)| *k == key).map(|(_, v)| v)
    }

    /// Every INFO gauge, in report order.
    pub fn info_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.info.lines().filter_map(|l| l.split_once(':'))
    }

    /// Drops spare capacity once the report is complete.
    pub fn close(&mut self) {
        self.info.shrink_to_fit();
    }

    /// Feeds one line of the report.
    pub fn feed(&mut self, rec: &Rec, cite: impl Fn() -> Cite) {
        match &rec.what {
            What::Known(idx, caps) => match catalog::entry(*idx).kind {
                "crash_signal" => {
                    self.signal = catalog::num(caps, "signal").map(|v| v as u32);
                    self.reason_line.get_or_insert_with(&cite);
                }
                "crash_address" => self.address = catalog::text(caps, "address").map(String::from),
                "crash_killed_by" => {
                    self.killed_by = Some(format!(
                        "pid {} uid {}",
                        catalog::num(caps, "pid").unwrap_or(0.0),
                        catalog::num(caps, "uid").unwrap_or(0.0)
                    ))
                }
                "assertion_where" => {
                    let file = catalog::text(caps, "file").unwrap_or("?");
                    let line = catalog::num(caps, "line").unwrap_or(0.0);
                    let expr = catalog::text(caps, "expr").unwrap_or("");
                    self.assertion = Some(format!("{file}:{line} '{expr}' is not true"));
                    self.reason_line = Some(cite());
                }
                "guru_meditation" => {
                    let r = catalog::text(caps, "reason").unwrap_or("");
                    let w = catalog::text(caps, "where").unwrap_or("");
                    self.panic = Some(format!("{r} #{w}"));
                    self.reason_line = Some(cite());
                }
                _ => {}
            },
            What::Raw(k) => match k {
                RawKind::Section(s) => {
                    self.section = s.to_string();
                    self.in_main_thread = false;
                }
                RawKind::Thread(main) => {
                    self.saw_thread_headers = true;
                    self.in_main_thread = *main;
                }
                RawKind::Frame(f) if self.section.starts_with("STACK TRACE") => {
                    if self.saw_thread_headers && !self.in_main_thread {
                        return;
                    }
                    if let Some(func) = frame_function(f) {
                        if HANDLER_FRAMES.contains(&func) || self.frames.iter().any(|x| x == func) {
                            return;
                        }
                        if self.frames.len() < 5 {
                            if self.frame_line.is_none() && !func.starts_with("__") {
                                self.frame_line = Some(cite());
                            }
                            if !func.starts_with("__") {
                                self.frames.push(func.to_string());
                            }
                        }
                    }
                }
                RawKind::Info(k, v) if self.section.starts_with("INFO") => {
                    if &**k == "used_memory" {
                        self.memory_line = Some(cite());
                    }
                    self.info.push_str(k);
                    self.info.push(':');
                    self.info.push_str(v.trim_end());
                    self.info.push('\n');
                }
                RawKind::Argv0(c) => self.command = Some(c.to_string()),
                RawKind::MemTest(ok) => self.memtest = Some(*ok),
                _ => {}
            },
            _ => {}
        }
    }
}

//! Window by window: a long archive's analysis with bounded state.
//!
//! The timeline is built as lines go by (see [`Builder`]); here, each time
//! [`FLUSH_EVENTS`] more events are retained, the part of it that is
//! settled is analysed and let go. Time `reached` is settled when the file
//! being read got that far and no file still to come starts earlier. The
//! rules then run on what is retained and keep the incidents that start in
//! the window's own span, `[from, reached - context)`; what lies before
//! `reached - 2 × context` is pruned. Every incident is so found with at
//! least [`CONTEXT_MS`] of lines on each side of its start (the longest
//! reach of nearly every rule is an hour), and found once: the next window
//! starts where this one's own span ended. Where more than half the retained
//! events fall within the context, it shrinks to keep memory bounded (a
//! burst of thousands of lines a second).
//!
//! A run that never retains [`FLUSH_EVENTS`] events (every recorded
//! scenario) is analysed once, at the end, exactly as a whole. Several
//! nodes' files of the same hours are read at once and folded in time
//! order ([`super::lanes`]), so what is settled advances with the slowest
//! of them. What can still hold a file's events until it ends: a later
//! file of its rotation set that starts earlier, a set waiting for a lane
//! (past [`super::lanes::MAX_LANES`]) that starts earlier, and year-less
//! stamps (their year is known at the end of the file). Input out of time
//! order (a clock stepped back, logs concatenated in the wrong order) is
//! reported: lines stamped before a window already analysed are counted
//! but their incidents may be missed, and the run says so and exits as
//! partial.

use super::chunk::Item;
use super::rules::{Found, Incident};
use super::timeline::{Builder, Timeline};

/// Retained events that start an analysis of the window.
pub const FLUSH_EVENTS: usize = 1 << 16;
/// Lines kept on each side of a window's own span.
pub const CONTEXT_MS: i64 = 6 * 3_600_000;
/// The context never shrinks below this.
const MIN_CONTEXT_MS: i64 = 60_000;
/// How far a line may come before one already read in the same file
/// (processes of one log stamp their lines independently).
const JITTER_MS: i64 = 60_000;

/// The builder and the incidents found so far.
pub struct Windowed {
    b: Builder,
    found: Found,
    redact: bool,
    /// Retained events that start the next analysis (0: only at the end).
    every: usize,
    next: usize,
    /// Start of the next window's own span.
    from: i64,
    /// Earliest first line of the files still to come.
    upcoming: i64,
    /// Windows analysed before the last.
    windows: usize,
    /// The most events retained at once.
    peak: usize,
}

impl Windowed {
    /// Analyses window by window every `every` retained events (0: once,
    /// at the end).
    pub fn new(mut b: Builder, redact: bool, every: usize) -> Windowed {
        let found = match b.writeup() {
            Some(_) => Found::noting(),
            None => Found::default(),
        };
        Windowed {
            b,
            found,
            redact,
            every,
            next: every,
            from: i64::MIN,
            upcoming: i64::MIN,
            windows: 0,
            peak: 0,
        }
    }

    /// The builder, to begin and end files.
    pub fn builder(&mut self) -> &mut Builder {
        &mut self.b
    }

    /// Says when the files still to come start (`i64::MAX`: none come;
    /// `i64::MIN`: unknown, so nothing is settled).
    pub fn set_upcoming(&mut self, start: i64) {
        self.upcoming = start;
    }

    /// Folds a batch of file `file`, then analyses and prunes the settled
    /// part when enough was retained.
    pub fn feed(&mut self, file: usize, items: Vec<Item>) {
        if self.every == 0 {
            self.b.feed(file, items);
            self.peak = self.peak.max(self.b.retained());
            return;
        }
        // A batch holds up to a piece of the file: fold it in parts, so
        // that a window closes every `every` events however it was cut. A
        // chunk sends each process's span after its records: the lifetimes
        // of those pids wait for them.
        let spans = items
            .iter()
            .filter_map(|i| match i {
                Item::Span(s) => Some(s.pid),
                Item::Rec(_) => None,
            })
            .collect();
        self.b.expect_spans(file, spans);
        let mut items = items.into_iter();
        loop {
            let part: Vec<_> = items.by_ref().take(self.every).collect();
            if part.is_empty() {
                self.b.expect_spans(file, Vec::new());
                return;
            }
            self.b.feed(file, part);
            self.peak = self.peak.max(self.b.retained());
            if self.b.retained() >= self.next {
                if let Some(reached) = self.b.reached() {
                    self.window(reached.saturating_sub(JITTER_MS).min(self.upcoming));
                }
                self.next = self.b.retained() + self.every;
            }
        }
    }

    /// Analyses the window that `settled` closes, if it has a span of its own.
    fn window(&mut self, settled: i64) {
        if settled == i64::MIN || settled <= self.from {
            return;
        }
        let mut context = CONTEXT_MS;
        if self.from != i64::MIN {
            context = context.min((settled - self.from) / 2);
        }
        let t = self.b.timeline();
        if let Some(e) = t.events.get(t.events.len() / 2).and_then(|e| e.ts()) {
            // Half the retained events are newer than this.
            context = context.min((settled - e).max(0));
        }
        if context < MIN_CONTEXT_MS {
            return;
        }
        let to = settled - context;
        self.b.settle_window();
        self.found
            .add(self.b.timeline(), self.redact, self.from..to, false);
        if let Some(w) = self.b.writeup() {
            for (start, cites) in self.found.take_noted() {
                w.note(start, cites);
            }
        }
        self.b.prune(to - context);
        self.b.close_before(to);
        self.from = to;
        self.windows += 1;
    }

    /// Analyses the last window; returns the timeline, every incident,
    /// how many windows the run was analysed in, the most events retained
    /// at once and, when events came stamped before a window already
    /// analysed, what to say of them.
    pub fn finish(mut self) -> (Timeline, Vec<Incident>, usize, usize, Option<String>) {
        self.b.settle_end();
        self.found
            .add(self.b.timeline(), self.redact, self.from..i64::MAX, true);
        let incidents = self.found.finish();
        let (late, first) = self.b.late();
        let t = self.b.finish();
        let warning = first.map(|c| {
            let path = t.files.get(c.file()).map_or("?", |f| f.path.as_str());
            format!(
                "{path}:{}: {late} event(s) from here on were stamped before lines already analysed \
                 (first {}): the input is not in time order, and incidents among them may be \
                 missed; --window-events 0 analyses the run as a whole",
                c.line(),
                c.ts().map_or_else(|| "?".into(), super::line::format_ms),
            )
        });
        (t, incidents, self.windows + 1, self.peak, warning)
    }
}

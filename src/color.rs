//! Whether text output is coloured: `--color auto|always|never`, with
//! `NO_COLOR` (<https://no-color.org>) honoured under `auto`.
//!
//! The choice is made once per process, in [`crate::app::run`], and read by
//! the text renderers through [`paint`]. JSON, CSV, Markdown, HTML and
//! Prometheus output are never coloured.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--color` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// Colour when stdout is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    /// Always colour, even into a pipe.
    Always,
    /// Never colour.
    Never,
}

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Decides whether to colour: `always` and `never` win; `auto` colours a
/// terminal unless `NO_COLOR` holds a non-empty value.
pub fn decide(when: ColorWhen, no_color: Option<&std::ffi::OsStr>, tty: bool) -> bool {
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => tty && no_color.is_none_or(|v| v.is_empty()),
    }
}

/// Sets the process's choice from `--color`, the environment and stdout.
pub fn init(when: ColorWhen) {
    let on = decide(
        when,
        std::env::var_os("NO_COLOR").as_deref(),
        std::io::stdout().is_terminal(),
    );
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether text output is coloured.
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The SGR colour of a severity name (either scale: findings'
/// info/warning/critical, incidents' info/low/medium/high/critical).
fn sgr(severity: &str) -> &'static str {
    match severity.to_ascii_lowercase().as_str() {
        "critical" => "1;31",
        "high" => "31",
        "warning" | "medium" => "33",
        "low" => "36",
        _ => "2",
    }
}

/// `text` coloured for `severity` when colour is on; unchanged otherwise.
pub fn paint(text: &str, severity: &str) -> String {
    if enabled() {
        format!("\x1b[{}m{text}\x1b[0m", sgr(severity))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn no_color_only_matters_under_auto() {
        assert!(decide(ColorWhen::Auto, None, true));
        assert!(!decide(ColorWhen::Auto, None, false));
        assert!(!decide(ColorWhen::Auto, Some(OsStr::new("1")), true));
        // An empty NO_COLOR does not disable colour (no-color.org).
        assert!(decide(ColorWhen::Auto, Some(OsStr::new("")), true));
        assert!(decide(ColorWhen::Always, Some(OsStr::new("1")), false));
        assert!(!decide(ColorWhen::Never, None, true));
    }
}

//! The progress bar: shown on stderr only when stderr is a terminal and
//! `--quiet` is off, driven by byte position, never ticked per key.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Creates a byte-position bar for an input of `total` bytes, hidden unless
/// stderr is a terminal and not `quiet`.
pub fn bytes_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// A counter of bytes read from standard input, whose size is unknown until
/// it ends; hidden unless stderr is a terminal and not `quiet`.
pub fn stdin_counter(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} <stdin>: {bytes} read ({binary_bytes_per_sec})")
    {
        bar.set_style(style);
    }
    bar
}

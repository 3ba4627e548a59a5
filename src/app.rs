//! Glue between the command line and the library: one function per
//! subcommand, each opening inputs, running the library, rendering, and
//! mapping the outcome to an exit code.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::cli::{CheckArgs, CheckFormat, Cli, Command, KeysArgs, KeysFormat};
use crate::commands::{self, check, keys};
use crate::progress::bytes_bar;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: findings at or above `--fail-on`.
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: usage or I/O error.
pub const EXIT_ERROR: u8 = 2;
/// Exit code: corrupt input; partial results were printed.
pub const EXIT_CORRUPT: u8 = 3;

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> u8 {
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let code = match cli.command {
        Command::Check(a) => run_check(&a, &mut out),
        Command::Keys(a) => run_keys(&a, &mut out),
        Command::Logs(a) => match crate::logs::run(&a, &mut out) {
            Ok(code) => code,
            Err(e) => io_exit(e),
        },
    };
    match out.flush() {
        Ok(()) => code,
        Err(e) => io_exit(e).max(code),
    }
}

/// A closed pipe (`| head`) is not an error; anything else is exit 2.
fn io_exit(e: io::Error) -> u8 {
    if e.kind() == io::ErrorKind::BrokenPipe {
        EXIT_OK
    } else {
        eprintln!("redsleuth: {e}");
        EXIT_ERROR
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

fn run_check(a: &CheckArgs, out: &mut dyn Write) -> u8 {
    let src = match commands::open(&a.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("redsleuth: {e}");
            return EXIT_ERROR;
        }
    };
    let path = display(&a.file);
    let file = match commands::parse(&src) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("redsleuth: {path}: {e}");
            return EXIT_CORRUPT;
        }
    };
    let pool = commands::pool(a.common.threads);
    let bar = bytes_bar(src.bytes().len() as u64, a.common.quiet);
    let report = check::check(&file, &pool, &|p| bar.set_position(p));
    bar.finish_and_clear();
    let r = match a.format {
        CheckFormat::Text => check::render_text(&report, &path, out),
        CheckFormat::Json => check::render_json(&report, &path, out),
    };
    if let Err(e) = r {
        return io_exit(e);
    }
    if report.is_ok() {
        EXIT_OK
    } else {
        if let Some(e) = report.errors.first() {
            eprintln!("redsleuth: {path}: {e}");
        } else if let check::Checksum::Mismatch { .. } = report.checksum {
            eprintln!(
                "redsleuth: {path}: checksum mismatch at byte {}",
                report.bytes
            );
        }
        EXIT_CORRUPT
    }
}

fn run_keys(a: &KeysArgs, out: &mut dyn Write) -> u8 {
    let src = match commands::open(&a.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("redsleuth: {e}");
            return EXIT_ERROR;
        }
    };
    let path = display(&a.file);
    let file = match commands::parse(&src) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("redsleuth: {path}: {e}");
            return EXIT_CORRUPT;
        }
    };
    let filter = keys::Filter {
        pattern: a.pattern.as_ref().map(|p| p.as_bytes().to_vec()),
        type_name: a.type_name.clone(),
        db: a.db,
    };
    let pool = commands::pool(a.common.threads);
    let bar = bytes_bar(src.bytes().len() as u64, a.common.quiet);
    let mut w = keys::RowWriter::new(out, a.format == KeysFormat::Csv);
    let errors = keys::list(
        &file,
        &pool,
        &filter,
        a.common.redact,
        &|p| bar.set_position(p),
        &mut |r| w.write(&r),
    );
    bar.finish_and_clear();
    if let Some(e) = w.error.take() {
        return io_exit(e);
    }
    for e in &errors {
        eprintln!("redsleuth: {path}: {e}");
    }
    if errors.is_empty() {
        EXIT_OK
    } else {
        EXIT_CORRUPT
    }
}

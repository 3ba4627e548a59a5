//! The `redsleuth` command: parse arguments, run the subcommand, map the
//! outcome to an exit code (0 ok, 1 findings at `--fail-on`, 2 usage or I/O
//! error, 3 corrupt input with partial results printed).

use std::process::ExitCode;

use clap::Parser;

/// mimalloc instead of glibc malloc: the log analysis allocates extracted
/// fields on the parse threads and frees them on the timeline thread, which
/// glibc serves with arena locks and repeated `malloc_consolidate`. Built
/// without transparent huge pages (`no_thp`): batches of records are freed
/// and allocated again all run long, and each 2 MiB page the kernel hands
/// back after a purge is zeroed whole.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = redsleuth::cli::Cli::parse();
    ExitCode::from(redsleuth::app::run(cli))
}

//! The `redsleuth` command: parse arguments, run the subcommand, map the
//! outcome to an exit code (0 ok, 1 findings at `--fail-on`, 2 usage or I/O
//! error, 3 corrupt input with partial results printed).

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = redsleuth::cli::Cli::parse();
    ExitCode::from(redsleuth::app::run(cli))
}

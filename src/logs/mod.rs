//! Log analysis: `redsleuth logs` (the reader lands in a later change).

pub mod cli;

/// Runs `redsleuth logs`; returns the process exit code.
pub fn run(_args: &cli::LogsArgs, _out: &mut dyn std::io::Write) -> std::io::Result<u8> {
    eprintln!("redsleuth: logs: not yet available in this build");
    Ok(2)
}

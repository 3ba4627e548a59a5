//! Arguments of `redsleuth logs`.

use std::path::PathBuf;

/// Arguments of `redsleuth logs`.
#[derive(Debug, clap::Args)]
pub struct LogsArgs {
    /// Log files, directories or globs; plain or .gz/.lz4/.zst.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

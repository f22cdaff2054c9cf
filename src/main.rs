//! The `footfall` command: parses the command line and runs it (`footfall::cli`).

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    footfall::cli::run(footfall::cli::Cli::parse()).await
}

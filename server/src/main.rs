//! The `latchkey` binary: parses the command line and runs a subcommand (`serve` by default).

use clap::{Parser, Subcommand};
use latchkey_server::Config;

#[derive(Parser)]
#[command(name = "latchkey", version, about = "The Latchkey authentication server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the database migrations, then serve (the default).
    Serve,
    /// Apply the database migrations and exit.
    Migrate,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Logs go to stderr; stdout carries only the `listening on` line that scripts wait for.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => latchkey_server::serve(cli.config).await,
        Command::Migrate => Ok(latchkey_server::migrate(&cli.config).await?),
    }
}

//! The `latchkey` binary: parses the configuration and runs the server.

use clap::Parser;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // Logs go to stderr; stdout carries only the `listening on` line that scripts wait for.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    latchkey_server::serve(latchkey_server::Config::parse()).await
}

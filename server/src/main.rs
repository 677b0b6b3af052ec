//! The `latchkey` binary: parses the configuration and runs the server.

use clap::Parser;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("LATCHKEY_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    latchkey_server::serve(latchkey_server::Config::parse()).await
}

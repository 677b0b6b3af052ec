//! `latchkey-server`: the Latchkey authentication service (binary `latchkey`).
//!
//! [`app`] builds the router without a socket, so tests drive it with `tower::ServiceExt::oneshot`;
//! [`serve`] migrates, binds and runs it. Four layers, each importing only the ones below it: `http` (router, extractors, the
//! answers of each resource) → `flows` (the decisions) → `store` (the tables) → `infra` (configuration,
//! database connection, mail, keys, clock).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = latchkey_server::Config::from_env()?;
//! latchkey_server::serve(config).await?;
//! # Ok(()) }
//! ```

pub mod cli;
pub mod flows;
pub mod http;
pub mod infra;
pub mod store;

// The paths the binary, the tests and embedders have used since version 1.
pub use http::router::{app, MAX_BODY_BYTES};
pub use http::{accounts, auth, authz, drf, keys, lifecycle, mfa, openapi, tokens};
pub use infra::clock::now;
pub use infra::config::Config;
pub use infra::error::ApiError;
pub use infra::state::AppState;
pub use infra::{client, config, db, error, links, mail, metrics, passwords, social, state, vault, webauthn};
pub use store::{audit, challenges, django_import, limits, users};

/// Connects, migrates, binds `config.bind`, prints `listening on http://…` once ready, and serves
/// until Ctrl-C, within the connection bounds of the `transport` module.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::new(config).await?;
    state.db.migrate().await?;
    let listener = tokio::net::TcpListener::bind(state.config.bind).await?;
    let addr = listener.local_addr()?;
    store::audit::spawn_sweeper(state.clone());
    let router = http::router::app(state);
    println!("listening on http://{addr}");
    tracing::info!(%addr, "listening");
    http::transport::serve(listener, router, shutdown_signal()).await;
    Ok(())
}

/// Connects and applies the migrations (`latchkey migrate`).
pub async fn migrate(config: &Config) -> Result<(), infra::db::DbError> {
    infra::db::Db::connect(&config.database_url).await?.migrate().await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what systemd, Docker and Kubernetes send to stop a
/// process): either ends the server gracefully, finishing the requests in flight. A handler that
/// cannot be installed leaves that signal's default (the process ends at once).
async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                terminate.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing the requests in flight");
}

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
pub use flows::webhooks;
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
    flows::webhooks::delivery::spawn(state.clone());
    let router = http::router::app(state);
    // The handlers are installed before the server says it is up: a signal sent at once is handled.
    let shutdown = shutdown_signal();
    println!("listening on http://{addr}");
    tracing::info!(%addr, "listening");
    http::transport::serve(listener, router, shutdown).await;
    Ok(())
}

/// Connects and applies the migrations (`latchkey migrate`).
pub async fn migrate(config: &Config) -> Result<(), infra::db::DbError> {
    infra::db::Db::connect(&config.database_url).await?.migrate().await
}

/// Installs the handlers of SIGINT (Ctrl-C) and SIGTERM (what systemd, Docker and Kubernetes send to
/// stop a process) at once, and resolves on either: both end the server gracefully, finishing the
/// requests in flight. A handler that cannot be installed leaves that signal's default (the process
/// ends at once).
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let (mut interrupt, mut terminate) = {
        use tokio::signal::unix::{signal, SignalKind};
        (signal(SignalKind::interrupt()).ok(), signal(SignalKind::terminate()).ok())
    };
    async move {
        #[cfg(unix)]
        {
            let interrupt = async {
                match interrupt.as_mut() {
                    Some(signal) => drop(signal.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            let terminate = async {
                match terminate.as_mut() {
                    Some(signal) => drop(signal.recv().await),
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = interrupt => {}
                () = terminate => {}
            }
        }
        #[cfg(not(unix))]
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
        tracing::info!("shutting down: finishing the requests in flight");
    }
}

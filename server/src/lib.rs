//! `latchkey-server`: the Latchkey authentication service (binary `latchkey`).
//!
//! This first cut answers `GET /healthz` and serves the web demo at `/`; accounts, tokens and the rest
//! of the API arrive with the server issue. [`app`] builds the router without a socket, so tests
//! drive it with `tower::ServiceExt::oneshot`; [`serve`] binds and runs it.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use clap::Parser;
//! let config = latchkey_server::Config::parse_from(["latchkey"]);
//! latchkey_server::serve(config).await
//! # }
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::{Json, Router};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// Server configuration, read from the environment (a flag of the same name overrides).
#[derive(Debug, Clone, clap::Parser)]
#[command(name = "latchkey", version, about = "The Latchkey authentication server")]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// Directory of the web demo served at `/` (built by `scripts/run.sh`).
    #[arg(long, env = "LATCHKEY_DEMO_DIR", default_value = "web-demo")]
    pub demo_dir: PathBuf,
}

/// Everything a request handler may need; shared by every route.
#[derive(Debug, Clone)]
pub struct AppState {
    config: Arc<Config>,
}

impl AppState {
    /// State for `config`.
    pub fn new(config: Config) -> Self {
        Self { config: Arc::new(config) }
    }
}

/// The application's routes, without a socket.
pub fn app(state: AppState) -> Router {
    let demo = ServeDir::new(&state.config.demo_dir);
    Router::new()
        .route("/healthz", get(healthz))
        .fallback_service(demo)
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .with_state(state)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Binds `config.bind`, prints `listening on http://…` once ready, and serves until Ctrl-C.
pub async fn serve(config: Config) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let router = app(AppState::new(config));
    println!("listening on http://{addr}");
    tracing::info!(%addr, "listening");
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
    // If the signal handler cannot be installed, the process is still stopped by SIGTERM/SIGKILL.
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use clap::Parser;
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn healthz_answers_ok_with_security_headers() {
        let state = AppState::new(Config::parse_from(["latchkey"]));
        let response = app(state).oneshot(Request::get("/healthz").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(response.headers()[header::X_FRAME_OPTIONS], "DENY");
        let body = axum::body::to_bytes(response.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#"{"status":"ok"}"#);
    }
}

//! `latchkey-server`: the Latchkey authentication service (binary `latchkey`).
//!
//! [`app`] builds the router without a socket, so tests drive it with `tower::ServiceExt::oneshot`;
//! [`serve`] migrates, binds and runs it. One module per resource, each with its `router()`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = latchkey_server::Config::from_env()?;
//! latchkey_server::serve(config).await?;
//! # Ok(()) }
//! ```

pub mod accounts;
mod admin;
mod admin_keys;
mod admin_sessions;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod challenges;
pub mod cli;
pub mod client;
pub mod config;
mod cookies;
pub mod db;
pub mod django_import;
pub mod drf;
pub mod error;
mod invitations;
pub mod keys;
pub mod lifecycle;
pub mod limits;
pub mod links;
mod login;
pub mod mail;
pub mod metrics;
pub mod mfa;
pub mod openapi;
mod ops;
mod orgs;
pub mod passwords;
mod reauth;
mod session_details;
mod sessions;
pub mod state;
mod sudo;
pub mod tokens;
mod transport;
pub mod users;
pub mod vault;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use error::ApiError;
pub use state::AppState;

/// Request bodies above this are refused with 413 (API.md §2).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The demo page may run its own scripts and WebAssembly, and nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The application's routes, without a socket.
pub fn app(state: AppState) -> Router {
    let demo = ServeDir::new(&state.config.demo_dir);
    let cors = cors(&state.config.cors_origins);
    let every = EveryRequest { metrics: state.metrics.clone(), request_timeout: state.config.request_timeout };
    Router::new()
        .merge(ops::router())
        .merge(accounts::router())
        .merge(sudo::router())
        .merge(tokens::router())
        .merge(mfa::router())
        .merge(lifecycle::router())
        .merge(audit::router())
        .merge(keys::router())
        .merge(orgs::router())
        .merge(admin::router())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(move |request: Request| not_found_or_demo(demo.clone(), request))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors)
        .layer(axum::middleware::from_fn_with_state(every, every_request))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        // Method, path and status only: headers and bodies, which carry tokens and passwords, are not logged.
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RandomRequestId))
        .with_state(state)
}

/// The pages e-mailed links open (`crate::lifecycle`): the demo's `index.html` answers them.
const LINK_PAGES: [&str; 2] = ["/password-reset", "/verify-email"];

/// Unknown `/api/` paths get DRF's 404 body; everything else is the demo's static files.
async fn not_found_or_demo(demo: ServeDir, mut request: Request) -> Response {
    if request.uri().path().starts_with("/api/") {
        return ApiError::NotFound.into_response();
    }
    if LINK_PAGES.contains(&request.uri().path().trim_end_matches('/')) {
        // The page reads `uid` and `token` from its own address; the file is the demo's front page.
        let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
        if let Ok(uri) = format!("/index.html{query}").parse() {
            *request.uri_mut() = uri;
        }
    }
    match demo.oneshot(request).await {
        Ok(response) => response.into_response(),
        Err(never) => match never {},
    }
}

/// What [`every_request`] needs.
#[derive(Debug, Clone)]
struct EveryRequest {
    metrics: std::sync::Arc<metrics::Metrics>,
    request_timeout: std::time::Duration,
}

/// The one middleware of our own every request passes (one layer, so the hot path pays for one):
/// it is answered within the request bounds (`transport::within_bounds`: the request timeout, an
/// unread body drained), counted in the metrics, and, on `/api/`, marked uncacheable. API answers
/// carry tokens, codes and personal data, and differ per caller: no cache, the browser's or a
/// proxy's, may keep them (`Pragma` for HTTP/1.0 caches). The demo's static files stay cacheable.
async fn every_request(State(every): State<EveryRequest>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let family = metrics::Family::of(path);
    let api = family.is_api() || path == "/api";
    let started = std::time::Instant::now();
    let mut response = transport::within_bounds(every.request_timeout, request, next).await;
    every.metrics.observe(family, response.status(), started);
    if api {
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// CORS for the configured origins only; none configured means no cross-origin access.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| HeaderValue::from_str(o.trim()).ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-api-key")])
        // A cross-origin front-end reads when to try again after a 429.
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ])
        .allow_credentials(true)
}

/// A request id for every request that does not bring one: 16 random hex characters.
#[derive(Debug, Clone, Copy)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        use rand_core::RngCore;
        let mut bytes = [0u8; 8];
        rand_core::OsRng.fill_bytes(&mut bytes);
        let id = latchkey_core::encoding::hex(&bytes);
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// Connects, migrates, binds `config.bind`, prints `listening on http://…` once ready, and serves
/// until Ctrl-C, within the connection bounds of the `transport` module.
pub async fn serve(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let state = AppState::new(config).await?;
    state.db.migrate().await?;
    let listener = tokio::net::TcpListener::bind(state.config.bind).await?;
    let addr = listener.local_addr()?;
    audit::spawn_sweeper(state.clone());
    let router = app(state);
    println!("listening on http://{addr}");
    tracing::info!(%addr, "listening");
    transport::serve(listener, router, shutdown_signal()).await;
    Ok(())
}

/// Connects and applies the migrations (`latchkey migrate`).
pub async fn migrate(config: &Config) -> Result<(), db::DbError> {
    db::Db::connect(&config.database_url).await?.migrate().await
}

async fn shutdown_signal() {
    // If the handler cannot be installed, SIGTERM/SIGKILL still stop the process.
    let _ = tokio::signal::ctrl_c().await;
}

/// The lowercase hex SHA-256 of `text`: what the database keeps of refresh-token ids, login-challenge
/// tokens and API keys, all high-entropy values that need no slow hash.
pub(crate) fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    latchkey_core::encoding::hex(&Sha256::digest(text.as_bytes()))
}

/// A configured duration in whole seconds, as the database's Unix-second times count.
pub(crate) fn seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

/// The current time in Unix seconds: the server is where the clock is read.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    #[test]
    fn stored_hashes_are_sha256_hex() {
        // echo -n abc | sha256sum
        assert_eq!(super::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(super::seconds(std::time::Duration::from_secs(90)), 90);
        assert_eq!(super::seconds(std::time::Duration::MAX), i64::MAX);
    }
}

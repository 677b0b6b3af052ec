//! `verify-only`: the ceiling of `GET /api/auth/me/` on this machine. Each request is an HS256
//! signature and expiry check, then a user object serialized once at start (see the crate docs).
//!
//!     LATCHKEY_SECRET_KEY=… LATCHKEY_BIND=127.0.0.1:18100 verify-only
//!     verify-only --mint            # a valid access token for user 1

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use latchkey_bench_bounds::{main_with, unauthorized, user_json, Verifier};

#[derive(Debug, Clone)]
struct App {
    verifier: Verifier,
    /// The answer, serialized once: the bound spends nothing on it per request but the copy out.
    body: axum::body::Bytes,
}

async fn me(State(app): State<App>, headers: HeaderMap) -> Response {
    match app.verifier.user_id(&headers) {
        Some(_) => ([(header::CONTENT_TYPE, "application/json")], app.body.clone()).into_response(),
        None => unauthorized(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    main_with(|verifier| {
        Box::pin(async move {
            let body = serde_json::to_vec(&user_json(1))?.into();
            Ok(Router::new().route("/api/auth/me/", get(me)).with_state(App { verifier, body }))
        })
    })
}

//! The physical bounds of Latchkey's authenticated hot path, measured by `bench/load.sh` in the
//! same run and on the same machine as Latchkey itself.
//!
//! `GET /api/auth/me/` is the request every signed-in page makes. Whatever Latchkey does for it, it
//! cannot do less than accept an HTTP/1 request, check an HS256 signature and an expiry, and write
//! a JSON user object back. The `verify-only` binary does exactly that and nothing else (axum on a
//! multi-threaded tokio runtime, as Latchkey), so its throughput is the ceiling of `me` on this
//! machine: Latchkey's share of it is the cost of everything else (session and user checks, the
//! middleware stack, logs, metrics). `verify-read` adds the one thing a server that keeps no state
//! in memory must add, one indexed SQLite read of the user row per request (WAL, as Latchkey's
//! database), and so bounds a server that reads its database on every request: Latchkey, with its
//! cache of authenticated requests, should come closer to `verify-only` than to `verify-read`.
//!
//! Both answer `/api/auth/me/` only, read `LATCHKEY_SECRET_KEY` (the HS256 secret) and
//! `LATCHKEY_BIND` (default `127.0.0.1:18100`), print `listening on http://ADDR` on stdout once
//! listening, and answer 401 to a missing, badly signed, expired or non-access token. Run with
//! `--mint`, either prints a valid access token for user 1 (one hour) and exits.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The claims of a Latchkey access token that matter here (others are ignored).
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// `access`: refresh tokens are refused, as Latchkey does.
    pub token_type: String,
    /// Expiry, seconds since the epoch: checked.
    pub exp: u64,
    /// Issued at.
    pub iat: u64,
    /// Token id, as Latchkey's tokens carry one (same token size).
    pub jti: String,
    /// The user's id, a string as in simplejwt.
    pub user_id: String,
}

/// The keys both servers verify with.
#[derive(Clone)]
pub struct Verifier {
    key: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Verifier")
    }
}

impl Verifier {
    /// HS256 with `secret`; `exp` is required and checked without leeway.
    pub fn new(secret: &str) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        Self { key: DecodingKey::from_secret(secret.as_bytes()), validation }
    }

    /// The user id of a valid `Authorization: Bearer <access token>`, else `None`.
    pub fn user_id(&self, headers: &HeaderMap) -> Option<i64> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let token = value.strip_prefix("Bearer ")?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation).ok()?.claims;
        (claims.token_type == "access").then_some(())?;
        claims.user_id.parse().ok()
    }
}

/// The answer to a missing or invalid token, as DRF words it.
pub fn unauthorized() -> Response {
    let body = r#"{"detail":"Given token not valid for any token type","code":"token_not_valid"}"#;
    (StatusCode::UNAUTHORIZED, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `LATCHKEY_SECRET_KEY`, or the bench's default.
pub fn secret() -> String {
    std::env::var("LATCHKEY_SECRET_KEY").unwrap_or_else(|_| "bench-secret-bench-secret-bench-secret".into())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A valid access token for user 1, expiring in an hour.
pub fn mint(secret: &str) -> Result<String, jsonwebtoken::errors::Error> {
    let iat = now();
    let claims = Claims {
        token_type: "access".into(),
        exp: iat + 3600,
        iat,
        jti: "0123456789abcdef0123456789abcdef".into(),
        user_id: "1".into(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
}

/// The shared `main`: with `--mint` prints a token and returns; else serves `app` on
/// `LATCHKEY_BIND` on a multi-threaded runtime, printing `listening on http://ADDR` first.
pub fn main_with(app: impl FnOnce(Verifier) -> BoxedApp) -> Result<(), Box<dyn std::error::Error>> {
    let secret = secret();
    if std::env::args().any(|a| a == "--mint") {
        println!("{}", mint(&secret)?);
        return Ok(());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let router = app(Verifier::new(&secret)).await?;
        let bind = std::env::var("LATCHKEY_BIND").unwrap_or_else(|_| "127.0.0.1:18100".into());
        let listener = tokio::net::TcpListener::bind(&bind).await?;
        println!("listening on http://{}", listener.local_addr()?);
        axum::serve(listener, router).await?;
        Ok(())
    })
}

/// What a binary hands [`main_with`]: its router, built asynchronously (it may open a database).
pub type BoxedApp =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Router, Box<dyn std::error::Error>>> + Send>>;

/// The user object both servers answer: the same fields as Latchkey's `/me` (about 350 bytes).
pub fn user_json(id: i64) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "email": "bench@example.com",
        "username": null,
        "first_name": "",
        "last_name": "",
        "bio": "",
        "phone_number": "",
        "birth_date": null,
        "timezone": "",
        "language": "",
        "website": "",
        "is_verified": false,
        "is_staff": false,
        "mfa_enabled": false,
        "date_joined": "2024-01-01T00:00:00.000000Z",
        "last_login": "2024-01-01T00:00:00.000000Z",
    })
}

//! Test harness: a fresh database per test, on SQLite (a temporary file) and on PostgreSQL (a new
//! database on the server named by `LATCHKEY_TEST_POSTGRES_URL`, which `scripts/test.sh` starts).
//! Without that variable the PostgreSQL half is skipped with a message, unless
//! `LATCHKEY_REQUIRE_POSTGRES=1` (set by the test script) makes that a failure.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use latchkey_core::hash::HashParams;
use latchkey_server::config::EmailBackend;
use latchkey_server::db::Db;
use latchkey_server::passwords::Hasher;
use latchkey_server::{app, AppState, Config};
use serde_json::Value;
use tower::ServiceExt;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database and state; `None` when PostgreSQL is not available (and allowed not
/// to be).
pub async fn state(backend: Backend) -> Option<AppState> {
    let dir = std::env::temp_dir().join(format!("latchkey-test-{}", random_suffix()));
    std::fs::create_dir_all(dir.join("mail")).unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/test.db?mode=rwc", dir.display()),
        Backend::Postgres => fresh_postgres_database().await?,
    };
    let mut config = Config::from_env().unwrap();
    config.database_url = url.clone();
    // Every message lands as an `.eml` file in the test's own directory (see `mails`).
    config.email_backend = EmailBackend::File(dir.join("mail"));
    config.secret_key = Some("test-secret-key-test-secret-key-0123456789".into());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let mut state = AppState::with_db(config, db).unwrap();
    // Cheap argon2 keeps the suites fast; the gate and the formats are the same.
    state.hasher = Hasher::new(HashParams { memory_kib: 64, iterations: 1, parallelism: 1 });
    Some(state)
}

pub async fn fresh_postgres_database() -> Option<String> {
    let Ok(admin_url) = std::env::var("LATCHKEY_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("LATCHKEY_REQUIRE_POSTGRES").is_err(),
            "LATCHKEY_REQUIRE_POSTGRES is set but LATCHKEY_TEST_POSTGRES_URL is not"
        );
        eprintln!("skipping the PostgreSQL half: LATCHKEY_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)");
        return None;
    };
    let name = format!("latchkey_test_{}", random_suffix());
    let admin = Db::connect(&admin_url).await.expect("connect to LATCHKEY_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin.pool).await.unwrap();
    admin.pool.close().await;
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

fn random_suffix() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut bytes);
    latchkey_core::encoding::hex(&bytes)
}

/// Runs `test` on a fresh SQLite database, then on a fresh PostgreSQL one.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                if let Some(state) = common::state(common::Backend::Sqlite).await {
                    ($body)(state).await;
                }
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(state) = common::state(common::Backend::Postgres).await {
                    ($body)(state).await;
                }
            }
        }
    };
}

/// Inserts an active user with `password` hashed by the state's hasher; returns its id.
pub async fn create_user(state: &AppState, email: &str, password: &str) -> i64 {
    let hash = state.hasher.hash(password.into(), &Default::default()).await.unwrap();
    let row: (i64,) =
        sqlx::query_as("INSERT INTO users (email, password, date_joined) VALUES ($1, $2, $3) RETURNING id")
            .bind(email)
            .bind(hash)
            .bind(latchkey_server::now())
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    row.0
}

/// A request builder: JSON body, optional bearer token.
pub fn request(method: &str, uri: &str, body: Option<Value>, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// Sends a request built by [`request`] and returns the status and the JSON body.
pub async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let (status, body, _) = send(state, request(method, uri, body, token)).await;
    (status, body)
}

/// Sends `request` through the router and returns the status and the JSON body (`Null` if empty).
pub async fn send(state: &AppState, request: Request<Body>) -> (StatusCode, Value, Response<()>) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    (parts.status, json, Response::from_parts(parts, ()))
}

/// RFC 6238 TOTP (HMAC-SHA1, 6 digits, 30 s) for `time`, written here from the RFC with the hmac
/// and sha1 crates, independent of `latchkey-core`: the server's codes are checked against it.
pub fn totp(secret_base32: &str, time: i64) -> String {
    use hmac::{Hmac, Mac};
    let key = data_encoding::BASE32_NOPAD.decode(secret_base32.as_bytes()).expect("base32 secret");
    let counter = u64::try_from(time / 30).unwrap();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(&key).unwrap();
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    format!("{:06}", binary % 1_000_000)
}

/// The messages the state's file mailer has written, oldest first, once there are at least `count`
/// (delivery runs after the answer; this waits up to 10 s for it).
pub async fn mails(state: &AppState, count: usize) -> Vec<String> {
    let EmailBackend::File(dir) = &state.config.email_backend else { panic!("the test state mails to files") };
    for _ in 0..200 {
        if read_all(dir).len() >= count {
            // A file may still be being written: read them all again once they have settled.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            return read_all(dir);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("fewer than {count} e-mails arrived in {}", dir.display());
}

/// Every `.eml` file in `dir`, oldest first (by modification time, then name).
fn read_all(dir: &std::path::Path) -> Vec<String> {
    let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().extension().is_some_and(|e| e == "eml"))
        .map(|entry| (entry.metadata().unwrap().modified().unwrap(), entry.path()))
        .collect();
    files.sort();
    files.into_iter().map(|(_, path)| std::fs::read_to_string(path).unwrap()).collect()
}

/// The one message in `sent` with this subject.
pub fn mail_with<'a>(sent: &'a [String], subject: &str) -> &'a str {
    let line = format!("Subject: {subject}\r\n");
    let matching: Vec<&String> = sent.iter().filter(|mail| mail.contains(&line)).collect();
    assert_eq!(matching.len(), 1, "{} messages with subject {subject:?} among {sent:?}", matching.len());
    matching[0]
}

/// The `uid` and `token` of the first link to `page` in a message (quoted-printable soft breaks undone).
pub fn link_params(mail: &str, page: &str) -> (String, String) {
    let text = mail.replace("=\r\n", "").replace("=\n", "").replace("=3D", "=");
    let start = text.find(&format!("/{page}?uid=")).unwrap_or_else(|| panic!("no {page} link in {mail}"));
    let query = &text[start + page.len() + 2..];
    let end = query.find(|c: char| c.is_whitespace() || c == '"' || c == '<').unwrap_or(query.len());
    let mut uid = String::new();
    let mut token = String::new();
    for pair in query[..end].split('&') {
        match pair.split_once('=') {
            Some(("uid", value)) => uid = value.to_owned(),
            Some(("token", value)) => token = value.to_owned(),
            _ => {}
        }
    }
    (uid, token)
}

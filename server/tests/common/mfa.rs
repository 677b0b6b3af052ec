//! Two-factor authentication: codes from an RFC 6238 written here (never from `latchkey-core`),
//! authenticators added and confirmed, enrolled users, and the second step of a login.

use axum::http::StatusCode;
use latchkey_server::AppState;
use serde_json::json;
use sqlx::Row;

use super::{call, create_user, login_pair, PASSWORD};

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

/// A confirmed authenticator.
#[derive(Debug)]
pub struct Authenticator {
    pub id: i64,
    pub secret: String,
    /// Given by the first confirmation only (empty afterwards).
    pub backup_codes: Vec<String>,
}

/// Adds an authenticator named `name` from the session of `access` and confirms it with the
/// current code.
pub async fn add_authenticator(state: &AppState, access: &str, name: &str) -> Authenticator {
    let (status, device) =
        call(state, "POST", "/api/auth/2fa/totp/", Some(json!({ "name": name })), Some(access)).await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    let secret = device["secret"].as_str().unwrap().to_owned();
    let id = device["id"].as_i64().unwrap();
    let confirm = format!("/api/auth/2fa/totp/{id}/confirm/");
    let (status, body) =
        call(state, "POST", &confirm, Some(json!({"code": totp(&secret, state.clock.now())})), Some(access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let backup_codes = body["backup_codes"]
        .as_array()
        .map(|codes| codes.iter().map(|c| c.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    Authenticator { id, secret, backup_codes }
}

/// A user with one confirmed authenticator: the state of things after a normal enrollment.
#[derive(Debug)]
pub struct Enrolled {
    pub user_id: i64,
    pub email: String,
    /// The enrolling session's tokens.
    pub access: String,
    pub refresh: String,
    pub device_id: i64,
    pub secret: String,
    pub backup_codes: Vec<String>,
    /// The server's clock, for the codes of the moment.
    pub clock: latchkey_server::infra::clock::Clock,
}

/// Registers `email` (with [`PASSWORD`]), adds an authenticator and confirms it with the current code.
pub async fn enroll(state: &AppState, email: &str) -> Enrolled {
    let user_id = create_user(state, email, PASSWORD).await;
    let (access, refresh) = login_pair(state, email, PASSWORD).await;
    let Authenticator { id: device_id, secret, backup_codes } = add_authenticator(state, &access, "Phone").await;
    Enrolled {
        user_id,
        email: email.to_owned(),
        access,
        refresh,
        device_id,
        secret,
        backup_codes,
        clock: state.clock.clone(),
    }
}

/// The code of the step after the one the enrollment used (still inside the ±1 window).
pub fn next_code(user: &Enrolled) -> String {
    totp(&user.secret, user.clock.now() + 30)
}

/// Login without `otp`: the 403 `mfa_required` body; returns its `mfa_token`.
pub async fn mfa_token(state: &AppState, email: &str) -> String {
    let (status, body) =
        call(state, "POST", "/api/token/", Some(json!({"email": email, "password": PASSWORD})), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["detail"], "Two-factor authentication required.");
    assert_eq!(body["code"], "mfa_required");
    assert_eq!(body["methods"], json!(["totp", "backup_code"]));
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    token
}

/// `user_id`'s two-factor back-off: `(failures, locked until)`.
pub async fn backoff_row(state: &AppState, user_id: i64) -> (i64, i64) {
    let row = sqlx::query("SELECT mfa_failures, mfa_locked_until FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    (row.get("mfa_failures"), row.get("mfa_locked_until"))
}

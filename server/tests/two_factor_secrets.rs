//! Second factors at rest (docs/api.md#two-factor-authentication): TOTP secrets are sealed with the encryption key, survive its
//! rotation, and the database file holds no secret, code or `mfa_token` in any form.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{call, enroll, mfa_token, next_code, PASSWORD};
use latchkey_server::AppState;
use serde_json::json;
use sqlx::Row;

on_both!(secrets_survive_a_key_rotation, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let sealed = |state: AppState| async move {
        let row = sqlx::query("SELECT secret FROM totp_devices").fetch_one(&state.db.pool).await.unwrap();
        row.get::<String, _>("secret")
    };
    let before = sealed(state.clone()).await;
    assert!(before.starts_with(&format!("v1${}$", state.vault.current_key_id())), "{before}");
    // The new key is current; the old one (here the secret key it was derived from) still opens.
    let mut config = (*state.config).clone();
    config.encryption_key = Some("a brand new encryption key".into());
    config.old_encryption_keys = vec![config.secret_key.clone().unwrap()];
    let mut rotated = AppState::with_db(config.clone(), state.db.clone()).unwrap();
    rotated.hasher = state.hasher.clone();
    let (status, body) = call(
        &rotated,
        "POST",
        "/api/token/",
        Some(json!({"email": ada.email, "password": PASSWORD, "otp": next_code(&ada)})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = sealed(state.clone()).await;
    assert!(after.starts_with(&format!("v1${}$", rotated.vault.current_key_id())), "sealed again on use: {after}");
    // Backup codes hashed under the old key still match.
    let (status, _) = call(
        &rotated,
        "POST",
        "/api/token/",
        Some(json!({"email": ada.email, "password": PASSWORD, "otp": ada.backup_codes[0]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // `latchkey rekey` finds nothing left to do, and the old key can go.
    assert_eq!(latchkey_server::mfa::rekey(&rotated).await.unwrap(), 0);
    config.old_encryption_keys.clear();
    let mut new_only = AppState::with_db(config, state.db.clone()).unwrap();
    new_only.hasher = state.hasher.clone();
    let (status, body) = call(&new_only, "GET", "/api/auth/2fa/", None, Some(&ada.access)).await;
    assert_eq!((status, body["enabled"].clone()), (StatusCode::OK, json!(true)));
});

/// The database file holds no second factor in any form: not the base32 or raw secret, not its
/// hex, not a backup code, not an `mfa_token`. SQLite only (the file is what an attacker copies);
/// the write-ahead log and shared-memory files are read too, since recent writes sit there.
#[tokio::test]
async fn the_sqlite_file_holds_no_secret_or_code() {
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let ada = enroll(&state, "ada@example.com").await;
    let token = mfa_token(&state, &ada.email).await;
    // A second, unconfirmed device and a regenerated set, so every write path is covered.
    let (_, device) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&ada.access)).await;
    let (_, fresh) =
        call(&state, "POST", "/api/auth/2fa/backup-codes/", Some(json!({"password": PASSWORD})), Some(&ada.access))
            .await;

    let path = state.config.database_url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(file) = std::fs::read(format!("{path}{suffix}")) {
            bytes.extend(file);
        }
    }
    assert!(bytes.len() > 4096, "read {} bytes from {path}", bytes.len());
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for secret in [ada.secret.as_str(), device["secret"].as_str().unwrap()] {
        let raw = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
        assert!(!text.contains(&secret.to_lowercase()), "base32 secret in the file");
        assert!(!contains(&raw), "raw secret in the file");
        assert!(!text.contains(&latchkey_core::encoding::hex(&raw)), "hex secret in the file");
    }
    let codes = ada
        .backup_codes
        .iter()
        .chain(
            fresh["backup_codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .map(str::to_owned)
                .collect::<Vec<_>>()
                .iter(),
        )
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(codes.len(), 20);
    for code in &codes {
        assert!(!text.contains(code) && !text.contains(&code.replace('-', "")), "backup code {code} in the file");
    }
    assert!(!text.contains(&token), "mfa_token in the file");
    // The check can see what is there: the e-mail address is stored in the clear.
    assert!(text.contains("ada@example.com"));
}

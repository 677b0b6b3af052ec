//! Signing-key rotation (docs/operations.md#rotating-the-signing-key) on both databases: tokens the
//! previous key signed still verify, by `kid`, on a node that signs with the new one, and what the
//! new key signs verifies on a node that only announced it; the JWKS lists the current key first;
//! a key in neither place is refused, and so is the old key once dropped. With HS256, previous
//! secret keys keep tokens, e-mailed links and (while the encryption key is derived from the secret)
//! TOTP secrets and backup codes working. `latchkey keys rotate` prints the steps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use axum::http::StatusCode;
use common::{
    call, enroll, es256_key, fresh_dir, jwks_kids, kid, latchkey, link_params, login_pair, mail_with, mails, next_code,
    refresh, PASSWORD,
};
use latchkey_core::token::Algorithm;
use latchkey_server::{AppState, Config};
use serde_json::json;
use sqlx::Row;

/// Another node on `base`'s database: its configuration with `change` made, keys read anew.
fn node(base: &AppState, change: impl FnOnce(&mut Config)) -> AppState {
    let mut config = (*base.config).clone();
    change(&mut config);
    let mut state = AppState::with_db(config, base.db.clone()).unwrap();
    state.hasher = base.hasher.clone();
    state.clock = base.clock.clone();
    state
}

/// ES256 signing with `current`, verifying with `previous` too.
fn es256<'a>(current: &'a Path, previous: &'a [&'a Path]) -> impl FnOnce(&mut Config) + 'a {
    move |config| {
        config.jwt_algorithm = Algorithm::ES256;
        config.jwt_private_key_file = Some(current.to_owned());
        config.jwt_previous_key_files = previous.iter().map(|path| path.to_path_buf()).collect();
    }
}

/// HS256 with `current` as the secret key and `previous` secrets; the encryption key derived from
/// the secret key (unset), as in a deployment that never set it.
fn hs256<'a>(current: &'a str, previous: &'a [&'a str]) -> impl FnOnce(&mut Config) + 'a {
    move |config| {
        config.jwt_algorithm = Algorithm::HS256;
        config.secret_key = Some(current.to_owned());
        config.previous_secret_keys = previous.iter().map(|secret| (*secret).to_owned()).collect();
        config.encryption_key = None;
        config.old_encryption_keys = Vec::new();
    }
}

async fn me(state: &AppState, access: &str) -> StatusCode {
    call(state, "GET", "/api/auth/me/", None, Some(access)).await.0
}

async fn jwks(state: &AppState) -> Vec<String> {
    let (status, body) = call(state, "GET", "/.well-known/jwks.json", None, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    jwks_kids(&body)
}

on_both!(previous_keys_verify_by_kid_and_the_jwks_lists_them, |state: AppState| async move {
    let dir = fresh_dir("rotation-keys");
    let (k1, k2, k3) = (es256_key(&dir, "k1"), es256_key(&dir, "k2"), es256_key(&dir, "k3"));
    let before = node(&state, es256(&k1.private, &[]));
    common::create_user(&before, "ada@example.com", PASSWORD).await;
    let (access, refresh_token) = login_pair(&before, "ada@example.com", PASSWORD).await;
    assert_eq!((kid(&access), kid(&refresh_token)), (k1.kid.clone(), k1.kid.clone()), "tokens name their key");
    assert_eq!(jwks(&before).await, [k1.kid.as_str()]);

    // Step 1: K2 is announced: listed after K1, which still signs.
    let announced = node(&state, es256(&k1.private, &[&k2.private]));
    assert_eq!(jwks(&announced).await, [k1.kid.as_str(), k2.kid.as_str()]);
    assert_eq!(kid(&login_pair(&announced, "ada@example.com", PASSWORD).await.0), k1.kid);

    // Step 2: K2 signs; K1, given as its public key alone, still verifies: access and refresh tokens.
    let switched = node(&state, es256(&k2.private, &[&k1.public]));
    assert_eq!(jwks(&switched).await, [k2.kid.as_str(), k1.kid.as_str()]);
    assert_eq!(me(&switched, &access).await, StatusCode::OK);
    let (status, pair) = refresh(&switched, &refresh_token).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let (new_access, new_refresh) = (pair["access"].as_str().unwrap(), pair["refresh"].as_str().unwrap());
    assert_eq!((kid(new_access), kid(new_refresh)), (k2.kid.clone(), k2.kid.clone()));
    // A node still at step 1 accepts what a switched node signs: the order of restarts does not matter.
    assert_eq!(me(&announced, new_access).await, StatusCode::OK);
    let (status, body) = refresh(&announced, new_refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let k1_again = body["access"].as_str().unwrap().to_owned();
    assert_eq!(me(&switched, &k1_again).await, StatusCode::OK);

    // A key that is in neither list is refused, though the account and session are real.
    let stranger = node(&state, es256(&k3.private, &[]));
    let (forged, _) = login_pair(&stranger, "ada@example.com", PASSWORD).await;
    let (status, body) = call(&switched, "GET", "/api/auth/me/", None, Some(&forged)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("token_not_valid")), "{body}");
    assert_eq!(me(&announced, &forged).await, StatusCode::UNAUTHORIZED);

    // Step 3: K1 dropped: what it signed is refused, what K2 signed is not.
    let retired = node(&state, es256(&k2.private, &[]));
    assert_eq!(jwks(&retired).await, [k2.kid.as_str()]);
    assert_eq!(me(&retired, &access).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&retired, &k1_again).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me(&retired, new_access).await, StatusCode::OK);
});

const OLD_SECRET: &str = "the-old-secret-key-of-at-least-32-bytes";
const NEW_SECRET: &str = "the-new-secret-key-of-at-least-32-bytes";

on_both!(previous_secret_keys_keep_tokens_links_and_second_factors, |state: AppState| async move {
    let before = node(&state, hs256(OLD_SECRET, &[]));
    let ada = enroll(&before, "ada@example.com").await;
    // Bob never logs in: his reset link (which a login would void) tests the key alone.
    common::create_user(&before, "bob@example.com", PASSWORD).await;
    let (status, _) =
        call(&before, "POST", "/api/auth/password/reset/", Some(json!({"email": "bob@example.com"})), None).await;
    assert_eq!(status, StatusCode::OK);
    let sent = mails(&before, 1).await;
    let (uid, link_token) = link_params(mail_with(&sent, "Reset your password"), "password-reset");
    let sealed: String = sqlx::query("SELECT secret FROM totp_devices WHERE user_id = $1")
        .bind(ada.user_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .get("secret");

    let switched = node(&state, hs256(NEW_SECRET, &[OLD_SECRET]));
    let forgotten = node(&state, hs256(NEW_SECRET, &[]));
    assert!(switched.vault.open(&sealed, ada.user_id).is_ok(), "the previous secret's vault key opens it");
    assert!(forgotten.vault.open(&sealed, ada.user_id).is_err(), "without it the TOTP secret is lost");
    assert_eq!(me(&forgotten, &ada.access).await, StatusCode::UNAUTHORIZED);

    // Tokens: the old secret's verify on the switched node, the new secret's on an announcing one.
    assert_eq!(me(&switched, &ada.access).await, StatusCode::OK);
    let (status, pair) = refresh(&switched, &ada.refresh).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let new_access = pair["access"].as_str().unwrap();
    assert_eq!(kid(new_access), "", "HS256 tokens stay simplejwt's: no kid");
    assert_eq!(me(&forgotten, new_access).await, StatusCode::OK);
    let announced = node(&state, hs256(OLD_SECRET, &[NEW_SECRET]));
    assert_eq!(me(&announced, new_access).await, StatusCode::OK);

    // The second factor sealed and hashed under the old secret's keys still works, then moves.
    let with_otp = |otp: String| json!({"email": "ada@example.com", "password": PASSWORD, "otp": otp});
    let (status, body) = call(&switched, "POST", "/api/token/", Some(with_otp(next_code(&ada))), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) =
        call(&switched, "POST", "/api/token/", Some(with_otp(ada.backup_codes[0].clone())), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let resealed: String = sqlx::query("SELECT secret FROM totp_devices WHERE user_id = $1")
        .bind(ada.user_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .get("secret");
    assert!(resealed.starts_with(&format!("v1${}$", switched.vault.current_key_id())), "sealed again: {resealed}");

    // The link e-mailed before the switch still resets the password.
    let confirm = json!({"uid": uid, "token": link_token, "new_password": "a brand new horse battery"});
    let path = "/api/auth/password/reset/confirm/";
    assert_eq!(call(&forgotten, "POST", path, Some(confirm.clone()), None).await.0, StatusCode::BAD_REQUEST);
    let (status, body) = call(&switched, "POST", path, Some(confirm), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
});

/// Misconfigured rotations stop the server at start, naming the setting and never the secret.
#[tokio::test]
async fn bad_previous_keys_stop_the_start() {
    let Some(state) = common::state(common::Backend::Sqlite).await else { return };
    let dir = fresh_dir("rotation-errors");
    let k1 = es256_key(&dir, "k1");
    let start = |change: &dyn Fn(&mut Config)| {
        let mut config = (*state.config).clone();
        change(&mut config);
        AppState::with_db(config, state.db.clone()).map(|_| ()).unwrap_err().to_string()
    };
    let error = start(&|config| {
        config.jwt_algorithm = Algorithm::HS256;
        config.jwt_previous_key_files = vec![k1.public.clone()];
    });
    assert!(error.contains("LATCHKEY_PREVIOUS_SECRET_KEYS"), "{error}");
    let error = start(&|config| config.previous_secret_keys = vec!["too-short-to-be-a-key".into()]);
    assert!(error.contains("entry 1 of LATCHKEY_PREVIOUS_SECRET_KEYS is 21 bytes long"), "{error}");
    assert!(!error.contains("too-short-to-be-a-key"), "the secret in a message: {error}");
    let eddsa = dir.join("ed25519.pem");
    std::fs::write(&eddsa, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIGYvY7lookqRTfjb1TQK/FZfVWBjCWTI6aJAoz0U64wb\n-----END PRIVATE KEY-----\n")
        .unwrap();
    for (previous, expected) in [(eddsa, "not a usable ES256 key"), (dir.join("missing.pem"), "cannot read")] {
        let error = start(&|config| es256(&k1.private, &[&previous])(config));
        assert!(error.contains(expected) && error.contains(&previous.display().to_string()), "{error}");
    }
}

/// `latchkey keys rotate` prints the steps for the keys configured, reading them (a broken one is
/// an error) and showing their `kid`s, never a secret.
#[test]
fn keys_rotate_prints_the_steps() {
    let dir = fresh_dir("rotation-cli");
    let (k1, k2) = (es256_key(&dir, "k1"), es256_key(&dir, "k2"));
    let rotate_without = |settings: &[(&str, &str)], unset: &[&str]| {
        let mut command = latchkey(&dir);
        for name in unset {
            command.env_remove(name);
        }
        let output = command.args(["keys", "rotate"]).envs(settings.iter().copied()).output().unwrap();
        let (stdout, stderr) = (String::from_utf8(output.stdout).unwrap(), String::from_utf8(output.stderr).unwrap());
        (output.status.success(), stdout, stderr)
    };
    let rotate = |settings: &[(&str, &str)]| rotate_without(settings, &[]);
    let current = k1.private.display().to_string();
    let previous = k2.public.display().to_string();
    let (ok, text, stderr) = rotate(&[
        ("LATCHKEY_JWT_ALGORITHM", "ES256"),
        ("LATCHKEY_JWT_PRIVATE_KEY_FILE", &current),
        ("LATCHKEY_JWT_PREVIOUS_KEY_FILES", &previous),
        ("LATCHKEY_REFRESH_TOKEN_LIFETIME", "2d"),
    ]);
    assert!(ok, "{stderr}");
    let new = dir.join("new-jwt-key.pem").display().to_string();
    for expected in [
        format!("LATCHKEY_JWT_PRIVATE_KEY_FILE={current} signs (kid {})", k1.kid),
        format!("also verify (kid {})", k2.kid),
        "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256".to_owned(),
        "2. Announce it. On every node, add it to the keys that verify, leaving the current key as it is:".to_owned(),
        format!("LATCHKEY_JWT_PREVIOUS_KEY_FILES={new},{previous}\n"),
        format!("LATCHKEY_JWT_PRIVATE_KEY_FILE={new}\n     LATCHKEY_JWT_PREVIOUS_KEY_FILES={current},{previous}\n"),
        "4. Retire the old key 2days after the last node switched".to_owned(),
    ] {
        assert!(text.contains(&expected), "no {expected:?} in:\n{text}");
    }
    let missing = dir.join("nothing-here.pem").display().to_string();
    let (ok, _, stderr) = rotate(&[("LATCHKEY_JWT_ALGORITHM", "ES256"), ("LATCHKEY_JWT_PRIVATE_KEY_FILE", &missing)]);
    assert!(!ok && stderr.contains("cannot read") && stderr.contains(&missing), "{stderr}");

    // HS256 (the binary's default here): with the encryption key derived from the secret key, the
    // steps start by pinning it; the wait covers e-mailed links too (3 days, fewer than 7 here).
    let (ok, text, stderr) = rotate_without(&[], &["LATCHKEY_ENCRYPTION_KEY"]);
    assert!(ok, "{stderr}");
    for expected in [
        "Rotating the HS256 secret key",
        "0. LATCHKEY_ENCRYPTION_KEY is not set",
        "LATCHKEY_PREVIOUS_SECRET_KEYS=<new secret>",
        "4. Retire the old secret 7days after",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }
    assert!(!text.contains("binary-secret"), "a secret printed:\n{text}");
    let (ok, text, _) = rotate(&[("LATCHKEY_REFRESH_TOKEN_LIFETIME", "1d")]);
    assert!(ok && !text.contains("0. LATCHKEY_ENCRYPTION_KEY"), "{text}");
    assert!(text.contains("4. Retire the old secret 3days after"), "{text}");
}

//! A passkey as the second factor of a password login, and as the proof of re-authentication
//! (docs/api.md#passkeys), on both databases: the `methods` a login offers, the assertion's options and
//! answer at `POST /api/token/mfa/`, what a wrong assertion leaves usable, and sudo mode by passkey.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    add_authenticator, add_passkey, audited, call, claims, create_user, login_pair, registration_options, totp,
    window_passes, with_passkeys, Knobs, SoftKey, PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};

/// A password login that needs its second factor: the 403's body.
async fn second_factor_due(state: &AppState, email: &str) -> Value {
    let (status, body) =
        call(state, "POST", "/api/token/", Some(json!({"email": email, "password": PASSWORD})), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    body
}

async fn step_options(state: &AppState, mfa_token: &Value) -> (StatusCode, Value) {
    call(state, "POST", "/api/token/mfa/webauthn/options/", Some(json!({ "mfa_token": mfa_token })), None).await
}

async fn answer(state: &AppState, mfa_token: &Value, credential: Value) -> (StatusCode, Value) {
    let body = json!({ "mfa_token": mfa_token, "credential": credential });
    call(state, "POST", "/api/token/mfa/", Some(body), None).await
}

on_both!(a_password_login_takes_a_passkey_as_its_second_factor, |state: AppState| async move {
    let state = with_passkeys(state);
    let user_id = create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login_pair(&state, "ada@example.com", PASSWORD).await.0;
    let mut key = SoftKey::new();
    add_passkey(&state, &access, &mut key).await;

    let due = second_factor_due(&state, "ada@example.com").await;
    assert_eq!(due["code"], "mfa_required");
    assert_eq!(due["methods"], json!(["webauthn"]));
    let (status, options) = step_options(&state, &due["mfa_token"]).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    assert_eq!(options["publicKey"]["allowCredentials"][0]["id"], key.id().as_str());
    // A non-verifying assertion is a second factor too: the password was the first.
    let credential = key.assert(&options["publicKey"], &Knobs::default());
    let (status, tokens) = answer(&state, &due["mfa_token"], credential.clone()).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["mfa"], true);
    assert_eq!(audited(&state, "mfa_verified", Some(user_id)).await.last().unwrap()["method"], "webauthn");
    let succeeded = audited(&state, "login_succeeded", Some(user_id)).await;
    assert_eq!(succeeded.last().unwrap(), &json!({"mfa": true, "method": "password"}));
    // The token is spent.
    let (status, body) = answer(&state, &due["mfa_token"], credential).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("mfa_token_invalid")), "{body}");
});

on_both!(methods_list_every_factor_the_account_has, |state: AppState| async move {
    let state = with_passkeys(state);
    create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login_pair(&state, "ada@example.com", PASSWORD).await.0;
    let authenticator = add_authenticator(&state, &access, "Phone").await;
    let due = second_factor_due(&state, "ada@example.com").await;
    assert_eq!(due["methods"], json!(["totp", "backup_code"]));
    // No passkey, no passkey step.
    let (status, body) = step_options(&state, &due["mfa_token"]).await;
    assert_eq!((status, &body["detail"]), (StatusCode::BAD_REQUEST, &json!("This account has no passkey.")), "{body}");
    add_passkey(&state, &access, &mut SoftKey::new()).await;
    let due = second_factor_due(&state, "ada@example.com").await;
    assert_eq!(due["methods"], json!(["totp", "backup_code", "webauthn"]));
    // The code still works beside it.
    let code = totp(&authenticator.secret, state.clock.now() + 30);
    let body = json!({ "mfa_token": due["mfa_token"], "code": code });
    let (status, body) = call(&state, "POST", "/api/token/mfa/", Some(body), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Without passkeys on the server, a login does not offer them.
    let off = {
        let mut off = state.clone();
        off.webauthn = None;
        off
    };
    assert_eq!(second_factor_due(&off, "ada@example.com").await["methods"], json!(["totp", "backup_code"]));
});

on_both!(a_wrong_assertion_leaves_the_login_waiting_for_its_second_factor, |state: AppState| async move {
    let state = with_passkeys(state);
    let user_id = create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login_pair(&state, "ada@example.com", PASSWORD).await.0;
    let mut key = SoftKey::new();
    add_passkey(&state, &access, &mut key).await;
    let mut stranger = SoftKey::new();
    let bob = {
        create_user(&state, "bob@example.com", PASSWORD).await;
        login_pair(&state, "bob@example.com", PASSWORD).await.0
    };
    add_passkey(&state, &bob, &mut stranger).await;
    let due = second_factor_due(&state, "ada@example.com").await;
    let token = &due["mfa_token"];

    for (what, credential) in [
        (
            "bad signature",
            key.assert(
                &step_options(&state, token).await.1["publicKey"],
                &Knobs { bad_signature: true, ..Knobs::default() },
            ),
        ),
        (
            "another account's passkey",
            stranger.assert(&step_options(&state, token).await.1["publicKey"], &Knobs::default()),
        ),
        (
            "foreign origin",
            key.assert(
                &step_options(&state, token).await.1["publicKey"],
                &Knobs { origin: "https://evil.example".into(), ..Knobs::default() },
            ),
        ),
    ] {
        let (status, body) = answer(&state, token, credential).await;
        assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{what}: {body}");
    }
    assert_eq!(audited(&state, "mfa_failed", Some(user_id)).await.len(), 3);
    // An answer without options first: no ceremony.
    let credential = key.assert(&json!({"challenge": common::b64url(&[3; 32])}), &Knobs::default());
    let (status, body) = answer(&state, token, credential).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{body}");
    // A code and a credential at once is one too many.
    let body = json!({ "mfa_token": token, "code": "123456", "credential": {} });
    let (status, body) = call(&state, "POST", "/api/token/mfa/", Some(body), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["non_field_errors"].is_array(), "{body}");
    // The login still waits: the right passkey finishes it.
    let options = step_options(&state, token).await.1;
    let (status, tokens) = answer(&state, token, key.assert(&options["publicKey"], &Knobs::default())).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    // An unknown token gets no options.
    let (status, body) = step_options(&state, &json!("0".repeat(64))).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("mfa_token_invalid")), "{body}");
});

on_both!(a_passkey_reauthenticates_a_session, |state: AppState| async move {
    let state = with_passkeys(state);
    let user_id = create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login_pair(&state, "ada@example.com", PASSWORD).await.0;
    let mut key = SoftKey::new();
    add_passkey(&state, &access, &mut key).await;
    window_passes(&state);
    assert_eq!(registration_options(&state, &access, None).await.0, StatusCode::FORBIDDEN);

    let ask = || call(&state, "POST", "/api/auth/reauthenticate/passkey/options/", Some(json!({})), Some(&access));
    let prove = |options: &Value, credential: Value| {
        let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential });
        call(&state, "POST", "/api/auth/reauthenticate/", Some(body), Some(&access))
    };
    let (status, options) = ask().await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let bad = key.assert(&options["publicKey"], &Knobs { bad_signature: true, ..Knobs::default() });
    let (status, body) = prove(&options, bad).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{body}");
    assert_eq!(
        audited(&state, "reauth_failed", Some(user_id)).await,
        vec![json!({"purpose": "reauthenticate", "method": "passkey"})]
    );

    let (_, options) = ask().await;
    let (status, body) = prove(&options, key.assert(&options["publicKey"], &Knobs::default())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["expires_at"].is_string(), "{body}");
    assert_eq!(audited(&state, "reauthenticated", Some(user_id)).await.last().unwrap()["method"], "passkey");
    let verified = audited(&state, "mfa_verified", Some(user_id)).await;
    assert_eq!(verified.last().unwrap(), &json!({"purpose": "reauthenticate", "method": "webauthn"}));
    // One proof at a time.
    let (_, options) = ask().await;
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": {}, "password": PASSWORD });
    let (status, body) = call(&state, "POST", "/api/auth/reauthenticate/", Some(body), Some(&access)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["non_field_errors"].is_array(), "{body}");
    assert_eq!(registration_options(&state, &access, None).await.0, StatusCode::OK);
    // A ceremony another session asked for is not this one's.
    let (status, tokens) = common::passkey_login(&state, &mut key, &Knobs::default()).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let (_, options) = ask().await;
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": key.assert(&options["publicKey"], &Knobs::default()) });
    let (status, body) = call(&state, "POST", "/api/auth/reauthenticate/", Some(body), tokens["access"].as_str()).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{body}");
});

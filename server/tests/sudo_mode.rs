//! Sudo mode (§12 of the contract), on SQLite and PostgreSQL: sensitive actions need a session that
//! proved the user within `LATCHKEY_REAUTH_WINDOW` (its login, or `POST /api/auth/reauthenticate/`),
//! the old password or code fields still count for their request, and once 2FA is on a session that
//! has not verified a second factor changes nothing of it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    add_authenticator, call_as, create_user, login_with, request, send, signed_in, totp, window_passes, PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

const NEW_PASSWORD: &str = "an entirely different passphrase";

fn reauthentication_required(answer: &(StatusCode, Value)) {
    assert_eq!(answer.0, StatusCode::FORBIDDEN, "{}", answer.1);
    assert_eq!(answer.1, json!({"detail": "Please confirm it is you.", "code": "reauthentication_required"}));
}

on_both!(an_old_session_must_confirm_it_is_you_before_sensitive_actions, |state: AppState| async move {
    let access = signed_in(&state, "ada@example.com").await;
    window_passes(&state);
    reauthentication_required(&call_as(&state, "POST", "/api/auth/api-keys/", json!({"name": "ci"}), &access).await);
    reauthentication_required(&call_as(&state, "POST", "/api/auth/2fa/totp/", json!({}), &access).await);
    reauthentication_required(&call_as(&state, "DELETE", "/api/auth/me/", json!({}), &access).await);
    let change = json!({"new_password": NEW_PASSWORD});
    reauthentication_required(&call_as(&state, "POST", "/api/auth/password/change/", change, &access).await);
    // A wrong password opens nothing and is counted as a failed re-authentication.
    let (status, body) = call_as(&state, "POST", "/api/auth/reauthenticate/", json!({"password": "no"}), &access).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password": ["Incorrect password."]}));
    let (status, body) =
        call_as(&state, "POST", "/api/auth/reauthenticate/", json!({"password": PASSWORD}), &access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
    let (status, body) = call_as(&state, "POST", "/api/auth/api-keys/", json!({"name": "ci"}), &access).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = call_as(&state, "POST", "/api/auth/2fa/totp/", json!({}), &access).await;
    assert_eq!(status, StatusCode::CREATED);
    let events: Vec<String> = sqlx::query("SELECT event FROM audit_events ORDER BY id")
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get("event"))
        .collect();
    assert!(events.contains(&"reauth_failed".to_owned()) && events.contains(&"reauthenticated".to_owned()));
});

on_both!(the_old_password_still_counts_for_its_own_request, |state: AppState| async move {
    let access = signed_in(&state, "bea@example.com").await;
    window_passes(&state);
    let change = json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD});
    let (status, body) = call_as(&state, "POST", "/api/auth/password/change/", change, &access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // For that request only: the window is still closed.
    reauthentication_required(&call_as(&state, "POST", "/api/auth/api-keys/", json!({"name": "x"}), &access).await);
    let (status, _) = call_as(&state, "DELETE", "/api/auth/me/", json!({"password": NEW_PASSWORD}), &access).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
});

on_both!(a_fresh_login_is_recent_enough, |state: AppState| async move {
    let access = signed_in(&state, "cy@example.com").await;
    let (status, body) =
        call_as(&state, "POST", "/api/auth/password/change/", json!({"new_password": NEW_PASSWORD}), &access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = login_with(&state, json!({"email": "cy@example.com", "password": NEW_PASSWORD})).await;
    let (status, _) = call_as(&state, "DELETE", "/api/auth/me/", json!({}), &access).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
});

on_both!(a_session_from_before_two_factor_changes_nothing_of_it, |state: AppState| async move {
    create_user(&state, "dee@example.com", PASSWORD).await;
    let credentials = json!({"email": "dee@example.com", "password": PASSWORD});
    let (old, owner) = (login_with(&state, credentials.clone()).await, login_with(&state, credentials).await);
    // The old session plants a device while 2FA is off; the owner then turns 2FA on with their own.
    let (status, planted) = call_as(&state, "POST", "/api/auth/2fa/totp/", json!({"name": "evil"}), &old).await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = add_authenticator(&state, &owner, "phone").await.secret;
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", planted["id"]);
    let code = totp(planted["secret"].as_str().unwrap(), state.clock.now());
    let (status, _) = call_as(&state, "POST", &confirm, json!({"code": code}), &old).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a device made before 2FA cannot be confirmed from that session");
    let (status, _) = call_as(&state, "POST", "/api/auth/2fa/backup-codes/", json!({"password": PASSWORD}), &old).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the password alone does not do from an unverified session");
    let (status, _) = call_as(&state, "POST", "/api/auth/2fa/totp/", json!({}), &old).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // The old session was not revoked: it only lacks the second factor, until it verifies one.
    let (status, me) = call_as(&state, "GET", "/api/auth/me/", json!({}), &old).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    let next = totp(&secret, state.clock.now() + 30);
    let (status, body) = call_as(&state, "POST", "/api/auth/reauthenticate/", json!({"code": next}), &old).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call_as(&state, "POST", "/api/auth/2fa/totp/", json!({"name": "tablet"}), &old).await;
    assert_eq!(status, StatusCode::CREATED, "verified now");
});

on_both!(an_api_key_cannot_open_the_window, |state: AppState| async move {
    let access = signed_in(&state, "eve@example.com").await;
    let (status, key) = call_as(&state, "POST", "/api/auth/api-keys/", json!({"name": "bot"}), &access).await;
    assert_eq!(status, StatusCode::CREATED);
    let mut request = request("POST", "/api/auth/reauthenticate/", Some(json!({"password": PASSWORD})), None);
    request.headers_mut().insert("x-api-key", key["key"].as_str().unwrap().parse().unwrap());
    let (status, _, _) = send(&state, request).await;
    assert!(matches!(status, StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED), "{status}");
});

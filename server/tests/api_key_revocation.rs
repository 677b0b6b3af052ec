//! API keys die with the owner's access (docs/api.md#api-keys): a password reset, logout-all, deactivation by
//! staff, a forced logout and the emergency 2FA reset each revoke every key of the user, audited as
//! `api_keys_revoked`; a password change does not. Staff list and revoke one user's keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{audited, call, link_params, login, mail_with, mails, make_staff, user, with_key, PASSWORD};
use latchkey_server::AppState;
use serde_json::json;
use sqlx::Row;

const NEW_PASSWORD: &str = "glacier umbrella quartz 71";

/// A staff member's access token.
async fn staff(state: &AppState) -> (i64, String) {
    let (id, _) = user(state, "frank@example.com", false).await;
    make_staff(state, id).await;
    (id, login(state, "frank@example.com", PASSWORD).await)
}

/// A new key of the token's owner: `(id, key)`.
async fn new_key(state: &AppState, token: &str, name: &str) -> (i64, String) {
    let (status, created) = call(state, "POST", "/api/auth/api-keys/", Some(json!({"name": name})), Some(token)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (created["id"].as_i64().unwrap(), created["key"].as_str().unwrap().to_owned())
}

/// What `GET /api/auth/me/` answers a request with this key.
async fn me_with_key(state: &AppState, key: &str) -> StatusCode {
    with_key(state, "GET", "/api/auth/me/", None, key).await.0
}

/// Ada with two working keys, and Bob with one, who must keep it whatever happens to Ada.
struct Fixture {
    ada_id: i64,
    ada: String,
    ada_keys: [String; 2],
    bob_key: String,
}

async fn fixture(state: &AppState) -> Fixture {
    let (ada_id, ada) = user(state, "ada@example.com", false).await;
    let (_, bob) = user(state, "bob@example.com", false).await;
    let ada_keys = [new_key(state, &ada, "ci").await.1, new_key(state, &ada, "backup").await.1];
    let bob_key = new_key(state, &bob, "bob").await.1;
    for key in ada_keys.iter().chain([&bob_key]) {
        assert_eq!(me_with_key(state, key).await, StatusCode::OK, "a key works before");
    }
    Fixture { ada_id, ada, ada_keys, bob_key }
}

/// Ada's keys answer 401, Bob's still works, and the revocation is audited once with `by`.
async fn revoked(state: &AppState, fixture: &Fixture, by: &str) {
    for key in &fixture.ada_keys {
        assert_eq!(me_with_key(state, key).await, StatusCode::UNAUTHORIZED, "{by}: the key is revoked");
    }
    assert_eq!(me_with_key(state, &fixture.bob_key).await, StatusCode::OK, "{by}: another user's key stays");
    assert_eq!(audited(state, "api_keys_revoked", Some(fixture.ada_id)).await, vec![json!({"count": 2, "by": by})]);
}

on_both!(a_password_reset_revokes_every_key, |state: AppState| async move {
    let fixture = fixture(&state).await;
    let (status, _) =
        call(&state, "POST", "/api/auth/password/reset/", Some(json!({"email": "ada@example.com"})), None).await;
    assert_eq!(status, StatusCode::OK);
    let sent = mails(&state, 1).await;
    let (uid, token) = link_params(mail_with(&sent, "Reset your password"), "password-reset");
    let confirm = json!({"uid": uid, "token": token, "new_password": NEW_PASSWORD});
    let (status, body) = call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    revoked(&state, &fixture, "password_reset").await;
});

on_both!(a_password_change_keeps_the_keys, |state: AppState| async move {
    let fixture = fixture(&state).await;
    let change = json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD});
    let (status, body) = call(&state, "POST", "/api/auth/password/change/", Some(change), Some(&fixture.ada)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for key in &fixture.ada_keys {
        assert_eq!(me_with_key(&state, key).await, StatusCode::OK, "a change proves the old password: keys stay");
    }
    assert!(audited(&state, "api_keys_revoked", Some(fixture.ada_id)).await.is_empty());
});

on_both!(logout_all_revokes_every_key, |state: AppState| async move {
    let fixture = fixture(&state).await;
    let (status, body) = call(&state, "POST", "/api/auth/logout-all/", Some(json!({})), Some(&fixture.ada)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    revoked(&state, &fixture, "logout_all").await;
    // With nothing left to revoke, nothing more is audited.
    let ada = login(&state, "ada@example.com", PASSWORD).await;
    call(&state, "POST", "/api/auth/logout-all/", Some(json!({})), Some(&ada)).await;
    assert_eq!(audited(&state, "api_keys_revoked", Some(fixture.ada_id)).await.len(), 1);
});

on_both!(deactivation_revokes_every_key_for_good, |state: AppState| async move {
    let fixture = fixture(&state).await;
    let (_, frank) = staff(&state).await;
    let path = format!("/api/admin/users/{}/", fixture.ada_id);
    let (status, _) = call(&state, "PATCH", &path, Some(json!({"is_active": false})), Some(&frank)).await;
    assert_eq!(status, StatusCode::OK);
    // An inactive owner's keys fail anyway; reactivation shows they were revoked, not suspended.
    let (status, _) = call(&state, "PATCH", &path, Some(json!({"is_active": true})), Some(&frank)).await;
    assert_eq!(status, StatusCode::OK);
    revoked(&state, &fixture, "admin_deactivation").await;
    // Changing another flag revokes nothing.
    let ada_key = new_key(&state, &login(&state, "ada@example.com", PASSWORD).await, "again").await.1;
    call(&state, "PATCH", &path, Some(json!({"is_verified": true})), Some(&frank)).await;
    assert_eq!(me_with_key(&state, &ada_key).await, StatusCode::OK);
});

on_both!(a_forced_logout_revokes_every_key, |state: AppState| async move {
    let fixture = fixture(&state).await;
    let (_, frank) = staff(&state).await;
    let path = format!("/api/admin/users/{}/logout/", fixture.ada_id);
    assert_eq!(call(&state, "POST", &path, None, Some(&frank)).await.0, StatusCode::OK);
    revoked(&state, &fixture, "admin_logout").await;
});

on_both!(the_admin_2fa_reset_revokes_every_key, |state: AppState| async move {
    let fixture = fixture(&state).await;
    let (_, frank) = staff(&state).await;
    let path = format!("/api/admin/users/{}/2fa/reset/", fixture.ada_id);
    let reason = json!({"reason": "Lost phone; identity checked by video call"});
    assert_eq!(call(&state, "POST", &path, Some(reason), Some(&frank)).await.0, StatusCode::OK);
    revoked(&state, &fixture, "admin_2fa_reset").await;
});

on_both!(staff_list_and_revoke_a_users_keys, |state: AppState| async move {
    let fixture = fixture(&state).await;
    let (frank_id, frank) = staff(&state).await;
    let keys = format!("/api/admin/users/{}/api-keys/", fixture.ada_id);

    // The list is the owner's own list: no key, no hash.
    let (status, listed) = call(&state, "GET", &keys, None, Some(&frank)).await;
    assert_eq!(status, StatusCode::OK);
    let (_, own) = call(&state, "GET", "/api/auth/api-keys/", None, Some(&fixture.ada)).await;
    assert_eq!(listed, own);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    for key in listed.as_array().unwrap() {
        assert!(key.get("key").is_none() && key.get("key_hash").is_none(), "{key}");
    }

    // Staff only; unknown users and other users' keys are 404.
    let first = listed[0]["id"].as_i64().unwrap();
    let one = format!("{keys}{first}/");
    for (token, expected) in [(None, StatusCode::UNAUTHORIZED), (Some(fixture.ada.as_str()), StatusCode::FORBIDDEN)] {
        assert_eq!(call(&state, "GET", &keys, None, token).await.0, expected);
        assert_eq!(call(&state, "DELETE", &one, None, token).await.0, expected);
    }
    assert_eq!(
        call(&state, "GET", "/api/admin/users/999999/api-keys/", None, Some(&frank)).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, _) =
        call(&state, "DELETE", &format!("/api/admin/users/999999/api-keys/{first}/"), None, Some(&frank)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bob_key_id: i64 =
        sqlx::query("SELECT k.id FROM api_keys k JOIN users u ON u.id = k.user_id WHERE u.email = 'bob@example.com'")
            .fetch_one(&state.db.pool)
            .await
            .unwrap()
            .get("id");
    let (status, _) = call(&state, "DELETE", &format!("{keys}{bob_key_id}/"), None, Some(&frank)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "Bob's key under Ada's path");
    assert_eq!(me_with_key(&state, &fixture.bob_key).await, StatusCode::OK);

    // Revoking one key: the newest (listed first) is `backup`; `ci` keeps working.
    assert_eq!(call(&state, "DELETE", &one, None, Some(&frank)).await.0, StatusCode::NO_CONTENT);
    assert_eq!(me_with_key(&state, &fixture.ada_keys[1]).await, StatusCode::UNAUTHORIZED);
    assert_eq!(me_with_key(&state, &fixture.ada_keys[0]).await, StatusCode::OK);
    assert_eq!(call(&state, "DELETE", &one, None, Some(&frank)).await.0, StatusCode::NOT_FOUND, "already revoked");
    assert_eq!(call(&state, "GET", &keys, None, Some(&frank)).await.1.as_array().unwrap().len(), 1);
    let audited = audited(&state, "api_key_revoked", Some(fixture.ada_id)).await;
    assert_eq!(audited.len(), 1);
    assert_eq!(
        (audited[0]["key_id"].as_i64(), audited[0]["by"].as_str(), audited[0]["staff"].as_i64()),
        (Some(first), Some("admin"), Some(frank_id))
    );
});

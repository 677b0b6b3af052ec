//! The node's cache of authenticated requests (`infra/auth_cache.rs`) on both databases: once a
//! token's user and session are in memory, every write that changes what `GET /api/auth/me/` or a
//! permission check sees is seen by the very next request: logout, logout-all, revoking one
//! session (by its user or by staff), deactivation, deletion, a password change, a profile change,
//! staff and verification flags, turning 2FA on. A write racing with reads is never undone by them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::{
    add_authenticator, call, create_user, login_with_agent, make_staff, record_writes, refresh, writes_since, Pair,
    PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};

async fn me(state: &AppState, token: &str) -> (StatusCode, Value) {
    call(state, "GET", "/api/auth/me/", None, Some(token)).await
}

/// Asks `/me` with `token` until the answer comes from memory (on PostgreSQL the cache answers
/// once its listener is connected): from then on the cache is what a stale answer would come from.
async fn warm(state: &AppState, token: &str) -> Value {
    for _ in 0..100 {
        let (hits, _) = state.db.auth_cache.counts();
        let (status, body) = me(state, token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if state.db.auth_cache.counts().0 > hits {
            return body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the cache never answered");
}

/// Two sessions of a new user `email`, both warm.
async fn two_sessions(state: &AppState, email: &str) -> (i64, Pair, Pair) {
    let id = create_user(state, email, PASSWORD).await;
    let laptop = login_with_agent(state, email, "laptop").await;
    let phone = login_with_agent(state, email, "phone").await;
    warm(state, &laptop.access).await;
    warm(state, &phone.access).await;
    (id, laptop, phone)
}

fn refused(answer: &(StatusCode, Value), code: &str) {
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{}", answer.1);
    assert_eq!(answer.1["code"], code, "{}", answer.1);
}

on_both!(a_closed_session_is_refused_by_the_very_next_request, |state: AppState| async move {
    let (_, laptop, phone) = two_sessions(&state, "ada@example.com").await;
    let verify = |token: &str| {
        let (state, body) = (state.clone(), json!({ "token": token }));
        async move { call(&state, "POST", "/api/token/verify/", Some(body), None).await }
    };
    let (hits, _) = state.db.auth_cache.counts();
    assert_eq!(verify(&laptop.access).await, (StatusCode::OK, json!({})));
    assert!(state.db.auth_cache.counts().0 > hits, "verify answered from memory");
    // Logout.
    assert_eq!(call(&state, "POST", "/api/auth/logout/", None, Some(&laptop.access)).await.0, StatusCode::OK);
    refused(&me(&state, &laptop.access).await, "token_not_valid");
    refused(&verify(&laptop.access).await, "token_not_valid");
    assert_eq!(me(&state, &phone.access).await.0, StatusCode::OK, "the other session is open");
    // One session revoked by another.
    let third = login_with_agent(&state, "ada@example.com", "tablet").await;
    warm(&state, &third.access).await;
    let uri = format!("/api/auth/sessions/{}/", third.sid);
    assert_eq!(call(&state, "DELETE", &uri, None, Some(&phone.access)).await.0, StatusCode::NO_CONTENT);
    refused(&me(&state, &third.access).await, "token_not_valid");
    // Logout-all.
    assert_eq!(call(&state, "POST", "/api/auth/logout-all/", None, Some(&phone.access)).await.0, StatusCode::OK);
    refused(&me(&state, &phone.access).await, "token_not_valid");
});

on_both!(staff_actions_are_seen_by_the_very_next_request, |state: AppState| async move {
    let staff_id = create_user(&state, "root@example.com", PASSWORD).await;
    make_staff(&state, staff_id).await;
    let staff = login_with_agent(&state, "root@example.com", "admin").await.access;
    let (ada, laptop, phone) = two_sessions(&state, "ada@example.com").await;
    // Staff revokes one session.
    let uri = format!("/api/admin/users/{ada}/sessions/{}/", laptop.sid);
    assert_eq!(call(&state, "DELETE", &uri, None, Some(&staff)).await.0, StatusCode::NO_CONTENT);
    refused(&me(&state, &laptop.access).await, "token_not_valid");
    // Staff makes ada staff: her next request says so.
    let uri = format!("/api/admin/users/{ada}/");
    let (status, body) = call(&state, "PATCH", &uri, Some(json!({"is_staff": true})), Some(&staff)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(me(&state, &phone.access).await.1["is_staff"], true);
    // Staff deactivates her: refused at once.
    warm(&state, &phone.access).await;
    let (status, body) = call(&state, "PATCH", &uri, Some(json!({"is_active": false})), Some(&staff)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    refused(&me(&state, &phone.access).await, "user_inactive");
});

on_both!(changes_to_the_account_are_seen_by_the_very_next_request, |state: AppState| async move {
    let (_, laptop, phone) = two_sessions(&state, "ada@example.com").await;
    // A profile change made in one session shows in the other.
    let (status, _) =
        call(&state, "PATCH", "/api/auth/me/", Some(json!({"first_name": "Ada"})), Some(&laptop.access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me(&state, &phone.access).await.1["first_name"], "Ada");
    // Turning 2FA on.
    warm(&state, &phone.access).await;
    add_authenticator(&state, &laptop.access, "Phone").await;
    assert_eq!(me(&state, &phone.access).await.1["mfa_enabled"], true);
    // A password change closes the other sessions.
    warm(&state, &phone.access).await;
    let change = json!({"old_password": PASSWORD, "new_password": "an entirely new passphrase"});
    let (status, body) = call(&state, "POST", "/api/auth/password/change/", Some(change), Some(&laptop.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    refused(&me(&state, &phone.access).await, "token_not_valid");
    // Deleting the account.
    let access = body["access"].as_str().map_or(laptop.access.clone(), str::to_owned);
    warm(&state, &access).await;
    let gone = json!({"password": "an entirely new passphrase"});
    assert_eq!(call(&state, "DELETE", "/api/auth/me/", Some(gone), Some(&access)).await.0, StatusCode::NO_CONTENT);
    refused(&me(&state, &access).await, "user_not_found");
});

on_both!(reads_racing_a_logout_never_bring_the_session_back, |state: AppState| async move {
    let (_, laptop, _) = two_sessions(&state, "ada@example.com").await;
    // Readers hammer /me while the session is closed; once the logout has answered, no reader may
    // be let in again, however their database reads and the cache's writes interleave.
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let (state, token) = (state.clone(), laptop.access.clone());
            tokio::spawn(async move {
                for _ in 0..40 {
                    me(&state, &token).await;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(call(&state, "POST", "/api/auth/logout/", None, Some(&laptop.access)).await.0, StatusCode::OK);
    for _ in 0..50 {
        refused(&me(&state, &laptop.access).await, "token_not_valid");
    }
    for reader in readers {
        reader.await.unwrap();
    }
    refused(&me(&state, &laptop.access).await, "token_not_valid");
});

on_both!(a_zero_time_to_live_turns_the_cache_off, |state: AppState| async move {
    // As `LATCHKEY_AUTH_CACHE_TTL=0` does at start-up.
    state.db.auth_cache.set_ttl(Duration::ZERO);
    create_user(&state, "ada@example.com", PASSWORD).await;
    let pair = login_with_agent(&state, "ada@example.com", "laptop").await;
    for _ in 0..3 {
        assert_eq!(me(&state, &pair.access).await.0, StatusCode::OK);
    }
    assert_eq!(state.db.auth_cache.counts().0, 0, "nothing answered from memory");
});

on_both!(the_hot_path_writes_nothing_and_a_refresh_writes_one_row, |state: AppState| async move {
    create_user(&state, "ada@example.com", PASSWORD).await;
    let pair = login_with_agent(&state, "ada@example.com", "laptop").await;
    record_writes(&state).await;
    // Reading the caller, verifying a token and reading it from memory or from the database: no row.
    me(&state, &pair.access).await;
    warm(&state, &pair.access).await;
    let (status, _) = call(&state, "POST", "/api/token/verify/", Some(json!({"token": pair.access})), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(writes_since(&state).await, Vec::<String>::new());
    // A refresh: the session moves on to its next token, in one row and nothing else.
    let (status, body) = refresh(&state, &pair.refresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(writes_since(&state).await, ["sessions UPDATE"]);
});

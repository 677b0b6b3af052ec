//! Sessions a signed-in user manages (docs/api.md#accounts-and-registration): logout, logout-all, the list, and revoking one,
//! on both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{blacklisted, call_as, create_user, list_sessions, login_with_agent, refresh, request, send, PASSWORD};
use latchkey_server::AppState;
use serde_json::{json, Value};

async fn logout(state: &AppState, token: &str, refresh: &str) -> (StatusCode, Value) {
    call_as(state, "POST", "/api/auth/logout/", Some(json!({ "refresh": refresh })), token).await
}

on_both!(sessions_are_listed_newest_first, |state: AppState| async move {
    create_user(&state, "alice@example.com", PASSWORD).await;
    let laptop = login_with_agent(&state, "alice@example.com", "laptop").await;
    // Time passes between the logins, so that the order is observable.
    common::pass(&state, 100);
    let phone = login_with_agent(&state, "alice@example.com", "phone").await;
    let (status, body) = list_sessions(&state, &phone.access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sessions = body.as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(
        sessions
            .iter()
            .map(|s| (s["user_agent"].as_str().unwrap(), s["current"].as_bool().unwrap()))
            .collect::<Vec<_>>(),
        [("phone", true), ("laptop", false)]
    );
    let keys: Vec<&str> = sessions[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys.len(), 12);
    let lifetimes = ["expires_at", "absolute_expires_at"];
    let details = ["name", "device", "auth_method", "mfa"];
    let basics = ["id", "created_at", "last_used_at", "ip", "user_agent", "current"];
    for key in basics.iter().chain(&lifetimes).chain(&details) {
        assert!(keys.contains(key), "{key} in {keys:?}");
    }
    assert_eq!(sessions[0]["ip"], "", "no socket address through oneshot");
    let created = sessions[0]["created_at"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T', "{created}");
    assert_ne!(sessions[1]["created_at"], sessions[0]["created_at"]);
    let (_, body) = list_sessions(&state, &laptop.access).await;
    assert_eq!(body[1]["current"], true, "current follows the token's session");
});

on_both!(deleting_a_session_revokes_it, |state: AppState| async move {
    create_user(&state, "alice@example.com", PASSWORD).await;
    create_user(&state, "mallory@example.com", PASSWORD).await;
    let laptop = login_with_agent(&state, "alice@example.com", "laptop").await;
    let phone = login_with_agent(&state, "alice@example.com", "phone").await;
    let mallory = login_with_agent(&state, "mallory@example.com", "evil").await;
    let (_, body) = list_sessions(&state, &laptop.access).await;
    let phone_id = body.as_array().unwrap().iter().find(|s| s["user_agent"] == "phone").unwrap()["id"].clone();
    let phone_uri = format!("/api/auth/sessions/{}/", phone_id.as_str().unwrap());

    let not_found = (StatusCode::NOT_FOUND, json!({"detail": "Not found."}));
    assert_eq!(call_as(&state, "DELETE", &phone_uri, None, &mallory.access).await, not_found, "someone else's session");
    assert_eq!(list_sessions(&state, &phone.access).await.0, StatusCode::OK, "…which survives");

    let (status, body) = call_as(&state, "DELETE", &phone_uri, None, &laptop.access).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(call_as(&state, "DELETE", &phone_uri, None, &laptop.access).await, not_found, "already revoked");
    let unknown = "/api/auth/sessions/00000000000000000000000000000000/";
    assert_eq!(call_as(&state, "DELETE", unknown, None, &laptop.access).await, not_found);
    assert_eq!(list_sessions(&state, &phone.access).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(refresh(&state, &phone.refresh).await.0, StatusCode::UNAUTHORIZED);
    let (_, body) = list_sessions(&state, &laptop.access).await;
    assert!(body.as_array().unwrap().iter().all(|s| s["id"] != phone_id), "{body}");
    assert_eq!(list_sessions(&state, &mallory.access).await.0, StatusCode::OK);
});

on_both!(logout_revokes_the_current_session, |state: AppState| async move {
    create_user(&state, "alice@example.com", PASSWORD).await;
    let laptop = login_with_agent(&state, "alice@example.com", "laptop").await;
    let phone = login_with_agent(&state, "alice@example.com", "phone").await;
    assert_eq!(call_as(&state, "POST", "/api/auth/logout/", None, &laptop.access).await, (StatusCode::OK, json!({})));
    assert_eq!(list_sessions(&state, &laptop.access).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(refresh(&state, &laptop.refresh).await.0, StatusCode::UNAUTHORIZED);
    let (status, body) = list_sessions(&state, &phone.access).await;
    assert_eq!((status, body.as_array().unwrap().len()), (StatusCode::OK, 1));
});

on_both!(logout_with_a_refresh_token_revokes_its_session, |state: AppState| async move {
    create_user(&state, "alice@example.com", PASSWORD).await;
    create_user(&state, "mallory@example.com", PASSWORD).await;
    let laptop = login_with_agent(&state, "alice@example.com", "laptop").await;
    let phone = login_with_agent(&state, "alice@example.com", "phone").await;
    let mallory = login_with_agent(&state, "mallory@example.com", "evil").await;
    let invalid = json!({"detail": "Token is invalid", "code": "token_not_valid"});
    assert_eq!(logout(&state, &laptop.access, "garbage").await, (StatusCode::UNAUTHORIZED, invalid.clone()));
    assert_eq!(logout(&state, &laptop.access, &mallory.refresh).await, (StatusCode::UNAUTHORIZED, invalid));
    assert_eq!(refresh(&state, &mallory.refresh).await.0, StatusCode::OK, "someone else's session is untouched");
    let wrong_type = json!({"detail": "Token has wrong type", "code": "token_not_valid"});
    assert_eq!(logout(&state, &laptop.access, &phone.access).await, (StatusCode::UNAUTHORIZED, wrong_type));
    let (status, body) =
        call_as(&state, "POST", "/api/auth/logout/", Some(json!({"refresh": ""})), &laptop.access).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"refresh": ["This field may not be blank."]})));

    assert_eq!(logout(&state, &laptop.access, &phone.refresh).await, (StatusCode::OK, json!({})));
    assert_eq!(refresh(&state, &phone.refresh).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(list_sessions(&state, &phone.access).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(list_sessions(&state, &laptop.access).await.0, StatusCode::OK, "the caller's own session stays open");
    assert_eq!(logout(&state, &laptop.access, &phone.refresh).await, (StatusCode::OK, json!({})), "idempotent");
});

on_both!(logout_all_revokes_every_session, |state: AppState| async move {
    create_user(&state, "alice@example.com", PASSWORD).await;
    create_user(&state, "bob@example.com", PASSWORD).await;
    let laptop = login_with_agent(&state, "alice@example.com", "laptop").await;
    let phone = login_with_agent(&state, "alice@example.com", "phone").await;
    let bob = login_with_agent(&state, "bob@example.com", "bob").await;
    assert_eq!(
        call_as(&state, "POST", "/api/auth/logout-all/", None, &phone.access).await,
        (StatusCode::OK, json!({}))
    );
    for pair in [&laptop, &phone] {
        assert_eq!(list_sessions(&state, &pair.access).await, (StatusCode::UNAUTHORIZED, blacklisted()));
        assert_eq!(refresh(&state, &pair.refresh).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(list_sessions(&state, &bob.access).await.0, StatusCode::OK, "other users keep their sessions");
    let again = login_with_agent(&state, "alice@example.com", "laptop").await;
    let (status, body) = list_sessions(&state, &again.access).await;
    assert_eq!((status, body.as_array().unwrap().len()), (StatusCode::OK, 1));
});

on_both!(session_endpoints_need_authentication, |state: AppState| async move {
    let anonymous = json!({"detail": "Authentication credentials were not provided."});
    for (method, uri) in [
        ("POST", "/api/auth/logout/"),
        ("POST", "/api/auth/logout-all/"),
        ("GET", "/api/auth/sessions/"),
        ("DELETE", "/api/auth/sessions/abc/"),
    ] {
        let (status, body, _) = send(&state, request(method, uri, None, None)).await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, anonymous.clone()), "{method} {uri}");
    }
});

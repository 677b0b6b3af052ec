//! Session lifetimes and details (docs/api.md#accounts-and-registration, §7), on both databases: the idle and the absolute
//! limit, the sweep of ended sessions, the device, method and limits a session shows, naming a
//! session, logout-all keeping the caller's session, and staff managing a user's sessions.
//!
//! There is no clock to move, so time passes by moving a session's own timestamps in the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use common::{
    call_as, create_user, list_sessions, login_with_agent, make_staff, refresh, request, send, Pair, PASSWORD,
};
use latchkey_server::users::iso8601;
use latchkey_server::{now, AppState};
use serde_json::{json, Value};
use sqlx::Row;

const CHROME_ON_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
const DAY: i64 = 86_400;

/// Refreshes `pair` in place when the server allows it; returns the status and body.
async fn refresh_pair(state: &AppState, pair: &mut Pair) -> (StatusCode, Value) {
    let (status, body) = refresh(state, &pair.refresh).await;
    if status == StatusCode::OK {
        pair.refresh = body["refresh"].as_str().unwrap().to_owned();
        pair.access = body["access"].as_str().unwrap().to_owned();
    }
    (status, body)
}

/// Sets a timestamp column of session `sid`.
async fn set(state: &AppState, sid: &str, column: &str, value: i64) {
    let sql = format!("UPDATE sessions SET {column} = $1 WHERE id = $2");
    sqlx::query(&sql).bind(value).bind(sid).execute(&state.db.pool).await.unwrap();
}

async fn column(state: &AppState, sid: &str, column: &str) -> i64 {
    let sql = format!("SELECT {column} FROM sessions WHERE id = $1");
    sqlx::query(&sql).bind(sid).fetch_one(&state.db.pool).await.unwrap().try_get(0).unwrap()
}

/// The session `sid` as `token`'s user lists it.
async fn listed(state: &AppState, token: &str, sid: &str) -> Value {
    let (status, sessions) = list_sessions(state, token).await;
    assert_eq!(status, StatusCode::OK, "{sessions}");
    sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == sid)
        .unwrap_or_else(|| panic!("{sid} in {sessions}"))
        .clone()
}

async fn rename(state: &AppState, sid: &str, name: Value, token: &str) -> (StatusCode, Value) {
    call_as(state, "PATCH", &format!("/api/auth/sessions/{sid}/"), Some(json!({ "name": name })), token).await
}

fn expired() -> Value {
    json!({"detail": "Token is expired", "code": "token_not_valid"})
}

on_both!(no_refresh_extends_a_session_past_its_absolute_limit, |state: AppState| async move {
    // A short maximum age, shorter than the refresh lifetime: the first refresh token is cut to it.
    let mut config = (*state.config).clone();
    config.session_max_age = Duration::from_secs(3600);
    let mut state = state;
    state.config = Arc::new(config);
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let mut pair = login_with_agent(&state, "alice@example.com", "laptop").await;
    let created = column(&state, &pair.sid, "created_at").await;
    let absolute = column(&state, &pair.sid, "absolute_expires_at").await;
    assert_eq!(absolute, created + 3600);
    let claims = state.keys.verify(&pair.refresh, None, state.clock.now(), &state.expect).unwrap();
    assert_eq!(claims.exp, absolute, "the refresh token ends with the session");

    // Near the limit, a refresh works, but its token and the session's idle limit stop at it.
    common::pass(&state, 3500);
    let other = login_with_agent(&state, "alice@example.com", "phone").await;
    let (status, body) = refresh_pair(&state, &mut pair).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(column(&state, &pair.sid, "absolute_expires_at").await, absolute, "no refresh moves it");
    let claims = state.keys.verify(&pair.refresh, None, state.clock.now(), &state.expect).unwrap();
    assert_eq!(claims.exp, absolute);
    assert_eq!(column(&state, &pair.sid, "expires_at").await, absolute);
    let session = listed(&state, &pair.access, &pair.sid).await;
    assert_eq!(session["absolute_expires_at"], iso8601(absolute));
    assert_eq!(session["expires_at"], iso8601(absolute));

    // Past it, the refresh token is expired and the access token stops too, though it would
    // otherwise still be valid (issued 101 s ago); the session opened later is untouched.
    common::pass(&state, 101);
    assert_eq!(refresh_pair(&state, &mut pair).await, (StatusCode::UNAUTHORIZED, expired()));
    assert_eq!(list_sessions(&state, &pair.access).await.0, StatusCode::UNAUTHORIZED);
    let verify = request("POST", "/api/token/verify/", Some(json!({"token": pair.access})), None);
    assert_eq!(send(&state, verify).await.0, StatusCode::UNAUTHORIZED);
    let (status, sessions) = list_sessions(&state, &other.access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(sessions.as_array().unwrap().len(), 1, "{sessions}");
    assert_eq!(sessions[0]["id"], other.sid.as_str());
    let (status, _) =
        call_as(&state, "DELETE", &format!("/api/auth/sessions/{}/", pair.sid), None, &other.access).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an ended session cannot be revoked");
});

on_both!(an_unused_session_ends_at_its_idle_limit, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let mut pair = login_with_agent(&state, "alice@example.com", "laptop").await;
    let mut other = login_with_agent(&state, "alice@example.com", "phone").await;
    let lifetime = 7 * DAY;
    // Using the session moves its idle limit a refresh lifetime on.
    common::pass(&state, (lifetime - 10).unsigned_abs());
    assert_eq!(refresh_pair(&state, &mut pair).await.0, StatusCode::OK);
    assert_eq!(refresh_pair(&state, &mut other).await.0, StatusCode::OK);
    let idle_limit = column(&state, &pair.sid, "expires_at").await;
    assert!((state.clock.now() + lifetime - 5..=state.clock.now() + lifetime).contains(&idle_limit));
    // Half a lifetime later the other session is used; the first is not.
    common::pass(&state, (lifetime / 2).unsigned_abs());
    assert_eq!(refresh_pair(&state, &mut other).await.0, StatusCode::OK);
    // Unused past its idle limit, the first session is over; the other one goes on.
    common::pass(&state, (lifetime / 2 + 1).unsigned_abs());
    assert_eq!(refresh_pair(&state, &mut pair).await, (StatusCode::UNAUTHORIZED, expired()));
    assert_eq!(refresh_pair(&state, &mut other).await.0, StatusCode::OK);
    let (status, sessions) = list_sessions(&state, &other.access).await;
    assert_eq!((status, sessions.as_array().unwrap().len()), (StatusCode::OK, 1));
});

on_both!(the_sweep_deletes_sessions_that_ended_long_ago, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let retention = i64::try_from(state.config.audit_retention.as_secs()).unwrap();
    let long_ago = now() - retention - 10;
    let mut sids = Vec::new();
    for agent in ["revoked long ago", "revoked lately", "idle long ago", "ended long ago", "ended lately", "open"] {
        sids.push((agent, login_with_agent(&state, "alice@example.com", agent).await.sid));
    }
    for (agent, sid) in &sids {
        match *agent {
            "revoked long ago" => set(&state, sid, "revoked_at", long_ago).await,
            "revoked lately" => set(&state, sid, "revoked_at", now() - 10).await,
            "idle long ago" => set(&state, sid, "expires_at", long_ago).await,
            "ended long ago" => set(&state, sid, "absolute_expires_at", long_ago).await,
            "ended lately" => set(&state, sid, "absolute_expires_at", now() - 10).await,
            _ => {}
        }
    }
    latchkey_server::audit::sweep(&state).await.unwrap();
    let rows = sqlx::query("SELECT user_agent FROM sessions ORDER BY user_agent").fetch_all(&state.db.pool).await;
    let left: Vec<String> = rows.unwrap().iter().map(|row| row.try_get("user_agent").unwrap()).collect();
    assert_eq!(left, ["ended lately", "open", "revoked lately"]);
});

on_both!(sessions_show_their_device_method_and_limits, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let chrome = login_with_agent(&state, "alice@example.com", CHROME_ON_LINUX).await;
    let curl = login_with_agent(&state, "alice@example.com", "curl/8.5.0").await;
    let chrome_session = listed(&state, &curl.access, &chrome.sid).await;
    let curl_session = listed(&state, &curl.access, &curl.sid).await;
    assert_eq!(chrome_session["device"], json!({"browser": "Chrome", "os": "Linux"}));
    assert_eq!(curl_session["device"], json!({"browser": "curl", "os": null}));
    for (session, sid) in [(&chrome_session, &chrome.sid), (&curl_session, &curl.sid)] {
        let details = (&session["auth_method"], &session["mfa"], &session["name"]);
        assert_eq!(details, (&json!("password"), &json!(false), &Value::Null));
        let created = column(&state, sid, "created_at").await;
        assert_eq!(session["absolute_expires_at"], iso8601(created + 30 * DAY), "LATCHKEY_SESSION_MAX_AGE is 30d");
        assert_eq!(session["expires_at"], iso8601(column(&state, sid, "expires_at").await));
        assert_eq!(session["expires_at"], iso8601(created + 7 * DAY), "the refresh lifetime after the login");
    }
    assert_eq!((&curl_session["current"], &chrome_session["current"]), (&json!(true), &json!(false)));
});

on_both!(users_name_their_own_sessions, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    common::create_user(&state, "mallory@example.com", PASSWORD).await;
    let laptop = login_with_agent(&state, "alice@example.com", "laptop").await;
    let phone = login_with_agent(&state, "alice@example.com", "phone").await;
    let mallory = login_with_agent(&state, "mallory@example.com", "evil").await;
    let name_of_phone = || async { listed(&state, &phone.access, &phone.sid).await["name"].clone() };

    let (status, body) = rename(&state, &phone.sid, json!("  Work phone  "), &laptop.access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (&body["id"], &body["name"], &body["current"]),
        (&json!(phone.sid), &json!("Work phone"), &json!(false))
    );
    assert_eq!(name_of_phone().await, "Work phone");
    let uri = format!("/api/auth/sessions/{}/", phone.sid);
    let (status, body) = call_as(&state, "PATCH", &uri, Some(json!({})), &phone.access).await;
    assert_eq!((status, &body["name"], &body["current"]), (StatusCode::OK, &json!("Work phone"), &json!(true)));

    let longest = "é".repeat(64);
    assert_eq!(rename(&state, &phone.sid, json!(longest), &phone.access).await.1["name"], longest.as_str());
    let too_long = json!({"name": ["Ensure this field has no more than 64 characters."]});
    let answer = rename(&state, &phone.sid, json!("x".repeat(65)), &phone.access).await;
    assert_eq!(answer, (StatusCode::BAD_REQUEST, too_long));
    let null = json!({"name": ["This field may not be null."]});
    assert_eq!(rename(&state, &phone.sid, Value::Null, &phone.access).await, (StatusCode::BAD_REQUEST, null));
    assert_eq!(name_of_phone().await, longest.as_str(), "refused names change nothing");

    let not_found = (StatusCode::NOT_FOUND, json!({"detail": "Not found."}));
    let answer = rename(&state, &phone.sid, json!("mine now"), &mallory.access).await;
    assert_eq!(answer, not_found, "someone else's session");
    let unknown = "00000000000000000000000000000000";
    assert_eq!(rename(&state, unknown, json!("x"), &laptop.access).await, not_found);
    assert_eq!(name_of_phone().await, longest.as_str());

    let (status, body) = rename(&state, &phone.sid, json!("   "), &laptop.access).await;
    assert_eq!((status, &body["name"]), (StatusCode::OK, &Value::Null), "blank clears the name");
    assert_eq!(name_of_phone().await, Value::Null);
    assert_eq!(call_as(&state, "DELETE", &uri, None, &laptop.access).await.0, StatusCode::NO_CONTENT);
    assert_eq!(rename(&state, &phone.sid, json!("gone"), &laptop.access).await, not_found, "a revoked session");
});

on_both!(logout_all_can_keep_the_callers_session, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    common::create_user(&state, "bob@example.com", PASSWORD).await;
    let mut laptop = login_with_agent(&state, "alice@example.com", "laptop").await;
    let mut phone = login_with_agent(&state, "alice@example.com", "phone").await;
    let mut tablet = login_with_agent(&state, "alice@example.com", "tablet").await;
    let mut bob = login_with_agent(&state, "bob@example.com", "bob").await;
    // A session that ended by itself is not counted among those revoked.
    let ended = login_with_agent(&state, "alice@example.com", "old").await;
    set(&state, &ended.sid, "expires_at", now() - 1).await;
    let logout_all = |body: Value, token: String| {
        let state = state.clone();
        async move { send(&state, request("POST", "/api/auth/logout-all/", Some(body), Some(&token))).await }
    };

    let (status, body, _) = logout_all(json!({"keep_current": "maybe"}), phone.access.clone()).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"keep_current": ["Must be a valid boolean."]})));
    assert_eq!(refresh_pair(&state, &mut laptop).await.0, StatusCode::OK, "a refused request revokes nothing");

    let (status, body, answer) = logout_all(json!({"keep_current": true}), phone.access.clone()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"revoked": 2})));
    assert!(!answer.headers().contains_key(header::SET_COOKIE), "the caller's refresh cookie lives on");
    assert_eq!(refresh_pair(&state, &mut phone).await.0, StatusCode::OK, "the caller's session still refreshes");
    assert_eq!(list_sessions(&state, &phone.access).await.1.as_array().unwrap().len(), 1);
    for other in [&mut laptop, &mut tablet] {
        assert_eq!(refresh_pair(&state, other).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(list_sessions(&state, &other.access).await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(refresh_pair(&state, &mut bob).await.0, StatusCode::OK, "other users keep their sessions");
    let detail: String = sqlx::query("SELECT detail FROM audit_events WHERE event = 'session_revoked'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .try_get("detail")
        .unwrap();
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!((&detail["count"], &detail["keep_current"]), (&json!(2), &json!(true)));

    let (status, body, _) = logout_all(json!({"keep_current": true}), phone.access.clone()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"revoked": 0})));
    let (status, body, answer) = logout_all(json!({"keep_current": false}), phone.access.clone()).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})), "without it, v1's answer");
    assert!(answer.headers().contains_key(header::SET_COOKIE));
    assert_eq!(refresh_pair(&state, &mut phone).await.0, StatusCode::UNAUTHORIZED);
});

on_both!(staff_list_and_revoke_a_users_sessions, |state: AppState| async move {
    let alice = common::create_user(&state, "alice@example.com", PASSWORD).await;
    let bob = common::create_user(&state, "bob@example.com", PASSWORD).await;
    let staff = create_user(&state, "staff@example.com", PASSWORD).await;
    make_staff(&state, staff).await;
    let mut laptop = login_with_agent(&state, "alice@example.com", CHROME_ON_LINUX).await;
    let phone = login_with_agent(&state, "alice@example.com", "phone").await;
    let bobs = login_with_agent(&state, "bob@example.com", "bob").await;
    let admin = login_with_agent(&state, "staff@example.com", "desk").await;
    let sessions_uri = format!("/api/admin/users/{alice}/sessions/");
    let session_uri = |user: i64, sid: &str| format!("/api/admin/users/{user}/sessions/{sid}/");

    let (status, _, _) = send(&state, request("GET", &sessions_uri, None, None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(call_as(&state, "GET", &sessions_uri, None, &laptop.access).await.0, StatusCode::FORBIDDEN, "not staff");
    let own = call_as(&state, "DELETE", &session_uri(alice, &phone.sid), None, &laptop.access).await;
    assert_eq!(own.0, StatusCode::FORBIDDEN, "not even their own sessions through the admin API");

    let (status, listed) = call_as(&state, "GET", &sessions_uri, None, &admin.access).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let (_, own_list) = list_sessions(&state, &laptop.access).await;
    let without_current = |sessions: &Value| {
        let mut sessions = sessions.clone();
        sessions.as_array_mut().unwrap().iter_mut().for_each(|s| s["current"] = json!(false));
        sessions
    };
    assert_eq!(listed, without_current(&own_list), "the user's own list, with no current session");
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let laptop_session = listed.as_array().unwrap().iter().find(|s| s["id"] == laptop.sid.as_str()).unwrap();
    assert_eq!(laptop_session["device"], json!({"browser": "Chrome", "os": "Linux"}));

    let not_found = (StatusCode::NOT_FOUND, json!({"detail": "Not found."}));
    assert_eq!(call_as(&state, "DELETE", &session_uri(alice, &bobs.sid), None, &admin.access).await, not_found);
    assert_eq!(call_as(&state, "DELETE", &session_uri(bob, &phone.sid), None, &admin.access).await, not_found);
    assert_eq!(call_as(&state, "DELETE", &session_uri(9_999_999, &laptop.sid), None, &admin.access).await, not_found);
    assert_eq!(call_as(&state, "GET", "/api/admin/users/9999999/sessions/", None, &admin.access).await, not_found);
    assert_eq!(call_as(&state, "GET", "/api/admin/users/x/sessions/", None, &admin.access).await, not_found);

    let (status, body) = call_as(&state, "DELETE", &session_uri(alice, &laptop.sid), None, &admin.access).await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    assert_eq!(refresh_pair(&state, &mut laptop).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(list_sessions(&state, &phone.access).await.1.as_array().unwrap().len(), 1);
    assert_eq!(call_as(&state, "DELETE", &session_uri(alice, &laptop.sid), None, &admin.access).await, not_found);
    assert_eq!(list_sessions(&state, &bobs.access).await.0, StatusCode::OK, "bob's session is untouched");

    let sql = "SELECT user_id, session_id, detail FROM audit_events WHERE event = 'session_revoked'";
    let row = sqlx::query(sql).fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(row.try_get::<i64, _>("user_id").unwrap(), alice);
    assert_eq!(row.try_get::<String, _>("session_id").unwrap(), laptop.sid);
    let detail: Value = serde_json::from_str(&row.try_get::<String, _>("detail").unwrap()).unwrap();
    assert_eq!(detail, json!({"by": "admin", "staff": staff}));
});

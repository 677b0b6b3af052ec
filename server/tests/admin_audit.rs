//! `GET /api/admin/audit/` filters on both databases: `user` (the contract's name) and `user_id`
//! (its alias) narrow the page to one user's events, and an unknown filter is still a 400.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{request, send, PASSWORD};
use latchkey_server::AppState;
use serde_json::{json, Value};

/// The ids of the users a page's events are about, newest first.
fn users_of(page: &Value) -> Vec<i64> {
    page["results"].as_array().unwrap().iter().map(|e| e["user_id"].as_i64().unwrap()).collect()
}

on_both!(the_admin_audit_log_filters_by_user, |state: AppState| async move {
    let ada = common::create_user(&state, "ada@example.com", PASSWORD).await;
    let bob = common::create_user(&state, "bob@example.com", PASSWORD).await;
    let admin = common::create_user(&state, "admin@example.com", PASSWORD).await;
    common::make_staff(&state, admin).await;
    let insert = "INSERT INTO audit_events (created_at, event, user_id, ip, user_agent, detail) \
                  VALUES ($1, 'password_changed', $2, '', '', '{}')";
    for user in [ada, bob, ada, bob, bob] {
        sqlx::query(insert).bind(latchkey_server::now()).bind(user).execute(&state.db.pool).await.unwrap();
    }
    let login = request("POST", "/api/token/", Some(json!({"email": "admin@example.com", "password": PASSWORD})), None);
    let (status, pair, _) = send(&state, login).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let token = pair["access"].as_str().unwrap().to_owned();
    let get = |uri: String| send(&state, request("GET", &uri, None, Some(&token)));

    let (status, page, _) = get(format!("/api/admin/audit/?user={ada}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(users_of(&page), [ada, ada]);
    let (status, page, _) = get(format!("/api/admin/audit/?user_id={bob}&event=password_changed")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(users_of(&page), [bob, bob, bob]);
    let (_, page, _) = get(format!("/api/admin/audit/?user={ada}&user_id={bob}")).await;
    assert_eq!(users_of(&page), [ada, ada], "`user` wins over its alias");

    // The filter is carried into the `next` link under the name it was given.
    let (_, first, _) = get(format!("/api/admin/audit/?user={bob}&limit=2")).await;
    assert_eq!(users_of(&first), [bob, bob]);
    let next = first["next"].as_str().unwrap().to_owned();
    assert!(next.contains(&format!("user={bob}")), "{next}");
    let (_, second, _) = get(next).await;
    assert_eq!((users_of(&second), &second["next"]), (vec![bob], &Value::Null));

    for bad in ["?owner=1", "?user=x", "?user_id=y"] {
        let (status, body, _) = get(format!("/api/admin/audit/{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (_, body, _) = get("/api/admin/audit/?owner=1".into()).await;
    assert_eq!(body, json!({"owner": ["Unknown filter."]}));
    // Users reading their own events still cannot name someone else's.
    let (status, _, _) = get(format!("/api/auth/audit/?user={ada}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
});

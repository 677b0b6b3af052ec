//! The admin API (docs/api.md#admin) on both databases: staff alone list, search and page through users,
//! deactivate, promote and log them out, and reset their second factor, each change audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{acme, call, login, PASSWORD};
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

on_both!(staff_manage_users_through_the_admin_api, |state: AppState| async move {
    let people = acme(&state).await;
    let (ada_id, ada) = (people[0].1, &people[0].2);
    let frank = &people[5].2;
    // Staff only.
    for (token, expected) in [(None, 401), (Some(ada.as_str()), 403)] {
        for (method, uri) in [
            ("GET", "/api/admin/users/".to_owned()),
            ("GET", format!("/api/admin/users/{ada_id}/")),
            ("POST", format!("/api/admin/users/{ada_id}/logout/")),
        ] {
            assert_eq!(call(&state, method, &uri, None, token).await.0.as_u16(), expected, "{method} {uri}");
        }
    }
    let (status, page) = call(&state, "GET", "/api/admin/users/?search=CAR", None, Some(frank)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (page["count"].clone(), page["next"].clone(), page["previous"].clone()),
        (json!(1), Value::Null, Value::Null)
    );
    assert_eq!(
        (page["results"][0]["email"].as_str(), page["results"][0]["is_active"].as_bool()),
        (Some("carol@example.com"), Some(true))
    );
    let (_, all) = call(&state, "GET", "/api/admin/users/", None, Some(frank)).await;
    assert_eq!(all["count"], 6);
    assert_eq!(call(&state, "GET", "/api/admin/users/?page=2", None, Some(frank)).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        call(&state, "GET", "/api/admin/users/?search=%25", None, Some(frank)).await.1["count"],
        0,
        "wildcards are literal"
    );

    // Deactivation revokes sessions at once; staff and verified flags; staff cannot demote themselves.
    let path = format!("/api/admin/users/{ada_id}/");
    let (status, body) =
        call(&state, "PATCH", &path, Some(json!({"is_active": false, "is_verified": true})), Some(frank)).await;
    assert_eq!(
        (status, body["is_active"].clone(), body["is_verified"].clone()),
        (StatusCode::OK, json!(false), json!(true))
    );
    assert_eq!(call(&state, "GET", "/api/auth/me/", None, Some(ada)).await.0, StatusCode::UNAUTHORIZED);
    let (status, _) =
        call(&state, "POST", "/api/token/", Some(json!({"email": "ada@example.com", "password": PASSWORD})), None)
            .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    call(&state, "PATCH", &path, Some(json!({"is_active": true, "is_staff": true})), Some(frank)).await;
    let ada = login(&state, "ada@example.com", PASSWORD).await;
    assert_eq!(call(&state, "GET", "/api/admin/users/", None, Some(&ada)).await.0, StatusCode::OK, "ada is staff now");
    let frank_path = format!("/api/admin/users/{}/", people[5].1);
    assert_eq!(
        call(&state, "PATCH", &frank_path, Some(json!({"is_staff": false})), Some(frank)).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&state, "PATCH", &path, Some(json!({"is_active": "maybe"})), Some(frank)).await.0,
        StatusCode::BAD_REQUEST
    );

    // Force logout.
    assert_eq!(call(&state, "POST", &format!("{path}logout/"), None, Some(frank)).await.0, StatusCode::OK);
    assert_eq!(call(&state, "GET", "/api/auth/me/", None, Some(&ada)).await.0, StatusCode::UNAUTHORIZED);

    // The emergency 2FA reset: a reason is required, the devices go, and it is audited.
    let ada = login(&state, "ada@example.com", PASSWORD).await;
    let (_, device) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&ada)).await;
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", device["id"]);
    call(
        &state,
        "POST",
        &confirm,
        Some(json!({"code": common::totp(device["secret"].as_str().unwrap(), state.clock.now())})),
        Some(&ada),
    )
    .await;
    let (status, _) =
        call(&state, "POST", "/api/token/", Some(json!({"email": "ada@example.com", "password": PASSWORD})), None)
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "2FA is on");
    let reset = format!("{path}2fa/reset/");
    assert_eq!(call(&state, "POST", &reset, Some(json!({})), Some(frank)).await.0, StatusCode::BAD_REQUEST);
    let reason = "Lost phone; identity checked by video call";
    assert_eq!(
        call(&state, "POST", &reset, Some(json!({"reason": reason})), Some(&people[3].2)).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(call(&state, "POST", &reset, Some(json!({"reason": reason})), Some(frank)).await.0, StatusCode::OK);
    let (status, _) =
        call(&state, "POST", "/api/token/", Some(json!({"email": "ada@example.com", "password": PASSWORD})), None)
            .await;
    assert_eq!(status, StatusCode::OK, "2FA is off");
    let row = sqlx::query("SELECT detail FROM audit_events WHERE event = 'admin_2fa_reset' AND user_id = $1")
        .bind(ada_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let detail: Value = serde_json::from_str(&row.get::<String, _>("detail")).unwrap();
    assert_eq!(
        (detail["reason"].as_str(), detail["by"].as_i64(), detail["devices_removed"].as_i64()),
        (Some(reason), Some(people[5].1), Some(1))
    );
    let updates = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'admin_user_updated'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(updates.get::<i64, _>("n"), 2);
});

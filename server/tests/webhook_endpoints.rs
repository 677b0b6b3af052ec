//! Staff manage security webhook endpoints at `/api/admin/webhooks/` (API.md §16), on both
//! databases: the secret is shown once and kept sealed, every bad field is DRF's 400, only public
//! https targets are accepted unless `LATCHKEY_WEBHOOK_ALLOW_PRIVATE=1`, registering or re-pointing
//! one needs a recent re-authentication, a server keeps at most 20, and every change is audited.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{call, signed_in, PASSWORD};
use latchkey_server::AppState;
use serde_json::{json, Value};

const EVENTS: [&str; 2] = ["login.locked_out", "session.reuse_detected"];

on_both!(staff_create_read_change_and_delete_an_endpoint, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let token = common::staff_token(&state, "staff@example.com").await;
    let url = "http://127.0.0.1:9/hooks?token=receiver-token";
    let (status, created) =
        call(&state, "POST", "/api/admin/webhooks/", Some(json!({"url": url, "events": EVENTS})), Some(&token)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_") && secret.len() == 50, "{secret}");
    assert_eq!(created["url"], url);
    assert_eq!(created["events"], json!(EVENTS));
    assert_eq!(created["active"], true);

    // The secret is never shown again, and is not in the database as it was shown.
    let (status, list) = call(&state, "GET", "/api/admin/webhooks/", None, Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("secret").is_none() && !list.to_string().contains(&secret), "{list}");
    let (status, one) = call(&state, "GET", &format!("/api/admin/webhooks/{id}/"), None, Some(&token)).await;
    assert_eq!((status, &one), (StatusCode::OK, &list[0]));
    let (stored,): (String,) = sqlx::query_as("SELECT secret FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert!(stored.starts_with("v1$") && !stored.contains(&secret[6..]), "sealed by the vault: {stored}");

    let path = format!("/api/admin/webhooks/{id}/");
    let change = json!({"events": ["user.created", "user.created", "admin.action"], "active": false});
    let (status, changed) = call(&state, "PATCH", &path, Some(change), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!((&changed["events"], &changed["active"]), (&json!(["user.created", "admin.action"]), &json!(false)));

    let (status, _) = call(&state, "DELETE", &path, None, Some(&token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (method, uri) in [("GET", path.clone()), ("DELETE", path.clone()), ("POST", format!("{path}test/"))] {
        let (status, body) = call(&state, method, &uri, None, Some(&token)).await;
        assert_eq!((status, &body["detail"]), (StatusCode::NOT_FOUND, &json!("Not found.")), "{method} {uri}");
    }
    let (status, _) = call(&state, "GET", "/api/admin/webhooks/x/", None, Some(&token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Each change is an audit event naming the endpoint and its host, never its path or query.
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT event, detail FROM audit_events WHERE event LIKE 'webhook_%' ORDER BY id")
            .fetch_all(&state.db.pool)
            .await
            .unwrap();
    let names: Vec<&str> = rows.iter().map(|(event, _)| event.as_str()).collect();
    assert_eq!(names, ["webhook_created", "webhook_updated", "webhook_deleted"]);
    for (_, detail) in &rows {
        let detail: Value = serde_json::from_str(detail).unwrap();
        assert_eq!((detail["endpoint_id"].as_i64(), detail["host"].as_str()), (Some(id), Some("127.0.0.1")));
        assert!(!detail.to_string().contains("receiver-token"), "{detail}");
    }
});

on_both!(bad_endpoints_are_drf_400s, |state: AppState| async move {
    let token = common::staff_token(&state, "staff@example.com").await;
    let post = |body: Value| call(&state, "POST", "/api/admin/webhooks/", Some(body), Some(&token));
    let public = "https://hooks.example.com/latchkey";
    let not_public = "Webhooks are sent to https URLs on public addresses only \
                      (LATCHKEY_WEBHOOK_ALLOW_PRIVATE=1 allows private ones).";
    let cases = [
        (json!({}), json!({"url": ["This field is required."], "events": ["This field is required."]})),
        (json!({"url": public, "events": []}), json!({"events": ["This list may not be empty."]})),
        (
            json!({"url": public, "events": "login.failed"}),
            json!({"events": ["Expected a list of items but got type \"str\"."]}),
        ),
        (
            json!({"url": public, "events": ["login.failed", "webhook.test", "nope"]}),
            json!({"events": ["\"webhook.test\" is not a valid choice."]}),
        ),
        (
            json!({"url": public, "events": vec!["x".repeat(100); 300]}),
            json!({"events": [format!("\"{}\" is not a valid choice.", "x".repeat(64))]}),
        ),
        (json!({"url": "not a url", "events": EVENTS}), json!({"url": ["Enter a valid URL."]})),
        (json!({"url": "ftp://hooks.example.com/", "events": EVENTS}), json!({"url": ["Enter a valid URL."]})),
        (
            json!({"url": format!("{public}/{}", "a".repeat(2048)), "events": EVENTS}),
            json!({"url": ["Ensure this field has no more than 2048 characters."]}),
        ),
        (
            json!({"url": "https://user:pass@hooks.example.com/", "events": EVENTS}),
            json!({"url": ["Put no user name or password in the URL: deliveries are signed with the endpoint's secret."]}),
        ),
    ];
    for (body, expected) in cases {
        let (status, answer) = post(body.clone()).await;
        assert_eq!((status, &answer), (StatusCode::BAD_REQUEST, &expected), "{body}");
    }
    // Private, loopback, link-local, plain http: refused (a name that resolves to loopback too).
    for url in [
        "http://hooks.example.com/latchkey",
        "https://127.0.0.1/hooks",
        "https://localhost:8443/hooks",
        "https://[::1]/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00::1]/hooks",
    ] {
        let (status, answer) = post(json!({"url": url, "events": EVENTS})).await;
        assert_eq!((status, &answer), (StatusCode::BAD_REQUEST, &json!({"url": [not_public]})), "{url}");
    }
    // A public https name is accepted (whether or not it resolves from here).
    let (status, answer) = post(json!({"url": public, "events": EVENTS})).await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    // The same rules hold for a change of URL.
    let path = format!("/api/admin/webhooks/{}/", answer["id"]);
    let (status, answer) = call(&state, "PATCH", &path, Some(json!({"url": "https://10.0.0.1/"})), Some(&token)).await;
    assert_eq!((status, &answer), (StatusCode::BAD_REQUEST, &json!({"url": [not_public]})));
    let (status, answer) = call(&state, "PATCH", &path, Some(json!({"active": "yes"})), Some(&token)).await;
    assert_eq!((status, &answer), (StatusCode::BAD_REQUEST, &json!({"active": ["Must be a valid boolean."]})));
});

on_both!(only_staff_with_a_recent_login_send_events_out, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let body = json!({"url": "http://127.0.0.1:9/hooks", "events": EVENTS});
    let (status, _) = call(&state, "POST", "/api/admin/webhooks/", Some(body.clone()), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let user = signed_in(&state, "user@example.com").await;
    for (method, uri) in [("GET", "/api/admin/webhooks/"), ("POST", "/api/admin/webhooks/")] {
        let (status, answer) = call(&state, method, uri, Some(body.clone()), Some(&user)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {uri}: {answer}");
    }
    assert_eq!(common::outbox_rows(&state, "webhook.test").await, 0);

    let token = common::staff_token(&state, "staff@example.com").await;
    let (id, _) = common::add_endpoint(&state, &token, "http://127.0.0.1:9/a", &EVENTS).await;
    common::window_passes(&state);
    // Past the window: no new endpoint, no new URL; turning one off or on, testing, reading and
    // deleting stay open.
    let (status, answer) = call(&state, "POST", "/api/admin/webhooks/", Some(body), Some(&token)).await;
    assert_eq!((status, &answer["code"]), (StatusCode::FORBIDDEN, &json!("reauthentication_required")));
    let path = format!("/api/admin/webhooks/{id}/");
    let (status, answer) =
        call(&state, "PATCH", &path, Some(json!({"url": "http://127.0.0.1:9/b"})), Some(&token)).await;
    assert_eq!((status, &answer["code"]), (StatusCode::FORBIDDEN, &json!("reauthentication_required")));
    let (status, _) =
        call(&state, "PATCH", &path, Some(json!({"url": "http://127.0.0.1:9/a", "active": false})), Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "the same URL is no change of target");
    let (status, answer) = call(&state, "POST", &format!("{path}test/"), None, Some(&token)).await;
    assert_eq!(
        (status, &answer["type"], &answer["state"]),
        (StatusCode::ACCEPTED, &json!("webhook.test"), &json!("pending"))
    );
    let reauth = json!({"password": PASSWORD});
    let (status, _) = call(&state, "POST", "/api/auth/reauthenticate/", Some(reauth), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&state, "PATCH", &path, Some(json!({"url": "http://127.0.0.1:9/b"})), Some(&token)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(&state, "DELETE", &path, None, Some(&token)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
});

on_both!(a_server_keeps_at_most_twenty_endpoints, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let token = common::staff_token(&state, "staff@example.com").await;
    for n in 0..20 {
        common::add_endpoint(&state, &token, &format!("http://127.0.0.1:9/{n}"), &["login.failed"]).await;
    }
    let body = json!({"url": "http://127.0.0.1:9/20", "events": ["login.failed"]});
    let (status, answer) = call(&state, "POST", "/api/admin/webhooks/", Some(body), Some(&token)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer, json!({"non_field_errors": ["A server keeps at most 20 webhook endpoints: delete one first."]}));
    // One failed login costs one outbox row per subscriber: twenty at most.
    let wrong = json!({"email": "nobody@example.com", "password": "wrong"});
    let (status, _) = call(&state, "POST", "/api/token/", Some(wrong), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(common::outbox_rows(&state, "login.failed").await, 20);
});

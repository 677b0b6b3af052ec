//! Abuse protection and the audit log on both databases: request limits for every scope, lockouts
//! per account and per address with their growing cool-offs and cap, the same answers for unknown
//! accounts, and the audit endpoints with their filters, pagination and retention.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{configured, from, lockout_passes, make_staff, request, send, PASSWORD};
use latchkey_server::{now, AppState};
use serde_json::{json, Value};
use sqlx::Row;

struct Answer {
    status: StatusCode,
    body: Value,
    retry_after: Option<i64>,
    headers: axum::http::HeaderMap,
}

async fn answer(state: &AppState, request: Request<Body>) -> Answer {
    let (status, body, response) = send(state, request).await;
    let headers = response.headers().clone();
    let retry_after = headers.get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().parse().unwrap());
    Answer { status, body, retry_after, headers }
}

/// A login from `ip`.
async fn login_from(state: &AppState, ip: &str, email: &str, password: &str) -> Answer {
    answer(state, from(ip, "POST", "/api/token/", Some(json!({"email": email, "password": password})), None)).await
}

on_both!(failed_logins_lock_the_account_with_growing_cool_offs, |state: AppState| async move {
    let state = configured(&state, |c| {
        c.lockout_attempts = 3;
        c.lockout_cooloff = Duration::from_secs(60);
        c.lockout_growth = 2;
        c.lockout_cap = Duration::from_secs(150);
    });
    common::create_user(&state, "ada@example.com", PASSWORD).await;
    // The same story for a real account and for one that does not exist: no way to tell them apart.
    for email in ["ada@example.com", "nobody@example.com"] {
        for cooloff in [60, 120, 150, 150] {
            for _ in 0..3 {
                let failed = login_from(&state, "198.51.100.7", email, "wrong password").await;
                assert_eq!(failed.status, StatusCode::UNAUTHORIZED, "{email}");
                assert_eq!(failed.body, json!({"detail": "No active account found with the given credentials"}));
            }
            // Locked: even the right password is refused, without a word about the account.
            let locked = login_from(&state, "198.51.100.7", email, PASSWORD).await;
            assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS, "{email}");
            assert_eq!(locked.body["code"], "throttled");
            let wait = locked.retry_after.unwrap();
            assert!((cooloff - 2..=cooloff).contains(&wait), "{email}: waits {wait}, cool-off {cooloff}");
            assert_eq!(locked.body["detail"], format!("Request was throttled. Expected available in {wait} seconds."));
            assert!(!locked.headers.contains_key("ratelimit-limit"), "a lockout is not a request limit");
            lockout_passes(&state, u64::try_from(wait).unwrap());
        }
    }
    // Another account from the same address is not affected; a success clears the count.
    common::create_user(&state, "bob@example.com", PASSWORD).await;
    for _ in 0..2 {
        assert_eq!(
            login_from(&state, "198.51.100.7", "bob@example.com", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login_from(&state, "198.51.100.7", "bob@example.com", PASSWORD).await.status, StatusCode::OK);
    for _ in 0..2 {
        assert_eq!(
            login_from(&state, "198.51.100.7", "bob@example.com", "wrong").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(login_from(&state, "198.51.100.7", "bob@example.com", PASSWORD).await.status, StatusCode::OK);
    // The audit log has every refusal, with its reason and never the password.
    let rows = sqlx::query("SELECT detail FROM audit_events WHERE event = 'login_failed'")
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    let details: Vec<Value> =
        rows.iter().map(|r| serde_json::from_str(&r.get::<String, _>("detail")).unwrap()).collect();
    // Eight refusals, four per account, each a cool-off (a minute or more) after the one before: each
    // is audited (refusals within one minute are audited once: tests/hostile_traffic.rs).
    assert_eq!(details.iter().filter(|d| d["reason"] == "locked_out").count(), 8);
    assert_eq!(details.iter().filter(|d| d["reason"] == "bad_credentials").count(), 28);
    assert!(details.iter().all(|d| !d.to_string().contains("wrong") && !d.to_string().contains(PASSWORD)));
});

on_both!(failed_logins_from_one_address_lock_the_address, |state: AppState| async move {
    let state = configured(&state, |c| c.lockout_ip_attempts = 4);
    common::create_user(&state, "ada@example.com", PASSWORD).await;
    for n in 0..4 {
        let failed = login_from(&state, "203.0.113.50", &format!("user{n}@example.com"), "guess").await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&state, "203.0.113.50", "ada@example.com", PASSWORD).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(login_from(&state, "203.0.113.51", "ada@example.com", PASSWORD).await.status, StatusCode::OK);
    // X-Forwarded-For from a peer that is not a trusted proxy changes nothing.
    let mut forged = from(
        "203.0.113.50",
        "POST",
        "/api/token/",
        Some(json!({"email": "ada@example.com", "password": PASSWORD})),
        None,
    );
    forged.headers_mut().insert("x-forwarded-for", "192.0.2.1".parse().unwrap());
    assert_eq!(answer(&state, forged).await.status, StatusCode::TOO_MANY_REQUESTS);
});

on_both!(every_scope_has_its_request_limit, |state: AppState| async move {
    let limits =
        "login:ip=2/1h,mfa:ip=2/1h,register:ip=2/1h,reset:ip=2/1h,reset:email=2/1h,verify:ip=2/1h,resend:ip=2/1h";
    let state = configured(&state, |c| c.rate_limits = limits.parse().unwrap());
    let requests: [(&str, Value); 6] = [
        ("/api/token/", json!({"email": "ada@example.com", "password": "x"})),
        ("/api/token/mfa/", json!({"mfa_token": "x", "code": "123456"})),
        ("/api/auth/register/", json!({"email": "x", "password": "x", "password_confirm": "x"})),
        ("/api/auth/password/reset/", json!({"email": "ada@example.com"})),
        ("/api/auth/email/verify/", json!({"uid": "MQ", "token": "x"})),
        ("/api/auth/email/verify/resend/", json!({"email": "ada@example.com"})),
    ];
    for (uri, body) in requests {
        for _ in 0..2 {
            let allowed = answer(&state, from("192.0.2.9", "POST", uri, Some(body.clone()), None)).await;
            assert_ne!(allowed.status, StatusCode::TOO_MANY_REQUESTS, "{uri}");
        }
        let limited = answer(&state, from("192.0.2.9", "POST", uri, Some(body.clone()), None)).await;
        assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{uri}");
        assert_eq!(limited.body["code"], "throttled", "{uri}");
        let wait = limited.retry_after.unwrap();
        assert!((1..=3600).contains(&wait), "{uri}: {wait}");
        assert_eq!(limited.headers["ratelimit-limit"], "2", "{uri}");
        assert_eq!(limited.headers["ratelimit-remaining"], "0", "{uri}");
        assert_eq!(limited.headers["ratelimit-reset"], wait.to_string().as_str(), "{uri}");
        // Another address has its own allowance (about another account: resets are also counted per account).
        let mut body = body;
        if body.get("email").is_some() {
            body["email"] = json!("someone.else@example.com");
        }
        let other = answer(&state, from("192.0.2.10", "POST", uri, Some(body), None)).await;
        assert_ne!(other.status, StatusCode::TOO_MANY_REQUESTS, "{uri}");
    }
    // Resets for one address are limited whatever the client's address.
    let state = configured(&state, |c| c.rate_limits = "reset:email=2/1h".parse().unwrap());
    for (n, expected) in [(1, StatusCode::OK), (2, StatusCode::OK), (3, StatusCode::TOO_MANY_REQUESTS)] {
        let reset = from(
            &format!("192.0.2.{n}"),
            "POST",
            "/api/auth/password/reset/",
            Some(json!({"email": "Carol@example.com"})),
            None,
        );
        assert_eq!(answer(&state, reset).await.status, expected, "reset {n}");
    }
});

on_both!(users_read_their_own_events_and_staff_read_everyones, |state: AppState| async move {
    let ada = common::create_user(&state, "ada@example.com", PASSWORD).await;
    let admin = common::create_user(&state, "admin@example.com", PASSWORD).await;
    make_staff(&state, admin).await;
    for _ in 0..3 {
        login_from(&state, "198.51.100.1", "ada@example.com", "wrong").await;
    }
    let ada_token = login_from(&state, "198.51.100.2", "ada@example.com", PASSWORD).await.body["access"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_token = login_from(&state, "198.51.100.3", "admin@example.com", PASSWORD).await.body["access"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |uri: &str, token: &str| send(&state, request("GET", uri, None, Some(token)));

    let (status, page, _) = get("/api/auth/audit/", &ada_token).await;
    assert_eq!(status, StatusCode::OK);
    let events: Vec<&str> = page["results"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["login_succeeded", "login_failed", "login_failed", "login_failed"], "newest first, own only");
    let newest = &page["results"][0];
    assert_eq!((newest["ip"].as_str(), newest["detail"]["mfa"].as_bool()), (Some("198.51.100.2"), Some(false)));
    assert!(newest["session_id"].is_string() && newest.get("user_id").is_none(), "{newest}");
    assert_eq!(page["next"], Value::Null);

    // Pages of two, following `next`.
    let (_, first, _) = get("/api/auth/audit/?limit=2", &ada_token).await;
    assert_eq!(first["results"].as_array().unwrap().len(), 2);
    let next = first["next"].as_str().unwrap().to_owned();
    let (_, second, _) = get(&next, &ada_token).await;
    assert_eq!(second["results"].as_array().unwrap().len(), 2);
    assert!(second["results"][0]["id"].as_i64() < first["results"][1]["id"].as_i64());
    assert_eq!(second["next"], Value::Null);
    for bad in ["?limit=0", "?limit=201", "?limit=x", "?before=y", "?user_id=1"] {
        let (status, _, _) = get(&format!("/api/auth/audit/{bad}"), &ada_token).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Staff only, with filters.
    let (status, body, _) = get("/api/admin/audit/", &ada_token).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": "You do not have permission to perform this action."}))
    );
    let (status, all, _) = get("/api/admin/audit/?event=login_failed", &admin_token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["results"].as_array().unwrap().len(), 3);
    assert!(all["results"].as_array().unwrap().iter().all(|e| e["user_id"] == ada));
    let (_, mine, _) = get(&format!("/api/admin/audit/?user_id={admin}"), &admin_token).await;
    assert_eq!(mine["results"].as_array().unwrap().len(), 1);
    let (_, by_ip, _) = get("/api/admin/audit/?ip=198.51.100.1&limit=2", &admin_token).await;
    assert_eq!(by_ip["results"].as_array().unwrap().len(), 2);
    assert!(by_ip["next"].as_str().unwrap().contains("ip=198.51.100.1"), "{by_ip}");
    let (_, none, _) = get(&format!("/api/admin/audit/?since={}", now() + 10), &admin_token).await;
    assert_eq!(none["results"], json!([]));
});

on_both!(old_audit_events_are_swept, |state: AppState| async move {
    let state = configured(&state, |c| c.audit_retention = Duration::from_secs(30 * 86_400));
    let sql = "INSERT INTO audit_events (created_at, event, user_id) VALUES ($1, 'login_failed', NULL)";
    sqlx::query(sql).bind(now() - 31 * 86_400).execute(&state.db.pool).await.unwrap();
    sqlx::query(sql).bind(now() - 29 * 86_400).execute(&state.db.pool).await.unwrap();
    sqlx::query("INSERT INTO rate_limits (key, hits, updated_at) VALUES ('rate:login:ip:x', 1, 0)")
        .execute(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(latchkey_server::audit::sweep(&state).await.unwrap(), 1);
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_events").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(row.get::<i64, _>("n"), 1);
    let row = sqlx::query("SELECT COUNT(*) AS n FROM rate_limits").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(row.get::<i64, _>("n"), 0, "stale counters go too");
});

on_both!(sessions_and_refresh_reuse_are_audited, |state: AppState| async move {
    let ada = common::create_user(&state, "ada@example.com", PASSWORD).await;
    let first = login_from(&state, "198.51.100.1", "ada@example.com", PASSWORD).await.body;
    let second = login_from(&state, "198.51.100.1", "ada@example.com", PASSWORD).await.body;
    let refresh = |token: &Value| json!({"refresh": token.as_str().unwrap()});
    let (status, _, _) =
        send(&state, request("POST", "/api/token/refresh/", Some(refresh(&first["refresh"])), None)).await;
    assert_eq!(status, StatusCode::OK);
    // Reuse after the grace window: the session is revoked and the event recorded.
    common::pass(&state, state.config.refresh_reuse_grace.as_secs() + 1);
    let (status, _, _) =
        send(&state, request("POST", "/api/token/refresh/", Some(refresh(&first["refresh"])), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let access = second["access"].as_str().unwrap();
    let (status, _, _) = send(&state, request("POST", "/api/auth/logout/", None, Some(access))).await;
    assert_eq!(status, StatusCode::OK);
    let rows = sqlx::query("SELECT event, detail FROM audit_events WHERE user_id = $1 ORDER BY id")
        .bind(ada)
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    let events: Vec<(String, String)> = rows.iter().map(|r| (r.get("event"), r.get("detail"))).collect();
    let names: Vec<&str> = events.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(names, ["login_succeeded", "login_succeeded", "refresh_reuse_detected", "session_revoked"]);
    assert!(events[3].1.contains("logout"));
    for (_, detail) in &events {
        assert!(!detail.contains("eyJ"), "a token in the audit log: {detail}");
    }
});

//! Accounts (docs/api.md#accounts-and-registration): registration, and reading, editing and deleting one's own account, on
//! both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{register, request, send, send_text};
use latchkey_core::hash::HashParams;
use latchkey_server::passwords::Hasher;
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

const PASSWORD: &str = "Tr0ub4dor&3-kestrel-Vapour";
const REGISTER: &str = "/api/auth/register/";
const ME: &str = "/api/auth/me/";

/// A valid registration body for `email`, with `extra` fields merged in.
fn signup(email: &str, extra: Value) -> Value {
    let mut body = json!({ "email": email, "password": PASSWORD, "password_confirm": PASSWORD });
    if let (Value::Object(body), Value::Object(extra)) = (&mut body, extra) {
        body.extend(extra);
    }
    body
}

/// A request with a raw body and content type.
fn raw(uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::builder().method("POST").uri(uri).header(header::CONTENT_TYPE, content_type).body(body.into()).unwrap()
}

async fn count(state: &AppState, sql: &str, id: i64) -> i64 {
    sqlx::query(sql).bind(id).fetch_one(&state.db.pool).await.unwrap().get::<i64, _>(0)
}

on_both!(register_returns_the_user_and_a_working_token_pair, |state: AppState| async move {
    let body =
        signup(" Alice@Example.COM ", json!({"username": "alice", "first_name": " Alice ", "last_name": "Liddell"}));
    let (status, body, response) = send(&state, request("POST", REGISTER, Some(body), None)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let user = &body["user"];
    let keys: Vec<&str> = user.as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "id",
        "email",
        "username",
        "first_name",
        "last_name",
        "bio",
        "phone_number",
        "birth_date",
        "timezone",
        "language",
        "website",
        "is_verified",
        "is_staff",
        "mfa_enabled",
        "date_joined",
        "last_login",
    ];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert_eq!(user["email"], "alice@example.com");
    assert_eq!(user["username"], "alice");
    assert_eq!(user["first_name"], "Alice");
    assert_eq!(user["last_name"], "Liddell");
    assert_eq!(
        (&user["is_staff"], &user["is_verified"], &user["birth_date"]),
        (&json!(false), &json!(false), &Value::Null)
    );
    assert_eq!(body["tokens"].as_object().unwrap().len(), 2, "{body}");
    assert!(body["tokens"]["refresh"].is_string());

    // The access token authenticates the new user at once.
    let access = body["tokens"]["access"].as_str().unwrap();
    let (status, me, _) = send(&state, request("GET", ME, None, Some(access))).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!((&me["id"], &me["email"]), (&user["id"], &user["email"]));

    // Stored normalized, with an argon2id hash, never the password.
    let id = user["id"].as_i64().unwrap();
    let row = sqlx::query("SELECT email, password FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<String, _>("email"), "alice@example.com");
    assert!(row.get::<String, _>("password").starts_with("$argon2id$"));
    assert_eq!(count(&state, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", id).await, 1);
});

on_both!(registration_refuses_taken_emails_and_usernames, |state: AppState| async move {
    register(&state, signup("bob@example.com", json!({"username": "bob"}))).await;
    // Same address up to case and NFKC (fullwidth letters).
    for email in ["BOB@example.com", "ｂｏｂ@ＥＸＡＭＰＬＥ.com"] {
        let (status, body, _) = send(&state, request("POST", REGISTER, Some(signup(email, json!({}))), None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body, json!({"email": ["A user with this email already exists."]}));
    }
    let body = signup("robert@example.com", json!({"username": "bob"}));
    let (status, body, _) = send(&state, request("POST", REGISTER, Some(body), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"username": ["A user with that username already exists."]}));
    let count = sqlx::query("SELECT COUNT(*) FROM users").fetch_one(&state.db.pool).await.unwrap().get::<i64, _>(0);
    assert_eq!(count, 1);
});

on_both!(concurrent_registrations_of_one_address_get_one_account, |state: AppState| async move {
    // Every request passes the uniqueness check before any insert (hashing sits between them), so
    // the losers meet the unique constraint and must still get the DRF 400, not a 500.
    // Open the connections first, so that no request waits for one while another completes.
    drop(open_connections(&state).await);
    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let state = state.clone();
            tokio::spawn(async move {
                send(&state, request("POST", REGISTER, Some(signup("race@example.com", json!({}))), None)).await
            })
        })
        .collect();
    let mut created = 0;
    for attempt in attempts {
        let (status, body, _) = attempt.await.unwrap();
        match status {
            StatusCode::CREATED => created += 1,
            StatusCode::BAD_REQUEST => assert_eq!(body, json!({"email": ["A user with this email already exists."]})),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created, 1);
});

/// Six pool connections, opened concurrently and held.
async fn open_connections(state: &AppState) -> Vec<sqlx::pool::PoolConnection<sqlx::Any>> {
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let pool = state.db.pool.clone();
            tokio::spawn(async move { pool.acquire().await.unwrap() })
        })
        .collect();
    let mut held = Vec::new();
    for task in tasks {
        held.push(task.await.unwrap());
    }
    held
}

on_both!(registration_applies_the_password_policy, |state: AppState| async move {
    let cases = [
        (
            "Xy7!kq",
            json!({}),
            json!([
                "This password is too short. It must contain at least 12 characters.",
                "This password is too easy to guess. Add another word or two."
            ]),
        ),
        (
            "1qaz2wsx3edc",
            json!({}),
            json!(["This password is too common.", "This password is too easy to guess. Add another word or two."]),
        ),
        ("731952846013", json!({}), json!(["This password is entirely numeric."])),
        (
            "Kestrelwood99!",
            json!({"first_name": "Kestrelwood"}),
            json!([
                "The password is too similar to the first name.",
                "This password is too easy to guess. Add another word or two."
            ]),
        ),
        (
            "carol@example.com",
            json!({}),
            json!([
                "The password is too similar to the email address.",
                "This password is too easy to guess. Add another word or two."
            ]),
        ),
    ];
    for (password, extra, messages) in cases {
        let mut body = signup("carol@example.com", extra);
        body["password"] = json!(password);
        body["password_confirm"] = json!(password);
        let (status, body, _) = send(&state, request("POST", REGISTER, Some(body), None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{password}");
        assert_eq!(body, json!({ "password": messages }), "{password}");
    }
    // Passwords are not trimmed: the spaces are part of it, so a confirmation without them differs.
    let mut body = signup("carol@example.com", json!({}));
    body["password"] = json!(format!(" {PASSWORD} "));
    let (status, body, _) = send(&state, request("POST", REGISTER, Some(body), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password_confirm": ["Passwords do not match."]}));
});

on_both!(registration_reports_every_field_error, |state: AppState| async move {
    let (status, body, _) = send(&state, request("POST", REGISTER, Some(json!({})), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let required = json!(["This field is required."]);
    assert_eq!(body, json!({"email": required, "password": required, "password_confirm": required}));

    let body = json!({"email": "not-an-email", "username": "has space", "password": "", "password_confirm": null});
    let (status, body, _) = send(&state, request("POST", REGISTER, Some(body), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "email": ["Enter a valid email address."],
            "username": ["Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."],
            "password": ["This field may not be blank."],
            "password_confirm": ["This field may not be null."],
        })
    );
    let (status, body, _) = send(&state, request("POST", REGISTER, Some(json!(["x"])), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}));
});

on_both!(registration_refuses_bad_bodies, |state: AppState| async move {
    let (status, body, _) = send(&state, raw(REGISTER, "application/json", "{\"email\": ")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["detail"].as_str().unwrap().starts_with("JSON parse error - "), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 1);

    let form = "email=a%40example.com&password=x";
    let (status, body, _) = send(&state, raw(REGISTER, "application/x-www-form-urlencoded", form)).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body, json!({"detail": "Unsupported media type \"application/x-www-form-urlencoded\" in request."}));

    let huge = serde_json::to_vec(&signup("big@example.com", json!({"bio": "x".repeat(64 * 1024)}))).unwrap();
    let (status, _, _) = send(&state, raw(REGISTER, "application/json", huge)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, body, _) = send(&state, request("PUT", REGISTER, Some(json!({})), None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"PUT\" not allowed."}));
});

on_both!(over_long_passwords_are_refused_before_hashing, |mut state: AppState| async move {
    // A gate with no capacity answers 503 to any hash: a 400 proves none was attempted.
    state.hasher = Hasher::with_capacity(HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 0, 0);
    let long = format!("{PASSWORD}{}", "x".repeat(4097 - PASSWORD.len()));
    let body = json!({"email": "long@example.com", "password": long, "password_confirm": long});
    let (status, body, _) = send(&state, request("POST", REGISTER, Some(body), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password": ["This password is too long. It must contain at most 4096 bytes."]}));
});

on_both!(me_requires_authentication, |state: AppState| async move {
    for method in ["GET", "PATCH", "DELETE"] {
        let (status, body, response) = send(&state, request(method, ME, None, None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method}");
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer realm=\"api\"");
        assert_eq!(body, json!({"detail": "Authentication credentials were not provided."}));
    }
});

on_both!(patch_me_updates_the_profile, |state: AppState| async move {
    let registered = register(&state, signup("dana@example.com", json!({"username": "dana"}))).await;
    let (user, token) = (registered["user"].clone(), registered["tokens"]["access"].as_str().unwrap().to_owned());
    let changes = json!({
        "first_name": " Dana ", "last_name": "Scully", "username": "dscully", "bio": "FBI", "phone_number": "+1 555 0100",
        "birth_date": "1964-2-23", "timezone": "America/New_York", "language": "en", "website": "https://fbi.gov/x-files",
        // Read-only or unknown: ignored.
        "email": "mulder@example.com", "is_staff": true, "is_verified": true, "id": 999, "favourite": "truth",
    });
    let (status, body, _) = send(&state, request("PATCH", ME, Some(changes), Some(&token))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut expected = user.clone();
    for (field, value) in [
        ("first_name", "Dana"),
        ("last_name", "Scully"),
        ("username", "dscully"),
        ("bio", "FBI"),
        ("phone_number", "+1 555 0100"),
        ("birth_date", "1964-02-23"),
        ("timezone", "America/New_York"),
        ("language", "en"),
        ("website", "https://fbi.gov/x-files"),
    ] {
        expected[field] = json!(value);
    }
    expected["last_login"] = body["last_login"].clone();
    assert_eq!(body, expected);
    let (_, me, _) = send(&state, request("GET", ME, None, Some(&token))).await;
    assert_eq!(me, body);

    // null clears the date and the username; blank clears the website; absent fields stay.
    let clear = json!({"birth_date": null, "username": null, "website": ""});
    let (status, body, _) = send(&state, request("PATCH", ME, Some(clear), Some(&token))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!((&body["birth_date"], &body["username"], &body["website"]), (&Value::Null, &Value::Null, &json!("")));
    assert_eq!(body["last_name"], "Scully");
    let (status, same, _) = send(&state, request("PATCH", ME, Some(json!({})), Some(&token))).await;
    assert_eq!((status, same), (StatusCode::OK, body));
});

on_both!(patch_me_validates_like_drf, |state: AppState| async move {
    register(&state, signup("erin@example.com", json!({"username": "erin"}))).await;
    let registered = register(&state, signup("fred@example.com", json!({"username": "fred"}))).await;
    let (before, token) = (registered["user"].clone(), registered["tokens"]["access"].as_str().unwrap().to_owned());
    let invalid =
        json!({"birth_date": "23/02/1964", "website": "ftp://example.com", "username": "erin", "first_name": "Fred"});
    let (status, body, _) = send(&state, request("PATCH", ME, Some(invalid), Some(&token))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "birth_date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."],
            "username": ["A user with that username already exists."],
            "website": ["Enter a valid URL."],
        })
    );
    for (field, value) in [
        ("birth_date", json!("2023-02-29")),
        ("birth_date", json!(19640223)),
        ("website", json!("javascript:alert(1)")),
    ] {
        let (status, body, _) = send(&state, request("PATCH", ME, Some(json!({ field: value })), Some(&token))).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{field}: {value}");
        assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), [field]);
    }
    // Nothing was written, and keeping one's own username is not a clash.
    let (status, me, _) = send(&state, request("GET", ME, None, Some(&token))).await;
    assert_eq!((status, &me["first_name"], &me["username"]), (StatusCode::OK, &before["first_name"], &json!("fred")));
    let (status, _, _) = send(&state, request("PATCH", ME, Some(json!({"username": "fred"})), Some(&token))).await;
    assert_eq!(status, StatusCode::OK);
});

on_both!(delete_me_needs_the_password_and_removes_everything, |state: AppState| async move {
    let registered = register(&state, signup("gail@example.com", json!({}))).await;
    let (user, token) = (registered["user"].clone(), registered["tokens"]["access"].as_str().unwrap().to_owned());
    let id = user["id"].as_i64().unwrap();
    // A second login of the same user: its session must go too.
    let (status, login, _) = send(
        &state,
        request("POST", "/api/token/", Some(json!({"email": "gail@example.com", "password": PASSWORD})), None),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    assert_eq!(count(&state, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", id).await, 2);

    // A password given is checked (leaving it out is sudo mode's business: tests/sudo_mode.rs).
    let wrong = json!({"password": ["Incorrect password."]});
    for body in [json!({"password": "not the password"}), json!({"password": 5}), json!({"password": "x".repeat(5000)})]
    {
        let (status, answer, _) = send(&state, request("DELETE", ME, Some(body), Some(&token))).await;
        assert_eq!((status, answer), (StatusCode::BAD_REQUEST, wrong.clone()));
    }
    assert_eq!(count(&state, "SELECT COUNT(*) FROM users WHERE id = $1", id).await, 1);

    let response = send_text(&state, request("DELETE", ME, Some(json!({"password": PASSWORD})), Some(&token))).await;
    assert_eq!(response.0, StatusCode::NO_CONTENT);
    assert!(response.1.is_empty(), "204 with a body");
    assert_eq!(count(&state, "SELECT COUNT(*) FROM users WHERE id = $1", id).await, 0);
    assert_eq!(count(&state, "SELECT COUNT(*) FROM sessions WHERE user_id = $1", id).await, 0);
    let (status, _, _) = send(&state, request("GET", ME, None, Some(&token))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

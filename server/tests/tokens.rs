//! The simplejwt-compatible token endpoints (docs/api.md#tokens): login, refresh with rotation and reuse
//! detection, verify, blacklist, and how access tokens are read, on both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{blacklisted, claims, configured, list_sessions, login_pair, refresh, request, send, send_text, PASSWORD};
use latchkey_core::hash::HashParams;
use latchkey_core::token::{Claims, Expectations, TokenType};
use latchkey_server::db::flag;
use latchkey_server::passwords::Hasher;
use latchkey_server::{now, AppState};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use sqlx::Row;

const NO_ACCOUNT: &str = r#"{"detail":"No active account found with the given credentials"}"#;
/// Django's PBKDF2 hash of "password" (computed with hashlib.pbkdf2_hmac at 1 000 000 iterations).
const DJANGO_HASH: &str = "pbkdf2_sha256$1000000$abcdefghijklmnopqrstuv$hiSPLmmsEJ4SXtBDfUpBLIVuYXFfcubYcZtjeWt1s3U=";

async fn insert_user(state: &AppState, email: &str, username: Option<&str>, hash: &str, active: bool) -> i64 {
    let sql = "INSERT INTO users (email, username, password, is_active, date_joined) VALUES ($1, $2, $3, $4, $5) \
               RETURNING id";
    let row = sqlx::query(sql)
        .bind(email)
        .bind(username)
        .bind(hash)
        .bind(flag(active))
        .bind(now())
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    row.try_get("id").unwrap()
}

async fn create_account(state: &AppState, email: &str, username: Option<&str>, active: bool) -> i64 {
    let hash = state.hasher.hash(PASSWORD.into(), &Default::default()).await.unwrap();
    insert_user(state, email, username, &hash, active).await
}

async fn post(state: &AppState, uri: &str, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = send(state, request("POST", uri, Some(body), None)).await;
    (status, body)
}

/// Status and raw body bytes, to compare error bodies byte for byte.
async fn post_raw(state: &AppState, uri: &str, body: Value) -> (StatusCode, String, Option<String>) {
    let (status, body, response) = send_text(state, request("POST", uri, Some(body), None)).await;
    let www = response.headers().get(header::WWW_AUTHENTICATE).map(|v| v.to_str().unwrap().to_owned());
    (status, body, www)
}

async fn session_row(state: &AppState, sid: &str) -> sqlx::any::AnyRow {
    let sql = "SELECT current_hash, expires_at, revoked_at, ip, user_agent FROM sessions WHERE id = $1";
    sqlx::query(sql).bind(sid).fetch_one(&state.db.pool).await.unwrap()
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn with_grace(state: &AppState, grace: Duration) -> AppState {
    configured(state, |config| config.refresh_reuse_grace = grace)
}

on_both!(login_by_email_and_username, |state: AppState| async move {
    let id = create_account(&state, "alice@example.com", Some("alice"), true).await;
    let login = Request::post("/api/token/")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, format!("agent/{}", "x".repeat(300)))
        .body(Body::from(json!({"email": "  Alice@EXAMPLE.com ", "password": PASSWORD}).to_string()))
        .unwrap();
    let before = now();
    let (status, body, _) = send(&state, login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2);
    let refresh = claims(&state, body["refresh"].as_str().unwrap());
    let access = claims(&state, body["access"].as_str().unwrap());
    assert_eq!(refresh.token_type, TokenType::Refresh);
    assert_eq!(access.token_type, TokenType::Access);
    assert_eq!((refresh.user_id.as_str(), access.user_id.as_str()), (id.to_string().as_str(), id.to_string().as_str()));
    assert_ne!(refresh.jti, access.jti);
    assert_eq!(refresh.jti.len(), 32);
    assert_eq!(access.exp - access.iat, 15 * 60);
    assert_eq!(refresh.exp - refresh.iat, 7 * 86_400);
    assert_eq!(access.extra["email"], "alice@example.com");
    assert_eq!(
        (&access.extra["is_staff"], &access.extra["is_verified"], &access.extra["mfa"]),
        (&json!(false), &json!(false), &json!(false))
    );
    let sid = refresh.extra["sid"].as_str().unwrap().to_owned();
    assert_eq!(access.extra["sid"], sid);
    assert!(sid.len() == 32 && sid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(refresh.extra.len(), 1, "a refresh token carries only sid beyond simplejwt's claims");
    assert_eq!((access.iss.as_deref(), access.aud.as_deref()), (None, None));

    // Only the hash of the refresh token's jti is stored.
    let row = session_row(&state, &sid).await;
    assert_eq!(row.try_get::<String, _>("current_hash").unwrap(), sha256_hex(&refresh.jti));
    assert_eq!(row.try_get::<i64, _>("expires_at").unwrap(), refresh.exp);
    assert_eq!(row.try_get::<String, _>("ip").unwrap(), "");
    assert_eq!(row.try_get::<String, _>("user_agent").unwrap().chars().count(), 256);
    let last_login: Option<i64> = sqlx::query("SELECT last_login FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .try_get("last_login")
        .unwrap();
    assert!(last_login.unwrap() >= before);

    let (status, body) = post(&state, "/api/token/", json!({"username": " alice ", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, list) = list_sessions(&state, body["access"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 2);
});

on_both!(login_failures_share_one_body, |state: AppState| async move {
    create_account(&state, "alice@example.com", Some("alice"), true).await;
    create_account(&state, "idle@example.com", Some("idle"), false).await;
    let cases = [
        json!({"email": "nobody@example.com", "password": PASSWORD}),
        json!({"username": "nobody", "password": PASSWORD}),
        json!({"email": "alice@example.com", "password": "wrong password"}),
        json!({"email": "alice@example.com", "password": format!(" {PASSWORD}")}),
        json!({"email": "idle@example.com", "password": PASSWORD}),
        json!({"username": "Alice", "password": PASSWORD}),
    ];
    for case in cases {
        let (status, body, www) = post_raw(&state, "/api/token/", case.clone()).await;
        assert_eq!((status, body.as_str()), (StatusCode::UNAUTHORIZED, NO_ACCOUNT), "{case}");
        assert_eq!(www.as_deref(), Some(r#"Bearer realm="api""#));
    }
});

on_both!(login_form_errors, |state: AppState| async move {
    let required = json!(["This field is required."]);
    let (status, body) = post(&state, "/api/token/", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"email": required, "password": required}));
    let (status, body) = post(&state, "/api/token/", json!({"username": "alice"})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"password": required})));
    let (_, body) = post(&state, "/api/token/", json!({"email": "   ", "password": "   "})).await;
    assert_eq!(body, json!({"email": ["This field may not be blank."]}), "a password of spaces is not blank");
    let (_, body) = post(&state, "/api/token/", json!({"email": null, "password": true})).await;
    assert_eq!(body, json!({"email": ["This field may not be null."], "password": ["Not a valid string."]}));
    let too_long = "é".repeat(2049);
    let (status, body) = post(&state, "/api/token/", json!({"email": "a@example.com", "password": too_long})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"password": ["This password is too long. It must contain at most 4096 bytes."]}));
    let limit = "x".repeat(4096);
    let (status, _) = post(&state, "/api/token/", json!({"email": "a@example.com", "password": limit})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "4096 bytes are allowed");
    let (status, body) = post(&state, "/api/token/", json!(["a"])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}));
});

on_both!(passwords_keep_their_spaces, |state: AppState| async move {
    let hash = state.hasher.hash("  padded  ".into(), &Default::default()).await.unwrap();
    insert_user(&state, "pad@example.com", None, &hash, true).await;
    let (status, _) = post(&state, "/api/token/", json!({"email": "pad@example.com", "password": "padded"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = post(&state, "/api/token/", json!({"email": "pad@example.com", "password": "  padded  "})).await;
    assert_eq!(status, StatusCode::OK);
});

on_both!(django_hash_is_upgraded_on_login, |state: AppState| async move {
    let id = insert_user(&state, "django@example.com", None, DJANGO_HASH, true).await;
    let stored = |state: AppState| async move {
        let row = sqlx::query("SELECT password FROM users WHERE id = $1").bind(id).fetch_one(&state.db.pool).await;
        row.unwrap().try_get::<String, _>("password").unwrap()
    };
    let (status, _) = post(&state, "/api/token/", json!({"email": "django@example.com", "password": "wrong"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(stored(state.clone()).await, DJANGO_HASH, "a failed login changes nothing");
    let (status, body) =
        post(&state, "/api/token/", json!({"email": "django@example.com", "password": "password"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let upgraded = stored(state.clone()).await;
    assert!(upgraded.starts_with("$argon2id$"), "{upgraded}");
    let (status, _) = post(&state, "/api/token/", json!({"email": "django@example.com", "password": "password"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored(state.clone()).await, upgraded, "a current hash is not rewritten");
});

on_both!(hashing_over_capacity_is_a_503, |mut state: AppState| async move {
    create_account(&state, "alice@example.com", None, true).await;
    state.hasher = Hasher::with_capacity(HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 0, 0);
    let (status, body, response) = send(
        &state,
        request("POST", "/api/token/", Some(json!({"email": "alice@example.com", "password": PASSWORD})), None),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(response.headers()[header::RETRY_AFTER], "1");
});

on_both!(refresh_rotates_and_tolerates_reuse_in_grace, |state: AppState| async move {
    create_account(&state, "alice@example.com", None, true).await;
    let (_, first) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let (status, body) = refresh(&state, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body.as_object().unwrap().len(), 2);
    let second = body["refresh"].as_str().unwrap().to_owned();
    let access = body["access"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(claims(&state, &second).extra["sid"], claims(&state, &first).extra["sid"]);
    assert_eq!(claims(&state, &access).extra["email"], "alice@example.com");
    assert_eq!(list_sessions(&state, &access).await.0, StatusCode::OK);

    // Two tabs: the old token again, seconds later, is refused but the session lives on.
    assert_eq!(refresh(&state, &first).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(list_sessions(&state, &access).await.0, StatusCode::OK);
    let (status, body) = refresh(&state, &second).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let third = body["refresh"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&state, &third).await.0, StatusCode::OK);
});

on_both!(reuse_after_grace_revokes_the_session, |state: AppState| async move {
    let state = with_grace(&state, Duration::ZERO);
    create_account(&state, "alice@example.com", None, true).await;
    let (_, first) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let (status, body) = refresh(&state, &first).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["refresh"].as_str().unwrap().to_owned();
    let access = body["access"].as_str().unwrap().to_owned();
    assert_eq!(refresh(&state, &first).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(refresh(&state, &second).await, (StatusCode::UNAUTHORIZED, blacklisted()), "the family is dead");
    assert_eq!(list_sessions(&state, &access).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    let sid = claims(&state, &second).extra["sid"].as_str().unwrap().to_owned();
    assert!(session_row(&state, &sid).await.try_get::<Option<i64>, _>("revoked_at").unwrap().is_some());
});

on_both!(a_token_older_than_the_previous_one_is_reuse, |state: AppState| async move {
    create_account(&state, "alice@example.com", None, true).await;
    let (_, first) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let (_, body) = refresh(&state, &first).await;
    let (_, body) = refresh(&state, body["refresh"].as_str().unwrap()).await;
    let third = body["refresh"].as_str().unwrap().to_owned();
    // Even inside the grace window, only the token rotated last is forgiven.
    assert_eq!(refresh(&state, &first).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(refresh(&state, &third).await, (StatusCode::UNAUTHORIZED, blacklisted()));
});

on_both!(concurrent_refreshes_of_one_token_have_one_winner, |state: AppState| async move {
    create_account(&state, "alice@example.com", None, true).await;
    let (_, token) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (state, token) = (state.clone(), token.clone());
            tokio::spawn(async move { refresh(&state, &token).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (status, body) = task.await.unwrap();
        match status {
            StatusCode::OK => winners.push(body["refresh"].as_str().unwrap().to_owned()),
            _ => assert_eq!((status, body), (StatusCode::UNAUTHORIZED, blacklisted())),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(refresh(&state, &winners[0]).await.0, StatusCode::OK, "losing a race does not revoke the session");
});

on_both!(refresh_needs_an_active_user, |state: AppState| async move {
    let id = create_account(&state, "alice@example.com", None, true).await;
    let (_, token) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let no_account = json!({"detail": "No active account found for the given token."});
    latchkey_server::users::set_flag(&state.db, id, "is_active", false).await.unwrap();
    assert_eq!(refresh(&state, &token).await, (StatusCode::UNAUTHORIZED, no_account.clone()));
    latchkey_server::users::delete(&state.db, id).await.unwrap();
    assert_eq!(refresh(&state, &token).await, (StatusCode::UNAUTHORIZED, no_account));
});

on_both!(refresh_form_and_bad_tokens, |state: AppState| async move {
    create_account(&state, "alice@example.com", None, true).await;
    let (access, token) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let (status, body) = post(&state, "/api/token/refresh/", json!({})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"refresh": ["This field is required."]})));
    let invalid = json!({"detail": "Token is invalid", "code": "token_not_valid"});
    assert_eq!(refresh(&state, "not.a.jwt").await, (StatusCode::UNAUTHORIZED, invalid.clone()));
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(refresh(&state, &forged).await.1["code"], "token_not_valid");
    let wrong_type = json!({"detail": "Token has wrong type", "code": "token_not_valid"});
    assert_eq!(refresh(&state, &access).await, (StatusCode::UNAUTHORIZED, wrong_type));
    assert_eq!(refresh(&state, &token).await.0, StatusCode::OK, "failed attempts do not touch the session");
});

on_both!(expired_tokens_are_expired, |state: AppState| async move {
    let id = create_account(&state, "alice@example.com", None, true).await;
    let (_, token) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let sid = claims(&state, &token).extra["sid"].clone();
    let expired = |token_type| {
        let mut claims = Claims::new(token_type, id.to_string(), now() - 100, 100, &mut rand_core::OsRng);
        claims.extra.insert("sid".into(), sid.clone());
        state.keys.encode(&claims).unwrap()
    };
    let body = json!({"detail": "Token is expired", "code": "token_not_valid"});
    assert_eq!(refresh(&state, &expired(TokenType::Refresh)).await, (StatusCode::UNAUTHORIZED, body.clone()));
    let verified = post(&state, "/api/token/verify/", json!({"token": expired(TokenType::Access)})).await;
    assert_eq!(verified, (StatusCode::UNAUTHORIZED, body));
    let (status, body) = list_sessions(&state, &expired(TokenType::Access)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["messages"][0]["message"], "Token is expired");
});

on_both!(verify_and_blacklist, |state: AppState| async move {
    create_account(&state, "alice@example.com", None, true).await;
    let (access, token) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let verify = |token: String| post(&state, "/api/token/verify/", json!({ "token": token }));
    assert_eq!(verify(access.clone()).await, (StatusCode::OK, json!({})));
    assert_eq!(verify(token.clone()).await, (StatusCode::OK, json!({})));
    let invalid = json!({"detail": "Token is invalid", "code": "token_not_valid"});
    assert_eq!(verify("x.y.z".into()).await, (StatusCode::UNAUTHORIZED, invalid));
    let (status, body) = post(&state, "/api/token/verify/", json!({})).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"token": ["This field is required."]})));

    let blacklist = |token: String| post(&state, "/api/token/blacklist/", json!({ "refresh": token }));
    let wrong_type = json!({"detail": "Token has wrong type", "code": "token_not_valid"});
    assert_eq!(blacklist(access.clone()).await, (StatusCode::UNAUTHORIZED, wrong_type));
    assert_eq!(blacklist(token.clone()).await, (StatusCode::OK, json!({})));
    assert_eq!(blacklist(token.clone()).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(verify(token.clone()).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(verify(access.clone()).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(refresh(&state, &token).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(list_sessions(&state, &access).await, (StatusCode::UNAUTHORIZED, blacklisted()));

    // A rotated refresh token no longer verifies.
    let (_, old) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let (_, body) = refresh(&state, &old).await;
    assert_eq!(verify(old).await, (StatusCode::UNAUTHORIZED, blacklisted()));
    assert_eq!(verify(body["refresh"].as_str().unwrap().to_owned()).await, (StatusCode::OK, json!({})));
});

on_both!(authorization_header_is_read_like_simplejwt, |state: AppState| async move {
    create_account(&state, "alice@example.com", None, true).await;
    let (access, token) = login_pair(&state, "alice@example.com", PASSWORD).await;
    let with_header = |value: String| {
        Request::get("/api/auth/sessions/").header(header::AUTHORIZATION, value).body(Body::empty()).unwrap()
    };
    let (status, body, response) = send(&state, with_header(format!("bearer {access}"))).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "Authentication credentials were not provided."}))
    );
    assert_eq!(response.headers()[header::WWW_AUTHENTICATE], r#"Bearer realm="api""#);
    let (status, body, _) = send(&state, with_header(format!("Bearer {access} b"))).await;
    let two_values = json!({"detail": "Authorization header must contain two space-delimited values", "code": "bad_authorization_header"});
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, two_values));
    let (status, _, _) = send(&state, with_header(format!("Bearer\t {access}"))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = list_sessions(&state, &token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "Given token not valid for any token type");
    assert_eq!(body["code"], "token_not_valid");
    let wrong = json!({"token_class": "AccessToken", "token_type": "access", "message": "Token has wrong type"});
    assert!(body["messages"].as_array().unwrap().contains(&wrong), "{body}");
});

on_both!(issuer_and_audience_when_configured, |state: AppState| async move {
    let mut config = (*state.config).clone();
    config.jwt_issuer = Some("https://auth.example.com".into());
    config.jwt_audience = Some("example-api".into());
    let expect = Expectations { iss: config.jwt_issuer.clone(), aud: config.jwt_audience.clone() };
    let mut state = state;
    state.config = Arc::new(config);
    state.expect = Arc::new(expect);
    create_account(&state, "alice@example.com", None, true).await;
    let (access, token) = login_pair(&state, "alice@example.com", PASSWORD).await;
    for token in [&token, &access] {
        let signed = claims(&state, token);
        assert_eq!(signed.iss.as_deref(), Some("https://auth.example.com"));
        assert_eq!(signed.aud.as_deref(), Some("example-api"));
    }
    assert_eq!(refresh(&state, &token).await.0, StatusCode::OK);
    // A token without the audience is refused.
    let mut bare = claims(&state, &access);
    bare.aud = None;
    let bare = state.keys.encode(&bare).unwrap();
    let verified = post(&state, "/api/token/verify/", json!({"token": bare})).await;
    assert_eq!(verified, (StatusCode::UNAUTHORIZED, json!({"detail": "Token is invalid", "code": "token_not_valid"})));
});

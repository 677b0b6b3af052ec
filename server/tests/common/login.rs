//! Logging in (`POST /api/token/`), the tokens it gives, refreshing them, and what they say.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use latchkey_core::token::Claims;
use latchkey_server::{now, AppState};
use serde_json::{json, Value};

use super::{call, send, PASSWORD};

/// A login with `body` (credentials, and `otp`, `org` or `cookie` when given), which may fail: the
/// status and the answer.
pub async fn try_login(state: &AppState, body: Value) -> (StatusCode, Value) {
    call(state, "POST", "/api/token/", Some(body), None).await
}

/// A login with `body`, which must succeed: the access token.
pub async fn login_with(state: &AppState, body: Value) -> String {
    let (status, body) = try_login(state, body).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access"].as_str().unwrap().to_owned()
}

/// `email` logs in with `password`, which must succeed: the access token.
pub async fn login(state: &AppState, email: &str, password: &str) -> String {
    login_with(state, json!({"email": email, "password": password})).await
}

/// `email` logs in with `password`, which must succeed: the access and the refresh token.
pub async fn login_pair(state: &AppState, email: &str, password: &str) -> (String, String) {
    let (status, body) = try_login(state, json!({"email": email, "password": password})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (body["access"].as_str().unwrap().to_owned(), body["refresh"].as_str().unwrap().to_owned())
}

/// The tokens of one session, and its id.
#[derive(Debug)]
pub struct Pair {
    pub refresh: String,
    pub access: String,
    pub sid: String,
}

/// `email` logs in with [`PASSWORD`] from a device whose `User-Agent` is `user_agent`, which must
/// succeed: the session's tokens.
pub async fn login_with_agent(state: &AppState, email: &str, user_agent: &str) -> Pair {
    let login = Request::post("/api/token/")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, user_agent)
        .body(Body::from(json!({"email": email, "password": PASSWORD}).to_string()))
        .unwrap();
    let (status, body, _) = send(state, login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh = body["refresh"].as_str().unwrap().to_owned();
    let sid = claims(state, &refresh).extra["sid"].as_str().unwrap().to_owned();
    Pair { refresh, access: body["access"].as_str().unwrap().to_owned(), sid }
}

/// `POST /api/token/refresh/` with `token`: the status and the answer.
pub async fn refresh(state: &AppState, token: &str) -> (StatusCode, Value) {
    call(state, "POST", "/api/token/refresh/", Some(json!({ "refresh": token })), None).await
}

/// `GET /api/auth/sessions/` with `token`: the status also tells whether an access token still works.
pub async fn list_sessions(state: &AppState, token: &str) -> (StatusCode, Value) {
    call(state, "GET", "/api/auth/sessions/", None, Some(token)).await
}

/// The claims of a token the state signed (checked as the server checks them, now).
pub fn claims(state: &AppState, token: &str) -> Claims {
    state.keys.verify(token, None, state.clock.now(), &state.expect).unwrap()
}

/// The answer to a token whose session has ended.
pub fn blacklisted() -> Value {
    json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
}

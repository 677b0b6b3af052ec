//! Cookie mode for refresh tokens (docs/api.md#tokens) and the client address behind trusted proxies, on
//! both databases.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use common::{blacklisted, configured, list_sessions, request, send, send_text, PASSWORD};
use latchkey_server::{now, AppState};
use serde_json::{json, Value};

const CSRF_FAILED: &str = r#"{"detail":"CSRF Failed: cookie-authenticated requests must be application/json."}"#;
const CLEARED: &str = "latchkey_refresh=; HttpOnly; SameSite=Strict; Path=/api/token/; Max-Age=0";

/// An answer: status, raw body, and every `Set-Cookie` header.
struct Answer {
    status: StatusCode,
    body: String,
    set_cookies: Vec<String>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// The one `Set-Cookie` header.
    fn set_cookie(&self) -> &str {
        assert_eq!(self.set_cookies.len(), 1, "{:?}", self.set_cookies);
        &self.set_cookies[0]
    }

    /// The token the one `Set-Cookie` header carries.
    fn cookie_token(&self) -> String {
        let cookie = self.set_cookie();
        let value = cookie.strip_prefix("latchkey_refresh=").unwrap();
        value.split(';').next().unwrap().to_owned()
    }
}

async fn answer(state: &AppState, request: Request<Body>) -> Answer {
    let (status, body, response) = send_text(state, request).await;
    let set_cookies =
        response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    Answer { status, body, set_cookies }
}

/// A POST carrying the refresh cookie, with `content_type` (none when `None`) and `body`.
fn with_cookie(uri: &str, cookie: &str, content_type: Option<&str>, body: &str) -> Request<Body> {
    let mut builder = Request::post(uri).header(header::COOKIE, format!("theme=dark; latchkey_refresh={cookie}"));
    if let Some(content_type) = content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    builder.body(Body::from(body.to_owned())).unwrap()
}

fn json_with_cookie(uri: &str, cookie: &str) -> Request<Body> {
    with_cookie(uri, cookie, Some("application/json"), "{}")
}

/// Logs alice in with `"cookie": true`: the access token and the cookie's refresh token.
async fn cookie_login(state: &AppState) -> (String, String) {
    let body = json!({"email": "alice@example.com", "password": PASSWORD, "cookie": true});
    let login = answer(state, request("POST", "/api/token/", Some(body), None)).await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.body);
    (login.json()["access"].as_str().unwrap().to_owned(), login.cookie_token())
}

fn sid(state: &AppState, token: &str) -> Value {
    common::claims(state, token).extra["sid"].clone()
}

fn with_public_url(state: &AppState, public_url: Option<&str>) -> AppState {
    configured(state, |config| {
        config.bind = "127.0.0.1:8000".parse().unwrap();
        config.public_url = public_url.map(str::to_owned);
    })
}

on_both!(login_with_cookie_keeps_refresh_out_of_the_body, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    // Unset public URL: http://<bind>, here 127.0.0.1, so no `Secure`.
    for state in [with_public_url(&state, None), with_public_url(&state, Some("http://127.0.0.1:8000"))] {
        let body = json!({"email": "alice@example.com", "password": PASSWORD, "cookie": true});
        let login = answer(&state, request("POST", "/api/token/", Some(body), None)).await;
        assert_eq!(login.status, StatusCode::OK, "{}", login.body);
        let access = login.json()["access"].as_str().unwrap().to_owned();
        assert_eq!(login.json(), json!({ "access": access }), "no refresh in the body");
        let token = login.cookie_token();
        assert_eq!(
            login.set_cookie(),
            format!("latchkey_refresh={token}; HttpOnly; SameSite=Strict; Path=/api/token/; Max-Age=604800")
        );
        let claims = state.keys.verify(&token, None, now(), &state.expect).unwrap();
        assert_eq!(claims.token_type, latchkey_core::token::TokenType::Refresh);
        assert_eq!(claims.extra["sid"], sid(&state, &access));
    }

    let state = with_public_url(&state, Some("https://auth.example.com"));
    let (_, token) = cookie_login(&state).await;
    let body = json!({"email": "alice@example.com", "password": PASSWORD, "cookie": true});
    let login = answer(&state, request("POST", "/api/token/", Some(body), None)).await;
    assert!(login.set_cookie().ends_with("; Path=/api/token/; Max-Age=604800; Secure"), "{}", login.set_cookie());
    let cleared = answer(&state, json_with_cookie("/api/token/blacklist/", &token)).await;
    assert_eq!(cleared.set_cookie(), format!("{CLEARED}; Secure"));

    // Without `"cookie": true`, nothing changes.
    for cookie in [json!(false), json!(null)] {
        let body = json!({"email": "alice@example.com", "password": PASSWORD, "cookie": cookie});
        let login = answer(&state, request("POST", "/api/token/", Some(body), None)).await;
        assert_eq!((login.status, login.set_cookies.len()), (StatusCode::OK, 0));
        assert!(login.body.starts_with(r#"{"refresh":""#) && login.json()["access"].is_string(), "{}", login.body);
    }
    let body = json!({"email": "alice@example.com", "password": PASSWORD, "cookie": "yes"});
    let (status, body, _) = send(&state, request("POST", "/api/token/", Some(body), None)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"cookie": ["Must be a valid boolean."]})));
});

on_both!(refresh_by_cookie_rotates_it, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let (access, first) = cookie_login(&state).await;
    let refreshed = answer(&state, json_with_cookie("/api/token/refresh/", &first)).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let new_access = refreshed.json()["access"].as_str().unwrap().to_owned();
    assert_eq!(refreshed.json(), json!({ "access": new_access }), "no refresh in the body");
    let second = refreshed.cookie_token();
    assert_ne!(second, first);
    assert_eq!(
        refreshed.set_cookie(),
        format!("latchkey_refresh={second}; HttpOnly; SameSite=Strict; Path=/api/token/; Max-Age=604800")
    );
    assert_eq!((sid(&state, &second), sid(&state, &new_access)), (sid(&state, &first), sid(&state, &access)));

    let stale = answer(&state, json_with_cookie("/api/token/refresh/", &first)).await;
    assert_eq!((stale.status, stale.json()), (StatusCode::UNAUTHORIZED, blacklisted()));
    assert!(stale.set_cookies.is_empty(), "a refused cookie is left alone: another tab may hold the new one");

    // An empty body with the JSON content type is fine, and a token in the body wins over the cookie.
    let third = answer(&state, with_cookie("/api/token/refresh/", &second, Some("application/json"), "")).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.body);
    let third = third.cookie_token();
    let (status, body, response) = send(
        &state,
        Request::post("/api/token/refresh/")
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .header(header::COOKIE, "latchkey_refresh=garbage")
            .body(Body::from(json!({ "refresh": third }).to_string()))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["access"].is_string() && body["refresh"].is_string(), "{body}");
    assert!(response.headers().get(header::SET_COOKIE).is_none());
});

on_both!(cookie_requests_must_be_json, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let (access, token) = cookie_login(&state).await;
    let cases = [
        ("/api/token/refresh/", Some("text/plain"), r#"{"x":1}"#),
        ("/api/token/refresh/", Some("application/x-www-form-urlencoded"), "a=b"),
        ("/api/token/refresh/", None, ""),
        ("/api/token/blacklist/", Some("text/plain"), ""),
        ("/api/token/blacklist/", Some("multipart/form-data; boundary=x"), "--x--"),
    ];
    for (uri, content_type, body) in cases {
        let refused = answer(&state, with_cookie(uri, &token, content_type, body)).await;
        assert_eq!(
            (refused.status, refused.body.as_str()),
            (StatusCode::FORBIDDEN, CSRF_FAILED),
            "{uri} {content_type:?}"
        );
        assert!(refused.set_cookies.is_empty());
    }
    let mut logout = with_cookie("/api/auth/logout/", &token, Some("text/plain"), "");
    logout.headers_mut().insert(header::AUTHORIZATION, format!("Bearer {access}").parse().unwrap());
    let refused = answer(&state, logout).await;
    assert_eq!((refused.status, refused.body.as_str()), (StatusCode::FORBIDDEN, CSRF_FAILED));

    // Nothing was spent or revoked, and without the cookie the old answers stand.
    let refreshed = answer(&state, json_with_cookie("/api/token/refresh/", &token)).await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.body);
    let plain = Request::post("/api/token/refresh/").header(header::CONTENT_TYPE, "text/plain").body(Body::from("x"));
    let (status, body, _) = send(&state, plain.unwrap()).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, json!({"detail": "Unsupported media type \"text/plain\" in request."}))
    );
    let (status, body, _) = send(&state, request("POST", "/api/token/refresh/", None, None)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"refresh": ["This field is required."]})));
});

on_both!(blacklist_by_cookie_clears_it, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let (access, token) = cookie_login(&state).await;
    let done = answer(&state, json_with_cookie("/api/token/blacklist/", &token)).await;
    assert_eq!((done.status, done.json()), (StatusCode::OK, json!({})));
    assert_eq!(done.set_cookie(), CLEARED);
    let again = answer(&state, json_with_cookie("/api/token/refresh/", &token)).await;
    assert_eq!((again.status, again.json()), (StatusCode::UNAUTHORIZED, blacklisted()));
    let again = answer(&state, json_with_cookie("/api/token/blacklist/", &token)).await;
    assert_eq!((again.status, again.json(), again.set_cookies.len()), (StatusCode::UNAUTHORIZED, blacklisted(), 0));
    let (status, body, _) = send(&state, request("GET", "/api/auth/sessions/", None, Some(&access))).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, blacklisted()));
});

on_both!(logout_by_cookie_clears_it, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    let logout = |access: &str, cookie: Option<&str>, body: Value| {
        let mut builder = Request::post("/api/auth/logout/")
            .header(header::AUTHORIZATION, format!("Bearer {access}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(cookie) = cookie {
            builder = builder.header(header::COOKIE, format!("latchkey_refresh={cookie}"));
        }
        builder.body(Body::from(body.to_string())).unwrap()
    };
    let refresh_status = |token: String| {
        let state = state.clone();
        async move { answer(&state, json_with_cookie("/api/token/refresh/", &token)).await.status }
    };

    // The cookie names the session to close, here another one of alice's.
    let (laptop, _) = cookie_login(&state).await;
    let (_, phone) = cookie_login(&state).await;
    let done = answer(&state, logout(&laptop, Some(&phone), json!({}))).await;
    assert_eq!((done.status, done.json(), done.set_cookie()), (StatusCode::OK, json!({}), CLEARED));
    assert_eq!(refresh_status(phone).await, StatusCode::UNAUTHORIZED);
    let (status, _, _) = send(&state, request("GET", "/api/auth/sessions/", None, Some(&laptop))).await;
    assert_eq!(status, StatusCode::OK, "the caller's own session stays open");

    // A body token closes that session and leaves the caller's cookie alone.
    let (_, tablet) = cookie_login(&state).await;
    let done = answer(&state, logout(&laptop, Some("ignored"), json!({ "refresh": tablet }))).await;
    assert_eq!((done.status, done.set_cookies.len()), (StatusCode::OK, 0));
    assert_eq!(refresh_status(tablet).await, StatusCode::UNAUTHORIZED);

    // With the access token alone (a browser never sends the cookie here), closing one's own
    // session deletes the cookie too.
    let (desktop, cookie) = cookie_login(&state).await;
    let done = answer(&state, request("POST", "/api/auth/logout/", None, Some(&desktop))).await;
    assert_eq!((done.status, done.set_cookie()), (StatusCode::OK, CLEARED));
    assert_eq!(refresh_status(cookie).await, StatusCode::UNAUTHORIZED);
    let done = answer(&state, request("POST", "/api/auth/logout-all/", None, Some(&laptop))).await;
    assert_eq!((done.status, done.set_cookie()), (StatusCode::OK, CLEARED));
});

/// Logs in from `peer` with these `X-Forwarded-For` headers; returns the access token.
async fn login_from(state: &AppState, peer: &str, forwarded_for: &[&str]) -> String {
    let mut login =
        request("POST", "/api/token/", Some(json!({"email": "alice@example.com", "password": PASSWORD})), None);
    login.extensions_mut().insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    for value in forwarded_for {
        login.headers_mut().append("x-forwarded-for", value.parse().unwrap());
    }
    let (status, body, _) = send(state, login).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access"].as_str().unwrap().to_owned()
}

async fn recorded_ip(state: &AppState, access: &str) -> String {
    let (status, body) = list_sessions(state, access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let current = body.as_array().unwrap().iter().find(|s| s["current"] == true).unwrap();
    current["ip"].as_str().unwrap().to_owned()
}

on_both!(trusted_proxies_name_the_client, |state: AppState| async move {
    common::create_user(&state, "alice@example.com", PASSWORD).await;
    // No proxy is trusted by default: the header is the client's to forge.
    let access = login_from(&state, "10.0.0.2:4000", &["203.0.113.9"]).await;
    assert_eq!(recorded_ip(&state, &access).await, "10.0.0.2");

    let mut config = (*state.config).clone();
    config.trusted_proxies = "10.0.0.0/8, fd00::/8".parse().unwrap();
    let mut state = state;
    state.config = Arc::new(config);
    let cases: [(&str, &[&str], &str); 6] = [
        ("10.0.0.2:4000", &["198.51.100.1, 203.0.113.9, 10.0.0.8"], "203.0.113.9"),
        ("10.0.0.2:4000", &["198.51.100.1", "203.0.113.9"], "203.0.113.9"),
        ("[::ffff:10.0.0.2]:4000", &["203.0.113.9"], "203.0.113.9"),
        ("[fd00::1]:4000", &["2001:db8::5"], "2001:db8::5"),
        ("192.0.2.10:4000", &["203.0.113.9"], "192.0.2.10"),
        ("10.0.0.2:4000", &[], "10.0.0.2"),
    ];
    for (peer, forwarded_for, expected) in cases {
        let access = login_from(&state, peer, forwarded_for).await;
        assert_eq!(recorded_ip(&state, &access).await, expected, "{peer} {forwarded_for:?}");
    }
});

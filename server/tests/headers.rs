//! Caching: every answer under `/api/` (errors and unknown paths included) carries `Cache-Control:
//! no-store` and `Pragma: no-cache`, since they hold tokens and personal data; the demo's static
//! files do not, so browsers may cache them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{request, send};
use latchkey_server::{AppState, Config};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";

fn assert_no_store(what: &str, response: &axum::response::Response<()>) {
    let headers = response.headers();
    assert_eq!(headers.get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap()), Some("no-store"), "{what}");
    assert_eq!(headers.get(header::PRAGMA).map(|v| v.to_str().unwrap()), Some("no-cache"), "{what}");
}

/// The state with its demo directory holding an `index.html` and an `app.js`.
fn with_demo(state: &AppState) -> AppState {
    let dir = std::env::temp_dir().join(format!("latchkey-headers-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>demo</title>").unwrap();
    std::fs::write(dir.join("app.js"), "console.log('demo');").unwrap();
    let mut config: Config = (*state.config).clone();
    config.demo_dir = dir;
    let mut next = state.clone();
    next.config = Arc::new(config);
    next
}

on_both!(api_answers_are_never_cached, |state: AppState| async move {
    common::create_user(&state, "ada@example.com", PASSWORD).await;
    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    let (status, pair, response) = send(&state, request("POST", "/api/token/", Some(credentials), None)).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    assert_no_store("a token pair", &response);
    let access = pair["access"].as_str().unwrap();
    let (status, _, response) = send(&state, request("GET", "/api/auth/me/", None, Some(access))).await;
    assert_eq!(status, StatusCode::OK);
    assert_no_store("the profile", &response);

    let errors = [
        ("GET", "/api/auth/me/", StatusCode::UNAUTHORIZED),
        ("GET", "/api/token/", StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/api/no-such-thing/", StatusCode::NOT_FOUND),
    ];
    for (method, uri, expected) in errors {
        let (status, _, response) = send(&state, request(method, uri, None, None)).await;
        assert_eq!(status, expected, "{method} {uri}");
        assert_no_store(uri, &response);
    }
    let wrong = json!({"email": "ada@example.com", "password": "wrong"});
    let (status, _, response) = send(&state, request("POST", "/api/token/", Some(wrong), None)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_no_store("a refused login", &response);
    let huge = Request::post("/api/token/")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(vec![b' '; 70 * 1024]))
        .unwrap();
    let (status, body, response) = send(&state, huge).await;
    assert_eq!((status, body), (StatusCode::PAYLOAD_TOO_LARGE, json!({"detail": "Request body is too large."})));
    assert_no_store("a 413", &response);
    assert_eq!(response.headers()[header::CONNECTION], "close", "a 413 ends the connection");
});

on_both!(the_demo_files_may_be_cached, |state: AppState| async move {
    let state = with_demo(&state);
    for uri in ["/", "/index.html", "/app.js", "/password-reset?uid=x&token=y"] {
        let (status, _, response) = send(&state, request("GET", uri, None, None)).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let headers = response.headers();
        assert!(headers.get(header::CACHE_CONTROL).is_none() && headers.get(header::PRAGMA).is_none(), "{uri}");
    }
    for uri in ["/healthz", "/.well-known/jwks.json", "/apiary"] {
        let (_, _, response) = send(&state, request("GET", uri, None, None)).await;
        assert!(response.headers().get(header::CACHE_CONTROL).is_none(), "{uri} is not under /api/");
    }
});

//! Operations endpoints and request-level conventions, on both databases.

mod common;

use axum::http::StatusCode;
use common::{request, send, send_text};
use latchkey_server::AppState;
use serde_json::json;
use tower::ServiceExt;

on_both!(healthz_and_readyz, |state: AppState| async move {
    let (status, body, response) = send(&state, request("GET", "/healthz", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"status": "ok"}));
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    let (status, body, _) = send(&state, request("GET", "/readyz", None, None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    state.db.pool.close().await;
    let (status, _, _) = send(&state, request("GET", "/readyz", None, None)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
});

on_both!(conventions, |state: AppState| async move {
    let (status, body, response) = send(&state, request("GET", "/api/nothing/here/", None, None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
    assert_eq!(response.headers()["x-request-id"].len(), 16);
    // An API answer may run nothing; the demo's pages their own scripts and WebAssembly only.
    assert_eq!(response.headers()["content-security-policy"], "default-src 'none'; frame-ancestors 'none'");
    let (_, _, page) = send_text(&state, request("GET", "/no/such/page", None, None)).await;
    assert!(page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("script-src 'self' 'wasm-unsafe-eval'"));
    assert!(page.headers().get("cache-control").is_none(), "the demo's files stay cacheable");
    let (status, body, _) = send(&state, request("DELETE", "/healthz", None, None)).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"DELETE\" not allowed."}));
    // A request id sent by a proxy is kept.
    let mut with_id = request("GET", "/healthz", None, None);
    with_id.headers_mut().insert("x-request-id", "abc-123".parse().unwrap());
    let (_, _, response) = send(&state, with_id).await;
    assert_eq!(response.headers()["x-request-id"], "abc-123");
    // One that is long or odd is replaced, not echoed nor logged.
    let mut odd = request("GET", "/healthz", None, None);
    odd.headers_mut().insert("x-request-id", "x".repeat(200).parse().unwrap());
    let (_, _, response) = send(&state, odd).await;
    assert_eq!(response.headers()["x-request-id"].len(), 16);
});

on_both!(cors_only_for_configured_origins, |state: AppState| async move {
    let preflight = |origin: &str| {
        axum::http::Request::builder()
            .method("OPTIONS")
            .uri("/api/token/")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let (_, _, response) = send(&state, preflight("https://app.example.com")).await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
    let mut config = (*state.config).clone();
    config.cors_origins = vec!["https://app.example.com".into()];
    let mut state = state;
    state.config = std::sync::Arc::new(config);
    let (_, _, response) = send(&state, preflight("https://app.example.com")).await;
    assert_eq!(response.headers()["access-control-allow-origin"], "https://app.example.com");
    let (_, _, response) = send(&state, preflight("https://evil.example.com")).await;
    assert!(response.headers().get("access-control-allow-origin").is_none());
    // An allowed origin may read when to retry after a 429.
    let mut get = request("GET", "/healthz", None, None);
    get.headers_mut().insert("origin", "https://app.example.com".parse().unwrap());
    let (_, _, response) = send(&state, get).await;
    let exposed = response.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("ratelimit-reset"), "{exposed}");
});

on_both!(metrics_count_requests, |state: AppState| async move {
    send(&state, request("GET", "/healthz", None, None)).await;
    send(&state, request("GET", "/api/missing/", None, None)).await;
    let (status, text, response) = send_text(&state, request("GET", "/metrics", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    // By route template (`other`: no route matched), method and status; `server/tests/metrics.rs` has the rest.
    assert!(text.contains(r#"latchkey_http_requests_total{route="/healthz",method="GET",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"latchkey_http_requests_total{route="other",method="GET",status="404"} 1"#), "{text}");
});

/// A database that takes the connection but stops answering makes the node unready (503) within
/// `PING_TIMEOUT`, rather than its probe hang: PostgreSQL through a relay that can be frozen.
#[tokio::test]
#[allow(clippy::unwrap_used)]
async fn readyz_fails_when_the_database_stops_answering() {
    let Some(state) = common::state(common::Backend::Postgres).await else { return };
    let url = state.config.database_url.clone();
    let (relay, frozen) = frozen_relay(&url).await;
    let mut state = state;
    state.db = latchkey_server::db::Db::connect(&relay).await.unwrap();
    let ready = || async { send(&state, request("GET", "/readyz", None, None)).await.0 };
    assert_eq!(ready().await, StatusCode::OK);
    frozen.store(true, std::sync::atomic::Ordering::SeqCst);
    // Not a timing assertion: only a bound on a hang, far above PING_TIMEOUT.
    let answer = tokio::time::timeout(std::time::Duration::from_secs(60), ready()).await;
    assert_eq!(answer.expect("/readyz hung on a database that does not answer"), StatusCode::SERVICE_UNAVAILABLE);
}

/// The demo's files are served at `/`, and the pages e-mailed links open are its front page.
#[tokio::test]
#[allow(clippy::unwrap_used)]
async fn the_demo_and_the_link_pages_are_served() {
    let mut state = common::state(common::Backend::Sqlite).await.unwrap();
    let dir = std::env::temp_dir().join(format!("latchkey-demo-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>demo</title>").unwrap();
    let mut config = (*state.config).clone();
    config.demo_dir = dir;
    state.config = std::sync::Arc::new(config);
    let get = |uri: &str| {
        let state = state.clone();
        let uri = uri.to_owned();
        async move {
            let response = latchkey_server::app(state).oneshot(common::request("GET", &uri, None, None)).await.unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
            (status, String::from_utf8_lossy(&body).into_owned())
        }
    };
    for page in ["/", "/password-reset?uid=MQ&token=abc-123", "/verify-email?uid=MQ&token=abc-123", "/verify-email/"] {
        let (status, body) = get(page).await;
        assert_eq!((status, body.contains("<title>demo</title>")), (StatusCode::OK, true), "{page}");
    }
    assert_eq!(get("/elsewhere").await.0, StatusCode::NOT_FOUND);
    assert_eq!(get("/api/password-reset").await, (StatusCode::NOT_FOUND, r#"{"detail":"Not found."}"#.to_owned()));
}

#[allow(clippy::unwrap_used)]
/// A TCP relay to the PostgreSQL server of `url`: the URL through it, and the switch that freezes it
/// (what arrives then is held, never passed on, in either direction: a server that stopped answering).
async fn frozen_relay(url: &str) -> (String, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (auth, tail) = url.split_once("://").unwrap().1.split_once('@').unwrap();
    let (target, database) = tail.split_once('/').unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let relay = format!("postgres://{auth}@{}/{database}", listener.local_addr().unwrap());
    let frozen = Arc::new(AtomicBool::new(false));
    let (target, switch) = (target.to_owned(), frozen.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&target).await else { continue };
            let ((client_in, client_out), (server_in, server_out)) = (client.into_split(), server.into_split());
            for (mut from, mut to) in [
                (
                    Box::new(client_in) as Box<dyn tokio::io::AsyncRead + Send + Unpin>,
                    Box::new(server_out) as Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
                ),
                (Box::new(server_in), Box::new(client_out)),
            ] {
                let switch = switch.clone();
                tokio::spawn(async move {
                    let mut buffer = vec![0u8; 16 * 1024];
                    while let Ok(n @ 1..) = from.read(&mut buffer).await {
                        if switch.load(Ordering::SeqCst) {
                            std::future::pending::<()>().await;
                        }
                        if to.write_all(&buffer[..n]).await.is_err() {
                            return;
                        }
                    }
                });
            }
        }
    });
    (relay, frozen)
}

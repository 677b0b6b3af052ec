//! The app: requests sent through the router (no socket), their answers, and a state whose
//! configuration a test changes.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use latchkey_server::{app, AppState, Config};
use serde_json::Value;
use tower::ServiceExt;

/// A request builder: JSON body, optional bearer token.
pub fn request(method: &str, uri: &str, body: Option<Value>, token: Option<&str>) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match body {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(serde_json::to_vec(&body).unwrap()))
            .unwrap(),
        None => builder.body(Body::empty()).unwrap(),
    }
}

/// A request from `ip`, as the socket would report it (port 40000), with an optional JSON body
/// (a `Value`, `Some(value)` or `None`) and bearer token.
pub fn from(ip: &str, method: &str, uri: &str, body: impl Into<Option<Value>>, token: Option<&str>) -> Request<Body> {
    let mut request = request(method, uri, body.into(), token);
    let addr: SocketAddr =
        if ip.contains(':') { format!("[{ip}]:40000") } else { format!("{ip}:40000") }.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    request
}

/// Sends a request built by [`request`] and returns the status and the JSON body.
pub async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let (status, body, _) = send(state, request(method, uri, body, token)).await;
    (status, body)
}

/// [`call`] as the owner of `token`, with an optional JSON body (a `Value`, `Some(value)` or `None`).
pub async fn call_as(
    state: &AppState,
    method: &str,
    uri: &str,
    body: impl Into<Option<Value>>,
    token: &str,
) -> (StatusCode, Value) {
    call(state, method, uri, body.into(), Some(token)).await
}

/// [`call`] with an API key (`X-API-Key`) instead of a bearer token.
pub async fn with_key(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<Value>,
    key: &str,
) -> (StatusCode, Value) {
    let mut request = request(method, uri, body, None);
    request.headers_mut().insert("x-api-key", key.parse().unwrap());
    let (status, body, _) = send(state, request).await;
    (status, body)
}

/// Sends `request` through the router and returns the status and the JSON body (`Null` if empty).
pub async fn send(state: &AppState, request: Request<Body>) -> (StatusCode, Value, Response<()>) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let json = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
    (parts.status, json, Response::from_parts(parts, ()))
}

/// Sends `request` through the router and returns the status and the body as it is, unparsed, for
/// comparing bodies byte for byte (or finding none).
pub async fn send_text(state: &AppState, request: Request<Body>) -> (StatusCode, String, Response<()>) {
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    (parts.status, String::from_utf8(bytes.to_vec()).unwrap(), Response::from_parts(parts, ()))
}

/// The state with `change` made to its configuration (the database, keys and caches are shared).
pub fn configured(state: &AppState, change: impl FnOnce(&mut Config)) -> AppState {
    let mut config = (*state.config).clone();
    change(&mut config);
    let mut next = state.clone();
    next.config = Arc::new(config);
    next
}

/// Waits for every task of `handles`, in order, and returns what each returned.
pub async fn futures_join<T: Send + 'static>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

/// `{"detail": "..."}` (with `code` and the like beside it) or `{"field": ["message", ...]}`.
pub fn drf_shaped(body: &Value) -> bool {
    let Some(map) = body.as_object().filter(|map| !map.is_empty()) else { return false };
    if let Some(detail) = map.get("detail") {
        return detail.as_str().is_some_and(|detail| !detail.is_empty());
    }
    map.values().all(|messages| {
        messages
            .as_array()
            .is_some_and(|list| !list.is_empty() && list.iter().all(|m| m.as_str().is_some_and(|m| !m.is_empty())))
    })
}

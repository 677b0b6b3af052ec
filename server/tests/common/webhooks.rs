//! Security webhooks from a test's side: a server that may post to the loopback receiver
//! ([`super::webhook_receiver`]), a staff member fresh from logging in (so within the
//! re-authentication window), endpoints registered through the API with the receiver told their
//! secrets, the delivery loop's passes run on demand, and the outbox as the database holds it.

use std::sync::Arc;

use axum::http::StatusCode;
use latchkey_server::infra::webhooks::Courier;
use latchkey_server::AppState;
use serde_json::{json, Value};

use super::{call, create_user, login, make_staff, WebhookReceiver, PASSWORD};

/// `state` with `LATCHKEY_WEBHOOK_ALLOW_PRIVATE=1` (the receiver listens on 127.0.0.1), its
/// receiver following the server's clock.
pub fn allowing_private(state: &AppState) -> AppState {
    let mut state = super::configured(state, |config| config.webhook_allow_private = true);
    state.webhooks = Arc::new(Courier::new(true));
    state
}

/// A staff member's access token, from a login that just happened.
pub async fn staff_token(state: &AppState, email: &str) -> String {
    let id = create_user(state, email, PASSWORD).await;
    make_staff(state, id).await;
    login(state, email, PASSWORD).await
}

/// Registers `url` for `events` as the staff member of `token` (201 required): the endpoint's id
/// and secret.
pub async fn add_endpoint(state: &AppState, token: &str, url: &str, events: &[&str]) -> (i64, String) {
    let (status, body) =
        call(state, "POST", "/api/admin/webhooks/", Some(json!({ "url": url, "events": events })), Some(token)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (body["id"].as_i64().unwrap(), body["secret"].as_str().unwrap().to_owned())
}

/// [`add_endpoint`] for the receiver's `path`, the receiver told the secret and the server's clock.
pub async fn subscribe(state: &AppState, token: &str, receiver: &WebhookReceiver, events: &[&str]) -> i64 {
    let (id, secret) = add_endpoint(state, token, &receiver.url("/hooks"), events).await;
    receiver.set_secret(&secret);
    let clock = state.clock.clone();
    receiver.set_clock(move || clock.now());
    id
}

/// One pass of the delivery loop, as a node runs it: how many messages it claimed.
pub async fn deliver(state: &AppState) -> usize {
    latchkey_server::webhooks::delivery::deliver_due(state).await.unwrap()
}

/// The delivery log of endpoint `id`, newest first, as staff read it.
pub async fn deliveries(state: &AppState, token: &str, id: i64) -> Vec<Value> {
    let (status, page) = call(state, "GET", &format!("/api/admin/webhooks/{id}/deliveries/"), None, Some(token)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["results"].as_array().unwrap().clone()
}

/// The types of the messages `received`, in order.
pub fn types_of(received: &[super::WebhookRequest]) -> Vec<String> {
    received.iter().map(|r| r.event_type().unwrap_or("?").to_owned()).collect()
}

/// How many rows the outbox holds for `event_type`.
pub async fn outbox_rows(state: &AppState, event_type: &str) -> i64 {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_deliveries WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    row.0
}

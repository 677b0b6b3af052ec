//! Security webhooks (docs/api.md#security-webhooks): the rules of the endpoints staff register (a
//! URL the server may call, known event types, at most [`MAX_ENDPOINTS`]), each change audited as
//! an `admin.action` itself, and the delivery loop ([`delivery`]).

pub mod delivery;

use serde_json::json;
use url::Url;

use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
pub use crate::store::webhook_events::WebhookEvent;
use crate::store::webhook_outbox::{self, Delivery};
pub use crate::store::webhooks::{Change, Endpoint, MAX_ENDPOINTS};

/// The longest endpoint URL, in characters.
pub const URL_MAX: usize = 2048;

/// `text` as an endpoint URL, or why it cannot be one, as the `url` field's error says it.
fn endpoint_url(state: &AppState, text: &str) -> Result<Url, String> {
    let Ok(url) = Url::parse(text) else { return Err("Enter a valid URL.".into()) };
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("Enter a valid URL.".into());
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("Put no user name or password in the URL: deliveries are signed with the endpoint's secret.".into());
    }
    if !state.webhooks.may_call(&url) {
        return Err(NOT_PUBLIC.into());
    }
    Ok(url)
}

/// The refusal of a private, loopback or plain-http target.
const NOT_PUBLIC: &str = "Webhooks are sent to https URLs on public addresses only \
                          (LATCHKEY_WEBHOOK_ALLOW_PRIVATE=1 allows private ones).";

/// Why `text` cannot be an endpoint URL ([`endpoint_url`]), including a name that resolves to a
/// private address now (it is checked again at every delivery, whatever it resolves to then).
pub(crate) async fn check_url(state: &AppState, text: &str) -> Option<String> {
    match endpoint_url(state, text) {
        Err(problem) => Some(problem),
        Ok(url) => state.webhooks.resolves_to_private(&url).await.then(|| NOT_PUBLIC.into()),
    }
}

/// Who changed an endpoint: the staff member, filed as the event's user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Staff<'a> {
    pub user_id: i64,
    pub client: &'a Client,
    pub session_id: Option<&'a str>,
}

impl<'a> Staff<'a> {
    fn actor(self) -> Actor<'a> {
        Actor { user_id: Some(self.user_id), client: self.client, session_id: self.session_id }
    }
}

/// An endpoint's host, as audit rows name it (its path and query may hold a receiver's token).
fn host_of(url: &str) -> String {
    Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_owned)).unwrap_or_default()
}

/// Registers an endpoint (URL and events already checked) with a new secret; the endpoint and the
/// secret, which is never shown again. 400 when there are [`MAX_ENDPOINTS`] already.
pub(crate) async fn create(
    state: &AppState,
    staff: Staff<'_>,
    url: &str,
    events: &[WebhookEvent],
) -> Result<(Endpoint, String), ApiError> {
    if crate::store::webhooks::count(state).await? >= MAX_ENDPOINTS {
        return Err(ApiError::field(
            "non_field_errors",
            format!("A server keeps at most {MAX_ENDPOINTS} webhook endpoints: delete one first."),
        ));
    }
    let secret = crate::infra::webhooks::new_secret();
    let endpoint = crate::store::webhooks::create(state, url, events, &secret, staff.user_id).await?;
    let names: Vec<&str> = endpoint.events.iter().map(|e| e.as_str()).collect();
    let detail = json!({ "endpoint_id": endpoint.id, "host": host_of(url), "events": names });
    audit::record(state, AuditEvent::WebhookCreated, staff.actor(), detail).await?;
    Ok((endpoint, secret))
}

/// Applies `change` to endpoint `id` (checked already); 404 for none.
pub(crate) async fn update(
    state: &AppState,
    staff: Staff<'_>,
    id: i64,
    change: &Change<'_>,
) -> Result<Endpoint, ApiError> {
    let endpoint = crate::store::webhooks::update(state, id, change).await?.ok_or(ApiError::NotFound)?;
    let mut changed = Vec::new();
    if change.url.is_some() {
        changed.push("url");
    }
    if change.events.is_some() {
        changed.push("events");
    }
    if change.active.is_some() {
        changed.push("active");
    }
    let detail =
        json!({ "endpoint_id": id, "host": host_of(&endpoint.url), "changed": changed, "active": endpoint.active });
    audit::record(state, AuditEvent::WebhookUpdated, staff.actor(), detail).await?;
    Ok(endpoint)
}

/// Deletes endpoint `id` and its undelivered messages; 404 for none.
pub(crate) async fn delete(state: &AppState, staff: Staff<'_>, id: i64) -> Result<(), ApiError> {
    let endpoint = crate::store::webhooks::get(state, id).await?.ok_or(ApiError::NotFound)?;
    if !crate::store::webhooks::delete(state, id).await? {
        return Err(ApiError::NotFound);
    }
    let detail = json!({ "endpoint_id": id, "host": host_of(&endpoint.url) });
    audit::record(state, AuditEvent::WebhookDeleted, staff.actor(), detail).await
}

/// Queues a `webhook.test` message for endpoint `id` alone (sent even while it is off) and wakes
/// the courier; the delivery, which the log then follows. 404 for none.
pub(crate) async fn send_test(state: &AppState, staff: Staff<'_>, id: i64) -> Result<Delivery, ApiError> {
    crate::store::webhooks::get(state, id).await?.ok_or(ApiError::NotFound)?;
    let delivery = webhook_outbox::enqueue_test(state, id, staff.user_id).await?;
    state.webhooks.wake();
    Ok(delivery)
}

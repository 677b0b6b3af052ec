//! The bodies of the security webhook endpoints (docs/api.md#security-webhooks).

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::flows::webhooks::{Endpoint, WebhookEvent, URL_MAX};
use crate::http::drf::{CharField, Form, FormBody};
use crate::infra::datetime::Rfc3339;
use crate::store::webhook_outbox::Delivery;

/// A new endpoint.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"url": "https://hooks.example.com/latchkey", "events": ["login.locked_out", "session.reuse_detected"]}))]
pub struct NewWebhookRequest {
    /// Where deliveries are posted: https on a public address (at most 2048 characters).
    #[schema(max_length = 2048)]
    pub url: String,
    /// The event types it receives: any of `user.created`, `user.deleted`, `login.failed`,
    /// `login.locked_out`, `session.reuse_detected`, `password.changed`, `password.reset`,
    /// `mfa.enabled`, `mfa.disabled`, `api_key.created`, `admin.action`.
    #[schema(value_type = Vec<String>)]
    pub events: Vec<WebhookEvent>,
}

impl FormBody for NewWebhookRequest {
    /// The URL's form and the event names; whether the server may call the URL, the handler asks.
    fn read(form: &mut Form<'_>) -> Self {
        let url = form.bounded("url", CharField::REQUIRED, URL_MAX);
        let events = read_events(form, true).unwrap_or_default();
        Self { url: url.unwrap_or_default(), events }
    }
}

/// A change to an endpoint: any of its fields.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"active": false}))]
pub struct WebhookUpdateRequest {
    /// A new URL (re-authentication required, as when creating).
    #[schema(max_length = 2048, required = false)]
    pub url: Option<String>,
    /// The new list of event types.
    #[schema(value_type = Option<Vec<String>>, required = false)]
    pub events: Option<Vec<WebhookEvent>>,
    /// `false` holds deliveries until it is `true` again.
    #[schema(required = false)]
    pub active: Option<bool>,
}

impl FormBody for WebhookUpdateRequest {
    fn read(form: &mut Form<'_>) -> Self {
        let url = form.bounded("url", CharField { required: false, ..CharField::REQUIRED }, URL_MAX);
        let events = read_events(form, false);
        let active = form.boolean("active");
        Self { url, events, active }
    }
}

/// `events`: a non-empty list of known type names, each kept once; `None` when absent (and not
/// `required`) or invalid.
fn read_events(form: &mut Form<'_>, required: bool) -> Option<Vec<WebhookEvent>> {
    let items = match form.value("events") {
        None if required => {
            form.error("events", "This field is required.");
            return None;
        }
        None => return None,
        Some(Value::Array(items)) => items,
        Some(Value::Null) => {
            form.error("events", "This field may not be null.");
            return None;
        }
        Some(_) => {
            form.error("events", "Expected a list of items but got type \"str\".");
            return None;
        }
    };
    if items.is_empty() {
        form.error("events", "This list may not be empty.");
        return None;
    }
    let mut events = Vec::new();
    for item in items {
        match item.as_str().and_then(WebhookEvent::subscribable) {
            Some(event) if !events.contains(&event) => events.push(event),
            Some(_) => {}
            None => {
                // The first unknown name only (cut short): a long list of them is one message.
                let shown: String = item.as_str().unwrap_or("?").chars().take(64).collect();
                form.error("events", format!("\"{shown}\" is not a valid choice."));
                break;
            }
        }
    }
    (!form.has_error("events")).then_some(events)
}

/// An endpoint as staff see it (never its secret).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 3, "url": "https://hooks.example.com/latchkey", "events": ["login.locked_out"],
    "active": true, "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z"}))]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: i64,
    /// Where deliveries are posted.
    pub url: String,
    /// The event types it receives.
    pub events: Vec<String>,
    /// Off, deliveries wait (a test is sent anyway).
    pub active: bool,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When it last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Rfc3339,
}

impl From<&Endpoint> for WebhookEndpoint {
    fn from(endpoint: &Endpoint) -> Self {
        Self {
            id: endpoint.id,
            url: endpoint.url.clone(),
            events: endpoint.events.iter().map(|e| e.as_str().to_owned()).collect(),
            active: endpoint.active,
            created_at: Rfc3339(endpoint.created_at),
            updated_at: Rfc3339(endpoint.updated_at),
        }
    }
}

/// A new endpoint, with its signing secret: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewWebhookEndpoint {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_` and the base64 of 32 random bytes: the key of every delivery's `webhook-signature`.
    pub secret: String,
}

/// A page of an endpoint's deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryPage {
    /// The deliveries.
    pub results: Vec<Delivery>,
    /// The next (older) page's path, or null.
    pub next: Option<String>,
}

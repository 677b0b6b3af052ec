//! The outbox of security webhooks (`webhook_deliveries`): one row per message and endpoint, written
//! in the transaction of the audit event it carries ([`enqueue`]), claimed by any node for a while
//! ([`claim`]), and settled after each attempt ([`settle`]). Rows are swept with the audit events,
//! after `LATCHKEY_AUDIT_RETENTION`.

use rand_core::{OsRng, RngCore};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;
use utoipa::ToSchema;

use crate::infra::client::Client;
use crate::infra::datetime::{iso8601, Rfc3339};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit_events::AuditEvent;
use crate::store::webhook_events::WebhookEvent;

/// A new `webhook-id`: `msg_` and 128 random bits in hex.
fn message_id() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    format!("msg_{}", latchkey_core::encoding::hex(&bytes))
}

/// What an audit event says, as a webhook's `data` tells it.
#[derive(Debug)]
pub(crate) struct Recorded<'a> {
    /// The audit row's id.
    pub id: i64,
    pub event: AuditEvent,
    pub user_id: Option<i64>,
    pub client: &'a Client,
    pub session_id: Option<&'a str>,
    /// Already cut to the audit log's bounds.
    pub detail: &'a Value,
    pub at: i64,
}

/// The body every endpoint receives for `recorded`: Standard Webhooks' `type`, `timestamp` and
/// `data`.
pub(crate) fn payload(kind: WebhookEvent, recorded: &Recorded<'_>) -> String {
    json!({
        "type": kind.as_str(),
        "timestamp": iso8601(recorded.at),
        "data": {
            "audit_event_id": recorded.id,
            "audit_event": recorded.event.as_str(),
            "user_id": recorded.user_id,
            "ip": recorded.client.ip,
            "user_agent": recorded.client.user_agent,
            "session_id": recorded.session_id,
            "detail": recorded.detail,
        }
    })
    .to_string()
}

/// Writes one delivery of `payload` for every active endpoint subscribed to `kind`, inside `tx` (the
/// audit event's transaction). Returns how many were written.
pub(crate) async fn enqueue(
    tx: &mut sqlx::AnyConnection,
    kind: WebhookEvent,
    payload: &str,
    now: i64,
) -> Result<u64, ApiError> {
    let sql =
        "INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, next_attempt_at, created_at) \
               SELECT id, $1, $2, $3, $4, $5 FROM webhook_endpoints WHERE active = 1 AND events LIKE $6";
    let done = sqlx::query(sql)
        .bind(message_id())
        .bind(kind.as_str())
        .bind(payload)
        .bind(now)
        .bind(now)
        .bind(format!("%,{},%", kind.as_str()))
        .execute(tx)
        .await?;
    Ok(done.rows_affected())
}

/// Queues a `webhook.test` message for endpoint `endpoint_id` alone; its delivery row's id.
pub(crate) async fn enqueue_test(state: &AppState, endpoint_id: i64, by: i64) -> Result<Delivery, ApiError> {
    let now = state.clock.now();
    let body = json!({
        "type": WebhookEvent::Test.as_str(),
        "timestamp": iso8601(now),
        "data": { "endpoint_id": endpoint_id, "by": by },
    })
    .to_string();
    let sql = format!(
        "INSERT INTO webhook_deliveries (endpoint_id, message_id, event_type, payload, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {DELIVERY_COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(endpoint_id)
        .bind(message_id())
        .bind(WebhookEvent::Test.as_str())
        .bind(body)
        .bind(now)
        .bind(now)
        .fetch_one(&state.db.pool)
        .await?;
    delivery(&row)
}

/// A delivery a node has claimed: what to send, and where.
#[derive(Debug, Clone)]
pub(crate) struct Due {
    pub id: i64,
    pub endpoint_id: i64,
    pub message_id: String,
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// Claims up to `limit` deliveries that are due, for `lease` seconds: no other node takes them
/// until then (a node that dies mid-attempt leaves them to the next claim after the lease). A
/// disabled endpoint's deliveries wait, but for its tests.
pub(crate) async fn claim(state: &AppState, lease: i64, limit: i64) -> Result<Vec<Due>, ApiError> {
    let now = state.clock.now();
    // A read first: an idle server's loop then never takes SQLite's write lock, once a second.
    let due = sqlx::query("SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1")
        .bind(now)
        .fetch_optional(&state.db.pool)
        .await?;
    if due.is_none() {
        return Ok(Vec::new());
    }
    // The outer conditions are checked again on the row as it is when the UPDATE reaches it: a
    // node that lost the race to a row (PostgreSQL re-reads a row another transaction changed)
    // finds it leased, and skips it.
    let sql = "UPDATE webhook_deliveries SET lease_until = $1 WHERE id IN (\
                   SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                   WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND d.lease_until <= $3 \
                   AND (e.active = 1 OR d.event_type = $4) ORDER BY d.next_attempt_at, d.id LIMIT $5) \
               AND state = 'pending' AND lease_until <= $6 \
               RETURNING id, endpoint_id, message_id, payload, attempts";
    let rows = sqlx::query(sql)
        .bind(now + lease)
        .bind(now)
        .bind(now)
        .bind(WebhookEvent::Test.as_str())
        .bind(limit)
        .bind(now)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Due {
                id: row.try_get("id")?,
                endpoint_id: row.try_get("endpoint_id")?,
                message_id: row.try_get("message_id")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
            })
        })
        .collect()
}

/// How an attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// It did not; try again at `at` (Unix seconds).
    Retry { status: Option<u16>, error: &'static str, at: i64 },
    /// It did not, and that was the last attempt.
    GaveUp { status: Option<u16>, error: &'static str },
}

/// Records attempt `due.attempts + 1` of `due` and lets the lease go.
pub(crate) async fn settle(state: &AppState, due: &Due, outcome: Outcome) -> Result<(), ApiError> {
    let now = state.clock.now();
    let (row_state, status, error, next, delivered_at) = match outcome {
        Outcome::Delivered { status } => ("delivered", Some(status), None, now, Some(now)),
        Outcome::Retry { status, error, at } => ("pending", status, Some(error), at, None),
        Outcome::GaveUp { status, error } => ("failed", status, Some(error), now, None),
    };
    let sql = "UPDATE webhook_deliveries SET state = $1, attempts = $2, last_status = $3, last_error = $4, \
               next_attempt_at = $5, delivered_at = $6, lease_until = 0 WHERE id = $7";
    sqlx::query(sql)
        .bind(row_state)
        .bind(due.attempts + 1)
        .bind(status.map(i64::from))
        .bind(error)
        .bind(next)
        .bind(delivered_at)
        .bind(due.id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// One message to one endpoint, as the delivery log shows it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 12, "message_id": "msg_6f1c…", "type": "login.failed", "state": "delivered",
    "attempts": 2, "last_status": 204, "last_error": null, "next_attempt_at": null,
    "created_at": "2026-01-02T03:04:05Z", "delivered_at": "2026-01-02T03:04:10Z"}), as = WebhookDelivery)]
pub struct Delivery {
    /// Increasing; the cursor of `before`.
    pub id: i64,
    /// The `webhook-id` header, the same on every attempt.
    pub message_id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// `pending`, `delivered` or `failed` (out of attempts).
    pub state: String,
    /// Attempts made.
    pub attempts: i64,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<i64>,
    /// Why the last attempt failed: `http_status`, `timeout`, `unreachable`, `refused_address`.
    pub last_error: Option<String>,
    /// When the next attempt is due (pending only).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Rfc3339>,
    /// When the message was queued.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When a receiver took it.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub delivered_at: Option<Rfc3339>,
}

const DELIVERY_COLUMNS: &str =
    "id, message_id, event_type, state, attempts, last_status, last_error, next_attempt_at, created_at, delivered_at";

fn delivery(row: &sqlx::any::AnyRow) -> Result<Delivery, ApiError> {
    let state: String = row.try_get("state")?;
    let next: i64 = row.try_get("next_attempt_at")?;
    Ok(Delivery {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        event_type: row.try_get("event_type")?,
        next_attempt_at: (state == "pending").then_some(Rfc3339(next)),
        state,
        attempts: row.try_get("attempts")?,
        last_status: row.try_get("last_status")?,
        last_error: row.try_get("last_error")?,
        created_at: Rfc3339(row.try_get("created_at")?),
        delivered_at: row.try_get::<Option<i64>, _>("delivered_at")?.map(Rfc3339),
    })
}

/// Endpoint `endpoint_id`'s deliveries with ids below `before`, newest first, at most `limit`.
pub(crate) async fn deliveries(
    state: &AppState,
    endpoint_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Delivery>, ApiError> {
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(endpoint_id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(&state.db.pool)
        .await?;
    rows.iter().map(delivery).collect()
}

/// Deletes the deliveries queued before `before` (Unix seconds): done long ago, or waiting that
/// long for a disabled endpoint.
pub(crate) async fn sweep(state: &AppState, before: i64) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM webhook_deliveries WHERE created_at < $1").bind(before).execute(&state.db.pool).await?;
    Ok(())
}

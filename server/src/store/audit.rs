//! The audit log's table: security events in `audit_events`, each also written as a structured log
//! line (target `latchkey::audit`, JSON with `LATCHKEY_LOG_FORMAT=json`); events older than
//! `LATCHKEY_AUDIT_RETENTION` are deleted by [`sweep`], which `latchkey serve` runs hourly.
//!
//! An event's `detail` says what happened (the method, the purpose, a reason), never with what: no
//! password, token, code or secret is ever passed here.

use serde::Serialize;
use serde_json::Value;
use sqlx::Row;
use utoipa::ToSchema;

use crate::infra::client::Client;
use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
pub use crate::store::audit_events::AuditEvent;
use crate::store::webhook_events::WebhookEvent;
use crate::store::webhook_outbox::{self, Recorded};

/// Who an event is about, and from where.
#[derive(Debug, Clone, Copy)]
pub struct Actor<'a> {
    /// The user, when known.
    pub user_id: Option<i64>,
    /// IP address and user agent of the request.
    pub client: &'a Client,
    /// The session the request belongs to or opened.
    pub session_id: Option<&'a str>,
}

/// Strings an event keeps for people (a login name, a reason) are cut to this many characters: a
/// row and a log line stay small whatever a client sent.
pub const MAX_DETAIL_CHARS: usize = 256;

/// Stores `event` with `detail` (a JSON object, its strings cut to [`MAX_DETAIL_CHARS`]) and logs it.
/// An event that security webhooks carry (`crate::store::webhook_events`) is written with its
/// deliveries, one per subscribed endpoint, in one transaction, and the courier is woken.
pub async fn record(state: &AppState, event: AuditEvent, actor: Actor<'_>, mut detail: Value) -> Result<(), ApiError> {
    cut_strings(&mut detail);
    let name = event.as_str();
    let text = detail.to_string();
    tracing::info!(
        target: "latchkey::audit",
        event = name,
        user_id = actor.user_id,
        ip = %actor.client.ip,
        session_id = actor.session_id,
        detail = %text,
        "security event"
    );
    let now = state.clock.now();
    let sql = "INSERT INTO audit_events (created_at, event, user_id, ip, user_agent, session_id, detail) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let insert = sqlx::query(sql)
        .bind(now)
        .bind(name)
        .bind(actor.user_id)
        .bind(&actor.client.ip)
        .bind(&actor.client.user_agent)
        .bind(actor.session_id)
        .bind(&text);
    let Some(kind) = WebhookEvent::of(event, &detail) else {
        insert.execute(&state.db.pool).await?;
        return Ok(());
    };
    let mut tx = state.db.pool.begin().await?;
    let id: i64 = insert.fetch_one(&mut *tx).await?.try_get("id")?;
    let recorded = Recorded {
        id,
        event,
        user_id: actor.user_id,
        client: actor.client,
        session_id: actor.session_id,
        detail: &detail,
        at: now,
    };
    let queued = webhook_outbox::enqueue(&mut tx, kind, &webhook_outbox::payload(kind, &recorded), now).await?;
    tx.commit().await?;
    if queued > 0 {
        state.webhooks.wake();
    }
    Ok(())
}

/// Cuts every string in `value` to [`MAX_DETAIL_CHARS`] characters, marking the cut with `…`.
fn cut_strings(value: &mut Value) {
    match value {
        Value::String(text) if text.chars().count() > MAX_DETAIL_CHARS => {
            let mut cut: String = text.chars().take(MAX_DETAIL_CHARS - 1).collect();
            cut.push('…');
            *text = cut;
        }
        Value::Array(items) => items.iter_mut().for_each(cut_strings),
        Value::Object(map) => map.values_mut().for_each(cut_strings),
        _ => {}
    }
}

/// Deletes what has outlived its use: audit events past `LATCHKEY_AUDIT_RETENTION`, sessions that
/// ended longer ago than that, expired login challenges, and stale rate-limit rows. Returns how
/// many audit events went.
pub async fn sweep(state: &AppState) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let retention = crate::infra::clock::seconds(state.config.audit_retention);
    let done = sqlx::query("DELETE FROM audit_events WHERE created_at < $1")
        .bind(now.saturating_sub(retention))
        .execute(&state.db.pool)
        .await?;
    sqlx::query("DELETE FROM mfa_challenges WHERE expires_at <= $1").bind(now).execute(&state.db.pool).await?;
    crate::store::sessions::sweep(state, now.saturating_sub(retention)).await?;
    webhook_outbox::sweep(state, now.saturating_sub(retention)).await?;
    crate::store::limits::sweep(state).await?;
    Ok(done.rows_affected())
}

/// Runs [`sweep`] now and then every hour, for as long as the server runs.
pub fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every.tick().await;
            match sweep(&state).await {
                Ok(deleted) => tracing::info!(deleted, "audit retention: old events deleted"),
                Err(error) => tracing::error!(%error, "audit retention: the sweep failed"),
            }
        }
    });
}

/// Which events a page reads, newest first; `None` filters match everything.
#[derive(Debug)]
pub(crate) struct EventQuery<'a> {
    /// Only ids below this (the `next` page's cursor).
    pub before: Option<i64>,
    pub user_id: Option<i64>,
    pub event: Option<&'a str>,
    pub ip: Option<&'a str>,
    /// At or after, in Unix seconds.
    pub since: Option<i64>,
    /// Before, in Unix seconds.
    pub until: Option<i64>,
    pub limit: i64,
}

/// A security event.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": 42, "created_at": "2026-01-02T03:04:05Z", "event": "login_failed", "ip": "203.0.113.9",
    "user_agent": "Mozilla/5.0", "session_id": null, "detail": {"reason": "bad_credentials", "login": "ada@example.com"}}),
    as = AuditEvent)]
pub struct LoggedEvent {
    /// Increasing; the cursor of `before`.
    pub id: i64,
    /// When it happened.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// `login_succeeded`, `login_failed`, `mfa_verified`, `mfa_failed`, `refresh_reuse_detected`,
    /// `session_revoked`, `password_changed`, `password_reset`, `email_verified`, `totp_device_added`,
    /// `totp_device_removed`, `backup_codes_generated`.
    pub event: String,
    /// The client's address.
    pub ip: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// The session concerned, if any.
    #[schema(required = true)]
    pub session_id: Option<String>,
    /// What happened: a reason, a method, a purpose; never a password, token, code or secret.
    #[schema(value_type = Object)]
    pub detail: Value,
    /// The user (admin API only; null for a login attempt on no account).
    // The outer `None` leaves the key out, as the user's own list does.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>, required = false)]
    pub user_id: Option<Option<i64>>,
}

/// The events `query` selects, newest first, as the API shows them (with `user_id`).
pub(crate) async fn events(state: &AppState, query: &EventQuery<'_>) -> Result<Vec<LoggedEvent>, ApiError> {
    // Unset filters compare with values that match everything, so one statement serves every query.
    let sql = "SELECT id, created_at, event, user_id, ip, user_agent, session_id, detail FROM audit_events \
               WHERE id < $1 AND ($2 = 0 OR user_id = $3) AND ($4 = '' OR event = $5) AND ($6 = '' OR ip = $7) \
               AND created_at >= $8 AND created_at < $9 ORDER BY id DESC LIMIT $10";
    let rows = sqlx::query(sql)
        .bind(query.before.unwrap_or(i64::MAX))
        .bind(i64::from(query.user_id.is_some()))
        .bind(query.user_id.unwrap_or(0))
        .bind(query.event.unwrap_or_default())
        .bind(query.event.unwrap_or_default())
        .bind(query.ip.unwrap_or_default())
        .bind(query.ip.unwrap_or_default())
        .bind(query.since.unwrap_or(i64::MIN))
        .bind(query.until.unwrap_or(i64::MAX))
        .bind(query.limit)
        .fetch_all(&state.db.pool)
        .await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let detail: String = row.try_get("detail")?;
        events.push(LoggedEvent {
            id: row.try_get("id")?,
            created_at: Rfc3339(row.try_get("created_at")?),
            event: row.try_get("event")?,
            ip: row.try_get("ip")?,
            user_agent: row.try_get("user_agent")?,
            session_id: row.try_get("session_id")?,
            detail: serde_json::from_str::<Value>(&detail).unwrap_or(Value::Null),
            user_id: Some(row.try_get("user_id")?),
        });
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{LoggedEvent, Rfc3339};

    #[test]
    fn the_user_is_shown_null_or_left_out() {
        let event = |user_id| LoggedEvent {
            id: 7,
            created_at: Rfc3339(1_700_000_000),
            event: "login_failed".into(),
            ip: "203.0.113.9".into(),
            user_agent: "curl/8".into(),
            session_id: None,
            detail: json!({"reason": "bad_credentials"}),
            user_id,
        };
        let shown = |user_id| serde_json::to_value(event(user_id)).unwrap();
        assert_eq!(
            shown(Some(Some(3))),
            json!({"id": 7, "created_at": "2023-11-14T22:13:20Z", "event": "login_failed", "ip": "203.0.113.9",
                "user_agent": "curl/8", "session_id": null, "detail": {"reason": "bad_credentials"}, "user_id": 3})
        );
        assert_eq!(shown(Some(None))["user_id"], json!(null));
        assert!(!shown(None).as_object().unwrap().contains_key("user_id"), "the user's own list leaves it out");
    }
}

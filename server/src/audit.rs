//! The audit log: security events in the `audit_events` table, each also written as a structured
//! log line (target `latchkey::audit`, JSON with `LATCHKEY_LOG_FORMAT=json`).
//!
//! An event's `detail` says what happened (the method, the purpose, a reason), never with what: no
//! password, token, code or secret is ever passed here.

use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;
use crate::tokens::Client;

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

/// Stores `event` with `detail` (a JSON object) and logs it.
pub async fn record(state: &AppState, event: &str, actor: Actor<'_>, detail: Value) -> Result<(), ApiError> {
    let detail = detail.to_string();
    tracing::info!(
        target: "latchkey::audit",
        event,
        user_id = actor.user_id,
        ip = %actor.client.ip,
        session_id = actor.session_id,
        detail = %detail,
        "security event"
    );
    let sql = "INSERT INTO audit_events (created_at, event, user_id, ip, user_agent, session_id, detail) \
               VALUES ($1, $2, $3, $4, $5, $6, $7)";
    sqlx::query(sql)
        .bind(crate::now())
        .bind(event)
        .bind(actor.user_id)
        .bind(&actor.client.ip)
        .bind(&actor.client.user_agent)
        .bind(actor.session_id)
        .bind(detail)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

//! The audit log's table: security events in `audit_events`, each also written as a structured log
//! line (target `latchkey::audit`, JSON with `LATCHKEY_LOG_FORMAT=json`); events older than
//! `LATCHKEY_AUDIT_RETENTION` are deleted by [`sweep`], which `latchkey serve` runs hourly.
//!
//! An event's `detail` says what happened (the method, the purpose, a reason), never with what: no
//! password, token, code or secret is ever passed here.

use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use serde_json::Value;

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
pub async fn record(state: &AppState, event: &str, actor: Actor<'_>, mut detail: Value) -> Result<(), ApiError> {
    cut_strings(&mut detail);
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
        .bind(crate::infra::clock::now())
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
    let now = crate::infra::clock::now();
    let retention = crate::infra::clock::seconds(state.config.audit_retention);
    let done = sqlx::query("DELETE FROM audit_events WHERE created_at < $1")
        .bind(now.saturating_sub(retention))
        .execute(&state.db.pool)
        .await?;
    sqlx::query("DELETE FROM mfa_challenges WHERE expires_at <= $1").bind(now).execute(&state.db.pool).await?;
    crate::store::sessions::sweep(state, now.saturating_sub(retention)).await?;
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

//! The audit log, read back from the database.

use latchkey_server::AppState;
use serde_json::Value;
use sqlx::Row;

/// The details of every `event`, or only of `user_id`'s when given, oldest first.
pub async fn audited(state: &AppState, event: &str, user_id: Option<i64>) -> Vec<Value> {
    let rows = match user_id {
        None => sqlx::query("SELECT detail FROM audit_events WHERE event = $1 ORDER BY id")
            .bind(event)
            .fetch_all(&state.db.pool)
            .await
            .unwrap(),
        Some(user_id) => sqlx::query("SELECT detail FROM audit_events WHERE event = $1 AND user_id = $2 ORDER BY id")
            .bind(event)
            .bind(user_id)
            .fetch_all(&state.db.pool)
            .await
            .unwrap(),
    };
    rows.iter().map(|row| serde_json::from_str(&row.get::<String, _>("detail")).unwrap()).collect()
}

/// Every event of `user_id` with its details, oldest first.
pub async fn audit_events(state: &AppState, user_id: i64) -> Vec<(String, Value)> {
    let rows = sqlx::query("SELECT event, detail FROM audit_events WHERE user_id = $1 ORDER BY id")
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    rows.iter().map(|row| (row.get("event"), serde_json::from_str(&row.get::<String, _>("detail")).unwrap())).collect()
}

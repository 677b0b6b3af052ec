//! Time passing. There is no clock to move: the server reads the system time, so a wait is made by
//! moving back (or clearing) the timestamp the server compares with it, in the database and in the
//! node's own memory.

use std::sync::Arc;

use latchkey_server::AppState;

/// Lets the two-factor back-off's wait pass for `user_id`, as time would: only the lock's end
/// moves, not the failure count.
pub async fn let_backoff_pass(state: &AppState, user_id: i64) {
    sqlx::query("UPDATE users SET mfa_locked_until = 0 WHERE id = $1")
        .bind(user_id)
        .execute(&state.db.pool)
        .await
        .unwrap();
}

/// Lets the re-authentication window (sudo mode) of every session of `email` pass, as time would.
pub async fn window_passes(state: &AppState, email: &str) {
    let sql = "UPDATE sessions SET created_at = created_at - 3600, reauthenticated_at = NULL \
               WHERE user_id = (SELECT id FROM users WHERE email = $1)";
    sqlx::query(sql).bind(email).execute(&state.db.pool).await.unwrap();
}

/// Lets every lockout end, as time would: the database's and this node's memory of them.
pub async fn after_lockouts(state: &AppState) -> AppState {
    sqlx::query("UPDATE rate_limits SET locked_until = 0").execute(&state.db.pool).await.unwrap();
    AppState { locks: Arc::default(), ..state.clone() }
}

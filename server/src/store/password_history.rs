//! The `password_history` table: the hashes a user had, for the policy's `history` rule.

use sqlx::Row;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::users::User;

/// The hashes a user had before, newest first.
pub(crate) async fn of(state: &AppState, user_id: i64) -> Result<Vec<String>, ApiError> {
    let rows = sqlx::query("SELECT password FROM password_history WHERE user_id = $1 ORDER BY id DESC")
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await?;
    Ok(rows.iter().map(|row| row.try_get("password")).collect::<Result<_, _>>()?)
}

/// Keeps `user`'s current hash (about to be replaced) as history when `keep` > 0, and no more than
/// the `keep` newest.
pub(crate) async fn keep(state: &AppState, user: &User, keep: i64, now: i64) -> Result<(), ApiError> {
    if keep > 0 {
        sqlx::query("INSERT INTO password_history (user_id, password, created_at) VALUES ($1, $2, $3)")
            .bind(user.id)
            .bind(&user.password)
            .bind(now)
            .execute(&state.db.pool)
            .await?;
    }
    let sql = "DELETE FROM password_history WHERE user_id = $1 AND id NOT IN \
               (SELECT id FROM password_history WHERE user_id = $2 ORDER BY id DESC LIMIT $3)";
    sqlx::query(sql).bind(user.id).bind(user.id).bind(keep).execute(&state.db.pool).await?;
    Ok(())
}

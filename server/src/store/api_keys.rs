//! The `api_keys` table: keys are stored as their SHA-256, found by their prefix, and checked in
//! constant time.

use crate::infra::client::Client;
use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::users::{User, USER_COLUMNS};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

/// `last_used_at` (and the `api_key_used` audit event) is written at most this often per key.
const USE_RECORDED_EVERY: i64 = 60;

/// A key that authenticated a request.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// Its id.
    pub id: i64,
    /// What it may do.
    pub scopes: Vec<String>,
}

impl ApiKey {
    /// Whether the key's scopes allow a request to `path` that only reads (`GET`, `HEAD`,
    /// `OPTIONS`) or also writes.
    ///
    /// # Errors
    /// 403 naming the missing scope.
    pub fn allows(&self, reads_only: bool, path: &str) -> Result<(), ApiError> {
        let has = |scope: &str| self.scopes.iter().any(|s| s == scope);
        let needed = if path.starts_with("/api/admin/") {
            "admin"
        } else if reads_only {
            if has("read") || has("write") {
                return Ok(());
            }
            "read"
        } else {
            "write"
        };
        if has(needed) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!("This API key lacks the `{needed}` scope.")))
    }
}

fn invalid_key() -> ApiError {
    ApiError::Token { detail: "Invalid API key.".into(), code: "authentication_failed", extra: None }
}

/// The owner of `key` and the key, if it is well-formed, known, unexpired and its owner active.
///
/// # Errors
/// 401 `Invalid API key.` for anything else, the same whatever was wrong.
pub async fn authenticate(state: &AppState, key: &str, client: &Client) -> Result<(User, ApiKey), ApiError> {
    let prefix = key.strip_prefix("lk_").and_then(|rest| rest.split_once('_')).map(|(prefix, _)| prefix);
    let Some(prefix) = prefix.filter(|p| p.len() == 8 && key.len() < 128) else { return Err(invalid_key()) };
    let sql = format!(
        "SELECT k.id AS key_id, k.key_hash, k.scopes, k.expires_at, k.last_used_at, {} FROM api_keys k \
         JOIN users ON users.id = k.user_id WHERE k.prefix = $1",
        USER_COLUMNS.split(", ").map(|c| format!("users.{}", c.trim())).collect::<Vec<_>>().join(", ")
    );
    let Some(row) = sqlx::query(&sql).bind(prefix).fetch_optional(&state.db.pool).await? else {
        return Err(invalid_key());
    };
    let stored: String = row.try_get("key_hash")?;
    let matches: bool = crate::infra::digest::sha256_hex(key).as_bytes().ct_eq(stored.as_bytes()).into();
    let now = state.clock.now();
    let expires_at: Option<i64> = row.try_get("expires_at")?;
    let user = User::from_row(&row)?;
    if !matches || expires_at.is_some_and(|at| at <= now) || !user.is_active {
        return Err(invalid_key());
    }
    let id: i64 = row.try_get("key_id")?;
    let scopes: String = row.try_get("scopes")?;
    let last_used: Option<i64> = row.try_get("last_used_at")?;
    if last_used.is_none_or(|at| at <= now - USE_RECORDED_EVERY) {
        // Compare-and-set, so that of many nodes using the key at once only one records the use.
        let sql =
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)";
        let done = sqlx::query(sql).bind(now).bind(id).bind(now - USE_RECORDED_EVERY).execute(&state.db.pool).await?;
        if done.rows_affected() > 0 {
            let actor = Actor { user_id: Some(user.id), client, session_id: None };
            audit::record(state, AuditEvent::ApiKeyUsed, actor, json!({ "key_id": id, "prefix": prefix })).await?;
        }
    }
    Ok((user, ApiKey { id, scopes: scopes.split_whitespace().map(str::to_owned).collect() }))
}

/// An API key, without the key.
// What its owner and staff see in lists.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyInfo {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its public part.
    pub prefix: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When it stops working, or null.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub expires_at: Option<Rfc3339>,
    /// When it was last used (to the minute), or null.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub last_used_at: Option<Rfc3339>,
}

/// The keys of `user_id`, newest first, without the keys themselves: the list the owner sees at
/// `GET /api/auth/api-keys/` and staff at `GET /api/admin/users/{id}/api-keys/`.
pub(crate) async fn keys_of(state: &AppState, user_id: i64) -> Result<Vec<ApiKeyInfo>, ApiError> {
    let sql = "SELECT id, name, prefix, scopes, created_at, expires_at, last_used_at FROM api_keys WHERE user_id = $1 \
               ORDER BY id DESC";
    let rows = sqlx::query(sql).bind(user_id).fetch_all(&state.db.pool).await?;
    let keys = rows
        .iter()
        .map(|row| {
            Ok(ApiKeyInfo {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                prefix: row.try_get("prefix")?,
                scopes: row.try_get::<String, _>("scopes")?.split_whitespace().map(str::to_owned).collect(),
                created_at: Rfc3339(row.try_get("created_at")?),
                expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(Rfc3339),
                last_used_at: row.try_get::<Option<i64>, _>("last_used_at")?.map(Rfc3339),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(keys)
}

/// Revokes every key of `user_id` and returns how many there were. A key acts as its owner, so
/// whatever takes the owner's sessions away (a password reset, logout-all, deactivation, a forced
/// logout, the emergency 2FA reset) takes the keys too: a key is not a way back in. Audited as
/// `api_keys_revoked` with the count and `reason` (`detail.by`), only when there was a key to revoke.
pub(crate) async fn revoke_all(
    state: &AppState,
    user_id: i64,
    actor: Actor<'_>,
    reason: &str,
) -> Result<u64, ApiError> {
    let done = sqlx::query("DELETE FROM api_keys WHERE user_id = $1").bind(user_id).execute(&state.db.pool).await?;
    let count = done.rows_affected();
    if count > 0 {
        audit::record(state, AuditEvent::ApiKeysRevoked, actor, json!({ "count": count, "by": reason })).await?;
    }
    Ok(count)
}

/// Deletes key `key_id` of `user_id`; its prefix, or `None` when the user has no such key.
pub(crate) async fn delete_one(state: &AppState, key_id: i64, user_id: i64) -> Result<Option<String>, ApiError> {
    let sql = "DELETE FROM api_keys WHERE id = $1 AND user_id = $2 RETURNING prefix";
    let row = sqlx::query(sql).bind(key_id).bind(user_id).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|row| row.try_get("prefix")).transpose()?)
}

/// A key about to be stored: only its hash is kept.
#[derive(Debug)]
pub(crate) struct NewKey<'a> {
    pub user_id: i64,
    pub name: &'a str,
    pub prefix: &'a str,
    pub key_hash: String,
    /// Space-separated.
    pub scopes: String,
    pub expires_at: Option<i64>,
}

/// Stores `key`, created at `now`; its id, or `None` when another key already has its prefix.
pub(crate) async fn insert(state: &AppState, key: &NewKey<'_>, now: i64) -> Result<Option<i64>, ApiError> {
    let sql = "INSERT INTO api_keys (user_id, name, prefix, key_hash, scopes, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    let row = sqlx::query(sql)
        .bind(key.user_id)
        .bind(key.name)
        .bind(key.prefix)
        .bind(&key.key_hash)
        .bind(&key.scopes)
        .bind(now)
        .bind(key.expires_at)
        .fetch_one(&state.db.pool)
        .await;
    match row {
        Ok(row) => Ok(Some(row.try_get("id")?)),
        Err(error) if crate::store::users::is_unique_violation(&error) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// The owner of key `id`, if it exists.
pub(crate) async fn owner_of(state: &AppState, id: i64) -> Result<Option<i64>, ApiError> {
    let row = sqlx::query("SELECT user_id FROM api_keys WHERE id = $1").bind(id).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|row| row.try_get::<i64, _>("user_id")).transpose()?)
}

/// Deletes key `id`.
pub(crate) async fn delete(state: &AppState, id: i64) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM api_keys WHERE id = $1").bind(id).execute(&state.db.pool).await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{insert, NewKey};
    use crate::store::testing::{sqlite_state, user};

    #[tokio::test]
    async fn a_taken_prefix_is_told_apart_from_a_failure() {
        let state = sqlite_state().await;
        let user_id = user(&state, "a@b.c").await;
        let key = |hash: &str| NewKey {
            user_id,
            name: "ci",
            prefix: "0123abcd",
            key_hash: hash.into(),
            scopes: "read".into(),
            expires_at: None,
        };
        assert!(insert(&state, &key("first"), 0).await.unwrap().is_some());
        assert_eq!(insert(&state, &key("second"), 0).await.unwrap(), None, "the prefix is taken: draw again");
        let unknown_user = NewKey { user_id: user_id + 1, prefix: "fedc4321", ..key("third") };
        assert!(insert(&state, &unknown_user, 0).await.is_err(), "any other failure is an error");
    }
}

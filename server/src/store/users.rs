//! The user record, its JSON form (docs/api.md#accounts-and-registration) and the queries every resource shares.

use std::sync::{Arc, OnceLock};

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

pub use crate::infra::datetime::{iso8601, parse_iso8601};
pub use crate::store::user_fields::*;

use crate::infra::datetime::Rfc3339;
use crate::infra::db::Db;
use crate::infra::error::ApiError;

/// A user row.
#[derive(Debug, Clone)]
pub struct User {
    /// Primary key.
    pub id: i64,
    /// Normalized e-mail address (NFKC, lowercase).
    pub email: String,
    /// Optional unique username.
    pub username: Option<String>,
    /// Password hash (argon2id PHC, or a Django format until the next login).
    pub password: String,
    /// Profile fields (docs/api.md#accounts-and-registration), empty when unset.
    pub first_name: String,
    /// See `first_name`.
    pub last_name: String,
    /// See `first_name`.
    pub bio: String,
    /// See `first_name`.
    pub phone_number: String,
    /// ISO date, or none.
    pub birth_date: Option<String>,
    /// See `first_name`.
    pub timezone: String,
    /// See `first_name`.
    pub language: String,
    /// See `first_name`.
    pub website: String,
    /// Inactive users cannot log in.
    pub is_active: bool,
    /// Staff may use the admin API.
    pub is_staff: bool,
    /// Superusers.
    pub is_superuser: bool,
    /// The e-mail address was verified.
    pub is_verified: bool,
    /// Unix seconds.
    pub date_joined: i64,
    /// Unix seconds of the last successful login.
    pub last_login: Option<i64>,
    /// A confirmed TOTP device exists: login needs a second factor.
    pub mfa_enabled: bool,
    /// Unix seconds of the last password change; `None` if unchanged since `date_joined`.
    pub password_changed_at: Option<i64>,
    /// [`User::object`] as JSON, serialized at most once per row read (see [`User::object_json`]).
    object_json: SerializedOnce,
}

/// The columns [`User::from_row`] reads, in a `SELECT`.
pub const USER_COLUMNS: &str = "id, email, username, password, first_name, last_name, bio, phone_number, birth_date, \
     timezone, language, website, is_active, is_staff, is_superuser, is_verified, date_joined, last_login, mfa_enabled, \
     password_changed_at";

impl User {
    /// Replaces the password hash (a rehash of the same password: no history, no notice).
    pub async fn set_password_hash(db: &Db, id: i64, hash: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE users SET password = $1 WHERE id = $2").bind(hash).bind(id).execute(&db.pool).await?;
        db.forget_user(id).await;
        Ok(())
    }

    /// Reads a row selected with [`USER_COLUMNS`].
    pub fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        let flag = |name: &str| -> Result<bool, sqlx::Error> { Ok(row.try_get::<i64, _>(name)? != 0) };
        Ok(Self {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            username: row.try_get("username")?,
            password: row.try_get("password")?,
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            bio: row.try_get("bio")?,
            phone_number: row.try_get("phone_number")?,
            birth_date: row.try_get("birth_date")?,
            timezone: row.try_get("timezone")?,
            language: row.try_get("language")?,
            website: row.try_get("website")?,
            is_active: flag("is_active")?,
            is_staff: flag("is_staff")?,
            is_superuser: flag("is_superuser")?,
            is_verified: flag("is_verified")?,
            date_joined: row.try_get("date_joined")?,
            last_login: row.try_get("last_login")?,
            mfa_enabled: flag("mfa_enabled")?,
            password_changed_at: row.try_get("password_changed_at")?,
            object_json: SerializedOnce::default(),
        })
    }

    /// The user with this id.
    pub async fn by_id(db: &Db, id: i64) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&db.pool).await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// The user with this (already normalized) e-mail address.
    pub async fn by_email(db: &Db, email: &str) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        let row = sqlx::query(&sql).bind(email).fetch_optional(&db.pool).await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// The user with this username.
    pub async fn by_username(db: &Db, username: &str) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        let row = sqlx::query(&sql).bind(username).fetch_optional(&db.pool).await?;
        Ok(row.as_ref().map(User::from_row).transpose()?)
    }

    /// Inserts a new user and returns it as stored. `email` must already be normalized. A taken
    /// e-mail address or username is a unique violation (see [`is_unique_violation`]).
    pub async fn create(db: &Db, new: &NewUser<'_>) -> Result<Self, sqlx::Error> {
        let sql = format!(
            "INSERT INTO users (email, username, password, first_name, last_name, date_joined) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {USER_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(new.email)
            .bind(new.username)
            .bind(new.password_hash)
            .bind(new.first_name)
            .bind(new.last_name)
            .bind(new.date_joined)
            .fetch_one(&db.pool)
            .await?;
        Self::from_row(&row)
    }

    /// Whether the user can sign in with a password: Django marks an account without one with a
    /// hash that starts with `!` (`set_unusable_password`), as Latchkey does for accounts made by a
    /// social login.
    pub fn has_usable_password(&self) -> bool {
        !self.password.is_empty() && !self.password.starts_with('!')
    }

    /// Whether another user than `except` (when given) has this username (compared exactly, as
    /// Django's unique constraint does).
    pub async fn username_taken(db: &Db, username: &str, except: Option<i64>) -> Result<bool, ApiError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM users WHERE username = $1 AND id <> $2")
            .bind(username)
            .bind(except.unwrap_or(0))
            .fetch_one(&db.pool)
            .await?;
        Ok(row.try_get::<i64, _>("n")? > 0)
    }

    /// The user as the API shows it (docs/api.md#accounts-and-registration).
    pub fn object(&self) -> UserObject {
        UserObject {
            id: self.id,
            email: self.email.clone(),
            username: self.username.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            bio: self.bio.clone(),
            phone_number: self.phone_number.clone(),
            birth_date: self.birth_date.clone(),
            timezone: self.timezone.clone(),
            language: self.language.clone(),
            website: self.website.clone(),
            is_verified: self.is_verified,
            is_staff: self.is_staff,
            mfa_enabled: self.mfa_enabled,
            date_joined: Rfc3339(self.date_joined),
            last_login: self.last_login.map(Rfc3339),
        }
    }

    /// [`User::object`] serialized as JSON, once per row read: `GET /api/auth/me/` answers these
    /// bytes for as long as the node's cache keeps this row. A cached row is never changed in
    /// place; a write makes the next request read a new one (`infra/auth_cache.rs`), and a clone
    /// (which may be changed) serializes again. Measured: serializing on every request was about a
    /// sixth of the time `/me` spends in the application.
    pub fn object_json(&self) -> Result<Arc<[u8]>, serde_json::Error> {
        if let Some(json) = self.object_json.0.get() {
            return Ok(json.clone());
        }
        let json: Arc<[u8]> = serde_json::to_vec(&self.object())?.into();
        Ok(self.object_json.0.get_or_init(|| json).clone())
    }
}

/// What [`User::object_json`] keeps; a clone starts empty, since a clone may then be changed.
#[derive(Debug, Default)]
struct SerializedOnce(OnceLock<Arc<[u8]>>);

impl Clone for SerializedOnce {
    fn clone(&self) -> Self {
        Self::default()
    }
}

/// A user (docs/api.md#accounts-and-registration). Datetimes are RFC 3339 in UTC.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = User, example = json!({
    "id": 1, "email": "ada@example.com", "username": "ada", "first_name": "Ada", "last_name": "Lovelace",
    "bio": "", "phone_number": "", "birth_date": null, "timezone": "", "language": "", "website": "",
    "is_verified": false, "is_staff": false, "mfa_enabled": false,
    "date_joined": "2026-01-02T03:04:05Z", "last_login": "2026-01-02T03:04:05Z"
}))]
pub struct UserObject {
    /// The user's id (as a string in tokens' `user_id` claim).
    pub id: i64,
    /// Normalized: NFKC, lowercase.
    #[schema(format = Email)]
    pub email: String,
    /// Null when the user has none.
    #[schema(required = true)]
    pub username: Option<String>,
    /// Empty when unset, as every free-text profile field.
    pub first_name: String,
    /// Profile field.
    pub last_name: String,
    /// Profile field.
    pub bio: String,
    /// Profile field.
    pub phone_number: String,
    /// `YYYY-MM-DD`, or null.
    #[schema(required = true, format = Date)]
    pub birth_date: Option<String>,
    /// Profile field.
    pub timezone: String,
    /// Profile field.
    pub language: String,
    /// An http(s) URL, or empty.
    pub website: String,
    /// The e-mail address was verified.
    pub is_verified: bool,
    /// Staff may use the admin API.
    pub is_staff: bool,
    /// A second factor is confirmed.
    pub mfa_enabled: bool,
    /// When the account was created.
    #[schema(value_type = String, format = DateTime)]
    pub date_joined: Rfc3339,
    /// The last successful login, or null.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub last_login: Option<Rfc3339>,
}

/// The longest e-mail address and username, in characters, as Django's `AbstractUser` declares
/// them. Every request that names an account is held to them before any other work.
pub const EMAIL_MAX: usize = 254;
/// See [`EMAIL_MAX`].
pub const USERNAME_MAX: usize = 150;

/// A user about to be inserted by [`User::create`].
#[derive(Debug, Clone, Copy)]
pub struct NewUser<'a> {
    /// Normalized e-mail address ([`normalize_email`]).
    pub email: &'a str,
    /// Optional unique username.
    pub username: Option<&'a str>,
    /// The encoded password hash.
    pub password_hash: &'a str,
    /// Profile field, empty when unset.
    pub first_name: &'a str,
    /// Profile field, empty when unset.
    pub last_name: &'a str,
    /// Unix seconds.
    pub date_joined: i64,
}

/// The error of an `INSERT`/`UPDATE` that hit a `UNIQUE` constraint: a concurrent request took the
/// e-mail address or username between our check and our write.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Inserts a verified staff superuser (`latchkey createsuperuser`); its id.
pub async fn create_superuser(db: &Db, email: &str, hash: &str, now: i64) -> Result<i64, sqlx::Error> {
    let row: (i64,) = sqlx::query_as(
        "INSERT INTO users (email, password, is_staff, is_superuser, is_verified, date_joined) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(email)
    .bind(hash)
    .bind(crate::infra::db::flag(true))
    .bind(crate::infra::db::flag(true))
    .bind(crate::infra::db::flag(true))
    .bind(now)
    .fetch_one(&db.pool)
    .await?;
    Ok(row.0)
}

/// Deletes the user (sessions, keys, devices and memberships go with it by cascade).
pub async fn delete(db: &Db, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE id = $1").bind(id).execute(&db.pool).await?;
    db.forget_user(id).await;
    Ok(())
}

/// Marks the address verified if the user still has `email`; whether it changed anything.
pub async fn mark_verified(db: &Db, id: i64, email: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET is_verified = 1 WHERE id = $1 AND email = $2 AND is_verified = 0")
        .bind(id)
        .bind(email)
        .execute(&db.pool)
        .await?;
    db.forget_user(id).await;
    Ok(done.rows_affected() > 0)
}

/// Writes `changes` (column, value) to the user's row and returns it; `None` when there is nothing
/// to change. Column names come from the callers' fixed lists, never from a request.
pub async fn save_profile(db: &Db, id: i64, changes: &[(&str, Option<String>)]) -> Result<Option<User>, sqlx::Error> {
    if changes.is_empty() {
        return Ok(None);
    }
    let sets: Vec<String> =
        changes.iter().enumerate().map(|(i, (column, _))| format!("{column} = ${}", i + 1)).collect();
    let sql =
        format!("UPDATE users SET {} WHERE id = ${} RETURNING {}", sets.join(", "), changes.len() + 1, USER_COLUMNS);
    let mut query = sqlx::query(&sql);
    for (_, value) in changes {
        query = query.bind(value.clone());
    }
    let row = query.bind(id).fetch_one(&db.pool).await?;
    db.forget_user(id).await;
    User::from_row(&row).map(Some)
}

/// Replaces `user`'s password hash if it is still the one `user` was read with (a concurrent change
/// wins once); whether it did.
pub async fn replace_password(
    db: &Db,
    user: &User,
    new_hash: &str,
    verified: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql =
        "UPDATE users SET password = $1, password_changed_at = $2, is_verified = $3 WHERE id = $4 AND password = $5";
    let done = sqlx::query(sql)
        .bind(new_hash)
        .bind(now)
        .bind(crate::infra::db::flag(verified))
        .bind(user.id)
        .bind(&user.password)
        .execute(&db.pool)
        .await?;
    db.forget_user(user.id).await;
    Ok(done.rows_affected() > 0)
}

/// The `LIKE` filter of the admin's user search: `$1` the search (empty matches all), `$2`-`$5` its pattern.
const SEARCH: &str =
    "($1 = '' OR LOWER(email) LIKE $2 ESCAPE '\\' OR LOWER(COALESCE(username, '')) LIKE $3 ESCAPE '\\' \
                      OR LOWER(first_name) LIKE $4 ESCAPE '\\' OR LOWER(last_name) LIKE $5 ESCAPE '\\')";

/// `search` (lowercase) as a `LIKE` pattern that matches it anywhere, its wildcards escaped.
fn search_pattern(search: &str) -> String {
    format!("%{}%", search.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"))
}

/// How many users match `search` (lowercase) in their address, username or names.
pub async fn count_matching(db: &Db, search: &str) -> Result<i64, sqlx::Error> {
    let pattern = search_pattern(search);
    let sql = format!("SELECT COUNT(*) AS n FROM users WHERE {SEARCH}");
    let row = sqlx::query(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .fetch_one(&db.pool)
        .await?;
    row.try_get("n")
}

/// The users matching `search`, by id, `limit` from `offset`.
pub async fn matching(db: &Db, search: &str, limit: i64, offset: i64) -> Result<Vec<User>, sqlx::Error> {
    let pattern = search_pattern(search);
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {SEARCH} ORDER BY id LIMIT $6 OFFSET $7");
    let rows = sqlx::query(&sql)
        .bind(search)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&db.pool)
        .await?;
    rows.iter().map(User::from_row).collect()
}

/// Sets one of the flags staff may change (`is_active`, `is_staff`, `is_verified`).
pub async fn set_flag(db: &Db, id: i64, flag: &str, value: bool) -> Result<(), sqlx::Error> {
    debug_assert!(["is_active", "is_staff", "is_verified"].contains(&flag));
    let sql = format!("UPDATE users SET {flag} = $1 WHERE id = $2");
    sqlx::query(&sql).bind(crate::infra::db::flag(value)).bind(id).execute(&db.pool).await?;
    db.forget_user(id).await;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::User;
    use crate::store::testing::{sqlite_state, user};

    #[tokio::test]
    async fn the_serialized_object_is_the_object_and_a_changed_clone_serializes_again() {
        let state = sqlite_state().await;
        let id = user(&state, "ada@example.com").await;
        let ada = User::by_id(&state.db, id).await.unwrap().unwrap();
        let json = ada.object_json().unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            serde_json::to_value(ada.object()).unwrap()
        );
        assert!(std::sync::Arc::ptr_eq(&json, &ada.object_json().unwrap()), "serialized once");
        let mut renamed = ada.clone();
        renamed.first_name = "Ada".into();
        let renamed_json: serde_json::Value = serde_json::from_slice(&renamed.object_json().unwrap()).unwrap();
        assert_eq!(renamed_json["first_name"], "Ada");
    }
}

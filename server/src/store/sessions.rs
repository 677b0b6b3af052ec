//! The `sessions` table: one row per login (a refresh-token family), what revokes it, and what the
//! session list shows of it.

use std::borrow::Cow;
use std::sync::Arc;

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::users::{User, USER_COLUMNS};

/// The columns [`OpenOpenSession::from_row`] reads.
pub(crate) const COLUMNS: &str =
    "id, name, created_at, last_used_at, expires_at, absolute_expires_at, ip, user_agent, \
                       auth_method, mfa";

/// A session row, as token refresh and verification read it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub id: String,
    pub user_id: i64,
    /// SHA-256 hex of the `jti` of the one refresh token that may be used now.
    pub current_hash: String,
    /// SHA-256 hex of the `jti` it replaced, for the reuse grace window.
    pub previous_hash: Option<String>,
    pub rotated_at: Option<i64>,
    /// The idle limit: a refresh moves it, never past `absolute_expires_at`.
    pub expires_at: i64,
    /// The absolute limit, `LATCHKEY_SESSION_MAX_AGE` after the login.
    pub absolute_expires_at: i64,
    pub revoked_at: Option<i64>,
    /// A second factor was verified for this session.
    pub mfa: bool,
    /// The organization its access tokens speak for.
    pub org_id: Option<i64>,
    /// How its login proved the user.
    pub auth_method: AuthMethod,
}

impl Session {
    /// The session with this id, whatever its state.
    pub async fn load(state: &AppState, id: &str) -> Result<Option<Self>, ApiError> {
        let sql = "SELECT id, user_id, current_hash, previous_hash, rotated_at, expires_at, absolute_expires_at, \
                   revoked_at, mfa, org_id, auth_method FROM sessions WHERE id = $1";
        let Some(row) = sqlx::query(sql).bind(id).fetch_optional(&state.db.pool).await? else { return Ok(None) };
        Ok(Some(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            current_hash: row.try_get("current_hash")?,
            previous_hash: row.try_get("previous_hash")?,
            rotated_at: row.try_get("rotated_at")?,
            expires_at: row.try_get("expires_at")?,
            absolute_expires_at: row.try_get("absolute_expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            mfa: row.try_get::<i64, _>("mfa")? != 0,
            org_id: row.try_get("org_id")?,
            auth_method: AuthMethod::parse(row.try_get::<Option<String>, _>("auth_method")?.as_deref()),
        }))
    }

    /// Not revoked, and neither its idle nor its absolute limit passed at `now`.
    pub fn is_open(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && self.absolute_expires_at > now
    }
}

/// Revokes one session of `user_id`; false when it is unknown, someone else's, or already closed.
pub(crate) async fn revoke(state: &AppState, id: &str, user_id: i64, now: i64) -> Result<bool, ApiError> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL \
               AND expires_at > $4 AND absolute_expires_at > $5";
    let done = sqlx::query(sql).bind(now).bind(id).bind(user_id).bind(now).bind(now).execute(&state.db.pool).await?;
    state.db.forget_session(user_id, id).await;
    Ok(done.rows_affected() > 0)
}

/// Revokes every open session of `user_id` but `keep` (a session id, or none); returns how many.
/// Used by logout-all, password changes and resets, and the admin API. Ended sessions are left as
/// they are, so that the count is of sessions that could still be used.
pub(crate) async fn revoke_all(state: &AppState, user_id: i64, keep: Option<&str>) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL AND id <> $3 \
               AND expires_at > $4 AND absolute_expires_at > $5";
    let done = sqlx::query(sql)
        .bind(now)
        .bind(user_id)
        .bind(keep.unwrap_or_default())
        .bind(now)
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    state.db.forget_user(user_id).await;
    Ok(done.rows_affected())
}

/// simplejwt's answer for a refresh token that may no longer be used.
pub(crate) fn blacklisted() -> ApiError {
    ApiError::token_not_valid("Token is blacklisted")
}

/// A session's name is at most this many characters.
pub const MAX_NAME_CHARS: usize = 64;

/// How the login that opened a session proved the user, as the session object's `auth_method`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// The password (and, when the account has one, a second factor).
    Password,
    /// A passkey.
    Passkey,
    /// A social login, with the provider's name (`social:github`).
    Social(String),
    /// A one-time code sent by e-mail.
    Code,
}

impl AuthMethod {
    /// The stored and answered form: `password`, `passkey`, `social:<provider>` or `code`.
    pub fn as_str(&self) -> Cow<'_, str> {
        match self {
            Self::Password => Cow::Borrowed("password"),
            Self::Passkey => Cow::Borrowed("passkey"),
            Self::Social(provider) => Cow::Owned(format!("social:{provider}")),
            Self::Code => Cow::Borrowed("code"),
        }
    }

    /// The method a challenge stored ([`Self::as_str`]); none, or a name not known, is the password.
    pub fn parse(stored: Option<&str>) -> Self {
        match stored {
            Some("passkey") => Self::Passkey,
            Some("code") => Self::Code,
            Some(other) => other.strip_prefix("social:").map_or(Self::Password, |p| Self::Social(p.to_owned())),
            None => Self::Password,
        }
    }
}

/// The open sessions of `user_id`, newest first, as session objects; `current` marks the one with
/// this id.
pub(crate) async fn open_sessions(
    state: &AppState,
    user_id: i64,
    current: Option<&str>,
) -> Result<Vec<OpenSession>, ApiError> {
    let now = state.clock.now();
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
         AND absolute_expires_at > $3 ORDER BY created_at DESC, id"
    );
    let rows = sqlx::query(&sql).bind(user_id).bind(now).bind(now).fetch_all(&state.db.pool).await?;
    let current = current.unwrap_or_default();
    Ok(rows.iter().map(|row| OpenSession::from_row(row, current)).collect::<Result<_, _>>()?)
}

/// An open login session as its user and the admin API see it. Datetimes are RFC 3339 in UTC.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0123456789abcdef0123456789abcdef", "name": "Work laptop", "current": true,
    "created_at": "2026-01-02T03:04:05Z", "last_used_at": "2026-01-03T03:04:05Z",
    "expires_at": "2026-01-10T03:04:05Z", "absolute_expires_at": "2026-02-01T03:04:05Z", "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) … Chrome/126.0.0.0 Safari/537.36",
    "device": {"browser": "Chrome", "os": "Linux"}, "auth_method": "password", "mfa": false}), as = Session)]
pub struct OpenSession {
    /// 32 lowercase hex characters.
    pub id: String,
    /// The name its user gave it (`PATCH /api/auth/sessions/{id}/`); null when none.
    #[schema(required = true, max_length = 64)]
    pub name: Option<String>,
    /// This is the session of the access token making the request (always false in the admin API).
    pub current: bool,
    /// When the session was opened (the login).
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// The last login or refresh.
    #[schema(value_type = String, format = DateTime)]
    pub last_used_at: Rfc3339,
    /// When the session ends unless it is refreshed before (the idle limit,
    /// `LATCHKEY_REFRESH_TOKEN_LIFETIME` after the last refresh); never after `absolute_expires_at`.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Rfc3339,
    /// When the session ends however often it is refreshed (`LATCHKEY_SESSION_MAX_AGE` after the login).
    #[schema(value_type = String, format = DateTime)]
    pub absolute_expires_at: Rfc3339,
    /// The client's IP address at login; empty when unknown.
    pub ip: String,
    /// The client's `User-Agent` at login, at most 256 characters.
    pub user_agent: String,
    /// The browser and operating system the user agent names.
    pub device: Device,
    /// How the login proved the user: `password`, `passkey`, `social:<provider>` or `code`.
    pub auth_method: String,
    /// A second factor was verified for this session.
    pub mfa: bool,
}

impl OpenSession {
    /// The session of a row of [`COLUMNS`]; `current` is the asking session's id. `expires_at` is
    /// when the session ends unless it is used before: the idle limit, never past
    /// `absolute_expires_at`, which no refresh moves.
    fn from_row(row: &sqlx::any::AnyRow, current: &str) -> Result<Self, sqlx::Error> {
        let id: String = row.try_get("id")?;
        let user_agent: String = row.try_get("user_agent")?;
        let absolute: i64 = row.try_get("absolute_expires_at")?;
        let idle: i64 = row.try_get("expires_at")?;
        Ok(Self {
            name: row.try_get("name")?,
            current: id == current,
            id,
            created_at: Rfc3339(row.try_get("created_at")?),
            last_used_at: Rfc3339(row.try_get("last_used_at")?),
            expires_at: Rfc3339(idle.min(absolute)),
            absolute_expires_at: Rfc3339(absolute),
            ip: row.try_get("ip")?,
            device: Device::of(&user_agent),
            user_agent,
            auth_method: row.try_get("auth_method")?,
            mfa: row.try_get::<i64, _>("mfa")? != 0,
        })
    }
}

/// The device of a session as woothee reads its user agent (`{"browser": "Chrome", "os": "Linux"}`);
/// either is null when the agent does not say. Parsed when read, not stored, so that a better parser
/// improves the sessions already open.
#[derive(Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({"browser": "Chrome", "os": "Linux"}))]
pub struct Device {
    /// `Chrome`, `Firefox`, `Safari`, `Edge`…; for HTTP libraries their name (`curl`).
    #[schema(required = true)]
    pub browser: Option<String>,
    /// `Linux`, `Windows 10`, `Mac OSX`, `iPhone`, `Android`…
    #[schema(required = true)]
    pub os: Option<String>,
}

impl Device {
    /// What `user_agent` names.
    pub fn of(user_agent: &str) -> Self {
        let known = |text: &str| (!text.is_empty() && text != "UNKNOWN").then(|| text.to_owned());
        let (browser, os) = match woothee::parser::Parser::new().parse(user_agent) {
            // woothee calls every HTTP library "HTTP Library" and puts which one (curl, wget) in the
            // version: the library is what a person recognizes.
            Some(agent) if agent.name == "HTTP Library" => (known(agent.version), known(agent.os)),
            Some(agent) => (known(agent.name), known(agent.os)),
            None => (None, None),
        };
        Self { browser, os }
    }
}

/// Deletes the sessions that ended (revoked, idle past their refresh lifetime, or past their
/// absolute limit) before `before`: the audit events that name them are kept as long, no longer.
pub(crate) async fn sweep(state: &AppState, before: i64) -> Result<u64, ApiError> {
    let sql = "DELETE FROM sessions WHERE revoked_at < $1 OR expires_at < $2 OR absolute_expires_at < $3";
    let done = sqlx::query(sql).bind(before).bind(before).bind(before).execute(&state.db.pool).await?;
    Ok(done.rows_affected())
}

/// Which of a user's sessions are open: `$1` the user, `$2` the session, `$3` and `$4` now.
const OPEN_ONE: &str =
    "user_id = $1 AND id = $2 AND revoked_at IS NULL AND expires_at > $3 AND absolute_expires_at > $4";

/// Names (or, with `None`, unnames) session `id` of `user_id` if it is open.
pub(crate) async fn rename_open(
    state: &AppState,
    user_id: i64,
    id: &str,
    name: Option<String>,
    now: i64,
) -> Result<(), ApiError> {
    let sql = format!("UPDATE sessions SET name = $5 WHERE {OPEN_ONE}");
    sqlx::query(&sql).bind(user_id).bind(id).bind(now).bind(now).bind(name).execute(&state.db.pool).await?;
    Ok(())
}

/// Session `id` of `user_id` as its owner sees it (`current`: the asking session's id), if open.
pub(crate) async fn open_one(
    state: &AppState,
    user_id: i64,
    id: &str,
    current: &str,
    now: i64,
) -> Result<Option<OpenSession>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE {OPEN_ONE}");
    let row = sqlx::query(&sql).bind(user_id).bind(id).bind(now).bind(now).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|row| OpenSession::from_row(&row, current)).transpose()?)
}

/// When session `sid` last proved its user: its login, or its last re-authentication.
pub(crate) async fn proved_at(state: &AppState, sid: &str) -> Result<Option<i64>, ApiError> {
    let row = sqlx::query("SELECT created_at, reauthenticated_at FROM sessions WHERE id = $1")
        .bind(sid)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let created: i64 = row.try_get("created_at")?;
    Ok(Some(created.max(row.try_get::<Option<i64>, _>("reauthenticated_at")?.unwrap_or(0))))
}

/// Records that session `sid` proved its user again at `now`.
pub(crate) async fn mark_reauthenticated(state: &AppState, sid: &str, now: i64) -> Result<(), ApiError> {
    sqlx::query("UPDATE sessions SET reauthenticated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(sid)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// A session about to open (`crate::flows::tokens::issue_session`).
#[derive(Debug)]
pub(crate) struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: i64,
    /// The SHA-256 of its first refresh token's `jti`.
    pub refresh_hash: String,
    pub expires_at: i64,
    pub absolute_expires_at: i64,
    pub ip: &'a str,
    pub user_agent: &'a str,
    pub mfa: bool,
    pub org_id: Option<i64>,
    pub method: AuthMethod,
}

/// Stores `session`, opened at `now`, and records the login in `users.last_login`.
pub(crate) async fn open(state: &AppState, session: &NewSession<'_>, now: i64) -> Result<(), ApiError> {
    let sql = "INSERT INTO sessions (id, user_id, current_hash, created_at, last_used_at, expires_at, ip, user_agent, \
               mfa, org_id, absolute_expires_at, auth_method) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)";
    sqlx::query(sql)
        .bind(session.id)
        .bind(session.user_id)
        .bind(&session.refresh_hash)
        .bind(now)
        .bind(now)
        .bind(session.expires_at)
        .bind(session.ip)
        .bind(session.user_agent)
        .bind(crate::infra::db::flag(session.mfa))
        .bind(session.org_id)
        .bind(session.absolute_expires_at)
        .bind(session.method.as_str().into_owned())
        .execute(&state.db.pool)
        .await?;
    sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
        .bind(now)
        .bind(session.user_id)
        .execute(&state.db.pool)
        .await?;
    state.db.forget_user(session.user_id).await;
    Ok(())
}

/// The user of an access token and whether its session `sid` is still open at `now` (logout
/// revokes access tokens at once, not only refresh tokens; a session past its absolute limit
/// stops them too): what every authenticated request asks. Answered from the node's cache
/// (`infra/auth_cache.rs`) when it knows, else in one query whose answer the cache then keeps.
pub(crate) async fn user_with_open_session(
    state: &AppState,
    user_id: i64,
    sid: &str,
    now: i64,
) -> Result<Option<(Arc<User>, bool)>, ApiError> {
    let cache = &state.db.auth_cache;
    if let Some(user) = cache.get::<User>(user_id, sid, now) {
        return Ok(Some((user, true)));
    }
    let epoch = cache.epoch();
    let sql = format!(
        "SELECT {USER_COLUMNS}, (SELECT CASE WHEN s.expires_at < s.absolute_expires_at THEN s.expires_at \
         ELSE s.absolute_expires_at END FROM sessions s WHERE s.id = $1 AND s.user_id = users.id \
         AND s.revoked_at IS NULL) AS open_until FROM users WHERE id = $2"
    );
    let row = sqlx::query(&sql).bind(sid).bind(user_id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    let open_until: Option<i64> = row.try_get("open_until")?;
    let user = Arc::new(User::from_row(&row)?);
    let open = open_until.is_some_and(|until| until > now);
    if let (true, true, Some(until)) = (open, user.is_active, open_until) {
        cache.put(epoch, user_id, user.clone(), sid, until);
    }
    Ok(Some((user, open)))
}

/// A refresh's new token, as the session keeps it.
#[derive(Debug)]
pub(crate) struct Rotation {
    /// The SHA-256 of the new refresh token's `jti`.
    pub new_hash: String,
    pub expires_at: i64,
    pub org_id: Option<i64>,
}

/// Moves `session` on to its next refresh token, if its current one is still the one `session`
/// was read with: a compare-and-swap, so of concurrent refreshes of one token exactly one succeeds
/// (`true`) and the others change nothing (`false`).
pub(crate) async fn rotate(state: &AppState, session: &Session, next: &Rotation, now: i64) -> Result<bool, ApiError> {
    let sql = "UPDATE sessions SET previous_hash = current_hash, current_hash = $1, rotated_at = $2, \
               last_used_at = $3, expires_at = $4, org_id = $5 WHERE id = $6 AND current_hash = $7 AND revoked_at IS NULL";
    let done = sqlx::query(sql)
        .bind(&next.new_hash)
        .bind(now)
        .bind(now)
        .bind(next.expires_at)
        .bind(next.org_id)
        .bind(&session.id)
        .bind(&session.current_hash)
        .execute(&state.db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether session `sid` verified a second factor at its login.
pub(crate) async fn verified_second_factor(state: &AppState, sid: &str) -> Result<bool, ApiError> {
    let row = sqlx::query("SELECT mfa FROM sessions WHERE id = $1").bind(sid).fetch_optional(&state.db.pool).await?;
    Ok(match row {
        Some(row) => row.try_get::<i64, _>("mfa")? != 0,
        None => false,
    })
}

/// How many sessions `user_id` has (open or not), and how many of them came from `ip` with `user_agent`.
pub(crate) async fn count_from(
    state: &AppState,
    user_id: i64,
    ip: &str,
    user_agent: &str,
) -> Result<(i64, i64), ApiError> {
    let sql = "SELECT COUNT(*) AS sessions, COALESCE(SUM(CASE WHEN ip = $1 AND user_agent = $2 THEN 1 ELSE 0 END), 0) \
               AS same FROM sessions WHERE user_id = $3";
    let row = sqlx::query(sql).bind(ip).bind(user_agent).bind(user_id).fetch_one(&state.db.pool).await?;
    Ok((row.try_get("sessions")?, row.try_get("same")?))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{AuthMethod, Device};

    #[test]
    fn devices_are_read_from_user_agents() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 \
                      Safari/537.36";
        let device = |agent| serde_json::to_value(Device::of(agent)).unwrap();
        assert_eq!(device(chrome), json!({"browser": "Chrome", "os": "Linux"}));
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                      Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(device(iphone), json!({"browser": "Safari", "os": "iPhone"}));
        assert_eq!(device("curl/8.5.0"), json!({"browser": "curl", "os": null}));
        for unknown in ["", "laptop", "python-requests/2.31.0", "é老\u{0}"] {
            assert_eq!(device(unknown), json!({"browser": null, "os": null}), "{unknown:?}");
        }
    }

    #[test]
    fn auth_methods_are_stored_by_name() {
        assert_eq!(AuthMethod::Password.as_str(), "password");
        assert_eq!(AuthMethod::Passkey.as_str(), "passkey");
        assert_eq!(AuthMethod::Social("github".into()).as_str(), "social:github");
        assert_eq!(AuthMethod::Code.as_str(), "code");
        for method in [AuthMethod::Password, AuthMethod::Passkey, AuthMethod::Social("github".into()), AuthMethod::Code]
        {
            assert_eq!(AuthMethod::parse(Some(&method.as_str())), method);
        }
        assert_eq!(AuthMethod::parse(None), AuthMethod::Password);
    }
}

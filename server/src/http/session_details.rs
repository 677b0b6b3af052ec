//! What a session shows its user beyond its times: the name they gave it, the device its user agent
//! names, how its login proved them and whether a second factor did too, and its two limits. The
//! session objects of `GET /api/auth/sessions/` and of the admin API are built here, once for both;
//! `PATCH /api/auth/sessions/{id}/` names a session; [`sweep`] deletes ended ones.

use std::borrow::Cow;

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use sqlx::Row;

use crate::http::auth::AuthUser;
use crate::http::drf::{CharField, Form, JsonBody};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::users::iso8601;

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
}

/// The columns [`to_json`] reads.
const COLUMNS: &str = "id, name, created_at, last_used_at, expires_at, absolute_expires_at, ip, user_agent, \
                       auth_method, mfa";

/// The open sessions of `user_id`, newest first, as session objects; `current` marks the one with
/// this id.
pub(crate) async fn open_sessions(
    state: &AppState,
    user_id: i64,
    current: Option<&str>,
) -> Result<Vec<Value>, ApiError> {
    let now = crate::infra::clock::now();
    let sql = format!(
        "SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 \
         AND absolute_expires_at > $3 ORDER BY created_at DESC, id"
    );
    let rows = sqlx::query(&sql).bind(user_id).bind(now).bind(now).fetch_all(&state.db.pool).await?;
    let current = current.unwrap_or_default();
    Ok(rows.iter().map(|row| to_json(row, current)).collect::<Result<Vec<Value>, sqlx::Error>>()?)
}

/// A session object (API.md §4). `expires_at` is when the session ends unless it is used before:
/// the idle limit, never past `absolute_expires_at`, which no refresh moves.
fn to_json(row: &sqlx::any::AnyRow, current: &str) -> Result<Value, sqlx::Error> {
    let id: String = row.try_get("id")?;
    let user_agent: String = row.try_get("user_agent")?;
    let absolute: i64 = row.try_get("absolute_expires_at")?;
    let idle: i64 = row.try_get("expires_at")?;
    Ok(json!({
        "id": id,
        "name": row.try_get::<Option<String>, _>("name")?,
        "current": id == current,
        "created_at": iso8601(row.try_get("created_at")?),
        "last_used_at": iso8601(row.try_get("last_used_at")?),
        "expires_at": iso8601(idle.min(absolute)),
        "absolute_expires_at": iso8601(absolute),
        "ip": row.try_get::<String, _>("ip")?,
        "device": device(&user_agent),
        "user_agent": user_agent,
        "auth_method": row.try_get::<String, _>("auth_method")?,
        "mfa": row.try_get::<i64, _>("mfa")? != 0,
    }))
}

/// `{"browser", "os"}` as woothee reads a user agent (`{"browser": "Chrome", "os": "Linux"}`);
/// either is null when the agent does not say. Parsed when read, not stored, so that a better
/// parser improves the sessions already open.
pub fn device(user_agent: &str) -> Value {
    let known = |text: &str| (!text.is_empty() && text != "UNKNOWN").then(|| text.to_owned());
    let (browser, os) = match woothee::parser::Parser::new().parse(user_agent) {
        // woothee calls every HTTP library "HTTP Library" and puts which one (curl, wget) in the
        // version: the library is what a person recognizes.
        Some(agent) if agent.name == "HTTP Library" => (known(agent.version), known(agent.os)),
        Some(agent) => (known(agent.name), known(agent.os)),
        None => (None, None),
    };
    json!({ "browser": browser, "os": os })
}

/// `PATCH /api/auth/sessions/{id}/`: `{"name"}` names one open session of the caller (trimmed, at
/// most 64 characters; blank removes the name) and answers the session. Anyone else's, or an
/// unknown or closed one, is DRF's 404.
#[utoipa::path(
    patch, path = "/api/auth/sessions/{id}/", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id.")),
    request_body = crate::http::openapi::SessionUpdate,
    responses(
        (status = 200, description = "The session as changed.", body = crate::http::openapi::Session),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthenticated),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
pub(crate) async fn rename_session(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let mut form = Form::new(&body);
    let name = form.bounded("name", CharField::OPTIONAL, MAX_NAME_CHARS);
    form.finish()?;
    let now = crate::infra::clock::now();
    let open = "user_id = $1 AND id = $2 AND revoked_at IS NULL AND expires_at > $3 AND absolute_expires_at > $4";
    if let Some(name) = name {
        let sql = format!("UPDATE sessions SET name = $5 WHERE {open}");
        let name = Some(name).filter(|n| !n.is_empty());
        sqlx::query(&sql).bind(auth.user.id).bind(&id).bind(now).bind(now).bind(name).execute(&state.db.pool).await?;
    }
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE {open}");
    let row = sqlx::query(&sql).bind(auth.user.id).bind(&id).bind(now).bind(now).fetch_optional(&state.db.pool).await?;
    let row = row.ok_or(ApiError::NotFound)?;
    Ok(Json(to_json(&row, auth.session_id().unwrap_or_default())?))
}

/// Deletes the sessions that ended (revoked, idle past their refresh lifetime, or past their
/// absolute limit) before `before`: the audit events that name them are kept as long, no longer.
pub(crate) async fn sweep(state: &AppState, before: i64) -> Result<u64, ApiError> {
    let sql = "DELETE FROM sessions WHERE revoked_at < $1 OR expires_at < $2 OR absolute_expires_at < $3";
    let done = sqlx::query(sql).bind(before).bind(before).bind(before).execute(&state.db.pool).await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{device, AuthMethod};

    #[test]
    fn devices_are_read_from_user_agents() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 \
                      Safari/537.36";
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
    }
}

//! Sessions: one row per login, the family of refresh tokens rotated from it (API.md §3, §4).
//! This module owns the row and the endpoints a signed-in user manages them with: logout,
//! logout-all, and the list of open sessions. Issuing and rotating tokens lives in `tokens`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use latchkey_core::token::TokenType;
use serde_json::{json, Value};
use sqlx::Row;

use crate::http::audit::{self, Actor};
use crate::http::auth::AuthUser;
use crate::http::cookies::{without_refresh_cookie, BodyOrCookie};
use crate::http::drf::{CharField, Form, JsonBody};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/logout/", post(logout))
        .route("/api/auth/logout-all/", post(logout_all))
        .route("/api/auth/sessions/", get(list_sessions))
        .route("/api/auth/sessions/{id}/", delete(delete_session).patch(crate::http::session_details::rename_session))
}

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
}

impl Session {
    /// The session with this id, whatever its state.
    pub async fn load(state: &AppState, id: &str) -> Result<Option<Self>, ApiError> {
        let sql = "SELECT id, user_id, current_hash, previous_hash, rotated_at, expires_at, absolute_expires_at, \
                   revoked_at, mfa, org_id FROM sessions WHERE id = $1";
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
    Ok(done.rows_affected() > 0)
}

/// Audits the revocation of session `sid` by its owner.
async fn revoked(state: &AppState, auth: &AuthUser, client: &Client, sid: &str, by: &str) -> Result<(), ApiError> {
    let actor = Actor { user_id: Some(auth.user.id), client, session_id: Some(sid) };
    audit::record(state, "session_revoked", actor, json!({ "by": by })).await
}

/// Revokes every open session of `user_id` but `keep` (a session id, or none); returns how many.
/// Used by logout-all, password changes and resets, and the admin API. Ended sessions are left as
/// they are, so that the count is of sessions that could still be used.
pub(crate) async fn revoke_all(state: &AppState, user_id: i64, keep: Option<&str>) -> Result<u64, ApiError> {
    let now = crate::infra::clock::now();
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
    Ok(done.rows_affected())
}

/// simplejwt's answer for a refresh token that may no longer be used.
pub(crate) fn blacklisted() -> ApiError {
    ApiError::token_not_valid("Token is blacklisted")
}

/// `POST /api/auth/logout/`: revokes the session of the given refresh token (body, else cookie), or
/// without one the session of the access token. Idempotent: an already closed session of the
/// caller is fine. Closing the cookie's session or the caller's own deletes the refresh cookie.
#[utoipa::path(
    post, path = "/api/auth/logout/", tag = "sessions", security(("bearer" = [])),
    request_body = crate::http::openapi::LogoutRequest,
    responses(
        (status = 200, description = "The session is revoked.", body = crate::http::openapi::Empty,
            headers(("Set-Cookie" = String, description = "Deletes the refresh cookie, when it named this session."))),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthenticated),
        (status = 403, response = crate::http::openapi::CsrfFailed),
    )
)]
async fn logout(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    request: BodyOrCookie,
) -> Result<Response, ApiError> {
    let mut form = Form::new(&request.body);
    let refresh = form.string("refresh", CharField { required: false, trim: true, allow_blank: false });
    form.finish()?;
    let from_cookie = request.cookie.is_some();
    let now = crate::infra::clock::now();
    let sid = match refresh.or(request.cookie) {
        Some(token) => {
            // Any signed, unexpired refresh token of the caller names the session to close, even
            // an already rotated one: the caller is authenticated, and logging out must not fail
            // because a tab held a stale token.
            let claims = state
                .keys
                .verify(&token, Some(TokenType::Refresh), now, &state.expect)
                .map_err(|e| ApiError::token_not_valid(e.to_string()))?;
            if claims.user_id != auth.user.id.to_string() {
                return Err(ApiError::token_not_valid("Token is invalid"));
            }
            claims.extra.get("sid").and_then(Value::as_str).unwrap_or_default().to_owned()
        }
        None => auth.session_id().unwrap_or_default().to_owned(),
    };
    if revoke(&state, &sid, auth.user.id, now).await? {
        revoked(&state, &auth, &client, &sid, "logout").await?;
    }
    // The browser sends the cookie to `/api/token/` only, never here, so the cookie of a front-end
    // that logs out with its access token is deleted too: its session is the one being closed.
    if from_cookie || auth.session_id() == Some(sid.as_str()) {
        return without_refresh_cookie(&state.config, json!({}));
    }
    Ok(Json(json!({})).into_response())
}

/// `POST /api/auth/logout-all/`: revokes every session of the caller, this one included, and
/// deletes the refresh cookie (`{}`). With `{"keep_current": true}` the caller's own session stays
/// open, and the answer counts the others: `{"revoked": n}`.
#[utoipa::path(
    post, path = "/api/auth/logout-all/", tag = "sessions", security(("bearer" = [])),
    request_body = crate::http::openapi::LogoutAllRequest,
    responses(
        (status = 200, description = "`{}` when every session of the caller is revoked; `{\"revoked\": n}` when \
            `keep_current` kept the caller's.", body = crate::http::openapi::LogoutAllRevoked,
            headers(("Set-Cookie" = String, description = "Without `keep_current`: deletes the refresh cookie."))),
        (status = 400, response = crate::http::openapi::BadRequest),
        (status = 401, response = crate::http::openapi::Unauthenticated),
    )
)]
async fn logout_all(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut form = Form::new(&body);
    let keep_current = form.boolean("keep_current").unwrap_or(false);
    form.finish()?;
    let keep = auth.session_id().filter(|_| keep_current);
    let count = revoke_all(&state, auth.user.id, keep).await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    let detail = json!({ "by": "logout_all", "count": count, "keep_current": keep_current });
    audit::record(&state, "session_revoked", actor, detail).await?;
    crate::http::keys::revoke_all(&state, auth.user.id, actor, "logout_all").await?;
    if keep_current {
        return Ok(Json(json!({ "revoked": count })).into_response());
    }
    // Every session is closed, the browser's too: its refresh cookie is dead.
    without_refresh_cookie(&state.config, json!({}))
}

/// `GET /api/auth/sessions/`: the caller's open sessions, newest first; `current` marks the one
/// the access token belongs to.
#[utoipa::path(
    get, path = "/api/auth/sessions/", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's open sessions, newest first.", body = [crate::http::openapi::Session]),
        (status = 401, response = crate::http::openapi::Unauthenticated),
    )
)]
async fn list_sessions(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Value>, ApiError> {
    let sessions = crate::http::session_details::open_sessions(&state, auth.user.id, auth.session_id()).await?;
    Ok(Json(Value::Array(sessions)))
}

/// `DELETE /api/auth/sessions/{id}/`: revokes one open session of the caller; anyone else's, or an
/// unknown or closed one, is DRF's 404.
#[utoipa::path(
    delete, path = "/api/auth/sessions/{id}/", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 204, description = "The session is revoked."),
        (status = 401, response = crate::http::openapi::Unauthenticated),
        (status = 404, response = crate::http::openapi::NotFound),
    )
)]
async fn delete_session(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if revoke(&state, &id, auth.user.id, crate::infra::clock::now()).await? {
        revoked(&state, &auth, &client, &id, "sessions_endpoint").await?;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

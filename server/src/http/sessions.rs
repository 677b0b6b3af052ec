//! Sessions: one row per login, the family of refresh tokens rotated from it (docs/api.md#tokens, §4).
//! This module owns the row and the endpoints a signed-in user manages them with: logout,
//! logout-all, and the list of open sessions. Issuing and rotating tokens lives in `tokens`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::token::TokenType;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::AuthUser;
use crate::http::cookies::{without_refresh_cookie, BodyOrCookie};
use crate::http::drf::{Body, CharField, Form};
use crate::http::openapi::schemas::Empty;
use crate::http::openapi::sessions::{LogoutAllRequest, LogoutAllRevoked};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::sessions::{revoke, revoke_all, OpenSession};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(logout))
        .routes(routes!(logout_all))
        .routes(routes!(list_sessions))
        .routes(routes!(delete_session, crate::http::session_details::rename_session))
}

/// Audits the revocation of session `sid` by its owner.
async fn revoked(state: &AppState, auth: &AuthUser, client: &Client, sid: &str, by: &str) -> Result<(), ApiError> {
    let actor = Actor { user_id: Some(auth.user.id), client, session_id: Some(sid) };
    audit::record(state, AuditEvent::SessionRevoked, actor, json!({ "by": by })).await
}

/// `POST /api/auth/logout/`: revokes the session of the given refresh token (body, else cookie), or
/// without one the session of the access token. Idempotent: an already closed session of the
/// caller is fine. Closing the cookie's session or the caller's own deletes the refresh cookie.
#[utoipa::path(
    post, path = "/api/auth/logout/", tag = "sessions", security(("bearer" = [])),
    request_body = crate::http::openapi::schemas::LogoutRequest,
    responses(
        (status = 200, description = "The session is revoked.", body = crate::http::openapi::schemas::Empty,
            headers(("Set-Cookie" = String, description = "Deletes the refresh cookie, when it named this session."))),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::CsrfFailed),
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
    let now = state.clock.now();
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
            claims.session().sid.unwrap_or_default()
        }
        None => auth.session_id().unwrap_or_default().to_owned(),
    };
    if revoke(&state, &sid, auth.user.id, now).await? {
        revoked(&state, &auth, &client, &sid, "logout").await?;
    }
    // The browser sends the cookie to `/api/token/` only, never here, so the cookie of a front-end
    // that logs out with its access token is deleted too: its session is the one being closed.
    if from_cookie || auth.session_id() == Some(sid.as_str()) {
        return without_refresh_cookie(&state.config, Empty {});
    }
    Ok(Json(Empty {}).into_response())
}

/// `POST /api/auth/logout-all/`: revokes every session of the caller, this one included, and
/// deletes the refresh cookie (`{}`). With `{"keep_current": true}` the caller's own session stays
/// open, and the answer counts the others: `{"revoked": n}`.
#[utoipa::path(
    post, path = "/api/auth/logout-all/", tag = "sessions", security(("bearer" = [])),
    request_body = LogoutAllRequest,
    responses(
        (status = 200, description = "`{}` when every session of the caller is revoked; `{\"revoked\": n}` when \
            `keep_current` kept the caller's.", body = LogoutAllRevoked,
            headers(("Set-Cookie" = String, description = "Without `keep_current`: deletes the refresh cookie."))),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn logout_all(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Body(LogoutAllRequest { keep_current }): Body<LogoutAllRequest>,
) -> Result<Response, ApiError> {
    let keep = auth.session_id().filter(|_| keep_current);
    let count = revoke_all(&state, auth.user.id, keep).await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    let detail = json!({ "by": "logout_all", "count": count, "keep_current": keep_current });
    audit::record(&state, AuditEvent::SessionRevoked, actor, detail).await?;
    crate::store::api_keys::revoke_all(&state, auth.user.id, actor, "logout_all").await?;
    if keep_current {
        return Ok(Json(LogoutAllRevoked { revoked: count }).into_response());
    }
    // Every session is closed, the browser's too: its refresh cookie is dead.
    without_refresh_cookie(&state.config, Empty {})
}

/// `GET /api/auth/sessions/`: the caller's open sessions, newest first; `current` marks the one
/// the access token belongs to.
#[utoipa::path(
    get, path = "/api/auth/sessions/", tag = "sessions", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's open sessions, newest first.", body = [OpenSession]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn list_sessions(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<OpenSession>>, ApiError> {
    Ok(Json(crate::store::sessions::open_sessions(&state, auth.user.id, auth.session_id()).await?))
}

/// `DELETE /api/auth/sessions/{id}/`: revokes one open session of the caller; anyone else's, or an
/// unknown or closed one, is DRF's 404.
#[utoipa::path(
    delete, path = "/api/auth/sessions/{id}/", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id.")),
    responses(
        (status = 204, description = "The session is revoked."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn delete_session(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if revoke(&state, &id, auth.user.id, state.clock.now()).await? {
        revoked(&state, &auth, &client, &id, "sessions_endpoint").await?;
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

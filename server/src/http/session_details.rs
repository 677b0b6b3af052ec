//! What a session shows its user beyond its times: the name they gave it, the device its user agent
//! names, how its login proved them and whether a second factor did too, and its two limits. The
//! session objects of `GET /api/auth/sessions/` and of the admin API are built here, once for both;
//! `PATCH /api/auth/sessions/{id}/` names a session; [`sweep`] deletes ended ones.

use axum::extract::{Path, State};
use axum::Json;
use serde_json::Value;

use crate::http::auth::AuthUser;
use crate::http::drf::{CharField, Form, JsonBody};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::sessions::{to_json, COLUMNS, MAX_NAME_CHARS};

/// `PATCH /api/auth/sessions/{id}/`: `{"name"}` names one open session of the caller (trimmed, at
/// most 64 characters; blank removes the name) and answers the session. Anyone else's, or an
/// unknown or closed one, is DRF's 404.
#[utoipa::path(
    patch, path = "/api/auth/sessions/{id}/", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id.")),
    request_body = crate::http::openapi::sessions::SessionUpdate,
    responses(
        (status = 200, description = "The session as changed.", body = crate::http::openapi::sessions::Session),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::errors::NotFound),
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

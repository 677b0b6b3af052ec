//! What a session shows its user beyond its times: the name they gave it, the device its user agent
//! names, how its login proved them and whether a second factor did too, and its two limits. The
//! session objects of `GET /api/auth/sessions/` and of the admin API are built here, once for both;
//! `PATCH /api/auth/sessions/{id}/` names a session; [`sweep`] deletes ended ones.

use axum::extract::{Path, State};
use axum::Json;

use crate::http::auth::AuthUser;
use crate::http::drf::Body;
use crate::http::openapi::sessions::SessionUpdate;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::sessions::{self, OpenSession};

/// `PATCH /api/auth/sessions/{id}/`: `{"name"}` names one open session of the caller (trimmed, at
/// most 64 characters; blank removes the name) and answers the session. Anyone else's, or an
/// unknown or closed one, is DRF's 404.
#[utoipa::path(
    patch, path = "/api/auth/sessions/{id}/", tag = "sessions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The session's id.")),
    request_body = SessionUpdate,
    responses(
        (status = 200, description = "The session as changed.", body = OpenSession),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
pub(crate) async fn rename_session(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Body(SessionUpdate { name }): Body<SessionUpdate>,
) -> Result<Json<OpenSession>, ApiError> {
    let now = state.clock.now();
    if let Some(name) = name {
        sessions::rename_open(&state, auth.user.id, &id, Some(name).filter(|n| !n.is_empty()), now).await?;
    }
    let current = auth.session_id().unwrap_or_default();
    let session = sessions::open_one(&state, auth.user.id, &id, current, now).await?;
    Ok(Json(session.ok_or(ApiError::NotFound)?))
}

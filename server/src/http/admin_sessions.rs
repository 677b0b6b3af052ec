//! The sessions of one user, for staff (docs/api.md#api-keys): the list, in the shape users see their own in,
//! and revoking one. Forcing a logout of every session is `POST /api/admin/users/{id}/logout/`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::authz::RequireStaff;
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::users::User;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_user_sessions)).routes(routes!(revoke_user_session))
}

/// The user with the id in the path, or DRF's 404.
async fn find(state: &AppState, id: &str) -> Result<User, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    User::by_id(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// `GET /api/admin/users/{id}/sessions/`: the user's open sessions, newest first; `current` is
/// always false, since none of them is the staff member's.
#[utoipa::path(
    get, path = "/api/admin/users/{id}/sessions/", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id.")),
    responses(
        (status = 200, description = "The user's open sessions, newest first.", body = [crate::store::sessions::OpenSession]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn list_user_sessions(
    State(state): State<AppState>,
    _staff: RequireStaff,
    Path(id): Path<String>,
) -> Result<Json<Vec<crate::store::sessions::OpenSession>>, ApiError> {
    let user = find(&state, &id).await?;
    Ok(Json(crate::store::sessions::open_sessions(&state, user.id, None).await?))
}

/// `DELETE /api/admin/users/{id}/sessions/{sid}/`: revokes one open session of the user; an unknown
/// user, or a session that is unknown, closed or someone else's, is DRF's 404. Audited as
/// `session_revoked` by `admin`, naming the staff member.
#[utoipa::path(
    delete, path = "/api/admin/users/{id}/sessions/{sid}/", tag = "admin", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The user's id."),
        ("sid" = String, Path, description = "The session's id."),
    ),
    responses(
        (status = 204, description = "The session is revoked."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn revoke_user_session(
    State(state): State<AppState>,
    RequireStaff(staff): RequireStaff,
    client: Client,
    Path((id, sid)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = find(&state, &id).await?;
    if !crate::store::sessions::revoke(&state, &sid, user.id, state.clock.now()).await? {
        return Err(ApiError::NotFound);
    }
    // Filed under the user whose session it was, like every admin event.
    let actor = Actor { user_id: Some(user.id), client: &client, session_id: Some(&sid) };
    audit::record(&state, AuditEvent::SessionRevoked, actor, json!({ "by": "admin", "staff": staff.user.id })).await?;
    Ok(StatusCode::NO_CONTENT)
}

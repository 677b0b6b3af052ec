//! The admin API's view of a user's API keys (docs/api.md#api-keys): staff list them (never the keys, which
//! nobody can see again) and revoke one, for example a key found in a public repository. Revoking
//! every key at once comes with deactivation, the forced logout and the 2FA reset (`crate::http::admin`).

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
use crate::store::api_keys::ApiKeyInfo;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::users::User;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_user_keys)).routes(routes!(revoke_user_key))
}

/// The user named by the path, or DRF's 404 (an id that is not a number included).
async fn find(state: &AppState, id: &str) -> Result<User, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    User::by_id(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// `GET /api/admin/users/{id}/api-keys/`: the user's keys, newest first, as the owner lists them.
#[utoipa::path(
    get, path = "/api/admin/users/{id}/api-keys/", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id.")),
    responses(
        (status = 200, description = "The user's keys, without the keys.", body = [ApiKeyInfo]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn list_user_keys(
    State(state): State<AppState>,
    _staff: RequireStaff,
    Path(id): Path<String>,
) -> Result<Json<Vec<ApiKeyInfo>>, ApiError> {
    let user = find(&state, &id).await?;
    Ok(Json(crate::store::api_keys::keys_of(&state, user.id).await?))
}

/// `DELETE /api/admin/users/{id}/api-keys/{key_id}/`: revokes one key of the user. A key of another
/// user is DRF's 404, as an unknown one: the path must name the owner.
#[utoipa::path(
    delete, path = "/api/admin/users/{id}/api-keys/{key_id}/", tag = "admin", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The user's id."),
        ("key_id" = i64, Path, description = "The key's id."),
    ),
    responses(
        (status = 204, description = "The key no longer works."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn revoke_user_key(
    State(state): State<AppState>,
    RequireStaff(staff): RequireStaff,
    client: Client,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = find(&state, &id).await?;
    let key_id: i64 = key_id.parse().map_err(|_| ApiError::NotFound)?;
    let prefix = crate::store::api_keys::delete_one(&state, key_id, user.id).await?.ok_or(ApiError::NotFound)?;
    // Filed under the owner, as the other admin events are; `staff` names who revoked it.
    let actor = Actor { user_id: Some(user.id), client: &client, session_id: None };
    let detail = json!({ "key_id": key_id, "prefix": prefix, "by": "admin", "staff": staff.user.id });
    audit::record(&state, AuditEvent::ApiKeyRevoked, actor, detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

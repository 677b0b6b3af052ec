//! The admin API for staff (docs/api.md#api-keys): find users, activate or deactivate them (deactivation
//! revokes every session and API key), grant staff, mark verified, force a logout, and the emergency
//! reset of a user's second factors. Every change is an audit event naming the staff member who made it.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::authz::RequireStaff;
use crate::http::drf::{Body, Form, JsonBody};
use crate::http::openapi::admin_schemas::{AdminUser, AdminUserUpdate, ResetReason, UserPage};
use crate::http::openapi::schemas::Empty;
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::sessions::revoke_all;
use crate::store::users::{self, User};

/// Users per page, as DRF's `PageNumberPagination` with `PAGE_SIZE = 50`.
const PAGE_SIZE: i64 = 50;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, update_user))
        .routes(routes!(force_logout))
        .routes(routes!(reset_two_factor))
        .merge(crate::http::admin_sessions::router())
        .merge(crate::http::admin_keys::router())
}

/// `GET /api/admin/users/?search=&page=`: users by id, 50 a page, `search` matching e-mail address,
/// username or names (case-insensitive), in DRF's paginated shape.
#[utoipa::path(
    get, path = "/api/admin/users/", tag = "admin", security(("bearer" = [])),
    params(
        ("search" = Option<String>, Query, description = "Part of the e-mail address, username or names."),
        ("page" = Option<i64>, Query, description = "1-based page number."),
    ),
    responses(
        (status = 200, description = "A page of users.", body = UserPage),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    _staff: RequireStaff,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<UserPage>, ApiError> {
    let page: i64 = match query.get("page") {
        None => 1,
        // DRF answers an invalid page with 404 `Invalid page.`.
        Some(text) => text.parse().ok().filter(|p| *p >= 1).ok_or(ApiError::NotFound)?,
    };
    let search = query.get("search").map(|s| s.trim().to_lowercase()).unwrap_or_default();
    let count = users::count_matching(&state.db, &search).await?;
    if page > 1 && (page - 1) * PAGE_SIZE >= count {
        return Err(ApiError::NotFound);
    }
    let found = users::matching(&state.db, &search, PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let results = found.iter().map(AdminUser::from).collect();
    let link = |page: i64| {
        let search =
            if search.is_empty() { String::new() } else { format!("search={}&", crate::http::audit::encode(&search)) };
        format!("/api/admin/users/?{search}page={page}")
    };
    let next = (page * PAGE_SIZE < count).then(|| link(page + 1));
    let previous = (page > 1).then(|| link(page - 1));
    Ok(Json(UserPage { count, next, previous, results }))
}

async fn find(state: &AppState, id: &str) -> Result<User, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    User::by_id(&state.db, id).await?.ok_or(ApiError::NotFound)
}

/// `GET /api/admin/users/{id}/`.
#[utoipa::path(
    get, path = "/api/admin/users/{id}/", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id.")),
    responses(
        (status = 200, description = "The user.", body = AdminUser),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn get_user(
    State(state): State<AppState>,
    _staff: RequireStaff,
    Path(id): Path<String>,
) -> Result<Json<AdminUser>, ApiError> {
    Ok(Json(AdminUser::from(&find(&state, &id).await?)))
}

/// `PATCH /api/admin/users/{id}/`: any of `is_active`, `is_staff`, `is_verified`. Deactivating
/// revokes every session and API key of the user at once.
#[utoipa::path(
    patch, path = "/api/admin/users/{id}/", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id.")),
    request_body = AdminUserUpdate,
    responses(
        (status = 200, description = "The user as changed.", body = AdminUser),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn update_user(
    State(state): State<AppState>,
    RequireStaff(staff): RequireStaff,
    client: Client,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<AdminUser>, ApiError> {
    let user = find(&state, &id).await?;
    // Read after the lookup: an unknown user is a 404 whatever the body.
    let AdminUserUpdate { is_active, is_staff, is_verified } = Form::new(&body).read::<AdminUserUpdate>()?;
    let changes: Vec<(&str, bool)> = [("is_active", is_active), ("is_staff", is_staff), ("is_verified", is_verified)]
        .into_iter()
        .filter_map(|(field, value)| value.map(|value| (field, value)))
        .collect();
    if user.id == staff.user.id && changes.iter().any(|(field, value)| *field != "is_verified" && !value) {
        return Err(ApiError::field(
            "non_field_errors",
            "Staff cannot deactivate themselves or drop their own staff status.",
        ));
    }
    for (field, value) in &changes {
        // The column name comes from the fixed list above, never from the request.
        users::set_flag(&state.db, user.id, field, *value).await?;
    }
    if changes.contains(&("is_active", false)) {
        revoke_all(&state, user.id, None).await?;
        crate::store::api_keys::revoke_all(&state, user.id, target_actor(&user, &client), "admin_deactivation").await?;
    }
    if !changes.is_empty() {
        let detail: serde_json::Map<String, Value> = changes.iter().map(|(f, v)| ((*f).to_owned(), json!(v))).collect();
        let detail = json!({ "by": staff.user.id, "changes": detail });
        audit::record(&state, AuditEvent::AdminUserUpdated, target_actor(&user, &client), detail).await?;
    }
    Ok(Json(AdminUser::from(&find(&state, &id).await?)))
}

/// `POST /api/admin/users/{id}/logout/`: revokes every session and API key of the user.
#[utoipa::path(
    post, path = "/api/admin/users/{id}/logout/", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id.")),
    responses(
        (status = 200, description = "Every session is revoked.", body = Empty),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn force_logout(
    State(state): State<AppState>,
    RequireStaff(staff): RequireStaff,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Empty>, ApiError> {
    let user = find(&state, &id).await?;
    let count = revoke_all(&state, user.id, None).await?;
    crate::store::api_keys::revoke_all(&state, user.id, target_actor(&user, &client), "admin_logout").await?;
    let detail = json!({ "by": staff.user.id, "sessions": count });
    audit::record(&state, AuditEvent::AdminForcedLogout, target_actor(&user, &client), detail).await?;
    Ok(Json(Empty {}))
}

/// `POST /api/admin/users/{id}/2fa/reset/`: `{"reason"}` (required). Emergency access for a user
/// who lost every second factor: their devices and backup codes are deleted, 2FA is off, and their
/// sessions and API keys are revoked. Always audited, with the reason and the staff member.
#[utoipa::path(
    post, path = "/api/admin/users/{id}/2fa/reset/", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The user's id.")),
    request_body = ResetReason,
    responses(
        (status = 200, description = "2FA is off for the user.", body = Empty),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn reset_two_factor(
    State(state): State<AppState>,
    RequireStaff(staff): RequireStaff,
    client: Client,
    Path(id): Path<String>,
    Body(ResetReason { reason }): Body<ResetReason>,
) -> Result<Json<Empty>, ApiError> {
    let user = find(&state, &id).await?;
    let devices = crate::store::mfa_factors::remove_all(&state, user.id).await?;
    revoke_all(&state, user.id, None).await?;
    crate::store::api_keys::revoke_all(&state, user.id, target_actor(&user, &client), "admin_2fa_reset").await?;
    let detail = json!({ "by": staff.user.id, "reason": reason, "devices_removed": devices });
    audit::record(&state, AuditEvent::Admin2faReset, target_actor(&user, &client), detail).await?;
    if user.mfa_enabled {
        audit::record(&state, AuditEvent::MfaDisabled, target_actor(&user, &client), json!({ "by": "admin_reset" }))
            .await?;
        crate::flows::passwords::notify(&state, &user, crate::infra::mail::Kind::MfaDisabled, &client, Vec::new());
    }
    Ok(Json(Empty {}))
}

/// Admin events are filed under the user they concern; `detail.by` names the staff member.
fn target_actor<'a>(user: &User, client: &'a Client) -> Actor<'a> {
    Actor { user_id: Some(user.id), client, session_id: None }
}

//! Organizations and their members (docs/api.md#api-keys). The creator is the first `admin`; only admins
//! manage members, who join by invitation (`crate::http::invitations`); an organization always keeps at
//! least one admin, so the last one can neither leave nor step down. Members see the member list;
//! to everyone else an organization does not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::AuthUser;
use crate::http::authz::{OrgMember, Role};
use crate::http::drf::{Form, FormBody, JsonBody};
use crate::http::openapi::admin_schemas::{NewMemberRequest, NewOrgRequest, OrgUpdateRequest, RoleRequest};
use crate::http::openapi::lifecycle_schemas::Detail;
use crate::infra::client::Client;
use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::orgs::{self, Member, Org};

const LAST_ADMIN: &str = "An organization needs at least one admin.";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_org, list_orgs))
        .routes(routes!(update_org))
        .routes(routes!(list_members, add_member))
        .routes(routes!(change_role, remove_member))
        .merge(crate::http::invitations::router())
}

/// `POST /api/orgs/`: `{"name", "slug"}`; the caller becomes its admin.
#[utoipa::path(
    post, path = "/api/orgs/", tag = "organizations", security(("bearer" = [])),
    request_body = NewOrgRequest,
    responses(
        (status = 201, description = "The organization, with the caller's role.", body = Org),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn create_org(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Org>), ApiError> {
    let mut form = Form::new(&body);
    let NewOrgRequest { name, slug } = NewOrgRequest::read(&mut form);
    // A slug that was read and is valid: is it free?
    if form.has("slug") && !form.has_error("slug") && orgs::slug_taken(&state, &slug).await? {
        form.error("slug", "organization with this slug already exists.");
    }
    form.finish()?;
    let now = state.clock.now();
    let Some(id) = orgs::create(&state, &slug, &name, auth.user.id, now).await? else {
        return Err(ApiError::field("slug", "organization with this slug already exists."));
    };
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    audit::record(&state, AuditEvent::OrgCreated, actor, json!({ "org": slug })).await?;
    let role = Role::Admin.as_str().to_owned();
    let org = Org { id, name, slug, role, created_at: Rfc3339(now), require_2fa: false };
    Ok((StatusCode::CREATED, Json(org)))
}

/// `GET /api/orgs/`: the caller's organizations with the caller's role.
#[utoipa::path(
    get, path = "/api/orgs/", tag = "organizations", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's organizations.", body = [Org]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn list_orgs(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<Org>>, ApiError> {
    Ok(Json(orgs::of_user(&state, auth.user.id).await?))
}

/// `PATCH /api/orgs/{slug}/`: `{"require_2fa"}` (org admins only): whether members need a verified
/// second factor for tokens that speak for the organization (docs/api.md#2fa-enforcement). Audited
/// as `org_updated` when it changes anything.
#[utoipa::path(
    patch, path = "/api/orgs/{slug}/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization.")),
    request_body = OrgUpdateRequest,
    responses(
        (status = 200, description = "The organization, with the caller's role.", body = Org),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn update_org(
    State(state): State<AppState>,
    member: OrgMember,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Org>, ApiError> {
    member.require(Role::Admin)?;
    // Read after the role check: a member who may not change settings learns nothing from the body.
    let OrgUpdateRequest { require_2fa } = Form::new(&body).read()?;
    if let Some(on) = require_2fa {
        if orgs::set_require_2fa(&state, member.org_id, on).await? {
            let detail = json!({ "org": member.slug, "require_2fa": on });
            audit::record(&state, AuditEvent::OrgUpdated, actor(&member, &client), detail).await?;
        }
    }
    Ok(Json(orgs::with_role(&state, member.org_id, member.auth.user.id).await?))
}

/// `GET /api/orgs/{slug}/members/`: every member, for any member.
#[utoipa::path(
    get, path = "/api/orgs/{slug}/members/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization.")),
    responses(
        (status = 200, description = "The members.", body = [Member]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn list_members(State(state): State<AppState>, member: OrgMember) -> Result<Json<Vec<Member>>, ApiError> {
    Ok(Json(orgs::members(&state, member.org_id).await?))
}

/// `POST /api/orgs/{slug}/members/`: v1's way to add a member, now an invitation exactly as
/// `POST /api/orgs/{slug}/invitations/` (`crate::http::invitations`): members join by accepting.
#[utoipa::path(
    post, path = "/api/orgs/{slug}/members/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization.")),
    request_body = NewMemberRequest,
    responses(
        (status = 202, description = "Invited: the same answer for every address.", body = Detail),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn add_member(
    State(state): State<AppState>,
    member: OrgMember,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Detail>), ApiError> {
    crate::http::invitations::invite(&state, &member, &client, &body).await
}

/// `PATCH /api/orgs/{slug}/members/{user_id}/`: `{"role"}` (org admins only).
#[utoipa::path(
    patch, path = "/api/orgs/{slug}/members/{user_id}/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization."), ("user_id" = i64, Path, description = "The member.")),
    request_body = RoleRequest,
    responses(
        (status = 200, description = "The member with the new role.", body = Member),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn change_role(
    State(state): State<AppState>,
    member: OrgMember,
    client: Client,
    Path(path): Path<(String, String)>,
    JsonBody(body): JsonBody,
) -> Result<Json<Member>, ApiError> {
    member.require(Role::Admin)?;
    let (_, user_id) = path;
    // Read after the role check: a member who may not change roles learns nothing from the body.
    let RoleRequest { role } = Form::new(&body).read()?;
    let target = target(&state, &member, &user_id).await?;
    if !orgs::change_role(&state, member.org_id, target.0, role).await? {
        return Err(ApiError::field("non_field_errors", LAST_ADMIN));
    }
    let detail = json!({ "org": member.slug, "member": target.0, "role": role.as_str() });
    audit::record(&state, AuditEvent::OrgRoleChanged, actor(&member, &client), detail).await?;
    let (user_id, email, joined) = target;
    Ok(Json(Member { user_id, email, role: role.as_str().to_owned(), joined_at: Rfc3339(joined) }))
}

/// `DELETE /api/orgs/{slug}/members/{user_id}/`: an admin removes a member, or a member leaves.
#[utoipa::path(
    delete, path = "/api/orgs/{slug}/members/{user_id}/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization."), ("user_id" = i64, Path, description = "The member.")),
    responses(
        (status = 204, description = "No longer a member."),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn remove_member(
    State(state): State<AppState>,
    member: OrgMember,
    client: Client,
    Path(path): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (_, user_id) = path;
    let leaving = user_id.parse::<i64>().ok() == Some(member.auth.user.id);
    if !leaving {
        member.require(Role::Admin)?;
    }
    let target = target(&state, &member, &user_id).await?;
    if !orgs::remove_member(&state, member.org_id, target.0).await? {
        return Err(ApiError::field("non_field_errors", LAST_ADMIN));
    }
    let detail = json!({ "org": member.slug, "member": target.0, "left": leaving });
    audit::record(&state, AuditEvent::OrgMemberRemoved, actor(&member, &client), detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The member named by the path: `(user id, e-mail, joined at)`, or 404.
async fn target(state: &AppState, member: &OrgMember, user_id: &str) -> Result<(i64, String, i64), ApiError> {
    let user_id: i64 = user_id.parse().map_err(|_| ApiError::NotFound)?;
    let (email, joined) = orgs::membership_of(state, member.org_id, user_id).await?.ok_or(ApiError::NotFound)?;
    Ok((user_id, email, joined))
}

fn actor<'a>(member: &'a OrgMember, client: &'a Client) -> Actor<'a> {
    Actor { user_id: Some(member.auth.user.id), client, session_id: member.auth.session_id() }
}

//! Organizations and their members (docs/api.md#api-keys). The creator is the first `admin`; only admins
//! manage members, who join by invitation (`crate::http::invitations`); an organization always keeps at
//! least one admin, so the last one can neither leave nor step down. Members see the member list;
//! to everyone else an organization does not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::Row;

use crate::http::auth::AuthUser;
use crate::http::authz::{read_role, OrgMember, Role};
use crate::http::drf::{CharField, Form, JsonBody};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::users::iso8601;

const LAST_ADMIN: &str = "An organization needs at least one admin.";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/orgs/", post(create_org).get(list_orgs))
        .route("/api/orgs/{slug}/members/", get(list_members).post(add_member))
        .route("/api/orgs/{slug}/members/{user_id}/", patch(change_role).delete(remove_member))
        .merge(crate::http::invitations::router())
}

/// Django's `SlugField`: letters, digits, hyphens and underscores.
fn is_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `POST /api/orgs/`: `{"name", "slug"}`; the caller becomes its admin.
#[utoipa::path(
    post, path = "/api/orgs/", tag = "organizations", security(("bearer" = [])),
    request_body = crate::http::openapi::admin_schemas::NewOrgRequest,
    responses(
        (status = 201, description = "The organization, with the caller's role.", body = crate::http::openapi::admin_schemas::Org),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn create_org(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut form = Form::new(&body);
    let name = form.string("name", CharField::REQUIRED);
    let slug = form.string("slug", CharField::REQUIRED);
    if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
        form.error("name", "Ensure this field has no more than 100 characters.");
    }
    if let Some(slug) = &slug {
        if !is_slug(slug) || slug.len() > 50 {
            form.error(
                "slug",
                "Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens (at most 50).",
            );
        } else if sqlx::query("SELECT 1 FROM organizations WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&state.db.pool)
            .await?
            .is_some()
        {
            form.error("slug", "organization with this slug already exists.");
        }
    }
    form.finish()?;
    let (name, slug) = (name.unwrap_or_default(), slug.unwrap_or_default());
    let now = state.clock.now();
    let mut tx = state.db.pool.begin().await?;
    let inserted = sqlx::query("INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(&slug)
        .bind(&name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
    let id: i64 = match inserted {
        Ok(row) => row.try_get("id")?,
        Err(e) if crate::store::users::is_unique_violation(&e) => {
            return Err(ApiError::field("slug", "organization with this slug already exists."));
        }
        Err(e) => return Err(e.into()),
    };
    sqlx::query("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, 'admin', $3)")
        .bind(id)
        .bind(auth.user.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    audit::record(&state, AuditEvent::OrgCreated, actor, json!({ "org": slug })).await?;
    let body = json!({ "id": id, "name": name, "slug": slug, "role": "admin", "created_at": iso8601(now) });
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/orgs/`: the caller's organizations with the caller's role.
#[utoipa::path(
    get, path = "/api/orgs/", tag = "organizations", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's organizations.", body = [crate::http::openapi::admin_schemas::Org]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn list_orgs(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Value>, ApiError> {
    let sql = "SELECT o.id, o.name, o.slug, o.created_at, m.role FROM organizations o \
               JOIN memberships m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.slug";
    let rows = sqlx::query(sql).bind(auth.user.id).fetch_all(&state.db.pool).await?;
    let orgs = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<i64, _>("id")?,
                "name": row.try_get::<String, _>("name")?,
                "slug": row.try_get::<String, _>("slug")?,
                "role": row.try_get::<String, _>("role")?,
                "created_at": iso8601(row.try_get("created_at")?),
            }))
        })
        .collect::<Result<Vec<Value>, sqlx::Error>>()?;
    Ok(Json(Value::Array(orgs)))
}

/// `GET /api/orgs/{slug}/members/`: every member, for any member.
#[utoipa::path(
    get, path = "/api/orgs/{slug}/members/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization.")),
    responses(
        (status = 200, description = "The members.", body = [crate::http::openapi::admin_schemas::Member]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn list_members(State(state): State<AppState>, member: OrgMember) -> Result<Json<Value>, ApiError> {
    let sql = "SELECT u.id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id \
               WHERE m.org_id = $1 ORDER BY m.created_at, u.id";
    let rows = sqlx::query(sql).bind(member.org_id).fetch_all(&state.db.pool).await?;
    let members = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "user_id": row.try_get::<i64, _>("id")?,
                "email": row.try_get::<String, _>("email")?,
                "role": row.try_get::<String, _>("role")?,
                "joined_at": iso8601(row.try_get("created_at")?),
            }))
        })
        .collect::<Result<Vec<Value>, sqlx::Error>>()?;
    Ok(Json(Value::Array(members)))
}

/// `POST /api/orgs/{slug}/members/`: v1's way to add a member, now an invitation exactly as
/// `POST /api/orgs/{slug}/invitations/` (`crate::http::invitations`): members join by accepting.
#[utoipa::path(
    post, path = "/api/orgs/{slug}/members/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization.")),
    request_body = crate::http::openapi::admin_schemas::NewMemberRequest,
    responses(
        (status = 202, description = "Invited: the same answer for every address.", body = crate::http::openapi::lifecycle_schemas::Detail),
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
) -> Result<(StatusCode, Json<Value>), ApiError> {
    crate::http::invitations::invite(&state, &member, &client, &body).await
}

/// `PATCH /api/orgs/{slug}/members/{user_id}/`: `{"role"}` (org admins only).
#[utoipa::path(
    patch, path = "/api/orgs/{slug}/members/{user_id}/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization."), ("user_id" = i64, Path, description = "The member.")),
    request_body = crate::http::openapi::admin_schemas::RoleRequest,
    responses(
        (status = 200, description = "The member with the new role.", body = crate::http::openapi::admin_schemas::Member),
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
) -> Result<Json<Value>, ApiError> {
    member.require(Role::Admin)?;
    let (_, user_id) = path;
    let mut form = Form::new(&body);
    let role = read_role(&mut form);
    form.finish()?;
    let role = role.ok_or_else(|| ApiError::Internal("role form".into()))?;
    let target = target(&state, &member, &user_id).await?;
    let sql = format!(
        "UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3 AND ($4 = 'admin' OR {})",
        leaves_an_admin(5)
    );
    let query = sqlx::query(&sql)
        .bind(role.as_str())
        .bind(member.org_id)
        .bind(target.0)
        .bind(role.as_str())
        .bind(member.org_id);
    if !apply_keeping_an_admin(&state, member.org_id, query).await? {
        return Err(ApiError::field("non_field_errors", LAST_ADMIN));
    }
    let detail = json!({ "org": member.slug, "member": target.0, "role": role.as_str() });
    audit::record(&state, AuditEvent::OrgRoleChanged, actor(&member, &client), detail).await?;
    Ok(Json(json!({ "user_id": target.0, "email": target.1, "role": role.as_str(), "joined_at": iso8601(target.2) })))
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
    let sql = format!("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2 AND {}", leaves_an_admin(3));
    let query = sqlx::query(&sql).bind(member.org_id).bind(target.0).bind(member.org_id);
    if !apply_keeping_an_admin(&state, member.org_id, query).await? {
        return Err(ApiError::field("non_field_errors", LAST_ADMIN));
    }
    let detail = json!({ "org": member.slug, "member": target.0, "left": leaving });
    audit::record(&state, AuditEvent::OrgMemberRemoved, actor(&member, &client), detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The member named by the path: `(user id, e-mail, joined at)`, or 404.
async fn target(state: &AppState, member: &OrgMember, user_id: &str) -> Result<(i64, String, i64), ApiError> {
    let user_id: i64 = user_id.parse().map_err(|_| ApiError::NotFound)?;
    let sql = "SELECT u.email, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id \
               WHERE m.org_id = $1 AND m.user_id = $2";
    let row = sqlx::query(sql).bind(member.org_id).bind(user_id).fetch_optional(&state.db.pool).await?;
    let row = row.ok_or(ApiError::NotFound)?;
    Ok((user_id, row.try_get("email")?, row.try_get("created_at")?))
}

/// The condition under which a membership may lose its admin role: it is not an admin, or another
/// admin remains. Parameter `$org` is the organization's id.
fn leaves_an_admin(org: usize) -> String {
    format!(
        "(role <> 'admin' OR (SELECT COUNT(*) FROM memberships a WHERE a.org_id = ${org} AND a.role = 'admin') > 1)"
    )
}

/// Runs `query` (an update or delete guarded by [`leaves_an_admin`]) so that two admins demoting
/// each other at once cannot leave the organization without one: SQLite runs writes one at a time,
/// and on PostgreSQL the organization's row is locked first. False when the guard refused.
async fn apply_keeping_an_admin<'q>(
    state: &AppState,
    org_id: i64,
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> Result<bool, ApiError> {
    let mut tx = state.db.pool.begin().await?;
    if state.db.dialect == crate::infra::db::Dialect::Postgres {
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
            .bind(org_id)
            .fetch_optional(&mut *tx)
            .await?;
    }
    let done = query.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(done.rows_affected() > 0)
}

fn actor<'a>(member: &'a OrgMember, client: &'a Client) -> Actor<'a> {
    Actor { user_id: Some(member.auth.user.id), client, session_id: member.auth.session_id() }
}

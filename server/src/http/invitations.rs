//! Invitations to join an organization (docs/api.md#api-keys). Members join by invitation only: an org admin
//! invites an e-mail address with a role, and whoever is signed in with that address, verified,
//! accepts or declines it within 7 days.
//!
//! Inviting answers the same 202, after the same work, whether or not the address belongs to an
//! account: the invitation is stored by address either way (someone who registers later still
//! finds it), and the lookup and the e-mail, which goes to registered addresses only, happen after
//! the answer. Only membership is said out loud (400), since every member sees the member list.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::Row;

use crate::flows::email_links::in_background;
use crate::http::auth::AuthUser;
use crate::http::authz::{OrgMember, Role};
use crate::http::drf::{CharField, Form, JsonBody};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::mail::{Email, Kind};
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::users::{is_valid_email, iso8601, normalize_email, User, EMAIL_MAX};

/// The answer to every invitation, whoever the address belongs to.
const INVITED: &str = "If the address belongs to an account, an invitation has been sent.";
/// How long an invitation can be accepted.
const LIFETIME: i64 = 7 * 86_400;
const VERIFY_FIRST: &str =
    "Verify your e-mail address first: an invitation is for whoever owns the address it was sent to.";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/orgs/{slug}/invitations/", post(create_invitation))
        .route("/api/orgs/invitations/", get(list_invitations))
        .route("/api/orgs/invitations/{id}/accept/", post(accept_invitation))
        .route("/api/orgs/invitations/{id}/decline/", post(decline_invitation))
}

/// `POST /api/orgs/{slug}/invitations/`: `{"email", "role"}` (org admins only) → always the same
/// 202. A registered, active address gets a link to `{LATCHKEY_PUBLIC_URL}/?invitation=<id>`.
#[utoipa::path(
    post, path = "/api/orgs/{slug}/invitations/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization.")),
    request_body = crate::http::openapi::admin_schemas::NewMemberRequest,
    responses(
        (status = 202, description = "The same answer for every address.", body = crate::http::openapi::lifecycle_schemas::Detail),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn create_invitation(
    State(state): State<AppState>,
    member: OrgMember,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    invite(&state, &member, &client, &body).await
}

/// Invites `{"email", "role"}` to `member`'s organization; also the v1 `POST …/members/`.
pub(crate) async fn invite(
    state: &AppState,
    member: &OrgMember,
    client: &Client,
    body: &Value,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    member.require(Role::Admin)?;
    let mut form = Form::new(body);
    // Bounded as given, then normalized, then validated: what is stored is what was checked.
    let email = form.bounded("email", CharField::REQUIRED, EMAIL_MAX).map(|e| normalize_email(&e));
    if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        form.error("email", "Enter a valid email address.");
    }
    let role = crate::http::authz::read_role(&mut form);
    form.finish()?;
    let (Some(email), Some(role)) = (email, role) else { return Err(ApiError::Internal("invitation form".into())) };
    crate::store::limits::hit(state, crate::infra::config::Limit::InviteUser, &member.auth.user.id.to_string()).await?;
    // Every member can list the members, so saying that one already is reveals nothing new.
    let sql = "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id \
               WHERE m.org_id = $1 AND u.email = $2";
    if sqlx::query(sql).bind(member.org_id).bind(&email).fetch_optional(&state.db.pool).await?.is_some() {
        return Err(ApiError::field("email", "This user is already a member."));
    }
    let now = state.clock.now();
    // Expired invitations can no longer be answered; each new one sweeps its organization's away.
    sqlx::query("DELETE FROM org_invitations WHERE org_id = $1 AND expires_at <= $2")
        .bind(member.org_id)
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    // Inviting an address again replaces its invitation: the new role, inviter and 7 days.
    let sql = "INSERT INTO org_invitations (org_id, email, role, invited_by, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, email) DO UPDATE SET role = excluded.role, \
               invited_by = excluded.invited_by, created_at = excluded.created_at, expires_at = excluded.expires_at \
               RETURNING id";
    let row = sqlx::query(sql)
        .bind(member.org_id)
        .bind(&email)
        .bind(role.as_str())
        .bind(member.auth.user.id)
        .bind(now)
        .bind(now + LIFETIME)
        .fetch_one(&state.db.pool)
        .await?;
    let id: i64 = row.try_get("id")?;
    let actor = Actor { user_id: Some(member.auth.user.id), client, session_id: member.auth.session_id() };
    let detail = json!({ "org": member.slug, "invitation": id, "email": email, "role": role.as_str() });
    audit::record(state, AuditEvent::OrgInvitationSent, actor, detail).await?;
    let (state, org_id, inviter) = (state.clone(), member.org_id, member.auth.user.email.clone());
    in_background(async move {
        let Some(user) = User::by_email(&state.db, &email).await?.filter(|u| u.is_active) else { return Ok(()) };
        let org = sqlx::query("SELECT name FROM organizations WHERE id = $1").bind(org_id).fetch_one(&state.db.pool);
        let name: String = org.await?.try_get("name")?;
        let link = format!("{}/?invitation={id}", state.config.public_base());
        let vars = vec![
            ("email", user.email.clone()),
            ("org", name),
            ("role", role.as_str().to_owned()),
            ("inviter", inviter),
            ("link", link),
            ("valid_for", format!("{} days", LIFETIME / 86_400)),
        ];
        state.mailer.send(Email { to: user.email, kind: Kind::OrgInvitation, vars });
        Ok(())
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "detail": INVITED }))))
}

/// Invitations are answered by the owner of the address: an account whose address is not verified
/// may have been registered by someone else, so it may not see or answer them.
fn verified(auth: &AuthUser) -> Result<String, ApiError> {
    if auth.user.is_verified {
        Ok(normalize_email(&auth.user.email))
    } else {
        Err(ApiError::Forbidden(VERIFY_FIRST.into()))
    }
}

/// `GET /api/orgs/invitations/`: the pending, unexpired invitations to the caller's address,
/// newest first.
#[utoipa::path(
    get, path = "/api/orgs/invitations/", tag = "organizations", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's pending invitations.", body = [crate::http::openapi::invitation_schemas::Invitation]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
    )
)]
async fn list_invitations(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Value>, ApiError> {
    let email = verified(&auth)?;
    let sql = "SELECT i.id, i.role, i.created_at, i.expires_at, o.slug, o.name, u.email AS inviter \
               FROM org_invitations i JOIN organizations o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.invited_by \
               WHERE i.email = $1 AND i.expires_at > $2 ORDER BY i.created_at DESC, i.id DESC";
    let rows = sqlx::query(sql).bind(email).bind(state.clock.now()).fetch_all(&state.db.pool).await?;
    let invitations = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<i64, _>("id")?,
                "org": { "slug": row.try_get::<String, _>("slug")?, "name": row.try_get::<String, _>("name")? },
                "role": row.try_get::<String, _>("role")?,
                "invited_by": row.try_get::<Option<String>, _>("inviter")?,
                "created_at": iso8601(row.try_get("created_at")?),
                "expires_at": iso8601(row.try_get("expires_at")?),
            }))
        })
        .collect::<Result<Vec<Value>, sqlx::Error>>()?;
    Ok(Json(Value::Array(invitations)))
}

/// A pending invitation to the caller.
struct Pending {
    id: i64,
    org_id: i64,
    slug: String,
    role: String,
}

/// Takes (deletes) invitation `id` if it is to `email` and unexpired: DRF's 404 otherwise, for an
/// unknown, expired, answered or someone else's invitation alike. Deleting is what makes an answer
/// count once when two arrive together; the caller commits.
async fn take(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str, email: &str, now: i64) -> Result<Pending, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    // The delete comes first, so that it takes the write lock before anything is read.
    let sql = "DELETE FROM org_invitations WHERE id = $1 AND email = $2 AND expires_at > $3 RETURNING org_id, role";
    let row = sqlx::query(sql).bind(id).bind(email).bind(now).fetch_optional(&mut **tx).await?;
    let row = row.ok_or(ApiError::NotFound)?;
    let org_id: i64 = row.try_get("org_id")?;
    let org = sqlx::query("SELECT slug FROM organizations WHERE id = $1").bind(org_id).fetch_one(&mut **tx).await?;
    Ok(Pending { id, org_id, slug: org.try_get("slug")?, role: row.try_get("role")? })
}

/// `POST /api/orgs/invitations/{id}/accept/`: the caller joins the organization with the invited
/// role (a member already keeps their role) and the invitation is gone. The answer is the
/// organization with the caller's role, as `GET /api/orgs/` lists it.
#[utoipa::path(
    post, path = "/api/orgs/invitations/{id}/accept/", tag = "organizations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The invitation's id.")),
    responses(
        (status = 200, description = "The organization joined, with the caller's role.", body = crate::http::openapi::admin_schemas::Org),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn accept_invitation(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let email = verified(&auth)?;
    let now = state.clock.now();
    let mut tx = state.db.pool.begin().await?;
    let invitation = take(&mut tx, &id, &email, now).await?;
    let sql = "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (org_id, user_id) DO NOTHING";
    let joined = sqlx::query(sql)
        .bind(invitation.org_id)
        .bind(auth.user.id)
        .bind(&invitation.role)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let sql = "SELECT o.name, o.created_at, m.role FROM organizations o JOIN memberships m ON m.org_id = o.id \
               WHERE o.id = $1 AND m.user_id = $2";
    let row = sqlx::query(sql).bind(invitation.org_id).bind(auth.user.id).fetch_one(&state.db.pool).await?;
    let role: String = row.try_get("role")?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    let detail = json!({
        "org": invitation.slug, "invitation": invitation.id, "role": role, "joined": joined.rows_affected() > 0,
    });
    audit::record(&state, AuditEvent::OrgInvitationAccepted, actor, detail).await?;
    Ok(Json(json!({
        "id": invitation.org_id,
        "name": row.try_get::<String, _>("name")?,
        "slug": invitation.slug,
        "role": role,
        "created_at": iso8601(row.try_get("created_at")?),
    })))
}

/// `POST /api/orgs/invitations/{id}/decline/`: the invitation is gone; nothing else changes.
#[utoipa::path(
    post, path = "/api/orgs/invitations/{id}/decline/", tag = "organizations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The invitation's id.")),
    responses(
        (status = 204, description = "The invitation is declined."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn decline_invitation(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let email = verified(&auth)?;
    let mut tx = state.db.pool.begin().await?;
    let invitation = take(&mut tx, &id, &email, state.clock.now()).await?;
    tx.commit().await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    let detail = json!({ "org": invitation.slug, "invitation": invitation.id, "role": invitation.role });
    audit::record(&state, AuditEvent::OrgInvitationDeclined, actor, detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

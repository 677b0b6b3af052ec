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
use axum::Json;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::email_links::in_background;
use crate::http::auth::AuthUser;
use crate::http::authz::{OrgMember, Role};
use crate::http::drf::{Form, JsonBody};
use crate::http::openapi::admin_schemas::NewMemberRequest;
use crate::http::openapi::lifecycle_schemas::Detail;
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::mail::{Email, Kind};
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::invitations::{self, Invitation};
use crate::store::orgs::Org;
use crate::store::users::{normalize_email, User};

/// The answer to every invitation, whoever the address belongs to.
const INVITED: &str = "If the address belongs to an account, an invitation has been sent.";
/// How long an invitation can be accepted.
const LIFETIME: i64 = 7 * 86_400;
const VERIFY_FIRST: &str =
    "Verify your e-mail address first: an invitation is for whoever owns the address it was sent to.";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invitation))
        .routes(routes!(list_invitations))
        .routes(routes!(accept_invitation))
        .routes(routes!(decline_invitation))
}

/// `POST /api/orgs/{slug}/invitations/`: `{"email", "role"}` (org admins only) → always the same
/// 202. A registered, active address gets a link to `{LATCHKEY_PUBLIC_URL}/?invitation=<id>`.
#[utoipa::path(
    post, path = "/api/orgs/{slug}/invitations/", tag = "organizations", security(("bearer" = [])),
    params(("slug" = String, Path, description = "The organization.")),
    request_body = NewMemberRequest,
    responses(
        (status = 202, description = "The same answer for every address.", body = Detail),
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
) -> Result<(StatusCode, Json<Detail>), ApiError> {
    invite(&state, &member, &client, &body).await
}

/// Invites a [`NewMemberRequest`] to `member`'s organization; also the v1 `POST …/members/`. The
/// body is read after the role check: a member who may not invite learns nothing from it.
pub(crate) async fn invite(
    state: &AppState,
    member: &OrgMember,
    client: &Client,
    body: &Value,
) -> Result<(StatusCode, Json<Detail>), ApiError> {
    member.require(Role::Admin)?;
    let NewMemberRequest { email, role } = Form::new(body).read()?;
    crate::store::limits::hit(state, crate::infra::config::Limit::InviteUser, &member.auth.user.id.to_string()).await?;
    // Every member can list the members, so saying that one already is reveals nothing new.
    if invitations::is_member(state, member.org_id, &email).await? {
        return Err(ApiError::field("email", "This user is already a member."));
    }
    let now = state.clock.now();
    let invitation = invitations::NewInvitation {
        org_id: member.org_id,
        email: &email,
        role,
        invited_by: member.auth.user.id,
        expires_at: now + LIFETIME,
    };
    let id = invitations::create(state, &invitation, now).await?;
    let actor = Actor { user_id: Some(member.auth.user.id), client, session_id: member.auth.session_id() };
    let detail = json!({ "org": member.slug, "invitation": id, "email": email, "role": role.as_str() });
    audit::record(state, AuditEvent::OrgInvitationSent, actor, detail).await?;
    let (state, org_id, inviter) = (state.clone(), member.org_id, member.auth.user.email.clone());
    in_background(async move {
        let Some(user) = User::by_email(&state.db, &email).await?.filter(|u| u.is_active) else { return Ok(()) };
        let name = crate::store::orgs::name_of(&state, org_id).await?;
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
    Ok((StatusCode::ACCEPTED, Json(Detail { detail: INVITED.to_owned() })))
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
        (status = 200, description = "The caller's pending invitations.", body = [Invitation]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
    )
)]
async fn list_invitations(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<Invitation>>, ApiError> {
    let email = verified(&auth)?;
    Ok(Json(invitations::pending_for(&state, &email, state.clock.now()).await?))
}

/// `POST /api/orgs/invitations/{id}/accept/`: the caller joins the organization with the invited
/// role (a member already keeps their role) and the invitation is gone. The answer is the
/// organization with the caller's role, as `GET /api/orgs/` lists it.
#[utoipa::path(
    post, path = "/api/orgs/invitations/{id}/accept/", tag = "organizations", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The invitation's id.")),
    responses(
        (status = 200, description = "The organization joined, with the caller's role.", body = Org),
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
) -> Result<Json<Org>, ApiError> {
    let email = verified(&auth)?;
    let now = state.clock.now();
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let (invitation, joined) =
        invitations::accept(&state, id, &email, auth.user.id, now).await?.ok_or(ApiError::NotFound)?;
    let org = crate::store::orgs::with_role(&state, invitation.org_id, auth.user.id).await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    let detail = json!({
        "org": invitation.slug, "invitation": invitation.id, "role": org.role, "joined": joined,
    });
    audit::record(&state, AuditEvent::OrgInvitationAccepted, actor, detail).await?;
    Ok(Json(org))
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
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let invitation = invitations::decline(&state, id, &email, state.clock.now()).await?.ok_or(ApiError::NotFound)?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    let detail = json!({ "org": invitation.slug, "invitation": invitation.id, "role": invitation.role });
    audit::record(&state, AuditEvent::OrgInvitationDeclined, actor, detail).await?;
    Ok(StatusCode::NO_CONTENT)
}

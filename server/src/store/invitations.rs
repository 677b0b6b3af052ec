//! The `org_invitations` table: invitations by address, answered once.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::orgs::Role;

/// An invitation about to be sent.
#[derive(Debug)]
pub(crate) struct NewInvitation<'a> {
    pub org_id: i64,
    pub email: &'a str,
    pub role: Role,
    pub invited_by: i64,
    pub expires_at: i64,
}

/// Whether the account with address `email` is a member of `org_id`.
pub(crate) async fn is_member(state: &AppState, org_id: i64, email: &str) -> Result<bool, ApiError> {
    let sql = "SELECT m.user_id FROM memberships m JOIN users u ON u.id = m.user_id \
               WHERE m.org_id = $1 AND u.email = $2";
    Ok(sqlx::query(sql).bind(org_id).bind(email).fetch_optional(&state.db.pool).await?.is_some())
}

/// Stores `invitation` (an address invited again gets the new role, inviter and expiry), after
/// sweeping the organization's expired ones away; its id.
pub(crate) async fn create(state: &AppState, invitation: &NewInvitation<'_>, now: i64) -> Result<i64, ApiError> {
    sqlx::query("DELETE FROM org_invitations WHERE org_id = $1 AND expires_at <= $2")
        .bind(invitation.org_id)
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    let sql = "INSERT INTO org_invitations (org_id, email, role, invited_by, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, email) DO UPDATE SET role = excluded.role, \
               invited_by = excluded.invited_by, created_at = excluded.created_at, expires_at = excluded.expires_at \
               RETURNING id";
    let row = sqlx::query(sql)
        .bind(invitation.org_id)
        .bind(invitation.email)
        .bind(invitation.role.as_str())
        .bind(invitation.invited_by)
        .bind(now)
        .bind(invitation.expires_at)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(row.try_get("id")?)
}

/// The organization an invitation is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationOrg {
    /// Its slug: the `org` of tokens and paths.
    pub slug: String,
    /// Its name.
    pub name: String,
}

/// A pending invitation to the caller's e-mail address.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    /// Its id, for `accept/` and `decline/` (and the `?invitation=` of the e-mailed link).
    pub id: i64,
    /// The organization.
    pub org: InvitationOrg,
    /// The role the caller gets by accepting: `admin`, `editor`, `author` or `viewer`.
    pub role: String,
    /// The e-mail address of the admin who sent it, or null once their account is gone.
    #[schema(required = true, format = Email)]
    pub invited_by: Option<String>,
    /// When it was sent.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When it can no longer be accepted: 7 days after it was sent.
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Rfc3339,
}

/// The unexpired invitations to `email`, newest first, as `GET /api/orgs/invitations/` shows them.
pub(crate) async fn pending_for(state: &AppState, email: &str, now: i64) -> Result<Vec<Invitation>, ApiError> {
    let sql = "SELECT i.id, i.role, i.created_at, i.expires_at, o.slug, o.name, u.email AS inviter \
               FROM org_invitations i JOIN organizations o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.invited_by \
               WHERE i.email = $1 AND i.expires_at > $2 ORDER BY i.created_at DESC, i.id DESC";
    let rows = sqlx::query(sql).bind(email).bind(now).fetch_all(&state.db.pool).await?;
    let invitations = rows
        .iter()
        .map(|row| {
            Ok(Invitation {
                id: row.try_get("id")?,
                org: InvitationOrg { slug: row.try_get("slug")?, name: row.try_get("name")? },
                role: row.try_get("role")?,
                invited_by: row.try_get("inviter")?,
                created_at: Rfc3339(row.try_get("created_at")?),
                expires_at: Rfc3339(row.try_get("expires_at")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(invitations)
}

/// A pending invitation to the caller.
pub(crate) struct Pending {
    pub id: i64,
    pub org_id: i64,
    pub slug: String,
    pub role: String,
}

/// Takes (deletes) invitation `id` if it is to `email` and unexpired; `None` for an unknown,
/// expired, answered or someone else's invitation alike. Deleting is what makes an answer
/// count once when two arrive together; the caller commits.
async fn take(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    email: &str,
    now: i64,
) -> Result<Option<Pending>, ApiError> {
    // The delete comes first, so that it takes the write lock before anything is read.
    let sql = "DELETE FROM org_invitations WHERE id = $1 AND email = $2 AND expires_at > $3 RETURNING org_id, role";
    let row = sqlx::query(sql).bind(id).bind(email).bind(now).fetch_optional(&mut **tx).await?;
    let Some(row) = row else { return Ok(None) };
    let org_id: i64 = row.try_get("org_id")?;
    let org = sqlx::query("SELECT slug FROM organizations WHERE id = $1").bind(org_id).fetch_one(&mut **tx).await?;
    Ok(Some(Pending { id, org_id, slug: org.try_get("slug")?, role: row.try_get("role")? }))
}

/// Accepts invitation `id` to `email`: `user_id` joins with the invited role (a member already
/// keeps theirs), in one transaction with taking the invitation. The invitation and whether the
/// user joined; `None` as [`take`].
pub(crate) async fn accept(
    state: &AppState,
    id: i64,
    email: &str,
    user_id: i64,
    now: i64,
) -> Result<Option<(Pending, bool)>, ApiError> {
    let mut tx = state.db.pool.begin().await?;
    let Some(invitation) = take(&mut tx, id, email, now).await? else { return Ok(None) };
    let sql = "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
               ON CONFLICT (org_id, user_id) DO NOTHING";
    let joined = sqlx::query(sql)
        .bind(invitation.org_id)
        .bind(user_id)
        .bind(&invitation.role)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some((invitation, joined.rows_affected() > 0)))
}

/// Declines invitation `id` to `email`; `None` as [`take`].
pub(crate) async fn decline(state: &AppState, id: i64, email: &str, now: i64) -> Result<Option<Pending>, ApiError> {
    let mut tx = state.db.pool.begin().await?;
    let invitation = take(&mut tx, id, email, now).await?;
    tx.commit().await?;
    Ok(invitation)
}

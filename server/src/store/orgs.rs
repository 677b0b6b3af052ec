//! The `organizations` and `memberships` tables: roles, membership, and the organization an access
//! token speaks for.

use sqlx::Row;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// A role in an organization; each includes the ones below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Reads.
    Viewer,
    /// Writes their own content.
    Author,
    /// Edits everyone's content.
    Editor,
    /// Manages the members.
    Admin,
}

impl Role {
    /// The role named `name` (`admin`, `editor`, `author`, `viewer`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "admin" => Some(Self::Admin),
            "editor" => Some(Self::Editor),
            "author" => Some(Self::Author),
            "viewer" => Some(Self::Viewer),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Editor => "editor",
            Self::Author => "author",
            Self::Viewer => "viewer",
        }
    }
}

/// The organization `slug`'s id and `user_id`'s role there, if they are a member.
pub async fn membership(state: &AppState, slug: &str, user_id: i64) -> Result<Option<(i64, Role)>, ApiError> {
    let sql = "SELECT o.id, m.role FROM organizations o JOIN memberships m ON m.org_id = o.id \
               WHERE o.slug = $1 AND m.user_id = $2";
    let row = sqlx::query(sql).bind(slug).bind(user_id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    let role = Role::parse(&role).ok_or_else(|| ApiError::Internal(format!("unknown role {role:?}")))?;
    Ok(Some((row.try_get("id")?, role)))
}

/// The organization an access token speaks for, and the caller's role there (`crate::http::tokens`).
#[derive(Debug)]
pub(crate) struct OrgClaims {
    pub id: i64,
    pub slug: String,
    pub role: String,
}

/// The claims of organization `org_id` for `user_id`, if they are still a member (a member removed
/// since the session chose it gets tokens without an organization).
pub(crate) async fn org_claims(
    state: &AppState,
    user_id: i64,
    org_id: Option<i64>,
) -> Result<Option<OrgClaims>, ApiError> {
    let Some(org_id) = org_id else { return Ok(None) };
    let sql = "SELECT o.slug, m.role FROM organizations o JOIN memberships m ON m.org_id = o.id \
               WHERE o.id = $1 AND m.user_id = $2";
    let row = sqlx::query(sql).bind(org_id).bind(user_id).fetch_optional(&state.db.pool).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(OrgClaims { id: org_id, slug: row.try_get("slug")?, role: row.try_get("role")? }))
}

/// The id of organization `slug` if `user_id` is a member; DRF's 403 otherwise (docs/api.md#api-keys).
pub(crate) async fn member_of(state: &AppState, slug: &str, user_id: i64) -> Result<i64, ApiError> {
    match membership(state, slug, user_id).await? {
        Some((org_id, _)) => Ok(org_id),
        None => Err(ApiError::PermissionDenied),
    }
}

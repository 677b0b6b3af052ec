//! The `organizations` and `memberships` tables: roles, membership, and the organization an access
//! token speaks for.

use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// Django's `SlugField`: letters, digits, hyphens and underscores.
pub(crate) fn is_slug(slug: &str) -> bool {
    !slug.is_empty() && slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

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

/// Whether an organization has slug `slug`.
pub(crate) async fn slug_taken(state: &AppState, slug: &str) -> Result<bool, ApiError> {
    let row =
        sqlx::query("SELECT 1 FROM organizations WHERE slug = $1").bind(slug).fetch_optional(&state.db.pool).await?;
    Ok(row.is_some())
}

/// Creates organization `slug` with `creator` as its admin, in one transaction; its id, or `None`
/// when the slug was taken meanwhile.
pub(crate) async fn create(
    state: &AppState,
    slug: &str,
    name: &str,
    creator: i64,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let mut tx = state.db.pool.begin().await?;
    let inserted = sqlx::query("INSERT INTO organizations (slug, name, created_at) VALUES ($1, $2, $3) RETURNING id")
        .bind(slug)
        .bind(name)
        .bind(now)
        .fetch_one(&mut *tx)
        .await;
    let id: i64 = match inserted {
        Ok(row) => row.try_get("id")?,
        Err(e) if crate::store::users::is_unique_violation(&e) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    sqlx::query("INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, 'admin', $3)")
        .bind(id)
        .bind(creator)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(id))
}

/// An organization, with the caller's role in it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Org {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its slug: the `org` of tokens and paths.
    pub slug: String,
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
    /// When it was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// Members need a second factor for tokens that speak for it (docs/api.md#2fa-enforcement).
    pub require_2fa: bool,
}

impl Org {
    /// The organization of a row of `o.id, o.name, o.slug, o.created_at, o.require_2fa, m.role`.
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            slug: row.try_get("slug")?,
            role: row.try_get("role")?,
            created_at: Rfc3339(row.try_get("created_at")?),
            require_2fa: row.try_get::<i64, _>("require_2fa")? != 0,
        })
    }
}

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    /// The user.
    pub user_id: i64,
    /// Their e-mail address.
    pub email: String,
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
    /// When they joined.
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: Rfc3339,
}

/// `user_id`'s organizations with their role, by slug, as `GET /api/orgs/` shows them.
pub(crate) async fn of_user(state: &AppState, user_id: i64) -> Result<Vec<Org>, ApiError> {
    let sql = "SELECT o.id, o.name, o.slug, o.created_at, o.require_2fa, m.role FROM organizations o \
               JOIN memberships m ON m.org_id = o.id WHERE m.user_id = $1 ORDER BY o.slug";
    let rows = sqlx::query(sql).bind(user_id).fetch_all(&state.db.pool).await?;
    Ok(rows.iter().map(Org::from_row).collect::<Result<_, sqlx::Error>>()?)
}

/// The members of organization `org_id`, oldest first, as `GET /api/orgs/{slug}/members/` shows them.
pub(crate) async fn members(state: &AppState, org_id: i64) -> Result<Vec<Member>, ApiError> {
    let sql = "SELECT u.id, u.email, m.role, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id \
               WHERE m.org_id = $1 ORDER BY m.created_at, u.id";
    let rows = sqlx::query(sql).bind(org_id).fetch_all(&state.db.pool).await?;
    let members = rows
        .iter()
        .map(|row| {
            Ok(Member {
                user_id: row.try_get("id")?,
                email: row.try_get("email")?,
                role: row.try_get("role")?,
                joined_at: Rfc3339(row.try_get("created_at")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(members)
}

/// A member's address and when they joined, if `user_id` is a member of `org_id`.
pub(crate) async fn membership_of(
    state: &AppState,
    org_id: i64,
    user_id: i64,
) -> Result<Option<(String, i64)>, ApiError> {
    let sql = "SELECT u.email, m.created_at FROM memberships m JOIN users u ON u.id = m.user_id \
               WHERE m.org_id = $1 AND m.user_id = $2";
    let row = sqlx::query(sql).bind(org_id).bind(user_id).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|row| Ok::<_, sqlx::Error>((row.try_get("email")?, row.try_get("created_at")?))).transpose()?)
}

/// Gives member `user_id` of `org_id` `role`, unless that leaves the organization without an admin
/// (`false` then).
pub(crate) async fn change_role(state: &AppState, org_id: i64, user_id: i64, role: Role) -> Result<bool, ApiError> {
    let sql = format!(
        "UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3 AND ($4 = 'admin' OR {})",
        leaves_an_admin(5)
    );
    let query = sqlx::query(&sql).bind(role.as_str()).bind(org_id).bind(user_id).bind(role.as_str()).bind(org_id);
    apply_keeping_an_admin(state, org_id, query).await
}

/// Removes member `user_id` from `org_id`, unless that leaves it without an admin (`false` then).
pub(crate) async fn remove_member(state: &AppState, org_id: i64, user_id: i64) -> Result<bool, ApiError> {
    let sql = format!("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2 AND {}", leaves_an_admin(3));
    let query = sqlx::query(&sql).bind(org_id).bind(user_id).bind(org_id);
    apply_keeping_an_admin(state, org_id, query).await
}

/// The organizations whose only admin `user_id` is while others are members: deleting the account
/// would leave them without one. Their slugs.
pub(crate) async fn needing_another_admin(state: &AppState, user_id: i64) -> Result<Vec<String>, ApiError> {
    let sql = "SELECT o.slug FROM organizations o JOIN memberships m ON m.org_id = o.id \
               WHERE m.user_id = $1 AND m.role = 'admin' \
               AND (SELECT COUNT(*) FROM memberships a WHERE a.org_id = o.id AND a.role = 'admin') = 1 \
               AND (SELECT COUNT(*) FROM memberships n WHERE n.org_id = o.id) > 1 ORDER BY o.slug";
    let rows = sqlx::query(sql).bind(user_id).fetch_all(&state.db.pool).await?;
    Ok(rows.iter().map(|row| row.try_get("slug")).collect::<Result<_, sqlx::Error>>()?)
}

/// Deletes the organizations `user_id` is the only member of (with their invitations): with the
/// account gone, nobody could ever administer them.
pub(crate) async fn delete_those_only_member_of(state: &AppState, user_id: i64) -> Result<(), ApiError> {
    let sql = "DELETE FROM organizations WHERE id IN (SELECT m.org_id FROM memberships m WHERE m.user_id = $1 \
               AND (SELECT COUNT(*) FROM memberships n WHERE n.org_id = m.org_id) = 1)";
    sqlx::query(sql).bind(user_id).execute(&state.db.pool).await?;
    Ok(())
}

/// Organization `org_id`'s name.
pub(crate) async fn name_of(state: &AppState, org_id: i64) -> Result<String, ApiError> {
    let row =
        sqlx::query("SELECT name FROM organizations WHERE id = $1").bind(org_id).fetch_one(&state.db.pool).await?;
    Ok(row.try_get("name")?)
}

/// Organization `org_id` with `user_id`'s role there (a member), as `GET /api/orgs/` lists it.
pub(crate) async fn with_role(state: &AppState, org_id: i64, user_id: i64) -> Result<Org, ApiError> {
    let sql = "SELECT o.id, o.name, o.slug, o.created_at, o.require_2fa, m.role FROM organizations o \
               JOIN memberships m ON m.org_id = o.id WHERE o.id = $1 AND m.user_id = $2";
    let row = sqlx::query(sql).bind(org_id).bind(user_id).fetch_one(&state.db.pool).await?;
    Ok(Org::from_row(&row)?)
}

/// Organization `org_id`'s slug if it requires its members to use a second factor (`require_2fa`).
pub(crate) async fn requiring_2fa(state: &AppState, org_id: i64) -> Result<Option<String>, ApiError> {
    let sql = "SELECT slug FROM organizations WHERE id = $1 AND require_2fa = 1";
    let row = sqlx::query(sql).bind(org_id).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|row| row.try_get("slug")).transpose()?)
}

/// Sets whether organization `org_id` requires its members to use a second factor; true when that
/// changed it.
pub(crate) async fn set_require_2fa(state: &AppState, org_id: i64, on: bool) -> Result<bool, ApiError> {
    let sql = "UPDATE organizations SET require_2fa = $1 WHERE id = $2 AND require_2fa <> $3";
    let value = crate::infra::db::flag(on);
    let done = sqlx::query(sql).bind(value).bind(org_id).bind(value).execute(&state.db.pool).await?;
    Ok(done.rows_affected() > 0)
}

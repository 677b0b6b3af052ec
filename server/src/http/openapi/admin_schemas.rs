//! The bodies of the API key, organization and admin endpoints.

use utoipa::ToSchema;

use super::schemas::User;

// API keys, organizations, admin (docs/api.md#api-keys).

/// A new API key.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "CI deploys", "expires_at": "2027-01-01T00:00:00Z", "scopes": ["read"]}))]
pub struct NewApiKeyRequest {
    /// What it is for.
    #[schema(max_length = 100)]
    pub name: String,
    /// When it stops working (RFC 3339, in the future); never when absent.
    #[schema(required = false, format = DateTime)]
    pub expires_at: String,
    /// Any of `read` (safe methods), `write` (every method), `admin` (staff endpoints; staff owners only).
    /// Default `["read", "write"]`.
    #[schema(required = false)]
    pub scopes: Vec<String>,
}

/// A new API key: `key` is shown this once.
#[derive(Debug, ToSchema)]
pub struct NewApiKey {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its public part, shown in lists.
    pub prefix: String,
    /// `lk_<prefix>_<secret>`: send as `X-API-Key`.
    pub key: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it was made.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it stops working, or null.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
}

/// An API key, without the key.
#[derive(Debug, ToSchema)]
pub struct ApiKeyInfo {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its public part.
    pub prefix: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it was made.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it stops working, or null.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
    /// When it was last used (to the minute), or null.
    #[schema(required = true, format = DateTime)]
    pub last_used_at: Option<String>,
}

/// A new organization.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Acme", "slug": "acme"}))]
pub struct NewOrgRequest {
    /// Its name.
    #[schema(max_length = 100)]
    pub name: String,
    /// Letters, digits, `-` and `_`; unique.
    #[schema(max_length = 50)]
    pub slug: String,
}

/// An organization, with the caller's role in it.
#[derive(Debug, ToSchema)]
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
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A member of an organization.
#[derive(Debug, ToSchema)]
pub struct Member {
    /// The user.
    pub user_id: i64,
    /// Their e-mail address.
    pub email: String,
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
    /// When they joined.
    #[schema(format = DateTime)]
    pub joined_at: String,
}

/// An e-mail address to invite, registered or not, with the role it gets on accepting.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "bob@example.com", "role": "editor"}))]
pub struct NewMemberRequest {
    /// The invitee's e-mail address (at most 254 characters).
    #[schema(format = Email)]
    pub email: String,
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
}

/// A new role.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"role": "viewer"}))]
pub struct RoleRequest {
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
}

/// A user as staff see it: the user, plus `is_active` and `is_superuser`.
#[derive(Debug, ToSchema)]
pub struct AdminUser {
    /// The user's fields (docs/api.md#accounts-and-registration).
    #[serde(flatten)]
    pub user: User,
    /// Inactive users cannot log in.
    pub is_active: bool,
    /// Superuser.
    pub is_superuser: bool,
}

/// A page of users, in DRF's `PageNumberPagination` shape.
#[derive(Debug, ToSchema)]
pub struct UserPage {
    /// Users matching the search.
    pub count: i64,
    /// The next page, or null.
    #[schema(required = true)]
    pub next: Option<String>,
    /// The previous page, or null.
    #[schema(required = true)]
    pub previous: Option<String>,
    /// This page's users, by id.
    pub results: Vec<AdminUser>,
}

/// The flags staff may change.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"is_active": false}))]
pub struct AdminUserUpdate {
    /// `false` revokes every session too.
    #[schema(required = false)]
    pub is_active: bool,
    /// Staff may use the admin API.
    #[schema(required = false)]
    pub is_staff: bool,
    /// The e-mail address counts as verified.
    #[schema(required = false)]
    pub is_verified: bool,
}

/// Why a user's second factors are being reset, for the audit log.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"reason": "Lost phone; identity checked by video call, ticket 4521"}))]
pub struct ResetReason {
    /// Required.
    pub reason: String,
}

//! The bodies of the API key, organization and admin endpoints.

use utoipa::ToSchema;

use crate::http::authz::read_role;
use crate::http::drf::{max_length_message, CharField, Form, FormBody};
use crate::infra::datetime::Rfc3339;
use crate::store::orgs::Role;
use crate::store::users::{is_valid_email, normalize_email, UserObject, EMAIL_MAX};

// API keys, organizations, admin (docs/api.md#api-keys).

/// A new API key.
// Its `FormBody` is in `crate::http::keys`, with the scopes and the expiry's format (`null` is absent
// there).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "CI deploys", "expires_at": "2027-01-01T00:00:00Z", "scopes": ["read"]}))]
pub struct NewApiKeyRequest {
    /// What it is for.
    #[schema(max_length = 100)]
    pub name: String,
    /// When it stops working (RFC 3339, in the future); never when absent.
    #[schema(value_type = String, required = false, format = DateTime)]
    pub expires_at: Option<i64>,
    /// Any of `read` (safe methods), `write` (every method), `admin` (staff endpoints; staff owners only).
    /// Default `["read", "write"]`.
    #[schema(required = false)]
    pub scopes: Vec<String>,
}

/// A new API key: `key` is shown this once.
#[derive(Debug, serde::Serialize, ToSchema)]
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
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When it stops working, or null.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub expires_at: Option<Rfc3339>,
}

// The key as lists show it is `crate::store::api_keys::ApiKeyInfo`.

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

impl FormBody for NewOrgRequest {
    /// Everything but the slug's uniqueness, which the handler asks the database about.
    fn read(form: &mut Form<'_>) -> Self {
        let name = form.string("name", CharField::REQUIRED);
        let slug = form.string("slug", CharField::REQUIRED);
        if name.as_ref().is_some_and(|n| n.chars().count() > 100) {
            form.error("name", max_length_message(100));
        }
        if slug.as_ref().is_some_and(|s| !crate::store::orgs::is_slug(s) || s.len() > 50) {
            form.error(
                "slug",
                "Enter a valid \"slug\" consisting of letters, numbers, underscores or hyphens (at most 50).",
            );
        }
        Self { name: name.unwrap_or_default(), slug: slug.unwrap_or_default() }
    }
}

/// An organization's settings to change (org admins): only those given change.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"require_2fa": true}))]
pub struct OrgUpdateRequest {
    /// Members need a verified second factor for tokens that speak for the organization
    /// (docs/api.md#2fa-enforcement).
    pub require_2fa: Option<bool>,
}

impl FormBody for OrgUpdateRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { require_2fa: form.boolean("require_2fa") }
    }
}

// The organization and member objects are `crate::store::orgs::{Org, Member}`.

/// An e-mail address to invite, registered or not, with the role it gets on accepting.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "bob@example.com", "role": "editor"}))]
pub struct NewMemberRequest {
    /// The invitee's e-mail address (at most 254 characters).
    #[schema(format = Email)]
    pub email: String,
    /// `admin`, `editor`, `author` or `viewer`.
    #[schema(value_type = String)]
    pub role: Role,
}

impl FormBody for NewMemberRequest {
    /// The address is bounded as given, then normalized, then validated: what is stored is what
    /// was checked.
    fn read(form: &mut Form<'_>) -> Self {
        let email = form.bounded("email", CharField::REQUIRED, EMAIL_MAX).map(|e| normalize_email(&e));
        if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
            form.error("email", "Enter a valid email address.");
        }
        let role = read_role(form);
        Self { email: email.unwrap_or_default(), role: role.unwrap_or(Role::Viewer) }
    }
}

/// A new role.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"role": "viewer"}))]
pub struct RoleRequest {
    /// `admin`, `editor`, `author` or `viewer`.
    #[schema(value_type = String)]
    pub role: Role,
}

impl FormBody for RoleRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { role: read_role(form).unwrap_or(Role::Viewer) }
    }
}

/// A user as staff see it: the user, plus `is_active` and `is_superuser`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AdminUser {
    /// The user's fields (docs/api.md#accounts-and-registration).
    #[serde(flatten)]
    pub user: UserObject,
    /// Inactive users cannot log in.
    pub is_active: bool,
    /// Superuser.
    pub is_superuser: bool,
}

impl From<&crate::store::users::User> for AdminUser {
    fn from(user: &crate::store::users::User) -> Self {
        Self { user: user.object(), is_active: user.is_active, is_superuser: user.is_superuser }
    }
}

/// A page of users, in DRF's `PageNumberPagination` shape.
#[derive(Debug, serde::Serialize, ToSchema)]
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
    #[schema(value_type = bool, required = false)]
    pub is_active: Option<bool>,
    /// Staff may use the admin API.
    #[schema(value_type = bool, required = false)]
    pub is_staff: Option<bool>,
    /// The e-mail address counts as verified.
    #[schema(value_type = bool, required = false)]
    pub is_verified: Option<bool>,
}

impl FormBody for AdminUserUpdate {
    /// `None`: absent (or null), unchanged.
    fn read(form: &mut Form<'_>) -> Self {
        Self {
            is_active: form.boolean("is_active"),
            is_staff: form.boolean("is_staff"),
            is_verified: form.boolean("is_verified"),
        }
    }
}

/// Why a user's second factors are being reset, for the audit log.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"reason": "Lost phone; identity checked by video call, ticket 4521"}))]
pub struct ResetReason {
    /// Required.
    pub reason: String,
}

impl FormBody for ResetReason {
    fn read(form: &mut Form<'_>) -> Self {
        Self { reason: form.string("reason", CharField::REQUIRED).unwrap_or_default() }
    }
}

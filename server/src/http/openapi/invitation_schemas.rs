//! The bodies of the invitation endpoints (`crate::http::invitations`), beside `schemas.rs` so that the
//! shared file does not grow: described here, built by the handlers with `json!`.

use utoipa::ToSchema;

/// The organization an invitation is for.
#[derive(Debug, ToSchema)]
pub struct InvitationOrg {
    /// Its slug: the `org` of tokens and paths.
    pub slug: String,
    /// Its name.
    pub name: String,
}

/// A pending invitation to the caller's e-mail address.
#[derive(Debug, ToSchema)]
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
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it can no longer be accepted: 7 days after it was sent.
    #[schema(format = DateTime)]
    pub expires_at: String,
}

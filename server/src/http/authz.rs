//! Authorization on top of [`AuthUser`]: extractors an application embedding the server's router
//! puts in its handlers' arguments, as Latchkey's own handlers do. Each one authenticates first
//! (401 without credentials) and then answers DRF's 403 when the caller may not proceed.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use latchkey_server::authz::{Editor, RequireMfa, RequireRole, RequireStaff};
//! use latchkey_server::AppState;
//!
//! // Anyone with the editor role (or admin) in the organization their access token is for.
//! async fn publish(RequireRole(auth, ..): RequireRole<Editor>) -> String {
//!     format!("published by {} in {}", auth.user.email, auth.org().map_or("", |(org, _)| org))
//! }
//! async fn payouts(RequireMfa(auth): RequireMfa) -> String {
//!     format!("{} verified a second factor", auth.user.email)
//! }
//! async fn dashboard(RequireStaff(_): RequireStaff) -> &'static str {
//!     "staff only"
//! }
//!
//! # fn build(state: AppState) -> Router {
//! let routes = Router::new()
//!     .route("/articles/publish", get(publish))
//!     .route("/payouts", get(payouts))
//!     .route("/dashboard", get(dashboard))
//!     .with_state(state.clone());
//! latchkey_server::app(state).merge(routes)
//! # }
//! ```

use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;

use crate::http::auth::AuthUser;
use crate::http::drf::{CharField, Form};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
pub use crate::store::orgs::{membership, Role};

/// A minimum role, as a type: `RequireRole<Editor>`.
pub trait MinRole {
    /// The least role that passes.
    const ROLE: Role;
}

/// Marker: at least `admin`.
#[derive(Debug)]
pub struct Admin;
/// Marker: at least `editor`.
#[derive(Debug)]
pub struct Editor;
/// Marker: at least `author`.
#[derive(Debug)]
pub struct Author;
/// Marker: at least `viewer` (any member).
#[derive(Debug)]
pub struct Viewer;

impl MinRole for Admin {
    const ROLE: Role = Role::Admin;
}
impl MinRole for Editor {
    const ROLE: Role = Role::Editor;
}
impl MinRole for Author {
    const ROLE: Role = Role::Author;
}
impl MinRole for Viewer {
    const ROLE: Role = Role::Viewer;
}

/// The caller is staff (`is_staff`).
#[derive(Debug, Clone)]
pub struct RequireStaff(pub AuthUser);

/// The caller's e-mail address is verified.
#[derive(Debug, Clone)]
pub struct RequireVerified(pub AuthUser);

/// The caller's session verified a second factor (the access token's `mfa`); API keys never have.
#[derive(Debug, Clone)]
pub struct RequireMfa(pub AuthUser);

/// The caller's access token is for an organization (`org`) in which they have at least role `R`.
/// The token's `roles` claim is checked: re-issued at each refresh, it lags a role change by at most
/// one access-token lifetime. For checks against the database, use [`OrgMember`].
#[derive(Debug, Clone)]
pub struct RequireRole<R: MinRole>(pub AuthUser, pub PhantomData<R>);

fn check(pass: bool, auth: AuthUser) -> Result<AuthUser, ApiError> {
    if pass {
        Ok(auth)
    } else {
        Err(ApiError::PermissionDenied)
    }
}

impl FromRequestParts<AppState> for RequireStaff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        check(auth.user.is_staff, auth).map(Self)
    }
}

impl FromRequestParts<AppState> for RequireVerified {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        check(auth.user.is_verified, auth).map(Self)
    }
}

impl FromRequestParts<AppState> for RequireMfa {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        check(auth.mfa(), auth).map(Self)
    }
}

impl<R: MinRole + Send + Sync> FromRequestParts<AppState> for RequireRole<R> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        let role = auth.org().and_then(|(_, role)| Role::parse(role));
        check(role.is_some_and(|role| role >= R::ROLE), auth).map(|auth| Self(auth, PhantomData))
    }
}

/// The caller's membership in the organization named by the path's `{slug}`, read from the
/// database. A non-member, or an unknown organization, is DRF's 404: nothing says it exists.
#[derive(Debug, Clone)]
pub struct OrgMember {
    /// The caller.
    pub auth: AuthUser,
    /// The organization's id.
    pub org_id: i64,
    /// Its slug.
    pub slug: String,
    /// The caller's role there.
    pub role: Role,
}

impl OrgMember {
    /// 403 unless the caller's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role >= role {
            Ok(())
        } else {
            Err(ApiError::PermissionDenied)
        }
    }
}

impl FromRequestParts<AppState> for OrgMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        let Path(params) =
            Path::<HashMap<String, String>>::from_request_parts(parts, state).await.map_err(|_| ApiError::NotFound)?;
        let slug = params.get("slug").ok_or(ApiError::NotFound)?;
        let (org_id, role) = membership(state, slug, auth.user.id).await?.ok_or(ApiError::NotFound)?;
        Ok(Self { auth, org_id, slug: slug.clone(), role })
    }
}

/// Object ownership: `Ok` when the object exists (`owner` is its owner's id) and belongs to the
/// caller; DRF's 404 otherwise, for missing and foreign objects alike, so ids of other users'
/// objects reveal nothing.
///
/// ```
/// # use latchkey_server::authz::owned;
/// # fn demo(auth: &latchkey_server::auth::AuthUser, owner_from_db: Option<i64>) -> Result<(), latchkey_server::ApiError> {
/// owned(auth, owner_from_db)?; // 404 unless the row exists and is the caller's
/// # Ok(()) }
/// ```
pub fn owned(auth: &AuthUser, owner: Option<i64>) -> Result<(), ApiError> {
    if owner == Some(auth.user.id) {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// The `role` field of a request, one of the four roles.
pub(crate) const BAD_ROLE: &str = "Choose one of: admin, editor, author, viewer.";

pub(crate) fn read_role(form: &mut Form<'_>) -> Option<Role> {
    let role = form.string("role", CharField::REQUIRED)?;
    let parsed = Role::parse(&role);
    if parsed.is_none() {
        form.error("role", BAD_ROLE);
    }
    parsed
}

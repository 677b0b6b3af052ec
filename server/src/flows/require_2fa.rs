//! 2FA enforcement (docs/api.md#2fa-enforcement), the decisions: who must set up a second factor
//! before doing anything else (`LATCHKEY_REQUIRE_2FA`), and what an organization that requires one
//! (`require_2fa`) asks of a login or a refresh that names it. The request guard that turns the first
//! rule away at the door is `crate::http::enrollment`.

use serde_json::json;

use crate::infra::client::Client;
use crate::infra::config::Config;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{Actor, AuditEvent};
use crate::store::challenges::{self, NewChallenge, Purpose};
use crate::store::sessions::AuthMethod;
use crate::store::users::User;

/// The `detail` of `403 mfa_enrollment_required`.
pub const ENROLLMENT_REQUIRED: &str = "Set up two-factor authentication to continue.";
/// The `detail` of `403 mfa_required_by_org`.
pub const REQUIRED_BY_ORG: &str =
    "This organization requires two-factor authentication. Set it up, then sign in to the organization.";

/// Whether `user` must set up a second factor before anything else: `LATCHKEY_REQUIRE_2FA` applies
/// to them and they have none (no confirmed authenticator, no passkey). Read from the user as the
/// database has it now, so a user who has just enrolled is never held back by an older token.
pub fn enrollment_required(config: &Config, user: &User) -> bool {
    !user.mfa_enabled && config.require_2fa.applies_to(user.is_staff)
}

/// `403 {"detail": ENROLLMENT_REQUIRED, "code": "mfa_enrollment_required"}`.
pub fn enrollment_refused() -> ApiError {
    ApiError::Denied { detail: ENROLLMENT_REQUIRED, code: "mfa_enrollment_required" }
}

/// `403 {"detail": REQUIRED_BY_ORG, "code": "mfa_required_by_org"}`.
pub fn refused_by_org() -> ApiError {
    ApiError::Denied { detail: REQUIRED_BY_ORG, code: "mfa_required_by_org" }
}

/// What an organization that requires 2FA says of a member's session.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OrgVerdict {
    /// The organization does not require 2FA, or the session verified a second factor.
    Allowed,
    /// The member has no second factor.
    NotEnrolled,
    /// The member has one, and the session has not verified it: the organization's slug.
    SecondFactorMissing(String),
}

/// What organization `org_id` (of which `user` is a member) says of a session of theirs that
/// verified a second factor (`mfa`) or not.
pub(crate) async fn org_verdict(state: &AppState, user: &User, org_id: i64, mfa: bool) -> Result<OrgVerdict, ApiError> {
    let Some(slug) = crate::store::orgs::requiring_2fa(state, org_id).await? else { return Ok(OrgVerdict::Allowed) };
    Ok(if !user.mfa_enabled {
        OrgVerdict::NotEnrolled
    } else if !mfa {
        OrgVerdict::SecondFactorMissing(slug)
    } else {
        OrgVerdict::Allowed
    })
}

/// A login or refresh that names an organization, as the organization's rule sees it.
#[derive(Debug)]
pub(crate) struct OrgRequest<'a> {
    /// The organization (the user is a member).
    pub org_id: i64,
    /// The session verified a second factor (or the login just did).
    pub mfa: bool,
    /// Cookie mode, carried over to a second step.
    pub cookie: bool,
    /// What proved the user, carried over to a second step.
    pub method: &'a AuthMethod,
}

/// The organization's rule at a login or a refresh that names it: a member without a second factor
/// is refused with `403 mfa_required_by_org` (audited as a failed login with that reason); a member
/// with one whose session has not verified it gets `403 mfa_required` and an `mfa_token`, whose
/// second step (`POST /api/token/mfa/`) opens a session for the organization.
pub(crate) async fn require_for_org(
    state: &AppState,
    user: &User,
    client: &Client,
    request: OrgRequest<'_>,
) -> Result<(), ApiError> {
    match org_verdict(state, user, request.org_id, request.mfa).await? {
        OrgVerdict::Allowed => Ok(()),
        OrgVerdict::NotEnrolled => {
            // Recorded as the login flow records a refused login (`login_failed`, whose module imports this one).
            state.metrics.login("mfa_required_by_org");
            let actor = Actor { user_id: Some(user.id), client, session_id: None };
            let detail = json!({ "reason": "mfa_required_by_org", "login": user.email });
            crate::store::audit::record(state, AuditEvent::LoginFailed, actor, detail).await?;
            Err(refused_by_org())
        }
        OrgVerdict::SecondFactorMissing(slug) => {
            Err(second_step(state, user.id, (request.cookie, Some(&slug)), request.method).await?)
        }
    }
}

/// The `403 mfa_required` answer for `user_id`, whose first factor was right: a new challenge.
/// `cookie` (cookie mode) and `org` (the organization's slug) carry over to the second step.
pub(crate) async fn second_step(
    state: &AppState,
    user_id: i64,
    (cookie, org): (bool, Option<&str>),
    method: &AuthMethod,
) -> Result<ApiError, ApiError> {
    let new = NewChallenge { user_id, cookie, mfa: false, org, method };
    let token = challenges::create(state, Purpose::Mfa, new).await?;
    let methods = crate::store::mfa_factors::methods(state, user_id).await?;
    state.metrics.login("mfa_required");
    Ok(ApiError::MfaRequired { mfa_token: token, methods })
}

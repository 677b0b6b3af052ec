//! The end of a login, whatever proved the user: lockout reservations taken before the password is
//! checked and settled after, an expired password's detour, the new-device notice, the session and
//! its audit event.

use serde_json::json;

use crate::flows::tokens::{issue_session, TokenPair};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::AuditEvent;
use crate::store::limits::{Lock, Reservation};
use crate::store::orgs::org_claims;
use crate::store::sessions::AuthMethod;
use crate::store::users::User;

/// DRF's `AuthenticationFailed` from `TokenObtainPairSerializer`: one body for every failure.
pub(crate) const NO_ACTIVE_ACCOUNT: &str = "No active account found with the given credentials";

/// Reserves one attempt under each lock, in order; on the first refusal gives back what it took
/// and answers 429, audited as `locked_out` at most once a minute per lockout.
pub(crate) async fn reserve_all(
    state: &AppState,
    locks: &[Lock],
    client: &Client,
    name: &str,
) -> Result<Vec<Reservation>, ApiError> {
    let mut reservations = Vec::with_capacity(locks.len());
    for lock in locks {
        match lock.reserve(state).await {
            Ok(reservation) => reservations.push(reservation),
            Err(refusal) => {
                for reservation in reservations {
                    reservation.release().await?;
                }
                // Counted every time, audited at most once a minute per lockout.
                if lock.note_refusal(state).await? {
                    login_failed(state, None, client, name, "locked_out").await?;
                } else {
                    state.metrics.login("locked_out");
                }
                return Err(refusal);
            }
        }
    }
    Ok(reservations)
}

/// After the right password: the account's count starts again, and the network's attempt is given
/// back (an address is locked out for its failures only).
pub(crate) async fn settle_success(reservations: Vec<Reservation>) -> Result<(), ApiError> {
    let mut reservations = reservations.into_iter();
    // `reserve_all` took the network's (when there is one) first, the account's last.
    let account = reservations.next_back();
    for network in reservations {
        network.release().await?;
    }
    if let Some(account) = account {
        account.succeeded().await?;
    }
    Ok(())
}

/// How a login proved the user, and what it asked for.
#[derive(Debug)]
pub(crate) struct LoginContext {
    /// What proved the user: the session's `auth_method`.
    pub method: AuthMethod,
    /// A second factor was verified (a user-verified passkey counts): the access tokens' `mfa`.
    pub mfa: bool,
    /// The refresh token goes in the cookie.
    pub cookie: bool,
    /// The organization the access tokens speak for.
    pub org_id: Option<i64>,
}

/// The end of every login, once the user is proved: an organization that requires 2FA refuses a
/// member without a verified second factor (`crate::flows::require_2fa`); a password login with an expired password
/// gets `403 password_expired` and a token to change it with; otherwise a new session, a notice
/// e-mail for a device not seen before (`LATCHKEY_NOTIFY_NEW_LOGIN`), and its tokens.
pub(crate) async fn finish_login(
    state: &AppState,
    user: &User,
    client: &Client,
    login: LoginContext,
) -> Result<TokenPair, ApiError> {
    let LoginContext { method, mfa, cookie, org_id } = login;
    // An organization that requires 2FA, before anything else the login would do.
    if let Some(org_id) = org_id {
        let request = crate::flows::require_2fa::OrgRequest { org_id, mfa, cookie, method: &method };
        crate::flows::require_2fa::require_for_org(state, user, client, request).await?;
    }
    if method == AuthMethod::Password && crate::flows::passwords::password_expired(state, user) {
        let purpose = crate::store::challenges::Purpose::PasswordChange;
        let slug = org_claims(state, user.id, org_id).await?.map(|org| org.slug);
        let new = crate::store::challenges::NewChallenge {
            user_id: user.id,
            cookie,
            mfa,
            org: slug.as_deref(),
            method: &method,
        };
        let token = crate::store::challenges::create(state, purpose, new).await?;
        state.metrics.login("password_expired");
        return Err(ApiError::PasswordExpired { password_change_token: token });
    }
    if state.config.notify_new_login {
        crate::flows::passwords::notify_if_new_device(state, user, client).await?;
    }
    let detail = json!({ "mfa": mfa, "method": method.as_str() });
    let pair = issue_session(state, user, &client.ip, &client.user_agent, mfa, method, org_id).await?;
    let actor = crate::store::audit::Actor { user_id: Some(user.id), client, session_id: Some(&pair.session_id) };
    crate::store::audit::record(state, AuditEvent::LoginSucceeded, actor, detail).await?;
    state.metrics.login("success");
    Ok(pair)
}

/// The e-mail verification rule (`LATCHKEY_EMAIL_VERIFICATION=mandatory`): an account whose address
/// is not verified is refused with `401 email_not_verified`, audited under the name `login`.
pub(crate) async fn require_verified_email(
    state: &AppState,
    user: &User,
    client: &Client,
    login: &str,
) -> Result<(), ApiError> {
    if !state.config.verification_mandatory() || user.is_verified {
        return Ok(());
    }
    login_failed(state, Some(user.id), client, login, "email_not_verified").await?;
    Err(ApiError::Token { detail: "E-mail address is not verified.".into(), code: "email_not_verified", extra: None })
}

/// Audits and counts a refused login: `reason` is `bad_credentials`, `inactive`, `locked_out`,
/// `email_not_verified`, `passkey_invalid` or `code_invalid` (the `result` of `latchkey_logins_total`: a reason
/// not in `crate::infra::metrics::LOGIN_RESULTS` is counted as `other`); `login` is the name given
/// (never the password), which the audit log cuts to its length for people.
pub(crate) async fn login_failed(
    state: &AppState,
    user_id: Option<i64>,
    client: &Client,
    login: &str,
    reason: &str,
) -> Result<(), ApiError> {
    state.metrics.login(reason);
    let actor = crate::store::audit::Actor { user_id, client, session_id: None };
    crate::store::audit::record(state, AuditEvent::LoginFailed, actor, json!({ "reason": reason, "login": login }))
        .await
}

//! The end of a social sign-in: a `login_code` spent for the account it names, a `link_token`
//! spent with the existing account's password, and unlinking. The session itself is opened by the
//! caller, as after any proof of the user (`crate::flows::login`), so that 2FA, verification and
//! organizations apply as they do to passwords.

use serde_json::json;

use super::{identity, same_binding};
use crate::flows::login::{login_failed, reserve_all, settle_success, NO_ACTIVE_ACCOUNT};
use crate::flows::sign_in_methods::{ensure_another, Removing};
use crate::infra::client::Client;
use crate::infra::config::Limit;
use crate::infra::error::ApiError;
use crate::infra::passwords::Claimant;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::limits::Lock;
use crate::store::social_accounts::SocialAccount;
use crate::store::social_flows::{self, Kind};
use crate::store::users::{self, User};

/// An account proved by a provider: who, and through which provider (the session's
/// `auth_method` is `social:<provider>`).
#[derive(Debug)]
pub(crate) struct Proved {
    pub user: User,
    pub provider: String,
}

fn code_invalid() -> ApiError {
    ApiError::Token {
        detail: "The sign-in code is invalid or has expired.".into(),
        code: "login_code_invalid",
        extra: None,
    }
}

fn link_invalid() -> ApiError {
    ApiError::Token {
        detail: "The link request is invalid or has expired. Sign in with the provider again.".into(),
        code: "link_token_invalid",
        extra: None,
    }
}

/// Spends `login_code` (given with the flow's `binding`, when it had one): the account it proves.
pub(crate) async fn spend_login_code(
    state: &AppState,
    login_code: &str,
    binding: Option<&str>,
) -> Result<Proved, ApiError> {
    let flow = social_flows::spend(state, Kind::LoginCode, login_code).await?;
    let flow = flow.filter(|f| same_binding(f.binding_hash.as_deref(), binding)).ok_or_else(code_invalid)?;
    let user = match flow.user_id {
        Some(id) => User::by_id(&state.db, id).await?.filter(|u| u.is_active),
        None => None,
    };
    let user = user.ok_or(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT))?;
    Ok(Proved { user, provider: flow.provider })
}

/// `link_token` with the password of the account whose address the provider gave: the identity is
/// linked and the account proved. A wrong password leaves the token usable (within the password
/// login's lockouts, which it shares); the token is spent only by the right one.
pub(crate) async fn confirm_link(
    state: &AppState,
    client: &Client,
    (link_token, password): (&str, String),
    binding: Option<&str>,
) -> Result<Proved, ApiError> {
    crate::store::limits::hit(state, Limit::LoginIp, &client.network).await?;
    let flow = social_flows::find(state, Kind::Link, link_token).await?;
    let flow = flow.filter(|f| same_binding(f.binding_hash.as_deref(), binding)).ok_or_else(link_invalid)?;
    let user = match flow.user_id {
        Some(id) => User::by_id(&state.db, id).await?,
        None => None,
    };
    let Some(user) = user else { return Err(link_invalid()) };
    let locks: Vec<Lock> =
        Lock::ip(state, &client.network).into_iter().chain([Lock::account(state, &user.email)]).collect();
    let reservations = reserve_all(state, &locks, client, &user.email).await?;
    let claimant = Claimant::new(user.email.clone(), client);
    let verified = match state.hasher.verify(password, Some(user.password.clone()), &claimant).await {
        Ok(verified) => verified,
        Err(busy) => {
            for reservation in reservations {
                reservation.release().await?;
            }
            return Err(busy);
        }
    };
    if !verified.ok || !user.is_active {
        for reservation in reservations {
            reservation.failed().await?;
        }
        let reason = if verified.ok { "inactive" } else { "bad_credentials" };
        login_failed(state, Some(user.id), client, &user.email, reason).await?;
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT));
    }
    settle_success(reservations).await?;
    // Of two confirmations racing with one token, one links.
    let Some(flow) = social_flows::spend(state, Kind::Link, link_token).await? else { return Err(link_invalid()) };
    let (Some(subject), Some(email)) = (flow.subject.as_deref(), flow.email.as_deref()) else {
        return Err(link_invalid());
    };
    let Some(account) = SocialAccount::insert(state, user.id, (&flow.provider, subject), Some(email)).await? else {
        return Err(ApiError::Conflict {
            detail: "This provider account is linked already, or this account has one of this provider.",
            code: "account_in_use",
        });
    };
    // The provider verified the address, and the password proved the account has it.
    users::mark_verified(&state.db, user.id, email).await?;
    let actor = Actor { user_id: Some(user.id), client, session_id: None };
    identity::linked(state, actor, &account, "password").await?;
    let user = User::by_id(&state.db, user.id).await?.ok_or(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT))?;
    Ok(Proved { user, provider: flow.provider })
}

/// Unlinks identity `id` of `user`, unless it is the account's last way to sign in
/// (`409 last_sign_in_method`); `404` when `user` has no such identity.
pub(crate) async fn unlink(state: &AppState, actor: Actor<'_>, user: &User, id: i64) -> Result<(), ApiError> {
    let accounts = SocialAccount::list(state, user.id).await?;
    let account = accounts.into_iter().find(|a| a.id == id).ok_or(ApiError::NotFound)?;
    ensure_another(state, user, Removing::Social(id)).await?;
    if !SocialAccount::delete(state, user.id, id).await? {
        return Err(ApiError::NotFound);
    }
    let detail = json!({ "social_account_id": account.id, "provider": account.provider });
    audit::record(state, AuditEvent::SocialAccountUnlinked, actor, detail).await
}

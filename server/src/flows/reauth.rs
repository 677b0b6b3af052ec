//! Re-authentication: a signed-in user proving again that they hold the account (their password, or
//! a second-factor code) before changing the password, deleting the account or changing 2FA.
//!
//! A stolen access token must not become a password oracle, so every such check is throttled per
//! user exactly as login is per account (`crate::store::limits::Lock::reauth`): an attempt is reserved
//! before the check runs, and after `LATCHKEY_REAUTH_ATTEMPTS` failures within
//! `LATCHKEY_LOCKOUT_WINDOW` the endpoints answer 429 without checking anything. Each failure is
//! audited as `reauth_failed` with the action it was for and how the user tried.

use std::future::Future;

use serde_json::json;

use crate::infra::error::ApiError;
use crate::infra::passwords::Claimant;
use crate::infra::state::AppState;
use crate::store::audit::{Actor, AuditEvent};
use crate::store::limits::Lock;
use crate::store::users::User;

/// The answer to a wrong `password` on the endpoints that ask for it again.
pub(crate) const WRONG_PASSWORD: &str = "Incorrect password.";

/// What a re-authentication is for (the audit event's `purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    ChangePassword,
    DeleteAccount,
    RemoveDevice,
    NewBackupCodes,
    Reauthenticate,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::ChangePassword => "password_change",
            Self::DeleteAccount => "account_delete",
            Self::RemoveDevice => "totp_device_remove",
            Self::NewBackupCodes => "backup_codes_generate",
            Self::Reauthenticate => "reauthenticate",
        }
    }
}

/// How the user proved it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Password,
    Code,
    Passkey,
}

impl Method {
    /// The name audit rows give it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Code => "code",
            Self::Passkey => "passkey",
        }
    }
}

/// Runs `check` (which answers whether the proof is right) under `user_id`'s re-authentication
/// lockout: reserved before, counted and audited as `reauth_failed` when wrong, cleared when right,
/// given back when the check itself failed (the hashing gate was full, a back-off refused).
///
/// # Errors
/// 429 once the attempts are used up (nothing is checked then), and whatever `check` fails with.
pub(crate) async fn guard<F>(
    state: &AppState,
    actor: Actor<'_>,
    user_id: i64,
    action: Action,
    method: Method,
    check: F,
) -> Result<bool, ApiError>
where
    F: Future<Output = Result<bool, ApiError>>,
{
    let reservation = Lock::reauth(state, user_id).reserve(state).await?;
    match check.await {
        Ok(true) => {
            reservation.succeeded().await?;
            Ok(true)
        }
        Ok(false) => {
            reservation.failed().await?;
            let detail = json!({ "purpose": action.as_str(), "method": method.as_str() });
            crate::store::audit::record(state, AuditEvent::ReauthFailed, actor, detail).await?;
            Ok(false)
        }
        Err(error) => {
            reservation.release().await?;
            Err(error)
        }
    }
}

/// A passkey's re-authentication (`check`, the assertion) under the same lockout as the others:
/// whether the authenticator also verified the user (a second factor). A refused assertion is
/// `400 passkey_invalid`, counted and audited as `reauth_failed`.
pub(crate) async fn passkey<F>(state: &AppState, actor: Actor<'_>, check: F) -> Result<bool, ApiError>
where
    F: Future<Output = Result<crate::flows::passkeys::assertion::Asserted, ApiError>>,
{
    let user_id = actor.user_id.ok_or_else(|| ApiError::Internal("a re-authentication without a user".into()))?;
    let mut refusal = None;
    let mut verified = false;
    let outcome = async {
        match check.await {
            Ok(asserted) => {
                verified = asserted.user_verified;
                Ok(true)
            }
            Err(error @ ApiError::PasskeyInvalid(_)) => {
                refusal = Some(error);
                Ok(false)
            }
            Err(error) => Err(error),
        }
    };
    let accepted = guard(state, actor, user_id, Action::Reauthenticate, Method::Passkey, outcome).await?;
    match refusal {
        Some(error) if !accepted => Err(error),
        _ => Ok(verified),
    }
}

/// Whether `password` is `user`'s, checked under the re-authentication lockout. An over-long
/// password cannot be the right one: it fails without being hashed (and counts).
pub(crate) async fn password(
    state: &AppState,
    user: &User,
    actor: Actor<'_>,
    action: Action,
    password: &str,
) -> Result<bool, ApiError> {
    let check = async {
        if password.len() > state.policy.max_length_bytes {
            return Ok(false);
        }
        let claimant = Claimant::new(user.email.clone(), actor.client);
        let verified = state.hasher.verify(password.to_owned(), Some(user.password.clone()), &claimant).await?;
        Ok(verified.ok)
    };
    guard(state, actor, user.id, action, Method::Password, check).await
}

/// Checks `given`, the `password` of a request, for `user`, for actions that ask for it again
/// (deleting the account, removing a second factor): `{"password": ["Incorrect password."]}` unless
/// it matches. `""` stands for a request without a password (or with one that is not a non-empty
/// string).
pub(crate) async fn confirm_given_password(
    state: &AppState,
    user: &User,
    actor: Actor<'_>,
    action: Action,
    given: &str,
) -> Result<(), ApiError> {
    // A request without a password is a mistake, not a guess: it is refused without counting.
    if given.is_empty() {
        return Err(ApiError::field("password", WRONG_PASSWORD));
    }
    if password(state, user, actor, action, given).await? {
        Ok(())
    } else {
        Err(ApiError::field("password", WRONG_PASSWORD))
    }
}

/// Whether session `sid` proved the user within `LATCHKEY_REAUTH_WINDOW`: by its login, or by
/// `POST /api/auth/reauthenticate/` since. A request without a session (an API key) never has.
pub(crate) async fn is_recent(state: &AppState, sid: Option<&str>) -> Result<bool, ApiError> {
    let Some(sid) = sid else { return Ok(false) };
    let Some(proved) = crate::store::sessions::proved_at(state, sid).await? else { return Ok(false) };
    Ok(proved >= state.clock.now() - crate::infra::clock::seconds(state.config.reauth_window))
}

/// Refuses a sensitive action from a session that has not proved the user recently: 403
/// `reauthentication_required`, which a front-end answers by asking for the password (or a code)
/// and calling `POST /api/auth/reauthenticate/`.
pub(crate) async fn require_recent(state: &AppState, sid: Option<&str>) -> Result<(), ApiError> {
    if is_recent(state, sid).await? {
        Ok(())
    } else {
        Err(ApiError::ReauthenticationRequired)
    }
}

/// Opens the window again for session `sid`: the user just proved it is them.
pub(crate) async fn mark_recent(state: &AppState, sid: &str) -> Result<(), ApiError> {
    crate::store::sessions::mark_reauthenticated(state, sid, state.clock.now()).await
}

//! The ways an account can sign in, and the one rule about them: removing a passkey or unlinking
//! a provider identity never leaves the account without a way in (`409 last_sign_in_method`).
//!
//! A way in is a usable password, a passkey (when this server has passkeys on), or an identity of a
//! provider this server is configured with (an identity of a provider since removed from the
//! configuration cannot sign in).

use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::passkeys::Passkey;
use crate::store::social_accounts::SocialAccount;
use crate::store::users::User;

/// What is about to go.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Removing {
    /// One of the account's passkeys.
    Passkey,
    /// The linked identity with this id.
    Social(i64),
}

/// `Ok` when `user` keeps a way to sign in after `removing`, else `409 last_sign_in_method`.
pub(crate) async fn ensure_another(state: &AppState, user: &User, removing: Removing) -> Result<(), ApiError> {
    if user.has_usable_password() {
        return Ok(());
    }
    let passkeys = if state.webauthn.is_some() { Passkey::count(state, user.id).await? } else { 0 };
    let passkeys_left = match removing {
        Removing::Passkey => passkeys - 1,
        Removing::Social(_) => passkeys,
    };
    let identities_left = SocialAccount::list(state, user.id)
        .await?
        .iter()
        .filter(|a| !matches!(removing, Removing::Social(id) if id == a.id))
        .filter(|a| state.social.get(&a.provider).is_some())
        .count();
    if passkeys_left > 0 || identities_left > 0 {
        return Ok(());
    }
    let detail = match removing {
        Removing::Passkey => "This passkey is your only way to sign in. Add another one, or set a password, first.",
        Removing::Social(_) => {
            "This account is your only way to sign in. Add a passkey, link another account, or set a password, first."
        }
    };
    Err(ApiError::Conflict { detail, code: "last_sign_in_method" })
}

//! Passkeys (docs/api.md#passkeys): a signed-in user registers, renames and removes them; the
//! assertions that sign in, confirm a login's second factor or re-authenticate are in [`assertion`].
//!
//! - Every ceremony is stored server-side (`crate::store::passkey_ceremonies`), single use, 5 minutes,
//!   and bound to what asked for it: a registration to the user and session that asked, a second
//!   factor to its `mfa_token`.
//! - A passkey counts as a second factor: the first one turns 2FA on and marks the session that
//!   added it as verified, as the first confirmed authenticator does; removing the last factor turns
//!   2FA off.
//! - Every refusal of the verifier is `400 passkey_invalid`, with a detail that says which check failed.

pub(crate) mod assertion;

use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use webauthn_rs_core::proto::{RegisterPublicKeyCredential, RegistrationState};

use crate::infra::error::ApiError;
use crate::infra::mail::Kind;
use crate::infra::state::AppState;
use crate::infra::webauthn::{RelyingParty, WebauthnError};
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::mfa_factors;
use crate::store::passkey_ceremonies::{self as ceremonies, NewCeremony, Purpose};
use crate::store::passkeys::{self, Passkey, MAX_PER_USER};
use crate::store::users::User;

/// A passkey's name when the user gives none.
pub(crate) const DEFAULT_NAME: &str = "Passkey";

/// The answer for a ceremony that is unknown, spent, expired, or someone else's.
pub(crate) const CEREMONY_GONE: &str = "The passkey ceremony has expired or was already used. Start again.";

/// The server's relying party, or `404 passkeys_unavailable`.
pub(crate) fn relying_party(state: &AppState) -> Result<&RelyingParty, ApiError> {
    state.webauthn.as_deref().ok_or(ApiError::PasskeysUnavailable)
}

/// `400 passkey_invalid` for a refusal of the verifier, saying which check failed.
pub(crate) fn invalid(error: &WebauthnError) -> ApiError {
    let detail = match error {
        WebauthnError::MismatchedChallenge => "The passkey answered another challenge.",
        WebauthnError::InvalidRPOrigin => "The passkey was used from an origin this server does not accept.",
        WebauthnError::InvalidRPIDHash => "The passkey belongs to another relying party.",
        WebauthnError::AuthenticationFailure => "The passkey's signature is not valid.",
        WebauthnError::CredentialNotFound => "This passkey is not registered.",
        WebauthnError::UserNotPresent | WebauthnError::UserNotVerified => "The authenticator did not confirm the user.",
        WebauthnError::CredentialPossibleCompromise => "This passkey's signature counter went backwards.",
        WebauthnError::InvalidClientDataType => "The passkey answered another kind of ceremony.",
        _ => "The passkey credential is malformed or not acceptable.",
    };
    ApiError::PasskeyInvalid(detail.into())
}

/// The `credential` of a request (what `PublicKeyCredential.toJSON()` gives), read as `T`.
pub(crate) fn read_credential<T: DeserializeOwned>(credential: &Value) -> Result<T, ApiError> {
    serde_json::from_value(credential.clone())
        .map_err(|_| ApiError::PasskeyInvalid("The passkey credential is malformed.".into()))
}

/// Serializes the verifier's state for its ceremony row.
fn to_json<T: serde::Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::Internal(format!("passkey state: {e}")))
}

/// Reads back the verifier's state of a ceremony row.
fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Internal(format!("stored passkey state: {e}")))
}

fn too_many() -> ApiError {
    ApiError::field("non_field_errors", format!("An account has at most {MAX_PER_USER} passkeys. Remove one first."))
}

/// Options for a new passkey of `user`, asked from session `sid`: `(ceremony_id, publicKey)`.
pub(crate) async fn begin_registration(
    state: &AppState,
    user: &User,
    sid: Option<&str>,
    name: &str,
) -> Result<(String, Value), ApiError> {
    let party = relying_party(state)?;
    let existing = Passkey::list(state, user.id).await?;
    if existing.len() >= MAX_PER_USER {
        return Err(too_many());
    }
    let handle = passkeys::user_handle(state, user).await?;
    let display = [user.first_name.as_str(), user.last_name.as_str()].join(" ");
    let display = if display.trim().is_empty() { user.email.as_str() } else { display.trim() };
    let exclude = existing.into_iter().map(|p| p.credential.cred_id).collect();
    let (options, verifier) =
        party.start_registration(&handle, &user.email, display, exclude).map_err(|e| invalid(&e))?;
    let new = NewCeremony { user_id: Some(user.id), session_id: sid, name: Some(name), state: to_json(&verifier)? };
    let ceremony_id = ceremonies::create(state, Purpose::Register, new).await?;
    Ok((ceremony_id, json!(options.public_key)))
}

/// Verifies the answer to ceremony `ceremony_id` and stores the passkey, named `name` (else as
/// asked in the options). The first passkey (or second factor) turns 2FA on.
pub(crate) async fn finish_registration(
    state: &AppState,
    actor: Actor<'_>,
    user: &User,
    (ceremony_id, credential): (&str, &Value),
    name: Option<String>,
) -> Result<Passkey, ApiError> {
    let party = relying_party(state)?;
    let ceremony = ceremonies::spend(state, Purpose::Register, ceremony_id).await?;
    // Another user's or another session's ceremony is as good as none.
    let ceremony = ceremony.filter(|c| c.user_id == Some(user.id) && c.session_id.as_deref() == actor.session_id);
    let Some(ceremony) = ceremony else { return Err(ApiError::PasskeyInvalid(CEREMONY_GONE.into())) };
    let response: RegisterPublicKeyCredential = read_credential(credential)?;
    let verifier: RegistrationState = from_json(&ceremony.state)?;
    // Checked with the options too; again here, for two ceremonies answered at once.
    if Passkey::count(state, user.id).await? >= i64::try_from(MAX_PER_USER).unwrap_or(i64::MAX) {
        return Err(too_many());
    }
    let mut registered = party.finish_registration(&response, &verifier).map_err(|e| invalid(&e))?;
    let transports = reported_transports(credential);
    // The verifier keeps transports only from attestation it checked: these are the browser's
    // hints, given back in `allowCredentials` so that it knows where to look.
    registered.transports = Some(transports.iter().filter_map(|t| t.parse().ok()).collect());
    let name = name.or(ceremony.name).unwrap_or_else(|| DEFAULT_NAME.to_owned());
    let now = state.clock.now();
    let Some(passkey) = Passkey::insert(state, user.id, (&name, &transports), &registered, now).await? else {
        return Err(ApiError::PasskeyInvalid("This passkey is registered already.".into()));
    };
    let first = mfa_factors::turn_on(state, user.id).await?;
    if first {
        if let Some(sid) = actor.session_id {
            mfa_factors::mark_session(state, sid).await?;
        }
    }
    let detail = json!({ "passkey_id": passkey.id, "name": passkey.name, "backed_up": passkey.backed_up });
    audit::record(state, AuditEvent::PasskeyAdded, actor, detail).await?;
    if first {
        audit::record(state, AuditEvent::MfaEnabled, actor, json!({ "by": "passkey" })).await?;
    }
    let vars = vec![("device", passkey.name.clone())];
    crate::flows::passwords::notify(state, user, Kind::MfaDeviceAdded, actor.client, vars);
    Ok(passkey)
}

/// The transports the browser reported for a new credential (`response.transports`, from
/// `getTransports()`): hints, not checked, so bounded to 8 names of the shape WebAuthn's have
/// (`usb`, `internal`, `hybrid`, `smart-card`, ...). Names not known today are kept for the list.
fn reported_transports(credential: &Value) -> Vec<String> {
    let Some(given) = credential["response"]["transports"].as_array() else { return Vec::new() };
    let names = given.iter().filter_map(Value::as_str);
    let shaped =
        names.filter(|t| (1..=16).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'));
    let mut transports: Vec<String> = shaped.take(8).map(str::to_owned).collect();
    transports.dedup();
    transports
}

/// Removes `passkey` (found among `user`'s), unless it is the account's last way to sign in
/// (`crate::flows::sign_in_methods`): `409 last_sign_in_method`. The last second factor turns 2FA off.
pub(crate) async fn remove(state: &AppState, actor: Actor<'_>, user: &User, passkey: Passkey) -> Result<(), ApiError> {
    crate::flows::sign_in_methods::ensure_another(state, user, crate::flows::sign_in_methods::Removing::Passkey)
        .await?;
    Passkey::delete(state, user.id, passkey.id).await?;
    let enabled = mfa_factors::refresh_enabled(state, user.id).await?;
    let detail = json!({ "passkey_id": passkey.id, "name": passkey.name, "mfa_enabled": enabled });
    audit::record(state, AuditEvent::PasskeyRemoved, actor, detail).await?;
    if user.mfa_enabled && !enabled {
        audit::record(state, AuditEvent::MfaDisabled, actor, json!({ "by": "passkey_removed" })).await?;
        crate::flows::passwords::notify(state, user, Kind::MfaDisabled, actor.client, Vec::new());
    }
    Ok(())
}

//! Passkey assertions: signing in (with a name typed first, or discoverable, for the browser's
//! autofill), the second factor of a password login, and re-authentication. Each has its own
//! ceremony purpose, and every one ends in [`verify`]: the verifier's checks, then the signature
//! counter moved forward by compare-and-set. A counter that goes backwards is refused and audited
//! as `passkey_counter_regressed`: two copies of the key exist, or an assertion was replayed.

use serde_json::{json, Value};
use webauthn_rs_core::proto::{AuthenticationState, PublicKeyCredential};

use super::{from_json, invalid, read_credential, relying_party, to_json, CEREMONY_GONE};
use crate::infra::error::ApiError;
use crate::infra::metrics::MfaResult;
use crate::infra::state::AppState;
use crate::infra::webauthn::WebauthnError;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::passkey_ceremonies::{self as ceremonies, NewCeremony, Purpose};
use crate::store::passkeys::{self, Passkey};
use crate::store::users::User;

/// A verified assertion.
#[derive(Debug)]
pub(crate) struct Asserted {
    /// Whose passkey it was.
    pub user_id: i64,
    /// The authenticator verified the user (PIN, biometric): the assertion is two factors in one.
    pub user_verified: bool,
}

/// A refused assertion, and whether its refusal is audited already (a counter that went backwards
/// is, as `passkey_counter_regressed`): a refused login writes one audit row, not two.
#[derive(Debug)]
struct Refused {
    error: ApiError,
    audited: bool,
    /// The account of the passkey the assertion named, when it is registered: the refusal is
    /// filed under it, so that its owner sees it.
    user_id: Option<i64>,
}

impl From<ApiError> for Refused {
    fn from(error: ApiError) -> Self {
        Self { error, audited: false, user_id: None }
    }
}

/// Request options for `user_id`'s passkeys; the verifier's state as JSON. An account without any
/// is `400 passkey_invalid`.
async fn options_for(state: &AppState, user_id: i64) -> Result<(Value, String), ApiError> {
    let party = relying_party(state)?;
    let credentials: Vec<_> = Passkey::list(state, user_id).await?.into_iter().map(|p| p.credential).collect();
    if credentials.is_empty() {
        return Err(ApiError::PasskeyInvalid("This account has no passkey.".into()));
    }
    let (options, verifier) = party.start_authentication(credentials).map_err(|e| invalid(&e))?;
    Ok((json!(options.public_key), stored_state(verifier)?))
}

/// The verifier's state as a ceremony keeps it: without the credentials, which are looked up by
/// the answer's credential ID when it comes (a few bytes per ceremony instead of every public key).
fn stored_state(mut verifier: AuthenticationState) -> Result<String, ApiError> {
    verifier.set_allowed_credentials(Vec::new());
    to_json(&verifier)
}

/// Options to sign in: for the account of `email` (normalized) when given, else for any
/// discoverable passkey (empty `allowCredentials`: the browser's account picker or autofill). An
/// address without passkeys, known or not, gets made-up credential IDs, the same each time: the
/// options do not tell who has an account or a passkey.
pub(crate) async fn begin_login(state: &AppState, email: Option<&str>) -> Result<(String, Value), ApiError> {
    let party = relying_party(state)?;
    let (user_id, credentials) = match email {
        None => (None, Vec::new()),
        Some(email) => match User::by_email(&state.db, email).await? {
            Some(user) => (Some(user.id), Passkey::list(state, user.id).await?),
            None => (None, Vec::new()),
        },
    };
    let fake = email.is_some() && credentials.is_empty();
    let (mut options, verifier) =
        party.start_authentication(credentials.into_iter().map(|p| p.credential).collect()).map_err(|e| invalid(&e))?;
    if let (true, Some(email)) = (fake, email) {
        let ids = party.fake_credential_ids(email).map_err(|e| invalid(&e))?;
        options.public_key.allow_credentials = ids
            .into_iter()
            .map(|id| webauthn_rs_core::proto::AllowCredentials { type_: "public-key".into(), id, transports: None })
            .collect();
    }
    // Real credentials would carry their transports and made-up ones none: for a named account,
    // none has them, so that the options look the same whoever asks.
    for credential in &mut options.public_key.allow_credentials {
        credential.transports = None;
    }
    let new = NewCeremony { user_id, state: stored_state(verifier)?, ..NewCeremony::default() };
    let ceremony_id = ceremonies::create(state, Purpose::Login, new).await?;
    Ok((ceremony_id, json!(options.public_key)))
}

/// Verifies a sign-in's assertion against ceremony `ceremony_id`: the passkey must be registered,
/// be the account's named in the options (when one was), and its `userHandle` must be its account's.
/// A refusal is audited as `login_failed` (`passkey_invalid`), once.
pub(crate) async fn finish_login(
    state: &AppState,
    actor: Actor<'_>,
    ceremony_id: &str,
    credential: &Value,
) -> Result<Asserted, ApiError> {
    match login_assertion(state, actor, ceremony_id, credential).await {
        Ok(asserted) => Ok(asserted),
        Err(Refused { error: error @ ApiError::PasskeyInvalid(_), audited: false, user_id }) => {
            crate::flows::login::login_failed(state, user_id, actor.client, "", "passkey_invalid").await?;
            Err(error)
        }
        Err(refused) => Err(refused.error),
    }
}

async fn login_assertion(
    state: &AppState,
    actor: Actor<'_>,
    ceremony_id: &str,
    credential: &Value,
) -> Result<Asserted, Refused> {
    relying_party(state)?;
    let Some(ceremony) = ceremonies::spend(state, Purpose::Login, ceremony_id).await? else {
        return Err(ApiError::PasskeyInvalid(CEREMONY_GONE.into()).into());
    };
    let response: PublicKeyCredential = read_credential(credential)?;
    let passkey = Passkey::by_credential_id(state, &response.raw_id).await?;
    let Some(passkey) = passkey.filter(|p| ceremony.user_id.is_none_or(|user_id| user_id == p.user_id)) else {
        return Err(invalid(&WebauthnError::CredentialNotFound).into());
    };
    let owner = Some(passkey.user_id);
    let refused =
        |detail: &str| Refused { error: ApiError::PasskeyInvalid(detail.into()), audited: false, user_id: owner };
    if let Some(handle) = response.get_user_unique_id() {
        if passkeys::user_of_handle(state, handle).await? != owner {
            return Err(refused("The passkey's user handle is not its account's."));
        }
    } else if ceremony.user_id.is_none() {
        // A discoverable sign-in names its user only by the handle (WebAuthn §7.2 step 6).
        return Err(refused("The passkey gave no user handle."));
    }
    let verifier: AuthenticationState = from_json(&ceremony.state)?;
    let actor = Actor { user_id: owner, ..actor };
    verify(state, actor, &passkey, &verifier, &response).await.map_err(|refusal| Refused { user_id: owner, ..refusal })
}

/// Options for the second factor of the login whose `mfa_token` is `mfa_token`, by `user_id`'s
/// passkeys. A later call replaces the options of an earlier one.
pub(crate) async fn begin_second_factor(state: &AppState, mfa_token: &str, user_id: i64) -> Result<Value, ApiError> {
    let (options, verifier) = options_for(state, user_id).await?;
    let new = NewCeremony { user_id: Some(user_id), state: verifier, ..NewCeremony::default() };
    ceremonies::put(state, Purpose::SecondFactor, mfa_token, new).await?;
    Ok(options)
}

/// Verifies the second factor of a login by a passkey of `user_id`, answering the options of
/// [`begin_second_factor`] for the same `mfa_token`. Audited as `mfa_verified` or (once) `mfa_failed`.
pub(crate) async fn finish_second_factor(
    state: &AppState,
    actor: Actor<'_>,
    mfa_token: &str,
    credential: &Value,
) -> Result<(), ApiError> {
    let result = async {
        let ceremony = ceremonies::spend(state, Purpose::SecondFactor, mfa_token).await?;
        let ceremony = ceremony.filter(|c| c.user_id == actor.user_id);
        let Some(ceremony) = ceremony else { return Err(ApiError::PasskeyInvalid(CEREMONY_GONE.into()).into()) };
        own_assertion(state, actor, &ceremony.state, credential).await
    }
    .await;
    match result {
        Ok(_) => {
            state.metrics.mfa("login", MfaResult::Success);
            let detail = json!({ "purpose": "login", "method": "webauthn" });
            audit::record(state, AuditEvent::MfaVerified, actor, detail).await
        }
        Err(Refused { error: error @ ApiError::PasskeyInvalid(_), audited: false, .. }) => {
            state.metrics.mfa("login", MfaResult::Invalid);
            let detail = json!({ "purpose": "login", "reason": "passkey_invalid" });
            audit::record(state, AuditEvent::MfaFailed, actor, detail).await?;
            Err(error)
        }
        Err(refused) => Err(refused.error),
    }
}

/// Options for `user` to re-authenticate from session `sid` with one of their passkeys.
pub(crate) async fn begin_reauthentication(
    state: &AppState,
    user_id: i64,
    sid: &str,
) -> Result<(String, Value), ApiError> {
    let (options, verifier) = options_for(state, user_id).await?;
    let new = NewCeremony { user_id: Some(user_id), session_id: Some(sid), state: verifier, ..NewCeremony::default() };
    let ceremony_id = ceremonies::create(state, Purpose::Reauthenticate, new).await?;
    Ok((ceremony_id, options))
}

/// Verifies a re-authentication of the actor's user and session by passkey.
pub(crate) async fn finish_reauthentication(
    state: &AppState,
    actor: Actor<'_>,
    ceremony_id: &str,
    credential: &Value,
) -> Result<Asserted, ApiError> {
    let ceremony = ceremonies::spend(state, Purpose::Reauthenticate, ceremony_id).await?;
    let ceremony = ceremony.filter(|c| c.user_id == actor.user_id && c.session_id.as_deref() == actor.session_id);
    let Some(ceremony) = ceremony else { return Err(ApiError::PasskeyInvalid(CEREMONY_GONE.into())) };
    own_assertion(state, actor, &ceremony.state, credential).await.map_err(|refused| refused.error)
}

/// An assertion by one of the actor's own passkeys, against a ceremony's stored state.
async fn own_assertion(
    state: &AppState,
    actor: Actor<'_>,
    verifier: &str,
    credential: &Value,
) -> Result<Asserted, Refused> {
    relying_party(state)?;
    let response: PublicKeyCredential = read_credential(credential)?;
    let passkey = Passkey::by_credential_id(state, &response.raw_id).await?;
    let Some(passkey) = passkey.filter(|p| Some(p.user_id) == actor.user_id) else {
        return Err(invalid(&WebauthnError::CredentialNotFound).into());
    };
    let verifier: AuthenticationState = from_json(verifier)?;
    verify(state, actor, &passkey, &verifier, &response).await
}

/// The checks every assertion passes: the verifier's, then the counter moved forward in the
/// database (of two assertions racing with one counter value, one wins).
async fn verify(
    state: &AppState,
    actor: Actor<'_>,
    passkey: &Passkey,
    verifier: &AuthenticationState,
    response: &PublicKeyCredential,
) -> Result<Asserted, Refused> {
    let party = relying_party(state)?;
    let result = match party.finish_authentication(response, verifier, &passkey.credential) {
        Ok(result) => result,
        Err(WebauthnError::CredentialPossibleCompromise) => {
            return Err(counter_regressed(state, actor, passkey, None).await?);
        }
        Err(error) => return Err(invalid(&error).into()),
    };
    let backup = (result.backup_eligible(), result.backup_state());
    if !passkey.record_use(state, result.counter(), backup, state.clock.now()).await? {
        return Err(counter_regressed(state, actor, passkey, Some(result.counter())).await?);
    }
    Ok(Asserted { user_id: passkey.user_id, user_verified: result.user_verified() })
}

/// Audits a signature counter that did not move forward (`given` when the verifier accepted it and
/// a concurrent use had moved the stored one past it), and refuses the assertion.
async fn counter_regressed(
    state: &AppState,
    actor: Actor<'_>,
    passkey: &Passkey,
    given: Option<u32>,
) -> Result<Refused, ApiError> {
    let detail = json!({ "passkey_id": passkey.id, "name": passkey.name, "stored_counter": passkey.sign_count,
                         "given_counter": given });
    audit::record(state, AuditEvent::PasskeyCounterRegressed, actor, detail).await?;
    Ok(Refused { error: invalid(&WebauthnError::CredentialPossibleCompromise), audited: true, user_id: actor.user_id })
}

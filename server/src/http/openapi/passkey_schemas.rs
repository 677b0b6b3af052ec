//! The bodies of the passkey endpoints (docs/api.md#passkeys). Options are the W3C JSON forms
//! (`PublicKeyCredentialCreationOptionsJSON`, `PublicKeyCredentialRequestOptionsJSON`, base64url),
//! and a `credential` is what the browser's `PublicKeyCredential.toJSON()` gives.

use serde_json::Value;
use utoipa::{ToResponse, ToSchema};

use super::errors::ErrorDetail;
use crate::http::drf::{CharField, Form, FormBody};
use crate::store::passkeys::NAME_MAX;

const OPTIONAL_NOT_BLANK: CharField = CharField { required: false, trim: true, allow_blank: false };

/// A ceremony's options: hand `publicKey` to `navigator.credentials.create()` or `.get()`, and
/// send the answer back with `ceremony_id` within 5 minutes.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"ceremony_id": "5b0c8e0d9a3f4c2e8b7a6d5c4b3a29181706f5e4d3c2b1a09f8e7d6c5b4a3928",
    "publicKey": {"challenge": "q0bQ3Yk5o8J6bq2x6Hn5GQ", "rpId": "example.com", "allowCredentials": [],
    "userVerification": "preferred", "timeout": 300000}}))]
pub struct PasskeyOptions {
    /// The ceremony's single-use id.
    pub ceremony_id: String,
    /// The options for the browser.
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub public_key: Value,
}

/// The options of a second factor by passkey; the `mfa_token` names the ceremony.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PasskeyStepOptions {
    /// `PublicKeyCredentialRequestOptionsJSON` with the account's passkeys.
    #[serde(rename = "publicKey")]
    #[schema(value_type = Object)]
    pub public_key: Value,
}

/// An optional name for the passkey about to be registered.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Laptop"}))]
pub struct PasskeyName {
    /// Shown in the passkey list; `Passkey` when absent or blank.
    #[schema(value_type = String, required = false, max_length = 64)]
    pub name: Option<String>,
}

impl FormBody for PasskeyName {
    fn read(form: &mut Form<'_>) -> Self {
        let name = form.bounded("name", CharField::OPTIONAL, NAME_MAX);
        Self { name: name.filter(|n| !n.is_empty()) }
    }
}

/// A passkey's new name.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Work laptop"}))]
pub struct PasskeyRename {
    /// 1 to 64 characters.
    #[schema(max_length = 64)]
    pub name: String,
}

impl FormBody for PasskeyRename {
    fn read(form: &mut Form<'_>) -> Self {
        Self { name: form.bounded("name", CharField::REQUIRED, NAME_MAX).unwrap_or_default() }
    }
}

/// The browser's answer to a ceremony's options.
#[derive(Debug, ToSchema)]
pub struct PasskeyAnswer {
    /// From the options.
    pub ceremony_id: String,
    /// `PublicKeyCredential.toJSON()`.
    #[schema(value_type = Object)]
    pub credential: Value,
    /// Registration only: the passkey's name (else the one given with the options).
    #[schema(value_type = String, required = false, max_length = 64)]
    pub name: Option<String>,
    /// Sign-in only: cookie mode, as at `POST /api/token/`.
    #[schema(required = false, default = false)]
    pub cookie: bool,
    /// Sign-in only: the slug of an organization the access tokens should speak for.
    #[schema(value_type = String, required = false)]
    pub org: Option<String>,
}

impl FormBody for PasskeyAnswer {
    fn read(form: &mut Form<'_>) -> Self {
        Self {
            ceremony_id: form.bounded("ceremony_id", CharField::REQUIRED, 64).unwrap_or_default(),
            credential: form.object("credential").cloned().unwrap_or_default(),
            name: form.bounded("name", CharField::OPTIONAL, NAME_MAX).filter(|n| !n.is_empty()),
            cookie: form.boolean("cookie").unwrap_or(false),
            org: form.bounded("org", OPTIONAL_NOT_BLANK, 50),
        }
    }
}

/// Options to sign in with a passkey: for one account, or (without `email`) for any passkey the
/// browser offers (conditional UI, the account picker).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct PasskeyLoginOptionsRequest {
    /// The account's address; absent for a discoverable sign-in.
    #[schema(value_type = String, required = false, max_length = 254, format = Email)]
    pub email: Option<String>,
}

impl FormBody for PasskeyLoginOptionsRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { email: form.bounded("email", OPTIONAL_NOT_BLANK, 254) }
    }
}

/// The login whose second factor a passkey will answer.
#[derive(Debug, ToSchema)]
pub struct MfaTokenRequest {
    /// From the `403 mfa_required` answer.
    pub mfa_token: String,
}

impl FormBody for MfaTokenRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { mfa_token: form.bounded("mfa_token", CharField::REQUIRED, 64).unwrap_or_default() }
    }
}

/// Proof for `POST /api/auth/reauthenticate/`: the password, a current second-factor code, or a
/// passkey's answer to `POST /api/auth/reauthenticate/passkey/options/`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"password": "correct horse battery staple"}))]
pub struct SudoProof {
    /// The current password.
    #[schema(value_type = String, required = false, format = Password)]
    pub password: Option<String>,
    /// A current TOTP code or an unused backup code.
    #[schema(value_type = String, required = false)]
    pub code: Option<String>,
    /// With `credential`: the passkey ceremony's id.
    #[schema(value_type = String, required = false)]
    pub ceremony_id: Option<String>,
    /// `PublicKeyCredential.toJSON()` of a passkey's assertion.
    #[schema(value_type = Object, required = false)]
    pub credential: Option<Value>,
}

/// 400: a passkey ceremony failed: a wrong origin, relying party, challenge or signature, a spent or
/// expired ceremony, a signature counter that went backwards, a malformed credential.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "The passkey's signature is not valid.", "code": "passkey_invalid"}))]
pub struct PasskeyInvalid(pub ErrorDetail);

/// 404: this server has no passkeys (its public URL is on an IP address, which cannot be a relying
/// party ID).
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "Passkeys are not available on this server.", "code": "passkeys_unavailable"}))]
pub struct PasskeysUnavailable(pub ErrorDetail);

/// 409: the passkey is the account's only way to sign in.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "This passkey is your only way to sign in. Add another one, or set a password, first.",
    "code": "last_sign_in_method"}))]
pub struct LastSignInMethod(pub ErrorDetail);

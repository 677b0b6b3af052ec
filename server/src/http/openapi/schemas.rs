//! The schemas and shared responses of the OpenAPI document: DRF's error shapes and the bodies of
//! every endpoint. They describe bodies the handlers build; `tests/openapi.rs` holds them to real
//! answers.

use utoipa::ToSchema;

use crate::http::drf::{CharField, Form, FormBody};

// Bodies of successful answers.

/// The caller's second factors.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"enabled": true, "devices": [{"id": 1, "kind": "totp", "name": "Phone", "confirmed": true,
    "created_at": "2026-01-02T03:04:05Z", "last_used_at": "2026-01-02T03:05:00Z"}], "backup_codes_remaining": 10}))]
pub struct TwoFactorStatus {
    /// A confirmed device or a passkey exists: login needs a second factor.
    pub enabled: bool,
    /// Every device, confirmed or not, oldest first: authenticators (`"kind": "totp"`) and SMS
    /// phone numbers (`"kind": "sms"`).
    pub devices: Vec<super::sms_schemas::ListedDevice>,
    /// Unused backup codes.
    pub backup_codes_remaining: i64,
}

// The TOTP device object is `store::mfa_factors::TotpDevice`.

/// A new, unconfirmed authenticator. The secret is shown this once; confirm it with a code.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct NewDevice {
    /// The device's id, for the confirm and delete paths.
    pub id: i64,
    /// The shared secret, base32 without padding (160 bits).
    pub secret: String,
    /// `otpauth://totp/ISSUER:EMAIL?secret=...&algorithm=SHA1&digits=6&period=30&issuer=ISSUER`.
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
}

/// Backup codes, shown this once: each works once, in place of a TOTP code. Absent (`{}`) when a
/// device other than the first is confirmed.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"backup_codes": ["abcd-efgh-ijkl", "mnop-qrst-uvwx"]}))]
pub struct BackupCodes {
    /// Ten codes `xxxx-xxxx-xxxx`; case, spaces and dashes do not matter when typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Vec<String>, required = false)]
    pub backup_codes: Option<Vec<String>>,
}

/// Liveness or readiness.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Status {
    /// `ok`, or `database unavailable` from `/readyz`.
    pub status: String,
}

/// A JSON Web Key Set (RFC 7517) holding the public keys that verify tokens, the signing key first.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"keys": [{
    "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
}]}))]
pub struct Jwks {
    /// The public JWKs, the current signing key first and then the previous keys still accepted:
    /// `kty`, `alg`, `use: "sig"`, `kid` (the RFC 7638 thumbprint, as in the tokens' header) and the
    /// key's members (`n`/`e`, `crv`/`x`/`y` or `crv`/`x`).
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// An empty object, `{}`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Empty {}

// The user object is `crate::store::users::UserObject`.

/// A refresh and an access token (simplejwt's pair).
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct TokenPair {
    /// Refresh token: single use, rotated by `POST /api/token/refresh/`.
    pub refresh: String,
    /// Access token: send as `Authorization: Bearer <access>`.
    pub access: String,
}

/// The tokens of a login or a refresh: `access`, and `refresh` unless it went into the
/// `latchkey_refresh` cookie (cookie mode).
#[derive(Debug, ToSchema)]
pub struct IssuedTokens {
    /// Access token: send as `Authorization: Bearer <access>`.
    pub access: String,
    /// Refresh token; absent in cookie mode, where `Set-Cookie` carries it.
    #[schema(value_type = String, required = false)]
    pub refresh: Option<String>,
    /// `refresh` is written before `access`, as simplejwt's login writes its pair; its refresh
    /// writes `access` first.
    #[schema(ignore)]
    pub refresh_first: bool,
}

impl serde::Serialize for IssuedTokens {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1 + usize::from(self.refresh.is_some())))?;
        let refresh = |map: &mut S::SerializeMap| match &self.refresh {
            Some(refresh) => map.serialize_entry("refresh", refresh),
            None => Ok(()),
        };
        if self.refresh_first {
            refresh(&mut map)?;
        }
        map.serialize_entry("access", &self.access)?;
        if !self.refresh_first {
            refresh(&mut map)?;
        }
        map.end()
    }
}

impl From<crate::flows::tokens::TokenPair> for TokenPair {
    fn from(pair: crate::flows::tokens::TokenPair) -> Self {
        Self { refresh: pair.refresh, access: pair.access }
    }
}

/// A new account and its first token pair.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct Registered {
    /// The new user.
    pub user: crate::store::users::UserObject,
    /// A session opened for it; absent with `LATCHKEY_EMAIL_VERIFICATION=mandatory`, where the
    /// verification link must be followed before logging in.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = TokenPair, required = false)]
    pub tokens: Option<TokenPair>,
}

// The session object and the bodies of the session endpoints are in `sessions.rs`.

// Request bodies.

/// A new account. Passwords must pass the password policy and are at most 4096 bytes.
// Its `FormBody` is in `crate::http::accounts`, with the field rules it shares with
// `ProfileUpdate` (`null` is no username).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple",
    "password_confirm": "correct horse battery staple"}))]
pub struct RegisterRequest {
    /// Compared case-insensitively; must not be taken.
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// Kept as typed (not trimmed).
    #[schema(format = Password)]
    pub password: String,
    /// Must equal `password`.
    #[schema(format = Password)]
    pub password_confirm: String,
    /// Letters, digits and `@.+-_`; null or blank for none; must not be taken.
    #[schema(max_length = 150)]
    pub username: Option<String>,
    /// Optional.
    #[schema(required = false, max_length = 150)]
    pub first_name: String,
    /// Optional.
    #[schema(required = false, max_length = 150)]
    pub last_name: String,
}

/// Profile changes: only the fields present change; others (e-mail, flags) are ignored.
// `None`: absent. Its `FormBody` is in `crate::http::accounts`, with the field rules it shares
// with `RegisterRequest` (`null` clears the username and the birth date).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"first_name": "Ada", "birth_date": "1815-12-10"}))]
pub struct ProfileUpdate {
    /// Free text.
    #[schema(value_type = String, required = false, max_length = 150)]
    pub first_name: Option<String>,
    /// Free text.
    #[schema(value_type = String, required = false, max_length = 150)]
    pub last_name: Option<String>,
    /// Letters, digits and `@.+-_`; null or blank removes it.
    #[schema(value_type = Option<String>, max_length = 150)]
    pub username: Option<Option<String>>,
    /// Free text.
    #[schema(value_type = String, required = false, max_length = 2000)]
    pub bio: Option<String>,
    /// Free text.
    #[schema(value_type = String, required = false, max_length = 32)]
    pub phone_number: Option<String>,
    /// `YYYY-MM-DD`; null removes it.
    #[schema(value_type = Option<String>, format = Date)]
    pub birth_date: Option<Option<String>>,
    /// Free text.
    #[schema(value_type = String, required = false, max_length = 64)]
    pub timezone: Option<String>,
    /// Free text.
    #[schema(value_type = String, required = false, max_length = 35)]
    pub language: Option<String>,
    /// An http(s) URL, or blank.
    #[schema(value_type = String, required = false, max_length = 200)]
    pub website: Option<String>,
}

/// The account's current password, to confirm a destructive change.
// Its `FormBody` is in `crate::http::accounts`: `None` when absent, empty when not a string.
#[derive(Debug, ToSchema)]
pub struct PasswordConfirmation {
    /// The current password.
    #[schema(value_type = String, format = Password)]
    pub password: Option<String>,
}

/// Credentials: `email`, or `username` when no `email` is given, and the password (at most 4096 bytes).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct TokenObtainRequest {
    /// The account's e-mail address, compared case-insensitively.
    #[schema(value_type = String, required = false, format = Email)]
    pub email: Option<String>,
    /// The account's username, used when `email` is absent.
    #[schema(value_type = String, required = false)]
    pub username: Option<String>,
    /// The password.
    #[schema(format = Password)]
    pub password: String,
    /// A TOTP or backup code, for an account with 2FA to log in in one step; without it such an
    /// account gets `403 mfa_required`.
    #[schema(value_type = String, required = false, example = "123456")]
    pub otp: Option<String>,
    /// The slug of an organization the access tokens should speak for: they then carry `org` and
    /// the caller's `roles` there; `403` when the caller is not a member.
    #[schema(value_type = String, required = false, example = "acme")]
    pub org: Option<String>,
    /// Cookie mode: the refresh token goes into the `HttpOnly` `latchkey_refresh` cookie (path
    /// `/api/token/`) instead of the body.
    #[schema(required = false, default = false)]
    pub cookie: bool,
}

/// How [`TokenObtainRequest`] reads an optional field: trimmed, not blank.
const OPTIONAL_NOT_BLANK: CharField = CharField { required: false, trim: true, allow_blank: false };

impl FormBody for TokenObtainRequest {
    /// `email` (or `username` when only that is given) trimmed like a DRF `CharField` and no longer
    /// than a stored one can be (254 and 150 characters), `password` kept as typed, optional `otp`,
    /// `org` and boolean `cookie`. The password's byte limit is the policy's: the handler checks it.
    fn read(form: &mut Form<'_>) -> Self {
        let (mut email, mut username) = (None, None);
        if form.has("username") && !form.has("email") {
            username = form.bounded("username", CharField::REQUIRED, crate::store::users::USERNAME_MAX);
        } else {
            email = form.bounded("email", CharField::REQUIRED, crate::store::users::EMAIL_MAX);
        }
        Self {
            email,
            username,
            password: form.string("password", CharField::PASSWORD).unwrap_or_default(),
            otp: form.string("otp", OPTIONAL_NOT_BLANK),
            org: form.string("org", OPTIONAL_NOT_BLANK),
            cookie: form.boolean("cookie").unwrap_or(false),
        }
    }
}

/// The second step of a login to an account with 2FA: a `code`, or a passkey's `credential`
/// answering `POST /api/token/mfa/webauthn/options/`.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"mfa_token": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "code": "123456"}))]
pub struct MfaLoginRequest {
    /// From the `403 mfa_required` answer: single-use, valid 5 minutes.
    pub mfa_token: String,
    /// A current TOTP code, or an unused backup code (`xxxx-xxxx-xxxx`).
    #[schema(value_type = String, required = false)]
    pub code: Option<String>,
    /// Instead of a code: `PublicKeyCredential.toJSON()` of a passkey's assertion.
    #[schema(value_type = Object, required = false)]
    pub credential: Option<serde_json::Value>,
    /// Cookie mode, as at login (a login that asked for it keeps it).
    #[schema(required = false, default = false)]
    pub cookie: bool,
}

impl FormBody for MfaLoginRequest {
    /// Exactly one of `code` and `credential`.
    fn read(form: &mut Form<'_>) -> Self {
        let mfa_token = form.string("mfa_token", CharField::REQUIRED).unwrap_or_default();
        let (code, credential) = if form.has("credential") {
            (None, form.object("credential").cloned())
        } else {
            (form.string("code", CharField::REQUIRED), None)
        };
        if form.has("credential") && form.has("code") {
            form.error("non_field_errors", "Give a code or a passkey credential, not both.");
        }
        Self { mfa_token, code, credential, cookie: form.boolean("cookie").unwrap_or(false) }
    }
}

/// An optional name for a new authenticator.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Phone"}))]
pub struct NewDeviceRequest {
    /// Shown in the device list; `Authenticator` when absent or blank.
    #[schema(value_type = String, required = false, max_length = 64)]
    pub name: Option<String>,
}

impl FormBody for NewDeviceRequest {
    /// Trimmed; blank is none.
    fn read(form: &mut Form<'_>) -> Self {
        let name = form.bounded("name", CharField::OPTIONAL, crate::store::mfa_factors::NAME_MAX);
        Self { name: name.filter(|n| !n.is_empty()) }
    }
}

/// A code from the authenticator being confirmed.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"code": "123456"}))]
pub struct CodeRequest {
    /// The app's current 6-digit code (spaces ignored).
    pub code: String,
}

impl FormBody for CodeRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { code: form.string("code", CharField::REQUIRED).unwrap_or_default() }
    }
}

/// Proof of the account holder for a sensitive change: the password, or a current second-factor code.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"password": "correct horse battery staple"}))]
pub struct Reauthentication {
    /// The current password (checked when present).
    #[schema(value_type = String, required = false, format = Password)]
    pub password: Option<String>,
    /// Otherwise a current TOTP code or an unused backup code.
    #[schema(value_type = String, required = false)]
    pub code: Option<String>,
}

impl FormBody for Reauthentication {
    /// Reads the proof, and the code's DRF errors into `form`, which the handler finishes only when
    /// it goes on to check the code. The password is `Some` when the body has one, and it is no DRF
    /// field: a value other than a non-empty string is read as `""`, which is simply wrong (and
    /// refused without counting). The code is read only without a password.
    fn read(form: &mut Form<'_>) -> Self {
        let password = form.value("password").map(|p| p.as_str().unwrap_or_default().to_owned());
        let code = if password.is_none() { form.string("code", OPTIONAL_NOT_BLANK) } else { None };
        Self { password, code }
    }
}

/// A refresh token, in the body or (cookie mode) in the `latchkey_refresh` cookie. A request that
/// carries the cookie must be `application/json`; a `refresh` in the body wins over the cookie.
#[derive(Debug, ToSchema)]
pub struct RefreshRequest {
    /// A refresh token from the last login or refresh; required without the cookie.
    #[schema(value_type = String, required = false)]
    pub refresh: Option<String>,
}

impl FormBody for RefreshRequest {
    /// Optional here: a request without the cookie must have it, which the handler checks.
    fn read(form: &mut Form<'_>) -> Self {
        Self { refresh: form.string("refresh", OPTIONAL_NOT_BLANK) }
    }
}

/// A token of either type to check.
#[derive(Debug, ToSchema)]
pub struct VerifyRequest {
    /// An access or refresh token.
    pub token: String,
}

impl FormBody for VerifyRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { token: form.string("token", CharField::REQUIRED).unwrap_or_default() }
    }
}

/// Which session to close: the refresh token's (body, else cookie), or without one the access token's.
#[derive(Debug, ToSchema)]
pub struct LogoutRequest {
    /// A refresh token of the caller (even an already rotated one).
    #[schema(required = false)]
    pub refresh: String,
}

//! The schemas and shared responses of the OpenAPI document: DRF's error shapes and the bodies of
//! every endpoint. They describe bodies the handlers build; `tests/openapi.rs` holds them to real
//! answers.

use utoipa::ToSchema;

// Bodies of successful answers.

/// The caller's second factors.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"enabled": true, "devices": [{"id": 1, "name": "Phone", "confirmed": true,
    "created_at": "2026-01-02T03:04:05Z", "last_used_at": "2026-01-02T03:05:00Z"}], "backup_codes_remaining": 10}))]
pub struct TwoFactorStatus {
    /// A confirmed device exists: login needs a second factor.
    pub enabled: bool,
    /// Every device, confirmed or not, oldest first.
    pub devices: Vec<TotpDevice>,
    /// Unused backup codes.
    pub backup_codes_remaining: i64,
}

/// A TOTP device.
#[derive(Debug, ToSchema)]
pub struct TotpDevice {
    /// The device's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// A code from it was confirmed.
    pub confirmed: bool,
    /// When it was added.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When a code from it was last accepted, or null.
    #[schema(required = true, format = DateTime)]
    pub last_used_at: Option<String>,
}

/// A new, unconfirmed authenticator. The secret is shown this once; confirm it with a code.
#[derive(Debug, ToSchema)]
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
#[derive(Debug, ToSchema)]
#[schema(example = json!({"backup_codes": ["abcd-efgh-ijkl", "mnop-qrst-uvwx"]}))]
pub struct BackupCodes {
    /// Ten codes `xxxx-xxxx-xxxx`; case, spaces and dashes do not matter when typed.
    #[schema(required = false)]
    pub backup_codes: Vec<String>,
}

/// Liveness or readiness.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Status {
    /// `ok`, or `database unavailable` from `/readyz`.
    pub status: String,
}

/// A JSON Web Key Set (RFC 7517) holding the one public key that verifies access tokens.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"keys": [{
    "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
    "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
}]}))]
pub struct Jwks {
    /// The public JWK: `kty`, `alg`, `use: "sig"`, `kid` (its RFC 7638 thumbprint) and the key's
    /// members (`n`/`e`, `crv`/`x`/`y` or `crv`/`x`).
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// An empty object, `{}`.
#[derive(Debug, ToSchema)]
pub struct Empty {}

/// A user (docs/api.md#accounts-and-registration). Datetimes are RFC 3339 in UTC.
#[derive(Debug, ToSchema)]
#[schema(example = json!({
    "id": 1, "email": "ada@example.com", "username": "ada", "first_name": "Ada", "last_name": "Lovelace",
    "bio": "", "phone_number": "", "birth_date": null, "timezone": "", "language": "", "website": "",
    "is_verified": false, "is_staff": false, "mfa_enabled": false,
    "date_joined": "2026-01-02T03:04:05Z", "last_login": "2026-01-02T03:04:05Z"
}))]
pub struct User {
    /// The user's id (as a string in tokens' `user_id` claim).
    pub id: i64,
    /// Normalized: NFKC, lowercase.
    #[schema(format = Email)]
    pub email: String,
    /// Null when the user has none.
    #[schema(required = true)]
    pub username: Option<String>,
    /// Empty when unset, as every free-text profile field.
    pub first_name: String,
    /// Profile field.
    pub last_name: String,
    /// Profile field.
    pub bio: String,
    /// Profile field.
    pub phone_number: String,
    /// `YYYY-MM-DD`, or null.
    #[schema(required = true, format = Date)]
    pub birth_date: Option<String>,
    /// Profile field.
    pub timezone: String,
    /// Profile field.
    pub language: String,
    /// An http(s) URL, or empty.
    pub website: String,
    /// The e-mail address was verified.
    pub is_verified: bool,
    /// Staff may use the admin API.
    pub is_staff: bool,
    /// A second factor is confirmed.
    pub mfa_enabled: bool,
    /// When the account was created.
    #[schema(format = DateTime)]
    pub date_joined: String,
    /// The last successful login, or null.
    #[schema(required = true, format = DateTime)]
    pub last_login: Option<String>,
}

/// A refresh and an access token (simplejwt's pair).
#[derive(Debug, ToSchema)]
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
    #[schema(required = false)]
    pub refresh: String,
}

/// A new account and its first token pair.
#[derive(Debug, ToSchema)]
pub struct Registered {
    /// The new user.
    pub user: User,
    /// A session opened for it; absent with `LATCHKEY_EMAIL_VERIFICATION=mandatory`, where the
    /// verification link must be followed before logging in.
    #[schema(required = false)]
    pub tokens: TokenPair,
}

// The session object and the bodies of the session endpoints are in `sessions.rs`.

// Request bodies.

/// A new account. Passwords must pass the password policy and are at most 4096 bytes.
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
#[derive(Debug, ToSchema)]
#[schema(example = json!({"first_name": "Ada", "birth_date": "1815-12-10"}))]
pub struct ProfileUpdate {
    /// Free text.
    #[schema(required = false, max_length = 150)]
    pub first_name: String,
    /// Free text.
    #[schema(required = false, max_length = 150)]
    pub last_name: String,
    /// Letters, digits and `@.+-_`; null or blank removes it.
    #[schema(max_length = 150)]
    pub username: Option<String>,
    /// Free text.
    #[schema(required = false, max_length = 2000)]
    pub bio: String,
    /// Free text.
    #[schema(required = false, max_length = 32)]
    pub phone_number: String,
    /// `YYYY-MM-DD`; null removes it.
    #[schema(format = Date)]
    pub birth_date: Option<String>,
    /// Free text.
    #[schema(required = false, max_length = 64)]
    pub timezone: String,
    /// Free text.
    #[schema(required = false, max_length = 35)]
    pub language: String,
    /// An http(s) URL, or blank.
    #[schema(required = false, max_length = 200)]
    pub website: String,
}

/// The account's current password, to confirm a destructive change.
#[derive(Debug, ToSchema)]
pub struct PasswordConfirmation {
    /// The current password.
    #[schema(format = Password)]
    pub password: String,
}

/// Credentials: `email`, or `username` when no `email` is given, and the password (at most 4096 bytes).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com", "password": "correct horse battery staple"}))]
pub struct TokenObtainRequest {
    /// The account's e-mail address, compared case-insensitively.
    #[schema(required = false, format = Email)]
    pub email: String,
    /// The account's username, used when `email` is absent.
    #[schema(required = false)]
    pub username: String,
    /// The password.
    #[schema(format = Password)]
    pub password: String,
    /// A TOTP or backup code, for an account with 2FA to log in in one step; without it such an
    /// account gets `403 mfa_required`.
    #[schema(required = false, example = "123456")]
    pub otp: String,
    /// Cookie mode: the refresh token goes into the `HttpOnly` `latchkey_refresh` cookie (path
    /// `/api/token/`) instead of the body.
    #[schema(required = false, default = false)]
    pub cookie: bool,
}

/// The second step of a login to an account with 2FA.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"mfa_token": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "code": "123456"}))]
pub struct MfaLoginRequest {
    /// From the `403 mfa_required` answer: single-use, valid 5 minutes.
    pub mfa_token: String,
    /// A current TOTP code, or an unused backup code (`xxxx-xxxx-xxxx`).
    pub code: String,
    /// Cookie mode, as at login (a login that asked for it keeps it).
    #[schema(required = false, default = false)]
    pub cookie: bool,
}

/// An optional name for a new authenticator.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Phone"}))]
pub struct NewDeviceRequest {
    /// Shown in the device list; `Authenticator` when absent or blank.
    #[schema(required = false, max_length = 64)]
    pub name: String,
}

/// A code from the authenticator being confirmed.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"code": "123456"}))]
pub struct CodeRequest {
    /// The app's current 6-digit code (spaces ignored).
    pub code: String,
}

/// Proof of the account holder for a sensitive change: the password, or a current second-factor code.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"password": "correct horse battery staple"}))]
pub struct Reauthentication {
    /// The current password (checked when present).
    #[schema(required = false, format = Password)]
    pub password: String,
    /// Otherwise a current TOTP code or an unused backup code.
    #[schema(required = false)]
    pub code: String,
}

/// A refresh token, in the body or (cookie mode) in the `latchkey_refresh` cookie. A request that
/// carries the cookie must be `application/json`; a `refresh` in the body wins over the cookie.
#[derive(Debug, ToSchema)]
pub struct RefreshRequest {
    /// A refresh token from the last login or refresh; required without the cookie.
    #[schema(required = false)]
    pub refresh: String,
}

/// A token of either type to check.
#[derive(Debug, ToSchema)]
pub struct VerifyRequest {
    /// An access or refresh token.
    pub token: String,
}

/// Which session to close: the refresh token's (body, else cookie), or without one the access token's.
#[derive(Debug, ToSchema)]
pub struct LogoutRequest {
    /// A refresh token of the caller (even an already rotated one).
    #[schema(required = false)]
    pub refresh: String,
}

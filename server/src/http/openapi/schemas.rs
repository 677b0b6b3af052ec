//! The schemas and shared responses of the OpenAPI document: DRF's error shapes and the bodies of
//! every endpoint. They describe bodies the handlers build; `tests/openapi.rs` holds them to real
//! answers.

use std::collections::BTreeMap;

use utoipa::{ToResponse, ToSchema};

// Bodies of errors. They derive `Serialize` only so that `BadRequestBody` can use serde's
// `untagged`, which utoipa renders as `oneOf`.

/// A request-level error in DRF's shape.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"detail": "Token is blacklisted", "code": "token_not_valid"}))]
pub struct ErrorDetail {
    /// What went wrong, in DRF's and simplejwt's English wording.
    pub detail: String,
    /// A stable code such as `token_not_valid`, `user_inactive`, `unavailable`; DRF leaves it out of
    /// some errors (404, missing credentials, failed login).
    #[schema(required = false)]
    pub code: String,
    /// simplejwt's reasons per token class, on a `token_not_valid` answer to a bad `Authorization` header.
    #[schema(required = false)]
    pub messages: Vec<TokenMessage>,
}

/// Why one token class refused a token (simplejwt's `messages` entries).
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct TokenMessage {
    /// `AccessToken`.
    pub token_class: String,
    /// `access`.
    pub token_type: String,
    /// E.g. `Token is expired`.
    pub message: String,
}

/// Validation errors in DRF's shape: each failing field with its messages, and `non_field_errors`
/// for errors of the body as a whole.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"password_confirm": ["Passwords do not match."]}))]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// A 400 body: field errors, or `{"detail": "JSON parse error - …"}` for a body that is not JSON.
#[derive(Debug, serde::Serialize, ToSchema)]
#[serde(untagged)]
pub enum BadRequestBody {
    /// The body was read and some fields failed.
    Fields(FieldErrors),
    /// The body could not be read.
    Detail(ErrorDetail),
}

// Shared error responses.

/// Validation failed (`{"field": ["message"]}`), or the body is not JSON.
#[derive(Debug, ToResponse)]
pub struct BadRequest(pub BadRequestBody);

/// Not authenticated: no `Authorization: Bearer` header (`Authentication credentials were not
/// provided.`), a malformed one (`bad_authorization_header`), an access token that is invalid,
/// expired or of a closed session (`token_not_valid`), or a user who is gone or inactive
/// (`user_not_found`, `user_inactive`).
#[derive(Debug, ToResponse)]
#[response(
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`")),
    example = json!({"detail": "Authentication credentials were not provided."})
)]
pub struct Unauthenticated(pub ErrorDetail);

/// Wrong credentials. The same body for an unknown user, a wrong password and an inactive user. With
/// `LATCHKEY_EMAIL_VERIFICATION=mandatory`, the right credentials of an unverified address get
/// `{"detail": "E-mail address is not verified.", "code": "email_not_verified"}`.
#[derive(Debug, ToResponse)]
#[response(
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`")),
    example = json!({"detail": "No active account found with the given credentials"})
)]
pub struct LoginFailed(pub ErrorDetail);

/// The token is not valid: `Token is invalid`, `Token is expired` or `Token is blacklisted`
/// (code `token_not_valid`); a refresh token whose user is gone or inactive answers
/// `No active account found for the given token.`.
#[derive(Debug, ToResponse)]
#[response(
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`")),
    example = json!({"detail": "Token is blacklisted", "code": "token_not_valid"})
)]
pub struct TokenNotValid(pub ErrorDetail);

/// The request carries the refresh cookie but is not `application/json` (DRF's CSRF failure): a
/// cross-site form cannot send JSON without a CORS preflight.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "CSRF Failed: cookie-authenticated requests must be application/json."}))]
pub struct CsrfFailed(pub ErrorDetail);

/// Not found, or not the caller's.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "Not found."}))]
pub struct NotFound(pub ErrorDetail);

/// The body is over 64 KiB.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "Request body is too large."}))]
pub struct PayloadTooLarge(pub ErrorDetail);

/// A body that is not `application/json`.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "Unsupported media type \"text/plain\" in request."}))]
pub struct UnsupportedMediaType(pub ErrorDetail);

/// The password-hashing queue is full; retry after `Retry-After` seconds.
#[derive(Debug, ToResponse)]
#[response(
    headers(("Retry-After" = u64, description = "Seconds to wait before retrying.")),
    example = json!({"detail": "Service temporarily unavailable, try again later.", "code": "unavailable"})
)]
pub struct Unavailable(pub ErrorDetail);

/// The account needs its second factor: send the code with `mfa_token` to `POST /api/token/mfa/`
/// within 5 minutes, or log in again with `otp`. Or, once every factor is verified, the password
/// has expired: `{"code": "password_expired", "password_change_token"}` (see `PasswordExpiredBody`).
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "Two-factor authentication required.", "code": "mfa_required",
    "mfa_token": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "methods": ["totp", "backup_code"]}))]
pub struct MfaRequired(pub MfaChallenge);

/// The body of `403 mfa_required`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct MfaChallenge {
    /// `Two-factor authentication required.`
    pub detail: String,
    /// `mfa_required`.
    pub code: String,
    /// Single-use, valid 5 minutes.
    pub mfa_token: String,
    /// `["totp", "backup_code"]`.
    pub methods: Vec<String>,
}

/// A wrong or already used code (`mfa_invalid`), or an `mfa_token` that is unknown, used or expired
/// (`mfa_token_invalid`: log in again).
#[derive(Debug, ToResponse)]
#[response(
    headers(("WWW-Authenticate" = String, description = "`Bearer realm=\"api\"`")),
    example = json!({"detail": "Invalid two-factor code.", "code": "mfa_invalid"})
)]
pub struct MfaInvalid(pub ErrorDetail);

/// Too many wrong second-factor codes in a row: wait `Retry-After` seconds (1, 2, 4 ... after each
/// failure, up to `LATCHKEY_MFA_BACKOFF_CAP`). A right code is refused too while the wait lasts.
#[derive(Debug, ToResponse)]
#[response(
    headers(("Retry-After" = u64, description = "Seconds to wait before the next try.")),
    example = json!({"detail": "Request was throttled. Expected available in 4 seconds.", "code": "throttled"})
)]
pub struct Throttled(pub ErrorDetail);

/// Authenticated but not allowed: e.g. adding an authenticator from a session that did not verify
/// the second factor of an account with 2FA.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "You do not have permission to perform this action."}))]
pub struct Forbidden(pub ErrorDetail);

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

/// A user (API.md §4). Datetimes are RFC 3339 in UTC.
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

// The password lifecycle (API.md §5).

/// A password policy: the rules, and a fingerprint of them and of the word lists compiled in
/// (equal fingerprints give equal verdicts).
#[derive(Debug, ToSchema)]
#[schema(example = json!({"min_length": 12, "max_length_bytes": 4096, "max_similarity": 0.7, "reject_common": true,
    "reject_numeric": true, "min_score": 3, "min_character_classes": 0, "max_repeated_characters": 0, "history": 0,
    "fingerprint": "8832ffcac63b47af"}))]
pub struct PasswordPolicy {
    /// Django's `MinimumLengthValidator`, in characters.
    pub min_length: u32,
    /// Longer passwords are refused before any other work (`password_too_long`).
    pub max_length_bytes: u32,
    /// Django's `UserAttributeSimilarityValidator` threshold; null turns the rule off.
    #[schema(required = true)]
    pub max_similarity: Option<f64>,
    /// Django's `CommonPasswordValidator`.
    pub reject_common: bool,
    /// Django's `NumericPasswordValidator`.
    pub reject_numeric: bool,
    /// Minimum zxcvbn score, 0-4 (`password_too_weak`).
    pub min_score: u8,
    /// Minimum of lower case, upper case, digits and symbols; 0 is off.
    pub min_character_classes: u8,
    /// Longest run of one character; 0 is off.
    pub max_repeated_characters: u32,
    /// How many recent passwords may not be reused (`password_reused`); 0 is off.
    pub history: u8,
    /// 16 hex characters.
    pub fingerprint: String,
}

/// A password to judge, with the user facts the similarity rule compares it with.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"password": "alice2024", "email": "alice@example.com"}))]
pub struct ValidatePasswordRequest {
    /// Judged as typed.
    #[schema(format = Password)]
    pub password: String,
    /// Optional.
    #[schema(required = false)]
    pub email: String,
    /// Optional.
    #[schema(required = false)]
    pub username: String,
    /// Optional.
    #[schema(required = false)]
    pub first_name: String,
    /// Optional.
    #[schema(required = false)]
    pub last_name: String,
}

/// The policy's verdict: the npm package's `validatePassword` gives the same for the same input.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"valid": false, "score": 1, "violations": [{"code": "password_too_short",
    "message": "This password is too short. It must contain at least 12 characters."}], "fingerprint": "8832ffcac63b47af"}))]
pub struct PasswordValidation {
    /// No violation.
    pub valid: bool,
    /// zxcvbn's score, 0-4.
    pub score: u8,
    /// Every failing rule, Django's first, with Django's English messages.
    pub violations: Vec<Violation>,
    /// The policy's fingerprint.
    pub fingerprint: String,
}

/// One failing rule.
#[derive(Debug, ToSchema)]
pub struct Violation {
    /// `password_too_short`, `password_too_similar`, `password_too_common`, `password_entirely_numeric`,
    /// `password_too_long`, `password_too_weak`, ...
    pub code: String,
    /// The English message.
    pub message: String,
}

/// A password change: signed in with a bearer token, or with the `password_change_token` of a login
/// refused for an expired password.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"old_password": "correct horse battery staple", "new_password": "a new and better passphrase"}))]
pub struct PasswordChangeRequest {
    /// The current password.
    #[schema(format = Password)]
    pub old_password: String,
    /// Must pass the policy (and the history rule, when on).
    #[schema(format = Password)]
    pub new_password: String,
    /// From `403 password_expired`, instead of a bearer token.
    #[schema(required = false)]
    pub password_change_token: String,
}

/// The change is saved. With a `password_change_token`, a new session's tokens too.
#[derive(Debug, ToSchema)]
pub struct PasswordChanged {
    /// `New password has been saved.`
    pub detail: String,
    /// With a `password_change_token`: the new session's access token.
    #[schema(required = false)]
    pub access: String,
    /// With a `password_change_token`, unless the login asked for cookie mode.
    #[schema(required = false)]
    pub refresh: String,
}

/// A message.
#[derive(Debug, ToSchema)]
pub struct Detail {
    /// What happened.
    pub detail: String,
}

/// An e-mail address.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "ada@example.com"}))]
pub struct EmailRequest {
    /// Compared case-insensitively.
    #[schema(format = Email)]
    pub email: String,
}

/// The address to send a new verification link to, when not signed in.
#[derive(Debug, ToSchema)]
pub struct ResendRequest {
    /// Required when not signed in; ignored otherwise.
    #[schema(required = false, format = Email)]
    pub email: String,
}

/// The `uid` and `token` of a reset link, and the new password.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"uid": "MQ", "token": "t3b2kw-1f0c8e…", "new_password": "a new and better passphrase"}))]
pub struct ResetConfirmRequest {
    /// From the link.
    pub uid: String,
    /// From the link.
    pub token: String,
    /// Must pass the policy.
    #[schema(format = Password)]
    pub new_password: String,
}

/// The `uid` and `token` of a verification link.
#[derive(Debug, ToSchema)]
pub struct VerifyEmailRequest {
    /// From the link.
    pub uid: String,
    /// From the link.
    pub token: String,
}

/// The password has expired: change it with this token at `POST /api/auth/password/change/`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct PasswordExpiredBody {
    /// `Your password has expired. Choose a new one to continue.`
    pub detail: String,
    /// `password_expired`.
    pub code: String,
    /// Single-use, valid 10 minutes.
    pub password_change_token: String,
}

/// Login refused: the password has expired (`LATCHKEY_PASSWORD_MAX_AGE`).
#[derive(Debug, ToResponse)]
pub struct PasswordExpired(pub PasswordExpiredBody);

/// A page of security events, newest first.
#[derive(Debug, ToSchema)]
pub struct AuditPage {
    /// The events.
    pub results: Vec<AuditEvent>,
    /// The next (older) page's path and query, or null on the last page.
    #[schema(required = true)]
    pub next: Option<String>,
}

/// A security event.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"id": 42, "created_at": "2026-01-02T03:04:05Z", "event": "login_failed", "ip": "203.0.113.9",
    "user_agent": "Mozilla/5.0", "session_id": null, "detail": {"reason": "bad_credentials", "login": "ada@example.com"}}))]
pub struct AuditEvent {
    /// Increasing; the cursor of `before`.
    pub id: i64,
    /// When it happened.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// `login_succeeded`, `login_failed`, `mfa_verified`, `mfa_failed`, `refresh_reuse_detected`,
    /// `session_revoked`, `password_changed`, `password_reset`, `email_verified`, `totp_device_added`,
    /// `totp_device_removed`, `backup_codes_generated`.
    pub event: String,
    /// The client's address.
    pub ip: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// The session concerned, if any.
    #[schema(required = true)]
    pub session_id: Option<String>,
    /// What happened: a reason, a method, a purpose; never a password, token, code or secret.
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
    /// The user (admin API only; null for a login attempt on no account).
    #[schema(required = false)]
    pub user_id: Option<i64>,
}

// API keys, organizations, admin (API.md §7).

/// A new API key.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "CI deploys", "expires_at": "2027-01-01T00:00:00Z", "scopes": ["read"]}))]
pub struct NewApiKeyRequest {
    /// What it is for.
    #[schema(max_length = 100)]
    pub name: String,
    /// When it stops working (RFC 3339, in the future); never when absent.
    #[schema(required = false, format = DateTime)]
    pub expires_at: String,
    /// Any of `read` (safe methods), `write` (every method), `admin` (staff endpoints; staff owners only).
    /// Default `["read", "write"]`.
    #[schema(required = false)]
    pub scopes: Vec<String>,
}

/// A new API key: `key` is shown this once.
#[derive(Debug, ToSchema)]
pub struct NewApiKey {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its public part, shown in lists.
    pub prefix: String,
    /// `lk_<prefix>_<secret>`: send as `X-API-Key`.
    pub key: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it was made.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it stops working, or null.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
}

/// An API key, without the key.
#[derive(Debug, ToSchema)]
pub struct ApiKeyInfo {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its public part.
    pub prefix: String,
    /// Its scopes.
    pub scopes: Vec<String>,
    /// When it was made.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// When it stops working, or null.
    #[schema(required = true, format = DateTime)]
    pub expires_at: Option<String>,
    /// When it was last used (to the minute), or null.
    #[schema(required = true, format = DateTime)]
    pub last_used_at: Option<String>,
}

/// A new organization.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Acme", "slug": "acme"}))]
pub struct NewOrgRequest {
    /// Its name.
    #[schema(max_length = 100)]
    pub name: String,
    /// Letters, digits, `-` and `_`; unique.
    #[schema(max_length = 50)]
    pub slug: String,
}

/// An organization, with the caller's role in it.
#[derive(Debug, ToSchema)]
pub struct Org {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// Its slug: the `org` of tokens and paths.
    pub slug: String,
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
    /// When it was made.
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// A member of an organization.
#[derive(Debug, ToSchema)]
pub struct Member {
    /// The user.
    pub user_id: i64,
    /// Their e-mail address.
    pub email: String,
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
    /// When they joined.
    #[schema(format = DateTime)]
    pub joined_at: String,
}

/// An e-mail address to invite, registered or not, with the role it gets on accepting.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"email": "bob@example.com", "role": "editor"}))]
pub struct NewMemberRequest {
    /// The invitee's e-mail address (at most 254 characters).
    #[schema(format = Email)]
    pub email: String,
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
}

/// A new role.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"role": "viewer"}))]
pub struct RoleRequest {
    /// `admin`, `editor`, `author` or `viewer`.
    pub role: String,
}

/// A user as staff see it: the user, plus `is_active` and `is_superuser`.
#[derive(Debug, ToSchema)]
pub struct AdminUser {
    /// The user's fields (API.md §4).
    #[serde(flatten)]
    pub user: User,
    /// Inactive users cannot log in.
    pub is_active: bool,
    /// Superuser.
    pub is_superuser: bool,
}

/// A page of users, in DRF's `PageNumberPagination` shape.
#[derive(Debug, ToSchema)]
pub struct UserPage {
    /// Users matching the search.
    pub count: i64,
    /// The next page, or null.
    #[schema(required = true)]
    pub next: Option<String>,
    /// The previous page, or null.
    #[schema(required = true)]
    pub previous: Option<String>,
    /// This page's users, by id.
    pub results: Vec<AdminUser>,
}

/// The flags staff may change.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"is_active": false}))]
pub struct AdminUserUpdate {
    /// `false` revokes every session too.
    #[schema(required = false)]
    pub is_active: bool,
    /// Staff may use the admin API.
    #[schema(required = false)]
    pub is_staff: bool,
    /// The e-mail address counts as verified.
    #[schema(required = false)]
    pub is_verified: bool,
}

/// Why a user's second factors are being reset, for the audit log.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"reason": "Lost phone; identity checked by video call, ticket 4521"}))]
pub struct ResetReason {
    /// Required.
    pub reason: String,
}

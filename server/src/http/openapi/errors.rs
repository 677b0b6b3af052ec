//! DRF's error shapes and the shared error responses of the OpenAPI document.

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

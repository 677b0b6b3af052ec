//! The one HTTP error type: every failure becomes a DRF-shaped JSON body with the status DRF and
//! simplejwt would use (docs/api.md#conventions). Internal errors are logged and answer a generic 500.

use std::collections::BTreeMap;

use serde_json::Value;

/// Field errors in DRF's shape: `{"field": ["message", ...]}`.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Everything a handler can answer other than success.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// 400 with field errors.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 400: the body is not JSON (`JSON parse error - …`).
    #[error("JSON parse error - {0}")]
    Parse(String),
    /// 401: no credentials.
    #[error("Authentication credentials were not provided.")]
    NotAuthenticated,
    /// 401 with DRF's plain `{"detail"}` (e.g. "No active account found with the given credentials").
    #[error("{0}")]
    AuthenticationFailed(&'static str),
    /// 401 with simplejwt's `{"detail","code"}` and optional extra fields (e.g. `messages`).
    #[error("{detail}")]
    Token {
        /// The message.
        detail: String,
        /// `token_not_valid`, `bad_authorization_header`, `user_not_found`, ...
        code: &'static str,
        /// Extra fields merged into the body.
        extra: Option<Value>,
    },
    /// 403.
    #[error("You do not have permission to perform this action.")]
    PermissionDenied,
    /// 403: a request authenticated by the refresh cookie is not `application/json` (DRF reports
    /// CSRF failures as a `PermissionDenied` with their own detail).
    #[error("CSRF Failed: cookie-authenticated requests must be application/json.")]
    CsrfFailed,
    /// 403 with a specific reason (a permission class's own message, in DRF's terms).
    #[error("{0}")]
    Forbidden(String),
    /// 403 with a code: the caller may not go on until they do something first
    /// (`mfa_enrollment_required`, `mfa_required_by_org`: docs/api.md#2fa-enforcement).
    #[error("{detail}")]
    Denied {
        /// The message.
        detail: &'static str,
        /// `mfa_enrollment_required`, ...
        code: &'static str,
    },
    /// 403: a sensitive action from a session that has not proved the user recently (docs/api.md#re-authentication-sudo-mode).
    #[error("Please confirm it is you.")]
    ReauthenticationRequired,
    /// 403: the password was right, and the account needs its second factor (docs/api.md#tokens).
    #[error("Two-factor authentication required.")]
    MfaRequired {
        /// The single-use token that `POST /api/token/mfa/` takes with the code.
        mfa_token: String,
        /// The second factors the account has: `totp`, `backup_code`, `webauthn`.
        methods: Vec<&'static str>,
    },
    /// 403: the credentials were right, and the password has expired (`LATCHKEY_PASSWORD_MAX_AGE`).
    #[error("Your password has expired. Choose a new one to continue.")]
    PasswordExpired {
        /// The single-use token that `POST /api/auth/password/change/` takes instead of a login.
        password_change_token: String,
    },
    /// 400: a passkey ceremony failed (a wrong origin, RP ID, challenge or signature, a spent or
    /// expired ceremony, a malformed credential, a counter that went backwards).
    #[error("{0}")]
    PasskeyInvalid(String),
    /// 400 with a code: a single-use step that is unknown, spent or expired (`social_state_invalid`).
    #[error("{detail}")]
    Refused {
        /// The message.
        detail: &'static str,
        /// `social_state_invalid`, ...
        code: &'static str,
    },
    /// 404.
    #[error("Not found.")]
    NotFound,
    /// 404: this server has no passkey relying party (its public URL is on an IP address).
    #[error("Passkeys are not available on this server.")]
    PasskeysUnavailable,
    /// 409 with a code: the request contradicts the account's state.
    #[error("{detail}")]
    Conflict {
        /// The message.
        detail: &'static str,
        /// `last_sign_in_method`, ...
        code: &'static str,
    },
    /// 405.
    #[error("Method \"{0}\" not allowed.")]
    MethodNotAllowed(String),
    /// 413.
    #[error("Request body is too large.")]
    PayloadTooLarge,
    /// 415.
    #[error("Unsupported media type \"{0}\" in request.")]
    UnsupportedMediaType(String),
    /// 503 with `Retry-After`: the server is at capacity for this kind of request.
    #[error("Service temporarily unavailable, try again later.")]
    Unavailable {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 503 with `Retry-After`: a social login's provider did not answer (or answered nonsense).
    #[error("The sign-in provider cannot be reached. Try again later.")]
    ProviderUnavailable,
    /// 429 with `Retry-After`, in DRF's words.
    #[error("Request was throttled. Expected available in {wait} second{}.", if *wait == 1 { "" } else { "s" })]
    Throttled {
        /// Seconds until the next attempt is allowed.
        wait: u64,
        /// The request limit that was reached, for the `RateLimit-*` headers; none for lockouts.
        limit: Option<u32>,
    },
    /// 500: logged with its cause, answered without it.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::Validation(BTreeMap::from([(field.to_owned(), vec![message.into()])]))
    }

    /// simplejwt's `token_not_valid` with `detail`.
    pub fn token_not_valid(detail: impl Into<String>) -> Self {
        Self::Token { detail: detail.into(), code: "token_not_valid", extra: None }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(format!("database: {e}"))
    }
}

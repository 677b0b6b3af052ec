//! The bodies of the password lifecycle, e-mail verification and audit endpoints.

use utoipa::{ToResponse, ToSchema};

// The password lifecycle (docs/api.md#password-lifecycle).

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

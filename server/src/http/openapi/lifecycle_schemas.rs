//! The bodies of the password lifecycle, e-mail verification and audit endpoints.

use serde::Serialize;
use utoipa::{ToResponse, ToSchema};

use crate::http::drf::{CharField, Form, FormBody};
use crate::store::users::{is_valid_email, normalize_email, EMAIL_MAX};

// The password lifecycle (docs/api.md#password-lifecycle).

/// A password policy: the rules, and a fingerprint of them and of the word lists compiled in
/// (equal fingerprints give equal verdicts).
// Built from the core's policy, and serialized as the core serializes it (the npm package's
// `validatePassword` reads it).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"min_length": 12, "max_length_bytes": 4096, "max_similarity": 0.7, "reject_common": true,
    "reject_numeric": true, "min_score": 3, "min_character_classes": 0, "max_repeated_characters": 0, "history": 0,
    "fingerprint": "8832ffcac63b47af"}))]
pub struct PasswordPolicy {
    /// Django's `MinimumLengthValidator`, in characters.
    #[schema(value_type = u32)]
    pub min_length: usize,
    /// Longer passwords are refused before any other work (`password_too_long`).
    #[schema(value_type = u32)]
    pub max_length_bytes: usize,
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
    #[schema(value_type = u32)]
    pub max_repeated_characters: usize,
    /// How many recent passwords may not be reused (`password_reused`); 0 is off.
    pub history: u8,
    /// 16 hex characters.
    pub fingerprint: String,
}

impl From<&latchkey_core::policy::PasswordPolicy> for PasswordPolicy {
    fn from(policy: &latchkey_core::policy::PasswordPolicy) -> Self {
        Self {
            min_length: policy.min_length,
            max_length_bytes: policy.max_length_bytes,
            max_similarity: policy.max_similarity,
            reject_common: policy.reject_common,
            reject_numeric: policy.reject_numeric,
            min_score: policy.min_score,
            min_character_classes: policy.min_character_classes,
            max_repeated_characters: policy.max_repeated_characters,
            history: policy.history,
            fingerprint: policy.fingerprint(),
        }
    }
}

/// A password to judge, with the user facts the similarity rule compares it with.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"password": "alice2024", "email": "alice@example.com"}))]
pub struct ValidatePasswordRequest {
    /// Judged as typed.
    #[schema(format = Password)]
    pub password: String,
    /// Optional.
    #[schema(value_type = String, required = false)]
    pub email: Option<String>,
    /// Optional.
    #[schema(value_type = String, required = false)]
    pub username: Option<String>,
    /// Optional.
    #[schema(value_type = String, required = false)]
    pub first_name: Option<String>,
    /// Optional.
    #[schema(value_type = String, required = false)]
    pub last_name: Option<String>,
}

impl FormBody for ValidatePasswordRequest {
    /// Nothing is trimmed, and blank is allowed: the verdict is on what was typed.
    fn read(form: &mut Form<'_>) -> Self {
        let password = form.string("password", CharField { required: true, trim: false, allow_blank: true });
        let optional = CharField { required: false, trim: false, allow_blank: true };
        Self {
            password: password.unwrap_or_default(),
            email: form.string("email", optional),
            username: form.string("username", optional),
            first_name: form.string("first_name", optional),
            last_name: form.string("last_name", optional),
        }
    }
}

/// The policy's verdict: the npm package's `validatePassword` gives the same for the same input.
#[derive(Debug, Serialize, ToSchema)]
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

impl From<latchkey_core::policy::Validation> for PasswordValidation {
    fn from(verdict: latchkey_core::policy::Validation) -> Self {
        let violations =
            verdict.violations.iter().map(|v| Violation { code: v.code(), message: v.message() }).collect();
        Self { valid: verdict.valid, score: verdict.score, violations, fingerprint: verdict.fingerprint }
    }
}

/// One failing rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct Violation {
    /// `password_too_short`, `password_too_similar`, `password_too_common`, `password_entirely_numeric`,
    /// `password_too_long`, `password_too_weak`, `password_breached` (the server's breached-password
    /// check), ...
    #[schema(value_type = String)]
    pub code: &'static str,
    /// The English message.
    pub message: String,
}

/// A password change: signed in with a bearer token, or with the `password_change_token` of a login
/// refused for an expired password.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"old_password": "correct horse battery staple", "new_password": "a new and better passphrase"}))]
pub struct PasswordChangeRequest {
    /// The current password.
    // A signed-in session that proved the user recently may leave it out (sudo mode).
    #[schema(value_type = String, format = Password)]
    pub old_password: Option<String>,
    /// Must pass the policy (and the history rule, when on).
    #[schema(format = Password)]
    pub new_password: String,
    /// From `403 password_expired`, instead of a bearer token.
    #[schema(value_type = String, required = false)]
    pub password_change_token: Option<String>,
}

impl PasswordChangeRequest {
    /// Reads the body; `old_password` is required unless the caller is `signed_in` (sudo mode may
    /// then stand in for it).
    pub fn read(form: &mut Form<'_>, signed_in: bool) -> Self {
        let token = form.string("password_change_token", CharField { required: false, trim: true, allow_blank: false });
        let old = form.string("old_password", CharField { required: !signed_in, trim: false, allow_blank: false });
        let new = form.string("new_password", CharField::PASSWORD);
        Self { old_password: old, new_password: new.unwrap_or_default(), password_change_token: token }
    }
}

/// The change is saved. With a `password_change_token`, a new session's tokens too.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordChanged {
    /// `New password has been saved.`
    pub detail: String,
    /// With a `password_change_token`: the new session's access token.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub access: Option<String>,
    /// With a `password_change_token`, unless the login asked for cookie mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = String, required = false)]
    pub refresh: Option<String>,
}

/// A message.
#[derive(Debug, serde::Serialize, ToSchema)]
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

impl FormBody for EmailRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self { email: read_email(form) }
    }
}

/// The address to send a new verification link to, when not signed in.
#[derive(Debug, ToSchema)]
pub struct ResendRequest {
    /// Required when not signed in; ignored otherwise.
    #[schema(required = false, format = Email)]
    pub email: String,
}

impl FormBody for ResendRequest {
    /// Read only when the caller is not signed in: then the address is required.
    fn read(form: &mut Form<'_>) -> Self {
        Self { email: read_email(form) }
    }
}

/// A required e-mail address: at most 254 characters as given, then normalized, then valid
/// (validated after NFKC, as registration does, so what is looked up and counted is what was checked).
fn read_email(form: &mut Form<'_>) -> String {
    let email = form.bounded("email", CharField::REQUIRED, EMAIL_MAX).map(|e| normalize_email(&e));
    if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        form.error("email", "Enter a valid email address.");
    }
    email.unwrap_or_default()
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

impl FormBody for ResetConfirmRequest {
    fn read(form: &mut Form<'_>) -> Self {
        let uid = form.string("uid", CharField::REQUIRED);
        let token = form.string("token", CharField::REQUIRED);
        let new_password = form.string("new_password", CharField::PASSWORD);
        Self {
            uid: uid.unwrap_or_default(),
            token: token.unwrap_or_default(),
            new_password: new_password.unwrap_or_default(),
        }
    }
}

/// The `uid` and `token` of a verification link.
#[derive(Debug, ToSchema)]
pub struct VerifyEmailRequest {
    /// From the link.
    pub uid: String,
    /// From the link.
    pub token: String,
}

impl FormBody for VerifyEmailRequest {
    fn read(form: &mut Form<'_>) -> Self {
        let uid = form.string("uid", CharField::REQUIRED);
        let token = form.string("token", CharField::REQUIRED);
        Self { uid: uid.unwrap_or_default(), token: token.unwrap_or_default() }
    }
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
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AuditPage {
    /// The events.
    pub results: Vec<crate::store::audit::LoggedEvent>,
    /// The next (older) page's path and query, or null on the last page.
    #[schema(required = true)]
    pub next: Option<String>,
}

#[cfg(test)]
mod tests {
    use latchkey_core::policy::{PasswordPolicy as Policy, UserAttributes};

    use super::*;

    #[test]
    fn policies_and_verdicts_serialize_as_the_core_does() {
        let policy = Policy { max_similarity: None, min_character_classes: 2, ..Policy::default() };
        for policy in [Policy::default(), policy] {
            let typed = serde_json::to_value(PasswordPolicy::from(&policy)).unwrap_or_default();
            assert_eq!(typed, serde_json::to_value(&policy).unwrap_or_default());
            let user = UserAttributes { email: Some("alice@example.com".into()), ..UserAttributes::default() };
            for password in ["alice2024", "1234", "correct horse battery staple"] {
                let verdict = policy.validate(password, &user);
                let expected = serde_json::to_value(&verdict).unwrap_or_default();
                assert_eq!(serde_json::to_value(PasswordValidation::from(verdict)).unwrap_or_default(), expected);
            }
        }
    }
}

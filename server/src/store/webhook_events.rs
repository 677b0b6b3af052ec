//! The event types security webhooks carry (API.md §16), and which audit event each one is: a
//! webhook is an audit event sent out, so that what a receiver hears and what the audit log keeps
//! are one record.

use serde_json::Value;

use crate::store::audit_events::AuditEvent;

/// A type a webhook endpoint can subscribe to, as the payload's `type` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WebhookEvent {
    /// `user.created`: an account was made (registration, a social sign-up, `createsuperuser`).
    UserCreated,
    /// `user.deleted`: an account was deleted.
    UserDeleted,
    /// `login.failed`: a login was refused (every reason but a lockout).
    LoginFailed,
    /// `login.locked_out`: a login was refused because the account or the address is locked out
    /// (at most once a minute per lockout).
    LoginLockedOut,
    /// `session.reuse_detected`: a rotated refresh token came back; the session is revoked.
    SessionReuseDetected,
    /// `password.changed`: a user changed their password.
    PasswordChanged,
    /// `password.reset`: a password was reset through an e-mailed link.
    PasswordReset,
    /// `mfa.enabled`: two-factor authentication was turned on.
    MfaEnabled,
    /// `mfa.disabled`: two-factor authentication was turned off.
    MfaDisabled,
    /// `api_key.created`: an API key was created.
    ApiKeyCreated,
    /// `admin.action`: staff changed a user, ended their sessions, revoked a key, reset their 2FA,
    /// or changed a webhook endpoint.
    AdminAction,
    /// `webhook.test`: sent by `POST /api/admin/webhooks/{id}/test/` to that endpoint only; not
    /// subscribable.
    Test,
}

impl WebhookEvent {
    /// The types an endpoint may subscribe to, in the contract's order.
    pub const SUBSCRIBABLE: [Self; 11] = [
        Self::UserCreated,
        Self::UserDeleted,
        Self::LoginFailed,
        Self::LoginLockedOut,
        Self::SessionReuseDetected,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::MfaEnabled,
        Self::MfaDisabled,
        Self::ApiKeyCreated,
        Self::AdminAction,
    ];

    /// The type's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UserCreated => "user.created",
            Self::UserDeleted => "user.deleted",
            Self::LoginFailed => "login.failed",
            Self::LoginLockedOut => "login.locked_out",
            Self::SessionReuseDetected => "session.reuse_detected",
            Self::PasswordChanged => "password.changed",
            Self::PasswordReset => "password.reset",
            Self::MfaEnabled => "mfa.enabled",
            Self::MfaDisabled => "mfa.disabled",
            Self::ApiKeyCreated => "api_key.created",
            Self::AdminAction => "admin.action",
            Self::Test => "webhook.test",
        }
    }

    /// The subscribable type named `name`.
    pub fn subscribable(name: &str) -> Option<Self> {
        Self::SUBSCRIBABLE.into_iter().find(|event| event.as_str() == name)
    }

    /// The webhook an audit event is, if any. `detail` tells a lockout from another refused login,
    /// and staff's revocations from a user's own.
    pub fn of(event: AuditEvent, detail: &Value) -> Option<Self> {
        let by_staff = || detail.get("by").and_then(Value::as_str) == Some("admin");
        Some(match event {
            AuditEvent::AccountCreated => Self::UserCreated,
            AuditEvent::AccountDeleted => Self::UserDeleted,
            AuditEvent::LoginFailed if detail.get("reason").and_then(Value::as_str) == Some("locked_out") => {
                Self::LoginLockedOut
            }
            AuditEvent::LoginFailed => Self::LoginFailed,
            AuditEvent::RefreshReuseDetected => Self::SessionReuseDetected,
            AuditEvent::PasswordChanged => Self::PasswordChanged,
            AuditEvent::PasswordReset => Self::PasswordReset,
            AuditEvent::MfaEnabled => Self::MfaEnabled,
            AuditEvent::MfaDisabled => Self::MfaDisabled,
            AuditEvent::ApiKeyCreated => Self::ApiKeyCreated,
            AuditEvent::Admin2faReset
            | AuditEvent::AdminForcedLogout
            | AuditEvent::AdminUserUpdated
            | AuditEvent::WebhookCreated
            | AuditEvent::WebhookUpdated
            | AuditEvent::WebhookDeleted => Self::AdminAction,
            AuditEvent::SessionRevoked | AuditEvent::ApiKeyRevoked if by_staff() => Self::AdminAction,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{AuditEvent, WebhookEvent};

    #[test]
    fn every_subscribable_type_is_some_audit_event() {
        let reached: std::collections::BTreeSet<WebhookEvent> = AuditEvent::ALL
            .iter()
            .flat_map(|e| {
                [json!({}), json!({"reason": "locked_out"}), json!({"by": "admin"})].map(|d| WebhookEvent::of(*e, &d))
            })
            .flatten()
            .collect();
        assert_eq!(reached, WebhookEvent::SUBSCRIBABLE.into_iter().collect());
        for event in WebhookEvent::SUBSCRIBABLE {
            assert_eq!(WebhookEvent::subscribable(event.as_str()), Some(event));
        }
        assert_eq!(WebhookEvent::subscribable("webhook.test"), None, "tests go to one endpoint, asked");
    }

    #[test]
    fn a_lockout_and_staff_revocations_are_told_apart() {
        let failed = |reason| WebhookEvent::of(AuditEvent::LoginFailed, &json!({ "reason": reason }));
        assert_eq!(failed("locked_out"), Some(WebhookEvent::LoginLockedOut));
        assert_eq!(failed("bad_credentials"), Some(WebhookEvent::LoginFailed));
        let revoked = |by| WebhookEvent::of(AuditEvent::SessionRevoked, &json!({ "by": by }));
        assert_eq!(revoked("admin"), Some(WebhookEvent::AdminAction));
        assert_eq!(revoked("user"), None);
        assert_eq!(WebhookEvent::of(AuditEvent::LoginSucceeded, &json!({})), None);
    }
}

//! The names of the security events the audit log records (`crate::store::audit`), each with
//! what it means; `crate::store::webhook_events` says which of them security webhooks carry.

/// Every security event the audit log records; its name is what the `event` column, the log line
/// and `GET /api/admin/audit/?event=` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditEvent {
    /// `account_created`: An account was made: registration, a social sign-up, `latchkey createsuperuser`.
    AccountCreated,
    /// `account_deleted`: The user deleted their account.
    AccountDeleted,
    /// `admin_2fa_reset`: Staff removed a user's second factors.
    Admin2faReset,
    /// `admin_forced_logout`: Staff ended a user's sessions.
    AdminForcedLogout,
    /// `admin_user_updated`: Staff changed a user's flags.
    AdminUserUpdated,
    /// `api_key_created`: An API key was created.
    ApiKeyCreated,
    /// `api_key_revoked`: An API key was deleted.
    ApiKeyRevoked,
    /// `api_key_used`: An API key authenticated a request (at most once a minute per key).
    ApiKeyUsed,
    /// `api_keys_revoked`: All of a user's API keys were deleted.
    ApiKeysRevoked,
    /// `backup_codes_generated`: A new set of backup codes replaced the old one.
    BackupCodesGenerated,
    /// `email_verified`: The address was verified.
    EmailVerified,
    /// `login_code_sent`: A sign-in code and link were e-mailed to the account's address.
    LoginCodeSent,
    /// `login_failed`: A login was refused.
    LoginFailed,
    /// `login_succeeded`: A login opened a session.
    LoginSucceeded,
    /// `mfa_disabled`: Two-factor authentication was turned off.
    MfaDisabled,
    /// `mfa_enabled`: Two-factor authentication was turned on (the first second factor confirmed).
    MfaEnabled,
    /// `mfa_failed`: A wrong second-factor code.
    MfaFailed,
    /// `mfa_verified`: A second factor was verified at login.
    MfaVerified,
    /// `org_created`: An organization was created.
    OrgCreated,
    /// `org_invitation_accepted`: An invitation was accepted.
    OrgInvitationAccepted,
    /// `org_invitation_declined`: An invitation was declined.
    OrgInvitationDeclined,
    /// `org_invitation_sent`: An invitation was sent.
    OrgInvitationSent,
    /// `org_member_removed`: A member left or was removed.
    OrgMemberRemoved,
    /// `org_role_changed`: A member's role changed.
    OrgRoleChanged,
    /// `org_updated`: An organization's admin changed its settings (`require_2fa`).
    OrgUpdated,
    /// `passkey_added`: A passkey was registered.
    PasskeyAdded,
    /// `passkey_counter_regressed`: A passkey's signature counter went backwards (a cloned
    /// authenticator, or a replay): the assertion was refused.
    PasskeyCounterRegressed,
    /// `passkey_removed`: A passkey was removed.
    PasskeyRemoved,
    /// `password_changed`: The password was changed.
    PasswordChanged,
    /// `password_reset`: The password was reset by e-mailed link.
    PasswordReset,
    /// `reauth_failed`: A re-authentication (sudo mode, a sensitive action) failed.
    ReauthFailed,
    /// `reauthenticated`: The session proved the user again (sudo mode).
    Reauthenticated,
    /// `refresh_reuse_detected`: A rotated refresh token came back: the session is revoked.
    RefreshReuseDetected,
    /// `session_revoked`: A session was ended.
    SessionRevoked,
    /// `sms_device_added`: A phone number for SMS codes was confirmed.
    SmsDeviceAdded,
    /// `sms_device_removed`: A phone number for SMS codes was removed.
    SmsDeviceRemoved,
    /// `social_account_linked`: A provider identity was linked to the account (a social sign-up,
    /// a confirmed link, or a connect).
    SocialAccountLinked,
    /// `social_account_unlinked`: A provider identity was unlinked.
    SocialAccountUnlinked,
    /// `totp_device_added`: An authenticator was confirmed.
    TotpDeviceAdded,
    /// `totp_device_removed`: An authenticator was removed.
    TotpDeviceRemoved,
    /// `webhook_created`: Staff registered a security webhook endpoint.
    WebhookCreated,
    /// `webhook_deleted`: Staff deleted a security webhook endpoint.
    WebhookDeleted,
    /// `webhook_updated`: Staff changed a security webhook endpoint.
    WebhookUpdated,
}

impl AuditEvent {
    /// Every event, in alphabetical order of their names.
    pub const ALL: [Self; 43] = [
        Self::AccountCreated,
        Self::AccountDeleted,
        Self::Admin2faReset,
        Self::AdminForcedLogout,
        Self::AdminUserUpdated,
        Self::ApiKeyCreated,
        Self::ApiKeyRevoked,
        Self::ApiKeyUsed,
        Self::ApiKeysRevoked,
        Self::BackupCodesGenerated,
        Self::EmailVerified,
        Self::LoginCodeSent,
        Self::LoginFailed,
        Self::LoginSucceeded,
        Self::MfaDisabled,
        Self::MfaEnabled,
        Self::MfaFailed,
        Self::MfaVerified,
        Self::OrgCreated,
        Self::OrgInvitationAccepted,
        Self::OrgInvitationDeclined,
        Self::OrgInvitationSent,
        Self::OrgMemberRemoved,
        Self::OrgRoleChanged,
        Self::OrgUpdated,
        Self::PasskeyAdded,
        Self::PasskeyCounterRegressed,
        Self::PasskeyRemoved,
        Self::PasswordChanged,
        Self::PasswordReset,
        Self::ReauthFailed,
        Self::Reauthenticated,
        Self::RefreshReuseDetected,
        Self::SessionRevoked,
        Self::SmsDeviceAdded,
        Self::SmsDeviceRemoved,
        Self::SocialAccountLinked,
        Self::SocialAccountUnlinked,
        Self::TotpDeviceAdded,
        Self::TotpDeviceRemoved,
        Self::WebhookCreated,
        Self::WebhookDeleted,
        Self::WebhookUpdated,
    ];

    /// The event's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AccountCreated => "account_created",
            Self::AccountDeleted => "account_deleted",
            Self::Admin2faReset => "admin_2fa_reset",
            Self::AdminForcedLogout => "admin_forced_logout",
            Self::AdminUserUpdated => "admin_user_updated",
            Self::ApiKeyCreated => "api_key_created",
            Self::ApiKeyRevoked => "api_key_revoked",
            Self::ApiKeyUsed => "api_key_used",
            Self::ApiKeysRevoked => "api_keys_revoked",
            Self::BackupCodesGenerated => "backup_codes_generated",
            Self::EmailVerified => "email_verified",
            Self::LoginCodeSent => "login_code_sent",
            Self::LoginFailed => "login_failed",
            Self::LoginSucceeded => "login_succeeded",
            Self::MfaDisabled => "mfa_disabled",
            Self::MfaEnabled => "mfa_enabled",
            Self::MfaFailed => "mfa_failed",
            Self::MfaVerified => "mfa_verified",
            Self::OrgCreated => "org_created",
            Self::OrgInvitationAccepted => "org_invitation_accepted",
            Self::OrgInvitationDeclined => "org_invitation_declined",
            Self::OrgInvitationSent => "org_invitation_sent",
            Self::OrgMemberRemoved => "org_member_removed",
            Self::OrgRoleChanged => "org_role_changed",
            Self::OrgUpdated => "org_updated",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyCounterRegressed => "passkey_counter_regressed",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasswordChanged => "password_changed",
            Self::PasswordReset => "password_reset",
            Self::ReauthFailed => "reauth_failed",
            Self::Reauthenticated => "reauthenticated",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::SessionRevoked => "session_revoked",
            Self::SmsDeviceAdded => "sms_device_added",
            Self::SmsDeviceRemoved => "sms_device_removed",
            Self::SocialAccountLinked => "social_account_linked",
            Self::SocialAccountUnlinked => "social_account_unlinked",
            Self::TotpDeviceAdded => "totp_device_added",
            Self::TotpDeviceRemoved => "totp_device_removed",
            Self::WebhookCreated => "webhook_created",
            Self::WebhookDeleted => "webhook_deleted",
            Self::WebhookUpdated => "webhook_updated",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AuditEvent;

    #[test]
    fn every_event_has_its_own_snake_case_name() {
        let names: Vec<&str> = AuditEvent::ALL.iter().map(|e| e.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, names, "sorted and unique");
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')));
    }
}

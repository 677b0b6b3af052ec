//! The decisions: login, refresh, the MFA step, recovery, re-authentication. No HTTP types.

pub mod email_links;
pub mod login;
pub mod login_codes;
pub mod passkeys;
pub mod passwords;
pub mod reauth;
pub mod require_2fa;
pub mod sign_in_methods;
pub mod sms;
pub mod social;
pub mod tokens;
pub mod webhooks;

//! The bodies of sudo mode (docs/api.md#re-authentication-sudo-mode): the answer that asks for re-authentication, and the
//! answer of `POST /api/auth/reauthenticate/`.

use utoipa::{ToResponse, ToSchema};

use super::errors::ErrorDetail;

/// 403: a sensitive action (2FA changes, a new API key, the password, deleting the account) from a
/// session that has not proved the user within `LATCHKEY_REAUTH_WINDOW`. Ask for the password or a
/// code, send it to `POST /api/auth/reauthenticate/`, and try again.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "Please confirm it is you.", "code": "reauthentication_required"}))]
pub struct ReauthenticationRequired(pub ErrorDetail);

/// The session may make sensitive changes until `expires_at`.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"expires_at": "2026-01-02T03:14:05Z"}))]
pub struct Reauthenticated {
    /// When the window closes (ISO 8601, UTC).
    #[schema(value_type = String)]
    pub expires_at: crate::infra::datetime::Rfc3339,
}

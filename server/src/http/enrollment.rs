//! 2FA enforcement at the door (docs/api.md#2fa-enforcement): a caller who must set up a second
//! factor and has none (`crate::flows::require_2fa::enrollment_required`, or an access token that
//! says `mfa_enrollment_required`) may use only the routes of [`ALLOWED`]: reading their profile,
//! setting up a second factor, re-authenticating, their sessions, and logging out. Every other route
//! that authenticates its caller (`AuthUser`, and so every `authz` extractor) answers
//! `403 mfa_enrollment_required`, for an access token and an API key alike: a key outlives the
//! sessions of the user who made it, so a key of a user who must enroll waits for the enrollment too.

use axum::extract::MatchedPath;
use axum::http::request::Parts;
use axum::http::Method;

use crate::flows::require_2fa::{enrollment_refused, enrollment_required};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::users::User;

/// Routes a caller who must set up a second factor may still use.
#[derive(Debug, Clone)]
pub enum Allowed {
    /// One operation: its method and route template.
    Operation(Method, &'static str),
    /// Every operation whose route template starts with this.
    Under(&'static str),
}

impl Allowed {
    /// Whether this entry allows `method` on route template `route`.
    pub fn allows(&self, method: &Method, route: &str) -> bool {
        match self {
            // HEAD is answered by the GET route.
            Self::Operation(allowed, template) => {
                *template == route && (allowed == method || (*allowed == Method::GET && method == Method::HEAD))
            }
            Self::Under(prefix) => route.starts_with(prefix),
        }
    }
}

/// What a caller who must set up a second factor may still do. Token refresh and blacklisting
/// authenticate by the refresh token, not by `AuthUser`, and are listed for completeness: the
/// refresh after an enrollment is what clears the token's claim.
pub const ALLOWED: [Allowed; 10] = [
    // Who am I, and am I required to enroll (`mfa_enabled`)?
    Allowed::Operation(Method::GET, "/api/auth/me/"),
    // TOTP devices (add, confirm, remove an unconfirmed one), backup codes, SMS devices, the status.
    Allowed::Under("/api/auth/2fa/"),
    // Passkeys: a passkey is a second factor too.
    Allowed::Under("/api/auth/passkeys/"),
    // Adding a factor is a privileged action: re-authentication, by password or passkey.
    Allowed::Under("/api/auth/reauthenticate/"),
    // The user's sessions: see them, name them, end them.
    Allowed::Under("/api/auth/sessions/"),
    Allowed::Operation(Method::POST, "/api/auth/logout/"),
    Allowed::Operation(Method::POST, "/api/auth/logout-all/"),
    Allowed::Operation(Method::POST, "/api/token/refresh/"),
    Allowed::Operation(Method::POST, "/api/token/blacklist/"),
    Allowed::Operation(Method::POST, "/api/token/verify/"),
];

/// Whether [`ALLOWED`] lets an un-enrolled caller use `method` on route template `route`.
pub fn allowed(method: &Method, route: &str) -> bool {
    ALLOWED.iter().any(|entry| entry.allows(method, route))
}

/// The guard `AuthUser` runs once it knows the caller, `user` (as stored now), and whether their
/// access token says `mfa_enrollment_required` (`claimed`): `403 mfa_enrollment_required` when they
/// must set up a second factor and the route is not one of [`ALLOWED`]. The claim of an older token
/// counts only while the user still has no second factor, so the token that enrolled keeps working.
pub(crate) fn check(parts: &Parts, state: &AppState, user: &User, claimed: bool) -> Result<(), ApiError> {
    let claimed = claimed && !user.mfa_enabled;
    if !claimed && !enrollment_required(&state.config, user) {
        return Ok(());
    }
    // The route's template (`/api/auth/2fa/totp/{id}/confirm/`); the path itself where the router
    // gave none (a handler mounted outside a router).
    let route = parts.extensions.get::<MatchedPath>().map_or_else(|| parts.uri.path(), MatchedPath::as_str);
    if allowed(&parts.method, route) {
        Ok(())
    } else {
        Err(enrollment_refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_match_their_method_and_template_only() {
        assert!(allowed(&Method::GET, "/api/auth/me/"));
        assert!(allowed(&Method::HEAD, "/api/auth/me/"));
        assert!(!allowed(&Method::PATCH, "/api/auth/me/"));
        assert!(!allowed(&Method::DELETE, "/api/auth/me/"));
        assert!(allowed(&Method::POST, "/api/auth/2fa/totp/{id}/confirm/"));
        assert!(allowed(&Method::DELETE, "/api/auth/sessions/{id}/"));
        assert!(!allowed(&Method::GET, "/api/auth/api-keys/"));
        assert!(!allowed(&Method::GET, "/api/orgs/"));
        // A prefix is a path prefix, not a look-alike.
        assert!(!allowed(&Method::POST, "/api/auth/2fa"));
    }
}

//! Authentication as an extractor: `AuthUser` reads `Authorization: Bearer <jwt>` exactly as
//! simplejwt's `JWTAuthentication` does, verifies an access token, and loads an
//! active user whose session is still open; or, with `X-API-Key`, finds the key (`crate::http::keys`) and
//! loads its owner. Authorization on top of it is in `crate::http::authz`; a caller who must set up a
//! second factor first is held to the routes of `crate::http::enrollment`.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use latchkey_core::token::{Claims, SessionClaims, TokenType};
use serde_json::json;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::api_keys::ApiKey;
use crate::store::users::User;

/// The authenticated user of a request, and how they proved it.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user (active), shared with the node's cache of authenticated requests.
    pub user: Arc<User>,
    /// The access token's claims, when a bearer token authenticated the request.
    pub claims: Option<Claims>,
    /// Latchkey's claims of that token (`sid`, `mfa`, `org`, `roles`...), read once; empty for an
    /// API key.
    pub session: SessionClaims,
    /// The key, when `X-API-Key` authenticated the request.
    pub api_key: Option<ApiKey>,
}

impl AuthUser {
    /// The session this access token belongs to (none for an API key).
    pub fn session_id(&self) -> Option<&str> {
        self.session.sid.as_deref()
    }

    /// Whether the session verified a second factor (the access token's `mfa`; never for an API key).
    pub fn mfa(&self) -> bool {
        self.session.mfa.unwrap_or(false)
    }

    /// The organization the access token speaks for (`org`) and the caller's role there (`roles`).
    pub fn org(&self) -> Option<(&str, &str)> {
        let org = self.session.org.as_deref()?;
        let role = self.session.roles.as_ref()?.first()?;
        Some((org, role))
    }
}

/// The raw token of an `Authorization` header, as simplejwt reads it: `None` when there is no
/// header or its scheme is not exactly `Bearer` (the request is then anonymous); an error when the
/// header does not have exactly two whitespace-separated parts.
pub fn bearer_token(parts: &Parts) -> Result<Option<String>, ApiError> {
    let Some(value) = parts.headers.get(header::AUTHORIZATION) else { return Ok(None) };
    // Valid UTF-8 (every real token) is read in place; anything else as Python would decode it.
    let text = match std::str::from_utf8(value.as_bytes()) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    };
    let mut words = text.split_ascii_whitespace();
    match (words.next(), words.next(), words.next()) {
        (None, ..) => Ok(None),
        (Some(scheme), ..) if scheme != "Bearer" => Ok(None),
        (Some(_), Some(token), None) => Ok(Some(token.to_owned())),
        _ => Err(ApiError::Token {
            detail: "Authorization header must contain two space-delimited values".into(),
            code: "bad_authorization_header",
            extra: None,
        }),
    }
}

/// Account-security endpoints an API key may never use: a key must not mint keys, change the
/// password or the second factors, or manage sessions. Those need a login.
const SESSION_ONLY: [&str; 8] = [
    "/api/auth/api-keys/",
    "/api/auth/social/",
    "/api/auth/2fa/",
    "/api/auth/passkeys/",
    "/api/auth/password/",
    "/api/auth/sessions/",
    "/api/auth/logout",
    "/api/auth/me/",
];

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(token) = bearer_token(parts)? {
            let auth = from_access_token(state, &token).await?;
            let claimed = auth.session.mfa_enrollment_required == Some(true);
            crate::http::enrollment::check(parts, state, &auth.user, claimed)?;
            return Ok(auth);
        }
        let Some(key) = parts.headers.get("x-api-key") else { return Err(ApiError::NotAuthenticated) };
        let key = String::from_utf8_lossy(key.as_bytes()).trim().to_owned();
        let Ok(client) = crate::infra::client::Client::from_request_parts(parts, state).await;
        let (user, key) = crate::store::api_keys::authenticate(state, &key, &client).await?;
        let path = parts.uri.path();
        // Reading and editing your own profile with a key is fine; deleting the account is not.
        let own_profile = path == "/api/auth/me/" && parts.method != Method::DELETE;
        if SESSION_ONLY.iter().any(|p| path.starts_with(p)) && !own_profile {
            return Err(ApiError::Forbidden("API keys cannot be used for this; log in instead.".into()));
        }
        let reads_only = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        key.allows(reads_only, path)?;
        let auth =
            AuthUser { user: Arc::new(user), claims: None, session: SessionClaims::default(), api_key: Some(key) };
        crate::http::enrollment::check(parts, state, &auth.user, false)?;
        Ok(auth)
    }
}

/// The caller's authentication when an endpoint needs it only sometimes (a social `connect`, not a
/// `login`): the outcome of [`AuthUser`]'s extraction, read only where it matters.
#[derive(Debug)]
pub struct MaybeAuthUser(pub Result<AuthUser, ApiError>);

impl FromRequestParts<AppState> for MaybeAuthUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Self(AuthUser::from_request_parts(parts, state).await))
    }
}

async fn from_access_token(state: &AppState, token: &str) -> Result<AuthUser, ApiError> {
    let now = state.clock.now();
    let claims = state.keys.verify(token, Some(TokenType::Access), now, &state.expect).map_err(|e| {
        let message = json!({ "token_class": "AccessToken", "token_type": "access", "message": e.to_string() });
        ApiError::Token {
            detail: "Given token not valid for any token type".into(),
            code: "token_not_valid",
            extra: Some(json!({ "messages": [message] })),
        }
    })?;
    let user_id: i64 = claims.user_id.parse().map_err(|_| user_not_found())?;
    let session = claims.session();
    let sid = session.sid.as_deref().unwrap_or_default();
    let found = crate::store::sessions::user_with_open_session(state, user_id, sid, now).await?;
    let Some((user, open)) = found else { return Err(user_not_found()) };
    if !user.is_active {
        return Err(ApiError::Token { detail: "User is inactive".into(), code: "user_inactive", extra: None });
    }
    if !open {
        return Err(ApiError::token_not_valid("Token is blacklisted"));
    }
    Ok(AuthUser { user, claims: Some(claims), session, api_key: None })
}

fn user_not_found() -> ApiError {
    ApiError::Token { detail: "User not found".into(), code: "user_not_found", extra: None }
}

//! A session's tokens: opening a session with its first pair, and signing refresh and access tokens
//! with the user's current claims (simplejwt's shapes, with `sid`, `mfa`, `org` and `roles`).

use latchkey_core::token::{new_jti, Claims, SessionClaims, TokenType};
use rand_core::OsRng;
use subtle::ConstantTimeEq;

use crate::infra::clock::seconds;
use crate::infra::digest::sha256_hex;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::orgs::{org_claims, OrgClaims};
use crate::store::sessions::{AuthMethod, NewSession};
use crate::store::users::User;

/// A token pair as simplejwt writes it: `refresh` first (a struct keeps the field order, where a
/// `serde_json::Map` would sort the keys).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenPair {
    /// The refresh token.
    pub refresh: String,
    /// The access token.
    pub access: String,
    /// The session the pair belongs to (not part of the body).
    #[serde(skip)]
    pub session_id: String,
}

/// Opens a session for `user` and returns its first pair. `mfa`: a second factor was verified for
/// this login (the access tokens' `mfa` claim); `method`: how the login proved the user. The
/// session ends `LATCHKEY_SESSION_MAX_AGE` from now at the latest. Also records the login in
/// `users.last_login`. Used by login, its second step, and registration.
pub async fn issue_session(
    state: &AppState,
    user: &User,
    ip: &str,
    user_agent: &str,
    mfa: bool,
    method: AuthMethod,
    org_id: Option<i64>,
) -> Result<TokenPair, ApiError> {
    let now = state.clock.now();
    // 128 random bits as 32 hex characters: the same shape as a jti.
    let sid = new_jti(&mut OsRng);
    let absolute = now.saturating_add(seconds(state.config.session_max_age));
    let (refresh, refresh_claims) = refresh_token_for(state, user.id, &sid, now, absolute)?;
    let org = org_claims(state, user.id, org_id).await?;
    let access = access_token_for(state, user, &sid, mfa, org.as_ref(), now)?;
    let session = NewSession {
        id: &sid,
        user_id: user.id,
        refresh_hash: sha256_hex(&refresh_claims.jti),
        expires_at: refresh_claims.exp,
        absolute_expires_at: absolute,
        ip,
        user_agent,
        mfa,
        org_id: org.as_ref().map(|o| o.id),
        method,
    };
    crate::store::sessions::open(state, &session, now).await?;
    Ok(TokenPair { refresh, access, session_id: sid })
}

/// The `sid` claim, or "" (which names no session) when a token has none.
pub(crate) fn session_id(claims: &Claims) -> String {
    claims.session().sid.unwrap_or_default()
}

pub(crate) fn same_hash(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A signed refresh token of session `sid`, and its claims (for `jti` and `exp`): it expires a refresh
/// lifetime from `now`, or at `absolute` (the session's absolute limit) when that comes first.
pub(crate) fn refresh_token_for(
    state: &AppState,
    user_id: i64,
    sid: &str,
    now: i64,
    absolute: i64,
) -> Result<(String, Claims), ApiError> {
    let lifetime = seconds(state.config.refresh_token_lifetime);
    let mut claims = Claims::new(TokenType::Refresh, user_id.to_string(), now, lifetime, &mut OsRng);
    claims.exp = claims.exp.min(absolute);
    claims.set_session(&SessionClaims { sid: Some(sid.to_owned()), ..SessionClaims::default() });
    Ok((sign(state, &mut claims)?, claims))
}

/// A signed access token with the user's current claims (docs/api.md#tokens), among them
/// `mfa_enrollment_required` when the user must set up a second factor first: computed from `user`
/// as loaded now, so the refresh after an enrollment clears it.
pub(crate) fn access_token_for(
    state: &AppState,
    user: &User,
    sid: &str,
    mfa: bool,
    org: Option<&OrgClaims>,
    now: i64,
) -> Result<String, ApiError> {
    let lifetime = seconds(state.config.access_token_lifetime);
    let mut claims = Claims::new(TokenType::Access, user.id.to_string(), now, lifetime, &mut OsRng);
    claims.set_session(&SessionClaims {
        sid: Some(sid.to_owned()),
        email: Some(user.email.clone()),
        is_staff: Some(user.is_staff),
        is_verified: Some(user.is_verified),
        mfa: Some(mfa),
        mfa_enrollment_required: crate::flows::require_2fa::enrollment_required(&state.config, user).then_some(true),
        org: org.map(|org| org.slug.clone()),
        roles: org.map(|org| vec![org.role.clone()]),
    });
    sign(state, &mut claims)
}

/// Adds `iss`/`aud` when configured and signs.
pub(crate) fn sign(state: &AppState, claims: &mut Claims) -> Result<String, ApiError> {
    claims.iss.clone_from(&state.config.jwt_issuer);
    claims.aud.clone_from(&state.config.jwt_audience);
    state.keys.encode(claims).map_err(|e| ApiError::Internal(format!("signing a token: {e}")))
}

//! A session's tokens: opening a session with its first pair, and signing refresh and access tokens
//! with the user's current claims (simplejwt's shapes, with `sid`, `mfa`, `org` and `roles`).

use latchkey_core::token::{new_jti, Claims, TokenType};
use rand_core::OsRng;
use serde_json::{json, Value};
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
    let now = crate::infra::clock::now();
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
pub(crate) fn session_id(claims: &Claims) -> &str {
    claims.extra.get("sid").and_then(Value::as_str).unwrap_or_default()
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
    claims.extra.insert("sid".into(), json!(sid));
    Ok((sign(state, &mut claims)?, claims))
}

/// A signed access token with the user's current claims (API.md §3).
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
    claims.extra.insert("email".into(), json!(user.email));
    claims.extra.insert("is_staff".into(), json!(user.is_staff));
    claims.extra.insert("is_verified".into(), json!(user.is_verified));
    claims.extra.insert("mfa".into(), json!(mfa));
    if let Some(org) = org {
        claims.extra.insert("org".into(), json!(org.slug));
        claims.extra.insert("roles".into(), json!([org.role]));
    }
    claims.extra.insert("sid".into(), json!(sid));
    sign(state, &mut claims)
}

/// Adds `iss`/`aud` when configured and signs.
pub(crate) fn sign(state: &AppState, claims: &mut Claims) -> Result<String, ApiError> {
    claims.iss.clone_from(&state.config.jwt_issuer);
    claims.aud.clone_from(&state.config.jwt_audience);
    state.keys.encode(claims).map_err(|e| ApiError::Internal(format!("signing a token: {e}")))
}

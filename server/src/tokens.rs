//! simplejwt's token endpoints (API.md §3, compat-specs §1): obtain a pair, refresh, verify,
//! blacklist. Every pair belongs to a session (`sessions`); refresh always rotates, and presenting
//! a rotated refresh token again revokes the whole session unless it comes within the grace window.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use latchkey_core::policy::{PasswordPolicy, Violation};
use latchkey_core::token::{new_jti, Claims, TokenType};
use rand_core::OsRng;
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

use crate::client::Client;
use crate::cookies::{with_refresh_cookie, without_refresh_cookie, BodyOrCookie};
use crate::db::flag;
use crate::drf::{CharField, Form, JsonBody};
use crate::error::ApiError;
use crate::limits::Lock;
use crate::orgs::{member_of, org_claims, OrgClaims};
use crate::sessions::{blacklisted, Session};
use crate::state::AppState;
use crate::users::{normalize_email, User};
use crate::{seconds, sha256_hex};

/// DRF's `AuthenticationFailed` from `TokenObtainPairSerializer`: one body for every failure.
pub(crate) const NO_ACTIVE_ACCOUNT: &str = "No active account found with the given credentials";

/// `TokenRefreshSerializer`'s answer for a deleted or inactive user.
const NO_ACTIVE_ACCOUNT_FOR_TOKEN: &str = "No active account found for the given token.";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/token/", post(create_token_pair))
        .route("/api/token/refresh/", post(refresh_token))
        .route("/api/token/verify/", post(verify_token))
        .route("/api/token/blacklist/", post(blacklist_token))
        // The session endpoints share the session model; they are mounted with the token routes.
        .merge(crate::sessions::router())
}

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
/// this login (the access tokens' `mfa` claim). Also records the login in `users.last_login`. Used by
/// login, its second step, and registration.
pub async fn issue_session(
    state: &AppState,
    user: &User,
    ip: &str,
    user_agent: &str,
    mfa: bool,
    org_id: Option<i64>,
) -> Result<TokenPair, ApiError> {
    let now = crate::now();
    // 128 random bits as 32 hex characters: the same shape as a jti.
    let sid = new_jti(&mut OsRng);
    let (refresh, refresh_claims) = refresh_token_for(state, user.id, &sid, now)?;
    let org = org_claims(state, user.id, org_id).await?;
    let access = access_token_for(state, user, &sid, mfa, org.as_ref(), now)?;
    let sql = "INSERT INTO sessions (id, user_id, current_hash, created_at, last_used_at, expires_at, ip, user_agent, \
               mfa, org_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    sqlx::query(sql)
        .bind(&sid)
        .bind(user.id)
        .bind(sha256_hex(&refresh_claims.jti))
        .bind(now)
        .bind(now)
        .bind(refresh_claims.exp)
        .bind(ip)
        .bind(user_agent)
        .bind(flag(mfa))
        .bind(org.as_ref().map(|o| o.id))
        .execute(&state.db.pool)
        .await?;
    sqlx::query("UPDATE users SET last_login = $1 WHERE id = $2")
        .bind(now)
        .bind(user.id)
        .execute(&state.db.pool)
        .await?;
    Ok(TokenPair { refresh, access, session_id: sid })
}

/// The answer carrying a new pair: the pair as JSON, or in cookie mode `{"access"}` with the
/// refresh token in the `HttpOnly` cookie.
pub(crate) fn pair_response(state: &AppState, pair: TokenPair, cookie: bool) -> Result<Response, ApiError> {
    if cookie {
        return with_refresh_cookie(&state.config, &pair.refresh, json!({ "access": pair.access }));
    }
    Ok(Json(pair).into_response())
}

/// `POST /api/token/`: `{"email" or "username", "password"}` → `{"refresh", "access"}`; with
/// `"cookie": true`, `{"access"}` and the refresh token in the `HttpOnly` cookie. An account with
/// 2FA needs its code too: in `otp`, or in a second step after `403 mfa_required` (`crate::mfa::login`).
#[utoipa::path(
    post, path = "/api/token/", tag = "tokens",
    request_body = crate::openapi::TokenObtainRequest,
    responses(
        (status = 200, description = "A new session's tokens.", body = crate::openapi::IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the refresh token, `latchkey_refresh`."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::LoginFailed),
        (status = 403, response = crate::openapi::MfaRequired),
        (status = 429, response = crate::openapi::Throttled),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
async fn create_token_pair(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Credentials { login, password, otp, org, cookie } = read_credentials(&body, &state.policy)?;
    crate::limits::hit(&state, "login", "ip", &client.ip).await?;
    let name = match &login {
        Login::Email(email) => normalize_email(email),
        Login::Username(username) => username.clone(),
    };
    // Locked out, known account or not: refused before any hashing, with the same answer.
    let locks: Vec<Lock> = std::iter::once(Lock::account(&state, &name)).chain(Lock::ip(&state, &client.ip)).collect();
    for lock in &locks {
        if let Err(refusal) = lock.check(&state).await {
            login_failed(&state, None, &client, &name, "locked_out").await?;
            return Err(refusal);
        }
    }
    let user = match login {
        Login::Email(_) => User::by_email(&state.db, &name).await?,
        Login::Username(_) => User::by_username(&state.db, &name).await?,
    };
    // An unknown user burns the time of a real check, so timing does not reveal who exists; an
    // inactive one is checked like anyone else (Django checks the password before `is_active`).
    let verified = state.hasher.verify(password.clone(), user.as_ref().map(|u| u.password.clone())).await?;
    let user_id = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|u| verified.ok && u.is_active) else {
        // Unknown user, wrong password, inactive user: one answer, one failure counted.
        for lock in &locks {
            lock.failed(&state).await?;
        }
        let reason = if verified.ok { "inactive" } else { "bad_credentials" };
        login_failed(&state, user_id, &client, &name, reason).await?;
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT));
    };
    locks[0].succeeded(&state).await?;
    if verified.needs_rehash {
        // Django upgrades old hashes on a successful check; so does Latchkey, to argon2id.
        let hash = state.hasher.hash(password).await?;
        sqlx::query("UPDATE users SET password = $1 WHERE id = $2")
            .bind(hash)
            .bind(user.id)
            .execute(&state.db.pool)
            .await?;
    }
    if state.config.verification_mandatory() && !user.is_verified {
        login_failed(&state, Some(user.id), &client, &name, "email_not_verified").await?;
        return Err(ApiError::Token {
            detail: "E-mail address is not verified.".into(),
            code: "email_not_verified",
            extra: None,
        });
    }
    let org_id = match &org {
        Some(slug) => Some(member_of(&state, slug, user.id).await?),
        None => None,
    };
    // The second factor comes last, so its answers only ever go to someone who knows the password.
    if user.mfa_enabled {
        let Some(otp) = otp else {
            return Err(crate::mfa::login::require_second_factor(&state, user.id, cookie, org.as_deref()).await?);
        };
        crate::mfa::login::check_login_code(&state, &user, &otp, &client).await?;
    }
    finish_login(&state, &user, &client, user.mfa_enabled, cookie, org_id).await
}

/// The end of every login, once the password (and the second factor, `mfa`) are verified: an
/// expired password gets `403 password_expired` and a token to change it with; otherwise a new
/// session, a notice e-mail for a device not seen before (`LATCHKEY_NOTIFY_NEW_LOGIN`), and its tokens.
pub(crate) async fn finish_login(
    state: &AppState,
    user: &User,
    client: &Client,
    mfa: bool,
    cookie: bool,
    org_id: Option<i64>,
) -> Result<Response, ApiError> {
    if crate::lifecycle::password_expired(state, user) {
        let purpose = crate::challenges::Purpose::PasswordChange;
        let slug = org_claims(state, user.id, org_id).await?.map(|org| org.slug);
        let token = crate::challenges::create(state, purpose, user.id, cookie, mfa, slug.as_deref()).await?;
        return Err(ApiError::PasswordExpired { password_change_token: token });
    }
    if state.config.notify_new_login {
        crate::lifecycle::notify_if_new_device(state, user, client).await?;
    }
    let pair = issue_session(state, user, &client.ip, &client.user_agent, mfa, org_id).await?;
    let actor = crate::audit::Actor { user_id: Some(user.id), client, session_id: Some(&pair.session_id) };
    crate::audit::record(state, "login_succeeded", actor, json!({ "mfa": mfa })).await?;
    pair_response(state, pair, cookie)
}

/// Audits a refused login: `reason` is `bad_credentials`, `inactive`, `locked_out` or
/// `email_not_verified`; `login` is the name given (never the password).
async fn login_failed(
    state: &AppState,
    user_id: Option<i64>,
    client: &Client,
    login: &str,
    reason: &str,
) -> Result<(), ApiError> {
    let actor = crate::audit::Actor { user_id, client, session_id: None };
    crate::audit::record(state, "login_failed", actor, json!({ "reason": reason, "login": login })).await
}

/// How the caller names the account.
enum Login {
    Email(String),
    Username(String),
}

/// A valid login form.
struct Credentials {
    login: Login,
    password: String,
    /// A TOTP or backup code, for one-step login to an account with 2FA.
    otp: Option<String>,
    /// The slug of an organization the access tokens should speak for.
    org: Option<String>,
    /// The refresh token goes in the cookie, not the body.
    cookie: bool,
}

/// The login form: `email` (or `username` when only that is given) trimmed like a DRF
/// `CharField`, `password` kept as typed, optional `otp` and boolean `cookie`. A password over the policy's
/// `max_length_bytes` gets the policy's own `password_too_long` message, before any hashing:
/// argon2 or PBKDF2 over megabytes of input would be a cheap way to burn the server's CPU.
fn read_credentials(body: &Value, policy: &PasswordPolicy) -> Result<Credentials, ApiError> {
    let mut form = Form::new(body);
    let login = if form.has("username") && !form.has("email") {
        form.string("username", CharField::REQUIRED).map(Login::Username)
    } else {
        form.string("email", CharField::REQUIRED).map(Login::Email)
    };
    let password = form.string("password", CharField::PASSWORD);
    let max_bytes = policy.max_length_bytes;
    if password.as_ref().is_some_and(|p| p.len() > max_bytes) {
        form.error("password", Violation::TooLong { max_bytes }.message());
    }
    let otp = form.string("otp", CharField { required: false, trim: true, allow_blank: false });
    let org = form.string("org", CharField { required: false, trim: true, allow_blank: false });
    let cookie = form.boolean("cookie").unwrap_or(false);
    form.finish()?;
    match (login, password) {
        (Some(login), Some(password)) => Ok(Credentials { login, password, otp, org, cookie }),
        _ => Err(ApiError::Internal("the login form passed without its fields".into())),
    }
}

/// `POST /api/token/refresh/`: `{"refresh"}` → `{"access", "refresh"}`, rotating the session. With
/// the refresh cookie instead, `{"access"}` and the rotated cookie.
#[utoipa::path(
    post, path = "/api/token/refresh/", tag = "tokens",
    request_body = crate::openapi::RefreshRequest,
    responses(
        (status = 200, description = "The next tokens; the old refresh token is spent.",
            body = crate::openapi::IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the next refresh token."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::TokenNotValid),
        (status = 403, response = crate::openapi::CsrfFailed),
    )
)]
async fn refresh_token(
    State(state): State<AppState>,
    client: Client,
    request: BodyOrCookie,
) -> Result<Response, ApiError> {
    let token = refresh_of(&request)?;
    let now = crate::now();
    let claims = verify(&state, &token, Some(TokenType::Refresh), now)?;
    let user = match claims.user_id.parse::<i64>() {
        Ok(id) => User::by_id(&state.db, id).await?,
        Err(_) => None,
    };
    let Some(user) = user.filter(|u| u.is_active) else {
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN));
    };
    let session = current_session(&state, &claims, now, &client).await?;
    // `org` switches the organization the session's access tokens speak for.
    let mut form = Form::new(&request.body);
    let org = form.string("org", CharField { required: false, trim: true, allow_blank: false });
    let org_id = match &org {
        Some(slug) => Some(member_of(&state, slug, user.id).await?),
        None => session.org_id,
    };
    let (refresh, new_claims) = refresh_token_for(&state, user.id, &session.id, now)?;
    // Compare-and-swap: of concurrent refreshes of one token exactly one matches `current_hash`;
    // the others change nothing and are told the token is used up, without revoking the session.
    let org = org_claims(&state, user.id, org_id).await?;
    let sql = "UPDATE sessions SET previous_hash = current_hash, current_hash = $1, rotated_at = $2, \
               last_used_at = $3, expires_at = $4, org_id = $5 WHERE id = $6 AND current_hash = $7 AND revoked_at IS NULL";
    let done = sqlx::query(sql)
        .bind(sha256_hex(&new_claims.jti))
        .bind(now)
        .bind(now)
        .bind(new_claims.exp)
        .bind(org.as_ref().map(|o| o.id))
        .bind(&session.id)
        .bind(&session.current_hash)
        .execute(&state.db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(blacklisted());
    }
    let access = access_token_for(&state, &user, &session.id, session.mfa, org.as_ref(), now)?;
    if request.cookie.is_some() {
        return with_refresh_cookie(&state.config, &refresh, json!({ "access": access }));
    }
    Ok(Json(json!({ "access": access, "refresh": refresh })).into_response())
}

/// `POST /api/token/verify/`: `{"token"}` of either type → `{}`. A token whose session is closed,
/// or a refresh token that has been rotated, is blacklisted. Nothing is revoked here.
#[utoipa::path(
    post, path = "/api/token/verify/", tag = "tokens",
    request_body = crate::openapi::VerifyRequest,
    responses(
        (status = 200, description = "The token is valid.", body = crate::openapi::Empty),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::TokenNotValid),
    )
)]
async fn verify_token(State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<Json<Value>, ApiError> {
    let token = read_token(&body, "token")?;
    let now = crate::now();
    let claims = verify(&state, &token, None, now)?;
    let session = Session::load(&state, session_id(&claims)).await?;
    let usable = session.is_some_and(|s| {
        s.is_open(now)
            && s.user_id.to_string() == claims.user_id
            && (claims.token_type == TokenType::Access || same_hash(&sha256_hex(&claims.jti), &s.current_hash))
    });
    if !usable {
        return Err(blacklisted());
    }
    Ok(Json(json!({})))
}

/// `POST /api/token/blacklist/`: `{"refresh"}` or the refresh cookie → `{}`, revoking its session;
/// the cookie, when used, is deleted.
#[utoipa::path(
    post, path = "/api/token/blacklist/", tag = "tokens",
    request_body = crate::openapi::RefreshRequest,
    responses(
        (status = 200, description = "The token's session is revoked.", body = crate::openapi::Empty,
            headers(("Set-Cookie" = String, description = "Cookie mode: deletes the refresh cookie."))),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::TokenNotValid),
        (status = 403, response = crate::openapi::CsrfFailed),
    )
)]
async fn blacklist_token(
    State(state): State<AppState>,
    client: Client,
    request: BodyOrCookie,
) -> Result<Response, ApiError> {
    let token = refresh_of(&request)?;
    let now = crate::now();
    let claims = verify(&state, &token, Some(TokenType::Refresh), now)?;
    let session = current_session(&state, &claims, now, &client).await?;
    if !crate::sessions::revoke(&state, &session.id, session.user_id, now).await? {
        return Err(blacklisted());
    }
    let actor = crate::audit::Actor { user_id: Some(session.user_id), client: &client, session_id: Some(&session.id) };
    crate::audit::record(&state, "session_revoked", actor, json!({ "by": "blacklist" })).await?;
    if request.cookie.is_some() {
        return without_refresh_cookie(&state.config, json!({}));
    }
    Ok(Json(json!({})).into_response())
}

/// The refresh token of a refresh or blacklist request: the cookie's, or the body's `refresh`.
fn refresh_of(request: &BodyOrCookie) -> Result<String, ApiError> {
    match &request.cookie {
        Some(token) => Ok(token.clone()),
        None => read_token(&request.body, "refresh"),
    }
}

/// The one required, trimmed string field of the refresh, verify and blacklist bodies.
fn read_token(body: &Value, field: &str) -> Result<String, ApiError> {
    let mut form = Form::new(body);
    let token = form.string(field, CharField::REQUIRED);
    form.finish()?;
    token.ok_or_else(|| ApiError::Internal("the token form passed without its field".into()))
}

/// The core's verification, with simplejwt's `token_not_valid` messages.
fn verify(state: &AppState, token: &str, expected: Option<TokenType>, now: i64) -> Result<Claims, ApiError> {
    state.keys.verify(token, expected, now, &state.expect).map_err(|e| ApiError::token_not_valid(e.to_string()))
}

/// The session of a verified refresh token, if that token is the session's current one.
///
/// Anything else is `Token is blacklisted`: an unknown, revoked or expired session, or a token that
/// was already rotated. The latter is reuse, and revokes the whole session, unless it is the token
/// rotated last and comes within the grace window (two tabs refreshing at once).
async fn current_session(state: &AppState, claims: &Claims, now: i64, client: &Client) -> Result<Session, ApiError> {
    let session = Session::load(state, session_id(claims)).await?;
    let Some(session) = session.filter(|s| s.is_open(now) && s.user_id.to_string() == claims.user_id) else {
        return Err(blacklisted());
    };
    let presented = sha256_hex(&claims.jti);
    if same_hash(&presented, &session.current_hash) {
        return Ok(session);
    }
    let grace = seconds(state.config.refresh_reuse_grace);
    let is_previous = session.previous_hash.as_deref().is_some_and(|previous| same_hash(&presented, previous));
    let in_grace = is_previous && session.rotated_at.is_some_and(|at| now < at.saturating_add(grace));
    if !in_grace {
        crate::sessions::revoke(state, &session.id, session.user_id, now).await?;
        let actor = crate::audit::Actor { user_id: Some(session.user_id), client, session_id: Some(&session.id) };
        crate::audit::record(state, "refresh_reuse_detected", actor, json!({ "session_revoked": true })).await?;
    }
    Err(blacklisted())
}

/// The `sid` claim, or "" (which names no session) when a token has none.
fn session_id(claims: &Claims) -> &str {
    claims.extra.get("sid").and_then(Value::as_str).unwrap_or_default()
}

fn same_hash(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// A signed refresh token of session `sid`, and its claims (for `jti` and `exp`).
fn refresh_token_for(state: &AppState, user_id: i64, sid: &str, now: i64) -> Result<(String, Claims), ApiError> {
    let lifetime = seconds(state.config.refresh_token_lifetime);
    let mut claims = Claims::new(TokenType::Refresh, user_id.to_string(), now, lifetime, &mut OsRng);
    claims.extra.insert("sid".into(), json!(sid));
    Ok((sign(state, &mut claims)?, claims))
}

/// A signed access token with the user's current claims (API.md §3).
fn access_token_for(
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
fn sign(state: &AppState, claims: &mut Claims) -> Result<String, ApiError> {
    claims.iss.clone_from(&state.config.jwt_issuer);
    claims.aud.clone_from(&state.config.jwt_audience);
    state.keys.encode(claims).map_err(|e| ApiError::Internal(format!("signing a token: {e}")))
}

//! simplejwt's token endpoints (docs/api.md#tokens): obtain a pair, refresh, verify,
//! blacklist. Every pair belongs to a session (`sessions`); refresh always rotates, and presenting
//! a rotated refresh token again revokes the whole session unless it comes within the grace window.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::token::{Claims, TokenType};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::tokens::{access_token_for, refresh_token_for, same_hash, session_id};
// Where embedders and tests have found them since version 1.
use crate::flows::require_2fa::{org_verdict, require_for_org, OrgRequest, OrgVerdict};
pub use crate::flows::tokens::{issue_session, TokenPair};
use crate::http::cookies::{with_refresh_cookie, without_refresh_cookie, BodyOrCookie};
use crate::http::drf::{Body, CharField, Form, FormBody};
use crate::http::openapi::schemas::{Empty, IssuedTokens, RefreshRequest, VerifyRequest};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::infra::{clock::seconds, digest::sha256_hex};
use crate::store::audit::AuditEvent;
use crate::store::orgs::{member_of, org_claims};
pub use crate::store::sessions::AuthMethod;
use crate::store::sessions::{blacklisted, Rotation, Session};
use crate::store::users::User;

/// `TokenRefreshSerializer`'s answer for a deleted or inactive user.
const NO_ACTIVE_ACCOUNT_FOR_TOKEN: &str = "No active account found for the given token.";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(refresh_token)).routes(routes!(verify_token)).routes(routes!(blacklist_token))
}

/// The answer carrying a new pair: the pair as JSON (`refresh` first, as simplejwt writes it), or
/// in cookie mode `{"access"}` with the refresh token in the `HttpOnly` cookie.
pub(crate) fn pair_response(state: &AppState, pair: TokenPair, cookie: bool) -> Result<Response, ApiError> {
    issued(state, pair.access, pair.refresh, cookie, true)
}

/// [`IssuedTokens`]: in cookie mode `{"access"}` and `refresh` in the cookie; otherwise both, in
/// the order `refresh_first` says.
fn issued(
    state: &AppState,
    access: String,
    refresh: String,
    cookie: bool,
    refresh_first: bool,
) -> Result<Response, ApiError> {
    if cookie {
        let body = IssuedTokens { access, refresh: None, refresh_first };
        return with_refresh_cookie(&state.config, &refresh, body);
    }
    Ok(Json(IssuedTokens { access, refresh: Some(refresh), refresh_first }).into_response())
}

/// `POST /api/token/refresh/`: `{"refresh"}` → `{"access", "refresh"}`, rotating the session. With
/// the refresh cookie instead, `{"access"}` and the rotated cookie.
#[utoipa::path(
    post, path = "/api/token/refresh/", tag = "tokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The next tokens; the old refresh token is spent.", body = IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the next refresh token."))),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::TokenNotValid),
        (status = 403, response = crate::http::openapi::errors::CsrfFailed),
    )
)]
async fn refresh_token(
    State(state): State<AppState>,
    client: Client,
    request: BodyOrCookie,
) -> Result<Response, ApiError> {
    let answer = rotate_refresh(&state, &client, &request).await;
    state.metrics.refresh(answer.is_ok());
    answer
}

/// The refresh itself; its caller counts the outcome (`latchkey_token_refreshes_total`).
async fn rotate_refresh(state: &AppState, client: &Client, request: &BodyOrCookie) -> Result<Response, ApiError> {
    let token = refresh_of(request)?;
    let now = state.clock.now();
    let claims = verify(state, &token, Some(TokenType::Refresh), now)?;
    let user = match claims.user_id.parse::<i64>() {
        Ok(id) => User::by_id(&state.db, id).await?,
        Err(_) => None,
    };
    let Some(user) = user.filter(|u| u.is_active) else {
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT_FOR_TOKEN));
    };
    let session = current_session(state, &claims, now, client).await?;
    // `org` switches the organization the session's access tokens speak for. It is not part of
    // `RefreshRequest` (nor of the document): an `org` that is not a valid string is ignored, not
    // refused, and only read once the token is known good.
    let org = Form::new(&request.body).string("org", CharField { required: false, trim: true, allow_blank: false });
    let org_id = match &org {
        Some(slug) => {
            let org_id = member_of(state, slug, user.id).await?;
            let cookie = request.cookie.is_some();
            let asked = OrgRequest { org_id, mfa: session.mfa, cookie, method: &session.auth_method };
            require_for_org(state, &user, client, asked).await?;
            Some(org_id)
        }
        // The session's organization, unless it has required 2FA since and the session does not
        // meet that: then the tokens speak for none, as for a member removed since.
        None => match session.org_id {
            Some(org_id) => {
                (org_verdict(state, &user, org_id, session.mfa).await? == OrgVerdict::Allowed).then_some(org_id)
            }
            None => None,
        },
    };
    // The new token lives a refresh lifetime from now (the idle limit), but never past the absolute limit.
    let (refresh, new_claims) = refresh_token_for(state, user.id, &session.id, now, session.absolute_expires_at)?;
    // Compare-and-swap: of concurrent refreshes of one token exactly one matches `current_hash`;
    // the others change nothing and are told the token is used up, without revoking the session.
    let org = org_claims(state, user.id, org_id).await?;
    let rotation = Rotation {
        new_hash: sha256_hex(&new_claims.jti),
        expires_at: new_claims.exp,
        org_id: org.as_ref().map(|o| o.id),
    };
    if !crate::store::sessions::rotate(state, &session, &rotation, now).await? {
        return Err(blacklisted());
    }
    let access = access_token_for(state, &user, &session.id, session.mfa, org.as_ref(), now)?;
    // simplejwt's refresh writes `access` first.
    issued(state, access, refresh, request.cookie.is_some(), false)
}

/// `POST /api/token/verify/`: `{"token"}` of either type → `{}`. A token whose session is closed,
/// or a refresh token that has been rotated, is blacklisted. Nothing is revoked here.
#[utoipa::path(
    post, path = "/api/token/verify/", tag = "tokens",
    request_body = VerifyRequest,
    responses(
        (status = 200, description = "The token is valid.", body = Empty),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::TokenNotValid),
    )
)]
async fn verify_token(
    State(state): State<AppState>,
    Body(VerifyRequest { token }): Body<VerifyRequest>,
) -> Result<Json<Empty>, ApiError> {
    let now = state.clock.now();
    let claims = verify(&state, &token, None, now)?;
    // An access token's session is looked up as every authenticated request looks it up: from
    // the node's memory when it knows it (exact: every revocation forgets what it closes), else
    // from the database, remembering the answer. The user's state does not matter here, as in
    // simplejwt: verify says whether the token is valid, not whether its user may act.
    if claims.token_type == TokenType::Access {
        let user_id = claims.user_id.parse().map_err(|_| blacklisted())?;
        let found = crate::store::sessions::user_with_open_session(&state, user_id, &session_id(&claims), now).await?;
        return match found {
            Some((_, true)) => Ok(Json(Empty {})),
            _ => Err(blacklisted()),
        };
    }
    // A refresh token: only the session's current one is valid.
    let session = Session::load(&state, &session_id(&claims)).await?;
    let usable = session.is_some_and(|s| {
        s.is_open(now)
            && s.user_id.to_string() == claims.user_id
            && same_hash(&sha256_hex(&claims.jti), &s.current_hash)
    });
    if !usable {
        return Err(blacklisted());
    }
    Ok(Json(Empty {}))
}

/// `POST /api/token/blacklist/`: `{"refresh"}` or the refresh cookie → `{}`, revoking its session;
/// the cookie, when used, is deleted.
#[utoipa::path(
    post, path = "/api/token/blacklist/", tag = "tokens",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "The token's session is revoked.", body = Empty,
            headers(("Set-Cookie" = String, description = "Cookie mode: deletes the refresh cookie."))),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::TokenNotValid),
        (status = 403, response = crate::http::openapi::errors::CsrfFailed),
    )
)]
async fn blacklist_token(
    State(state): State<AppState>,
    client: Client,
    request: BodyOrCookie,
) -> Result<Response, ApiError> {
    let token = refresh_of(&request)?;
    let now = state.clock.now();
    let claims = verify(&state, &token, Some(TokenType::Refresh), now)?;
    let session = current_session(&state, &claims, now, &client).await?;
    if !crate::store::sessions::revoke(&state, &session.id, session.user_id, now).await? {
        return Err(blacklisted());
    }
    let actor =
        crate::store::audit::Actor { user_id: Some(session.user_id), client: &client, session_id: Some(&session.id) };
    crate::store::audit::record(&state, AuditEvent::SessionRevoked, actor, json!({ "by": "blacklist" })).await?;
    if request.cookie.is_some() {
        return without_refresh_cookie(&state.config, Empty {});
    }
    Ok(Json(Empty {}).into_response())
}

/// The refresh token of a refresh or blacklist request: the cookie's, or the body's `refresh`,
/// which is then required. (With the cookie, the body has no `refresh`: see [`BodyOrCookie`].)
fn refresh_of(request: &BodyOrCookie) -> Result<String, ApiError> {
    let mut form = Form::new(&request.body);
    let RefreshRequest { refresh } = RefreshRequest::read(&mut form);
    if request.cookie.is_none() && request.body.is_object() && !form.has("refresh") {
        form.error("refresh", "This field is required.");
    }
    form.finish()?;
    let token = request.cookie.clone().or(refresh);
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
    let session = Session::load(state, &session_id(claims)).await?;
    let Some(session) = session.filter(|s| s.revoked_at.is_none() && s.user_id.to_string() == claims.user_id) else {
        return Err(blacklisted());
    };
    // A session past its idle or absolute limit ended by itself: its tokens are expired, as the
    // token's own `exp` (capped at the absolute limit) says, whatever else they are.
    if !session.is_open(now) {
        return Err(ApiError::token_not_valid("Token is expired"));
    }
    let presented = sha256_hex(&claims.jti);
    if same_hash(&presented, &session.current_hash) {
        return Ok(session);
    }
    let grace = seconds(state.config.refresh_reuse_grace);
    let is_previous = session.previous_hash.as_deref().is_some_and(|previous| same_hash(&presented, previous));
    let in_grace = is_previous && session.rotated_at.is_some_and(|at| now < at.saturating_add(grace));
    if !in_grace {
        state.metrics.refresh_reuse();
        crate::store::sessions::revoke(state, &session.id, session.user_id, now).await?;
        let actor =
            crate::store::audit::Actor { user_id: Some(session.user_id), client, session_id: Some(&session.id) };
        crate::store::audit::record(state, AuditEvent::RefreshReuseDetected, actor, json!({ "session_revoked": true }))
            .await?;
    }
    Err(blacklisted())
}

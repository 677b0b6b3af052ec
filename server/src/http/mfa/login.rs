//! The second step of login (docs/api.md#tokens). After the right password, an account with 2FA gets
//! `403 mfa_required` and a single-use `mfa_token` valid 5 minutes; `POST /api/token/mfa/` trades it
//! with a TOTP or backup code, or a passkey's assertion (`POST /api/token/mfa/webauthn/options/`
//! first), for the session's tokens, whose access tokens say `"mfa": true`. The login may instead
//! carry the code in `otp` and finish in one step.

use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{verify_code, Accept, Purpose};
use axum::Json;

use crate::flows::login::{finish_login, LoginContext};
use crate::http::drf::{Body, Form, JsonBody};
use crate::http::openapi::passkey_schemas::{MfaTokenRequest, PasskeyStepOptions};
use crate::http::openapi::schemas::{IssuedTokens, MfaLoginRequest};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::Actor;
use crate::store::challenges::{self, Purpose as ChallengePurpose};
use crate::store::sessions::AuthMethod;
use crate::store::users::User;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(complete_login)).routes(routes!(passkey_options))
}

/// The answer to a wrong second factor at login.
pub(crate) fn invalid_code() -> ApiError {
    ApiError::Token { detail: super::INVALID_CODE.into(), code: "mfa_invalid", extra: None }
}

/// An `mfa_token` that is unknown, used or expired.
fn challenge_gone() -> ApiError {
    ApiError::Token {
        detail: "The two-factor login has expired or was already used. Log in again.".into(),
        code: "mfa_token_invalid",
        extra: None,
    }
}

/// The `403 mfa_required` answer for `user_id`, whose password was right: a new challenge.
/// `cookie` (the login asked for cookie mode) carries over to the second step.
pub(crate) async fn require_second_factor(
    state: &AppState,
    user_id: i64,
    (cookie, org): (bool, Option<&str>),
    method: &AuthMethod,
) -> Result<ApiError, ApiError> {
    crate::flows::require_2fa::second_step(state, user_id, (cookie, org), method).await
}

/// The session of `user`, proved by `method` (a provider, an e-mailed code), as after a password:
/// the verification rule, the organization, and the second factor when the account has 2FA (what
/// proved the user is not a second factor: the `mfa` claim is Latchkey's).
pub(crate) async fn open_session(
    state: &AppState,
    client: &Client,
    (user, method): (&User, AuthMethod),
    (cookie, org): (bool, Option<String>),
) -> Result<Response, ApiError> {
    crate::flows::login::require_verified_email(state, user, client, &user.email).await?;
    let org_id = match &org {
        Some(slug) => Some(crate::store::orgs::member_of(state, slug, user.id).await?),
        None => None,
    };
    if user.mfa_enabled {
        return Err(require_second_factor(state, user.id, (cookie, org.as_deref()), &method).await?);
    }
    let pair = finish_login(state, user, client, LoginContext { method, mfa: false, cookie, org_id }).await?;
    crate::http::tokens::pair_response(state, pair, cookie)
}

/// The one-step login's `otp`: a TOTP or backup code of `user`, or `401 mfa_invalid`.
pub(crate) async fn check_login_code(
    state: &AppState,
    user: &User,
    code: &str,
    client: &Client,
) -> Result<(), ApiError> {
    let actor = Actor { user_id: Some(user.id), client, session_id: None };
    match verify_code(state, actor, code, Accept::AnyFactor, Purpose::Login).await? {
        Some(_) => Ok(()),
        None => Err(invalid_code()),
    }
}

/// `POST /api/token/mfa/`: `{"mfa_token", "code"}` or `{"mfa_token", "credential"}` → the tokens
/// of a new session with `"mfa": true` (the refresh token in the cookie when the login asked for
/// cookie mode, or `"cookie": true` here). A wrong factor leaves the `mfa_token` usable.
#[utoipa::path(
    post, path = "/api/token/mfa/", tag = "tokens",
    request_body = MfaLoginRequest,
    responses(
        (status = 200, description = "A new session's tokens.", body = IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the refresh token, `latchkey_refresh`."))),
        (status = 400, response = crate::http::openapi::passkey_schemas::PasskeyInvalid),
        (status = 401, response = crate::http::openapi::errors::MfaInvalid),
        (status = 403, response = crate::http::openapi::lifecycle_schemas::PasswordExpired),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn complete_login(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    // The network is counted before the form is read: an invalid form counts too.
    crate::store::limits::hit(&state, crate::infra::config::Limit::MfaIp, &client.network).await?;
    let MfaLoginRequest { mfa_token: token, code, credential, cookie } = Form::new(&body).read()?;
    let (challenge, user) = pending_login(&state, &token).await?;
    match (code, credential) {
        (_, Some(credential)) => {
            let actor = Actor { user_id: Some(user.id), client: &client, session_id: None };
            crate::flows::passkeys::assertion::finish_second_factor(&state, actor, &token, &credential).await?;
        }
        (Some(code), None) => check_login_code(&state, &user, &code, &client).await?,
        (None, None) => return Err(ApiError::field("code", "This field is required.")),
    }
    // Single use: of two requests racing with one token, only the one that spends it goes on.
    if !challenge.spend(&state).await? {
        return Err(challenge_gone());
    }
    // The organization was checked at the first step; a member removed since gets no `org`.
    let cookie = cookie || challenge.cookie;
    let login = LoginContext { method: challenge.method, mfa: true, cookie, org_id: challenge.org_id };
    let pair = finish_login(&state, &user, &client, login).await?;
    crate::http::tokens::pair_response(&state, pair, cookie)
}

/// `POST /api/token/mfa/webauthn/options/`: `{"mfa_token"}` → `{"publicKey"}`, the options of an
/// assertion by one of the account's passkeys, to send to `POST /api/token/mfa/` as `credential`.
#[utoipa::path(
    post, path = "/api/token/mfa/webauthn/options/", tag = "tokens",
    request_body = MfaTokenRequest,
    responses(
        (status = 200, description = "The assertion's options.", body = PasskeyStepOptions),
        (status = 400, response = crate::http::openapi::passkey_schemas::PasskeyInvalid),
        (status = 401, response = crate::http::openapi::errors::MfaInvalid),
        (status = 404, response = crate::http::openapi::passkey_schemas::PasskeysUnavailable),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn passkey_options(
    State(state): State<AppState>,
    client: Client,
    Body(MfaTokenRequest { mfa_token }): Body<MfaTokenRequest>,
) -> Result<Json<PasskeyStepOptions>, ApiError> {
    crate::flows::passkeys::relying_party(&state)?;
    crate::store::limits::hit(&state, crate::infra::config::Limit::MfaIp, &client.network).await?;
    let (_, user) = pending_login(&state, &mfa_token).await?;
    let public_key = crate::flows::passkeys::assertion::begin_second_factor(&state, &mfa_token, user.id).await?;
    Ok(Json(PasskeyStepOptions { public_key }))
}

/// The login waiting for its second factor under `token`, and its user (still active).
pub(super) async fn pending_login(state: &AppState, token: &str) -> Result<(challenges::Challenge, User), ApiError> {
    let Some(challenge) = challenges::find(state, ChallengePurpose::Mfa, token).await? else {
        return Err(challenge_gone());
    };
    // Deactivated since the password step: the same answer as a failed login.
    let Some(user) = User::by_id(&state.db, challenge.user_id).await?.filter(|u| u.is_active) else {
        return Err(ApiError::AuthenticationFailed(crate::flows::login::NO_ACTIVE_ACCOUNT));
    };
    Ok((challenge, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_codes_and_spent_tokens_have_distinct_codes() {
        let body = |e: ApiError| match e {
            ApiError::Token { code, .. } => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(body(invalid_code()), "mfa_invalid");
        assert_eq!(body(challenge_gone()), "mfa_token_invalid");
    }
}

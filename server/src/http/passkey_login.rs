//! Signing in with a passkey (docs/api.md#passkeys): options (for an account, or for any discoverable
//! passkey, which is what the browser's autofill uses), then the browser's assertion for a new
//! session. The session's `auth_method` is `passkey`; its access tokens say `"mfa": true` when the
//! authenticator verified the user (a PIN or a biometric: two factors in one), `false` otherwise.
//!
//! Options are counted under `login:ip` (each stores a ceremony row for 5 minutes); an answer
//! needs a ceremony, so it is bounded by them.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::login::{finish_login, login_failed, require_verified_email, LoginContext, NO_ACTIVE_ACCOUNT};
use crate::flows::passkeys::assertion;
use crate::http::drf::Body;
use crate::http::openapi::passkey_schemas::{PasskeyAnswer, PasskeyLoginOptionsRequest, PasskeyOptions};
use crate::http::openapi::schemas::IssuedTokens;
use crate::http::tokens::pair_response;
use crate::infra::client::Client;
use crate::infra::config::Limit;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::Actor;
use crate::store::orgs::member_of;
use crate::store::sessions::AuthMethod;
use crate::store::users::{normalize_email, User};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login_options)).routes(routes!(login))
}

/// `POST /api/token/passkey/options/`: `{}` → options for any discoverable passkey (empty
/// `allowCredentials`: the browser's account picker or autofill); `{"email"}` → options for that
/// account's passkeys (made-up ones for an address without any, so that the answer does not tell).
#[utoipa::path(
    post, path = "/api/token/passkey/options/", tag = "tokens",
    request_body = PasskeyLoginOptionsRequest,
    responses(
        (status = 200, description = "The ceremony's options.", body = PasskeyOptions),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 404, response = crate::http::openapi::passkey_schemas::PasskeysUnavailable),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn login_options(
    State(state): State<AppState>,
    client: Client,
    Body(PasskeyLoginOptionsRequest { email }): Body<PasskeyLoginOptionsRequest>,
) -> Result<Json<PasskeyOptions>, ApiError> {
    crate::flows::passkeys::relying_party(&state)?;
    crate::store::limits::hit(&state, Limit::LoginIp, &client.network).await?;
    let email = email.map(|e| normalize_email(&e));
    let (ceremony_id, public_key) = assertion::begin_login(&state, email.as_deref()).await?;
    Ok(Json(PasskeyOptions { ceremony_id, public_key }))
}

/// `POST /api/token/passkey/`: `{"ceremony_id", "credential"}` (optional `cookie`, `org`) → the
/// tokens of a new session, as `POST /api/token/` answers them.
#[utoipa::path(
    post, path = "/api/token/passkey/", tag = "tokens",
    request_body = PasskeyAnswer,
    responses(
        (status = 200, description = "A new session's tokens.", body = IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the refresh token, `latchkey_refresh`."))),
        (status = 400, response = crate::http::openapi::passkey_schemas::PasskeyInvalid),
        (status = 401, response = crate::http::openapi::errors::LoginFailed),
        (status = 404, response = crate::http::openapi::passkey_schemas::PasskeysUnavailable),
    )
)]
async fn login(
    State(state): State<AppState>,
    client: Client,
    Body(answer): Body<PasskeyAnswer>,
) -> Result<Response, ApiError> {
    let actor = Actor { user_id: None, client: &client, session_id: None };
    let asserted = assertion::finish_login(&state, actor, &answer.ceremony_id, &answer.credential).await?;
    let Some(user) = User::by_id(&state.db, asserted.user_id).await? else {
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT));
    };
    if !user.is_active {
        login_failed(&state, Some(user.id), &client, &user.email, "inactive").await?;
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT));
    }
    require_verified_email(&state, &user, &client, &user.email).await?;
    let org_id = match &answer.org {
        Some(slug) => Some(member_of(&state, slug, user.id).await?),
        None => None,
    };
    let context =
        LoginContext { method: AuthMethod::Passkey, mfa: asserted.user_verified, cookie: answer.cookie, org_id };
    let pair = finish_login(&state, &user, &client, context).await?;
    pair_response(&state, pair, answer.cookie)
}

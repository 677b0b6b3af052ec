//! Social login (docs/api.md#social-login): the configured providers, the authorization request,
//! the provider's callback, a `login_code` or a confirmed link for a session's tokens, and the
//! caller's linked accounts. The decisions are in `crate::flows::social`.

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::social::complete::{self, Proved};
use crate::flows::social::{self as social, Asker, AuthorizeRequest, Callback};
use crate::http::auth::{AuthUser, MaybeAuthUser};
use crate::http::drf::Body;
use crate::http::openapi::schemas::IssuedTokens;
use crate::http::openapi::social_schemas::{
    AuthorizationUrl, ProviderObject, SocialAuthorizeRequest, SocialLinkConfirm, SocialTokenRequest,
};
use crate::infra::client::Client;
use crate::infra::config::Limit;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::Actor;
use crate::store::sessions::AuthMethod;
use crate::store::social_accounts::{SocialAccount, SocialAccountObject};
use crate::store::social_flows::Process;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(providers))
        .routes(routes!(authorize))
        .routes(routes!(callback))
        .routes(routes!(token))
        .routes(routes!(confirm_link))
        .routes(routes!(accounts))
        .routes(routes!(unlink))
}

/// `GET /api/auth/providers/`: the configured providers, for the sign-in page's buttons.
#[utoipa::path(
    get, path = "/api/auth/providers/", tag = "social",
    responses((status = 200, description = "The configured providers, in their configured order.", body = [ProviderObject]))
)]
async fn providers(State(state): State<AppState>) -> Json<Vec<ProviderObject>> {
    let list = state.social.list().map(|p| ProviderObject { id: p.id().to_owned(), name: p.name().to_owned() });
    Json(list.collect())
}

/// `POST /api/auth/social/{provider}/authorize/`: `{"process", "return_to", "binding"?}` → the
/// provider's authorization URL. `login` is anonymous and counted under `login:ip`; `connect` needs
/// a signed-in session that proved the user recently.
#[utoipa::path(
    post, path = "/api/auth/social/{provider}/authorize/", tag = "social",
    params(("provider" = String, Path, description = "The provider's id.")),
    request_body = SocialAuthorizeRequest,
    responses(
        (status = 200, description = "Send the browser there.", body = AuthorizationUrl),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
        (status = 503, response = crate::http::openapi::social_schemas::ProviderUnavailable),
    )
)]
async fn authorize(
    State(state): State<AppState>,
    client: Client,
    caller: MaybeAuthUser,
    Path(provider): Path<String>,
    Body(body): Body<SocialAuthorizeRequest>,
) -> Result<Json<AuthorizationUrl>, ApiError> {
    if state.social.get(&provider).is_none() {
        return Err(ApiError::NotFound);
    }
    let process = match body.process.as_deref() {
        None | Some("login") => Process::Login,
        Some("connect") => Process::Connect,
        Some(_) => return Err(ApiError::field("process", "Choose \"login\" or \"connect\".")),
    };
    let request =
        AuthorizeRequest { provider: &provider, process, return_to: &body.return_to, binding: body.binding.as_deref() };
    let authorization_url = match process {
        Process::Login => {
            crate::store::limits::hit(&state, Limit::LoginIp, &client.network).await?;
            social::authorize(&state, request, None).await?
        }
        Process::Connect => {
            let auth = caller.0?;
            crate::flows::reauth::require_recent(&state, auth.session_id()).await?;
            let session_id = auth.session_id().ok_or(ApiError::ReauthenticationRequired)?;
            social::authorize(&state, request, Some(Asker { user: &auth.user, session_id })).await?
        }
    };
    Ok(Json(AuthorizationUrl { authorization_url }))
}

/// `GET /api/auth/social/{provider}/callback/?code&state`: the provider sends the browser here; it
/// goes on to the flow's `return_to` with `login_code`, `link_token` and `email`, `linked` or `error`.
#[utoipa::path(
    get, path = "/api/auth/social/{provider}/callback/", tag = "social",
    params(
        ("provider" = String, Path, description = "The provider's id."),
        ("code" = Option<String>, Query, description = "The provider's authorization code."),
        ("state" = Option<String>, Query, description = "The flow's state."),
        ("error" = Option<String>, Query, description = "The provider's refusal (`access_denied`, ...)."),
    ),
    responses(
        (status = 302, description = "To `return_to`, with the outcome in the query.",
            headers(("Location" = String, description = "`return_to` and the outcome."))),
        (status = 400, response = crate::http::openapi::social_schemas::SocialStateInvalid),
    )
)]
async fn callback(
    State(state): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mut answer = Callback::default();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let slot = match name.as_ref() {
            "code" => &mut answer.code,
            "state" => &mut answer.state,
            "error" => &mut answer.error,
            _ => continue,
        };
        // A repeated parameter is a forged or broken answer: the first one counts.
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    let location = social::callback(&state, &client, &provider, answer).await?;
    let location = HeaderValue::from_str(&location).map_err(|e| ApiError::Internal(format!("redirect: {e}")))?;
    let headers = [
        (header::LOCATION, location),
        // The codes in the address must not leak to the next page's requests.
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    Ok((StatusCode::FOUND, headers).into_response())
}

/// `POST /api/token/social/`: `{"login_code", "binding"?, "cookie"?, "org"?}` → the tokens of a new
/// session, or `403 mfa_required` for an account with 2FA.
#[utoipa::path(
    post, path = "/api/token/social/", tag = "tokens",
    request_body = SocialTokenRequest,
    responses(
        (status = 200, description = "A new session's tokens.", body = IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the refresh token, `latchkey_refresh`."))),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::social_schemas::LoginCodeInvalid),
        (status = 403, response = crate::http::openapi::errors::MfaRequired),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn token(
    State(state): State<AppState>,
    client: Client,
    Body(body): Body<SocialTokenRequest>,
) -> Result<Response, ApiError> {
    crate::store::limits::hit(&state, Limit::LoginIp, &client.network).await?;
    let proved = complete::spend_login_code(&state, &body.login_code, body.binding.as_deref()).await?;
    open_session(&state, &client, proved, (body.cookie, body.org)).await
}

/// `POST /api/auth/social/link/confirm/`: `{"link_token", "password", ...}` → links the provider
/// identity to the account with that address, then as `POST /api/token/social/`.
#[utoipa::path(
    post, path = "/api/auth/social/link/confirm/", tag = "social",
    request_body = SocialLinkConfirm,
    responses(
        (status = 200, description = "Linked; a new session's tokens.", body = IssuedTokens),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::LoginFailed),
        (status = 403, response = crate::http::openapi::errors::MfaRequired),
        (status = 409, response = crate::http::openapi::social_schemas::AccountInUse),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn confirm_link(
    State(state): State<AppState>,
    client: Client,
    Body(body): Body<SocialLinkConfirm>,
) -> Result<Response, ApiError> {
    let max_bytes = state.policy.max_length_bytes;
    if body.password.len() > max_bytes {
        let message = latchkey_core::policy::Violation::TooLong { max_bytes }.message();
        return Err(ApiError::field("password", message));
    }
    let given = (body.link_token.as_str(), body.password);
    let proved = complete::confirm_link(&state, &client, given, body.binding.as_deref()).await?;
    open_session(&state, &client, proved, (body.cookie, body.org)).await
}

async fn open_session(
    state: &AppState,
    client: &Client,
    Proved { user, provider }: Proved,
    login: (bool, Option<String>),
) -> Result<Response, ApiError> {
    crate::http::mfa::login::open_session(state, client, (&user, AuthMethod::Social(provider)), login).await
}

/// `GET /api/auth/social/accounts/`: the caller's linked provider accounts, newest first.
#[utoipa::path(
    get, path = "/api/auth/social/accounts/", tag = "social", security(("bearer" = [])),
    responses(
        (status = 200, description = "The linked accounts.", body = [SocialAccountObject]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn accounts(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<SocialAccountObject>>, ApiError> {
    let accounts = SocialAccount::list(&state, auth.user.id).await?;
    Ok(Json(accounts.iter().map(SocialAccount::object).collect()))
}

/// `DELETE /api/auth/social/accounts/{id}/`: unlinks it (privileged); the account's last way to
/// sign in is `409 last_sign_in_method`.
#[utoipa::path(
    delete, path = "/api/auth/social/accounts/{id}/", tag = "social", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The linked account's id.")),
    responses(
        (status = 204, description = "Unlinked."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 409, response = crate::http::openapi::passkey_schemas::LastSignInMethod),
    )
)]
async fn unlink(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    // Another user's link is a 404 before any 403.
    if !SocialAccount::list(&state, auth.user.id).await?.iter().any(|a| a.id == id) {
        return Err(ApiError::NotFound);
    }
    crate::flows::reauth::require_recent(&state, auth.session_id()).await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    complete::unlink(&state, actor, &auth.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

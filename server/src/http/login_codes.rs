//! Signing in with an e-mailed code or link (docs/api.md#e-mail-codes-and-magic-links): asking for
//! one, and trading it for a session. The decisions are in `crate::flows::login_codes`.
//!
//! The link opens `/login/code?flow=…&token=…`, a page of the demo (or of the application) that
//! sends the token here by `POST` when the user presses its button: a mail scanner that fetches the
//! link spends nothing.

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::login_codes::{self, Proof, REQUESTED};
use crate::http::drf::{Form, JsonBody};
use crate::http::openapi::code_schemas::{CodeRequested, CodeTokenRequest};
use crate::http::openapi::lifecycle_schemas::EmailRequest;
use crate::http::openapi::schemas::IssuedTokens;
use crate::infra::client::Client;
use crate::infra::config::Limit;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::sessions::AuthMethod;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(request_code)).routes(routes!(token))
}

/// `LATCHKEY_LOGIN_CODES=off`: both endpoints are 404, before their bodies are read.
fn enabled(state: &AppState) -> Result<(), ApiError> {
    if state.config.login_codes {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// `POST /api/auth/code/request/`: `{"email"}` → always the same 200 with a new `flow_id`. An
/// active account with that address is e-mailed a 6-digit code and a link, valid 10 minutes.
#[utoipa::path(
    post, path = "/api/auth/code/request/", tag = "codes",
    request_body = EmailRequest,
    responses(
        (status = 200, description = "The same answer for every address.", body = CodeRequested),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn request_code(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Json<CodeRequested>, ApiError> {
    enabled(&state)?;
    let EmailRequest { email } = Form::new(&body).read()?;
    let flow_id = login_codes::request(&state, &client, email).await?;
    Ok(Json(CodeRequested { detail: REQUESTED.to_owned(), flow_id }))
}

/// `POST /api/token/code/`: `{"flow_id", "code"}` or `{"flow_id", "token"}` (optional `cookie`,
/// `org`) → the tokens of a new session (`auth_method` `code`), or `403 mfa_required` for an account
/// with 2FA.
#[utoipa::path(
    post, path = "/api/token/code/", tag = "codes",
    request_body = CodeTokenRequest,
    responses(
        (status = 200, description = "A new session's tokens.", body = IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the refresh token, `latchkey_refresh`."))),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::code_schemas::CodeInvalid),
        (status = 403, response = crate::http::openapi::errors::MfaRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn token(State(state): State<AppState>, client: Client, JsonBody(body): JsonBody) -> Result<Response, ApiError> {
    enabled(&state)?;
    // The network is counted before the form is read: an invalid form counts too.
    crate::store::limits::hit(&state, Limit::LoginIp, &client.network).await?;
    let CodeTokenRequest { flow_id, code, token, cookie, org } = Form::new(&body).read()?;
    let proof = match (code, token) {
        (Some(code), None) => Proof::Code(code),
        (None, Some(token)) => Proof::Token(token),
        _ => return Err(ApiError::Internal("the code form passed without exactly one proof".into())),
    };
    let user = login_codes::redeem(&state, &client, &flow_id, &proof).await?;
    // The code proved the address, not a second factor: an account with 2FA still needs one.
    crate::http::mfa::login::open_session(&state, &client, (&user, AuthMethod::Code), (cookie, org)).await
}

//! The caller's passkeys (docs/api.md#passkeys): list, register (options, then the browser's answer),
//! rename, remove. Registering and removing are privileged, as every 2FA change: once 2FA is on,
//! only a session that verified a second factor may make them, and only within the
//! re-authentication window (`403 reauthentication_required` otherwise).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::passkeys::{self, DEFAULT_NAME};
use crate::http::auth::AuthUser;
use crate::http::drf::Body;
use crate::http::openapi::passkey_schemas::{PasskeyAnswer, PasskeyName, PasskeyOptions, PasskeyRename};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::Actor;
use crate::store::passkeys::{Passkey, PasskeyObject};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(registration_options))
        .routes(routes!(register))
        .routes(routes!(rename, remove))
}

/// `GET /api/auth/passkeys/`: the caller's passkeys, oldest first.
#[utoipa::path(
    get, path = "/api/auth/passkeys/", tag = "passkeys", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's passkeys.", body = [PasskeyObject]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn list(State(state): State<AppState>, auth: AuthUser) -> Result<Json<Vec<PasskeyObject>>, ApiError> {
    let passkeys = Passkey::list(&state, auth.user.id).await?;
    Ok(Json(passkeys.iter().map(Passkey::shown).collect()))
}

/// `POST /api/auth/passkeys/register/options/`: `{"name"}` (optional) → the options of a new
/// discoverable passkey (user verification preferred), for `navigator.credentials.create()`.
#[utoipa::path(
    post, path = "/api/auth/passkeys/register/options/", tag = "passkeys", security(("bearer" = [])),
    request_body = PasskeyName,
    responses(
        (status = 200, description = "The ceremony's options.", body = PasskeyOptions),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::passkey_schemas::PasskeysUnavailable),
    )
)]
async fn registration_options(
    State(state): State<AppState>,
    auth: AuthUser,
    Body(PasskeyName { name }): Body<PasskeyName>,
) -> Result<Json<PasskeyOptions>, ApiError> {
    passkeys::relying_party(&state)?;
    crate::http::mfa::require_second_factor_session(&state, &auth).await?;
    let name = name.as_deref().unwrap_or(DEFAULT_NAME);
    let (ceremony_id, public_key) = passkeys::begin_registration(&state, &auth.user, auth.session_id(), name).await?;
    Ok(Json(PasskeyOptions { ceremony_id, public_key }))
}

/// `POST /api/auth/passkeys/register/`: `{"ceremony_id", "credential", "name"}` → 201 the passkey.
/// The first passkey turns 2FA on (a passkey is a second factor) and verifies this session.
#[utoipa::path(
    post, path = "/api/auth/passkeys/register/", tag = "passkeys", security(("bearer" = [])),
    request_body = PasskeyAnswer,
    responses(
        (status = 201, description = "The new passkey.", body = PasskeyObject),
        (status = 400, response = crate::http::openapi::passkey_schemas::PasskeyInvalid),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::passkey_schemas::PasskeysUnavailable),
    )
)]
async fn register(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Body(answer): Body<PasskeyAnswer>,
) -> Result<(StatusCode, Json<PasskeyObject>), ApiError> {
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    let given = (answer.ceremony_id.as_str(), &answer.credential);
    let passkey = passkeys::finish_registration(&state, actor, &auth.user, given, answer.name).await?;
    Ok((StatusCode::CREATED, Json(passkey.shown())))
}

/// `PATCH /api/auth/passkeys/{id}/`: `{"name"}` → the renamed passkey.
#[utoipa::path(
    patch, path = "/api/auth/passkeys/{id}/", tag = "passkeys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The passkey's id.")),
    request_body = PasskeyRename,
    responses(
        (status = 200, description = "The renamed passkey.", body = PasskeyObject),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn rename(
    State(state): State<AppState>,
    auth: AuthUser,
    Path(id): Path<String>,
    Body(PasskeyRename { name }): Body<PasskeyRename>,
) -> Result<Json<PasskeyObject>, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let passkey = Passkey::rename(&state, auth.user.id, id, &name).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(passkey.shown()))
}

/// `DELETE /api/auth/passkeys/{id}/`: removes the passkey (privileged). The account's last way to
/// sign in is `409 last_sign_in_method`; the last second factor turns 2FA off.
#[utoipa::path(
    delete, path = "/api/auth/passkeys/{id}/", tag = "passkeys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The passkey's id.")),
    responses(
        (status = 204, description = "The passkey is gone."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 409, response = crate::http::openapi::passkey_schemas::LastSignInMethod),
    )
)]
async fn remove(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    let passkey = Passkey::find(&state, auth.user.id, id).await?.ok_or(ApiError::NotFound)?;
    crate::http::mfa::require_second_factor_session(&state, &auth).await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    passkeys::remove(&state, actor, &auth.user, passkey).await?;
    Ok(StatusCode::NO_CONTENT)
}

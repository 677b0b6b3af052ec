//! "Sudo mode" (API.md §12): sensitive actions need a session that proved the user recently, by its
//! login or by `POST /api/auth/reauthenticate/` within `LATCHKEY_REAUTH_WINDOW`. The window itself
//! lives in `crate::reauth`; this is the endpoint that opens it again.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::audit::Actor;
use crate::auth::AuthUser;
use crate::client::Client;
use crate::drf::JsonBody;
use crate::error::ApiError;
use crate::mfa::Purpose;
use crate::reauth::{Action, Method};
use crate::state::AppState;
use crate::users::iso8601;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/auth/reauthenticate/", post(reauthenticate))
}

/// `POST /api/auth/reauthenticate/`: `{"password"}` or a current `{"code"}` (TOTP or backup code)
/// opens the session's window for sensitive actions again, under the same per-user limit as every
/// other re-authentication. A code also counts as this session's second factor.
#[utoipa::path(
    post, path = "/api/auth/reauthenticate/", tag = "accounts", security(("bearer" = [])),
    request_body = crate::openapi::Reauthentication,
    responses(
        (status = 200, description = "Sensitive actions are open to this session until `expires_at`.",
            body = crate::openapi::Reauthenticated),
        (status = 400, response = crate::openapi::BadRequest),
        (status = 401, response = crate::openapi::Unauthenticated),
        (status = 403, response = crate::openapi::Forbidden),
        (status = 429, response = crate::openapi::Throttled),
        (status = 503, response = crate::openapi::Unavailable),
    )
)]
async fn reauthenticate(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    // An API key has no session to open a window in.
    let Some(sid) = auth.session_id() else { return Err(ApiError::PermissionDenied) };
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: Some(sid) };
    let reasons = (Purpose::Reauthenticate, Action::Reauthenticate);
    let method = crate::mfa::prove_identity(&state, &auth.user, actor, &body, reasons).await?;
    if method == Method::Code {
        crate::mfa::mark_session(&state, sid).await?;
    }
    crate::reauth::mark_recent(&state, sid).await?;
    let method = if method == Method::Code { "code" } else { "password" };
    crate::audit::record(&state, "reauthenticated", actor, json!({ "method": method })).await?;
    let until = crate::now().saturating_add(crate::seconds(state.config.reauth_window));
    Ok(Json(json!({ "expires_at": iso8601(until) })))
}

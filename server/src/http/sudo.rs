//! "Sudo mode" (docs/api.md#re-authentication-sudo-mode): sensitive actions need a session that proved the user recently, by its
//! login or by `POST /api/auth/reauthenticate/` within `LATCHKEY_REAUTH_WINDOW`. The window itself
//! lives in `crate::flows::reauth`; this is the endpoint that opens it again.

use axum::extract::State;
use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::reauth::{Action, Method};
use crate::http::auth::AuthUser;
use crate::http::drf::{Form, FormBody, JsonBody};
use crate::http::mfa::Purpose;
use crate::http::openapi::passkey_schemas::{PasskeyAnswer, PasskeyOptions, SudoProof};
use crate::http::openapi::privileged::Reauthenticated;
use crate::http::openapi::schemas::Reauthentication;
use crate::infra::client::Client;
use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{Actor, AuditEvent};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(reauthenticate)).routes(routes!(passkey_options))
}

/// `POST /api/auth/reauthenticate/`: `{"password"}`, a current `{"code"}` (TOTP or backup code), or a
/// passkey's `{"ceremony_id", "credential"}` (options from `POST /api/auth/reauthenticate/passkey/options/`)
/// opens the session's window for sensitive actions again, under the same per-user limit as every
/// other re-authentication. A code, or a passkey that verified the user, also counts as this
/// session's second factor.
#[utoipa::path(
    post, path = "/api/auth/reauthenticate/", tag = "accounts", security(("bearer" = [])),
    request_body = SudoProof,
    responses(
        (status = 200, description = "Sensitive actions are open to this session until `expires_at`.",
            body = Reauthenticated),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 429, response = crate::http::openapi::errors::Throttled),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
async fn reauthenticate(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Reauthenticated>, ApiError> {
    let mut form = Form::new(&body);
    // An API key has no session to open a window in.
    let Some(sid) = auth.session_id() else { return Err(ApiError::PermissionDenied) };
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: Some(sid) };
    let (method, second_factor) = if form.has("credential") {
        let answer = PasskeyAnswer::read(&mut form);
        if form.has("password") || form.has("code") {
            form.error("non_field_errors", "Give your password, a code or a passkey, one of them.");
        }
        form.finish()?;
        let check = crate::flows::passkeys::assertion::finish_reauthentication(
            &state,
            actor,
            &answer.ceremony_id,
            &answer.credential,
        );
        (Method::Passkey, crate::flows::reauth::passkey(&state, actor, check).await?)
    } else {
        let proof = Reauthentication::read(&mut form);
        let reasons = (Purpose::Reauthenticate, Action::Reauthenticate);
        let method = crate::http::mfa::prove_identity(&state, &auth.user, actor, (form, proof), reasons).await?;
        (method, method == Method::Code)
    };
    if second_factor {
        crate::http::mfa::mark_session(&state, sid).await?;
    }
    if second_factor && method == Method::Passkey {
        // A code's check audits itself (`verify_code`); a passkey that verified the user is the same event.
        state.metrics.mfa("reauthenticate", crate::infra::metrics::MfaResult::Success);
        let detail = json!({ "purpose": "reauthenticate", "method": "webauthn" });
        crate::store::audit::record(&state, AuditEvent::MfaVerified, actor, detail).await?;
    }
    crate::flows::reauth::mark_recent(&state, sid).await?;
    let detail = json!({ "method": method.as_str() });
    crate::store::audit::record(&state, AuditEvent::Reauthenticated, actor, detail).await?;
    let until = state.clock.now().saturating_add(crate::infra::clock::seconds(state.config.reauth_window));
    Ok(Json(Reauthenticated { expires_at: Rfc3339(until) }))
}

/// `POST /api/auth/reauthenticate/passkey/options/`: `{}` → the options of an assertion by one of the
/// caller's passkeys, to send to `POST /api/auth/reauthenticate/` with the `ceremony_id`.
#[utoipa::path(
    post, path = "/api/auth/reauthenticate/passkey/options/", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "The ceremony's options.", body = PasskeyOptions),
        (status = 400, response = crate::http::openapi::passkey_schemas::PasskeyInvalid),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::passkey_schemas::PasskeysUnavailable),
    )
)]
async fn passkey_options(State(state): State<AppState>, auth: AuthUser) -> Result<Json<PasskeyOptions>, ApiError> {
    crate::flows::passkeys::relying_party(&state)?;
    let Some(sid) = auth.session_id() else { return Err(ApiError::PermissionDenied) };
    let (ceremony_id, public_key) =
        crate::flows::passkeys::assertion::begin_reauthentication(&state, auth.user.id, sid).await?;
    Ok(Json(PasskeyOptions { ceremony_id, public_key }))
}

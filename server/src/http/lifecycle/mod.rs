//! The password lifecycle and e-mail verification (docs/api.md#password-lifecycle): the policy and live validation, change,
//! reset by e-mailed link, verification of the address, history and expiry, and the notices the
//! user gets by e-mail. Links are signed by `crate::infra::links`; mail goes out through `crate::infra::mail`.

pub(crate) mod change;
pub(crate) mod recovery;

use axum::extract::State;
use axum::Json;
use latchkey_core::policy::UserAttributes;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::drf::{CharField, Form, JsonBody};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_policy))
        .routes(routes!(validate_password))
        .merge(change::router())
        .merge(recovery::router())
}

/// `GET /api/auth/password/policy/`: the active policy, with its fingerprint; the npm package's
/// `validatePassword` given this object answers exactly as the server does.
#[utoipa::path(
    get, path = "/api/auth/password/policy/", tag = "passwords",
    responses((status = 200, description = "The active password policy.", body = crate::http::openapi::lifecycle_schemas::PasswordPolicy))
)]
async fn get_policy(State(state): State<AppState>) -> Json<Value> {
    Json(serde_json::to_value(&*state.policy).unwrap_or_default())
}

/// `POST /api/auth/password/validate/`: `{"password"}` and the optional user fields → the policy's
/// verdict, the same JSON as the npm package's `validatePassword` for the same input and policy.
/// The history rule needs an account, so it is left to change and reset.
#[utoipa::path(
    post, path = "/api/auth/password/validate/", tag = "passwords",
    request_body = crate::http::openapi::lifecycle_schemas::ValidatePasswordRequest,
    responses(
        (status = 200, description = "The verdict.", body = crate::http::openapi::lifecycle_schemas::PasswordValidation),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
    )
)]
async fn validate_password(State(state): State<AppState>, JsonBody(body): JsonBody) -> Result<Json<Value>, ApiError> {
    let mut form = Form::new(&body);
    let password = form.string("password", CharField { required: true, trim: false, allow_blank: true });
    let optional = CharField { required: false, trim: false, allow_blank: true };
    let user = UserAttributes {
        email: form.string("email", optional),
        username: form.string("username", optional),
        first_name: form.string("first_name", optional),
        last_name: form.string("last_name", optional),
    };
    form.finish()?;
    let verdict = state.policy.validate(&password.unwrap_or_default(), &user);
    Ok(Json(serde_json::to_value(verdict).map_err(|e| ApiError::Internal(e.to_string()))?))
}

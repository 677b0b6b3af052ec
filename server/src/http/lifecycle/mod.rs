//! The password lifecycle and e-mail verification (docs/api.md#password-lifecycle): the policy and live validation, change,
//! reset by e-mailed link, verification of the address, history and expiry, and the notices the
//! user gets by e-mail. Links are signed by `crate::infra::links`; mail goes out through `crate::infra::mail`.

pub(crate) mod change;
pub(crate) mod recovery;

use axum::extract::State;
use axum::Json;
use latchkey_core::policy::UserAttributes;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::drf::Body;
use crate::http::openapi::lifecycle_schemas::{PasswordPolicy, PasswordValidation, ValidatePasswordRequest};
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
    responses((status = 200, description = "The active password policy.", body = PasswordPolicy))
)]
async fn get_policy(State(state): State<AppState>) -> Json<PasswordPolicy> {
    Json(PasswordPolicy::from(&*state.policy))
}

/// `POST /api/auth/password/validate/`: `{"password"}` and the optional user fields → the policy's
/// verdict, the same JSON as the npm package's `validatePassword` for the same input and policy,
/// plus `password_breached` when the breached-password check is on and the policy accepts the
/// password (the npm package cannot know it). The history rule needs an account, so it is left to
/// change and reset.
#[utoipa::path(
    post, path = "/api/auth/password/validate/", tag = "passwords",
    request_body = ValidatePasswordRequest,
    responses(
        (status = 200, description = "The verdict.", body = PasswordValidation),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
    )
)]
async fn validate_password(
    State(state): State<AppState>,
    Body(request): Body<ValidatePasswordRequest>,
) -> Json<PasswordValidation> {
    let ValidatePasswordRequest { password, email, username, first_name, last_name } = request;
    let user = UserAttributes { email, username, first_name, last_name };
    let verdict = state.policy.validate(&password, &user);
    Json(crate::flows::passwords::with_breach_check(&state, verdict, &password).await.into())
}

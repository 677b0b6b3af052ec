//! Links by e-mail: the password reset (request, then confirm with the link's `uid` and `token`) and
//! the verification of the address (sent at registration, resent on request).
//!
//! A request that names an address answers the same whether or not it is registered, after the same
//! work: the lookup and the message happen in a task of their own, after the answer is sent.

use axum::extract::State;
use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::email_links::{in_background, link_kind, link_state, send_link, send_verification};
use crate::flows::passwords::{check_new_password, replace_password, Change};
use crate::http::auth::AuthUser;
use crate::http::drf::{Body, Form, JsonBody};
use crate::http::openapi::lifecycle_schemas::{
    Detail, EmailRequest, ResendRequest, ResetConfirmRequest, VerifyEmailRequest,
};
use crate::infra::client::Client;
use crate::infra::clock::seconds;
use crate::infra::error::ApiError;
use crate::infra::links::{parse_uid, Purpose};
use crate::infra::state::AppState;
use crate::store::audit::AuditEvent;
use crate::store::users::User;

const RESET_SENT: &str = "If the address is registered, a reset link has been sent.";
const RESET_DONE: &str = "Password has been reset with the new password.";
const BAD_LINK: &str = "The link is invalid or has expired.";
const VERIFIED: &str = "E-mail address verified.";
const VERIFICATION_SENT: &str = "If the address is registered and not yet verified, a verification link has been sent.";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_reset))
        .routes(routes!(confirm_reset))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
}

/// The user a link's `uid` and `token` are for, if the token is theirs, for `purpose`, and unexpired.
async fn linked_user(state: &AppState, purpose: Purpose, uid: &str, token: &str) -> Result<Option<User>, ApiError> {
    let Some(id) = parse_uid(uid) else { return Ok(None) };
    let max_age = seconds(link_kind(state, purpose).2);
    let user = User::by_id(&state.db, id).await?;
    Ok(user.filter(|u| state.links.check(purpose, u.id, &link_state(purpose, u), token, state.clock.now(), max_age)))
}

/// The answer `{"detail": message}`.
fn detail(message: &str) -> Json<Detail> {
    Json(Detail { detail: message.to_owned() })
}

/// `POST /api/auth/password/reset/`: `{"email"}` → always the same 200. An active account with that
/// address gets a link that works once, for `LATCHKEY_PASSWORD_RESET_TIMEOUT`.
#[utoipa::path(
    post, path = "/api/auth/password/reset/", tag = "passwords",
    request_body = EmailRequest,
    responses(
        (status = 200, description = "The same answer for every address.", body = Detail),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
    )
)]
async fn request_reset(
    State(state): State<AppState>,
    client: Client,
    Body(EmailRequest { email }): Body<EmailRequest>,
) -> Result<Json<Detail>, ApiError> {
    crate::store::limits::hit(&state, crate::infra::config::Limit::ResetIp, &client.network).await?;
    crate::store::limits::hit(&state, crate::infra::config::Limit::ResetEmail, &email).await?;
    let task_state = state.clone();
    in_background(async move {
        let state = task_state;
        let Some(user) = User::by_email(&state.db, &email).await?.filter(|u| u.is_active) else { return Ok(()) };
        send_link(&state, &user, Purpose::PasswordReset);
        Ok(())
    });
    Ok(detail(RESET_SENT))
}

/// `POST /api/auth/password/reset/confirm/`: `{"uid", "token", "new_password"}` from the link. The
/// new password must pass the policy; on success every session is revoked and the address counts
/// as verified.
#[utoipa::path(
    post, path = "/api/auth/password/reset/confirm/", tag = "passwords",
    request_body = ResetConfirmRequest,
    responses(
        (status = 200, description = "The password is replaced.", body = Detail),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
async fn confirm_reset(
    State(state): State<AppState>,
    client: Client,
    Body(ResetConfirmRequest { uid, token, new_password: password }): Body<ResetConfirmRequest>,
) -> Result<Json<Detail>, ApiError> {
    let user = linked_user(&state, Purpose::PasswordReset, &uid, &token).await?;
    let Some(user) = user.filter(|u| u.is_active) else {
        return Err(ApiError::field("token", BAD_LINK));
    };
    check_new_password(&state, &user, &password, "new_password", &client).await?;
    let hash =
        state.hasher.hash(password, &crate::infra::passwords::Claimant::new(user.email.clone(), &client)).await?;
    // The compare-and-set on the old hash makes the link single-use even against itself.
    if !replace_password(&state, &user, &hash, None, Change::Reset, &client).await? {
        return Err(ApiError::field("token", BAD_LINK));
    }
    Ok(detail(RESET_DONE))
}

/// `POST /api/auth/email/verify/`: `{"uid", "token"}` from the link → the address is verified.
/// Following the link again is harmless and answers the same.
#[utoipa::path(
    post, path = "/api/auth/email/verify/", tag = "passwords",
    request_body = VerifyEmailRequest,
    responses(
        (status = 200, description = "The address is verified.", body = Detail),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
    )
)]
async fn verify_email(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Detail>, ApiError> {
    // Counted before the body is read: a malformed request counts too.
    crate::store::limits::hit(&state, crate::infra::config::Limit::VerifyIp, &client.network).await?;
    let VerifyEmailRequest { uid, token } = Form::new(&body).read::<VerifyEmailRequest>()?;
    let Some(user) = linked_user(&state, Purpose::VerifyEmail, &uid, &token).await? else {
        return Err(ApiError::field("token", BAD_LINK));
    };
    if crate::store::users::mark_verified(&state.db, user.id, &user.email).await? {
        let actor = crate::store::audit::Actor { user_id: Some(user.id), client: &client, session_id: None };
        crate::store::audit::record(&state, AuditEvent::EmailVerified, actor, json!({})).await?;
    }
    Ok(detail(VERIFIED))
}

/// `POST /api/auth/email/verify/resend/`: signed in, a new link to the caller's address; or, for
/// someone who cannot sign in yet (mandatory verification), `{"email"}` and always the same answer.
#[utoipa::path(
    post, path = "/api/auth/email/verify/resend/", tag = "passwords", security(("bearer" = []), ()),
    request_body = ResendRequest,
    responses(
        (status = 200, description = "Sent, unless the address is already verified.", body = Detail),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn resend_verification(
    State(state): State<AppState>,
    auth: Result<AuthUser, ApiError>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Json<Detail>, ApiError> {
    // An anonymous request names the address: bounded and checked before anything is counted. A
    // signed-in one's body is not read.
    let named = match &auth {
        Err(ApiError::NotAuthenticated) => Some(Form::new(&body).read::<ResendRequest>()?.email),
        _ => None,
    };
    crate::store::limits::hit(&state, crate::infra::config::Limit::ResendIp, &client.network).await?;
    if let Ok(auth) = &auth {
        crate::store::limits::hit(&state, crate::infra::config::Limit::ResendEmail, &auth.user.email).await?;
    }
    match auth {
        Ok(auth) if auth.user.is_verified => Ok(detail("Your e-mail address is already verified.")),
        Ok(auth) => {
            send_verification(&state, &auth.user);
            Ok(detail("Verification e-mail sent."))
        }
        Err(ApiError::NotAuthenticated) => {
            let email = named.unwrap_or_default();
            crate::store::limits::hit(&state, crate::infra::config::Limit::ResendEmail, &email).await?;
            let state = state.clone();
            in_background(async move {
                let user = User::by_email(&state.db, &email).await?;
                if let Some(user) = user.filter(|u| u.is_active && !u.is_verified) {
                    send_verification(&state, &user);
                }
                Ok(())
            });
            Ok(detail(VERIFICATION_SENT))
        }
        Err(error) => Err(error),
    }
}

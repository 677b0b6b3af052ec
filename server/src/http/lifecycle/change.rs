//! `POST /api/auth/password/change/`: a signed-in user changes their password, or a user whose
//! password has expired does it with the `password_change_token` their login got instead of tokens.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::passwords::{check_new_password, replace_password, Change};
use crate::flows::reauth::Action;
use crate::flows::tokens::issue_session;
use crate::http::auth::AuthUser;
use crate::http::cookies::with_refresh_cookie;
use crate::http::drf::{Form, JsonBody};
use crate::http::openapi::lifecycle_schemas::{PasswordChangeRequest, PasswordChanged};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::passwords::Claimant;
use crate::infra::state::AppState;
use crate::store::audit::Actor;
use crate::store::challenges::{self, Purpose};
use crate::store::sessions::AuthMethod;
use crate::store::users::User;

/// Django's `PasswordChangeForm` message.
const WRONG_OLD_PASSWORD: &str = "Your old password was entered incorrectly. Please enter it again.";
const SAVED: &str = "New password has been saved.";

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(change_password))
}

/// `POST /api/auth/password/change/`: `{"old_password", "new_password"}`. Signed in (bearer token):
/// every other session is revoked and the answer is `{"detail"}`. With `password_change_token`
/// instead (an expired password), every session is revoked and a new one's tokens come back.
#[utoipa::path(
    post, path = "/api/auth/password/change/", tag = "passwords", security(("bearer" = []), ()),
    request_body = PasswordChangeRequest,
    responses(
        (status = 200, description = "Saved; with a `password_change_token`, also a new session's tokens.",
            body = PasswordChanged),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 429, response = crate::http::openapi::errors::Throttled),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    auth: Result<AuthUser, ApiError>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut form = Form::new(&body);
    // The old password is the proof of a token-less change; a signed-in session may leave it out
    // while it proved the user recently (sudo mode).
    let PasswordChangeRequest { old_password: old, new_password: new, password_change_token: token } =
        PasswordChangeRequest::read(&mut form, auth.is_ok());
    // Without a bearer token, the expired-password token is the only way in.
    let challenge = match (&auth, &token) {
        (Err(_), Some(token)) => Some(challenges::find(&state, Purpose::PasswordChange, token).await?),
        _ => None,
    };
    let user = match (auth, &challenge) {
        (Ok(auth), _) => Some((User::clone(&auth.user), auth.session_id().map(str::to_owned))),
        (Err(_), Some(Some(challenge))) => {
            User::by_id(&state.db, challenge.user_id).await?.filter(|u| u.is_active).map(|u| (u, None))
        }
        (Err(_), Some(None)) => {
            form.error("password_change_token", "The link has expired or was already used. Log in again.");
            None
        }
        (Err(error), None) => return Err(error),
    };
    form.finish()?;
    let Some((user, session)) = user else {
        return Err(ApiError::AuthenticationFailed(crate::flows::login::NO_ACTIVE_ACCOUNT));
    };
    let actor = Actor { user_id: Some(user.id), client: &client, session_id: session.as_deref() };
    match &old {
        Some(old) => {
            if !crate::flows::reauth::password(&state, &user, actor, Action::ChangePassword, old).await? {
                return Err(ApiError::field("old_password", WRONG_OLD_PASSWORD));
            }
        }
        None => crate::flows::reauth::require_recent(&state, session.as_deref()).await?,
    }
    check_new_password(&state, &user, &new, "new_password", &client).await?;
    let hash = state.hasher.hash(new, &Claimant::new(user.email.clone(), &client)).await?;
    if !replace_password(&state, &user, &hash, session.as_deref(), Change::Changed, &client).await? {
        // Another change won the race; this one's old password is no longer the password.
        return Err(ApiError::field("old_password", WRONG_OLD_PASSWORD));
    }
    let Some(Some(challenge)) = challenge else {
        return Ok(Json(PasswordChanged { detail: SAVED.into(), access: None, refresh: None }).into_response());
    };
    if !challenge.spend(&state).await? {
        return Err(ApiError::field(
            "password_change_token",
            "The link has expired or was already used. Log in again.",
        ));
    }
    let user = User::by_id(&state.db, user.id).await?.ok_or(ApiError::NotFound)?;
    // The expired password proved the user before it was replaced: a password login.
    let method = AuthMethod::Password;
    let pair =
        issue_session(&state, &user, &client.ip, &client.user_agent, challenge.mfa, method, challenge.org_id).await?;
    if challenge.cookie {
        let body = PasswordChanged { detail: SAVED.into(), access: Some(pair.access), refresh: None };
        return with_refresh_cookie(&state.config, &pair.refresh, body);
    }
    let body = PasswordChanged { detail: SAVED.into(), access: Some(pair.access), refresh: Some(pair.refresh) };
    Ok(Json(body).into_response())
}

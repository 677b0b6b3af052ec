//! Login with a password (`POST /api/token/`, docs/api.md#tokens): the decisions between the form and a new
//! session, in the order that keeps them cheap for an attacker to ask and expensive to abuse.
//!
//! 1. The form is bounded before anything else (`email` 254 characters, `username` 150, the password
//!    the policy's byte limit): a refusal there costs no lookup, no hash and no write.
//! 2. The client's network is counted against `login:ip`.
//! 3. One attempt is reserved under the client network's and the account name's lockouts
//!    (`crate::store::limits`), in one statement each, *before* the password is hashed: however many
//!    guesses arrive at once, no more than the lockout allows are ever checked. A refusal there is
//!    audited at most once a minute per lockout.
//! 4. The password is checked on the hashing gate under the account's and the network's fair share
//!    (`crate::infra::passwords`); an unknown account burns the same time.
//! 5. Then the e-mail verification rule, the organization, the second factor, and the session.

use axum::extract::State;
use axum::response::Response;
use latchkey_core::policy::{PasswordPolicy, Violation};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::login::{
    finish_login, login_failed, require_verified_email, reserve_all, settle_success, LoginContext, NO_ACTIVE_ACCOUNT,
};
use crate::http::drf::{Form, FormBody, JsonBody};
use crate::http::openapi::schemas::{IssuedTokens, TokenObtainRequest};
use crate::http::tokens::pair_response;
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::passwords::Claimant;
use crate::infra::state::AppState;
use crate::store::limits::Lock;
use crate::store::orgs::member_of;
use crate::store::sessions::AuthMethod;
use crate::store::users::{normalize_email, normalize_username, User};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_token_pair))
}

/// `POST /api/token/`: `{"email" or "username", "password"}` → `{"refresh", "access"}`; with
/// `"cookie": true`, `{"access"}` and the refresh token in the `HttpOnly` cookie. An account with
/// 2FA needs its code too: in `otp`, or in a second step after `403 mfa_required` (`crate::http::mfa::login`).
#[utoipa::path(
    post, path = "/api/token/", tag = "tokens",
    request_body = TokenObtainRequest,
    responses(
        (status = 200, description = "A new session's tokens.", body = IssuedTokens,
            headers(("Set-Cookie" = String, description = "Cookie mode: the refresh token, `latchkey_refresh`."))),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::LoginFailed),
        (status = 403, response = crate::http::openapi::errors::MfaRequired),
        (status = 429, response = crate::http::openapi::errors::Throttled),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
pub(crate) async fn create_token_pair(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let Credentials { login, password, otp, org, cookie } = read_credentials(&body, &state.policy)?;
    crate::store::limits::hit(&state, crate::infra::config::Limit::LoginIp, &client.network).await?;
    let name = match &login {
        Login::Email(email) => normalize_email(email),
        Login::Username(username) => normalize_username(username),
    };
    // The network's lockout first: a locked-out address naming ever new accounts creates no rows.
    let locks: Vec<Lock> =
        Lock::ip(&state, &client.network).into_iter().chain([Lock::account(&state, &name)]).collect();
    let reservations = reserve_all(&state, &locks, &client, &name).await?;
    let user = match login {
        Login::Email(_) => User::by_email(&state.db, &name).await?,
        Login::Username(_) => User::by_username(&state.db, &name).await?,
    };
    // An unknown user burns the time of a real check, so timing does not reveal who exists; an
    // inactive one is checked like anyone else (Django checks the password before `is_active`).
    let claimant = Claimant::new(name.clone(), &client);
    let encoded = user.as_ref().map(|u| u.password.clone());
    let verified = match state.hasher.verify(password.clone(), encoded, &claimant).await {
        Ok(verified) => verified,
        Err(busy) => {
            // Nothing was checked: the attempts are given back.
            for reservation in reservations {
                reservation.release().await?;
            }
            return Err(busy);
        }
    };
    let user_id = user.as_ref().map(|u| u.id);
    let Some(user) = user.filter(|u| verified.ok && u.is_active) else {
        // Unknown user, wrong password, inactive user: one answer, one failure counted.
        for reservation in reservations {
            reservation.failed().await?;
        }
        let reason = if verified.ok { "inactive" } else { "bad_credentials" };
        login_failed(&state, user_id, &client, &name, reason).await?;
        return Err(ApiError::AuthenticationFailed(NO_ACTIVE_ACCOUNT));
    };
    settle_success(reservations).await?;
    if verified.needs_rehash {
        // Django upgrades old hashes on a successful check; so does Latchkey, to argon2id.
        let hash = state.hasher.hash(password, &claimant).await?;
        User::set_password_hash(&state.db, user.id, &hash).await?;
    }
    require_verified_email(&state, &user, &client, &name).await?;
    let org_id = match &org {
        Some(slug) => Some(member_of(&state, slug, user.id).await?),
        None => None,
    };
    // The second factor comes last, so its answers only ever go to someone who knows the password.
    if user.mfa_enabled {
        let Some(otp) = otp else {
            return Err(crate::http::mfa::login::require_second_factor(
                &state,
                user.id,
                (cookie, org.as_deref()),
                &AuthMethod::Password,
            )
            .await?);
        };
        crate::http::mfa::login::check_login_code(&state, &user, &otp, &client).await?;
    }
    let login = LoginContext { method: AuthMethod::Password, mfa: user.mfa_enabled, cookie, org_id };
    let pair = finish_login(&state, &user, &client, login).await?;
    pair_response(&state, pair, cookie)
}

/// How the caller names the account.
enum Login {
    Email(String),
    Username(String),
}

/// A valid login form.
struct Credentials {
    login: Login,
    password: String,
    /// A TOTP or backup code, for one-step login to an account with 2FA.
    otp: Option<String>,
    /// The slug of an organization the access tokens should speak for.
    org: Option<String>,
    /// The refresh token goes in the cookie, not the body.
    cookie: bool,
}

/// The login form, [`TokenObtainRequest`]. A password over the policy's `max_length_bytes` gets
/// the policy's own `password_too_long` message, before any hashing: argon2 or PBKDF2 over
/// megabytes of input would be a cheap way to burn the server's CPU.
fn read_credentials(body: &serde_json::Value, policy: &PasswordPolicy) -> Result<Credentials, ApiError> {
    let mut form = Form::new(body);
    let TokenObtainRequest { email, username, password, otp, org, cookie } = TokenObtainRequest::read(&mut form);
    let max_bytes = policy.max_length_bytes;
    if password.len() > max_bytes {
        form.error("password", Violation::TooLong { max_bytes }.message());
    }
    form.finish()?;
    let login = match (email, username) {
        (Some(email), _) => Login::Email(email),
        (None, Some(username)) => Login::Username(username),
        (None, None) => return Err(ApiError::Internal("the login form passed without its fields".into())),
    };
    Ok(Credentials { login, password, otp, org, cookie })
}

//! Accounts (docs/api.md#accounts-and-registration): registration, and the caller's own account at `/api/auth/me/` to read,
//! edit and delete. Validation answers in DRF's shape with every field's errors at once, using
//! DRF's and Django's English messages.

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use latchkey_core::policy::UserAttributes;
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::reauth::Action;
use crate::flows::tokens::issue_session;
use crate::http::auth::AuthUser;
use crate::http::drf::{max_length_message, CharField, Form, FormBody, JsonBody};
use crate::http::openapi::schemas::{PasswordConfirmation, ProfileUpdate, RegisterRequest, Registered};
use crate::infra::client::Client;
use crate::infra::error::{ApiError, FieldErrors};
use crate::infra::state::AppState;
use crate::store::audit::{Actor, AuditEvent};
use crate::store::sessions::AuthMethod;
use crate::store::users::{self, NewUser, User, UserObject, EMAIL_MAX, USERNAME_MAX};

const EMAIL_TAKEN: &str = "A user with this email already exists.";
const USERNAME_TAKEN: &str = "A user with that username already exists.";
const INVALID_EMAIL: &str = "Enter a valid email address.";
const INVALID_USERNAME: &str =
    "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.";
const PASSWORDS_DIFFER: &str = "Passwords do not match.";
const INVALID_DATE: &str = "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.";
const INVALID_URL: &str = "Enter a valid URL.";

/// Longest first and last names, as Django's `AbstractUser` declares them.
const NAME_MAX: usize = 150;
/// Django's `URLField` default.
const WEBSITE_MAX: usize = 200;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_user)).routes(routes!(get_me, update_me, delete_me))
}

/// `POST /api/auth/register/`: a new account, logged in.
#[utoipa::path(
    post, path = "/api/auth/register/", tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The account, and a session opened for it.", body = Registered),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Registered>), ApiError> {
    let mut form = Form::new(&body);
    let RegisterRequest { email, password, username, first_name, last_name, .. } = RegisterRequest::read(&mut form);
    // A field that failed is empty (a valid address or password never is): only valid values are
    // checked further.
    let email = Some(email).filter(|e| !e.is_empty());
    let password = Some(password).filter(|p| !p.is_empty());
    // Counted once the names are known to be within their bounds: an over-long one costs no write.
    if !form.over_bounds() {
        crate::store::limits::hit(&state, crate::infra::config::Limit::RegisterIp, &client.network).await?;
    }
    if let Some(password) = &password {
        // The policy refuses an over-long password before any other work, and the breach check
        // and hashing only happen once every rule has passed.
        let user = UserAttributes {
            email: email.clone(),
            username: username.clone(),
            first_name: Some(first_name.clone()),
            last_name: Some(last_name.clone()),
        };
        let verdict = state.policy.validate(password, &user);
        for violation in crate::flows::passwords::with_breach_check(&state, verdict, password).await.violations {
            form.error("password", violation.message());
        }
    }
    if let Some(email) = &email {
        if User::by_email(&state.db, email).await?.is_some() {
            form.error("email", EMAIL_TAKEN);
        }
    }
    if let Some(username) = &username {
        if User::username_taken(&state.db, username, None).await? {
            form.error("username", USERNAME_TAKEN);
        }
    }
    form.finish()?;
    let (Some(email), Some(password)) = (email, password) else {
        // `finish` refuses every request whose required fields are missing.
        return Err(ApiError::Internal("registration passed validation without email or password".into()));
    };
    let password_hash = state.hasher.hash(password, &crate::infra::passwords::Claimant::network_of(&client)).await?;
    let new = NewUser {
        email: &email,
        username: username.as_deref(),
        password_hash: &password_hash,
        first_name: &first_name,
        last_name: &last_name,
        date_joined: state.clock.now(),
    };
    let user = match User::create(&state.db, &new).await {
        Ok(user) => user,
        // Another registration took the address or username after our check.
        Err(e) if users::is_unique_violation(&e) => return Err(lost_race(&state, &email, username.as_deref()).await?),
        Err(e) => return Err(e.into()),
    };
    let actor = Actor { user_id: Some(user.id), client: &client, session_id: None };
    crate::store::audit::record(&state, AuditEvent::AccountCreated, actor, json!({ "how": "registration" })).await?;
    crate::flows::email_links::send_verification(&state, &user);
    // With mandatory verification the account cannot be used before the link is followed.
    let tokens = if state.config.verification_mandatory() {
        None
    } else {
        Some(issue_session(&state, &user, &client.ip, &client.user_agent, false, AuthMethod::Password, None).await?)
    };
    Ok((StatusCode::CREATED, Json(Registered { user: user.object(), tokens: tokens.map(Into::into) })))
}

/// `GET /api/auth/me/`.
#[utoipa::path(
    get, path = "/api/auth/me/", tag = "accounts", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller.", body = UserObject),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn get_me(auth: AuthUser) -> Result<JsonBytes, ApiError> {
    let json = auth.user.object_json().map_err(|e| ApiError::Internal(format!("serializing a user: {e}")))?;
    Ok(JsonBytes(json))
}

/// A JSON answer serialized beforehand (`User::object_json`).
#[derive(Debug)]
struct JsonBytes(std::sync::Arc<[u8]>);

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        let body = axum::body::Bytes::from_owner(self.0);
        ([(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response()
    }
}

/// `PATCH /api/auth/me/`: changes the profile fields present in the body. Other fields (e-mail,
/// flags, ids) are read-only here and ignored, as a DRF serializer ignores them.
#[utoipa::path(
    patch, path = "/api/auth/me/", tag = "accounts", security(("bearer" = [])),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The caller, changed.", body = UserObject),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn update_me(
    State(state): State<AppState>,
    auth: AuthUser,
    JsonBody(body): JsonBody,
) -> Result<Json<UserObject>, ApiError> {
    let mut form = Form::new(&body);
    let update = ProfileUpdate::read(&mut form);
    if let Some(Some(name)) = &update.username {
        if User::username_taken(&state.db, name, Some(auth.user.id)).await? {
            form.error("username", USERNAME_TAKEN);
        }
    }
    form.finish()?;
    match users::save_profile(&state.db, auth.user.id, &update.changes()).await {
        Ok(Some(user)) => Ok(Json(user.object())),
        Ok(None) => Ok(Json(auth.user.object())),
        // Another request took the username after our check.
        Err(e) if users::is_unique_violation(&e) => Err(ApiError::field("username", USERNAME_TAKEN)),
        Err(e) => Err(e.into()),
    }
}

/// `DELETE /api/auth/me/`: the account goes, and with it (by foreign-key cascade) everything it owns.
#[utoipa::path(
    delete, path = "/api/auth/me/", tag = "accounts", security(("bearer" = [])),
    request_body = PasswordConfirmation,
    responses(
        (status = 204, description = "The account and everything it owned are gone."),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 429, response = crate::http::openapi::errors::Throttled),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
async fn delete_me(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    // The password, or a session that proved the user within the re-authentication window. The
    // form is not finished: its only error is a body that is no object, which has no password.
    match PasswordConfirmation::read(&mut Form::new(&body)).password {
        Some(given) => {
            crate::flows::reauth::confirm_given_password(&state, &auth.user, actor, Action::DeleteAccount, &given)
                .await?;
        }
        None => crate::flows::reauth::require_recent(&state, auth.session_id()).await?,
    }
    // Like an organization's last admin stepping down, the account of one may not go while others
    // are members; an organization of nobody else goes with it.
    let orphaned = crate::store::orgs::needing_another_admin(&state, auth.user.id).await?;
    if !orphaned.is_empty() {
        let message = format!(
            "You are the only admin of {}: make another member an admin first.",
            orphaned.iter().map(|slug| format!("\"{slug}\"")).collect::<Vec<_>>().join(", ")
        );
        return Err(ApiError::field("non_field_errors", message));
    }
    crate::store::orgs::delete_those_only_member_of(&state, auth.user.id).await?;
    users::delete(&state.db, auth.user.id).await?;
    // The row outlives the account (audit rows belong to no table's cascade); the notice goes to
    // the address the account had, so a deletion by someone else does not go unseen.
    crate::store::audit::record(&state, AuditEvent::AccountDeleted, actor, json!({})).await?;
    crate::flows::passwords::notify(&state, &auth.user, crate::infra::mail::Kind::AccountDeleted, &client, Vec::new());
    Ok(StatusCode::NO_CONTENT)
}

impl FormBody for RegisterRequest {
    /// Reads every field but the uniqueness of the address and username and the password policy,
    /// which the handler checks. `null` is no username.
    fn read(form: &mut Form<'_>) -> Self {
        let email = read_email(form);
        let username = read_username(form).flatten();
        let first_name = bounded(form, "first_name", NAME_MAX).unwrap_or_default();
        let last_name = bounded(form, "last_name", NAME_MAX).unwrap_or_default();
        let password = form.string("password", CharField::PASSWORD);
        let confirm = form.string("password_confirm", CharField::PASSWORD);
        if let (Some(password), Some(confirm)) = (&password, &confirm) {
            if password != confirm {
                form.error("password_confirm", PASSWORDS_DIFFER);
            }
        }
        Self {
            email: email.unwrap_or_default(),
            password: password.unwrap_or_default(),
            password_confirm: confirm.unwrap_or_default(),
            username,
            first_name,
            last_name,
        }
    }
}

impl FormBody for ProfileUpdate {
    /// Reads the fields present; whether a new username is taken the handler checks. `null` clears
    /// the username and the birth date.
    fn read(form: &mut Form<'_>) -> Self {
        Self {
            first_name: bounded(form, "first_name", NAME_MAX),
            last_name: bounded(form, "last_name", NAME_MAX),
            bio: bounded(form, "bio", 2000),
            phone_number: bounded(form, "phone_number", 32),
            timezone: bounded(form, "timezone", 64),
            language: bounded(form, "language", 35),
            username: read_username(form),
            birth_date: read_birth_date(form),
            website: read_website(form),
        }
    }
}

impl ProfileUpdate {
    /// The columns to write, with their new values.
    fn changes(self) -> Vec<(&'static str, Option<String>)> {
        let text = [
            ("first_name", self.first_name),
            ("last_name", self.last_name),
            ("bio", self.bio),
            ("phone_number", self.phone_number),
            ("timezone", self.timezone),
            ("language", self.language),
        ];
        let mut changes: Vec<(&'static str, Option<String>)> =
            text.into_iter().filter_map(|(column, value)| value.map(|v| (column, Some(v)))).collect();
        changes.extend(self.username.map(|username| ("username", username)));
        changes.extend(self.birth_date.map(|birth_date| ("birth_date", birth_date)));
        changes.extend(self.website.map(|website| ("website", Some(website))));
        changes
    }
}

impl FormBody for PasswordConfirmation {
    /// Not DRF's rules: any `password` key asks for the password check (`None` when absent), and
    /// a value that is not a string is an empty password. Records no error.
    fn read(form: &mut Form<'_>) -> Self {
        Self { password: form.value("password").map(|v| v.as_str().unwrap_or_default().to_owned()) }
    }
}

/// The 400 for a registration whose insert hit a unique constraint: which fields were taken.
async fn lost_race(state: &AppState, email: &str, username: Option<&str>) -> Result<ApiError, ApiError> {
    let mut errors = FieldErrors::new();
    if User::by_email(&state.db, email).await?.is_some() {
        errors.insert("email".into(), vec![EMAIL_TAKEN.into()]);
    }
    if let Some(username) = username {
        if User::username_taken(&state.db, username, None).await? {
            errors.insert("username".into(), vec![USERNAME_TAKEN.into()]);
        }
    }
    if errors.is_empty() {
        // The other account is already gone again; the e-mail address is the likelier clash.
        errors.insert("email".into(), vec![EMAIL_TAKEN.into()]);
    }
    Ok(ApiError::Validation(errors))
}

/// The required `email`, at most 254 characters as given, normalized (NFKC, lowercase), and then
/// checked as DRF's `EmailField` does (NFKC can lengthen it: the bound holds after too).
fn read_email(form: &mut Form<'_>) -> Option<String> {
    let email = users::normalize_email(&form.bounded("email", CharField::REQUIRED, EMAIL_MAX)?);
    let too_long = email.chars().count() > EMAIL_MAX;
    if too_long {
        form.error("email", max_length_message(EMAIL_MAX));
    }
    if !users::is_valid_email(&email) {
        form.error("email", INVALID_EMAIL);
        return None;
    }
    (!too_long).then_some(email)
}

/// An optional `username`: absent is `None`; `null` or blank is `Some(None)` (no username);
/// otherwise at most 150 characters as given, NFKC-normalized as Django's `normalize_username`
/// does, and Django's username rules apply to the result (which must still fit).
fn read_username(form: &mut Form<'_>) -> Option<Option<String>> {
    if form.value("username")?.is_null() {
        return Some(None);
    }
    let username = users::normalize_username(&bounded(form, "username", USERNAME_MAX)?);
    if username.is_empty() {
        return Some(None);
    }
    if username.chars().count() > USERNAME_MAX {
        form.error("username", max_length_message(USERNAME_MAX));
        return None;
    }
    if !users::is_valid_username(&username) {
        form.error("username", INVALID_USERNAME);
        return None;
    }
    Some(Some(username))
}

/// An optional `birth_date`: absent is `None`, `null` clears it, otherwise an ISO date.
fn read_birth_date(form: &mut Form<'_>) -> Option<Option<String>> {
    let parsed = match form.value("birth_date")? {
        Value::Null => return Some(None),
        Value::String(text) => users::parse_date(text),
        _ => None,
    };
    if parsed.is_none() {
        form.error("birth_date", INVALID_DATE);
        return None;
    }
    Some(parsed)
}

/// An optional `website`: blank, or an http(s) URL.
fn read_website(form: &mut Form<'_>) -> Option<String> {
    let website = bounded(form, "website", WEBSITE_MAX)?;
    if !website.is_empty() && !is_valid_url(&website) {
        form.error("website", INVALID_URL);
        return None;
    }
    Some(website)
}

/// An optional, trimmed `CharField` with DRF's `max_length` check.
fn bounded(form: &mut Form<'_>, field: &str, max: usize) -> Option<String> {
    form.bounded(field, CharField::OPTIONAL, max)
}

/// Django's `URLValidator` restricted to `http` and `https`: optional `user:pass@`, a host name with
/// a top-level domain of letters (or `localhost`, an IPv4 address, a bracketed IPv6 address), an
/// optional port, then anything without whitespace after `/`, `?` or `#`.
fn is_valid_url(url: &str) -> bool {
    if url.len() > 2048 || url.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((scheme, rest)) = url.split_once("://") else { return false };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return false;
    }
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            let password = userinfo.split_once(':').map_or("", |(_, password)| password);
            if user.is_empty() || user.contains('@') || password.contains([':', '@']) {
                return false;
            }
            host_port
        }
        None => authority,
    };
    let (host_ok, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            Some((v6, port)) => (v6.parse::<std::net::Ipv6Addr>().is_ok(), port),
            None => return false,
        },
        None => {
            let (host, port) = host_port.split_at(host_port.find(':').unwrap_or(host_port.len()));
            let named = host.eq_ignore_ascii_case("localhost") || is_url_host(host);
            (named || host.parse::<std::net::Ipv4Addr>().is_ok(), port)
        }
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// Dot-separated labels (letters, digits, inner hyphens, non-ASCII allowed), at least two, the
/// last made of letters (or `xn--` punycode); one trailing dot is allowed.
fn is_url_host(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    let Some((_, tld)) = host.rsplit_once('.') else { return false };
    let tld_ok = tld.strip_prefix("xn--").map_or_else(
        || tld.chars().count() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || !c.is_ascii()),
        |puny| !puny.is_empty() && puny.chars().all(|c| c.is_ascii_alphanumeric()),
    );
    tld_ok && users::is_domain_name(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_validate_like_django() {
        for good in [
            "https://example.com",
            "http://user:pw@sub.example.co.uk:8080/a?b#c",
            "http://localhost:3000/",
            "http://127.0.0.1",
            "https://[::1]:443/x",
            "https://bücher.de/",
            "http://example.com.",
        ] {
            assert!(is_valid_url(good), "{good}");
        }
        for bad in [
            "ftp://example.com",
            "javascript:alert(1)",
            "example.com",
            "http://",
            "http://exa mple.com",
            "http://example",
            "http://example.c0m",
            "http://-x.com",
            "http://x.com:123456",
            "https://[zz]/",
            "http://@x.com",
            "http://a@b@x.com",
        ] {
            assert!(!is_valid_url(bad), "{bad}");
        }
    }
}

//! The bodies of the social-login endpoints (docs/api.md#social-login).

use utoipa::{ToResponse, ToSchema};

use super::errors::ErrorDetail;
use crate::http::drf::{CharField, Form, FormBody};

const OPTIONAL_NOT_BLANK: CharField = CharField { required: false, trim: true, allow_blank: false };

/// A configured provider.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"id": "google", "name": "Google"}))]
pub struct ProviderObject {
    /// Its id, in the paths of the other endpoints.
    pub id: String,
    /// Its name, for a button.
    pub name: String,
}

/// What a flow with a provider is for, and where the browser comes back to.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"process": "login", "return_to": "https://app.example.com/login",
    "binding": "Yq3Wk0c1n2o4q9b8V7x6Z5a4S3d2F1g0H9j8K7l6M5n"}))]
pub struct SocialAuthorizeRequest {
    /// `login` (the default: sign in or sign up) or `connect` (a signed-in user links the provider;
    /// privileged).
    #[schema(value_type = String, required = false, example = "login")]
    pub process: Option<String>,
    /// An absolute URL on the public URL's origin or on one of `LATCHKEY_CORS_ORIGINS`.
    #[schema(max_length = 2048)]
    pub return_to: String,
    /// 32 to 128 URL-safe base64 characters the browser keeps (`sessionStorage`) and gives again
    /// with the `login_code` or `link_token`; recommended (a leaked code is then useless alone).
    #[schema(value_type = String, required = false)]
    pub binding: Option<String>,
}

impl FormBody for SocialAuthorizeRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self {
            process: form.bounded("process", OPTIONAL_NOT_BLANK, 16),
            return_to: form.bounded("return_to", CharField::REQUIRED, 2048).unwrap_or_default(),
            binding: form.bounded("binding", OPTIONAL_NOT_BLANK, 128),
        }
    }
}

/// Where to send the browser.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct AuthorizationUrl {
    /// The provider's authorization endpoint with this flow's `state`, nonce and PKCE challenge.
    pub authorization_url: String,
}

/// A `login_code` from the callback, for a session's tokens.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"login_code": "8d2f0c4e6a1b3d5f7e9c0a2b4d6f8e1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d"}))]
pub struct SocialTokenRequest {
    /// From the callback's redirect; single use, 60 seconds.
    pub login_code: String,
    /// The flow's `binding`, when it was started with one.
    #[schema(value_type = String, required = false)]
    pub binding: Option<String>,
    /// Cookie mode, as at `POST /api/token/`.
    #[schema(required = false, default = false)]
    pub cookie: bool,
    /// The slug of an organization the access tokens should speak for.
    #[schema(value_type = String, required = false)]
    pub org: Option<String>,
}

impl FormBody for SocialTokenRequest {
    fn read(form: &mut Form<'_>) -> Self {
        Self {
            login_code: form.bounded("login_code", CharField::REQUIRED, 64).unwrap_or_default(),
            binding: form.bounded("binding", OPTIONAL_NOT_BLANK, 128),
            cookie: form.boolean("cookie").unwrap_or(false),
            org: form.bounded("org", OPTIONAL_NOT_BLANK, 50),
        }
    }
}

/// A `link_token` from the callback, with the existing account's password.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"link_token": "3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d8d2f0c4e6a1b3d5f7e9c0a2b4d6f8e1a",
    "password": "correct horse battery staple"}))]
pub struct SocialLinkConfirm {
    /// From the callback's redirect; 10 minutes.
    pub link_token: String,
    /// The existing account's password.
    #[schema(format = Password)]
    pub password: String,
    /// The flow's `binding`, when it was started with one.
    #[schema(value_type = String, required = false)]
    pub binding: Option<String>,
    /// Cookie mode, as at `POST /api/token/`.
    #[schema(required = false, default = false)]
    pub cookie: bool,
    /// The slug of an organization the access tokens should speak for.
    #[schema(value_type = String, required = false)]
    pub org: Option<String>,
}

impl FormBody for SocialLinkConfirm {
    fn read(form: &mut Form<'_>) -> Self {
        Self {
            link_token: form.bounded("link_token", CharField::REQUIRED, 64).unwrap_or_default(),
            password: form.string("password", CharField::PASSWORD).unwrap_or_default(),
            binding: form.bounded("binding", OPTIONAL_NOT_BLANK, 128),
            cookie: form.boolean("cookie").unwrap_or(false),
            org: form.bounded("org", OPTIONAL_NOT_BLANK, 50),
        }
    }
}

/// 400: the callback's `state` is unknown, spent or expired.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "This sign-in has expired or was already used. Start again.",
    "code": "social_state_invalid"}))]
pub struct SocialStateInvalid(pub ErrorDetail);

/// 503: the provider's discovery document or keys cannot be fetched.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "The sign-in provider cannot be reached. Try again later.",
    "code": "provider_unavailable"}))]
pub struct ProviderUnavailable(pub ErrorDetail);

/// 401: the `login_code` is unknown, spent, expired or given without its `binding`.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "The sign-in code is invalid or has expired.", "code": "login_code_invalid"}))]
pub struct LoginCodeInvalid(pub ErrorDetail);

/// 409: the provider identity is linked to another account meanwhile, or this account has an
/// identity of that provider already.
#[derive(Debug, ToResponse)]
#[response(example = json!({"detail": "This provider account is linked already, or this account has one of this provider.",
    "code": "account_in_use"}))]
pub struct AccountInUse(pub ErrorDetail);

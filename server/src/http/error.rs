//! How an [`ApiError`] is answered: the status DRF and simplejwt would use, a DRF-shaped JSON body,
//! and the headers that go with it (`WWW-Authenticate`, `Retry-After`, `RateLimit-*`). Internal
//! errors are logged and answer a generic 500.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::infra::error::ApiError;

/// The status and body of each error.
trait Answer {
    fn status_code(&self) -> StatusCode;
    fn body(&self) -> Value;
}

impl Answer for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::Parse(_) | Self::PasskeyInvalid(_) | Self::Refused { .. } => {
                StatusCode::BAD_REQUEST
            }
            Self::NotAuthenticated | Self::AuthenticationFailed(_) | Self::Token { .. } => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied
            | Self::Forbidden(_)
            | Self::CsrfFailed
            | Self::MfaRequired { .. }
            | Self::ReauthenticationRequired
            | Self::Denied { .. }
            | Self::PasswordExpired { .. } => StatusCode::FORBIDDEN,
            Self::NotFound | Self::PasskeysUnavailable => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable { .. } | Self::ProviderUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> Value {
        match self {
            Self::Validation(fields) => json!(fields),
            Self::Token { detail, code, extra } => {
                let mut body = json!({ "detail": detail, "code": code });
                if let (Some(Value::Object(extra)), Value::Object(map)) = (extra, &mut body) {
                    map.extend(extra.clone());
                }
                body
            }
            Self::Unavailable { .. } => json!({ "detail": self.to_string(), "code": "unavailable" }),
            Self::Throttled { .. } => json!({ "detail": self.to_string(), "code": "throttled" }),
            Self::ReauthenticationRequired => {
                json!({ "detail": self.to_string(), "code": "reauthentication_required" })
            }
            Self::MfaRequired { mfa_token, methods } => json!({
                "detail": self.to_string(),
                "code": "mfa_required",
                "mfa_token": mfa_token,
                "methods": methods,
            }),
            Self::PasskeyInvalid(detail) => json!({ "detail": detail, "code": "passkey_invalid" }),
            Self::PasskeysUnavailable => json!({ "detail": self.to_string(), "code": "passkeys_unavailable" }),
            Self::Conflict { detail, code } | Self::Refused { detail, code } | Self::Denied { detail, code } => {
                json!({ "detail": detail, "code": code })
            }
            Self::ProviderUnavailable => json!({ "detail": self.to_string(), "code": "provider_unavailable" }),
            Self::PasswordExpired { password_change_token } => json!({
                "detail": self.to_string(),
                "code": "password_expired",
                "password_change_token": password_change_token,
            }),
            Self::Internal(_) => json!({ "detail": "A server error occurred." }),
            _ => json!({ "detail": self.to_string() }),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let status = self.status_code();
        let mut response = (status, Json(self.body())).into_response();
        let headers = response.headers_mut();
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"api\""));
        }
        if let Self::Unavailable { retry_after: wait } | Self::Throttled { wait, .. } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        if let Self::ProviderUnavailable = self {
            // Discovery failures are remembered for 30 seconds (`infra::social`).
            headers.insert(header::RETRY_AFTER, HeaderValue::from(30));
        }
        // The IETF draft's fields (draft-ietf-httpapi-ratelimit-headers): what the limit is, that
        // nothing is left, and when the window resets.
        if let Self::Throttled { wait, limit: Some(limit) } = self {
            headers.insert("ratelimit-limit", HeaderValue::from(limit));
            headers.insert("ratelimit-remaining", HeaderValue::from(0));
            headers.insert("ratelimit-reset", HeaderValue::from(wait));
        }
        response
    }
}

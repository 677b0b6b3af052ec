//! The document itself: every handler of the router, the schemas of their bodies, the shared
//! error answers and the security schemes.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref};
use utoipa::{Modify, OpenApi};

use super::code_schemas::{CodeInvalid, CodeInvalidBody};
use super::errors::*;
use super::lifecycle_schemas::*;
use super::passkey_schemas::{LastSignInMethod, PasskeyInvalid, PasskeysUnavailable};
use super::privileged::*;
use super::social_schemas::{AccountInUse, LoginCodeInvalid, ProviderUnavailable, SocialStateInvalid};

/// The name of the bearer security scheme that authenticated operations require.
const BEARER: &str = "bearer";

/// The document's own parts: its information, this endpoint, the shared schemas and error
/// responses, and the tags.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Latchkey",
        description = "An authentication server compatible with Django REST Framework and \
            djangorestframework-simplejwt clients. Errors use DRF's shapes: `{\"detail\", \"code\"}` for \
            request-level errors, `{\"field\": [\"message\"]}` for validation errors."
    ),
    // Every other operation comes from the router (`crate::http::routes`), where each is registered.
    paths(get_schema),
    components(
        schemas(ErrorDetail, TokenMessage, FieldErrors, BadRequestBody, MfaChallenge, PasswordExpiredBody, CodeInvalidBody),
        responses(
            BadRequest,
            Unauthenticated,
            LoginFailed,
            TokenNotValid,
            NotFound,
            CsrfFailed,
            PayloadTooLarge,
            UnsupportedMediaType,
            Unavailable,
            MfaRequired,
            MfaInvalid,
            Throttled,
            Forbidden,
            PasswordExpired,
            ReauthenticationRequired,
            PasskeyInvalid,
            PasskeysUnavailable,
            LastSignInMethod,
            SocialStateInvalid,
            ProviderUnavailable,
            LoginCodeInvalid,
            CodeInvalid,
            AccountInUse
        )
    ),
    tags(
        (name = "tokens", description = "simplejwt-compatible tokens: obtain, refresh (rotating), verify, blacklist."),
        (name = "accounts", description = "Registration and the caller's own account."),
        (name = "sessions", description = "The caller's login sessions: logout, logout everywhere, list, revoke one."),
        (name = "two-factor", description = "TOTP authenticators and backup codes: enroll, confirm, remove, regenerate."),
        (name = "passkeys", description = "WebAuthn passkeys: register, rename, remove; sign in with one."),
        (name = "codes", description = "Sign in with a code or link e-mailed to the account's address."),
        (name = "social", description = "Sign in with Google, Microsoft, GitHub or any OpenID provider; linked accounts."),
        (name = "passwords", description = "The password policy, change, reset by e-mail, and e-mail verification."),
        (name = "audit", description = "Security events: the caller's own, and everyone's for staff."),
        (name = "api-keys", description = "Keys for scripts and services, sent as `X-API-Key`."),
        (name = "organizations", description = "Organizations, members and roles (admin, editor, author, viewer)."),
        (name = "admin", description = "Staff only: users, their flags, sessions and keys, the emergency 2FA reset."),
        (name = "webhooks", description = "Staff only: security webhooks (Standard Webhooks signatures), their tests and delivery logs."),
        (name = "ops", description = "Liveness, readiness, metrics, the JWKS and this document."),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document: the operations of every route the server registers, the shared schemas
/// and responses, and the conventions every operation follows.
pub fn document() -> Document {
    let (_, routes) = crate::http::routes::api().split_for_parts();
    let mut document = ApiDoc::openapi();
    document.merge(routes);
    Conventions.modify(&mut document);
    document
}

/// `GET /api/schema/`: this document, as JSON.
#[utoipa::path(
    get,
    path = "/api/schema/",
    tag = "ops",
    responses((status = 200, description = "This document.", body = Object, content_type = "application/json"))
)]
pub(crate) async fn get_schema() -> Json<Document> {
    Json(document())
}

/// What the per-operation attributes leave out because it holds everywhere: the bearer scheme, and
/// the 413 and 415 that the JSON body extractor answers for every operation with a body.
#[derive(Debug)]
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, openapi: &mut Document) {
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .bearer_format("JWT")
            .description(Some(
                "An access token from `POST /api/token/`, sent as `Authorization: Bearer <token>` (the scheme \
                 name is case-sensitive, as in simplejwt).",
            ))
            .build();
        let components = openapi.components.get_or_insert_with(Default::default);
        components.security_schemes.insert(BEARER.into(), SecurityScheme::Http(bearer));
        // Every operation that takes a bearer token takes an API key instead, within the key's scopes
        // and except the account-security endpoints (`crate::http::auth`).
        let key = ApiKeyValue::with_description(
            "X-API-Key",
            "An API key from `POST /api/auth/api-keys/`: acts as its owner within its scopes (`read`, `write`, \
             `admin`); refused by the endpoints that manage keys, passwords, second factors and sessions.",
        );
        components.security_schemes.insert("api_key".into(), SecurityScheme::ApiKey(ApiKey::Header(key)));
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.post, &mut item.put, &mut item.patch, &mut item.delete];
            for operation in operations.into_iter().flatten().filter(|o| o.request_body.is_some()) {
                let responses = &mut operation.responses.responses;
                for (status, name) in [("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType")] {
                    responses.entry(status.into()).or_insert_with(|| Ref::from_response_name(name).into());
                }
            }
        }
    }
}

//! The document itself: every handler of the router, the schemas of their bodies, the shared
//! error answers and the security schemes.

use axum::Json;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref};
use utoipa::{Modify, OpenApi};

use super::errors::*;
use super::lifecycle_schemas::*;
use super::privileged::*;

/// The name of the bearer security scheme that authenticated operations require.
const BEARER: &str = "bearer";

/// The document: every handler of the router, the schemas of their bodies and the shared error
/// responses.
#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "Latchkey",
        description = "An authentication server compatible with Django REST Framework and \
            djangorestframework-simplejwt clients. Errors use DRF's shapes: `{\"detail\", \"code\"}` for \
            request-level errors, `{\"field\": [\"message\"]}` for validation errors."
    ),
    paths(
        crate::http::ops::healthz,
        crate::http::ops::readyz,
        crate::http::ops::get_metrics,
        get_schema,
        crate::http::ops::get_jwks,
        crate::http::accounts::create_user,
        crate::http::accounts::get_me,
        crate::http::accounts::update_me,
        crate::http::accounts::delete_me,
        crate::http::sudo::reauthenticate,
        crate::http::login::create_token_pair,
        crate::http::tokens::refresh_token,
        crate::http::tokens::verify_token,
        crate::http::tokens::blacklist_token,
        crate::http::sessions::logout,
        crate::http::sessions::logout_all,
        crate::http::sessions::list_sessions,
        crate::http::sessions::delete_session,
        crate::http::session_details::rename_session,
        crate::http::mfa::login::complete_login,
        crate::http::mfa::status,
        crate::http::mfa::add_device,
        crate::http::mfa::confirm_device,
        crate::http::mfa::remove_device,
        crate::http::mfa::regenerate_backup_codes,
        crate::http::lifecycle::get_policy,
        crate::http::lifecycle::validate_password,
        crate::http::lifecycle::change::change_password,
        crate::http::lifecycle::recovery::request_reset,
        crate::http::lifecycle::recovery::confirm_reset,
        crate::http::lifecycle::recovery::verify_email,
        crate::http::lifecycle::recovery::resend_verification,
        crate::http::audit::own_events,
        crate::http::audit::all_events,
        crate::http::keys::create_key,
        crate::http::keys::list_keys,
        crate::http::keys::delete_key,
        crate::http::orgs::create_org,
        crate::http::orgs::list_orgs,
        crate::http::orgs::list_members,
        crate::http::orgs::add_member,
        crate::http::orgs::change_role,
        crate::http::orgs::remove_member,
        crate::http::invitations::create_invitation,
        crate::http::invitations::list_invitations,
        crate::http::invitations::accept_invitation,
        crate::http::invitations::decline_invitation,
        crate::http::admin::list_users,
        crate::http::admin::get_user,
        crate::http::admin::update_user,
        crate::http::admin::force_logout,
        crate::http::admin::reset_two_factor,
        crate::http::admin_sessions::list_user_sessions,
        crate::http::admin_sessions::revoke_user_session,
        crate::http::admin_keys::list_user_keys,
        crate::http::admin_keys::revoke_user_key,
    ),
    components(
        schemas(ErrorDetail, TokenMessage, FieldErrors, BadRequestBody, MfaChallenge, PasswordExpiredBody),
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
            ReauthenticationRequired
        )
    ),
    modifiers(&Conventions),
    tags(
        (name = "tokens", description = "simplejwt-compatible tokens: obtain, refresh (rotating), verify, blacklist."),
        (name = "accounts", description = "Registration and the caller's own account."),
        (name = "sessions", description = "The caller's login sessions: logout, logout everywhere, list, revoke one."),
        (name = "two-factor", description = "TOTP authenticators and backup codes: enroll, confirm, remove, regenerate."),
        (name = "passwords", description = "The password policy, change, reset by e-mail, and e-mail verification."),
        (name = "audit", description = "Security events: the caller's own, and everyone's for staff."),
        (name = "api-keys", description = "Keys for scripts and services, sent as `X-API-Key`."),
        (name = "organizations", description = "Organizations, members and roles (admin, editor, author, viewer)."),
        (name = "admin", description = "Staff only: users, their flags, sessions and keys, the emergency 2FA reset."),
        (name = "ops", description = "Liveness, readiness, metrics, the JWKS and this document."),
    )
)]
pub struct ApiDoc;

/// The OpenAPI document.
pub fn document() -> Document {
    ApiDoc::openapi()
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

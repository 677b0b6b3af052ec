//! API keys (docs/api.md#api-keys): for scripts and services, sent as `X-API-Key: <key>`.
//!
//! A key is `lk_<prefix>_<secret>`: 8 hex characters that name it (shown in lists, used to find
//! it) and 160 random bits. It is shown once; the database keeps the prefix and the SHA-256 of the
//! whole key (a fast hash suffices for 160 random bits, as for backup codes). A key acts as its
//! owner, never as more: its scopes only narrow what the owner may do (`read`: safe methods;
//! `write`: every method; `admin`: the staff endpoints, for staff owners only), and it can never
//! manage keys, passwords, second factors or sessions (see `crate::http::auth`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use rand_core::{OsRng, RngCore};
use serde_json::{json, Value};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::authz::owned;
use crate::http::drf::{max_length_message, CharField, Form, FormBody, JsonBody};
use crate::http::openapi::admin_schemas::{NewApiKey, NewApiKeyRequest};
use crate::infra::client::Client;
use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::api_keys::{keys_of, ApiKeyInfo};
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::users::parse_iso8601;

/// The scopes a key may have.
const SCOPES: [&str; 3] = ["read", "write", "admin"];
const NAME_MAX: usize = 100;
/// DRF's `DateTimeField` message.
const INVALID_DATETIME: &str =
    "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_key, list_keys)).routes(routes!(delete_key))
}

/// `POST /api/auth/api-keys/`: `{"name"}`, optional `expires_at` (RFC 3339, in the future) and
/// `scopes` (default `["read", "write"]`; `admin` for staff only). The key is in this answer only.
#[utoipa::path(
    post, path = "/api/auth/api-keys/", tag = "api-keys", security(("bearer" = [])),
    request_body = NewApiKeyRequest,
    responses(
        (status = 201, description = "The key, shown this once.", body = NewApiKey),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
    )
)]
async fn create_key(
    State(state): State<AppState>,
    auth: crate::http::auth::AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<NewApiKey>), ApiError> {
    let mut form = Form::new(&body);
    let NewApiKeyRequest { name, expires_at, scopes } = NewApiKeyRequest::read(&mut form);
    let now = state.clock.now();
    if expires_at.is_some_and(|at| at <= now) {
        form.error("expires_at", "The expiry must be in the future.");
    }
    if scopes.iter().any(|s| s == "admin") && !auth.user.is_staff {
        form.error(
            "scopes",
            "Only staff can give a key the `admin` scope: a key never grants more than its owner has.",
        );
    }
    form.finish()?;
    // A key outlives the session that made it: only a session that proved the user recently mints one.
    crate::flows::reauth::require_recent(&state, auth.session_id()).await?;
    // The prefix (32 random bits) finds the key and is unique: another key may hold it already (about
    // one creation in 4,000 with a million keys), and the key is then drawn again.
    let mut drawn = 0;
    let (id, prefix, key) = loop {
        let mut bytes = [0u8; 24];
        OsRng.fill_bytes(&mut bytes);
        let prefix = latchkey_core::encoding::hex(&bytes[..4]);
        let key = format!("lk_{prefix}_{}", latchkey_core::encoding::hex(&bytes[4..]));
        let new_key = crate::store::api_keys::NewKey {
            user_id: auth.user.id,
            name: &name,
            prefix: &prefix,
            key_hash: crate::infra::digest::sha256_hex(&key),
            scopes: scopes.join(" "),
            expires_at,
        };
        drawn += 1;
        match crate::store::api_keys::insert(&state, &new_key, now).await? {
            Some(id) => break (id, prefix, key),
            None if drawn < 5 => continue,
            None => return Err(ApiError::Internal("five API key prefixes in a row were taken".into())),
        }
    };
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    audit::record(
        &state,
        AuditEvent::ApiKeyCreated,
        actor,
        json!({ "key_id": id, "prefix": prefix, "scopes": scopes }),
    )
    .await?;
    let body =
        NewApiKey { id, name, prefix, key, scopes, created_at: Rfc3339(now), expires_at: expires_at.map(Rfc3339) };
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/auth/api-keys/`: the caller's keys, newest first, without the keys themselves.
#[utoipa::path(
    get, path = "/api/auth/api-keys/", tag = "api-keys", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's keys.", body = [ApiKeyInfo]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn list_keys(
    State(state): State<AppState>,
    auth: crate::http::auth::AuthUser,
) -> Result<Json<Vec<ApiKeyInfo>>, ApiError> {
    Ok(Json(keys_of(&state, auth.user.id).await?))
}

/// `DELETE /api/auth/api-keys/{id}/`: revokes one of the caller's keys; anyone else's is a 404.
#[utoipa::path(
    delete, path = "/api/auth/api-keys/{id}/", tag = "api-keys", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The key's id.")),
    responses(
        (status = 204, description = "The key no longer works."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn delete_key(
    State(state): State<AppState>,
    auth: crate::http::auth::AuthUser,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    owned(&auth, crate::store::api_keys::owner_of(&state, id).await?)?;
    crate::store::api_keys::delete(&state, id).await?;
    let actor = Actor { user_id: Some(auth.user.id), client: &client, session_id: auth.session_id() };
    audit::record(&state, AuditEvent::ApiKeyRevoked, actor, json!({ "key_id": id })).await?;
    Ok(StatusCode::NO_CONTENT)
}

impl FormBody for NewApiKeyRequest {
    /// Reads the body as DRF's serializer does; `null` is an absent `expires_at` or `scopes`. Whether
    /// the expiry is in the future, and whether the owner may give the `admin` scope, the handler
    /// checks.
    fn read(form: &mut Form<'_>) -> Self {
        let name = form.string("name", CharField::REQUIRED);
        if name.as_ref().is_some_and(|n| n.chars().count() > NAME_MAX) {
            form.error("name", max_length_message(NAME_MAX));
        }
        let expires_at = match form.value("expires_at") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => {
                let at = parse_iso8601(text);
                if at.is_none() {
                    form.error("expires_at", INVALID_DATETIME);
                }
                at
            }
            Some(_) => {
                form.error("expires_at", INVALID_DATETIME);
                None
            }
        };
        let scopes: Vec<String> = match form.value("scopes") {
            None | Some(Value::Null) => vec!["read".into(), "write".into()],
            Some(Value::Array(items)) => {
                let mut scopes = Vec::new();
                for item in items {
                    match item.as_str().filter(|s| SCOPES.contains(s)) {
                        Some(scope) if !scopes.iter().any(|s| s == scope) => scopes.push(scope.to_owned()),
                        Some(_) => {}
                        None => {
                            form.error("scopes", format!("\"{}\" is not a valid choice.", item.as_str().unwrap_or("?")))
                        }
                    }
                }
                if items.is_empty() {
                    form.error("scopes", "This list may not be empty.");
                }
                scopes
            }
            Some(_) => {
                form.error("scopes", "Expected a list of items but got type \"str\".");
                Vec::new()
            }
        };
        Self { name: name.unwrap_or_default(), expires_at, scopes }
    }
}

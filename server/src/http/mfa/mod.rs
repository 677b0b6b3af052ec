//! Two-factor authentication (docs/api.md#tokens and #two-factor-authentication): TOTP devices a user enrolls and confirms, single-use
//! backup codes, and the second step of login.
//!
//! - Secrets are sealed at rest by `crate::infra::vault`; backup codes are stored as keyed hashes.
//! - A device counts once confirmed with a code from it. The first confirmation turns 2FA on and
//!   returns 10 backup codes; removing the last confirmed device turns it off and voids them.
//! - Every code goes through [`factors::verify_code`]: per-device replay protection (a time step
//!   once accepted never is again), the per-user back-off of `backoff`, and an audit event.

pub(crate) mod login;
pub(crate) mod sms;
pub(crate) mod status;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use latchkey_core::totp::{qr_svg, OtpauthUri, TotpParams, TotpSecret};
use rand_core::OsRng;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use crate::store::mfa_factors::rekey;
pub(crate) use crate::store::mfa_factors::{mark_session, verify_code, Accept, Purpose};

use crate::flows::reauth::{Action, Method};
use crate::http::auth::AuthUser;
use crate::http::drf::{Body, Form, FormBody, JsonBody};
use crate::http::openapi::schemas::{BackupCodes, CodeRequest, NewDevice, NewDeviceRequest, Reauthentication};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::mfa_factors::{self as factors, Device};

/// The answer to a wrong code where a field error fits (the signed-in endpoints).
pub(crate) const INVALID_CODE: &str = "Invalid two-factor code.";
const DEFAULT_NAME: &str = "Authenticator";
/// Devices per user, confirmed or not.
const MAX_DEVICES: usize = 10;
/// An unconfirmed device older than this is dropped when the user adds another.
const UNCONFIRMED_LIFETIME: i64 = 3600;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_device))
        .routes(routes!(confirm_device))
        .routes(routes!(remove_device))
        .routes(routes!(regenerate_backup_codes))
}

/// `POST /api/auth/2fa/totp/`: a new, unconfirmed device with a fresh 160-bit secret, returned
/// once as base32, as an `otpauth://` URI and as a QR code.
///
/// Once 2FA is on, only a session that verified a second factor may add a device: a session
/// opened before 2FA was turned on cannot plant an attacker's authenticator.
#[utoipa::path(
    post, path = "/api/auth/2fa/totp/", tag = "two-factor", security(("bearer" = [])),
    request_body = NewDeviceRequest,
    responses(
        (status = 201, description = "The unconfirmed device and its secret, shown this once.", body = NewDevice),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
    )
)]
async fn add_device(
    State(state): State<AppState>,
    auth: AuthUser,
    Body(NewDeviceRequest { name }): Body<NewDeviceRequest>,
) -> Result<(StatusCode, Json<NewDevice>), ApiError> {
    let user = &auth.user;
    require_second_factor_session(&state, &auth).await?;
    let now = state.clock.now();
    factors::delete_unconfirmed(&state, user.id, now - UNCONFIRMED_LIFETIME).await?;
    if Device::list(&state, user.id).await?.len() >= MAX_DEVICES {
        let message = format!("An account has at most {MAX_DEVICES} authenticators. Remove one first.");
        return Err(ApiError::field("non_field_errors", message));
    }
    let secret = TotpSecret::generate(&mut OsRng);
    let device = Device::create(&state, user.id, name.as_deref().unwrap_or(DEFAULT_NAME), &secret, now).await?;
    let uri = OtpauthUri {
        secret: secret.clone(),
        issuer: Some(state.config.totp_issuer.replace(':', "")),
        // The label may not contain a colon; an e-mail address rarely does, and then loses it.
        account: user.email.replace(':', ""),
        params: TotpParams::default(),
    };
    let uri = uri.to_uri().map_err(|e| ApiError::Internal(format!("otpauth URI: {e}")))?;
    let svg = qr_svg(&uri).map_err(|e| ApiError::Internal(format!("QR code: {e}")))?;
    let body = NewDevice { id: device.id, secret: secret.to_base32(), otpauth_uri: uri, qr_svg: svg };
    Ok((StatusCode::CREATED, Json(body)))
}

/// `POST /api/auth/2fa/totp/{id}/confirm/`: `{"code"}` from the new device confirms it. The first
/// confirmed device turns 2FA on, marks this session as verified, and returns 10 backup codes
/// (shown this once); later devices return `{}`.
#[utoipa::path(
    post, path = "/api/auth/2fa/totp/{id}/confirm/", tag = "two-factor", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The device's id.")),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Confirmed; the backup codes for the first device.", body = BackupCodes),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn confirm_device(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
    Body(CodeRequest { code }): Body<CodeRequest>,
) -> Result<Json<BackupCodes>, ApiError> {
    let device = find_device(&state, &auth, &id).await?;
    // A device added before 2FA was on is confirmed only from a session that verified a second
    // factor since: a session opened earlier cannot slip its own authenticator in.
    require_second_factor_session(&state, &auth).await?;
    if device.confirmed {
        return Err(ApiError::field("code", "This authenticator is already confirmed."));
    }
    let actor = actor(&auth, &client);
    let accepted = verify_code(&state, actor, &code, Accept::Device(device.id), Purpose::ConfirmDevice).await?;
    if accepted.is_none() {
        return Err(ApiError::field("code", INVALID_CODE));
    }
    let added = (AuditEvent::TotpDeviceAdded, "totp_device");
    confirmed(&state, (&auth, &client), added, json!({ "device_id": device.id, "name": device.name })).await
}

/// What follows a confirmed device of either kind (`added`: its audit event and the `by` of
/// `mfa_enabled`): 2FA on, the events, the notice, and for the first second factor the session
/// marked as verified and 10 backup codes.
async fn confirmed(
    state: &AppState,
    (auth, client): (&AuthUser, &Client),
    (event, by): (AuditEvent, &'static str),
    detail: serde_json::Value,
) -> Result<Json<BackupCodes>, ApiError> {
    let actor = actor(auth, client);
    // Whichever confirmation turns 2FA on, even among concurrent ones, is the first.
    let first = factors::turn_on(state, auth.user.id).await?;
    let name = detail["name"].as_str().unwrap_or_default().to_owned();
    audit::record(state, event, actor, detail).await?;
    if first {
        audit::record(state, AuditEvent::MfaEnabled, actor, json!({ "by": by })).await?;
    }
    let vars = vec![("device", name)];
    crate::flows::passwords::notify(state, &auth.user, crate::infra::mail::Kind::MfaDeviceAdded, client, vars);
    if !first {
        return Ok(Json(BackupCodes { backup_codes: None }));
    }
    if let Some(sid) = auth.session_id() {
        factors::mark_session(state, sid).await?;
    }
    let codes = factors::new_backup_codes(state, auth.user.id).await?;
    audit::record(state, AuditEvent::BackupCodesGenerated, actor, json!({ "count": codes.len() })).await?;
    Ok(Json(BackupCodes { backup_codes: Some(codes) }))
}

/// `DELETE /api/auth/2fa/totp/{id}/`: with `{"password"}` or a current `{"code"}` (TOTP or backup).
/// Removing the last confirmed device turns 2FA off and voids the backup codes.
#[utoipa::path(
    delete, path = "/api/auth/2fa/totp/{id}/", tag = "two-factor", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The device's id.")),
    request_body = Reauthentication,
    responses(
        (status = 204, description = "The device is gone."),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn remove_device(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    let mut form = Form::new(&body);
    let proof = Reauthentication::read(&mut form);
    let device = find_device(&state, &auth, &id).await?;
    let actor = actor(&auth, &client);
    authorize_change(&state, &auth, actor, (form, proof), (Purpose::RemoveDevice, Action::RemoveDevice)).await?;
    factors::delete_device(&state, device.id, auth.user.id).await?;
    removed(&state, (&auth, &client), AuditEvent::TotpDeviceRemoved, (device.id, &device.name)).await
}

/// What follows a removed device of either kind (`event`, `(id, name)`): 2FA off when it was the
/// last second factor, and the events and notice that say so.
async fn removed(
    state: &AppState,
    (auth, client): (&AuthUser, &Client),
    event: AuditEvent,
    (id, name): (i64, &str),
) -> Result<StatusCode, ApiError> {
    let actor = actor(auth, client);
    let enabled = factors::refresh_enabled(state, auth.user.id).await?;
    audit::record(state, event, actor, json!({ "device_id": id, "name": name, "mfa_enabled": enabled })).await?;
    if auth.user.mfa_enabled && !enabled {
        // The last second factor went: sign-in needs the password alone from now on.
        audit::record(state, AuditEvent::MfaDisabled, actor, json!({ "by": "device_removed" })).await?;
        crate::flows::passwords::notify(state, &auth.user, crate::infra::mail::Kind::MfaDisabled, client, Vec::new());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/2fa/backup-codes/`: with `{"password"}` or a current `{"code"}`, a new set of 10
/// backup codes; the old set stops working.
#[utoipa::path(
    post, path = "/api/auth/2fa/backup-codes/", tag = "two-factor", security(("bearer" = [])),
    request_body = Reauthentication,
    responses(
        (status = 200, description = "The new codes, shown this once.", body = BackupCodes),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 429, response = crate::http::openapi::errors::Throttled),
    )
)]
async fn regenerate_backup_codes(
    State(state): State<AppState>,
    auth: AuthUser,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<Json<BackupCodes>, ApiError> {
    let mut form = Form::new(&body);
    let proof = Reauthentication::read(&mut form);
    if !auth.user.mfa_enabled {
        return Err(ApiError::field("non_field_errors", "Two-factor authentication is not enabled."));
    }
    let actor = actor(&auth, &client);
    let reasons = (Purpose::NewBackupCodes, Action::NewBackupCodes);
    authorize_change(&state, &auth, actor, (form, proof), reasons).await?;
    let codes = factors::new_backup_codes(&state, auth.user.id).await?;
    audit::record(&state, AuditEvent::BackupCodesGenerated, actor, json!({ "count": codes.len() })).await?;
    Ok(Json(BackupCodes { backup_codes: Some(codes) }))
}

/// The caller's device named by the path, or DRF's 404.
async fn find_device(state: &AppState, auth: &AuthUser, id: &str) -> Result<Device, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    Device::find(state, auth.user.id, id).await?.ok_or(ApiError::NotFound)
}

/// Whether a 2FA change (removing a device, new backup codes) may go ahead. Once 2FA is on, only a
/// session that verified a second factor, or a request that brings a current code, may change it;
/// and the request brings the password or a code, or its session proved the user recently.
/// `proof` is the request's [`Reauthentication`] and the form it was read with.
async fn authorize_change(
    state: &AppState,
    auth: &AuthUser,
    actor: Actor<'_>,
    proof: (Form<'_>, Reauthentication),
    reasons: (Purpose, Action),
) -> Result<(), ApiError> {
    let (form, request) = &proof;
    let by_code = request.password.is_none() && form.has("code");
    if auth.user.mfa_enabled && !by_code && !session_verified(state, auth).await? {
        return Err(ApiError::PermissionDenied);
    }
    if request.password.is_none() && !form.has("code") {
        return crate::flows::reauth::require_recent(state, auth.session_id()).await;
    }
    prove_identity(state, &auth.user, actor, proof, reasons).await.map(|_| ())
}

/// Proof that the caller is the account holder: `password`, or else a current second-factor `code`
/// (under the back-off); either under the re-authentication lockout. `proof` is the request's
/// [`Reauthentication`] and the form it was read with, whose errors count only for a code. Returns
/// how it was proved.
pub(crate) async fn prove_identity(
    state: &AppState,
    user: &crate::store::users::User,
    actor: Actor<'_>,
    (form, proof): (Form<'_>, Reauthentication),
    (purpose, action): (Purpose, Action),
) -> Result<Method, ApiError> {
    if let Some(password) = &proof.password {
        crate::flows::reauth::confirm_given_password(state, user, actor, action, password).await?;
        return Ok(Method::Password);
    }
    form.finish()?;
    let Some(code) = proof.code else {
        return Err(ApiError::field("non_field_errors", "Give your password or a current two-factor code."));
    };
    let check = async { Ok(verify_code(state, actor, &code, Accept::AnyFactor, purpose).await?.is_some()) };
    if crate::flows::reauth::guard(state, actor, user.id, action, Method::Code, check).await? {
        Ok(Method::Code)
    } else {
        Err(ApiError::field("code", INVALID_CODE))
    }
}

/// What adding a second factor (or removing a passkey) asks of the caller's session: once 2FA is on,
/// that it verified a second factor (403 otherwise), and that it proved the user within the
/// re-authentication window (403 `reauthentication_required`).
pub(crate) async fn require_second_factor_session(state: &AppState, auth: &AuthUser) -> Result<(), ApiError> {
    if auth.user.mfa_enabled && !session_verified(state, auth).await? {
        return Err(ApiError::PermissionDenied);
    }
    crate::flows::reauth::require_recent(state, auth.session_id()).await
}

/// Whether the caller's session verified a second factor.
async fn session_verified(state: &AppState, auth: &AuthUser) -> Result<bool, ApiError> {
    crate::store::sessions::verified_second_factor(state, auth.session_id().unwrap_or_default()).await
}

fn actor<'a>(auth: &'a AuthUser, client: &'a Client) -> Actor<'a> {
    Actor { user_id: Some(auth.user.id), client, session_id: auth.session_id() }
}

//! SMS codes as a second factor (docs/api.md#sms-codes): phone numbers a user adds (a code is sent,
//! and confirms it), removes, and the code sent at the second step of a login, which
//! `POST /api/token/mfa/` then takes like a TOTP code. With `LATCHKEY_SMS_BACKEND=off` every
//! endpoint here answers 404.
//!
//! Adding, confirming and removing a number follow the rules of authenticators (`super`): a session
//! that proved the user recently, and once 2FA is on, one that verified a second factor.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{actor, authorize_change, require_second_factor_session, verify_code, Accept, Purpose, INVALID_CODE};
use crate::flows::reauth::Action;
use crate::flows::sms as flow;
use crate::http::auth::AuthUser;
use crate::http::drf::{Body, Form, FormBody, JsonBody};
use crate::http::openapi::schemas::{BackupCodes, CodeRequest, Reauthentication};
use crate::http::openapi::sms_schemas::{ListedDevice, NewSmsDevice, SmsDeviceRequest, SmsSendRequest, SmsSent};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::audit::AuditEvent;
use crate::store::sms_devices::{self, SmsDevice};

const DEFAULT_NAME: &str = "Phone";

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_device))
        .routes(routes!(confirm_device))
        .routes(routes!(remove_device))
        .routes(routes!(send_login_code))
}

/// `user_id`'s SMS devices as `GET /api/auth/2fa/` lists them (with when each was added, for the
/// order), and whether one is confirmed.
pub(super) async fn listed(state: &AppState, user_id: i64) -> Result<(Vec<(i64, ListedDevice)>, bool), ApiError> {
    let devices = SmsDevice::list(state, user_id).await?;
    let mut listed = Vec::with_capacity(devices.len());
    for device in &devices {
        listed.push((device.created_at, ListedDevice::Sms(device.shown(state).await?)));
    }
    Ok((listed, devices.iter().any(|d| d.confirmed)))
}

/// `POST /api/auth/2fa/sms/`: `{"phone_number", "name"}` → a new, unconfirmed SMS device; a 6-digit
/// code is sent to the number, valid 5 minutes.
#[utoipa::path(
    post, path = "/api/auth/2fa/sms/", tag = "two-factor", security(("bearer" = [])),
    request_body = SmsDeviceRequest,
    responses(
        (status = 201, description = "The unconfirmed device; a code was sent to it.", body = NewSmsDevice),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
async fn add_device(
    State(state): State<AppState>,
    auth: AuthUser,
    Body(SmsDeviceRequest { phone_number, name }): Body<SmsDeviceRequest>,
) -> Result<(StatusCode, Json<NewSmsDevice>), ApiError> {
    flow::available(&state)?;
    require_second_factor_session(&state, &auth).await?;
    let number = flow::parse_number(&state, &phone_number)?;
    let name = name.as_deref().unwrap_or(DEFAULT_NAME);
    let device = flow::enroll(&state, auth.user.id, name, &number).await?;
    Ok((StatusCode::CREATED, Json(NewSmsDevice { id: device.id, phone_number_masked: number.masked() })))
}

/// `POST /api/auth/2fa/sms/{id}/confirm/`: `{"code"}` sent to the new number confirms it, as a TOTP
/// confirmation does: the first second factor turns 2FA on and returns 10 backup codes.
#[utoipa::path(
    post, path = "/api/auth/2fa/sms/{id}/confirm/", tag = "two-factor", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The SMS device's id.")),
    request_body = CodeRequest,
    responses(
        (status = 200, description = "Confirmed; the backup codes for the first second factor.", body = BackupCodes),
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
    flow::available(&state)?;
    let device = find_device(&state, &auth, &id).await?;
    require_second_factor_session(&state, &auth).await?;
    if device.confirmed {
        return Err(ApiError::field("code", "This phone number is already confirmed."));
    }
    let accept = Accept::SmsDevice(device.id);
    if verify_code(&state, actor(&auth, &client), &code, accept, Purpose::ConfirmDevice).await?.is_none() {
        return Err(ApiError::field("code", INVALID_CODE));
    }
    let added = (AuditEvent::SmsDeviceAdded, "sms_device");
    super::confirmed(&state, (&auth, &client), added, json!({ "device_id": device.id, "name": device.name })).await
}

/// `DELETE /api/auth/2fa/sms/{id}/`: privileged (a recent login or re-authentication, or
/// `{"password"}` / a current `{"code"}` in the body). Removing the last second factor turns 2FA
/// off and voids the backup codes.
#[utoipa::path(
    delete, path = "/api/auth/2fa/sms/{id}/", tag = "two-factor", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The SMS device's id.")),
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
    flow::available(&state)?;
    let mut form = Form::new(&body);
    let proof = Reauthentication::read(&mut form);
    let device = find_device(&state, &auth, &id).await?;
    let reasons = (Purpose::RemoveDevice, Action::RemoveDevice);
    authorize_change(&state, &auth, actor(&auth, &client), (form, proof), reasons).await?;
    sms_devices::delete(&state, device.id, auth.user.id).await?;
    super::removed(&state, (&auth, &client), AuditEvent::SmsDeviceRemoved, (device.id, &device.name)).await
}

/// `POST /api/token/mfa/sms/send/`: `{"mfa_token"}` and optionally `"device_id"` → a 6-digit code
/// is texted to that confirmed phone (the oldest when none is named), for `POST /api/token/mfa/`.
/// The `mfa_token` stays usable; asking again replaces the code sent before.
#[utoipa::path(
    post, path = "/api/token/mfa/sms/send/", tag = "tokens",
    request_body = SmsSendRequest,
    responses(
        (status = 200, description = "The code was sent.", body = SmsSent),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::MfaInvalid),
        (status = 404, response = crate::http::openapi::errors::NotFound),
        (status = 429, response = crate::http::openapi::errors::Throttled),
        (status = 503, response = crate::http::openapi::errors::Unavailable),
    )
)]
async fn send_login_code(
    State(state): State<AppState>,
    client: Client,
    Body(SmsSendRequest { mfa_token, device_id }): Body<SmsSendRequest>,
) -> Result<Json<SmsSent>, ApiError> {
    flow::available(&state)?;
    crate::store::limits::hit(&state, crate::infra::config::Limit::MfaIp, &client.network).await?;
    let (_, user) = super::login::pending_login(&state, &mfa_token).await?;
    let device_id = flow::send_login_code(&state, user.id, device_id).await?;
    Ok(Json(SmsSent { detail: "A code has been sent.", device_id }))
}

/// The caller's SMS device named by the path, or DRF's 404.
async fn find_device(state: &AppState, auth: &AuthUser, id: &str) -> Result<SmsDevice, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    SmsDevice::find(state, auth.user.id, id).await?.ok_or(ApiError::NotFound)
}

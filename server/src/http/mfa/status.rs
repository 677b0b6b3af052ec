//! `GET /api/auth/2fa/`: a user's second factors in one list (TOTP and SMS devices, oldest first),
//! whether 2FA is on, and the backup codes left. Apart from the modules that change the factors, so
//! that it reads them all without any of them reading it.

use axum::extract::State;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::AuthUser;
use crate::http::openapi::schemas::TwoFactorStatus;
use crate::http::openapi::sms_schemas::ListedDevice;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::mfa_factors::{self as factors, Device};

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// `GET /api/auth/2fa/`: whether 2FA is on (a confirmed device or a passkey), the devices (TOTP and
/// SMS, oldest first), and how many backup codes are left.
#[utoipa::path(
    get, path = "/api/auth/2fa/", tag = "two-factor", security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's second factors.", body = TwoFactorStatus),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn status(State(state): State<AppState>, auth: AuthUser) -> Result<Json<TwoFactorStatus>, ApiError> {
    let devices = Device::list(&state, auth.user.id).await?;
    let remaining = factors::backup_codes_remaining(&state, auth.user.id).await?;
    let passkeys = crate::store::passkeys::Passkey::count(&state, auth.user.id).await?;
    let (phones, enabled) = super::sms::listed(&state, auth.user.id).await?;
    let mut listed: Vec<_> = devices.iter().map(|d| (d.created_at, ListedDevice::Totp(d.shown()))).collect();
    listed.extend(phones);
    listed.sort_by_key(|(created_at, _)| *created_at);
    Ok(Json(TwoFactorStatus {
        enabled: devices.iter().any(|d| d.confirmed) || passkeys > 0 || enabled,
        devices: listed.into_iter().map(|(_, device)| device).collect(),
        backup_codes_remaining: remaining,
    }))
}

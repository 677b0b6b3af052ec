//! SMS codes as a second factor (docs/api.md#sms-codes): enrolling a phone number, and sending a
//! code to it under the limits against SMS pumping.
//!
//! - A number is E.164 with an assigned geographic calling code, in `LATCHKEY_SMS_COUNTRIES` when
//!   that is set; a user has at most [`MAX_DEVICES`] of them.
//! - Each code asked for is counted per user ([`USER_LIMIT`]), per number ([`NUMBER_LIMIT`], by the
//!   number's HMAC) and per calling code (`LATCHKEY_SMS_COUNTRY_LIMIT`), in that order, before
//!   anything is sent; the first limit reached answers 429 and sends nothing. SMS pumping (fraud
//!   that asks for texts to premium numbers it is paid for) is bounded by the last two whatever
//!   the number of accounts it makes.
//! - A code is sent while the request waits (`crate::infra::sms`); a backend that fails answers 503.

use std::time::Duration;

use crate::infra::config::Rate;
use crate::infra::error::ApiError;
use crate::infra::phone::PhoneNumber;
use crate::infra::state::AppState;
use crate::store::sms_devices::{self, SmsDevice};

/// SMS devices per user, confirmed or not.
pub(crate) const MAX_DEVICES: usize = 5;

/// An unconfirmed SMS device older than this is dropped when the user adds another.
const UNCONFIRMED_LIFETIME: i64 = 3600;

/// Codes sent per user (§17: `3/10m`).
pub(crate) const USER_LIMIT: Rate = Rate { count: 3, window: Duration::from_secs(600) };

/// Codes sent per phone number (§17: `5/1h`).
pub(crate) const NUMBER_LIMIT: Rate = Rate { count: 5, window: Duration::from_secs(3600) };

/// How long a failed send asks the client to wait before trying again.
const RETRY_AFTER: u64 = 30;

/// `Ok` while SMS codes are on (`LATCHKEY_SMS_BACKEND`), else the 404 every SMS endpoint answers.
pub(crate) fn available(state: &AppState) -> Result<(), ApiError> {
    if state.config.sms_backend.is_on() {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// `text` as a number codes may be sent to, or a 400 on `phone_number`.
pub(crate) fn parse_number(state: &AppState, text: &str) -> Result<PhoneNumber, ApiError> {
    let number: PhoneNumber = text.parse().map_err(|e| ApiError::field("phone_number", format!("{e}")))?;
    if !state.config.sms_countries.allows(number.calling_code()) {
        return Err(ApiError::field("phone_number", "SMS codes cannot be sent to this country."));
    }
    Ok(number)
}

/// Adds `number` as a new, unconfirmed SMS device of `user_id` named `name`, and sends it a code.
/// The same number added again before it was confirmed replaces the earlier device (a new code);
/// a confirmed one is refused. When the code cannot be sent (a limit, the backend), no device is
/// left behind.
pub(crate) async fn enroll(
    state: &AppState,
    user_id: i64,
    name: &str,
    number: &PhoneNumber,
) -> Result<SmsDevice, ApiError> {
    let now = state.clock.now();
    sms_devices::delete_unconfirmed(state, user_id, now - UNCONFIRMED_LIFETIME).await?;
    let mut devices = SmsDevice::list(state, user_id).await?;
    let hash = sms_devices::number_hash(state, number);
    if let Some(existing) = devices.iter().find(|d| d.number_hash == hash) {
        if existing.confirmed {
            return Err(ApiError::field("phone_number", "This phone number is already set up."));
        }
        sms_devices::delete(state, existing.id, user_id).await?;
        devices.retain(|d| d.number_hash != hash);
    }
    if devices.len() >= MAX_DEVICES {
        let message = format!("An account has at most {MAX_DEVICES} phone numbers. Remove one first.");
        return Err(ApiError::field("non_field_errors", message));
    }
    let device = SmsDevice::create(state, user_id, name, number, now).await?;
    if let Err(error) = send_code(state, &device, number).await {
        sms_devices::delete(state, device.id, user_id).await?;
        return Err(error);
    }
    Ok(device)
}

/// Sends a login code to `user_id`'s confirmed SMS device `device_id`, or to the oldest one when
/// none is named; returns the device's id.
pub(crate) async fn send_login_code(state: &AppState, user_id: i64, device_id: Option<i64>) -> Result<i64, ApiError> {
    let devices = SmsDevice::list(state, user_id).await?;
    let mut confirmed = devices.iter().filter(|d| d.confirmed);
    let device = match device_id {
        Some(id) => {
            confirmed.find(|d| d.id == id).ok_or_else(|| ApiError::field("device_id", "No such phone number."))?
        }
        None => confirmed
            .next()
            .ok_or_else(|| ApiError::field("non_field_errors", "This account has no phone number for SMS codes."))?,
    };
    let number = device.number(state).await?;
    // The allow-list may have shrunk since the number was added.
    if !state.config.sms_countries.allows(number.calling_code()) {
        return Err(ApiError::field("device_id", "SMS codes cannot be sent to this country."));
    }
    send_code(state, device, &number).await?;
    Ok(device.id)
}

/// Counts the code against every limit, stores it (replacing the device's earlier code) and sends
/// it. 429 from the first limit reached, 503 when the backend did not take the message.
async fn send_code(state: &AppState, device: &SmsDevice, number: &PhoneNumber) -> Result<(), ApiError> {
    let country = state.config.sms_country_limit;
    let calling_code = number.calling_code().to_string();
    let limits = [
        ("sms:user", device.user_id.to_string(), USER_LIMIT),
        ("sms:number", device.number_hash.clone(), NUMBER_LIMIT),
        ("sms:country", calling_code, country),
    ];
    for (name, subject, rate) in &limits {
        if let Err(error) = crate::store::limits::hit_rate(state, name, subject, *rate).await {
            if matches!(error, ApiError::Throttled { .. }) {
                state.metrics.sms("limited");
                tracing::warn!(limit = name, "SMS code refused by a sending limit");
            }
            return Err(error);
        }
    }
    let code = crate::flows::login_codes::six_digits();
    sms_devices::put_code(state, device, &code, state.clock.now()).await?;
    let minutes = sms_devices::CODE_LIFETIME / 60;
    let issuer = &state.config.totp_issuer;
    let body = format!("{issuer} code: {code}. It expires in {minutes} minutes. Never share it.");
    let backend = (&state.config.sms_backend, state.config.sms_api_url.as_str());
    match state.sms.send(backend, number, &body).await {
        Ok(()) => {
            state.metrics.sms("sent");
            tracing::info!(device_id = device.id, "SMS code sent");
            Ok(())
        }
        Err(error) => {
            state.metrics.sms("failed");
            tracing::error!(device_id = device.id, %error, "SMS code not sent");
            Err(ApiError::Unavailable { retry_after: RETRY_AFTER })
        }
    }
}

//! The bodies of the SMS code endpoints (docs/api.md#sms-codes), and the device list's entries of
//! either kind.

use serde_json::Value;
use utoipa::ToSchema;

use crate::http::drf::{CharField, Form, FormBody};
use crate::store::mfa_factors::{TotpDevice, NAME_MAX};
use crate::store::sms_devices::SmsDeviceShown;

/// The longest `phone_number` read: E.164 has 15 digits; spaces and hyphens may come between them.
const PHONE_MAX: usize = 32;

/// One second factor in `GET /api/auth/2fa/`'s `devices`, told apart by `kind`.
#[derive(Debug, serde::Serialize, ToSchema)]
#[serde(untagged)]
pub enum ListedDevice {
    /// An authenticator app (`"kind": "totp"`).
    Totp(TotpDevice),
    /// A phone number SMS codes go to (`"kind": "sms"`).
    Sms(SmsDeviceShown),
}

/// A phone number to receive SMS codes, and a name for it.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"phone_number": "+14155554567", "name": "Work phone"}))]
pub struct SmsDeviceRequest {
    /// E.164: `+`, the country calling code and the number, 8 to 15 digits in all (spaces and
    /// hyphens between them are ignored).
    #[schema(max_length = 32)]
    pub phone_number: String,
    /// Shown in the device list; `Phone` when absent or blank.
    #[schema(value_type = String, required = false, max_length = 64)]
    pub name: Option<String>,
}

impl FormBody for SmsDeviceRequest {
    fn read(form: &mut Form<'_>) -> Self {
        let phone_number = form.bounded("phone_number", CharField::REQUIRED, PHONE_MAX).unwrap_or_default();
        let name = form.bounded("name", CharField::OPTIONAL, NAME_MAX).filter(|n| !n.is_empty());
        Self { phone_number, name }
    }
}

/// A new, unconfirmed SMS device: a code was sent to it; confirm it with that code.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"id": 1, "phone_number_masked": "+1 ••• ••• 4567"}))]
pub struct NewSmsDevice {
    /// The device's id, for the confirm and delete paths.
    pub id: i64,
    /// The number, masked: the calling code and the last 4 digits.
    pub phone_number_masked: String,
}

/// The login waiting for its second factor, and which phone to text.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"mfa_token": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}))]
pub struct SmsSendRequest {
    /// From the `403 mfa_required` answer.
    pub mfa_token: String,
    /// One of the account's confirmed SMS devices; the oldest when absent.
    #[schema(value_type = i64, required = false)]
    pub device_id: Option<i64>,
}

impl FormBody for SmsSendRequest {
    fn read(form: &mut Form<'_>) -> Self {
        let mfa_token = form.bounded("mfa_token", CharField::REQUIRED, 64).unwrap_or_default();
        // DRF's `IntegerField(required=False)`: a number, or a string of digits.
        let device_id = match form.value("device_id") {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.is_i64() => n.as_i64(),
            Some(Value::String(s)) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            Some(_) => {
                form.error("device_id", "A valid integer is required.");
                None
            }
        };
        Self { mfa_token, device_id }
    }
}

/// A code is on its way.
#[derive(Debug, serde::Serialize, ToSchema)]
#[schema(example = json!({"detail": "A code has been sent.", "device_id": 1}))]
pub struct SmsSent {
    /// `A code has been sent.`
    #[schema(value_type = String)]
    pub detail: &'static str,
    /// The device it was sent to.
    pub device_id: i64,
}

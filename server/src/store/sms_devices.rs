//! SMS devices and the codes sent to them (docs/api.md#sms-codes): `sms_devices` and `sms_codes`.
//!
//! A device's number is sealed by `crate::infra::vault` for its user, as TOTP secrets are; beside
//! it only an HMAC of the number is kept (`number_hash`, the per-number limit's subject). A code is
//! kept as an HMAC bound to its device, one per device (a new one replaces it). Every try is counted
//! first, by one `UPDATE … WHERE attempts < 5 … RETURNING`, so however many guesses arrive at once
//! at most five are ever compared; the right code is spent by one `DELETE … RETURNING`, so of two
//! requests racing with it exactly one wins.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::phone::PhoneNumber;
use crate::infra::state::AppState;

/// How long a sent code works, in seconds (§17: 5 minutes).
pub(crate) const CODE_LIFETIME: i64 = 5 * 60;

/// Wrong tries after which a code is dead (§17: 5).
pub(crate) const MAX_ATTEMPTS: i64 = 5;

/// An SMS device row.
#[derive(Debug, Clone)]
pub(crate) struct SmsDevice {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// `v1$<key id>$<hex>`: see `crate::infra::vault`.
    sealed_number: String,
    /// The HMAC of the number ([`number_hash`]).
    pub number_hash: String,
    pub confirmed: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

// What its user sees of an SMS device (the number masked).
/// An SMS device: a phone number codes are sent to.
#[derive(Debug, Serialize, ToSchema)]
pub struct SmsDeviceShown {
    /// The device's id.
    pub id: i64,
    /// `sms`.
    #[schema(value_type = String, example = "sms")]
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// The number, masked: the calling code and the last 4 digits (`+1 ••• ••• 4567`).
    pub phone_number_masked: String,
    /// A code sent to it was confirmed.
    pub confirmed: bool,
    /// When it was added.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When a code sent to it was last accepted, or null.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub last_used_at: Option<Rfc3339>,
}

const COLUMNS: &str = "id, user_id, name, phone_number, number_hash, confirmed, created_at, last_used_at";

/// The stored form of `number`'s identity: an HMAC under the vault's key, never the number (a plain
/// hash of a phone number is reversed by trying every number of a country).
pub(crate) fn number_hash(state: &AppState, number: &PhoneNumber) -> String {
    state.vault.one_time_code_hash("sms phone number", number.as_str())
}

/// The stored form of `code` sent to device `device_id`.
fn code_hash(state: &AppState, device_id: i64, code: &str) -> String {
    state.vault.one_time_code_hash(&format!("sms code of device {device_id}"), code)
}

impl SmsDevice {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            sealed_number: row.try_get("phone_number")?,
            number_hash: row.try_get("number_hash")?,
            confirmed: row.try_get::<i64, _>("confirmed")? != 0,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }

    /// Every SMS device of `user_id`, oldest first.
    pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<Self>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM sms_devices WHERE user_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(&state.db.pool).await?;
        Ok(rows.iter().map(Self::from_row).collect::<Result<_, _>>()?)
    }

    /// Device `id` if it belongs to `user_id`.
    pub async fn find(state: &AppState, user_id: i64, id: i64) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM sms_devices WHERE id = $1 AND user_id = $2");
        let row = sqlx::query(&sql).bind(id).bind(user_id).fetch_optional(&state.db.pool).await?;
        Ok(row.as_ref().map(Self::from_row).transpose()?)
    }

    /// Stores a new, unconfirmed device with `number` sealed for `user_id`.
    pub async fn create(
        state: &AppState,
        user_id: i64,
        name: &str,
        number: &PhoneNumber,
        now: i64,
    ) -> Result<Self, ApiError> {
        let sql = format!(
            "INSERT INTO sms_devices (user_id, name, phone_number, number_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(name)
            .bind(state.vault.seal(number.as_str().as_bytes(), user_id))
            .bind(number_hash(state, number))
            .bind(now)
            .fetch_one(&state.db.pool)
            .await?;
        Ok(Self::from_row(&row)?)
    }

    /// The number, opened; one sealed under an old key is sealed again under the current one.
    pub async fn number(&self, state: &AppState) -> Result<PhoneNumber, ApiError> {
        let broken = |e: String| ApiError::Internal(format!("SMS device {}: {e}", self.id));
        let (bytes, stale) = state.vault.open(&self.sealed_number, self.user_id).map_err(|e| broken(e.to_string()))?;
        let text = String::from_utf8(bytes).map_err(|e| broken(e.to_string()))?;
        let number: PhoneNumber = text.parse().map_err(|e: crate::infra::phone::PhoneError| broken(e.to_string()))?;
        if stale {
            sqlx::query("UPDATE sms_devices SET phone_number = $1 WHERE id = $2 AND phone_number = $3")
                .bind(state.vault.seal(number.as_str().as_bytes(), self.user_id))
                .bind(self.id)
                .bind(&self.sealed_number)
                .execute(&state.db.pool)
                .await?;
        }
        Ok(number)
    }

    /// The device as `GET /api/auth/2fa/` shows it.
    pub async fn shown(&self, state: &AppState) -> Result<SmsDeviceShown, ApiError> {
        Ok(SmsDeviceShown {
            id: self.id,
            kind: "sms",
            name: self.name.clone(),
            phone_number_masked: self.number(state).await?.masked(),
            confirmed: self.confirmed,
            created_at: Rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(Rfc3339),
        })
    }
}

/// Deletes `user_id`'s SMS devices added before `before` and never confirmed.
pub(crate) async fn delete_unconfirmed(state: &AppState, user_id: i64, before: i64) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM sms_devices WHERE user_id = $1 AND confirmed = 0 AND created_at < $2")
        .bind(user_id)
        .bind(before)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Deletes SMS device `id` of `user_id` (its code goes with it).
pub(crate) async fn delete(state: &AppState, id: i64, user_id: i64) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM sms_codes WHERE device_id = $1").bind(id).execute(&state.db.pool).await?;
    sqlx::query("DELETE FROM sms_devices WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Stores `code` as the one live code of `device`, valid [`CODE_LIFETIME`] from `now` with no try
/// used: it replaces the code sent before.
pub(crate) async fn put_code(state: &AppState, device: &SmsDevice, code: &str, now: i64) -> Result<(), ApiError> {
    let sql = "INSERT INTO sms_codes (device_id, user_id, code_hash, attempts, expires_at) VALUES ($1, $2, $3, 0, $4) \
               ON CONFLICT (device_id) DO UPDATE SET code_hash = $5, attempts = 0, expires_at = $6";
    let hash = code_hash(state, device.id, code);
    sqlx::query(sql)
        .bind(device.id)
        .bind(device.user_id)
        .bind(&hash)
        .bind(now + CODE_LIFETIME)
        .bind(&hash)
        .bind(now + CODE_LIFETIME)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Which devices' codes a check accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Devices {
    /// Any confirmed device of the user.
    Confirmed,
    /// This unconfirmed device only.
    Unconfirmed(i64),
}

/// Whether `code` is the live code of one of `user_id`'s `devices`: a try is counted against every
/// live code first; the right one is spent (and its device confirmed and marked used), and a code
/// whose fifth try was wrong is deleted. Returns the device whose code it was.
pub(crate) async fn accept_code(
    state: &AppState,
    user_id: i64,
    code: &str,
    devices: Devices,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let (confirmed, only) = match devices {
        Devices::Confirmed => (1_i64, None),
        Devices::Unconfirmed(id) => (0, Some(id)),
    };
    let sql = "UPDATE sms_codes SET attempts = attempts + 1 \
               WHERE user_id = $1 AND expires_at > $2 AND attempts < $3 AND device_id IN \
               (SELECT id FROM sms_devices WHERE user_id = $4 AND confirmed = $5 AND ($6 = 0 OR id = $7)) \
               RETURNING device_id, code_hash, attempts";
    let rows = sqlx::query(sql)
        .bind(user_id)
        .bind(now)
        .bind(MAX_ATTEMPTS)
        .bind(user_id)
        .bind(confirmed)
        .bind(i64::from(only.is_some()))
        .bind(only.unwrap_or(0))
        .fetch_all(&state.db.pool)
        .await?;
    let mut accepted = None;
    for row in &rows {
        let (device_id, stored, attempts): (i64, String, i64) =
            (row.try_get("device_id")?, row.try_get("code_hash")?, row.try_get("attempts")?);
        let right = bool::from(code_hash(state, device_id, code).as_bytes().ct_eq(stored.as_bytes()));
        if right && accepted.is_none() && spend(state, device_id, &stored, now).await? {
            accepted = Some(device_id);
        } else if !right && attempts >= MAX_ATTEMPTS {
            sqlx::query("DELETE FROM sms_codes WHERE device_id = $1 AND code_hash = $2")
                .bind(device_id)
                .bind(&stored)
                .execute(&state.db.pool)
                .await?;
        }
    }
    Ok(accepted)
}

/// Spends the code `stored` of `device_id`: true for the one request that deleted it. Its device is
/// confirmed and marked used.
async fn spend(state: &AppState, device_id: i64, stored: &str, now: i64) -> Result<bool, ApiError> {
    let done = sqlx::query("DELETE FROM sms_codes WHERE device_id = $1 AND code_hash = $2 AND expires_at > $3")
        .bind(device_id)
        .bind(stored)
        .bind(now)
        .execute(&state.db.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("UPDATE sms_devices SET confirmed = 1, last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(device_id)
        .execute(&state.db.pool)
        .await?;
    Ok(true)
}

/// Seals every number still under an old key again under the current one (`latchkey rekey`);
/// returns how many were sealed again.
pub(crate) async fn rekey(state: &AppState) -> Result<usize, ApiError> {
    let current = format!("v1${}$", state.vault.current_key_id());
    let sql = format!("SELECT {COLUMNS} FROM sms_devices ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    let mut count = 0;
    for row in &rows {
        let device = SmsDevice::from_row(row)?;
        if !device.sealed_number.starts_with(&current) {
            device.number(state).await?;
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::testing::{sqlite_state, user};

    #[tokio::test]
    async fn a_code_is_counted_before_it_is_compared_and_spent_once() {
        let state = sqlite_state().await;
        let user_id = user(&state, "a@b.c").await;
        let number: PhoneNumber = "+14155554567".parse().unwrap();
        let now = state.clock.now();
        let device = SmsDevice::create(&state, user_id, "Phone", &number, now).await.unwrap();
        assert_eq!(device.number(&state).await.unwrap(), number);
        put_code(&state, &device, "123456", now).await.unwrap();
        let unconfirmed = Devices::Unconfirmed(device.id);
        assert_eq!(accept_code(&state, user_id, "123456", Devices::Confirmed, now).await.unwrap(), None);
        let (a, b) = tokio::join!(
            accept_code(&state, user_id, "123456", unconfirmed, now),
            accept_code(&state, user_id, "123456", unconfirmed, now)
        );
        let wins = [a.unwrap(), b.unwrap()];
        assert_eq!(wins.iter().filter(|w| w.is_some()).count(), 1, "{wins:?}");
        assert!(SmsDevice::find(&state, user_id, device.id).await.unwrap().unwrap().confirmed);
        assert_eq!(accept_code(&state, user_id, "123456", Devices::Confirmed, now).await.unwrap(), None, "spent");
    }
}

//! Second factors in the database: TOTP devices with sealed secrets, hashed backup codes, and the
//! one check every endpoint uses, [`verify_code`], under the per-user back-off.

use latchkey_core::backup::{generate_backup_codes, normalize_backup_code};
use latchkey_core::totp::{self, Algorithm, TotpParams, TotpSecret};
use rand_core::OsRng;
use serde::Serialize;
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::infra::datetime::Rfc3339;
use crate::infra::db::flag;
use crate::infra::error::ApiError;
use crate::infra::metrics::MfaResult;
use crate::infra::state::AppState;
use crate::store::audit::{self, Actor, AuditEvent};
use crate::store::mfa_backoff::Attempt;

// What concerns every kind of second factor at once lives beside, in `second_factors`.
pub(crate) use crate::store::second_factors::{methods, refresh_enabled, remove_all, turn_on};

/// A device's name is at most this many characters.
pub(crate) const NAME_MAX: usize = 64;

/// Codes are accepted one time step either side of the server's (docs/api.md#two-factor-authentication).
const WINDOW: u8 = 1;

/// A TOTP device row.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// `v1$<key id>$<hex>`: see `crate::infra::vault`.
    sealed_secret: String,
    digits: i64,
    period: i64,
    t0: i64,
    pub confirmed: bool,
    /// The last accepted time step; -1 before the first.
    last_step: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

// What its user sees of a device (never its secret).
/// A TOTP device.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpDevice {
    /// The device's id.
    pub id: i64,
    /// `totp` (SMS devices are listed beside them as `sms`).
    #[schema(value_type = String, example = "totp")]
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// A code from it was confirmed.
    pub confirmed: bool,
    /// When it was added.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When a code from it was last accepted, or null.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub last_used_at: Option<Rfc3339>,
}

const DEVICE_COLUMNS: &str =
    "id, user_id, name, secret, digits, period, t0, confirmed, last_step, created_at, last_used_at";

impl Device {
    fn from_row(row: &AnyRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            sealed_secret: row.try_get("secret")?,
            digits: row.try_get("digits")?,
            period: row.try_get("period")?,
            t0: row.try_get("t0")?,
            confirmed: row.try_get::<i64, _>("confirmed")? != 0,
            last_step: row.try_get("last_step")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }

    /// Every device of `user_id`, oldest first.
    pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<Self>, ApiError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM totp_devices WHERE user_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(&state.db.pool).await?;
        Ok(rows.iter().map(Self::from_row).collect::<Result<_, _>>()?)
    }

    /// Device `id` if it belongs to `user_id`.
    pub async fn find(state: &AppState, user_id: i64, id: i64) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {DEVICE_COLUMNS} FROM totp_devices WHERE id = $1 AND user_id = $2");
        let row = sqlx::query(&sql).bind(id).bind(user_id).fetch_optional(&state.db.pool).await?;
        Ok(row.as_ref().map(Self::from_row).transpose()?)
    }

    /// Stores a new, unconfirmed device with `secret` sealed (SHA1, 6 digits, 30 s).
    pub async fn create(
        state: &AppState,
        user_id: i64,
        name: &str,
        secret: &TotpSecret,
        now: i64,
    ) -> Result<Self, ApiError> {
        let params = TotpParams::default();
        let sql = format!(
            "INSERT INTO totp_devices (user_id, name, secret, digits, period, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {DEVICE_COLUMNS}"
        );
        let row = sqlx::query(&sql)
            .bind(user_id)
            .bind(name)
            .bind(state.vault.seal(secret.as_bytes(), user_id))
            .bind(i64::from(params.digits()))
            .bind(i64::try_from(params.period()).unwrap_or(30))
            .bind(now)
            .fetch_one(&state.db.pool)
            .await?;
        Ok(Self::from_row(&row)?)
    }

    /// The device as `GET /api/auth/2fa/` shows it.
    pub fn shown(&self) -> TotpDevice {
        TotpDevice {
            id: self.id,
            kind: "totp",
            name: self.name.clone(),
            confirmed: self.confirmed,
            created_at: Rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(Rfc3339),
        }
    }

    fn params(&self) -> Result<TotpParams, ApiError> {
        let digits = u8::try_from(self.digits).unwrap_or(0);
        let period = u64::try_from(self.period).unwrap_or(0);
        TotpParams::new(Algorithm::Sha1, digits, period)
            .map_err(|e| ApiError::Internal(format!("TOTP device {}: {e}", self.id)))
    }

    /// The secret, and whether it is sealed under an old key.
    fn secret(&self, state: &AppState) -> Result<(TotpSecret, bool), ApiError> {
        let (bytes, stale) = state
            .vault
            .open(&self.sealed_secret, self.user_id)
            .map_err(|e| ApiError::Internal(format!("TOTP device {}: {e}", self.id)))?;
        let secret =
            TotpSecret::from_bytes(&bytes).map_err(|e| ApiError::Internal(format!("TOTP device {}: {e}", self.id)))?;
        Ok((secret, stale))
    }

    /// Whether `code` is this device's for a step after the last accepted one. The step is stored
    /// with a compare-and-set, so of concurrent requests with one code exactly one wins; the device
    /// becomes confirmed, and a secret under an old key is sealed again under the current one.
    async fn accept(&self, state: &AppState, code: &str, now: i64) -> Result<bool, ApiError> {
        let (secret, stale) = self.secret(state)?;
        let Ok(time) = u64::try_from(now - self.t0) else { return Ok(false) };
        let last_step = u64::try_from(self.last_step).ok();
        let Ok(step) = totp::verify(&secret, &self.params()?, code, time, WINDOW, last_step) else {
            return Ok(false);
        };
        let step = i64::try_from(step).map_err(|_| ApiError::Internal("TOTP step out of range".into()))?;
        let sql = "UPDATE totp_devices SET last_step = $1, last_used_at = $2, confirmed = 1 \
                   WHERE id = $3 AND last_step < $4";
        let done = sqlx::query(sql).bind(step).bind(now).bind(self.id).bind(step).execute(&state.db.pool).await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        if stale {
            reseal(state, self, &secret).await?;
        }
        Ok(true)
    }
}

/// Seals `secret` again under the current key.
async fn reseal(state: &AppState, device: &Device, secret: &TotpSecret) -> Result<(), ApiError> {
    sqlx::query("UPDATE totp_devices SET secret = $1 WHERE id = $2 AND secret = $3")
        .bind(state.vault.seal(secret.as_bytes(), device.user_id))
        .bind(device.id)
        .bind(&device.sealed_secret)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Seals every secret (and SMS phone number) still under an old key again under the current one
/// (`latchkey rekey`); returns how many were sealed again.
///
/// # Errors
/// A secret that opens under no configured key stops the run with its device named.
pub async fn rekey(state: &AppState) -> Result<usize, ApiError> {
    let current = format!("v1${}$", state.vault.current_key_id());
    let sql = format!("SELECT {DEVICE_COLUMNS} FROM totp_devices ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    let mut count = 0;
    for row in &rows {
        let device = Device::from_row(row)?;
        if device.sealed_secret.starts_with(&current) {
            continue;
        }
        let (secret, _) = device.secret(state)?;
        reseal(state, &device, &secret).await?;
        count += 1;
    }
    // SMS devices' phone numbers are sealed the same way.
    Ok(count + crate::store::sms_devices::rekey(state).await?)
}

/// Which codes a check accepts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Accept {
    /// A code of any confirmed device, or a backup code.
    AnyFactor,
    /// A code of this (unconfirmed) device only.
    Device(i64),
    /// The code sent to this (unconfirmed) SMS device only.
    SmsDevice(i64),
}

/// What a check is for, as the audit log records it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Purpose {
    Login,
    ConfirmDevice,
    RemoveDevice,
    NewBackupCodes,
    Reauthenticate,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::ConfirmDevice => "confirm_device",
            Self::RemoveDevice => "remove_device",
            Self::NewBackupCodes => "new_backup_codes",
            Self::Reauthenticate => "reauthenticate",
        }
    }
}

/// How a code was verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Totp,
    BackupCode,
    Sms,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::BackupCode => "backup_code",
            Self::Sms => "sms",
        }
    }
}

/// Checks a TOTP or backup code of `actor`'s user under the back-off, and audits and counts the
/// outcome (`latchkey_mfa_verifications_total`). `Ok(None)` is a wrong code (counted as a failure).
///
/// # Errors
/// [`ApiError::Throttled`] while the user is locked out, and database errors.
pub(crate) async fn verify_code(
    state: &AppState,
    actor: Actor<'_>,
    code: &str,
    accept: Accept,
    purpose: Purpose,
) -> Result<Option<Method>, ApiError> {
    let user_id = actor.user_id.ok_or_else(|| ApiError::Internal("a second-factor check without a user".into()))?;
    let now = state.clock.now();
    let attempt = match Attempt::begin(state, user_id, now).await {
        Ok(attempt) => attempt,
        Err(error) => {
            state.metrics.mfa(purpose.as_str(), MfaResult::Throttled);
            let detail = json!({ "purpose": purpose.as_str(), "reason": "throttled" });
            audit::record(state, AuditEvent::MfaFailed, actor, detail).await?;
            return Err(error);
        }
    };
    let method = match check(state, user_id, code, accept, now).await {
        Ok(method) => method,
        Err(error) => {
            // The lock is released as after a failure, so an internal error cannot lock anyone out
            // for longer than a wrong code would.
            attempt.failed(state, now).await?;
            return Err(error);
        }
    };
    match method {
        Some(method) => {
            attempt.succeeded(state).await?;
            state.metrics.mfa(purpose.as_str(), MfaResult::Success);
            let detail = json!({ "purpose": purpose.as_str(), "method": method.as_str() });
            audit::record(state, AuditEvent::MfaVerified, actor, detail).await?;
        }
        None => {
            attempt.failed(state, now).await?;
            state.metrics.mfa(purpose.as_str(), MfaResult::Invalid);
            let detail = json!({ "purpose": purpose.as_str(), "reason": "invalid_code" });
            audit::record(state, AuditEvent::MfaFailed, actor, detail).await?;
        }
    }
    Ok(method)
}

/// The check itself: digits are a TOTP code, anything else a backup code.
async fn check(
    state: &AppState,
    user_id: i64,
    code: &str,
    accept: Accept,
    now: i64,
) -> Result<Option<Method>, ApiError> {
    let looks_like_totp = code.bytes().all(|b| b.is_ascii_digit() || b == b' ');
    let devices = Device::list(state, user_id).await?;
    let candidates = devices.iter().filter(|device| match accept {
        Accept::AnyFactor => device.confirmed,
        Accept::Device(id) => device.id == id && !device.confirmed,
        Accept::SmsDevice(_) => false,
    });
    if looks_like_totp {
        for device in candidates {
            if device.accept(state, code, now).await? {
                return Ok(Some(Method::Totp));
            }
        }
        let sms = match accept {
            Accept::AnyFactor => crate::store::sms_devices::Devices::Confirmed,
            Accept::SmsDevice(id) => crate::store::sms_devices::Devices::Unconfirmed(id),
            Accept::Device(_) => return Ok(None),
        };
        let sent = crate::store::sms_devices::accept_code(state, user_id, &code.replace(' ', ""), sms, now).await?;
        return Ok(sent.map(|_| Method::Sms));
    }
    if matches!(accept, Accept::AnyFactor) && use_backup_code(state, user_id, code).await? {
        return Ok(Some(Method::BackupCode));
    }
    Ok(None)
}

/// Spends a backup code: its row is deleted, so of concurrent uses exactly one succeeds.
async fn use_backup_code(state: &AppState, user_id: i64, code: &str) -> Result<bool, ApiError> {
    let Ok(normalized) = normalize_backup_code(code) else { return Ok(false) };
    for hash in state.vault.backup_code_hashes(&normalized) {
        let done = sqlx::query("DELETE FROM backup_codes WHERE user_id = $1 AND code_hash = $2")
            .bind(user_id)
            .bind(hash)
            .execute(&state.db.pool)
            .await?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// A fresh set of backup codes for `user_id`, replacing the old set; the codes are returned once
/// and only their hashes are kept.
pub(crate) async fn new_backup_codes(state: &AppState, user_id: i64) -> Result<Vec<String>, ApiError> {
    let codes = generate_backup_codes(&mut OsRng);
    let now = state.clock.now();
    let mut tx = state.db.pool.begin().await?;
    sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    for code in &codes {
        let normalized = normalize_backup_code(code)
            .map_err(|e| ApiError::Internal(format!("a generated backup code does not normalize: {e}")))?;
        sqlx::query("INSERT INTO backup_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(state.vault.backup_code_hash(&normalized))
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(codes)
}

/// How many unused backup codes `user_id` has.
pub(crate) async fn backup_codes_remaining(state: &AppState, user_id: i64) -> Result<i64, ApiError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM backup_codes WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(row.try_get("n")?)
}

/// Marks session `sid` as having verified a second factor.
pub(crate) async fn mark_session(state: &AppState, sid: &str) -> Result<(), ApiError> {
    sqlx::query("UPDATE sessions SET mfa = $1 WHERE id = $2")
        .bind(flag(true))
        .bind(sid)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Deletes `user_id`'s authenticators added before `before` and never confirmed.
pub(crate) async fn delete_unconfirmed(state: &AppState, user_id: i64, before: i64) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM totp_devices WHERE user_id = $1 AND confirmed = 0 AND created_at < $2")
        .bind(user_id)
        .bind(before)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Deletes authenticator `id` of `user_id`.
pub(crate) async fn delete_device(state: &AppState, id: i64, user_id: i64) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM totp_devices WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "mfa_factors_tests.rs"]
mod tests;

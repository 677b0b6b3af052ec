//! What concerns every kind of second factor of a user at once (authenticators, SMS devices,
//! passkeys, backup codes): whether 2FA is on, the methods a login may finish with, and staff's
//! emergency reset. The kinds themselves live in `mfa_factors`, `sms_devices` and `passkeys`.

use sqlx::Row;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// Sets `users.mfa_enabled` from whether a confirmed device (TOTP or SMS) or a passkey remains;
/// without one, the backup codes go too (they would otherwise be a second factor of an account
/// that has none). Returns the flag.
pub(crate) async fn refresh_enabled(state: &AppState, user_id: i64) -> Result<bool, ApiError> {
    let sql = "UPDATE users SET mfa_enabled = CASE WHEN EXISTS (SELECT 1 FROM totp_devices d \
               WHERE d.user_id = users.id AND d.confirmed = 1) OR EXISTS (SELECT 1 FROM passkeys p \
               WHERE p.user_id = users.id) OR EXISTS (SELECT 1 FROM sms_devices s WHERE s.user_id = users.id \
               AND s.confirmed = 1) THEN 1 ELSE 0 END WHERE id = $1 RETURNING mfa_enabled";
    let row = sqlx::query(sql).bind(user_id).fetch_one(&state.db.pool).await?;
    state.db.forget_user(user_id).await;
    let enabled = row.try_get::<i64, _>("mfa_enabled")? != 0;
    if !enabled {
        sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&state.db.pool).await?;
    }
    Ok(enabled)
}

/// Turns 2FA on for `user_id` once a device is confirmed; true if it was off until now.
pub(crate) async fn turn_on(state: &AppState, user_id: i64) -> Result<bool, ApiError> {
    let done = sqlx::query("UPDATE users SET mfa_enabled = 1 WHERE id = $1 AND mfa_enabled = 0")
        .bind(user_id)
        .execute(&state.db.pool)
        .await?;
    state.db.forget_user(user_id).await;
    Ok(done.rows_affected() > 0)
}

/// Removes every second factor of `user_id` in one transaction (staff's emergency reset): its
/// authenticators, SMS devices, passkeys, backup codes and back-off; how many of those devices went.
pub(crate) async fn remove_all(state: &AppState, user_id: i64) -> Result<u64, ApiError> {
    let mut tx = state.db.pool.begin().await?;
    let devices = sqlx::query("DELETE FROM totp_devices WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    let passkeys = sqlx::query("DELETE FROM passkeys WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM sms_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    let sms = sqlx::query("DELETE FROM sms_devices WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM backup_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    sqlx::query("UPDATE users SET mfa_enabled = 0, mfa_failures = 0, mfa_locked_until = 0 WHERE id = $1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.db.forget_user(user_id).await;
    Ok(devices.rows_affected() + passkeys.rows_affected() + sms.rows_affected())
}

/// The second factors `user_id` can answer a login's `mfa_required` with: `totp` and `backup_code`
/// with a confirmed authenticator (as before passkeys), `backup_code` while codes remain,
/// `webauthn` with a passkey when this server has passkeys on, and `sms` with a confirmed SMS device
/// when SMS codes are on.
pub(crate) async fn methods(state: &AppState, user_id: i64) -> Result<Vec<&'static str>, ApiError> {
    let sql = "SELECT (SELECT COUNT(*) FROM totp_devices WHERE user_id = $1 AND confirmed = 1) AS totp, \
               (SELECT COUNT(*) FROM backup_codes WHERE user_id = $1) AS codes, \
               (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) AS passkeys, \
               (SELECT COUNT(*) FROM sms_devices WHERE user_id = $1 AND confirmed = 1) AS sms";
    let row = sqlx::query(sql).bind(user_id).fetch_one(&state.db.pool).await?;
    let count = |column: &str| row.try_get::<i64, _>(column).map(|n| n > 0);
    let totp = count("totp")?;
    let mut methods = Vec::with_capacity(3);
    if totp {
        methods.push("totp");
    }
    if totp || count("codes")? {
        methods.push("backup_code");
    }
    if state.webauthn.is_some() && count("passkeys")? {
        methods.push("webauthn");
    }
    if state.config.sms_backend.is_on() && count("sms")? {
        methods.push("sms");
    }
    Ok(methods)
}

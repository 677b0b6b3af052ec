//! The per-user back-off on second-factor codes: after n failures in a row, the next try waits
//! 2^(n-1) seconds (1, 2, 4, 8 ...) up to `LATCHKEY_MFA_BACKOFF_CAP`, as django-otp's throttling
//! does but capped. A try during the wait is refused with 429 and
//! `Retry-After`, even with the right code, and does not count as a failure.
//!
//! Times are whole seconds, so a wait is held through the second it ends in: a lock set during
//! second `x` for `d` seconds refuses tries until second `x + d` is over, at least `d` seconds and
//! at most `d + 1` (ending it at the start of that second would let a failure late in second `x`
//! wait almost nothing). `Retry-After` says when a try is surely accepted.
//!
//! The state lives in the user's row, so every node sharing the database sees it. A try first
//! *holds* the lock for as long as a failure would impose, with a compare-and-set on the failure
//! count; concurrent tries therefore find the account locked and cannot guess in parallel. The
//! outcome then resets the count (success) or records the failure.

use std::time::Duration;

use sqlx::Row;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// A try that holds the user's lock until [`Attempt::succeeded`] or [`Attempt::failed`].
#[derive(Debug)]
#[must_use = "an attempt must end in succeeded() or failed()"]
pub(crate) struct Attempt {
    user_id: i64,
    /// Failures in a row before this try.
    failures: i64,
}

/// Seconds to wait after `failures` failures in a row (at least 1): 1, 2, 4 ... capped.
pub(crate) fn delay(failures: i64, cap: Duration) -> i64 {
    let cap = crate::infra::clock::seconds(cap).max(1);
    let exponent = u32::try_from(failures.saturating_sub(1).clamp(0, 62)).unwrap_or(62);
    (1_i64 << exponent).min(cap)
}

impl Attempt {
    /// Starts a try for `user_id` at `now`, or refuses it while the user is locked.
    ///
    /// # Errors
    /// [`ApiError::Throttled`] with the seconds left while locked (or while another try is in flight).
    pub async fn begin(state: &AppState, user_id: i64, now: i64) -> Result<Self, ApiError> {
        let row = sqlx::query("SELECT mfa_failures, mfa_locked_until FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&state.db.pool)
            .await?;
        let failures: i64 = row.try_get("mfa_failures")?;
        let locked_until: i64 = row.try_get("mfa_locked_until")?;
        if locked_until >= now {
            return Err(ApiError::Throttled { wait: wait(locked_until, now), limit: None });
        }
        let hold = now.saturating_add(delay(failures + 1, state.config.mfa_backoff_cap));
        let sql =
            "UPDATE users SET mfa_locked_until = $1 WHERE id = $2 AND mfa_failures = $3 AND mfa_locked_until = $4";
        let done =
            sqlx::query(sql).bind(hold).bind(user_id).bind(failures).bind(locked_until).execute(&state.db.pool).await?;
        if done.rows_affected() == 0 {
            // Another try took the lock between the read and the write.
            return Err(ApiError::Throttled { wait: wait(hold, now), limit: None });
        }
        Ok(Self { user_id, failures })
    }

    /// The code was right: the count starts again.
    pub async fn succeeded(self, state: &AppState) -> Result<(), ApiError> {
        sqlx::query("UPDATE users SET mfa_failures = 0, mfa_locked_until = 0 WHERE id = $1")
            .bind(self.user_id)
            .execute(&state.db.pool)
            .await?;
        Ok(())
    }

    /// The code was wrong: one more failure, and the wait it imposes from `now`.
    pub async fn failed(self, state: &AppState, now: i64) -> Result<(), ApiError> {
        let failures = self.failures + 1;
        let until = now.saturating_add(delay(failures, state.config.mfa_backoff_cap));
        sqlx::query("UPDATE users SET mfa_failures = $1, mfa_locked_until = $2 WHERE id = $3")
            .bind(failures)
            .bind(until)
            .bind(self.user_id)
            .execute(&state.db.pool)
            .await?;
        Ok(())
    }
}

/// The seconds until a lock held through second `until` is over, seen at second `now`.
fn wait(until: i64, now: i64) -> u64 {
    u64::try_from(until.saturating_sub(now).saturating_add(1).max(1)).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let cap = Duration::from_secs(300);
        let delays: Vec<i64> = (0..=11).map(|n| delay(n, cap)).collect();
        assert_eq!(delays, [1, 1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(delay(i64::MAX, cap), 300);
        assert_eq!(delay(1_000, Duration::from_secs(u64::MAX)), 1 << 62);
        assert_eq!(delay(5, Duration::ZERO), 1, "a zero cap still waits a second");
    }
}

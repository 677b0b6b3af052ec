//! Rate limits and lockouts that hold across every node sharing the database, and across restarts:
//! the counters live in the `rate_limits` table and change only by single atomic statements
//! (upserts that count and compare-and-set updates that lock), so two nodes cannot both let an
//! attempt through that one node alone would refuse.
//!
//! - **Request limits** (`LATCHKEY_RATE_LIMITS`): at most `count` requests per fixed window, per
//!   scope (`login`, `register`, ...) and subject (the client's network, or the e-mail address a request names).
//! - **Lockouts**, in the spirit of django-axes: `LATCHKEY_LOCKOUT_ATTEMPTS` failed logins of one
//!   account (keyed by the name given, so unknown accounts lock the same way and nothing reveals
//!   which exist), or `LATCHKEY_LOCKOUT_IP_ATTEMPTS` from one address, within `LATCHKEY_LOCKOUT_WINDOW`
//!   lock it out for `LATCHKEY_LOCKOUT_COOLOFF`, each further lockout `LATCHKEY_LOCKOUT_GROWTH` times
//!   longer, never longer than `LATCHKEY_LOCKOUT_CAP`. A successful login clears the account's count.
//!   Re-authentication of a signed-in user counts the same way per user (`LATCHKEY_REAUTH_ATTEMPTS`).
//! - **Exact under concurrency**: an attempt is [reserved](Lock::reserve) (counted as a failure) by
//!   one statement *before* its password is hashed, and the statement refuses once the attempts are
//!   used up; so however many requests arrive at once, at most that many passwords are checked.
//! - **Bounded storage**: a key never holds what a client wrote, only its SHA-256, so a key is the
//!   same size whatever the client sends.
//!
//! The one in-process shortcut is a cache of lockouts already decided in the database: it can only
//! refuse sooner, never let anyone through.

use sqlx::Row;

use crate::infra::config::{Limit, Rate};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// A lockout's count resets after this long without a failure.
const LOCKOUTS_FORGOTTEN_AFTER: i64 = 86_400;

/// Refusals under one lockout are audited at most once per this many seconds.
const REFUSALS_NOTED_EVERY: i64 = 60;

/// A configured duration in seconds, at least one: windows and lockouts are never empty.
fn seconds(duration: std::time::Duration) -> i64 {
    crate::infra::clock::seconds(duration).max(1)
}

fn wait(until: i64, now: i64) -> u64 {
    u64::try_from((until - now).max(1)).unwrap_or(1)
}

/// The counter key of `subject` (anything a client chose: an address, a name) under `prefix`:
/// its SHA-256, so the row is the same size whatever the client sent.
fn key(prefix: &str, subject: &str) -> String {
    format!("{prefix}:{}", crate::infra::digest::sha256_hex(subject))
}

/// Counts one request under `limit` from `subject` against its configured rate (none configured, or
/// an empty subject such as a request without a socket address: nothing to count).
///
/// # Errors
/// 429 with `Retry-After` and `RateLimit-*` once the window's requests are used up.
pub async fn hit(state: &AppState, limit: Limit, subject: &str) -> Result<(), ApiError> {
    let Some(rate) = state.config.rate_limits.get(limit) else { return Ok(()) };
    let counted = hit_rate(state, limit.name(), subject, rate).await;
    if let Err(ApiError::Throttled { .. }) = counted {
        state.metrics.rate_limited(limit);
    }
    counted
}

/// Counts one request from `subject` under the limit named `name` (`scope:subject`, a counter of
/// its own) against `rate`: for limits whose rate is set elsewhere than `LATCHKEY_RATE_LIMITS`
/// (the SMS sending limits). An empty subject counts nothing.
///
/// # Errors
/// 429 with `Retry-After` and `RateLimit-*` once the window's requests are used up.
pub async fn hit_rate(state: &AppState, name: &str, subject: &str, rate: Rate) -> Result<(), ApiError> {
    let Rate { count, window } = rate;
    if subject.is_empty() {
        return Ok(());
    }
    let now = state.clock.now();
    let window = seconds(window);
    let start = now - now.rem_euclid(window);
    let sql = "INSERT INTO rate_limits (key, hits, window_start, updated_at) VALUES ($1, 1, $2, $3) \
               ON CONFLICT (key) DO UPDATE SET \
               hits = CASE WHEN rate_limits.window_start = $4 THEN rate_limits.hits + 1 ELSE 1 END, \
               window_start = $5, updated_at = $6 RETURNING hits";
    let row = sqlx::query(sql)
        .bind(key(&format!("rate:{name}"), subject))
        .bind(start)
        .bind(now)
        .bind(start)
        .bind(start)
        .bind(now)
        .fetch_one(&state.db.pool)
        .await?;
    let hits: i64 = row.try_get("hits")?;
    if hits > i64::from(count) {
        return Err(ApiError::Throttled { wait: wait(start + window, now), limit: Some(count) });
    }
    Ok(())
}

/// A lockout: failed logins of one account or from one address, or failed re-authentications of
/// one user.
#[derive(Debug, Clone)]
pub struct Lock {
    key: String,
    attempts: u32,
    /// `account`, `ip` or `reauth` (`crate::infra::metrics::LOCK_SCOPES`).
    scope: &'static str,
}

impl Lock {
    /// The lockout of the account named `login` (normalized e-mail address or username).
    pub fn account(state: &AppState, login: &str) -> Self {
        Self { key: key("lock:login:account", login), attempts: state.config.lockout_attempts, scope: "account" }
    }

    /// The lockout of the client network `network` (`Client::network`); `None` without one.
    pub fn ip(state: &AppState, network: &str) -> Option<Self> {
        (!network.is_empty()).then(|| Self {
            key: key("lock:login:ip", network),
            attempts: state.config.lockout_ip_attempts,
            scope: "ip",
        })
    }

    /// The re-authentication lockout of the signed-in user `user_id`.
    pub fn reauth(state: &AppState, user_id: i64) -> Self {
        Self { key: format!("lock:reauth:user:{user_id}"), attempts: state.config.reauth_attempts, scope: "reauth" }
    }

    /// Reserves one attempt before the password or code is checked: counts it as a failure, in
    /// one statement that refuses while locked out or once this window's attempts are all taken
    /// (by failures, or by checks still running). The reservation is settled by
    /// [`Reservation::failed`], [`Reservation::succeeded`] or [`Reservation::release`].
    ///
    /// # Errors
    /// 429 with `Retry-After` (the lockout's end, or a second while other checks run), before any
    /// password is hashed.
    pub async fn reserve(&self, state: &AppState) -> Result<Reservation, ApiError> {
        let now = state.clock.now();
        if let Some(until) = state.locks.locked_until(&self.key, now) {
            state.metrics.lockout_refusal(self.scope);
            return Err(ApiError::Throttled { wait: wait(until, now), limit: None });
        }
        let since = now - seconds(state.config.lockout_window);
        let sql = "INSERT INTO rate_limits (key, failures, window_start, updated_at) VALUES ($1, 1, $2, $3) \
                   ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN rate_limits.window_start > $4 THEN rate_limits.failures + 1 ELSE 1 END, \
                   window_start = CASE WHEN rate_limits.window_start > $5 THEN rate_limits.window_start ELSE $6 END, \
                   lockouts = CASE WHEN rate_limits.updated_at > $7 THEN rate_limits.lockouts ELSE 0 END, \
                   updated_at = $8 \
                   WHERE rate_limits.locked_until <= $9 AND (rate_limits.window_start <= $10 OR rate_limits.failures < $11) \
                   RETURNING failures, lockouts";
        let row = sqlx::query(sql)
            .bind(&self.key)
            .bind(now)
            .bind(now)
            .bind(since)
            .bind(since)
            .bind(now)
            .bind(now - LOCKOUTS_FORGOTTEN_AFTER)
            .bind(now)
            .bind(now)
            .bind(since)
            .bind(i64::from(self.attempts.max(1)))
            .fetch_optional(&state.db.pool)
            .await?;
        if let Some(row) = row {
            let (count, lockouts) = (row.try_get("failures")?, row.try_get("lockouts")?);
            return Ok(Reservation { lock: self.clone(), state: Some(state.clone()), count, lockouts });
        }
        let until: i64 = sqlx::query("SELECT locked_until FROM rate_limits WHERE key = $1")
            .bind(&self.key)
            .fetch_optional(&state.db.pool)
            .await?
            .map(|row| row.try_get("locked_until"))
            .transpose()?
            .unwrap_or(0);
        if until > now {
            state.locks.remember(&self.key, until, state.clock.now());
        }
        state.metrics.lockout_refusal(self.scope);
        Err(ApiError::Throttled { wait: wait(until, now), limit: None })
    }

    /// Whether a refusal under this lockout should be audited now: true at most once per minute
    /// per key (one compare-and-set), so refused floods write no more than that.
    pub async fn note_refusal(&self, state: &AppState) -> Result<bool, ApiError> {
        let now = state.clock.now();
        let done = sqlx::query("UPDATE rate_limits SET noted_at = $1 WHERE key = $2 AND noted_at <= $3")
            .bind(now)
            .bind(&self.key)
            .bind(now - REFUSALS_NOTED_EVERY)
            .execute(&state.db.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// One attempt counted ahead of its check. Dropped unsettled (the request was cancelled while its
/// check ran), it is released in the background: the check's answer never reached anyone.
#[derive(Debug)]
pub struct Reservation {
    lock: Lock,
    /// `None` once settled.
    state: Option<AppState>,
    /// This attempt's number in the window: the one that reaches the limit locks when it fails.
    count: i64,
    /// Lockouts so far (for the next one's length).
    lockouts: i64,
}

impl Reservation {
    /// The check failed: the attempt stays counted, and the one that used up the attempts locks,
    /// for a time that grows with each lockout. Returns whether this failure locked.
    pub async fn failed(mut self) -> Result<bool, ApiError> {
        let Some(state) = self.state.take() else { return Ok(false) };
        if self.count < i64::from(self.lock.attempts.max(1)) {
            return Ok(false);
        }
        let now = state.clock.now();
        let until = now.saturating_add(lockout_length(&state.config, self.lockouts + 1));
        // Only one lock per round: the failure that took the last attempt, if the round is unlocked.
        let sql = "UPDATE rate_limits SET failures = 0, lockouts = lockouts + 1, locked_until = $1 \
                   WHERE key = $2 AND lockouts = $3 AND locked_until <= $4";
        let done = sqlx::query(sql)
            .bind(until)
            .bind(&self.lock.key)
            .bind(self.lockouts)
            .bind(now)
            .execute(&state.db.pool)
            .await?;
        if done.rows_affected() > 0 {
            state.locks.remember(&self.lock.key, until, state.clock.now());
            state.metrics.lockout(self.lock.scope);
            return Ok(true);
        }
        Ok(false)
    }

    /// The check passed: the count starts again (the lockout history stays for the day).
    pub async fn succeeded(mut self) -> Result<(), ApiError> {
        let Some(state) = self.state.take() else { return Ok(()) };
        sqlx::query("UPDATE rate_limits SET failures = 0 WHERE key = $1")
            .bind(&self.lock.key)
            .execute(&state.db.pool)
            .await?;
        state.locks.forget(&self.lock.key);
        Ok(())
    }

    /// Nothing was checked after all (another lock refused, the hashing gate was full, or the
    /// check passed where only the account's count starts again): the attempt is given back.
    pub async fn release(mut self) -> Result<(), ApiError> {
        let Some(state) = self.state.take() else { return Ok(()) };
        give_back(&state, &self.lock.key).await
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(state) = self.state.take() {
            let key = self.lock.key.clone();
            tokio::spawn(async move {
                if let Err(error) = give_back(&state, &key).await {
                    tracing::error!(%error, "releasing a cancelled attempt failed");
                }
            });
        }
    }
}

async fn give_back(state: &AppState, key: &str) -> Result<(), ApiError> {
    sqlx::query("UPDATE rate_limits SET failures = failures - 1 WHERE key = $1 AND failures > 0")
        .bind(key)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// The length of the `n`-th lockout in a row: the cool-off times growth^(n-1), capped.
pub fn lockout_length(config: &crate::infra::config::Config, n: i64) -> i64 {
    let cap = seconds(config.lockout_cap);
    let mut length = seconds(config.lockout_cooloff);
    for _ in 1..n.min(64) {
        length = length.saturating_mul(i64::from(config.lockout_growth.max(1)));
        if length >= cap {
            break;
        }
    }
    length.min(cap)
}

/// Deletes rate-limit rows nobody has touched for a day past their longest use.
pub async fn sweep(state: &AppState) -> Result<u64, ApiError> {
    let config = &state.config;
    let longest =
        seconds(config.lockout_cap).max(seconds(config.lockout_window)).max(86_400) + LOCKOUTS_FORGOTTEN_AFTER;
    let done = sqlx::query("DELETE FROM rate_limits WHERE updated_at < $1 AND locked_until < $2")
        .bind(state.clock.now() - longest)
        .bind(state.clock.now())
        .execute(&state.db.pool)
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn lockouts_grow_up_to_the_cap() {
        let mut config = crate::infra::config::Config::from_env().unwrap();
        config.lockout_cooloff = Duration::from_secs(60);
        config.lockout_growth = 2;
        config.lockout_cap = Duration::from_secs(600);
        let lengths: Vec<i64> = (1..=6).map(|n| lockout_length(&config, n)).collect();
        assert_eq!(lengths, [60, 120, 240, 480, 600, 600]);
        assert_eq!(lockout_length(&config, i64::MAX), 600);
        config.lockout_growth = 1;
        assert_eq!(lockout_length(&config, 9), 60);
    }

    #[test]
    fn rate_limits_parse() {
        let limits: crate::infra::config::RateLimits = " login:ip=5/1m , reset:email=3/1h".parse().unwrap();
        assert_eq!(limits.get(Limit::LoginIp), Some(Rate { count: 5, window: Duration::from_secs(60) }));
        assert_eq!(limits.get(Limit::ResetEmail), Some(Rate { count: 3, window: Duration::from_secs(3600) }));
        assert_eq!(limits.get(Limit::ResetIp), None);
        assert_eq!(
            "off".parse::<crate::infra::config::RateLimits>().unwrap(),
            crate::infra::config::RateLimits::default()
        );
        for bad in [
            "login=5/1m",
            "login:ip=5",
            "login:ip=x/1m",
            "login:ip=5/0s",
            "login:ip=5/soon",
            "logn:ip=5/1m",
            "login:email=5/1m",
            "login:ip:x=5/1m",
        ] {
            assert!(bad.parse::<crate::infra::config::RateLimits>().is_err(), "{bad}");
        }
        assert!(crate::infra::config::DEFAULT_RATE_LIMITS.parse::<crate::infra::config::RateLimits>().is_ok());
    }
}

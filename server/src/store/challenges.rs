//! Login challenges: a login that got past the password but must do one more thing first gets a
//! single-use token for it, valid a few minutes. `mfa`: the second factor is due
//! (`POST /api/token/mfa/`); `password_change`: the password has expired
//! (`POST /api/auth/password/change/`). Only the SHA-256 of a token is stored.

use rand_core::{OsRng, RngCore};
use sqlx::Row;

use crate::infra::db::flag;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::sessions::AuthMethod;

/// What a challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// The second factor is due.
    Mfa,
    /// The password has expired and must be changed.
    PasswordChange,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Mfa => "mfa",
            Self::PasswordChange => "password_change",
        }
    }

    /// How long a token lives, in seconds.
    pub fn lifetime(self) -> i64 {
        match self {
            Self::Mfa => 5 * 60,
            Self::PasswordChange => 10 * 60,
        }
    }
}

/// A pending challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// Whose login it is.
    pub user_id: i64,
    /// The login asked for cookie mode.
    pub cookie: bool,
    /// The login verified a second factor.
    pub mfa: bool,
    /// The organization the login asked for.
    pub org_id: Option<i64>,
    /// What proved the user before this step.
    pub method: AuthMethod,
    hash: String,
}

/// What a new challenge remembers of its login.
#[derive(Debug)]
pub struct NewChallenge<'a> {
    /// Whose login it is.
    pub user_id: i64,
    /// The login asked for cookie mode.
    pub cookie: bool,
    /// The login verified a second factor.
    pub mfa: bool,
    /// The slug of the organization the login asked for.
    pub org: Option<&'a str>,
    /// What proved the user before this step.
    pub method: &'a AuthMethod,
}

/// A new challenge; returns its token (64 hex characters).
pub async fn create(state: &AppState, purpose: Purpose, new: NewChallenge<'_>) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = latchkey_core::encoding::hex(&bytes);
    let now = state.clock.now();
    // Expired challenges are swept as new ones are made; the table stays as small as the logins in flight.
    sqlx::query("DELETE FROM mfa_challenges WHERE expires_at <= $1").bind(now).execute(&state.db.pool).await?;
    let sql = "INSERT INTO mfa_challenges (token_hash, user_id, cookie, expires_at, purpose, mfa, org, auth_method) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
    // The password, the method of most logins, is stored as NULL (as rows from before the column).
    let method = Some(new.method).filter(|m| **m != AuthMethod::Password).map(|m| m.as_str().into_owned());
    sqlx::query(sql)
        .bind(crate::infra::digest::sha256_hex(&token))
        .bind(new.user_id)
        .bind(flag(new.cookie))
        .bind(now + purpose.lifetime())
        .bind(purpose.as_str())
        .bind(flag(new.mfa))
        .bind(new.org)
        .bind(method)
        .execute(&state.db.pool)
        .await?;
    Ok(token)
}

/// The live challenge of `token` for `purpose`, without spending it.
pub async fn find(state: &AppState, purpose: Purpose, token: &str) -> Result<Option<Challenge>, ApiError> {
    let hash = crate::infra::digest::sha256_hex(token);
    let sql = "SELECT c.user_id, c.cookie, c.mfa, c.auth_method, o.id AS org_id FROM mfa_challenges c \
               LEFT JOIN organizations o ON o.slug = c.org WHERE c.token_hash = $1 AND c.purpose = $2 AND c.expires_at > $3";
    let row = sqlx::query(sql)
        .bind(&hash)
        .bind(purpose.as_str())
        .bind(state.clock.now())
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Challenge {
        user_id: row.try_get("user_id")?,
        cookie: row.try_get::<i64, _>("cookie")? != 0,
        mfa: row.try_get::<i64, _>("mfa")? != 0,
        org_id: row.try_get("org_id")?,
        method: AuthMethod::parse(row.try_get::<Option<String>, _>("auth_method")?.as_deref()),
        hash,
    }))
}

impl Challenge {
    /// Spends the challenge; false if another request spent it first (or it expired meanwhile).
    pub async fn spend(&self, state: &AppState) -> Result<bool, ApiError> {
        let done = sqlx::query("DELETE FROM mfa_challenges WHERE token_hash = $1 AND expires_at > $2")
            .bind(&self.hash)
            .bind(state.clock.now())
            .execute(&state.db.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

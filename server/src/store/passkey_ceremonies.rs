//! Passkey ceremonies in flight: the verifier's challenge state, kept server-side between the
//! options and the answer, single use and 5 minutes long. The client holds a random
//! `ceremony_id`; only its SHA-256 is stored. Spending is one `DELETE … RETURNING`: of two requests
//! racing with one ceremony, exactly one gets its state, and a failed answer has spent it too.

use rand_core::{OsRng, RngCore};
use sqlx::Row;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::infra::webauthn::CEREMONY_LIFETIME;

/// What a ceremony is for; a ceremony is only ever spent for its own purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A signed-in user adds a passkey.
    Register,
    /// A sign-in with a passkey.
    Login,
    /// The second factor of a password login, keyed by its `mfa_token`.
    SecondFactor,
    /// A signed-in user proves it is them again.
    Reauthenticate,
}

impl Purpose {
    /// A signed-in user has one ceremony of this purpose in flight: a new one replaces the last,
    /// so that no user can pile up rows. (A sign-in's ceremonies are bounded per address by
    /// `login:ip` instead: replacing them per account would let anyone cancel another's sign-in.)
    fn one_per_user(self) -> bool {
        matches!(self, Self::Register | Self::Reauthenticate)
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Login => "login",
            Self::SecondFactor => "mfa",
            Self::Reauthenticate => "reauth",
        }
    }
}

/// A spent ceremony.
#[derive(Debug)]
pub(crate) struct Ceremony {
    /// Whose ceremony it is; none for a discoverable sign-in.
    pub user_id: Option<i64>,
    /// The session that asked (registration, re-authentication).
    pub session_id: Option<String>,
    /// The name asked for (registration).
    pub name: Option<String>,
    /// The verifier's state, JSON.
    pub state: String,
}

/// What a new ceremony remembers.
#[derive(Debug, Default)]
pub(crate) struct NewCeremony<'a> {
    pub user_id: Option<i64>,
    pub session_id: Option<&'a str>,
    pub name: Option<&'a str>,
    /// The verifier's state, JSON.
    pub state: String,
}

/// Stores a ceremony; its `ceremony_id` (64 hex characters).
pub(crate) async fn create(state: &AppState, purpose: Purpose, new: NewCeremony<'_>) -> Result<String, ApiError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let id = latchkey_core::encoding::hex(&bytes);
    put(state, purpose, &id, new).await?;
    Ok(id)
}

/// Stores the ceremony of `key` (an `mfa_token`), replacing an earlier one of the same key: the
/// latest options are the ones answered.
pub(crate) async fn put(state: &AppState, purpose: Purpose, key: &str, new: NewCeremony<'_>) -> Result<(), ApiError> {
    let now = state.clock.now();
    // Expired ceremonies are swept as new ones are made: the table holds only those in flight.
    sqlx::query("DELETE FROM passkey_ceremonies WHERE expires_at <= $1").bind(now).execute(&state.db.pool).await?;
    if let (true, Some(user_id)) = (purpose.one_per_user(), new.user_id) {
        sqlx::query("DELETE FROM passkey_ceremonies WHERE user_id = $1 AND purpose = $2")
            .bind(user_id)
            .bind(purpose.as_str())
            .execute(&state.db.pool)
            .await?;
    }
    let sql = "INSERT INTO passkey_ceremonies (id_hash, purpose, user_id, session_id, name, state, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id_hash) DO UPDATE SET state = excluded.state, \
               expires_at = excluded.expires_at";
    sqlx::query(sql)
        .bind(crate::infra::digest::sha256_hex(key))
        .bind(purpose.as_str())
        .bind(new.user_id)
        .bind(new.session_id)
        .bind(new.name)
        .bind(new.state)
        .bind(now + CEREMONY_LIFETIME)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// Spends the live ceremony `key` of `purpose`: its contents, or `None` if it is unknown, spent,
/// expired or for something else.
pub(crate) async fn spend(state: &AppState, purpose: Purpose, key: &str) -> Result<Option<Ceremony>, ApiError> {
    let sql = "DELETE FROM passkey_ceremonies WHERE id_hash = $1 AND purpose = $2 AND expires_at > $3 \
               RETURNING user_id, session_id, name, state";
    let row = sqlx::query(sql)
        .bind(crate::infra::digest::sha256_hex(key))
        .bind(purpose.as_str())
        .bind(state.clock.now())
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Ceremony {
        user_id: row.try_get("user_id")?,
        session_id: row.try_get("session_id")?,
        name: row.try_get("name")?,
        state: row.try_get("state")?,
    }))
}

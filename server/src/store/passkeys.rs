//! Passkeys in the database: each user's registered WebAuthn credentials, and the account's user
//! handle. A credential holds a public key and nothing secret; its signature counter only moves
//! forward, by a compare-and-set ([`Passkey::record_use`]).

use rand_core::{OsRng, RngCore};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;
use webauthn_rs_core::proto::Credential;

use crate::infra::datetime::Rfc3339;
use crate::infra::db::flag;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::users::{is_unique_violation, User};

/// A passkey's name is at most this many characters.
pub(crate) const NAME_MAX: usize = 64;
/// Passkeys per account.
pub(crate) const MAX_PER_USER: usize = 10;

/// A passkey row.
#[derive(Debug, Clone)]
pub(crate) struct Passkey {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The verifier's record: public key, counter, registration flags.
    pub credential: Credential,
    pub sign_count: u32,
    pub backed_up: bool,
    pub transports: Vec<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// What its user sees of a passkey.
#[derive(Debug, Serialize, ToSchema)]
pub struct PasskeyObject {
    /// The passkey's id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// When it was added.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
    /// When it last signed in or confirmed the user, or null.
    #[schema(value_type = Option<String>, required = true, format = DateTime)]
    pub last_used_at: Option<Rfc3339>,
    /// The authenticator says the passkey is backed up (synced to other devices).
    pub backed_up: bool,
    /// How the browser can reach the authenticator (`internal`, `usb`, `hybrid`, ...), as it said.
    pub transports: Vec<String>,
}

const COLUMNS: &str = "id, user_id, name, credential, sign_count, backed_up, transports, created_at, last_used_at";

impl Passkey {
    fn from_row(row: &AnyRow) -> Result<Self, ApiError> {
        let credential: String = row.try_get("credential")?;
        let transports: String = row.try_get("transports")?;
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            credential: serde_json::from_str(&credential)
                .map_err(|e| ApiError::Internal(format!("stored passkey credential: {e}")))?,
            sign_count: u32::try_from(row.try_get::<i64, _>("sign_count")?).unwrap_or(u32::MAX),
            backed_up: row.try_get::<i64, _>("backed_up")? != 0,
            transports: serde_json::from_str(&transports).unwrap_or_default(),
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
        })
    }

    /// Every passkey of `user_id`, oldest first.
    pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<Self>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(&state.db.pool).await?;
        rows.iter().map(Self::from_row).collect()
    }

    /// Passkey `id` if it belongs to `user_id`.
    pub async fn find(state: &AppState, user_id: i64, id: i64) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE id = $1 AND user_id = $2");
        let row = sqlx::query(&sql).bind(id).bind(user_id).fetch_optional(&state.db.pool).await?;
        row.as_ref().map(Self::from_row).transpose()
    }

    /// The passkey whose credential ID is `raw_id`, whoever's it is.
    pub async fn by_credential_id(state: &AppState, raw_id: &[u8]) -> Result<Option<Self>, ApiError> {
        let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1");
        let row = sqlx::query(&sql).bind(credential_key(raw_id)).fetch_optional(&state.db.pool).await?;
        row.as_ref().map(Self::from_row).transpose()
    }

    /// Stores `credential` as a passkey of `user_id`, with the `transports` its browser reported;
    /// `None` when the credential is registered already (to this account or another).
    pub async fn insert(
        state: &AppState,
        user_id: i64,
        (name, transports): (&str, &[String]),
        credential: &Credential,
        now: i64,
    ) -> Result<Option<Self>, ApiError> {
        let sql = format!(
            "INSERT INTO passkeys (user_id, credential_id, name, credential, sign_count, backed_up, transports, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        let transports = serde_json::to_string(transports).unwrap_or_else(|_| "[]".into());
        let result = sqlx::query(&sql)
            .bind(user_id)
            .bind(credential_key(&credential.cred_id))
            .bind(name)
            .bind(serialize(credential)?)
            .bind(i64::from(credential.counter))
            .bind(flag(credential.backup_state))
            .bind(transports)
            .bind(now)
            .fetch_one(&state.db.pool)
            .await;
        match result {
            Ok(row) => Self::from_row(&row).map(Some),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Records a verified use: the counter `counter` (compare-and-set: only forward, unless the
    /// authenticator keeps no counter and it stays 0), the backup flags, the time. False when the
    /// counter did not move forward from what is stored now (a concurrent use came first).
    pub async fn record_use(
        &self,
        state: &AppState,
        counter: u32,
        backup: (bool, bool),
        now: i64,
    ) -> Result<bool, ApiError> {
        let mut credential = self.credential.clone();
        credential.counter = counter;
        (credential.backup_eligible, credential.backup_state) = backup;
        let sql = "UPDATE passkeys SET credential = $1, sign_count = $2, backed_up = $3, last_used_at = $4 \
                   WHERE id = $5 AND (sign_count < $2 OR (sign_count = 0 AND $2 = 0))";
        let done = sqlx::query(sql)
            .bind(serialize(&credential)?)
            .bind(i64::from(counter))
            .bind(flag(backup.1))
            .bind(now)
            .bind(self.id)
            .execute(&state.db.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Renames passkey `id` of `user_id`; the renamed passkey, if it is theirs.
    pub async fn rename(state: &AppState, user_id: i64, id: i64, name: &str) -> Result<Option<Self>, ApiError> {
        let sql = format!("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3 RETURNING {COLUMNS}");
        let row = sqlx::query(&sql).bind(name).bind(id).bind(user_id).fetch_optional(&state.db.pool).await?;
        row.as_ref().map(Self::from_row).transpose()
    }

    /// Deletes passkey `id` of `user_id`.
    pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<(), ApiError> {
        sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&state.db.pool)
            .await?;
        Ok(())
    }

    /// How many passkeys `user_id` has.
    pub async fn count(state: &AppState, user_id: i64) -> Result<i64, ApiError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM passkeys WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(&state.db.pool)
            .await?;
        Ok(row.try_get("n")?)
    }

    /// The passkey as its user sees it.
    pub fn shown(&self) -> PasskeyObject {
        PasskeyObject {
            id: self.id,
            name: self.name.clone(),
            created_at: Rfc3339(self.created_at),
            last_used_at: self.last_used_at.map(Rfc3339),
            backed_up: self.backed_up,
            transports: self.transports.clone(),
        }
    }
}

/// The credential ID as stored (base64url, unique).
fn credential_key(raw_id: &[u8]) -> String {
    latchkey_core::encoding::base64url(raw_id)
}

fn serialize(credential: &Credential) -> Result<String, ApiError> {
    serde_json::to_string(credential).map_err(|e| ApiError::Internal(format!("passkey credential: {e}")))
}

/// `user`'s WebAuthn user handle, drawn (32 random bytes) the first time it is asked for. Of two
/// concurrent first asks, both get the one stored first.
pub(crate) async fn user_handle(state: &AppState, user: &User) -> Result<Vec<u8>, ApiError> {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let drawn = credential_key(&bytes);
    let sql =
        "UPDATE users SET webauthn_handle = COALESCE(webauthn_handle, $1) WHERE id = $2 RETURNING webauthn_handle";
    let row = sqlx::query(sql).bind(&drawn).bind(user.id).fetch_one(&state.db.pool).await?;
    let handle: String = row.try_get("webauthn_handle")?;
    latchkey_core::encoding::unbase64url(&handle)
        .ok_or_else(|| ApiError::Internal("stored webauthn handle is not base64url".into()))
}

/// The id of the user whose handle is `handle`.
pub(crate) async fn user_of_handle(state: &AppState, handle: &[u8]) -> Result<Option<i64>, ApiError> {
    let row = sqlx::query("SELECT id FROM users WHERE webauthn_handle = $1")
        .bind(credential_key(handle))
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.map(|r| r.try_get("id")).transpose()?)
}

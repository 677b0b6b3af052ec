//! Provider identities linked to accounts (docs/api.md#social-login). The identity is
//! `(provider, subject)`, never the e-mail address: an address is what a provider said last, kept
//! for the user to recognise the link, and a returning identity is found by its subject alone.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::infra::datetime::Rfc3339;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::users::is_unique_violation;

/// A linked identity.
#[derive(Debug, Clone)]
pub(crate) struct SocialAccount {
    pub id: i64,
    pub user_id: i64,
    pub provider: String,
    pub email: Option<String>,
    pub created_at: i64,
}

/// What its user sees of a linked identity.
#[derive(Debug, Serialize, ToSchema)]
pub struct SocialAccountObject {
    /// The link's id.
    pub id: i64,
    /// The provider's id, as configured (`google`, `github`).
    pub provider: String,
    /// The address the provider gave at the last sign-in, or null.
    #[schema(required = true)]
    pub email: Option<String>,
    /// When the identity was linked.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Rfc3339,
}

impl SocialAccount {
    fn from_row(row: &AnyRow) -> Result<Self, ApiError> {
        Ok(Self {
            id: row.try_get("id")?,
            user_id: row.try_get("user_id")?,
            provider: row.try_get("provider")?,
            email: row.try_get("email")?,
            created_at: row.try_get("created_at")?,
        })
    }

    /// Its answer.
    pub fn object(&self) -> SocialAccountObject {
        SocialAccountObject {
            id: self.id,
            provider: self.provider.clone(),
            email: self.email.clone(),
            created_at: Rfc3339(self.created_at),
        }
    }

    /// Every identity linked to `user_id`, newest first.
    pub async fn list(state: &AppState, user_id: i64) -> Result<Vec<Self>, ApiError> {
        let sql = "SELECT id, user_id, provider, email, created_at FROM social_accounts WHERE user_id = $1 \
                   ORDER BY created_at DESC, id DESC";
        let rows = sqlx::query(sql).bind(user_id).fetch_all(&state.db.pool).await?;
        rows.iter().map(Self::from_row).collect()
    }

    /// The identity `subject` of `provider`, whoever it is linked to.
    pub async fn by_identity(state: &AppState, provider: &str, subject: &str) -> Result<Option<Self>, ApiError> {
        let sql = "SELECT id, user_id, provider, email, created_at FROM social_accounts \
                   WHERE provider = $1 AND subject = $2";
        let row = sqlx::query(sql).bind(provider).bind(subject).fetch_optional(&state.db.pool).await?;
        row.as_ref().map(Self::from_row).transpose()
    }

    /// Links `subject` of `provider` to `user_id`; `None` when the identity is linked already, or the
    /// account has an identity of this provider (a race, or a second one).
    pub async fn insert(
        state: &AppState,
        user_id: i64,
        (provider, subject): (&str, &str),
        email: Option<&str>,
    ) -> Result<Option<Self>, ApiError> {
        let now = state.clock.now();
        let sql = "INSERT INTO social_accounts (user_id, provider, subject, email, created_at, last_used_at) \
                   VALUES ($1, $2, $3, $4, $5, $5) RETURNING id, user_id, provider, email, created_at";
        let inserted = sqlx::query(sql)
            .bind(user_id)
            .bind(provider)
            .bind(subject)
            .bind(email)
            .bind(now)
            .fetch_one(&state.db.pool)
            .await;
        match inserted {
            Ok(row) => Ok(Some(Self::from_row(&row)?)),
            Err(e) if is_unique_violation(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// A sign-in by this identity: the address the provider gives now, and when.
    pub async fn touch(state: &AppState, id: i64, email: Option<&str>) -> Result<(), ApiError> {
        sqlx::query("UPDATE social_accounts SET email = $1, last_used_at = $2 WHERE id = $3")
            .bind(email)
            .bind(state.clock.now())
            .bind(id)
            .execute(&state.db.pool)
            .await?;
        Ok(())
    }

    /// Unlinks identity `id` of `user_id`; whether it was there.
    pub async fn delete(state: &AppState, user_id: i64, id: i64) -> Result<bool, ApiError> {
        let done = sqlx::query("DELETE FROM social_accounts WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&state.db.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

//! Security webhook endpoints (`webhook_endpoints`): where staff want security events sent, which
//! types, and the signing secret, sealed by the vault under an owner of its own (the endpoint's id,
//! negated, so that it never opens as a user's TOTP secret nor as another endpoint's).

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::webhook_events::WebhookEvent;

/// The most endpoints a server keeps: each event is written once per subscriber, so the count
/// bounds what one login attempt can cost.
pub const MAX_ENDPOINTS: i64 = 20;

/// An endpoint as stored (its secret stays here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub id: i64,
    pub url: String,
    /// The types it receives, in the contract's order.
    pub events: Vec<WebhookEvent>,
    /// Deliveries wait while it is off (a test is sent anyway).
    pub active: bool,
    /// The staff member who created it (none once their account is deleted).
    pub created_by: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a change sets; `None` keeps the stored value.
#[derive(Debug, Default)]
pub struct Change<'a> {
    pub url: Option<&'a str>,
    pub events: Option<&'a [WebhookEvent]>,
    pub active: Option<bool>,
}

const COLUMNS: &str = "id, url, events, active, created_by, created_at, updated_at";

/// The vault's owner of endpoint `id`'s secret.
fn owner(id: i64) -> i64 {
    -id
}

/// The stored form of a subscription: `,type,type,`, which `LIKE '%,type,%'` searches.
pub(crate) fn stored_events(events: &[WebhookEvent]) -> String {
    let mut sorted = events.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let names: Vec<&str> = sorted.iter().map(|e| e.as_str()).collect();
    format!(",{},", names.join(","))
}

fn read_events(stored: &str) -> Vec<WebhookEvent> {
    let mut events: Vec<WebhookEvent> = stored.split(',').filter_map(WebhookEvent::subscribable).collect();
    events.sort_unstable();
    events
}

fn from_row(row: &AnyRow) -> Result<Endpoint, ApiError> {
    Ok(Endpoint {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        events: read_events(&row.try_get::<String, _>("events")?),
        active: row.try_get::<i64, _>("active")? != 0,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// How many endpoints there are.
pub async fn count(state: &AppState) -> Result<i64, ApiError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM webhook_endpoints").fetch_one(&state.db.pool).await?;
    Ok(row.try_get("n")?)
}

/// Stores a new endpoint with its secret (sealed in the same transaction, once its id is known).
pub async fn create(
    state: &AppState,
    url: &str,
    events: &[WebhookEvent],
    secret: &str,
    created_by: i64,
) -> Result<Endpoint, ApiError> {
    let now = state.clock.now();
    let mut tx = state.db.pool.begin().await?;
    let sql = format!(
        "INSERT INTO webhook_endpoints (url, events, secret, active, created_by, created_at, updated_at) \
         VALUES ($1, $2, '', 1, $3, $4, $5) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(url)
        .bind(stored_events(events))
        .bind(created_by)
        .bind(now)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
    let endpoint = from_row(&row)?;
    sqlx::query("UPDATE webhook_endpoints SET secret = $1 WHERE id = $2")
        .bind(state.vault.seal(secret.as_bytes(), owner(endpoint.id)))
        .bind(endpoint.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(endpoint)
}

/// Every endpoint, oldest first.
pub async fn list(state: &AppState) -> Result<Vec<Endpoint>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints ORDER BY id");
    let rows = sqlx::query(&sql).fetch_all(&state.db.pool).await?;
    rows.iter().map(from_row).collect()
}

/// Endpoint `id`.
pub async fn get(state: &AppState, id: i64) -> Result<Option<Endpoint>, ApiError> {
    let sql = format!("SELECT {COLUMNS} FROM webhook_endpoints WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(&state.db.pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// Applies `change` to endpoint `id`; the endpoint as changed, or `None` when there is none.
pub async fn update(state: &AppState, id: i64, change: &Change<'_>) -> Result<Option<Endpoint>, ApiError> {
    // Unset fields bind the stored value's own column through COALESCE.
    let sql = format!(
        "UPDATE webhook_endpoints SET url = COALESCE($1, url), events = COALESCE($2, events), \
         active = COALESCE($3, active), updated_at = $4 WHERE id = $5 RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(change.url)
        .bind(change.events.map(stored_events))
        .bind(change.active.map(i64::from))
        .bind(state.clock.now())
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Deletes endpoint `id` and, by the foreign key's cascade (on for every SQLite connection of
/// `crate::infra::db`), its deliveries; whether there was one.
pub async fn delete(state: &AppState, id: i64) -> Result<bool, ApiError> {
    let done = sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id).execute(&state.db.pool).await?;
    Ok(done.rows_affected() > 0)
}

/// The URL and the opened secret of endpoint `id`, for signing a delivery.
pub(crate) async fn target(state: &AppState, id: i64) -> Result<Option<(String, String)>, ApiError> {
    let row = sqlx::query("SELECT url, secret FROM webhook_endpoints WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let sealed: String = row.try_get("secret")?;
    let (secret, _) = state
        .vault
        .open(&sealed, owner(id))
        .map_err(|e| ApiError::Internal(format!("webhook endpoint {id}'s secret: {e}")))?;
    let secret = String::from_utf8(secret).map_err(|_| ApiError::Internal("a webhook secret is not text".into()))?;
    Ok(Some((row.try_get("url")?, secret)))
}

#[cfg(test)]
mod tests {
    use super::{read_events, stored_events, WebhookEvent};

    #[test]
    fn a_subscription_is_stored_sorted_once_and_read_back() {
        let events = [WebhookEvent::LoginFailed, WebhookEvent::UserCreated, WebhookEvent::LoginFailed];
        let stored = stored_events(&events);
        assert_eq!(stored, ",user.created,login.failed,");
        assert_eq!(read_events(&stored), vec![WebhookEvent::UserCreated, WebhookEvent::LoginFailed]);
    }
}

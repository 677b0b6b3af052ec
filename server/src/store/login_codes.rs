//! The sign-ins by e-mailed code in flight (docs/api.md#e-mail-codes-and-magic-links), one
//! `login_codes` row each, for any address asked for, registered or not.
//!
//! The asker holds the `flow_id`; only its SHA-256 is stored, with an HMAC of the code bound to the
//! flow (`crate::infra::vault`) and the SHA-256 of the link's token. Every try is counted first, by
//! one `UPDATE … WHERE attempts < 5 … RETURNING` that refuses once the tries are used up, so however
//! many guesses arrive at once, at most five are ever compared; the right one spends the row by one
//! `DELETE … RETURNING`: of two requests racing with one code, exactly one signs in.

use sqlx::Row;

use crate::infra::digest::sha256_hex;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// How long a code and its link work, in seconds (§16: 10 minutes).
pub(crate) const LIFETIME: i64 = 10 * 60;

/// Wrong tries after which a flow is dead (§16: 5).
pub(crate) const MAX_ATTEMPTS: i64 = 5;

/// A new row: the flow's key, the address asked for, and what proves the flow.
#[derive(Debug)]
pub(crate) struct NewFlow<'a> {
    /// What the asker holds.
    pub flow_id: &'a str,
    /// The normalized address asked for.
    pub email: &'a str,
    /// The code's HMAC (`Vault::one_time_code_hash`).
    pub code_hash: &'a str,
    /// The SHA-256 of the link's token.
    pub token_hash: &'a str,
}

/// Stores a new flow, valid [`LIFETIME`] from now. Expired rows are swept first: the table holds
/// only the flows in flight, as many as the `code:ip` limit lets through in 10 minutes.
pub(crate) async fn put(state: &AppState, flow: &NewFlow<'_>) -> Result<(), ApiError> {
    let now = state.clock.now();
    sqlx::query("DELETE FROM login_codes WHERE expires_at <= $1").bind(now).execute(&state.db.pool).await?;
    let sql = "INSERT INTO login_codes (flow_hash, email, code_hash, token_hash, attempts, created_at, expires_at) \
               VALUES ($1, $2, $3, $4, 0, $5, $6)";
    sqlx::query(sql)
        .bind(sha256_hex(flow.flow_id))
        .bind(flow.email)
        .bind(flow.code_hash)
        .bind(flow.token_hash)
        .bind(now)
        .bind(now + LIFETIME)
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// The address of the live flow `flow_id`, which has tries left; `None` when it is unknown, spent,
/// dead or expired.
pub(crate) async fn email_of(state: &AppState, flow_id: &str) -> Result<Option<String>, ApiError> {
    let sql = "SELECT email FROM login_codes WHERE flow_hash = $1 AND expires_at > $2 AND attempts < $3";
    let row = sqlx::query(sql)
        .bind(sha256_hex(flow_id))
        .bind(state.clock.now())
        .bind(MAX_ATTEMPTS)
        .fetch_optional(&state.db.pool)
        .await?;
    Ok(row.map(|row| row.try_get("email")).transpose()?)
}

/// One try counted against a live flow: what to compare the proof with.
#[derive(Debug)]
pub(crate) struct Counted {
    /// The address asked for.
    pub email: String,
    /// The code's HMAC.
    pub code_hash: String,
    /// The SHA-256 of the link's token.
    pub token_hash: String,
    /// This try's number, 1 to [`MAX_ATTEMPTS`].
    pub attempts: i64,
}

/// Counts one try against the live flow `flow_id`, before anything is compared; `None` when it is
/// unknown, spent, expired, or its tries are used up.
pub(crate) async fn count_attempt(state: &AppState, flow_id: &str) -> Result<Option<Counted>, ApiError> {
    let sql = "UPDATE login_codes SET attempts = attempts + 1 \
               WHERE flow_hash = $1 AND expires_at > $2 AND attempts < $3 \
               RETURNING email, code_hash, token_hash, attempts";
    let row = sqlx::query(sql)
        .bind(sha256_hex(flow_id))
        .bind(state.clock.now())
        .bind(MAX_ATTEMPTS)
        .fetch_optional(&state.db.pool)
        .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(Counted {
        email: row.try_get("email")?,
        code_hash: row.try_get("code_hash")?,
        token_hash: row.try_get("token_hash")?,
        attempts: row.try_get("attempts")?,
    }))
}

/// Spends the live flow `flow_id` (the right code or token was given): its address, or `None` when
/// a concurrent request spent it first or it expired meanwhile.
pub(crate) async fn spend(state: &AppState, flow_id: &str) -> Result<Option<String>, ApiError> {
    let sql = "DELETE FROM login_codes WHERE flow_hash = $1 AND expires_at > $2 RETURNING email";
    let row = sqlx::query(sql).bind(sha256_hex(flow_id)).bind(state.clock.now()).fetch_optional(&state.db.pool).await?;
    Ok(row.map(|row| row.try_get("email")).transpose()?)
}

/// Deletes the flow `flow_id` (its last try failed): nothing is left to guess against.
pub(crate) async fn kill(state: &AppState, flow_id: &str) -> Result<(), ApiError> {
    sqlx::query("DELETE FROM login_codes WHERE flow_hash = $1")
        .bind(sha256_hex(flow_id))
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn flow(id: &str) -> NewFlow<'_> {
        NewFlow { flow_id: id, email: "ada@example.com", code_hash: "c", token_hash: "t" }
    }

    #[tokio::test]
    async fn tries_are_counted_up_to_the_limit_and_a_spent_flow_is_gone() {
        let state = crate::store::testing::sqlite_state().await;
        put(&state, &flow("f1")).await.unwrap();
        for n in 1..=MAX_ATTEMPTS {
            assert_eq!(count_attempt(&state, "f1").await.unwrap().unwrap().attempts, n);
        }
        assert!(count_attempt(&state, "f1").await.unwrap().is_none(), "a sixth try is refused before any compare");
        assert!(email_of(&state, "f1").await.unwrap().is_none());
        put(&state, &flow("f2")).await.unwrap();
        assert_eq!(spend(&state, "f2").await.unwrap().as_deref(), Some("ada@example.com"));
        assert!(spend(&state, "f2").await.unwrap().is_none(), "single use");
        assert!(count_attempt(&state, "f2").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn expired_flows_are_refused_and_swept() {
        let state = crate::store::testing::sqlite_state().await;
        put(&state, &flow("old")).await.unwrap();
        state.clock.advance(std::time::Duration::from_secs(LIFETIME as u64));
        assert!(email_of(&state, "old").await.unwrap().is_none());
        assert!(count_attempt(&state, "old").await.unwrap().is_none());
        put(&state, &flow("new")).await.unwrap();
        let rows: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_codes").fetch_one(&state.db.pool).await.unwrap();
        assert_eq!(rows.0, 1, "the expired row was swept when the new one was made");
    }
}

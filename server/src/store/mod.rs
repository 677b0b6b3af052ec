//! The tables: one module per table or group of tables, the place SQL is written.

pub mod api_keys;
pub mod audit;
pub mod audit_events;
pub mod challenges;
pub mod django_import;
pub mod invitations;
pub mod limits;
pub mod login_codes;
pub mod mfa_backoff;
pub mod mfa_factors;
pub mod orgs;
pub mod passkey_ceremonies;
pub mod passkeys;
pub mod password_history;
pub mod second_factors;
pub mod sessions;
pub mod sms_devices;
pub mod social_accounts;
pub mod social_flows;
pub mod user_fields;
pub mod users;
pub mod webhook_events;
pub mod webhook_outbox;
pub mod webhooks;

/// The store's unit tests: a fresh SQLite database, migrated, behind a state.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod testing {
    use crate::infra::config::Config;
    use crate::infra::db::Db;
    use crate::infra::state::AppState;

    pub(crate) async fn sqlite_state() -> AppState {
        let mut bytes = [0u8; 8];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        let dir = std::env::temp_dir().join(format!("latchkey-store-{}", latchkey_core::encoding::hex(&bytes)));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}/test.db?mode=rwc", dir.display());
        let mut config = Config::from_env().unwrap();
        config.secret_key = Some("unit-test-secret-unit-test-secret-0123".into());
        let db = Db::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        AppState::with_db(config, db).unwrap()
    }

    /// A user row, with nothing but what the schema requires; its id.
    pub(crate) async fn user(state: &AppState, email: &str) -> i64 {
        let sql = "INSERT INTO users (email, password, date_joined) VALUES ($1, 'x', 0) RETURNING id";
        let row: (i64,) = sqlx::query_as(sql).bind(email).fetch_one(&state.db.pool).await.unwrap();
        row.0
    }
}

//! Administrative commands of the `latchkey` binary that are not the server itself.

use latchkey_core::policy::UserAttributes;

use crate::infra::db::Db;
use crate::store::users::normalize_email;
use crate::{config::Config, state::AppState};

/// Creates a staff superuser with a verified e-mail address (`latchkey create-superuser`), after
/// migrating. The password must pass the policy, as Django's `createsuperuser` checks its validators.
pub async fn create_superuser(config: Config, email: &str, password: &str) -> Result<i64, String> {
    let email = normalize_email(email);
    if !email.contains('@') {
        return Err("Enter a valid email address.".into());
    }
    let db = Db::connect(&config.database_url).await.map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let state = AppState::with_db(config, db).map_err(|e| e.to_string())?;
    let user = UserAttributes { email: Some(email.clone()), ..Default::default() };
    let verdict = state.policy.validate(password, &user);
    if !verdict.valid {
        let messages: Vec<String> = verdict.violations.iter().map(|v| v.message()).collect();
        return Err(messages.join(" "));
    }
    let hash = state
        .hasher
        .hash(password.to_owned(), &crate::infra::passwords::Claimant::default())
        .await
        .map_err(|e| e.to_string())?;
    let id =
        crate::store::users::create_superuser(&state.db, &email, &hash, state.clock.now()).await.map_err(
            |e| match e {
                sqlx::Error::Database(db) if db.is_unique_violation() => {
                    "A user with this email already exists.".to_owned()
                }
                other => other.to_string(),
            },
        )?;
    let client = crate::infra::client::Client::default();
    let actor = crate::store::audit::Actor { user_id: Some(id), client: &client, session_id: None };
    let detail = serde_json::json!({ "how": "createsuperuser" });
    crate::store::audit::record(&state, crate::store::audit::AuditEvent::AccountCreated, actor, detail)
        .await
        .map_err(|e| e.to_string())?;
    Ok(id)
}

/// Seals every TOTP secret and SMS phone number still under an old encryption key again under `LATCHKEY_ENCRYPTION_KEY`
/// (`latchkey rekey`), after migrating; returns how many. Once it has run, the old keys can be
/// dropped from `LATCHKEY_OLD_ENCRYPTION_KEYS`.
pub async fn rekey(config: Config) -> Result<usize, String> {
    let db = Db::connect(&config.database_url).await.map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let state = AppState::with_db(config, db).map_err(|e| e.to_string())?;
    crate::http::mfa::rekey(&state).await.map_err(|e| e.to_string())
}

/// `latchkey keys rotate`: the steps of a signing-key rotation for this configuration (see
/// `crate::infra::rotation`). Needs no database.
pub fn keys_rotate(config: &Config) -> Result<String, String> {
    crate::infra::rotation::steps(config)
}

/// `latchkey import-django`: migrates Latchkey's database, then imports from the Django database at
/// `source_url` (see `crate::store::django_import`) and returns the summary.
pub async fn import_django(
    config: Config,
    source_url: &str,
    user_table: &str,
    dry_run: bool,
) -> Result<crate::store::django_import::Summary, String> {
    let db = Db::connect(&config.database_url).await.map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let state = AppState::with_db(config, db).map_err(|e| e.to_string())?;
    crate::store::django_import::import(&state, source_url, user_table, dry_run).await.map_err(|e| e.to_string())
}

//! `latchkey import-django` (docs/operations.md#importing-from-django): users, their password hashes as they are, django-otp TOTP
//! devices and static tokens, read from a Django database (SQLite or PostgreSQL) into Latchkey's.
//!
//! - **Users** (`auth_user`, or the table `--user-table` names, with `AbstractUser`'s columns) are
//!   matched by normalized e-mail address: one already in Latchkey is left as it is, so a second run
//!   changes nothing. A user without a usable e-mail address, or whose address another Django user
//!   already claimed (Django compares them case-sensitively, Latchkey does not), is skipped and
//!   named in the summary. Hashes are copied unchanged; login verifies Django's `pbkdf2_sha256`,
//!   `argon2` and `bcrypt_sha256` and rewrites them as argon2id. Imported addresses count as verified.
//! - **TOTP devices** (`otp_totp_totpdevice`): the hex key sealed like any secret, digits, step,
//!   `t0`, and `last_t` as the replay floor; each remembers its Django id, so it is imported once.
//!   django-otp's `drift` is not carried over: Latchkey's ±1-step window absorbs small drifts.
//! - **Static tokens** (`otp_static_statictoken`) become backup codes, hashed. Each imported token's
//!   Django id is remembered apart from the code, which is deleted once used: a token spent in
//!   Latchkey (or replaced by new codes) is not brought back by the next run.
//!
//! Everything happens in one transaction on Latchkey's database; `--dry-run` rolls it back.

use std::collections::HashSet;
use std::fmt;

use latchkey_core::backup::normalize_backup_code;
use latchkey_core::totp::TotpSecret;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::infra::db::{flag, Dialect};
use crate::infra::state::AppState;
use crate::store::users::{is_valid_email, is_valid_username, normalize_email};

/// What the import did (or, with `--dry-run`, would do).
#[derive(Debug, Default)]
pub struct Summary {
    /// Users added.
    pub users_imported: usize,
    /// Users whose address Latchkey already had.
    pub users_present: usize,
    /// Users not imported, with why.
    pub users_skipped: Vec<(String, String)>,
    /// TOTP devices added.
    pub devices_imported: usize,
    /// TOTP devices imported by an earlier run.
    pub devices_present: usize,
    /// Static tokens added as backup codes.
    pub backup_codes_imported: usize,
    /// Static tokens an earlier run imported, whether or not they have been used since.
    pub backup_codes_present: usize,
    /// Notes on the source: tables not found, and the like.
    pub notes: Vec<String>,
    /// Nothing was written.
    pub dry_run: bool,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.dry_run { "would import" } else { "imported" };
        writeln!(
            f,
            "users: {verb} {}, already present {}, skipped {}",
            self.users_imported,
            self.users_present,
            self.users_skipped.len()
        )?;
        for (who, why) in &self.users_skipped {
            writeln!(f, "  skipped {who}: {why}")?;
        }
        writeln!(f, "TOTP devices: {verb} {}, already present {}", self.devices_imported, self.devices_present)?;
        writeln!(
            f,
            "backup codes (static tokens): {verb} {}, already present {}",
            self.backup_codes_imported, self.backup_codes_present
        )?;
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        if self.dry_run {
            writeln!(f, "dry run: nothing was written")?;
        }
        Ok(())
    }
}

/// Why the import could not run.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The URL is neither `sqlite:` nor `postgres:`, or the database cannot be opened.
    #[error("cannot open the Django database: {0}")]
    Source(String),
    /// The user table is missing or not Django's shape.
    #[error("{0}")]
    Shape(String),
    /// Latchkey's database failed.
    #[error("Latchkey's database: {0}")]
    Target(#[from] sqlx::Error),
}

/// The Django database, read-only.
struct Source {
    pool: AnyPool,
    dialect: Dialect,
}

impl Source {
    async fn open(url: &str) -> Result<Self, ImportError> {
        sqlx::any::install_default_drivers();
        let (dialect, url) = if url.starts_with("sqlite:") {
            // Read-only, and never created: a mistyped path must be an error, not an empty database.
            let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=ro") };
            (Dialect::Sqlite, url)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Dialect::Postgres, url.to_owned())
        } else {
            return Err(ImportError::Source(format!("expected a sqlite: or postgres: URL, got {url:?}")));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(2)
            .connect(&url)
            .await
            .map_err(|e| ImportError::Source(e.to_string()))?;
        Ok(Self { pool, dialect })
    }

    /// A datetime column as Unix seconds.
    fn seconds(&self, column: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("CAST(strftime('%s', {column}) AS INTEGER)"),
            Dialect::Postgres => format!("CAST(EXTRACT(EPOCH FROM {column}) AS BIGINT)"),
        }
    }

    async fn has_table(&self, table: &str) -> bool {
        sqlx::query(&format!("SELECT 1 FROM {table} WHERE 1 = 0")).fetch_all(&self.pool).await.is_ok()
    }
}

/// A table name as SQL may take it: letters, digits and underscores, optionally schema-qualified.
fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.split('.').all(|part| {
            part.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// Imports from the Django database at `url` into `state`'s database.
///
/// # Errors
/// An unreadable source, a user table that is not Django's, or a failure of Latchkey's database.
pub async fn import(state: &AppState, url: &str, user_table: &str, dry_run: bool) -> Result<Summary, ImportError> {
    if !is_identifier(user_table) {
        return Err(ImportError::Shape(format!("--user-table {user_table:?} is not a table name")));
    }
    let source = Source::open(url).await?;
    let mut summary = Summary { dry_run, ..Summary::default() };
    let sql = format!(
        "SELECT id, password, username, first_name, last_name, email, CAST(is_active AS INTEGER) AS is_active, \
         CAST(is_staff AS INTEGER) AS is_staff, CAST(is_superuser AS INTEGER) AS is_superuser, \
         {} AS date_joined, {} AS last_login FROM {user_table} ORDER BY id",
        source.seconds("date_joined"),
        source.seconds("last_login")
    );
    let users = sqlx::query(&sql).fetch_all(&source.pool).await.map_err(|e| {
        ImportError::Shape(format!(
            "{user_table} is not a Django user table with AbstractUser's columns (id, password, username, first_name, \
             last_name, email, is_active, is_staff, is_superuser, date_joined, last_login): {e}"
        ))
    })?;
    let mut tx = state.db.pool.begin().await?;
    let mut ids = std::collections::HashMap::new();
    let mut seen = HashSet::new();
    for row in &users {
        import_user(&mut tx, row, &mut summary, &mut seen, &mut ids).await?;
    }
    if source.has_table("otp_totp_totpdevice").await {
        import_devices(state, &source, &mut tx, &ids, &mut summary).await?;
    } else {
        summary.notes.push("no otp_totp_totpdevice table: django-otp's TOTP plugin is not installed there".into());
    }
    if source.has_table("otp_static_statictoken").await {
        import_static_tokens(state, &source, &mut tx, &ids, &mut summary).await?;
    } else {
        summary.notes.push("no otp_static_statictoken table: django-otp's static plugin is not installed there".into());
    }
    let sql = "UPDATE users SET mfa_enabled = 1 WHERE mfa_enabled = 0 AND id IN \
               (SELECT user_id FROM totp_devices WHERE confirmed = 1)";
    sqlx::query(sql).execute(&mut *tx).await?;
    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await?;
        // Rows of existing users may have changed (their 2FA flag): every node reads them again.
        state.db.forget_all().await;
    }
    source.pool.close().await;
    Ok(summary)
}

async fn import_user(
    tx: &mut Transaction<'static, Any>,
    row: &AnyRow,
    summary: &mut Summary,
    seen: &mut HashSet<String>,
    ids: &mut std::collections::HashMap<i64, i64>,
) -> Result<(), ImportError> {
    let django_id: i64 = row.try_get("id")?;
    let username: String = row.try_get("username")?;
    let email: String = row.try_get("email")?;
    let who = format!("{username} (id {django_id})");
    let email = normalize_email(email.trim());
    if email.is_empty() || !is_valid_email(&email) {
        summary.users_skipped.push((who, "no valid e-mail address, which Latchkey logs users in with".into()));
        return Ok(());
    }
    if !seen.insert(email.clone()) {
        summary.users_skipped.push((who, format!("{email} belongs to an earlier user too")));
        return Ok(());
    }
    if let Some(existing) =
        sqlx::query("SELECT id FROM users WHERE email = $1").bind(&email).fetch_optional(&mut **tx).await?
    {
        ids.insert(django_id, existing.try_get("id")?);
        summary.users_present += 1;
        return Ok(());
    }
    // A username Latchkey would refuse, or one a Latchkey user has, is left out: the e-mail address is the login.
    let taken = sqlx::query("SELECT 1 FROM users WHERE username = $1")
        .bind(&username)
        .fetch_optional(&mut **tx)
        .await?
        .is_some();
    let username = (is_valid_username(&username) && !taken).then_some(username);
    let flag_of = |name: &str| -> Result<i64, sqlx::Error> { Ok(i64::from(row.try_get::<i64, _>(name)? != 0)) };
    let sql = "INSERT INTO users (email, username, password, first_name, last_name, is_active, is_staff, is_superuser, \
               is_verified, date_joined, last_login) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
    let inserted = sqlx::query(sql)
        .bind(&email)
        .bind(username)
        .bind(row.try_get::<String, _>("password")?)
        .bind(row.try_get::<String, _>("first_name")?)
        .bind(row.try_get::<String, _>("last_name")?)
        .bind(flag_of("is_active")?)
        .bind(flag_of("is_staff")?)
        .bind(flag_of("is_superuser")?)
        .bind(flag(true))
        .bind(row.try_get::<Option<i64>, _>("date_joined")?.unwrap_or(0))
        .bind(row.try_get::<Option<i64>, _>("last_login")?)
        .fetch_one(&mut **tx)
        .await?;
    ids.insert(django_id, inserted.try_get("id")?);
    summary.users_imported += 1;
    Ok(())
}

async fn import_devices(
    state: &AppState,
    source: &Source,
    tx: &mut Transaction<'static, Any>,
    ids: &std::collections::HashMap<i64, i64>,
    summary: &mut Summary,
) -> Result<(), ImportError> {
    let sql = format!(
        "SELECT id, user_id, name, CAST(confirmed AS INTEGER) AS confirmed, key, CAST(step AS BIGINT) AS step, \
         t0, CAST(digits AS BIGINT) AS digits, last_t, {} AS created_at FROM otp_totp_totpdevice ORDER BY id",
        source.seconds("created_at")
    );
    let rows = sqlx::query(&sql)
        .fetch_all(&source.pool)
        .await
        .map_err(|e| ImportError::Shape(format!("otp_totp_totpdevice is not django-otp's table: {e}")))?;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        let Some(&user_id) = ids.get(&row.try_get::<i64, _>("user_id")?) else {
            summary.notes.push(format!("TOTP device {id} belongs to a user who was skipped"));
            continue;
        };
        let import_key = format!("django:totp:{id}");
        let present = sqlx::query("SELECT 1 FROM totp_devices WHERE import_key = $1")
            .bind(&import_key)
            .fetch_optional(&mut **tx)
            .await?;
        if present.is_some() {
            summary.devices_present += 1;
            continue;
        }
        let key: String = row.try_get("key")?;
        let secret = match TotpSecret::from_hex(&key) {
            Ok(secret) => secret,
            Err(e) => {
                summary.notes.push(format!("TOTP device {id} not imported: its key is unusable ({e})"));
                continue;
            }
        };
        let name: String = row.try_get("name")?;
        let sql =
            "INSERT INTO totp_devices (user_id, name, secret, digits, period, t0, confirmed, last_step, created_at, \
                   import_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        sqlx::query(sql)
            .bind(user_id)
            .bind(if name.is_empty() { "Authenticator".to_owned() } else { name.chars().take(64).collect() })
            .bind(state.vault.seal(secret.as_bytes(), user_id))
            .bind(row.try_get::<i64, _>("digits")?)
            .bind(row.try_get::<i64, _>("step")?)
            .bind(row.try_get::<i64, _>("t0")?)
            .bind(i64::from(row.try_get::<i64, _>("confirmed")? != 0))
            .bind(row.try_get::<i64, _>("last_t")?)
            .bind(row.try_get::<Option<i64>, _>("created_at")?.unwrap_or_else(crate::infra::clock::now))
            .bind(&import_key)
            .execute(&mut **tx)
            .await?;
        summary.devices_imported += 1;
    }
    Ok(())
}

async fn import_static_tokens(
    state: &AppState,
    source: &Source,
    tx: &mut Transaction<'static, Any>,
    ids: &std::collections::HashMap<i64, i64>,
    summary: &mut Summary,
) -> Result<(), ImportError> {
    let sql = "SELECT t.id, t.token, d.user_id FROM otp_static_statictoken t \
               JOIN otp_static_staticdevice d ON d.id = t.device_id ORDER BY t.id";
    let rows = sqlx::query(sql)
        .fetch_all(&source.pool)
        .await
        .map_err(|e| ImportError::Shape(format!("otp_static_* are not django-otp's tables: {e}")))?;
    for row in &rows {
        let Some(&user_id) = ids.get(&row.try_get::<i64, _>("user_id")?) else { continue };
        let token: String = row.try_get("token")?;
        let Ok(normalized) = normalize_backup_code(&token) else {
            summary.notes.push("a static token that is not django-otp's [a-z2-7]{8} was not imported".into());
            continue;
        };
        // The record outlives the code: using a backup code deletes it, and the token must stay spent.
        let import_key = format!("django:static:{}", row.try_get::<i64, _>("id")?);
        let sql = "INSERT INTO imported_static_tokens (import_key, user_id, created_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (import_key) DO NOTHING";
        let first_time =
            sqlx::query(sql).bind(&import_key).bind(user_id).bind(state.clock.now()).execute(&mut **tx).await?;
        if first_time.rows_affected() == 0 {
            summary.backup_codes_present += 1;
            continue;
        }
        // A code imported before tokens were recorded is already there, unused: it counts as present.
        let sql = "INSERT INTO backup_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (user_id, code_hash) DO NOTHING";
        let done = sqlx::query(sql)
            .bind(user_id)
            .bind(state.vault.backup_code_hash(&normalized))
            .bind(state.clock.now())
            .execute(&mut **tx)
            .await?;
        if done.rows_affected() > 0 {
            summary.backup_codes_imported += 1;
        } else {
            summary.backup_codes_present += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_identifiers_only() {
        for good in ["auth_user", "accounts_user", "public.auth_user", "_x1"] {
            assert!(is_identifier(good), "{good}");
        }
        for bad in ["", "auth user", "auth_user;drop table x", "1user", "a.", "\"x\""] {
            assert!(!is_identifier(bad), "{bad}");
        }
    }
}

//! The shared state every handler receives: configuration, database, signing keys, hashing gate.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use latchkey_core::hash::HashParams;
use latchkey_core::policy::PasswordPolicy;
use latchkey_core::token::{Expectations, KeyRing};
use rand_core::{OsRng, RngCore};

use crate::infra::config::{Config, EmailBackend};
use crate::infra::db::{Db, DbError, Dialect};
use crate::infra::links::LinkSigner;
use crate::infra::mail::{MailError, Mailer};
use crate::infra::passwords::Hasher;
use crate::infra::vault::Vault;
use crate::infra::webauthn::RelyingParty;

/// Everything a request handler may need, behind one reference count: axum clones the state for
/// the route and for every extractor of every request, and one atomic increment is cheaper than
/// one per field (measured: a dozen field clones and drops were 8 % of `GET /api/auth/me/`).
/// Reads go through `Deref` (`state.config`); a write (`state.hasher = …`, in tests) copies the
/// fields first when the state is shared, so that it never changes another clone.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

/// The fields of [`AppState`].
#[derive(Debug, Clone)]
pub struct Shared {
    /// The configuration.
    pub config: Arc<Config>,
    /// The database.
    pub db: Db,
    /// The JWT signing key and the previous keys still verified (a rotation).
    pub keys: Arc<KeyRing>,
    /// `iss`/`aud` required on verification.
    pub expect: Arc<Expectations>,
    /// The password policy.
    pub policy: Arc<PasswordPolicy>,
    /// argon2 behind its gate.
    pub hasher: Hasher,
    /// The recorder of `/metrics` (a hasher put in its place counts there with `.observed(metrics.gate())`).
    pub metrics: Arc<crate::infra::metrics::Metrics>,
    /// The keys of TOTP secrets and backup codes at rest.
    pub vault: Arc<Vault>,
    /// Signs the tokens of e-mailed links.
    pub links: Arc<LinkSigner>,
    /// Sends e-mail in the background.
    pub mailer: Mailer,
    /// The time (tests move it).
    pub clock: crate::infra::clock::Clock,
    /// Lockouts this node already knows of (`crate::store::limits`).
    pub locks: Arc<crate::infra::lock_cache::LockCache>,
    /// The passkeys' relying party; none when passkeys are off (a public URL on an IP address).
    pub webauthn: Option<Arc<RelyingParty>>,
    /// The social login providers (`LATCHKEY_OIDC_PROVIDERS`), with what each has published.
    pub social: Arc<crate::infra::social::Providers>,
    /// The breached-password range API's client and kept ranges (`LATCHKEY_BREACHED_PASSWORDS`).
    pub breached: Arc<crate::infra::breached::RangeApi>,
    /// Posts security webhooks, and wakes this node's delivery loop when one is queued.
    pub webhooks: Arc<crate::infra::webhooks::Courier>,
    /// Sends SMS codes through `LATCHKEY_SMS_BACKEND` (read at each send).
    pub sms: Arc<crate::infra::sms::SmsSender>,
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The database is unusable.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The secret key is missing or unusable.
    #[error("secret key: {0}")]
    Secret(String),
    /// The JWT keys are unusable: the secret key or a previous one for HS256, or a key file
    /// (`crate::infra::signing`).
    #[error(transparent)]
    Keys(#[from] crate::infra::signing::KeyError),
    /// The password policy file is unreadable or invalid.
    #[error("LATCHKEY_PASSWORD_POLICY: {0}")]
    Policy(String),
    /// The e-mail settings are unusable.
    #[error(transparent)]
    Mail(#[from] MailError),
    /// The passkeys' relying party is misconfigured.
    #[error("passkeys: {0}")]
    Webauthn(String),
    /// The social login providers' file is unreadable or names a provider that cannot work.
    #[error("social login: {0}")]
    Social(String),
}

impl AppState {
    /// Connects to the database and prepares keys; does not migrate.
    pub async fn new(config: Config) -> Result<Self, StartError> {
        let db = Db::connect(&config.database_url).await?;
        Self::with_db(config, db)
    }

    /// State over an existing database connection.
    pub fn with_db(config: Config, db: Db) -> Result<Self, StartError> {
        let secret = secret_key(&config, db.dialect)?;
        let keys = crate::infra::signing::key_ring(&config, &secret, &secret_source(&config))?;
        let links = LinkSigner::new(&secret).with_previous(&crate::infra::signing::previous_secrets(&config));
        warn_of_console_mail(&config);
        let vault = encryption_vault(&config, &secret);
        let policy = password_policy(&config)?;
        let metrics = crate::infra::metrics::Metrics::shared();
        let mailer = Mailer::new(&config)?.observed(metrics.clone());
        let webauthn = RelyingParty::from_config(&config, &derive_key(&secret, "latchkey webauthn fake credentials"))
            .map_err(StartError::Webauthn)?;
        let social = crate::infra::social::Providers::from_config(&config).map_err(StartError::Social)?;
        let expect = Expectations { iss: config.jwt_issuer.clone(), aud: config.jwt_audience.clone() };
        db.auth_cache.set_ttl(config.auth_cache_ttl);
        let webhooks = crate::infra::webhooks::Courier::new(config.webhook_allow_private);
        Ok(Self(Arc::new(Shared {
            config: Arc::new(config),
            db,
            keys: Arc::new(keys),
            expect: Arc::new(expect),
            policy: Arc::new(policy),
            hasher: Hasher::new(HashParams::default()).observed(metrics.gate()),
            metrics,
            vault: Arc::new(vault),
            links: Arc::new(links),
            mailer,
            clock: crate::infra::clock::Clock::default(),
            locks: Arc::default(),
            webauthn: webauthn.map(Arc::new),
            social: Arc::new(social),
            breached: Arc::default(),
            webhooks: Arc::new(webhooks),
            sms: Arc::default(),
        })))
    }
}

/// A 32-byte key for `purpose`, derived from the secret key (HKDF-SHA256).
fn derive_key(secret: &str, purpose: &str) -> [u8; 32] {
    let mut key = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's limit of 8160: expand cannot fail.
    let _ = hkdf::Hkdf::<sha2::Sha256>::new(None, secret.as_bytes()).expand(purpose.as_bytes(), &mut key);
    key
}

/// Where the secret key came from, for messages: `LATCHKEY_SECRET_KEY` or the generated file.
fn secret_source(config: &Config) -> String {
    match config.secret_key {
        Some(_) => "LATCHKEY_SECRET_KEY".to_owned(),
        None => secret_path(&config.database_url).display().to_string(),
    }
}

/// The console backend prints password-reset and verification links on standard output. On a
/// loopback address that is a developer's terminal; on any other it is a server whose output
/// usually ends up in a log collector, where anyone who reads the logs can take over accounts.
fn warn_of_console_mail(config: &Config) {
    if config.email_backend == EmailBackend::Console && !config.bind.ip().is_loopback() {
        tracing::warn!(
            bind = %config.bind,
            "LATCHKEY_EMAIL_BACKEND is console on a non-loopback address: password-reset and verification \
             links are printed to standard output, where whoever reads the logs can use them. \
             Set LATCHKEY_EMAIL_BACKEND to an SMTP server in production."
        );
    }
}

/// The policy of `LATCHKEY_PASSWORD_POLICY` (JSON, or TOML when the file name ends in `.toml`), or
/// the default. The file holds the fields of `GET /api/auth/password/policy/`; absent fields keep
/// their defaults, unknown ones are errors.
fn password_policy(config: &Config) -> Result<PasswordPolicy, StartError> {
    let Some(path) = &config.password_policy else { return Ok(PasswordPolicy::default()) };
    let error = |e: String| StartError::Policy(format!("{}: {e}", path.display()));
    let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    let value: serde_json::Value = if path.extension().is_some_and(|e| e == "toml") {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| error(e.to_string()))?;
        serde_json::to_value(table).map_err(|e| error(e.to_string()))?
    } else {
        serde_json::from_str(&text).map_err(|e| error(e.to_string()))?
    };
    PasswordPolicy::from_json(&value).map_err(|e| error(e.to_string()))
}

/// The vault over `LATCHKEY_ENCRYPTION_KEY`, or over the secret key when that is unset (the vault
/// derives its own keys from it, distinct from the signing key). Then the previous secret keys are
/// old encryption keys too: rotating the secret key must not lock 2FA users out, so what a previous
/// secret sealed still opens (and is sealed again under the current one on use or by `rekey`).
fn encryption_vault(config: &Config, secret: &str) -> Vault {
    if let Some(key) = &config.encryption_key {
        return Vault::new(key, &config.old_encryption_keys);
    }
    tracing::warn!(
        "LATCHKEY_ENCRYPTION_KEY is not set: TOTP secrets are encrypted with a key derived from the secret key. \
         Set LATCHKEY_ENCRYPTION_KEY in production, so that the two can be rotated apart."
    );
    let mut old = config.old_encryption_keys.clone();
    old.extend(crate::infra::signing::previous_secrets(config));
    Vault::new(secret, &old)
}

/// `LATCHKEY_SECRET_KEY`, or (SQLite only) a key generated once and kept in `latchkey.secret`
/// beside the database file. Several PostgreSQL nodes must share one key, so there it is required.
fn secret_key(config: &Config, dialect: Dialect) -> Result<String, StartError> {
    if let Some(secret) = &config.secret_key {
        return Ok(secret.clone());
    }
    if dialect == Dialect::Postgres {
        return Err(StartError::Secret("LATCHKEY_SECRET_KEY is required with PostgreSQL".into()));
    }
    let path = secret_path(&config.database_url);
    match std::fs::metadata(&path) {
        Ok(metadata) => return read_secret_file(&path, &metadata),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StartError::Secret(format!("cannot read {}: {e}", path.display()))),
    }
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let secret = latchkey_core::encoding::hex(&bytes);
    match create_secret_file(&path) {
        Ok(mut file) => {
            use std::io::Write;
            file.write_all(secret.as_bytes())
                .map_err(|e| StartError::Secret(format!("cannot write {}: {e}", path.display())))?;
        }
        // Another process starting on the same database wrote it first: both must use that one.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let metadata = std::fs::metadata(&path)
                .map_err(|e| StartError::Secret(format!("cannot read {}: {e}", path.display())))?;
            return read_secret_file(&path, &metadata);
        }
        Err(e) => return Err(StartError::Secret(format!("cannot write {}: {e}", path.display()))),
    }
    tracing::warn!(
        path = %path.display(),
        "LATCHKEY_SECRET_KEY is not set: generated a signing key and stored it beside the database. \
         Set LATCHKEY_SECRET_KEY in production, and keep it secret."
    );
    Ok(secret)
}

/// Creates the secret file, failing if it exists. On Unix it is born readable by its owner only:
/// creating it first and restricting it afterwards would leave a moment in which others may open it.
fn create_secret_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The key in an existing secret file, refused when group or others may read it: whoever reads it
/// can sign tokens for any user.
fn read_secret_file(path: &Path, metadata: &std::fs::Metadata) -> Result<String, StartError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(StartError::Secret(format!(
                "{} is open to group or others (mode {mode:03o}); restrict it with `chmod 600 {}`",
                path.display(),
                path.display()
            )));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let text = std::fs::read_to_string(path)
        .map_err(|e| StartError::Secret(format!("cannot read {}: {e}", path.display())))?;
    Ok(text.trim().to_owned())
}

/// `latchkey.secret` in the directory of the SQLite file (the working directory for `:memory:`).
fn secret_path(database_url: &str) -> PathBuf {
    let path = database_url.trim_start_matches("sqlite:").trim_start_matches("//");
    let file = path.split('?').next().unwrap_or("");
    let dir = Path::new(file).parent().filter(|p| !p.as_os_str().is_empty() && !file.contains(":memory:"));
    dir.unwrap_or(Path::new(".")).join("latchkey.secret")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_lives_beside_the_sqlite_file() {
        assert_eq!(secret_path("sqlite://latchkey.db?mode=rwc"), Path::new("./latchkey.secret"));
        assert_eq!(secret_path("sqlite:///var/lib/lk/app.db"), Path::new("/var/lib/lk/latchkey.secret"));
        assert_eq!(secret_path("sqlite::memory:"), Path::new("./latchkey.secret"));
    }
}

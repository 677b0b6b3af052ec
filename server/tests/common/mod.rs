//! The test harness every server test file shares (`mod common;`): a fresh database per test, on
//! SQLite (a temporary file) and on PostgreSQL (a new database on the server named by
//! `LATCHKEY_TEST_POSTGRES_URL`, which `scripts/test.sh` starts). Without that variable the
//! PostgreSQL half is skipped with a message, unless `LATCHKEY_REQUIRE_POSTGRES=1` (set by the test
//! script) makes that a failure.
//!
//! - [`app`]: requests through the router, their answers, and a state with its configuration changed;
//! - [`users`]: accounts made directly in the database or registered through the API;
//! - [`login`]: logging in, the tokens it gives, refreshing them and what they say;
//! - [`clock`]: time passing, by moving the database's own timestamps (there is no clock to move);
//! - [`mail`]: the e-mails the file backend writes, and the links in them;
//! - [`codes`]: sign-in codes asked for, read from their e-mails, and traded for sessions;
//! - [`audit`]: the audit log as the database holds it;
//! - [`mfa`]: authenticators, enrolled users and the second step of a login;
//! - [`orgs`]: an organization with a member in each role;
//! - [`soft_key`]: a software WebAuthn authenticator that registers and signs like a browser's;
//! - [`passkeys`]: a server with passkeys on, passkeys added, and the sign-in ceremonies;
//! - [`oidc_fake`]: a real OpenID provider on a local port whose ID tokens can be made bad (scripted
//!   through [`oidc_script`]), and
//!   [`github_fake`]: a GitHub stand-in on GitHub's paths, for social login;
//! - [`social`]: a server with those providers, and the steps of a social sign-in;
//! - [`range_fake`]: a breached-password range API (Have I Been Pwned's protocol) on a local port;
//! - [`signing_keys`]: ES256 key files made for a test, and the `kid`s of tokens and JWKS;
//! - [`sms`]: SMS codes written as files, phones added and confirmed, the SMS step of a login, and
//!   [`twilio_fake`]: Twilio's Messages API on a local port, for the `twilio://` backend;
//! - [`webhook_receiver`]: a security-webhook consumer on a local port checking Standard Webhooks signatures,
//!   and [`webhooks`]: endpoints registered for it, and the delivery loop run on demand;
//! - [`binary`]: the real `latchkey` binary, started as a process.
// Each test file uses part of the harness: what it leaves is neither dead nor an unused import.
#![allow(dead_code, unused_imports, clippy::expect_used, clippy::unwrap_used)]

pub mod app;
pub mod audit;
pub mod binary;
pub mod clock;
pub mod codes;
pub mod github_fake;
pub mod login;
pub mod mail;
pub mod mfa;
pub mod oidc_fake;
pub mod oidc_script;
pub mod orgs;
pub mod passkeys;
pub mod range_fake;
pub mod signing_keys;
pub mod sms;
pub mod social;
pub mod soft_key;
pub mod twilio_fake;
pub mod users;
pub mod webhook_receiver;
pub mod webhooks;
pub mod writes;

use std::path::PathBuf;

use latchkey_core::hash::HashParams;
use latchkey_server::config::EmailBackend;
use latchkey_server::db::Db;
use latchkey_server::passwords::Hasher;
use latchkey_server::{AppState, Config};

pub use app::*;
pub use audit::*;
pub use binary::*;
pub use clock::*;
pub use codes::*;
pub use github_fake::*;
pub use login::*;
pub use mail::*;
pub use mfa::*;
pub use oidc_fake::*;
pub use orgs::*;
pub use passkeys::*;
pub use range_fake::*;
pub use signing_keys::*;
pub use sms::*;
pub use social::*;
pub use soft_key::*;
pub use twilio_fake::*;
pub use users::*;
pub use webhook_receiver::{ReceiverBehaviour, WebhookReceiver, WebhookRequest};
pub use webhooks::*;
pub use writes::*;

/// The password of the users the harness makes.
pub const PASSWORD: &str = "correct horse battery staple";

/// Which database a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated database and state; `None` when PostgreSQL is not available (and allowed not
/// to be).
pub async fn state(backend: Backend) -> Option<AppState> {
    let dir = fresh_dir("test");
    std::fs::create_dir_all(dir.join("mail")).unwrap();
    let url = match backend {
        Backend::Sqlite => format!("sqlite://{}/test.db?mode=rwc", dir.display()),
        Backend::Postgres => fresh_postgres_database().await?,
    };
    let mut config = Config::from_env().unwrap();
    config.database_url = url.clone();
    // Every message lands as an `.eml` file in the test's own directory (see `mails`).
    config.email_backend = EmailBackend::File(dir.join("mail"));
    config.secret_key = Some("test-secret-key-test-secret-key-0123456789".into());
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    let mut state = AppState::with_db(config, db).unwrap();
    // Cheap argon2 keeps the suites fast; the gate and the formats are the same.
    state.hasher =
        Hasher::new(HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }).observed(state.metrics.gate());
    Some(state)
}

/// The URL of a new, empty database on the PostgreSQL server of `LATCHKEY_TEST_POSTGRES_URL`.
pub async fn fresh_postgres_database() -> Option<String> {
    let admin_url = optional_env("LATCHKEY_TEST_POSTGRES_URL", "LATCHKEY_REQUIRE_POSTGRES", "the PostgreSQL half")?;
    let name = format!("latchkey_test_{}", random_suffix());
    let admin = Db::connect(&admin_url).await.expect("connect to LATCHKEY_TEST_POSTGRES_URL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&admin.pool).await.unwrap();
    admin.pool.close().await;
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

/// The value of `var`, which names what an optional test needs (a database server, a Python). Unset,
/// the test is skipped with a message saying `skipping` what, unless `require` is set too: then
/// that is a failure.
pub fn optional_env(var: &str, require: &str, skipping: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) => Some(value),
        Err(_) => {
            assert!(std::env::var(require).is_err(), "{require} is set but {var} is not");
            eprintln!("skipping {skipping}: {var} is not set (scripts/test.sh sets it)");
            None
        }
    }
}

/// A new, empty directory of its own under the system's temporary directory.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("latchkey-{name}-{}", random_suffix()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn random_suffix() -> String {
    use rand_core::RngCore;
    let mut bytes = [0u8; 8];
    rand_core::OsRng.fill_bytes(&mut bytes);
    latchkey_core::encoding::hex(&bytes)
}

/// Runs `test` on a fresh SQLite database, then on a fresh PostgreSQL one.
#[macro_export]
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                if let Some(state) = common::state(common::Backend::Sqlite).await {
                    ($body)(state).await;
                }
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(state) = common::state(common::Backend::Postgres).await {
                    ($body)(state).await;
                }
            }
        }
    };
}

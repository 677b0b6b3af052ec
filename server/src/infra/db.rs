//! The database: one sqlx `AnyPool` over SQLite (embedded, the default) or PostgreSQL (many
//! stateless nodes on one database), with one migration set per dialect.
//!
//! Queries are written once for both: `$1`-style parameters in order of appearance (SQLite binds
//! `$N` by number too), times as Unix seconds, booleans as 0/1 integers.

use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};

use crate::infra::auth_cache::{AuthCache, Forget};

/// How long `/readyz` waits for the database's answer.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

static SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database the pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Embedded SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// The pool, its dialect, and the cache of what authenticated requests read
/// (`infra/auth_cache.rs`), which the store keeps exact through [`Db::forget_user`] and
/// [`Db::forget_session`].
#[derive(Debug, Clone)]
pub struct Db {
    /// The connections.
    pub pool: AnyPool,
    /// SQLite or PostgreSQL.
    pub dialect: Dialect,
    /// Users and open sessions, as every authenticated request reads them.
    pub auth_cache: Arc<AuthCache>,
}

/// Why the database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("LATCHKEY_DATABASE_URL must start with sqlite: or postgres:, got {0:?}")]
    UnsupportedUrl(String),
    /// Connecting or querying failed.
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects to `url`. SQLite gets WAL, foreign keys and a busy timeout on every connection.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Dialect::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(if dialect == Dialect::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(5))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let auth_cache = Arc::new(AuthCache::new());
        match dialect {
            // One node owns a SQLite file: its own forgets are all there is to hear.
            Dialect::Sqlite => auth_cache.set_live(true),
            Dialect::Postgres => crate::infra::db_listener::spawn(url, &auth_cache),
        }
        Ok(Self { pool, dialect, auth_cache })
    }

    /// Forgets what the cache holds of user `user_id`, here and (PostgreSQL) on every other node:
    /// called by every store function that changes the user's row, after the write.
    pub async fn forget_user(&self, user_id: i64) {
        self.auth_cache.forget_user(user_id);
        self.tell_other_nodes(&Forget::User(user_id)).await;
    }

    /// Forgets session `sid` of user `user_id`, here and on every other node: called by every
    /// store function that closes a session, after the write.
    pub async fn forget_session(&self, user_id: i64, sid: &str) {
        self.auth_cache.forget_session(user_id, sid);
        self.tell_other_nodes(&Forget::Session(user_id, sid.to_owned())).await;
    }

    /// Forgets everything, here and on every other node (after a bulk write such as an import).
    pub async fn forget_all(&self) {
        self.auth_cache.forget_all();
        self.tell_other_nodes(&Forget::All).await;
    }

    /// `NOTIFY` on PostgreSQL. A failure is logged, not answered: the write it follows has
    /// committed, and the cache's time to live bounds what the other nodes keep.
    async fn tell_other_nodes(&self, forget: &Forget) {
        if self.dialect != Dialect::Postgres {
            return;
        }
        let sent = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(crate::infra::db_listener::CHANNEL)
            .bind(forget.to_string())
            .execute(&self.pool)
            .await;
        if let Err(error) = sent {
            tracing::warn!(%error, "could not tell the other nodes to forget a cached session");
        }
    }

    /// Applies the migrations of this dialect that have not run yet.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.dialect {
            Dialect::Sqlite => SQLITE.run(&self.pool).await?,
            Dialect::Postgres => POSTGRES.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Whether the database answers (`/readyz`) within [`PING_TIMEOUT`]: a database that accepted
    /// the connection but stopped answering makes the node unready, rather than its probe hang.
    pub async fn ping(&self) -> bool {
        let query = sqlx::query("SELECT 1").execute(&self.pool);
        matches!(tokio::time::timeout(PING_TIMEOUT, query).await, Ok(Ok(_)))
    }
}

/// A boolean as the 0/1 integer the schema stores.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

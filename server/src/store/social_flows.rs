//! The steps of a social sign-in in flight (docs/api.md#social-login), each a single-use row:
//!
//! - `authorize`: the `state` sent to the provider, with the PKCE verifier (sealed), the nonce, where
//!   to send the browser back and, for `connect`, the user and session that asked; 10 minutes;
//! - `login_code`: who the callback proved, for `POST /api/token/social/`; 60 seconds;
//! - `link`: a provider identity whose e-mail matched an existing account, waiting for its
//!   password (`POST /api/auth/social/link/confirm/`); 10 minutes.
//!
//! The client (or the provider) holds a random key; only its SHA-256 is stored. Spending is one
//! `DELETE … RETURNING`: of two requests racing with one key, exactly one gets the row.

use rand_core::{OsRng, RngCore};
use sqlx::Row;

use crate::infra::digest::sha256_hex;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// What a row is for; a row is only ever spent for its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Authorize,
    LoginCode,
    Link,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Authorize => "authorize",
            Self::LoginCode => "login_code",
            Self::Link => "link",
        }
    }

    /// How long a row lives, in seconds (§15: a `login_code` expires in 60 s).
    pub(crate) fn lifetime(self) -> i64 {
        match self {
            Self::Authorize | Self::Link => 10 * 60,
            Self::LoginCode => 60,
        }
    }
}

/// What the flow was started for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Process {
    /// Sign in (or sign up).
    Login,
    /// A signed-in user links a provider identity to their account.
    Connect,
}

impl Process {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Connect => "connect",
        }
    }

    fn parse(text: &str) -> Self {
        if text == "connect" {
            Self::Connect
        } else {
            Self::Login
        }
    }
}

/// A row, new or spent.
#[derive(Debug, Clone)]
pub(crate) struct Flow {
    pub provider: String,
    pub process: Process,
    /// `connect`: who asked; `login_code` and `link`: the account.
    pub user_id: Option<i64>,
    /// `connect`: the session that asked.
    pub session_id: Option<String>,
    /// `authorize`: the PKCE verifier, sealed by the vault.
    pub pkce_verifier: Option<String>,
    /// `authorize`: the nonce the ID token must carry.
    pub nonce: Option<String>,
    /// `authorize`: where the callback sends the browser.
    pub return_to: Option<String>,
    /// The SHA-256 of the browser's `binding`, when it gave one.
    pub binding_hash: Option<String>,
    /// `login_code` and `link`: the provider identity.
    pub subject: Option<String>,
    /// `link`: the address the provider gave.
    pub email: Option<String>,
}

impl Flow {
    /// A row of `process` for `provider`, with nothing else yet.
    pub(crate) fn new(provider: &str, process: Process) -> Self {
        Self {
            provider: provider.to_owned(),
            process,
            user_id: None,
            session_id: None,
            pkce_verifier: None,
            nonce: None,
            return_to: None,
            binding_hash: None,
            subject: None,
            email: None,
        }
    }
}

/// A new random key (64 hex characters).
pub(crate) fn new_key() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    latchkey_core::encoding::hex(&bytes)
}

/// Stores `flow` as a `kind` row under `key` (the provider's `state`, or a new key for the client).
/// A signed-in user has one `connect` in flight: a new one replaces the last.
pub(crate) async fn put(state: &AppState, kind: Kind, key: &str, flow: &Flow) -> Result<(), ApiError> {
    let now = state.clock.now();
    // Expired rows are swept as new ones are made: the table holds only the flows in flight.
    sqlx::query("DELETE FROM social_flows WHERE expires_at <= $1").bind(now).execute(&state.db.pool).await?;
    if let (Kind::Authorize, Process::Connect, Some(user_id)) = (kind, flow.process, flow.user_id) {
        sqlx::query("DELETE FROM social_flows WHERE kind = 'authorize' AND process = 'connect' AND user_id = $1")
            .bind(user_id)
            .execute(&state.db.pool)
            .await?;
    }
    let sql = "INSERT INTO social_flows (id_hash, kind, provider, process, user_id, session_id, pkce_verifier, \
               nonce, return_to, binding_hash, subject, email, expires_at) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    sqlx::query(sql)
        .bind(sha256_hex(key))
        .bind(kind.as_str())
        .bind(&flow.provider)
        .bind(flow.process.as_str())
        .bind(flow.user_id)
        .bind(&flow.session_id)
        .bind(&flow.pkce_verifier)
        .bind(&flow.nonce)
        .bind(&flow.return_to)
        .bind(&flow.binding_hash)
        .bind(&flow.subject)
        .bind(&flow.email)
        .bind(now + kind.lifetime())
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

const COLUMNS: &str =
    "provider, process, user_id, session_id, pkce_verifier, nonce, return_to, binding_hash, subject, email";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Flow, ApiError> {
    Ok(Flow {
        provider: row.try_get("provider")?,
        process: Process::parse(&row.try_get::<String, _>("process")?),
        user_id: row.try_get("user_id")?,
        session_id: row.try_get("session_id")?,
        pkce_verifier: row.try_get("pkce_verifier")?,
        nonce: row.try_get("nonce")?,
        return_to: row.try_get("return_to")?,
        binding_hash: row.try_get("binding_hash")?,
        subject: row.try_get("subject")?,
        email: row.try_get("email")?,
    })
}

/// Spends the live `kind` row of `key`: its contents, or `None` if it is unknown, spent, expired or
/// of another kind.
pub(crate) async fn spend(state: &AppState, kind: Kind, key: &str) -> Result<Option<Flow>, ApiError> {
    live_row(state, &format!("DELETE FROM social_flows WHERE {LIVE} RETURNING {COLUMNS}"), kind, key).await
}

/// The live `kind` row of `key`, without spending it.
pub(crate) async fn find(state: &AppState, kind: Kind, key: &str) -> Result<Option<Flow>, ApiError> {
    live_row(state, &format!("SELECT {COLUMNS} FROM social_flows WHERE {LIVE}"), kind, key).await
}

/// The condition of the live row of a key and kind.
const LIVE: &str = "id_hash = $1 AND kind = $2 AND expires_at > $3";

async fn live_row(state: &AppState, statement: &str, kind: Kind, key: &str) -> Result<Option<Flow>, ApiError> {
    let row = sqlx::query(statement)
        .bind(sha256_hex(key))
        .bind(kind.as_str())
        .bind(state.clock.now())
        .fetch_optional(&state.db.pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

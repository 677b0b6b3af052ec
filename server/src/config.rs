//! Configuration: environment variables (API.md §1), each overridable by a flag of the same name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// How the server is configured. Every field reads `LATCHKEY_<NAME>` from the environment; unset
/// means the default shown. `.env.sample` lists them all.
#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "LATCHKEY_BIND", default_value = "127.0.0.1:8000")]
    pub bind: SocketAddr,
    /// `sqlite://…` (embedded, the default) or `postgres://…` (many nodes on one database).
    #[arg(long, env = "LATCHKEY_DATABASE_URL", default_value = "sqlite://latchkey.db?mode=rwc")]
    pub database_url: String,
    /// HS256 signing key, used as raw UTF-8 bytes exactly as simplejwt uses `SIGNING_KEY`. When unset,
    /// one is generated once and kept in `latchkey.secret` beside the SQLite file, with a warning.
    #[arg(long, env = "LATCHKEY_SECRET_KEY", hide_env_values = true)]
    pub secret_key: Option<String>,
    /// Key that encrypts TOTP secrets at rest (two-factor issue); derived from the secret key when unset.
    #[arg(long, env = "LATCHKEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// JWT signing algorithm. Only HS256 is wired in this version.
    #[arg(long, env = "LATCHKEY_JWT_ALGORITHM", default_value = "HS256", value_parser = ["HS256"])]
    pub jwt_algorithm: String,
    /// Access-token lifetime (humantime: `90s`, `15m`, `7d`).
    #[arg(long, env = "LATCHKEY_ACCESS_TOKEN_LIFETIME", default_value = "15m", value_parser = humantime::parse_duration)]
    pub access_token_lifetime: Duration,
    /// Refresh-token (session) lifetime.
    #[arg(long, env = "LATCHKEY_REFRESH_TOKEN_LIFETIME", default_value = "7d", value_parser = humantime::parse_duration)]
    pub refresh_token_lifetime: Duration,
    /// How long after a rotation the old refresh token only gets a 401 instead of revoking the session
    /// (two tabs refreshing at once).
    #[arg(long, env = "LATCHKEY_REFRESH_REUSE_GRACE", default_value = "10s", value_parser = humantime::parse_duration)]
    pub refresh_reuse_grace: Duration,
    /// `iss` added to tokens and required on verification.
    #[arg(long, env = "LATCHKEY_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// `aud` added to tokens and required on verification.
    #[arg(long, env = "LATCHKEY_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Base of links in e-mails; `http://<bind>` when unset.
    #[arg(long, env = "LATCHKEY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Comma-separated origins allowed to call the API from a browser (CORS); empty means none.
    #[arg(long, env = "LATCHKEY_CORS_ORIGINS", value_delimiter = ',', default_value = "")]
    pub cors_origins: Vec<String>,
    /// Tracing filter (`info`, `latchkey_server=debug,warn`, ...).
    #[arg(long, env = "LATCHKEY_LOG", default_value = "info")]
    pub log: String,
    /// `text` or `json` (one JSON object per line).
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// Directory of the web demo served at `/` (`scripts/run.sh` prepares it).
    #[arg(long, env = "LATCHKEY_DEMO_DIR", default_value = "web-demo")]
    pub demo_dir: PathBuf,
}

impl Config {
    /// The configuration from the environment alone (flags ignored), with defaults for what is unset.
    pub fn from_env() -> Result<Self, clap::Error> {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            config: Config,
        }
        <Only as clap::Parser>::try_parse_from(["latchkey"]).map(|o| o.config)
    }
}

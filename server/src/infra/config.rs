//! Configuration: environment variables (docs/operations.md), each overridable by a flag of the same name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use latchkey_core::token::Algorithm;

pub use crate::infra::breached::BreachedPasswords;
pub use crate::infra::proxies::TrustedProxies;

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
    /// Key that encrypts TOTP secrets and keys backup-code hashes at rest (any text; 32 random
    /// bytes as hex is a good one). Derived from the secret key, with a warning, when unset.
    #[arg(long, env = "LATCHKEY_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// Comma-separated former encryption keys: what they sealed still opens, and is sealed again
    /// under the current key on use or by `latchkey rekey`.
    #[arg(
        long,
        env = "LATCHKEY_OLD_ENCRYPTION_KEYS",
        hide_env_values = true,
        value_delimiter = ',',
        default_value = ""
    )]
    pub old_encryption_keys: Vec<String>,
    /// The issuer authenticator apps show above the account in new TOTP enrollments.
    #[arg(long, env = "LATCHKEY_TOTP_ISSUER", default_value = "Latchkey")]
    pub totp_issuer: String,
    /// Longest wait imposed after failed second-factor codes (the waits double: 1 s, 2 s, 4 s, ...).
    #[arg(long, env = "LATCHKEY_MFA_BACKOFF_CAP", default_value = "5m", value_parser = humantime::parse_duration)]
    pub mfa_backoff_cap: Duration,
    /// JWT signing algorithm: `HS256` (with the secret key), or `EdDSA`, `RS256` or `ES256` with
    /// `LATCHKEY_JWT_PRIVATE_KEY_FILE`, whose public key `GET /.well-known/jwks.json` then serves.
    #[arg(long, env = "LATCHKEY_JWT_ALGORITHM", default_value = "HS256", value_parser = parse_algorithm)]
    pub jwt_algorithm: Algorithm,
    /// PKCS#8 PEM private key (`BEGIN PRIVATE KEY`) for EdDSA, RS256 or ES256; required by them,
    /// unused by HS256. The public key is derived from it.
    #[arg(long, env = "LATCHKEY_JWT_PRIVATE_KEY_FILE")]
    pub jwt_private_key_file: Option<PathBuf>,
    /// Comma-separated PEM files of former (or, before a rotation, upcoming) EdDSA, RS256 or ES256
    /// keys: public keys (`BEGIN PUBLIC KEY`) or private ones, of which only the public half is used.
    /// Tokens they signed still verify, and `GET /.well-known/jwks.json` lists them after the
    /// current key. Refused with HS256 (see `LATCHKEY_PREVIOUS_SECRET_KEYS`).
    #[arg(long, env = "LATCHKEY_JWT_PREVIOUS_KEY_FILES", value_delimiter = ',', default_value = "",
          value_parser = any_path)]
    pub jwt_previous_key_files: Vec<PathBuf>,
    /// Comma-separated former (or upcoming) secret keys: HS256 tokens, e-mailed links and, while
    /// `LATCHKEY_ENCRYPTION_KEY` is unset, TOTP secrets and backup codes made under them still verify
    /// or open. Surrounding spaces are ignored; a key containing a comma cannot be listed.
    #[arg(
        long,
        env = "LATCHKEY_PREVIOUS_SECRET_KEYS",
        hide_env_values = true,
        value_delimiter = ',',
        default_value = ""
    )]
    pub previous_secret_keys: Vec<String>,
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
    /// How long a session lasts at most from its login, however often it is refreshed: no refresh
    /// token outlives it, and then the user logs in again.
    #[arg(long, env = "LATCHKEY_SESSION_MAX_AGE", default_value = "30d", value_parser = humantime::parse_duration)]
    pub session_max_age: Duration,
    /// `iss` added to tokens and required on verification.
    #[arg(long, env = "LATCHKEY_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// `aud` added to tokens and required on verification.
    #[arg(long, env = "LATCHKEY_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// Base of links in e-mails; `http://<bind>` when unset. The refresh cookie is `Secure` unless
    /// this is plain `http://` on localhost, 127.0.0.1 or [::1].
    #[arg(long, env = "LATCHKEY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The passkeys' relying party ID: a domain (never an IP address) that every origin of
    /// `LATCHKEY_WEBAUTHN_ORIGINS` is on. Unset: the host of `LATCHKEY_PUBLIC_URL`; when that is an
    /// IP address (the default `http://127.0.0.1:8000`), passkeys are off.
    #[arg(long, env = "LATCHKEY_WEBAUTHN_RP_ID")]
    pub webauthn_rp_id: Option<String>,
    /// Comma-separated origins passkeys may be used from (`https://app.example.com`; plain `http`
    /// only on `localhost`). Empty: the origin of `LATCHKEY_PUBLIC_URL`.
    #[arg(long, env = "LATCHKEY_WEBAUTHN_ORIGINS", value_delimiter = ',', default_value = "")]
    pub webauthn_origins: Vec<String>,
    /// The relying party's name, which authenticators show beside the passkey.
    #[arg(long, env = "LATCHKEY_WEBAUTHN_RP_NAME", default_value = "Latchkey")]
    pub webauthn_rp_name: String,
    /// Where e-mail goes: `console` (standard output), `file:<dir>` (one RFC 5322 `.eml` file per
    /// message) or an SMTP URL: `smtp://host:port` (plain, for a relay on loopback),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS) or `smtps://user:pass@host:465` (TLS).
    #[arg(long, env = "LATCHKEY_EMAIL_BACKEND", default_value = "console", hide_env_values = true)]
    pub email_backend: EmailBackend,
    /// The `From` address of every message.
    #[arg(long, env = "LATCHKEY_EMAIL_FROM", default_value = "latchkey@localhost")]
    pub email_from: String,
    /// Seconds between delivery attempts of a message the mail server refused or did not answer;
    /// after the last, the message is dropped and an error logged.
    #[arg(long, env = "LATCHKEY_EMAIL_RETRY_DELAYS", value_delimiter = ',', default_value = "2s,10s,60s,300s",
          value_parser = humantime::parse_duration)]
    pub email_retry_delays: Vec<Duration>,
    /// `optional`: accounts work at once and a verification link is sent; `mandatory`: login is refused
    /// until the address is verified.
    #[arg(long, env = "LATCHKEY_EMAIL_VERIFICATION", default_value = "optional", value_parser = ["optional", "mandatory"])]
    pub email_verification: String,
    /// How long a password-reset link works.
    #[arg(long, env = "LATCHKEY_PASSWORD_RESET_TIMEOUT", default_value = "1h", value_parser = humantime::parse_duration)]
    pub password_reset_timeout: Duration,
    /// How long an e-mail verification link works.
    #[arg(long, env = "LATCHKEY_EMAIL_VERIFICATION_TIMEOUT", default_value = "3d", value_parser = humantime::parse_duration)]
    pub email_verification_timeout: Duration,
    /// A JSON or TOML file with the password policy (the form `GET /api/auth/password/policy/`
    /// shows); unset means the default policy.
    #[arg(long, env = "LATCHKEY_PASSWORD_POLICY")]
    pub password_policy: Option<PathBuf>,
    /// Passwords older than this must be changed at the next login; unset means they never expire.
    #[arg(long, env = "LATCHKEY_PASSWORD_MAX_AGE", value_parser = humantime::parse_duration)]
    pub password_max_age: Option<Duration>,
    /// Refuse passwords found in data breaches: `off`, or the base URL of a range API speaking Have I
    /// Been Pwned's protocol (`https://api.pwnedpasswords.com`, or a mirror, which may be on a
    /// private address). Only the first 5 hex digits of the password's SHA-1 leave the server.
    #[arg(long, env = "LATCHKEY_BREACHED_PASSWORDS", default_value = "off")]
    pub breached_passwords: BreachedPasswords,
    /// How many times the range API must have seen a password for it to be refused.
    #[arg(long, env = "LATCHKEY_BREACHED_MIN_COUNT", default_value = "1",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub breached_min_count: u64,
    /// Social login: a file listing the OpenID Connect and GitHub providers users may sign in with
    /// (`[[providers]]` tables when its name ends in `.toml`, else a JSON list of
    /// `{"id","name","issuer","client_id","client_secret","scopes"}`). Unset means none. It holds
    /// the client secrets: keep it readable by the server's user only.
    #[arg(long, env = "LATCHKEY_OIDC_PROVIDERS")]
    pub oidc_providers: Option<PathBuf>,
    /// Sign-in by a code or link e-mailed to the account's address (`POST /api/auth/code/request/`,
    /// `POST /api/token/code/`): `on` or `off` (both endpoints answer 404).
    #[arg(long, env = "LATCHKEY_LOGIN_CODES", default_value = "on", value_parser = on_off, action = clap::ArgAction::Set)]
    pub login_codes: bool,
    /// SMS codes as a second factor (docs/api.md#sms-codes): `off`, `console`, `file:<dir>` (one
    /// JSON file per message) or `twilio://<account_sid>:<auth_token>@<from_number>`.
    #[arg(long, env = "LATCHKEY_SMS_BACKEND", default_value = "off", hide_env_values = true)]
    pub sms_backend: crate::infra::sms::SmsBackend,
    /// The base of Twilio's REST API, without a path (the server adds `/2010-04-01/Accounts/…`).
    #[arg(long, env = "LATCHKEY_SMS_API_URL", default_value = "https://api.twilio.com",
          value_parser = crate::infra::sms::api_base)]
    pub sms_api_url: String,
    /// Comma-separated calling codes (`1,44,49`) SMS codes may be sent to; empty allows every one.
    #[arg(long, env = "LATCHKEY_SMS_COUNTRIES", default_value = "")]
    pub sms_countries: crate::infra::sms::SmsCountries,
    /// SMS codes sent per calling code (`count/window`), against SMS pumping.
    #[arg(long, env = "LATCHKEY_SMS_COUNTRY_LIMIT", default_value = "100/1h")]
    pub sms_country_limit: Rate,
    /// Security webhooks may be sent to private, loopback and link-local addresses (and over plain
    /// http): `1` for a receiver inside the company network, or in development. Off, every endpoint
    /// must be https on a public address, checked when it is saved and again at every delivery.
    #[arg(long, env = "LATCHKEY_WEBHOOK_ALLOW_PRIVATE", default_value = "0", value_parser = one_or_zero, action = clap::ArgAction::Set)]
    pub webhook_allow_private: bool,
    /// Who must set up a second factor (docs/api.md#2fa-enforcement): `off`, `staff` (`is_staff` users)
    /// or `all`. Such a user without one logs in, but may only set one up until they have.
    #[arg(long, env = "LATCHKEY_REQUIRE_2FA", default_value = "off", value_enum)]
    pub require_2fa: crate::infra::require_2fa::Require2fa,
    /// E-mail the user when they log in from a device (IP and user agent) none of their open sessions has.
    #[arg(long, env = "LATCHKEY_NOTIFY_NEW_LOGIN", default_value = "false")]
    pub notify_new_login: bool,
    /// Request limits, comma-separated `scope:subject=count/window` (`off` for none): scopes `login`,
    /// `mfa`, `register`, `reset`, `verify`, `resend`, `invite`, `code`; subjects `ip` (the client's
    /// address), `email` (the address a reset, resend or sign-in code names) and `user` (the inviting user).
    #[arg(long, env = "LATCHKEY_RATE_LIMITS", default_value = DEFAULT_RATE_LIMITS)]
    pub rate_limits: RateLimits,
    /// Failed logins of one account (by the e-mail address or username given, registered or not)
    /// within `LATCHKEY_LOCKOUT_WINDOW` before it is locked out.
    #[arg(long, env = "LATCHKEY_LOCKOUT_ATTEMPTS", default_value = "5")]
    pub lockout_attempts: u32,
    /// Failed logins from one IP address within the window before the address is locked out.
    #[arg(long, env = "LATCHKEY_LOCKOUT_IP_ATTEMPTS", default_value = "30")]
    pub lockout_ip_attempts: u32,
    /// The window failures are counted in.
    #[arg(long, env = "LATCHKEY_LOCKOUT_WINDOW", default_value = "15m", value_parser = humantime::parse_duration)]
    pub lockout_window: Duration,
    /// The first lockout's length; each further one (without a quiet day between) is
    /// `LATCHKEY_LOCKOUT_GROWTH` times longer, up to `LATCHKEY_LOCKOUT_CAP`.
    #[arg(long, env = "LATCHKEY_LOCKOUT_COOLOFF", default_value = "1m", value_parser = humantime::parse_duration)]
    pub lockout_cooloff: Duration,
    /// How much longer each further lockout is.
    #[arg(long, env = "LATCHKEY_LOCKOUT_GROWTH", default_value = "2")]
    pub lockout_growth: u32,
    /// The longest lockout: the most an attacker can keep the real user out at a time.
    #[arg(long, env = "LATCHKEY_LOCKOUT_CAP", default_value = "1h", value_parser = humantime::parse_duration)]
    pub lockout_cap: Duration,
    /// Wrong passwords or codes a signed-in user may give again (changing the password, deleting the
    /// account, changing 2FA) within `LATCHKEY_LOCKOUT_WINDOW` before those endpoints answer 429
    /// without checking, for the lockout's cool-off: a stolen token cannot guess the password.
    #[arg(long, env = "LATCHKEY_REAUTH_ATTEMPTS", default_value = "5")]
    pub reauth_attempts: u32,
    /// How long a login, or `POST /api/auth/reauthenticate/`, lets a session make sensitive changes
    /// (2FA, API keys, password, account deletion) without giving the password again ("sudo mode").
    #[arg(long, env = "LATCHKEY_REAUTH_WINDOW", default_value = "10m", value_parser = humantime::parse_duration)]
    pub reauth_window: Duration,
    /// IPv6 clients are counted by this network prefix in request limits, lockouts and the hashing
    /// gate's shares: one host usually holds a whole /64, so counting single addresses counts nothing.
    #[arg(long, env = "LATCHKEY_IPV6_PREFIX", default_value = "64",
          value_parser = clap::value_parser!(u8).range(1..=128))]
    pub ipv6_prefix: u8,
    /// How long this node may answer an authenticated request from memory before reading the user
    /// and the session again. Every write forgets what it changes at once (on other nodes through
    /// PostgreSQL's `LISTEN/NOTIFY`); this bounds only what a lost notification could leave. `0`
    /// turns the cache off.
    #[arg(long, env = "LATCHKEY_AUTH_CACHE_TTL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub auth_cache_ttl: Duration,
    /// How long audit events are kept; older ones are deleted hourly.
    #[arg(long, env = "LATCHKEY_AUDIT_RETENTION", default_value = "90d", value_parser = humantime::parse_duration)]
    pub audit_retention: Duration,
    /// Comma-separated CIDRs (`10.0.0.0/8,fd00::/8`; a bare address is one host) of the reverse
    /// proxies whose `X-Forwarded-For` is believed. Empty means none: the socket address is the
    /// client's IP.
    #[arg(long, env = "LATCHKEY_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: TrustedProxies,
    /// Comma-separated origins allowed to call the API from a browser (CORS); empty means none.
    #[arg(long, env = "LATCHKEY_CORS_ORIGINS", value_delimiter = ',', default_value = "")]
    pub cors_origins: Vec<String>,
    /// Longest time from a request's complete headers to its answer (reading the body included);
    /// past it the answer is 408. The headers themselves must arrive within 10 s.
    #[arg(long, env = "LATCHKEY_REQUEST_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// Tracing filter (`info`, `latchkey_server=debug,warn`, ...).
    #[arg(long, env = "LATCHKEY_LOG", default_value = "info")]
    pub log: String,
    /// `text` or `json` (one JSON object per line).
    #[arg(long, env = "LATCHKEY_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// The web demo at `/`: `on` (its files are compiled into release binaries) or `off` (`/` and
    /// every other path outside the API answer 404).
    #[arg(long, env = "LATCHKEY_DEMO", default_value = "on", value_parser = on_off, action = clap::ArgAction::Set)]
    pub demo: bool,
    /// A directory to serve at `/` instead of the demo compiled in (a demo being edited, or your
    /// own page); empty for the one compiled in.
    #[arg(long, env = "LATCHKEY_DEMO_DIR", default_value = "", value_parser = any_path)]
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

    /// Login is refused until the e-mail address is verified.
    pub fn verification_mandatory(&self) -> bool {
        self.email_verification == "mandatory"
    }

    /// The base of links in e-mails, without a trailing slash: `LATCHKEY_PUBLIC_URL` or `http://<bind>`.
    pub fn public_base(&self) -> String {
        let base = self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.bind));
        base.trim_end_matches('/').to_owned()
    }
}

/// The request limits when `LATCHKEY_RATE_LIMITS` is unset.
pub const DEFAULT_RATE_LIMITS: &str = "login:ip=60/1m,mfa:ip=60/1m,register:ip=20/1h,reset:ip=20/1h,reset:email=5/1h,\
     verify:ip=60/1h,resend:ip=20/1h,resend:email=5/1h,invite:user=50/1d,code:ip=30/1h,code:email=5/1h";

/// One request limit: at most `count` requests per `window` (a fixed window aligned to the epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Requests allowed per window.
    pub count: u32,
    /// The window.
    pub window: Duration,
}

impl FromStr for Rate {
    type Err = String;

    /// `count/window`, as in `100/1h` (`LATCHKEY_SMS_COUNTRY_LIMIT`).
    fn from_str(text: &str) -> Result<Self, String> {
        let error = || format!("`{text}`: expected count/window, as in 100/1h");
        let (count, window) = text.trim().split_once('/').ok_or_else(error)?;
        let count = count.trim().parse().map_err(|_| error())?;
        let window = humantime::parse_duration(window.trim()).map_err(|e| format!("`{text}`: {e}"))?;
        if window.as_secs() == 0 {
            return Err(format!("`{text}`: the window must be at least a second"));
        }
        Ok(Self { count, window })
    }
}

/// A request limit the server counts: a scope (what is being done) and the subject it is counted
/// per (the client's network, the e-mail address a request names, or the signed-in user).
/// `LATCHKEY_RATE_LIMITS` names them as `scope:subject`; any other name is refused at start-up,
/// so a typo cannot silently leave an endpoint unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// `login:ip`: `POST /api/token/`.
    LoginIp,
    /// `mfa:ip`: `POST /api/token/mfa/`.
    MfaIp,
    /// `register:ip`: `POST /api/auth/register/`.
    RegisterIp,
    /// `reset:ip`: password-reset requests per client.
    ResetIp,
    /// `reset:email`: password-reset requests per address named.
    ResetEmail,
    /// `verify:ip`: e-mail verification attempts per client.
    VerifyIp,
    /// `resend:ip`: verification e-mails asked for per client.
    ResendIp,
    /// `resend:email`: verification e-mails asked for per address.
    ResendEmail,
    /// `invite:user`: invitations sent per inviting user.
    InviteUser,
    /// `code:ip`: sign-in codes asked for per client (each stores a row for 10 minutes).
    CodeIp,
    /// `code:email`: sign-in codes asked for per address (each may send an e-mail).
    CodeEmail,
}

impl Limit {
    /// Every limit, in the order of the documentation.
    pub const ALL: [Self; 11] = [
        Self::LoginIp,
        Self::MfaIp,
        Self::RegisterIp,
        Self::ResetIp,
        Self::ResetEmail,
        Self::VerifyIp,
        Self::ResendIp,
        Self::ResendEmail,
        Self::InviteUser,
        Self::CodeIp,
        Self::CodeEmail,
    ];

    /// Its name in `LATCHKEY_RATE_LIMITS` and in the counter keys: `scope:subject`.
    pub fn name(self) -> &'static str {
        match self {
            Self::LoginIp => "login:ip",
            Self::MfaIp => "mfa:ip",
            Self::RegisterIp => "register:ip",
            Self::ResetIp => "reset:ip",
            Self::ResetEmail => "reset:email",
            Self::VerifyIp => "verify:ip",
            Self::ResendIp => "resend:ip",
            Self::ResendEmail => "resend:email",
            Self::InviteUser => "invite:user",
            Self::CodeIp => "code:ip",
            Self::CodeEmail => "code:email",
        }
    }
}

/// The request limits configured (`LATCHKEY_RATE_LIMITS`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimits(Vec<(Limit, Rate)>);

impl RateLimits {
    /// The rate of `limit`, if it is configured.
    pub fn get(&self, limit: Limit) -> Option<Rate> {
        self.0.iter().find(|(l, _)| *l == limit).map(|(_, rate)| *rate)
    }
}

impl FromStr for RateLimits {
    type Err = String;

    /// `login:ip=60/1m, reset:email=5/1h`; `off` (or an empty string) for no limits at all.
    fn from_str(text: &str) -> Result<Self, String> {
        if text.trim() == "off" {
            return Ok(Self::default());
        }
        let parse = |part: &str| -> Result<(Limit, Rate), String> {
            let error = || format!("`{part}`: expected scope:subject=count/window, as in login:ip=60/1m");
            let (name, rate) = part.split_once('=').ok_or_else(error)?;
            let name = name.trim();
            name.split_once(':').ok_or_else(error)?;
            let limit = Limit::ALL.into_iter().find(|l| l.name() == name).ok_or_else(|| {
                let known: Vec<&str> = Limit::ALL.iter().map(|l| l.name()).collect();
                format!("`{part}`: unknown limit `{name}`; the limits are {}", known.join(", "))
            })?;
            let (count, window) = rate.trim().split_once('/').ok_or_else(error)?;
            let count: u32 = count.trim().parse().map_err(|_| error())?;
            let window = humantime::parse_duration(window.trim()).map_err(|e| format!("`{part}`: {e}"))?;
            if window.as_secs() == 0 {
                return Err(format!("`{part}`: the window must be at least a second"));
            }
            Ok((limit, Rate { count, window }))
        };
        text.split(',').map(str::trim).filter(|p| !p.is_empty()).map(parse).collect::<Result<_, _>>().map(Self)
    }
}

/// Where e-mail goes (`LATCHKEY_EMAIL_BACKEND`).
#[derive(Clone, PartialEq, Eq)]
pub enum EmailBackend {
    /// Printed on standard output.
    Console,
    /// One `.eml` file per message in this directory.
    File(PathBuf),
    /// An SMTP server: `smtp://` or `smtps://` URL, credentials and TLS mode included.
    Smtp(String),
}

impl std::fmt::Debug for EmailBackend {
    /// The SMTP URL may hold a password: only its scheme is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Console => f.write_str("Console"),
            Self::File(dir) => f.debug_tuple("File").field(dir).finish(),
            Self::Smtp(url) => write!(f, "Smtp({}://…)", url.split("://").next().unwrap_or("smtp")),
        }
    }
}

impl FromStr for EmailBackend {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "console" {
            return Ok(Self::Console);
        }
        if let Some(dir) = text.strip_prefix("file:") {
            if dir.is_empty() {
                return Err("`file:` needs a directory, as in `file:/var/spool/latchkey`".into());
            }
            return Ok(Self::File(PathBuf::from(dir)));
        }
        if text.starts_with("smtp://") || text.starts_with("smtps://") {
            return Ok(Self::Smtp(text.to_owned()));
        }
        Err("expected `console`, `file:<dir>`, `smtp://host:port` or `smtps://host:port`".into())
    }
}

/// `on` or `off`.
fn on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("`{text}`: expected on or off")),
    }
}

/// `1` or `0` (also `true`/`false`, `on`/`off`).
fn one_or_zero(text: &str) -> Result<bool, String> {
    match text {
        "1" | "true" | "on" => Ok(true),
        "0" | "false" | "off" => Ok(false),
        _ => Err(format!("`{text}`: expected 1 or 0")),
    }
}

/// A path, empty allowed (clap's own path parser refuses an empty value).
fn any_path(text: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(text))
}

/// A JOSE algorithm name Latchkey signs with.
fn parse_algorithm(name: &str) -> Result<Algorithm, String> {
    Algorithm::from_name(name).ok_or_else(|| format!("`{name}` is not one of HS256, EdDSA, RS256, ES256"))
}

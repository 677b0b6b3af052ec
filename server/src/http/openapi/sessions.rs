//! The session object (docs/api.md#accounts-and-registration) and the bodies of the session endpoints: naming a session, and
//! logging out everywhere else.

use utoipa::ToSchema;

/// An open login session. Datetimes are RFC 3339 in UTC.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"id": "0123456789abcdef0123456789abcdef", "name": "Work laptop", "current": true,
    "created_at": "2026-01-02T03:04:05Z", "last_used_at": "2026-01-03T03:04:05Z",
    "expires_at": "2026-01-10T03:04:05Z", "absolute_expires_at": "2026-02-01T03:04:05Z", "ip": "203.0.113.7",
    "user_agent": "Mozilla/5.0 (X11; Linux x86_64) … Chrome/126.0.0.0 Safari/537.36",
    "device": {"browser": "Chrome", "os": "Linux"}, "auth_method": "password", "mfa": false}))]
pub struct Session {
    /// 32 lowercase hex characters.
    pub id: String,
    /// The name its user gave it (`PATCH /api/auth/sessions/{id}/`); null when none.
    #[schema(required = true, max_length = 64)]
    pub name: Option<String>,
    /// This is the session of the access token making the request (always false in the admin API).
    pub current: bool,
    /// When the session was opened (the login).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// The last login or refresh.
    #[schema(format = DateTime)]
    pub last_used_at: String,
    /// When the session ends unless it is refreshed before (the idle limit,
    /// `LATCHKEY_REFRESH_TOKEN_LIFETIME` after the last refresh); never after `absolute_expires_at`.
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// When the session ends however often it is refreshed (`LATCHKEY_SESSION_MAX_AGE` after the login).
    #[schema(format = DateTime)]
    pub absolute_expires_at: String,
    /// The client's IP address at login; empty when unknown.
    pub ip: String,
    /// The client's `User-Agent` at login, at most 256 characters.
    pub user_agent: String,
    /// The browser and operating system the user agent names.
    pub device: SessionDevice,
    /// How the login proved the user: `password`, `passkey`, `social:<provider>` or `code`.
    pub auth_method: String,
    /// A second factor was verified for this session.
    pub mfa: bool,
}

/// The device of a session, read from its user agent; null where the agent does not say.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"browser": "Chrome", "os": "Linux"}))]
pub struct SessionDevice {
    /// `Chrome`, `Firefox`, `Safari`, `Edge`…; for HTTP libraries their name (`curl`).
    #[schema(required = true)]
    pub browser: Option<String>,
    /// `Linux`, `Windows 10`, `Mac OSX`, `iPhone`, `Android`…
    #[schema(required = true)]
    pub os: Option<String>,
}

/// A session's new name.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"name": "Work laptop"}))]
pub struct SessionUpdate {
    /// Trimmed; blank removes the name. Absent: unchanged.
    #[schema(required = false, max_length = 64)]
    pub name: String,
}

/// Which sessions logout-all revokes.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"keep_current": true}))]
pub struct LogoutAllRequest {
    /// Keep the caller's own session open and revoke every other one. Default false: all of them.
    #[schema(required = false)]
    pub keep_current: bool,
}

/// The answer of logout-all: `{}`, or with `keep_current` how many other sessions were revoked.
#[derive(Debug, ToSchema)]
#[schema(example = json!({"revoked": 2}))]
pub struct LogoutAllRevoked {
    /// How many of the caller's other open sessions were revoked (with `keep_current` only).
    #[schema(required = false)]
    pub revoked: u64,
}

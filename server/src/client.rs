//! Who is calling: the client's IP address and user agent, as sessions and the audit log record them.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;

use crate::state::AppState;

/// Stored user agents are cut to this many characters.
const MAX_USER_AGENT_CHARS: usize = 256;

/// Who is calling, as a session records it: the client's IP address (empty when the router runs
/// without a socket, as in tests) and the `User-Agent`, cut to 256 characters.
#[derive(Debug, Clone, Default)]
pub struct Client {
    /// The socket's peer address or, when that is a trusted proxy (`LATCHKEY_TRUSTED_PROXIES`),
    /// the address its `X-Forwarded-For` names.
    pub ip: String,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl FromRequestParts<AppState> for Client {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        // A value that is not text still counts, as an entry that stops the walk: skipping it would
        // let the part of the header the client wrote decide.
        let forwarded: Vec<String> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect();
        let forwarded: Vec<&str> = forwarded.iter().map(String::as_str).collect();
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| state.config.trusted_proxies.client_ip(addr.ip(), &forwarded).to_string())
            .unwrap_or_default();
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).chars().take(MAX_USER_AGENT_CHARS).collect())
            .unwrap_or_default();
        Ok(Self { ip, user_agent })
    }
}

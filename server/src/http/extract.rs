//! Who is calling, read from the request: the socket's peer (or a trusted proxy's `X-Forwarded-For`)
//! and the `User-Agent`.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::USER_AGENT;
use axum::http::request::Parts;

use crate::infra::client::{network_of, Client, MAX_USER_AGENT_CHARS};
use crate::infra::state::AppState;

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
            .map(|ConnectInfo(addr)| state.config.trusted_proxies.client_ip(addr.ip(), &forwarded));
        let network = ip.map(|ip| network_of(ip, state.config.ipv6_prefix)).unwrap_or_default();
        let ip = ip.map(|ip| ip.to_string()).unwrap_or_default();
        let user_agent = parts
            .headers
            .get(USER_AGENT)
            .map(|value| String::from_utf8_lossy(value.as_bytes()).chars().take(MAX_USER_AGENT_CHARS).collect())
            .unwrap_or_default();
        Ok(Self { ip, network, user_agent })
    }
}

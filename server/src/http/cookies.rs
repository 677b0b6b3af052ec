//! Cookie mode for refresh tokens (docs/api.md#tokens). A browser front-end can keep its refresh token in an
//! `HttpOnly` cookie, out of reach of scripts, instead of in storage: login with `"cookie": true`
//! sets it, and refresh, blacklist and logout read it when the body names no `refresh` token.
//!
//! A cookie travels with requests the page did not mean to send. `SameSite=Strict` keeps it off
//! cross-site requests in current browsers; as a second guard, a request authenticated by the
//! cookie must be `application/json`, which a cross-site form cannot send without a CORS preflight.

use std::net::IpAddr;

use axum::extract::{FromRequest, Request};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
use serde::Serialize;
use serde_json::Value;

use crate::http::drf::{is_json, JsonBody};
use crate::infra::config::Config;
use crate::infra::error::ApiError;

/// The refresh cookie's name.
pub(crate) const REFRESH_COOKIE: &str = "latchkey_refresh";

/// Where the browser sends the cookie: the token endpoints only, so no other path ever sees it.
const COOKIE_PATH: &str = "/api/token/";

/// The body of a refresh, blacklist or logout request, and the refresh cookie's token when the
/// body is an object without a `refresh` field: the body wins, so clients sending tokens in the
/// body behave exactly as without cookies.
///
/// Rejections: the body's, as [`JsonBody`] answers them, and 403 when a request carrying the
/// cookie is not `application/json`.
#[derive(Debug)]
pub(crate) struct BodyOrCookie {
    /// The JSON body (`{}` when empty).
    pub body: Value,
    /// The cookie's token, when it is the one the request is authenticated with.
    pub cookie: Option<String>,
}

impl<S: Send + Sync> FromRequest<S> for BodyOrCookie {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let cookie = refresh_cookie(req.headers());
        // Checked before the body is read: a form post would otherwise get a 415, which is a
        // refusal too, but not the one that says why.
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if cookie.is_some() && !is_json(content_type) {
            return Err(ApiError::CsrfFailed.into_response());
        }
        let JsonBody(body) = JsonBody::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        let cookie = cookie.filter(|_| body.as_object().is_some_and(|fields| !fields.contains_key("refresh")));
        Ok(Self { body, cookie })
    }
}

/// `body` with a `Set-Cookie` carrying `token`, alive as long as the refresh token.
pub(crate) fn with_refresh_cookie(config: &Config, token: &str, body: impl Serialize) -> Result<Response, ApiError> {
    let max_age = config.refresh_token_lifetime.as_secs();
    let cookie = set_cookie(config, token, max_age)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// `body` with a `Set-Cookie` that deletes the refresh cookie.
pub(crate) fn without_refresh_cookie(config: &Config, body: impl Serialize) -> Result<Response, ApiError> {
    let cookie = set_cookie(config, "", 0)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

fn set_cookie(config: &Config, value: &str, max_age: u64) -> Result<HeaderValue, ApiError> {
    let cookie = Cookie::build((REFRESH_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(COOKIE_PATH)
        .max_age(Duration::seconds(i64::try_from(max_age).unwrap_or(i64::MAX)))
        .build();
    // `Secure` stays the last attribute, where it has always been sent (the crate would write it
    // before `Path`; browsers read attributes in any order).
    let secure = if is_secure(config) { "; Secure" } else { "" };
    HeaderValue::from_str(&format!("{cookie}{secure}")).map_err(|e| ApiError::Internal(format!("refresh cookie: {e}")))
}

/// Whether the cookie needs `Secure`: always, unless the public URL (`http://<bind>` when unset) is
/// plain `http://` on this machine, where browsers are served without TLS during development.
fn is_secure(config: &Config) -> bool {
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{}", config.bind));
    !is_plain_http_localhost(&public_url)
}

fn is_plain_http_localhost(url: &str) -> bool {
    let url = url.trim();
    let Some(rest) = url.get(..7).filter(|scheme| scheme.eq_ignore_ascii_case("http://")).map(|_| &url[7..]) else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, host_port)| host_port);
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let loopback = [IpAddr::from([127, 0, 0, 1]), IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1])];
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| loopback.contains(&ip))
}

/// The refresh cookie's value, when the request carries a non-empty one.
fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == REFRESH_COOKIE && !cookie.value().is_empty())
        .map(|cookie| cookie.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_http_on_this_machine_goes_without_secure() {
        for url in [
            "http://127.0.0.1:8000",
            "http://localhost",
            "HTTP://LocalHost:3000/app/",
            "http://[::1]:8000/",
            "http://[0:0::1]",
            "http://user@localhost:80?x#y",
        ] {
            assert!(is_plain_http_localhost(url), "{url}");
        }
        for url in [
            "https://localhost",
            "https://127.0.0.1:8000",
            "http://example.com",
            "http://0.0.0.0:8000",
            "http://127.0.0.2",
            "http://localhost.example.com",
            "http://localhost@example.com",
            "http://[::2]",
            "localhost",
            "",
        ] {
            assert!(!is_plain_http_localhost(url), "{url}");
        }
    }

    #[test]
    fn the_refresh_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        assert_eq!(refresh_cookie(&headers), None);
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; latchkey_refresh=; b=2"));
        assert_eq!(refresh_cookie(&headers), None, "an empty cookie is no cookie");
        headers.append(header::COOKIE, HeaderValue::from_static("xlatchkey_refresh=no;latchkey_refresh=a.b.c"));
        assert_eq!(refresh_cookie(&headers).as_deref(), Some("a.b.c"));
    }
}

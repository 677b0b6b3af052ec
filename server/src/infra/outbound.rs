//! The server's one outbound HTTP client, shared by everything that calls another service (social
//! login's providers, the breached-password range API): rustls (on ring), no redirects (oauth2's
//! advice against SSRF), a total timeout chosen per use (connecting gets at most 3 s of it), at most
//! 512 KiB of answer, and only public addresses unless the use allows private ones.
//!
//! A provider's URLs come from the operator's file and from its discovery document, which the
//! provider controls; without the address filter a hostile or compromised provider could point
//! the server at its own network (`http://169.254.169.254/`, an admin port on 10.0.0.0/8). Names
//! are filtered where they are resolved (so a name that changes its answer between two lookups
//! gains nothing) and IP literals before the request. Loopback stays reachable through the names
//! that say so (`localhost`, 127.0.0.1, [::1]): development and the tests run providers there.
//! A URL the operator alone chooses (a breached-password mirror) may be private: that client is
//! built with [`Reach::Any`], and still follows no redirect. A security webhook's URL is chosen by a
//! staff member, whose stolen token must not turn the server into a probe of its own network: that
//! client ([`Reach::Public`]) refuses loopback too, unless `LATCHKEY_WEBHOOK_ALLOW_PRIVATE=1`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// The largest answer read from a service.
pub(crate) const MAX_BODY_BYTES: usize = 512 * 1024;

/// Why a call to a service failed before it answered usefully.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL is not one the server calls: a private address, or plain http off loopback.
    #[error("refused address: {0}")]
    Refused(String),
    /// Connecting, TLS, a timeout, or the answer broke off.
    #[error("request failed: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was larger than 512 KiB.
    #[error("the answer is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
}

impl HttpError {
    /// No answer came within the client's timeout.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Transport(error) if error.is_timeout())
    }

    /// The address filter refused the URL, or every address its name resolved to.
    pub fn is_refused(&self) -> bool {
        match self {
            Self::Refused(_) => true,
            Self::Transport(error) => {
                let mut source = std::error::Error::source(error);
                while let Some(cause) = source {
                    if cause.to_string().contains(NO_ADDRESS) {
                        return true;
                    }
                    source = cause.source();
                }
                false
            }
            Self::TooLarge => false,
        }
    }
}

/// What the resolver says of a name with no address the policy allows.
const NO_ADDRESS: &str = "has no address the server may call";

/// An answer: its status, its headers and its (bounded) body.
#[derive(Debug)]
pub(crate) struct Answer {
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body, at most [`MAX_BODY_BYTES`].
    pub body: Vec<u8>,
}

/// The longest a connection may take to open, whatever the total timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Which addresses a client may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// Public addresses over https only (security webhooks).
    Public,
    /// Public addresses, and loopback through the names that say so (`localhost`, 127.0.0.1,
    /// [::1]), where plain http is allowed too: social login's providers.
    PublicOrLoopback,
    /// Any address, over http or https (an operator's mirror, a provider marked `allow_private`,
    /// webhooks with `LATCHKEY_WEBHOOK_ALLOW_PRIVATE=1`).
    Any,
}

impl Reach {
    /// [`Reach::Any`] when private addresses are allowed, else `otherwise`.
    pub fn any_if(allow_private: bool, otherwise: Self) -> Self {
        if allow_private {
            Self::Any
        } else {
            otherwise
        }
    }
}

/// The client, with its address policy.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    reach: Reach,
}

impl Http {
    /// A client whose every call ends within `timeout` (connecting, sending and reading the whole
    /// answer), calling only what `reach` allows.
    pub fn new(reach: Reach, timeout: Duration) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .user_agent(concat!("latchkey/", env!("CARGO_PKG_VERSION")))
            // A proxy would resolve the service's name itself, past the address filter.
            .no_proxy()
            .dns_resolver(Arc::new(PublicResolver { reach }))
            .build()
            .map_err(|e| format!("the HTTP client cannot be built: {e}"))?;
        Ok(Self { client, reach })
    }

    /// Sends a request built elsewhere (oauth2's `http::Request` for a token endpoint) and returns
    /// its answer.
    pub async fn send<R>(&self, request: R) -> Result<Answer, HttpError>
    where
        reqwest::Request: TryFrom<R, Error = reqwest::Error>,
    {
        self.execute(reqwest::Request::try_from(request)?).await
    }

    /// `GET url`, with `Authorization: Bearer` when a token is given.
    pub async fn get(&self, url: &str, accept: &str, bearer: Option<&str>) -> Result<Answer, HttpError> {
        let mut request = self.client.get(url).header(reqwest::header::ACCEPT, accept);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        self.execute(request.build()?).await
    }

    /// `GET url` with these request headers (names and values the caller chose, not a client's).
    pub async fn get_with(&self, url: &str, headers: &[(&'static str, &str)]) -> Result<Answer, HttpError> {
        let mut request = self.client.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.execute(request.build()?).await
    }

    /// `POST url` with these headers and this body.
    pub async fn post_with(
        &self,
        url: &str,
        headers: &[(&'static str, &str)],
        body: Vec<u8>,
    ) -> Result<Answer, HttpError> {
        let mut request = self.client.post(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.execute(request.body(body).build()?).await
    }

    /// Whether this client may call `url` at all (its scheme, and its host when an IP address);
    /// a name's addresses are checked when it is resolved, at every call.
    pub fn may_call(&self, url: &Url) -> bool {
        check_url(url, self.reach).is_ok()
    }

    /// Checks the address, sends, and reads at most [`MAX_BODY_BYTES`].
    async fn execute(&self, request: reqwest::Request) -> Result<Answer, HttpError> {
        check_url(request.url(), self.reach)?;
        let mut response = self.client.execute(request).await?;
        if response.content_length().is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(HttpError::TooLarge);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(HttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Answer { status: response.status(), headers: std::mem::take(response.headers_mut()), body })
    }
}

/// A URL the client may call: https; plain http only to loopback ([`Reach::PublicOrLoopback`]) or
/// anywhere ([`Reach::Any`]); an IP literal only when public, or loopback, or any, as `reach` says.
/// Names are left to [`PublicResolver`].
fn check_url(url: &Url, reach: Reach) -> Result<(), HttpError> {
    let refused = || HttpError::Refused(url.as_str().to_owned());
    let loopback = reach == Reach::PublicOrLoopback && is_loopback_host(url);
    let allow_private = reach == Reach::Any;
    match url.scheme() {
        "https" => {}
        "http" if loopback || allow_private => {}
        _ => return Err(refused()),
    }
    let ip = match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
        Some(Host::Domain(_)) => return Ok(()),
        None => return Err(refused()),
    };
    if allow_private || (loopback && ip.is_loopback()) || is_public(ip) {
        Ok(())
    } else {
        Err(refused())
    }
}

/// The host is 127.0.0.1, `localhost` or [::1].
pub(crate) fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip == Ipv4Addr::LOCALHOST,
        Some(Host::Ipv6(ip)) => ip == Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// Resolves with the system resolver and keeps only the addresses the policy allows: public ones,
/// and loopback ones for `localhost` itself when loopback is allowed.
#[derive(Debug)]
struct PublicResolver {
    reach: Reach,
}

impl Resolve for PublicResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let reach = self.reach;
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let allow_private = reach == Reach::Any;
            let localhost = reach == Reach::PublicOrLoopback && host.eq_ignore_ascii_case("localhost");
            let kept: Vec<SocketAddr> = found
                .filter(|a| allow_private || if localhost { a.ip().is_loopback() } else { is_public(a.ip()) })
                .collect();
            if kept.is_empty() {
                return Err(format!("{host} {NO_ADDRESS} (private addresses are refused)").into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// A globally routable unicast address: not loopback, private (RFC 1918), CGNAT (100.64.0.0/10),
/// link-local, ULA (fc00::/7), unspecified, multicast, broadcast, documentation, benchmarking or
/// reserved. An IPv4-mapped IPv6 address is judged as its IPv4 address.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

/// [`is_public`] for IPv4.
fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

/// [`is_public`] for IPv6.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || (first & 0xffc0) == 0xfec0
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // NAT64 (64:ff9b::/96) and IPv4-compatible (::/96) addresses reach IPv4 hosts the
        // IPv4 checks cannot see here.
        || (first == 0x0064 && ip.segments()[1] == 0xff9b)
        || ip.segments()[..6].iter().all(|s| *s == 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_count_as_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "140.82.112.3", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[tokio::test]
    async fn localhost_resolves_to_loopback_only() {
        let name: Name = "localhost".parse().unwrap();
        let resolver = PublicResolver { reach: Reach::PublicOrLoopback };
        let found: Vec<SocketAddr> = resolver.resolve(name).await.unwrap().collect();
        assert!(!found.is_empty() && found.iter().all(|a| a.ip().is_loopback()), "{found:?}");
        let refused = PublicResolver { reach: Reach::Public }.resolve("localhost".parse().unwrap()).await;
        assert!(refused.is_err(), "a webhook's client does not reach localhost");
    }

    #[test]
    fn ip_literals_are_checked_before_the_request() {
        let check = |url: &str, reach| check_url(&Url::parse(url).unwrap(), reach).is_ok();
        let providers = Reach::PublicOrLoopback;
        assert!(check("http://127.0.0.1:4000/token", providers));
        assert!(check("http://[::1]:4000/token", providers));
        assert!(check("https://8.8.8.8/", providers));
        assert!(!check("https://10.0.0.1/token", providers));
        assert!(!check("https://169.254.169.254/latest", providers));
        assert!(!check("http://example.com/token", providers));
        assert!(check("https://10.0.0.1/token", Reach::Any));
        assert!(check("http://10.0.0.1/token", Reach::Any));
        assert!(check("https://example.com/token", providers));
    }

    #[test]
    fn webhooks_reach_public_https_only() {
        let check = |url: &str| check_url(&Url::parse(url).unwrap(), Reach::Public).is_ok();
        assert!(check("https://hooks.example.com/latchkey"));
        assert!(check("https://8.8.8.8/hook"));
        for refused in [
            "http://hooks.example.com/latchkey",
            "https://127.0.0.1/hook",
            "http://127.0.0.1:9000/hook",
            "https://[::1]/hook",
            "https://10.0.0.1/hook",
            "https://169.254.169.254/latest/meta-data",
            "https://[fe80::1]/hook",
            "https://100.64.0.1/hook",
            "ftp://hooks.example.com/",
        ] {
            assert!(!check(refused), "{refused}");
        }
    }
}

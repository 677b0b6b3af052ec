//! The one layer of our own every request passes, written as a plain tower service so that the
//! hot path pays for one layer and one allocated future (measured: `axum::middleware::from_fn`,
//! tower-http's two request-id layers and its trace layer cost `GET /api/auth/me/` about a fifth of
//! its throughput; `bench/load.sh`). For each request it:
//!
//! - gives it an `X-Request-Id` (the client's or a proxy's own, else 16 hex characters), echoed in
//!   the answer;
//! - runs it in a `request` span (DEBUG, with the method, the matched route's template and the id;
//!   never the path or the query, which the client writes), and logs its answer at DEBUG;
//! - answers it within the request bounds ([`request_bounds::within_bounds`]: the request timeout, an
//!   unread body drained);
//! - counts it in the metrics, by route template (axum's `MatchedPath`, `other` when no route
//!   matched), method and status (`crate::infra::metrics`);
//! - sets the security headers, and on `/api/` marks the answer uncacheable. API answers carry
//!   tokens, codes and personal data, and differ per caller: no cache, the browser's or a proxy's,
//!   may keep them (`Pragma` for HTTP/1.0 caches). The demo's static files stay cacheable.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::{MatchedPath, Request};
use axum::http::{header, HeaderName, HeaderValue};
use axum::response::Response;
use tracing::Instrument;

use crate::http::request_bounds;
use crate::infra::metrics::route_series::RouteSeries;
use crate::infra::metrics::{MethodLabel, Metrics};

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The demo page may run its own scripts and WebAssembly, and nothing else.
const PAGE_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// An API answer is data: opened as a document, it may load and run nothing, nor be framed. (Also
/// 160 bytes shorter on every answer, which loopback load measures.)
const API_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// The layer, as `Router::layer` takes it.
#[derive(Debug, Clone)]
pub(crate) struct EveryRequestLayer {
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) request_timeout: Duration,
}

impl<S> tower::Layer<S> for EveryRequestLayer {
    type Service = EveryRequest<S>;

    /// Called once for each route (and the fallbacks): each gets the series of its own requests.
    fn layer(&self, inner: S) -> EveryRequest<S> {
        let route = Arc::new(RouteSeries::new(self.metrics.clone()));
        EveryRequest { inner, route, request_timeout: self.request_timeout }
    }
}

/// The service the layer wraps each route in.
#[derive(Debug, Clone)]
pub(crate) struct EveryRequest<S> {
    inner: S,
    route: Arc<RouteSeries>,
    request_timeout: Duration,
}

impl<S> tower::Service<Request> for EveryRequest<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // The inner service is made ready by `within_bounds` (a `oneshot`) on the clone it takes.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let started = std::time::Instant::now();
        let path = request.uri().path();
        let api = path.starts_with("/api/") || path == "/api";
        let id = match request.headers().get(&REQUEST_ID).filter(|id| acceptable_id(id)) {
            Some(id) => Some(id.clone()),
            None => {
                let id = new_request_id();
                match &id {
                    Some(id) => request.headers_mut().insert(REQUEST_ID.clone(), id.clone()),
                    None => request.headers_mut().remove(&REQUEST_ID),
                };
                id
            }
        };
        // The template, not the path: a bounded label. Almost always this layer's own route, counted
        // without a lookup; another one is carried along (a reference count).
        let matched = request.extensions().get::<MatchedPath>();
        let template = matched.map_or(crate::infra::metrics::UNMATCHED, MatchedPath::as_str);
        let elsewhere = (!self.route.owns(matched.map(MatchedPath::as_str))).then(|| matched.cloned());
        let method = MethodLabel::of(request.method().as_str());
        let span = tracing::debug_span!(
            "request",
            method = %request.method(),
            route = template,
            id = ?id
        );
        let deadline = tokio::time::Instant::from_std(started) + self.request_timeout;
        let inner = self.inner.clone();
        let series = self.route.clone();
        Box::pin(
            async move {
                let mut response = request_bounds::within_bounds(deadline, request, inner).await;
                let status = response.status();
                match &elsewhere {
                    None => series.observe(method, status.as_u16(), started.elapsed()),
                    Some(route) => {
                        let route = route.as_ref().map(MatchedPath::as_str);
                        series.observe_elsewhere(route, method, status.as_u16(), started.elapsed());
                    }
                }
                // At `debug` only: an internal error logs its cause where it happens
                // (`http::error`), and a flood shed with 503s must not become a flood of log lines.
                tracing::debug!(status = status.as_u16(), micros = started.elapsed().as_micros(), "answered");
                secure(response.headers_mut(), api);
                if let Some(id) = id {
                    response.headers_mut().insert(REQUEST_ID.clone(), id);
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}

/// The security headers of every answer; on `/api/`, no caching either.
fn secure(headers: &mut axum::http::HeaderMap, api: bool) {
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // A handler may ask for a stricter one (the social callback's redirect: `no-referrer`).
    headers.entry(header::REFERRER_POLICY).or_insert(HeaderValue::from_static("same-origin"));
    let policy = if api { API_POLICY } else { PAGE_POLICY };
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(policy));
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
}

/// Whether a request id the client (or a proxy) sent is kept: at most 64 characters of letters,
/// digits and `-_.:` (a UUID, a trace id). Anything else is replaced, so that what the client
/// writes there reaches the logs only short and plain.
fn acceptable_id(id: &HeaderValue) -> bool {
    id.len() <= 64 && !id.is_empty() && id.as_bytes().iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
}

/// A request id: 16 hex characters, a random prefix per process and a counter. An id correlates
/// log lines and guards nothing; a system call per request for randomness was measurable on the
/// hot path, and the prefix keeps the ids of several nodes apart.
fn new_request_id() -> Option<HeaderValue> {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::OnceLock;
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let prefix = *PREFIX.get_or_init(|| {
        use rand_core::RngCore;
        rand_core::OsRng.next_u32()
    });
    let id = (u64::from(prefix) << 32) | u64::from(COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut text = [0u8; 16];
    for (i, byte) in text.iter_mut().enumerate() {
        *byte = b"0123456789abcdef"[((id >> (60 - 4 * i)) & 0xf) as usize];
    }
    HeaderValue::from_bytes(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_16_hex_characters_and_differ() {
        let (a, b) = (new_request_id().unwrap(), new_request_id().unwrap());
        for id in [&a, &b] {
            assert_eq!(id.len(), 16);
            assert!(id.as_bytes().iter().all(u8::is_ascii_hexdigit), "{id:?}");
        }
        assert_ne!(a, b);
        assert_eq!(a.as_bytes()[..8], b.as_bytes()[..8], "one prefix per process");
    }

    #[test]
    fn only_short_plain_request_ids_are_kept() {
        for kept in ["abc-123", "0af7651916cd43dd8448eb211c80319c", "4bf92f35-77b3-4da6-a3ce-929d0e0e4736", "a.b:c_d"] {
            assert!(acceptable_id(&HeaderValue::from_static(kept)), "{kept}");
        }
        let long = "a".repeat(65);
        for replaced in ["", "a b", "x\"y", "<script>", "%0d%0a", long.as_str()] {
            assert!(!acceptable_id(&HeaderValue::from_str(replaced).unwrap()), "{replaced}");
        }
    }
}

//! The router: every resource's routes, the layers every request passes, and the demo's files.

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::http::demo::Demo;
use crate::http::{openapi, routes, transport};
use crate::infra::error::ApiError;
use crate::infra::metrics;
use crate::infra::state::AppState;

/// Request bodies above this are refused with 413 (docs/api.md#conventions).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The demo page may run its own scripts and WebAssembly, and nothing else.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

static REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The application's routes, without a socket.
pub fn app(state: AppState) -> Router {
    let demo = Demo::of(&state.config);
    let cors = cors(&state.config.cors_origins);
    let every = EveryRequest { metrics: state.metrics.clone(), request_timeout: state.config.request_timeout };
    let (api, _) = routes::api().split_for_parts();
    let mut router = api
        .route("/api/schema/", axum::routing::get(openapi::document::get_schema))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(move |request: Request| demo.clone().answer(request))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    // Without allowed origins there is nothing to answer a cross-origin request with: no layer,
    // rather than one that clones its lists for every request to allow nothing.
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    router
        .layer(axum::middleware::from_fn_with_state(every, every_request))
        // Method, path and status only: headers and bodies, which carry tokens and passwords, are not logged.
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::new(REQUEST_ID.clone()))
        .layer(SetRequestIdLayer::new(REQUEST_ID.clone(), RequestIds))
        .with_state(state)
}

/// What [`every_request`] needs.
#[derive(Debug, Clone)]
struct EveryRequest {
    metrics: std::sync::Arc<metrics::Metrics>,
    request_timeout: std::time::Duration,
}

/// The one middleware of our own every request passes (one layer, so the hot path pays for one):
/// it is answered within the request bounds (`transport::within_bounds`: the request timeout, an
/// unread body drained), counted in the metrics, and, on `/api/`, marked uncacheable. API answers
/// carry tokens, codes and personal data, and differ per caller: no cache, the browser's or a
/// proxy's, may keep them (`Pragma` for HTTP/1.0 caches). The demo's static files stay cacheable.
async fn every_request(State(every): State<EveryRequest>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let family = metrics::Family::of(path);
    let api = family.is_api() || path == "/api";
    let started = std::time::Instant::now();
    let mut response = transport::within_bounds(every.request_timeout, request, next).await;
    every.metrics.observe(family, response.status().as_u16(), started);
    // The security headers of every answer, here rather than in four layers of their own.
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    response
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::MethodNotAllowed(method.to_string())
}

/// CORS for the configured origins only; none configured means no cross-origin access.
fn cors(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .map(|o| o.trim())
        .filter(|o| !o.is_empty())
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    if origins.is_empty() {
        return None;
    }
    let layer = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, HeaderName::from_static("x-api-key")])
        // A cross-origin front-end reads when to try again after a 429.
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit-limit"),
            HeaderName::from_static("ratelimit-remaining"),
            HeaderName::from_static("ratelimit-reset"),
        ])
        .allow_credentials(true);
    Some(layer)
}

/// A request id for every request that does not bring one: 16 hex characters, a random prefix per
/// process and a counter.
#[derive(Debug, Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        use std::sync::atomic::{AtomicU32, Ordering};
        use std::sync::OnceLock;
        // A random prefix per process, so that ids of several nodes do not collide, then a counter:
        // an id correlates log lines and guards nothing, and a system call per request for
        // randomness was measurable on the hot path.
        static PREFIX: OnceLock<u32> = OnceLock::new();
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            use rand_core::RngCore;
            rand_core::OsRng.next_u32()
        });
        let id = format!("{prefix:08x}{:08x}", COUNTER.fetch_add(1, Ordering::Relaxed));
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

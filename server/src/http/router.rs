//! The router: every resource's routes, the layers every request passes, and the demo's files.

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::http::demo::Demo;
use crate::http::every_request::EveryRequestLayer;
use crate::http::{openapi, routes};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

/// Request bodies above this are refused with 413 (docs/api.md#conventions).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The application's routes, without a socket.
pub fn app(state: AppState) -> Router {
    let demo = Demo::of(&state.config);
    let cors = cors(&state.config.cors_origins);
    let every = EveryRequestLayer { metrics: state.metrics.clone(), request_timeout: state.config.request_timeout };
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
    // Request id, trace span, request bounds, metrics and security headers: one layer.
    router.layer(every).with_state(state)
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

//! Operations endpoints: liveness, readiness, metrics, and the public signing keys (JWKS).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::openapi::schemas::{Jwks, Status};
use crate::infra::error::ApiError;
use crate::infra::state::AppState;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(get_metrics))
        .routes(routes!(get_jwks))
}

/// The process is up.
#[utoipa::path(
    get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "The process is up.", body = Status))
)]
async fn healthz() -> Json<Status> {
    Json(Status { status: "ok".into() })
}

/// The database answers.
#[utoipa::path(
    get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "The database answers.", body = Status),
        (status = 503, description = "`{\"status\": \"database unavailable\"}`", body = Status),
    )
)]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    if state.db.ping().await {
        (StatusCode::OK, Json(Status { status: "ok".into() }))
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, Json(Status { status: "database unavailable".into() }))
    }
}

/// The public keys that verify tokens, as a JSON Web Key Set (RFC 7517): the current signing key
/// first, then the previous keys of a rotation (`LATCHKEY_JWT_PREVIOUS_KEY_FILES`), each with its
/// RFC 7638 thumbprint as `kid`, the `kid` tokens carry. Only asymmetric algorithms publish keys:
/// with HS256 the key is the server's secret, so there is nothing to serve.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "ops",
    responses(
        (status = 200, description = "`{\"keys\": [jwk, ...]}` for EdDSA, RS256 and ES256, the current key first.",
            body = Jwks),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn get_jwks(State(state): State<AppState>) -> Result<Json<Jwks>, ApiError> {
    let keys: Vec<serde_json::Value> = state.keys.jwks().into_iter().cloned().collect();
    if keys.is_empty() {
        return Err(ApiError::NotFound);
    }
    Ok(Json(Jwks { keys }))
}

/// `GET /metrics`: the families of the README's "Metrics" table.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "The Prometheus text exposition (format 0.0.4).", body = String,
            content_type = "text/plain; version=0.0.4"),
    )
)]
pub(crate) async fn get_metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    let text = state.metrics.render(&state.db, &state.hasher, state.breached.failures());
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

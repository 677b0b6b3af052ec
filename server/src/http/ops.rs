//! Operations endpoints: liveness, readiness, and the public signing key (JWKS).

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

/// The public key that verifies access tokens, as a JSON Web Key Set (RFC 7517). Only asymmetric
/// algorithms publish one: with HS256 the key is the server's secret, so there is nothing to serve.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "ops",
    responses(
        (status = 200, description = "`{\"keys\": [jwk]}` for EdDSA, RS256 and ES256.", body = Jwks),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn get_jwks(State(state): State<AppState>) -> Result<Json<Jwks>, ApiError> {
    let jwk = state.keys.jwk().ok_or(ApiError::NotFound)?;
    Ok(Json(Jwks { keys: vec![jwk.clone()] }))
}

/// `GET /metrics`.
#[utoipa::path(
    get, path = "/metrics", tag = "ops",
    responses(
        (status = 200, description = "The Prometheus text exposition (format 0.0.4).", body = String,
            content_type = "text/plain; version=0.0.4"),
    )
)]
pub(crate) async fn get_metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], state.metrics.render(&state.db.auth_cache))
}

//! Security webhooks for staff (docs/api.md#security-webhooks): register endpoints, change, delete
//! and test them, and read each one's delivery log. Registering one, or pointing it elsewhere, sends
//! security events out of the server: a session that proved the user recently is required, as for
//! an API key. Every change is an `admin.action` itself.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::flows::webhooks::{self, Change, Staff};
use crate::http::authz::RequireStaff;
use crate::http::drf::{Form, FormBody, JsonBody};
use crate::http::openapi::webhook_schemas::{
    DeliveryPage, NewWebhookEndpoint, NewWebhookRequest, WebhookEndpoint, WebhookUpdateRequest,
};
use crate::infra::client::Client;
use crate::infra::error::ApiError;
use crate::infra::state::AppState;
use crate::store::webhook_outbox::Delivery;

/// Deliveries per page of the log.
const PAGE_SIZE: i64 = 50;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(test_endpoint))
        .routes(routes!(list_deliveries))
}

fn staff<'a>(auth: &'a RequireStaff, client: &'a Client) -> Staff<'a> {
    Staff { user_id: auth.0.user.id, client, session_id: auth.0.session_id() }
}

/// The endpoint `id` names; an id that is not a number is DRF's 404, as an unknown one.
async fn find(state: &AppState, id: &str) -> Result<webhooks::Endpoint, ApiError> {
    let id: i64 = id.parse().map_err(|_| ApiError::NotFound)?;
    crate::store::webhooks::get(state, id).await?.ok_or(ApiError::NotFound)
}

/// `GET /api/admin/webhooks/`: every endpoint, oldest first.
#[utoipa::path(
    get, path = "/api/admin/webhooks/", tag = "webhooks", security(("bearer" = [])),
    responses(
        (status = 200, description = "The endpoints (never their secrets).", body = [WebhookEndpoint]),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
    )
)]
async fn list_endpoints(
    State(state): State<AppState>,
    _staff: RequireStaff,
) -> Result<Json<Vec<WebhookEndpoint>>, ApiError> {
    let endpoints = crate::store::webhooks::list(&state).await?;
    Ok(Json(endpoints.iter().map(WebhookEndpoint::from).collect()))
}

/// `POST /api/admin/webhooks/`: `{"url","events"}` → 201 with the `secret`, shown this once.
#[utoipa::path(
    post, path = "/api/admin/webhooks/", tag = "webhooks", security(("bearer" = [])),
    request_body = NewWebhookRequest,
    responses(
        (status = 201, description = "The endpoint, and its signing secret (shown once).", body = NewWebhookEndpoint),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
    )
)]
async fn create_endpoint(
    State(state): State<AppState>,
    auth: RequireStaff,
    client: Client,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<NewWebhookEndpoint>), ApiError> {
    let mut form = Form::new(&body);
    let NewWebhookRequest { url, events } = NewWebhookRequest::read(&mut form);
    if !form.has_error("url") {
        if let Some(problem) = webhooks::check_url(&state, &url).await {
            form.error("url", problem);
        }
    }
    form.finish()?;
    crate::flows::reauth::require_recent(&state, auth.0.session_id()).await?;
    let (endpoint, secret) = webhooks::create(&state, staff(&auth, &client), &url, &events).await?;
    Ok((StatusCode::CREATED, Json(NewWebhookEndpoint { endpoint: WebhookEndpoint::from(&endpoint), secret })))
}

/// `GET /api/admin/webhooks/{id}/`.
#[utoipa::path(
    get, path = "/api/admin/webhooks/{id}/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The endpoint's id.")),
    responses(
        (status = 200, description = "The endpoint.", body = WebhookEndpoint),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn get_endpoint(
    State(state): State<AppState>,
    _staff: RequireStaff,
    Path(id): Path<String>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    Ok(Json(WebhookEndpoint::from(&find(&state, &id).await?)))
}

/// `PATCH /api/admin/webhooks/{id}/`: any of `url` (re-authentication required), `events`, `active`.
#[utoipa::path(
    patch, path = "/api/admin/webhooks/{id}/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The endpoint's id.")),
    request_body = WebhookUpdateRequest,
    responses(
        (status = 200, description = "The endpoint as changed.", body = WebhookEndpoint),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::privileged::ReauthenticationRequired),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn update_endpoint(
    State(state): State<AppState>,
    auth: RequireStaff,
    client: Client,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    let endpoint = find(&state, &id).await?;
    let mut form = Form::new(&body);
    let WebhookUpdateRequest { url, events, active } = WebhookUpdateRequest::read(&mut form);
    if let Some(url) = url.as_deref().filter(|_| !form.has_error("url")) {
        if let Some(problem) = webhooks::check_url(&state, url).await {
            form.error("url", problem);
        }
    }
    form.finish()?;
    if url.as_deref().is_some_and(|url| url != endpoint.url) {
        crate::flows::reauth::require_recent(&state, auth.0.session_id()).await?;
    }
    let change = Change { url: url.as_deref(), events: events.as_deref(), active };
    let endpoint = webhooks::update(&state, staff(&auth, &client), endpoint.id, &change).await?;
    Ok(Json(WebhookEndpoint::from(&endpoint)))
}

/// `DELETE /api/admin/webhooks/{id}/`: the endpoint and its undelivered messages.
#[utoipa::path(
    delete, path = "/api/admin/webhooks/{id}/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The endpoint's id.")),
    responses(
        (status = 204, description = "Deleted."),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn delete_endpoint(
    State(state): State<AppState>,
    auth: RequireStaff,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let endpoint = find(&state, &id).await?;
    webhooks::delete(&state, staff(&auth, &client), endpoint.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/admin/webhooks/{id}/test/`: queues a `webhook.test` message for this endpoint (even
/// while it is off) → 202 with its delivery, which the log follows.
#[utoipa::path(
    post, path = "/api/admin/webhooks/{id}/test/", tag = "webhooks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "The endpoint's id.")),
    responses(
        (status = 202, description = "Queued; sent at once.", body = Delivery),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn test_endpoint(
    State(state): State<AppState>,
    auth: RequireStaff,
    client: Client,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Delivery>), ApiError> {
    let endpoint = find(&state, &id).await?;
    let delivery = webhooks::send_test(&state, staff(&auth, &client), endpoint.id).await?;
    Ok((StatusCode::ACCEPTED, Json(delivery)))
}

/// `GET /api/admin/webhooks/{id}/deliveries/?before=`: the endpoint's deliveries, newest first, 50
/// a page.
#[utoipa::path(
    get, path = "/api/admin/webhooks/{id}/deliveries/", tag = "webhooks", security(("bearer" = [])),
    params(
        ("id" = i64, Path, description = "The endpoint's id."),
        ("before" = Option<i64>, Query, description = "Only deliveries with a smaller id (the `next` link's cursor)."),
    ),
    responses(
        (status = 200, description = "A page of deliveries.", body = DeliveryPage),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
        (status = 404, response = crate::http::openapi::errors::NotFound),
    )
)]
async fn list_deliveries(
    State(state): State<AppState>,
    _staff: RequireStaff,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<DeliveryPage>, ApiError> {
    let endpoint = find(&state, &id).await?;
    let before = match query.get("before") {
        None => None,
        Some(text) => {
            Some(text.trim().parse::<i64>().map_err(|_| ApiError::field("before", "A valid integer is required."))?)
        }
    };
    let mut results = crate::store::webhook_outbox::deliveries(&state, endpoint.id, before, PAGE_SIZE + 1).await?;
    let more = results.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    results.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let next = match (more, results.last()) {
        (true, Some(last)) => Some(format!("/api/admin/webhooks/{}/deliveries/?before={}", endpoint.id, last.id)),
        _ => None,
    };
    Ok(Json(DeliveryPage { results, next }))
}

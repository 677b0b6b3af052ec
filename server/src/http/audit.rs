//! The audit log: security events in the `audit_events` table, each also written as a structured
//! log line (target `latchkey::audit`, JSON with `LATCHKEY_LOG_FORMAT=json`). Users read their own at
//! `GET /api/auth/audit/`, staff everyone's at `GET /api/admin/audit/`; events older than
//! `LATCHKEY_AUDIT_RETENTION` are deleted by [`sweep`], which `latchkey serve` runs hourly.
//!
//! An event's `detail` says what happened (the method, the purpose, a reason), never with what: no
//! password, token, code or secret is ever passed here.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::Json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::AuthUser;
use crate::http::openapi::lifecycle_schemas::AuditPage;
use crate::infra::error::{ApiError, FieldErrors};
use crate::infra::state::AppState;

/// Events per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(own_events)).routes(routes!(all_events))
}

/// `GET /api/auth/audit/?limit=&before=`: the caller's own events, newest first.
#[utoipa::path(
    get, path = "/api/auth/audit/", tag = "audit", security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, description = "Events per page, 1-200 (50)."),
        ("before" = Option<i64>, Query, description = "Only events with a smaller id: the `next` page's cursor."),
    ),
    responses(
        (status = 200, description = "A page of events, newest first.", body = AuditPage),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn own_events(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<AuditPage>, ApiError> {
    let mut filter = Filter::read(&query, &[])?;
    filter.user_id = Some(auth.user.id);
    page(&state, "/api/auth/audit/", &filter, false).await
}

/// `GET /api/admin/audit/`: everyone's events for staff, newest first, filtered by `user` (or its
/// alias `user_id`), `event`, `ip`, `since` and `until` (Unix seconds).
#[utoipa::path(
    get, path = "/api/admin/audit/", tag = "audit", security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, description = "Events per page, 1-200 (50)."),
        ("before" = Option<i64>, Query, description = "Only events with a smaller id: the `next` page's cursor."),
        ("user" = Option<i64>, Query, description = "Only this user's events."),
        ("user_id" = Option<i64>, Query, description = "The same as `user`, under its older name."),
        ("event" = Option<String>, Query, description = "Only this event, e.g. `login_failed`."),
        ("ip" = Option<String>, Query, description = "Only events from this address."),
        ("since" = Option<i64>, Query, description = "Only events at or after this time (Unix seconds)."),
        ("until" = Option<i64>, Query, description = "Only events before this time (Unix seconds)."),
    ),
    responses(
        (status = 200, description = "A page of events, newest first.", body = AuditPage),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
    )
)]
async fn all_events(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<AuditPage>, ApiError> {
    if !auth.user.is_staff {
        return Err(ApiError::PermissionDenied);
    }
    let filter = Filter::read(&query, &["user", "user_id", "event", "ip", "since", "until"])?;
    page(&state, "/api/admin/audit/", &filter, true).await
}

/// What a page of events is narrowed to.
#[derive(Debug, Default)]
struct Filter {
    limit: i64,
    before: Option<i64>,
    user_id: Option<i64>,
    event: Option<String>,
    ip: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    /// The query string's filters, for the `next` link.
    carried: Vec<(String, String)>,
}

impl Filter {
    /// Reads `limit`, `before` and the `allowed` filters; anything else is a 400, as is a bad number.
    fn read(query: &HashMap<String, String>, allowed: &[&str]) -> Result<Self, ApiError> {
        let mut errors = FieldErrors::new();
        let mut number = |name: &str| -> Option<i64> {
            let text = query.get(name)?;
            let parsed = text.trim().parse::<i64>().ok();
            if parsed.is_none() {
                errors.insert(name.to_owned(), vec!["A valid integer is required.".into()]);
            }
            parsed
        };
        let mut filter = Self {
            limit: number("limit").unwrap_or(DEFAULT_LIMIT),
            before: number("before"),
            user_id: user_filter(&mut number),
            since: number("since"),
            until: number("until"),
            event: query.get("event").cloned(),
            ip: query.get("ip").cloned(),
            carried: Vec::new(),
        };
        if !(1..=MAX_LIMIT).contains(&filter.limit) {
            errors.insert("limit".into(), vec![format!("Ensure this value is between 1 and {MAX_LIMIT}.")]);
        }
        for name in query.keys().filter(|k| !["limit", "before"].contains(&k.as_str())) {
            if allowed.contains(&name.as_str()) {
                filter.carried.push((name.clone(), query[name].clone()));
            } else {
                errors.insert(name.clone(), vec!["Unknown filter.".into()]);
            }
        }
        filter.carried.sort();
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        Ok(filter)
    }
}

/// The user filter: `user`, the contract's name, or `user_id`, the name it had first. Both are read
/// (so a bad number in either is reported); `user` wins when both are given.
fn user_filter(number: &mut impl FnMut(&str) -> Option<i64>) -> Option<i64> {
    let user = number("user");
    let user_id = number("user_id");
    user.or(user_id)
}

/// One page: `{"results": [...], "next": "<path>?...&before=<id>" or null}`.
async fn page(state: &AppState, path: &str, filter: &Filter, with_user: bool) -> Result<Json<AuditPage>, ApiError> {
    let query = crate::store::audit::EventQuery {
        before: filter.before,
        user_id: filter.user_id,
        event: filter.event.as_deref(),
        ip: filter.ip.as_deref(),
        since: filter.since,
        until: filter.until,
        limit: filter.limit + 1,
    };
    let rows = crate::store::audit::events(state, &query).await?;
    let more = rows.len() > usize::try_from(filter.limit).unwrap_or(0);
    let mut results = Vec::new();
    let mut last_id = None;
    for mut event in rows.into_iter().take(usize::try_from(filter.limit).unwrap_or(0)) {
        last_id = Some(event.id);
        if !with_user {
            event.user_id = None;
        }
        results.push(event);
    }
    let next = match (more, last_id) {
        (true, Some(id)) => {
            let mut query: Vec<String> = filter.carried.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
            query.push(format!("limit={}", filter.limit));
            query.push(format!("before={id}"));
            Some(format!("{path}?{}", query.join("&")))
        }
        _ => None,
    };
    Ok(Json(AuditPage { results, next }))
}

/// Percent-encodes a query value (everything but unreserved characters).
pub(crate) fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

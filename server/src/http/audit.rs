//! The audit log: security events in the `audit_events` table, each also written as a structured
//! log line (target `latchkey::audit`, JSON with `LATCHKEY_LOG_FORMAT=json`). Users read their own at
//! `GET /api/auth/audit/`, staff everyone's at `GET /api/admin/audit/`; events older than
//! `LATCHKEY_AUDIT_RETENTION` are deleted by [`sweep`], which `latchkey serve` runs hourly.
//!
//! An event's `detail` says what happened (the method, the purpose, a reason), never with what: no
//! password, token, code or secret is ever passed here.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sqlx::Row;

use crate::http::auth::AuthUser;
use crate::infra::error::{ApiError, FieldErrors};
use crate::infra::state::AppState;
use crate::store::users::iso8601;

/// Events per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/auth/audit/", get(own_events)).route("/api/admin/audit/", get(all_events))
}

/// `GET /api/auth/audit/?limit=&before=`: the caller's own events, newest first.
#[utoipa::path(
    get, path = "/api/auth/audit/", tag = "audit", security(("bearer" = [])),
    params(
        ("limit" = Option<i64>, Query, description = "Events per page, 1-200 (50)."),
        ("before" = Option<i64>, Query, description = "Only events with a smaller id: the `next` page's cursor."),
    ),
    responses(
        (status = 200, description = "A page of events, newest first.", body = crate::http::openapi::lifecycle_schemas::AuditPage),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
    )
)]
async fn own_events(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
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
        (status = 200, description = "A page of events, newest first.", body = crate::http::openapi::lifecycle_schemas::AuditPage),
        (status = 400, response = crate::http::openapi::errors::BadRequest),
        (status = 401, response = crate::http::openapi::errors::Unauthenticated),
        (status = 403, response = crate::http::openapi::errors::Forbidden),
    )
)]
async fn all_events(
    State(state): State<AppState>,
    auth: AuthUser,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
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
async fn page(state: &AppState, path: &str, filter: &Filter, with_user: bool) -> Result<Json<Value>, ApiError> {
    // Unset filters compare with values that match everything, so one statement serves every query.
    let sql = "SELECT id, created_at, event, user_id, ip, user_agent, session_id, detail FROM audit_events \
               WHERE id < $1 AND ($2 = 0 OR user_id = $3) AND ($4 = '' OR event = $5) AND ($6 = '' OR ip = $7) \
               AND created_at >= $8 AND created_at < $9 ORDER BY id DESC LIMIT $10";
    let rows = sqlx::query(sql)
        .bind(filter.before.unwrap_or(i64::MAX))
        .bind(i64::from(filter.user_id.is_some()))
        .bind(filter.user_id.unwrap_or(0))
        .bind(filter.event.clone().unwrap_or_default())
        .bind(filter.event.clone().unwrap_or_default())
        .bind(filter.ip.clone().unwrap_or_default())
        .bind(filter.ip.clone().unwrap_or_default())
        .bind(filter.since.unwrap_or(i64::MIN))
        .bind(filter.until.unwrap_or(i64::MAX))
        .bind(filter.limit + 1)
        .fetch_all(&state.db.pool)
        .await?;
    let more = rows.len() > usize::try_from(filter.limit).unwrap_or(0);
    let mut results = Vec::new();
    let mut last_id = None;
    for row in rows.iter().take(usize::try_from(filter.limit).unwrap_or(0)) {
        let id: i64 = row.try_get("id")?;
        last_id = Some(id);
        let detail: String = row.try_get("detail")?;
        let mut event = json!({
            "id": id,
            "created_at": iso8601(row.try_get("created_at")?),
            "event": row.try_get::<String, _>("event")?,
            "ip": row.try_get::<String, _>("ip")?,
            "user_agent": row.try_get::<String, _>("user_agent")?,
            "session_id": row.try_get::<Option<String>, _>("session_id")?,
            "detail": serde_json::from_str::<Value>(&detail).unwrap_or(Value::Null),
        });
        if with_user {
            event["user_id"] = json!(row.try_get::<Option<i64>, _>("user_id")?);
        }
        results.push(event);
    }
    let next = match (more, last_id) {
        (true, Some(id)) => {
            let mut query: Vec<String> = filter.carried.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect();
            query.push(format!("limit={}", filter.limit));
            query.push(format!("before={id}"));
            json!(format!("{path}?{}", query.join("&")))
        }
        _ => Value::Null,
    };
    Ok(Json(json!({ "results": results, "next": next })))
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

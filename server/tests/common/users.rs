//! Users: made directly in the database (as the CLI or an import would), or registered through
//! the API; their flags; and a user with an access token, ready to call the API.

use axum::http::StatusCode;
use latchkey_server::AppState;
use serde_json::Value;

use super::{call, login, PASSWORD};

/// Inserts an active user with `password` hashed by the state's hasher; returns its id.
pub async fn create_user(state: &AppState, email: &str, password: &str) -> i64 {
    let hash = state.hasher.hash(password.into(), &Default::default()).await.unwrap();
    let row: (i64,) =
        sqlx::query_as("INSERT INTO users (email, password, date_joined) VALUES ($1, $2, $3) RETURNING id")
            .bind(email)
            .bind(hash)
            .bind(latchkey_server::now())
            .fetch_one(&state.db.pool)
            .await
            .unwrap();
    row.0
}

/// A user with [`PASSWORD`], its address verified when `verified`, logged in: `(id, access token)`.
pub async fn user(state: &AppState, email: &str, verified: bool) -> (i64, String) {
    let id = create_user(state, email, PASSWORD).await;
    if verified {
        mark_verified(state, id).await;
    }
    (id, login(state, email, PASSWORD).await)
}

/// The access token of a new user with [`PASSWORD`].
pub async fn signed_in(state: &AppState, email: &str) -> String {
    user(state, email, false).await.1
}

/// Makes `user_id` staff.
pub async fn make_staff(state: &AppState, user_id: i64) {
    latchkey_server::users::set_flag(&state.db, user_id, "is_staff", true).await.unwrap();
}

/// Marks `user_id`'s address verified, as following the e-mailed link would.
pub async fn mark_verified(state: &AppState, user_id: i64) {
    latchkey_server::users::set_flag(&state.db, user_id, "is_verified", true).await.unwrap();
}

/// `POST /api/auth/register/` with `body`, which must succeed (201): the answer, with `user` and,
/// unless verification is mandatory, `tokens`.
pub async fn register(state: &AppState, body: Value) -> Value {
    let (status, body) = call(state, "POST", "/api/auth/register/", Some(body), None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The id of the user with this (normalized) e-mail address.
pub async fn user_id_of(state: &AppState, email: &str) -> i64 {
    let row: (i64,) =
        sqlx::query_as("SELECT id FROM users WHERE email = $1").bind(email).fetch_one(&state.db.pool).await.unwrap();
    row.0
}

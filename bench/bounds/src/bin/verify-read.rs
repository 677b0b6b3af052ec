//! `verify-read`: `verify-only` plus one SQLite read of the user row per request, the bound of a
//! server that reads its database on every authenticated request (see the crate docs). The
//! database is a fresh file in the temporary directory (WAL, `synchronous = NORMAL` and a pool of 8
//! connections, as Latchkey's SQLite), with a small `users` table it fills at start.
//!
//!     LATCHKEY_SECRET_KEY=… LATCHKEY_BIND=127.0.0.1:18101 verify-read
//!     verify-read --mint            # a valid access token for user 1

use std::str::FromStr;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use latchkey_bench_bounds::{main_with, unauthorized, user_json, Verifier};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

/// Rows in the table: user 1 is the bench's, the others make the index do some work.
const USERS: i64 = 1000;

#[derive(Debug, Clone)]
struct App {
    verifier: Verifier,
    db: SqlitePool,
}

/// A fresh database in the temporary directory (any earlier one of this process id removed).
async fn open() -> Result<SqlitePool, Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("latchkey-verify-read-{}.db", std::process::id()));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let db = SqlitePoolOptions::new().max_connections(8).connect_with(options).await?;
    sqlx::query(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT, \
         first_name TEXT NOT NULL, last_name TEXT NOT NULL, is_active INTEGER NOT NULL, \
         is_staff INTEGER NOT NULL, date_joined TEXT NOT NULL, last_login TEXT)",
    )
    .execute(&db)
    .await?;
    let mut tx = db.begin().await?;
    for id in 1..=USERS {
        sqlx::query("INSERT INTO users VALUES (?, ?, NULL, '', '', 1, 0, ?, ?)")
            .bind(id)
            .bind(if id == 1 { "bench@example.com".to_owned() } else { format!("user{id}@example.com") })
            .bind("2024-01-01T00:00:00.000000Z")
            .bind("2024-01-01T00:00:00.000000Z")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(db)
}

async fn me(State(app): State<App>, headers: HeaderMap) -> Response {
    let Some(id) = app.verifier.user_id(&headers) else { return unauthorized() };
    let row = sqlx::query(
        "SELECT id, email, username, first_name, last_name, is_active, is_staff, date_joined, last_login \
         FROM users WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&app.db)
    .await;
    let row = match row {
        Ok(Some(row)) => row,
        // A user who no longer exists, or is inactive, is refused as Latchkey refuses them.
        Ok(None) => return unauthorized(),
        Err(e) => return (axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    if !row.get::<bool, _>("is_active") {
        return unauthorized();
    }
    // The same object as verify-only's, with the fields the row holds filled in from it.
    let mut user = user_json(row.get("id"));
    user["email"] = row.get::<String, _>("email").into();
    user["username"] = row.get::<Option<String>, _>("username").into();
    user["first_name"] = row.get::<String, _>("first_name").into();
    user["last_name"] = row.get::<String, _>("last_name").into();
    user["is_staff"] = row.get::<bool, _>("is_staff").into();
    user["date_joined"] = row.get::<String, _>("date_joined").into();
    user["last_login"] = row.get::<Option<String>, _>("last_login").into();
    Json(user).into_response()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    main_with(|verifier| {
        Box::pin(async move {
            Ok(Router::new().route("/api/auth/me/", get(me)).with_state(App { verifier, db: open().await? }))
        })
    })
}

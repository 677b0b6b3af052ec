//! A login flood against a small hashing gate (one worker, one waiting): the gate admits what it
//! can, refuses the rest at once with 503 and `Retry-After`, never leaves a request hanging, and
//! argon2 stays off the async executor, so other requests keep being served. On both databases.
//!
//! This checks behaviour, not speed: the time limits are generous for a loaded 2-core machine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use axum::http::{header, StatusCode};
use common::{request, send, send_text, PASSWORD};
use latchkey_core::hash::HashParams;
use latchkey_server::passwords::Hasher;
use latchkey_server::tokens::{issue_session, AuthMethod};
use latchkey_server::users::User;
use latchkey_server::{now, AppState};
use serde_json::json;
use tokio::task::JoinHandle;

const LOGINS: usize = 16;

/// Slow enough that one hash (about 1.6 s on a laptop core) outlasts [`PROMPT`]: were argon2 run
/// on the async executor, a read waiting behind it would fail the test.
const SLOW: HashParams = HashParams { memory_kib: 32 * 1024, iterations: 64, parallelism: 1 };

/// `PASSWORD` hashed with `SLOW` (salt "flood-test-salt!"), made once with
/// `latchkey_core::hash::hash_password`: the test spends its hashing time on the flood only.
const SLOW_HASH: &str =
    "$argon2id$v=19$m=32768,t=64,p=1$Zmxvb2QtdGVzdC1zYWx0IQ$M6mV6xycHhLzdsPAknwWVECfLBrSiTHHgwqR3zZHhY8";

/// No request may take longer than this, whatever the load: beyond it, it hangs.
const HANG: Duration = Duration::from_secs(60);

/// A read during the flood must be answered within this of when it could have been sent.
const PROMPT: Duration = Duration::from_secs(1);

/// What one login of the flood saw.
#[derive(Debug)]
struct Outcome {
    status: StatusCode,
    retry_after: Option<String>,
    elapsed: Duration,
}

async fn flood_login(state: AppState, n: usize) -> Outcome {
    let body = json!({"email": format!("user{n}@example.com"), "password": PASSWORD});
    let started = Instant::now();
    let sent = tokio::time::timeout(HANG, send(&state, request("POST", "/api/token/", Some(body), None))).await;
    let (status, body, response) = sent.expect("a login of the flood hangs");
    assert!(matches!(status, StatusCode::OK | StatusCode::SERVICE_UNAVAILABLE), "{status} {body}");
    if status == StatusCode::SERVICE_UNAVAILABLE {
        let unavailable = json!({"detail": "Service temporarily unavailable, try again later.", "code": "unavailable"});
        assert_eq!(body, unavailable);
    }
    let retry_after = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    Outcome { status, retry_after, elapsed: started.elapsed() }
}

/// `GET /api/auth/me/` again and again until every task of `flood` is done; returns how many
/// reads there were. Each read, and each pause between reads, must end within [`PROMPT`]: a pause
/// that overruns means the executor was blocked, and a request arriving then would have waited.
async fn read_me_during(state: &AppState, access: &str, flood: &[JoinHandle<Outcome>]) -> usize {
    let mut reads = 0;
    while !flood.iter().all(JoinHandle::is_finished) {
        let started = Instant::now();
        let (status, body, _) = send(state, request("GET", "/api/auth/me/", None, Some(access))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["email"], "alice@example.com");
        let read = started.elapsed();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let round = started.elapsed();
        assert!(round < PROMPT, "GET /api/auth/me/ took {read:?}, with the pause after it {round:?}");
        reads += 1;
    }
    reads
}

on_both!(a_login_flood_is_refused_quickly_and_spares_other_requests, |mut state: AppState| async move {
    state.hasher = Hasher::with_capacity(SLOW, 1, 1).observed(state.metrics.gate());
    // A slow stored hash, since verification follows the parameters a hash was made with; and a
    // session opened directly, so the only hashing is the flood's. One account per login of the
    // flood: what it meets is the gate, not one account's share of it or its lockout.
    for email in
        std::iter::once("alice@example.com".to_owned()).chain((0..LOGINS).map(|n| format!("user{n}@example.com")))
    {
        sqlx::query("INSERT INTO users (email, password, date_joined) VALUES ($1, $2, $3)")
            .bind(email)
            .bind(SLOW_HASH)
            .bind(now())
            .execute(&state.db.pool)
            .await
            .unwrap();
    }
    let alice = User::by_email(&state.db, "alice@example.com").await.unwrap().unwrap();
    let access = issue_session(&state, &alice, "", "", false, AuthMethod::Password, None).await.unwrap().access;
    warm_pool(&state).await;

    let flood: Vec<_> = (0..LOGINS).map(|n| tokio::spawn(flood_login(state.clone(), n))).collect();
    let reads = read_me_during(&state, &access, &flood).await;
    let mut outcomes = Vec::new();
    for task in flood {
        outcomes.push(task.await.unwrap());
    }
    eprintln!("{reads} reads during the flood; {outcomes:?}");
    assert!(reads > 0, "the flood ended before any read: {outcomes:?}");

    let (admitted, refused): (Vec<_>, Vec<_>) = outcomes.iter().partition(|o| o.status == StatusCode::OK);
    assert!(!admitted.is_empty() && !refused.is_empty(), "{outcomes:?}");
    // An admitted login takes at least one hash; a refused one must not wait for any.
    let one_hash = admitted.iter().map(|o| o.elapsed).min().unwrap();
    for outcome in &refused {
        assert_eq!(outcome.retry_after.as_deref(), Some("1"), "{outcome:?}");
        assert!(outcome.elapsed < one_hash / 2, "a 503 took {:?}; a hash takes {one_hash:?}", outcome.elapsed);
    }
    assert_eq!(hash_rejections(&state).await, refused.len(), "every 503 of the flood is counted");
});

/// Opens every connection the pool may hold, as a server's are after its first busy minute, so the
/// flood measures the hashing gate rather than PostgreSQL's connection set-up.
async fn warm_pool(state: &AppState) {
    let pool = &state.db.pool;
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
}

/// `latchkey_hash_rejections_total` from `/metrics`, whatever the reason.
async fn hash_rejections(state: &AppState) -> usize {
    let (status, text, _) = send_text(state, request("GET", "/metrics", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    let counts: Vec<usize> = text
        .lines()
        .filter(|line| line.starts_with("latchkey_hash_rejections_total{"))
        .map(|line| line.rsplit_once(' ').unwrap().1.parse().unwrap())
        .collect();
    assert!(!counts.is_empty(), "no latchkey_hash_rejections_total in {text}");
    counts.iter().sum()
}

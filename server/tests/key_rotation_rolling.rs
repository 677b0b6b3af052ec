//! A rolling signing-key rotation on two `latchkey` processes sharing one PostgreSQL database, as
//! docs/operations.md#rotating-the-signing-key describes it, while clients keep logging in, refreshing
//! and using their tokens on both nodes: no request carrying a still-valid token is refused at any
//! step, and none goes unanswered. Once the old key is dropped, a token it signs is refused.
//!
//! Each node is restarted by starting its replacement first and then moving the node's address over,
//! after the requests in flight to the old process are answered (a load balancer draining a node).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{es256_key, fresh_dir, jwks_kids, kid, latchkey, post_json, spawn, KeyFiles, Server, PASSWORD};
use latchkey_core::token::seconds_left;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::RwLock;

/// Short lifetimes, so that every token the old key signed has expired before it is dropped.
const ACCESS_LIFETIME: &str = "4s";
const REFRESH_LIFETIME: &str = "8s";
/// How long the clients run between two restarts.
const DWELL: Duration = Duration::from_millis(1500);
const A: usize = 0;
const B: usize = 1;

/// One request a client made: at which step, to which node, with a token signed by which key
/// (`kid`, empty for a login), the answer (599: none at all) and its `detail`, and how many seconds
/// the token still had to live when the answer came (`i64::MAX` for a login).
#[derive(Debug, Clone)]
struct Seen {
    step: usize,
    node: usize,
    what: &'static str,
    kid: String,
    status: u16,
    detail: String,
    left: i64,
}

impl Seen {
    /// A refusal that counts: anything but 200, unless the token expired on its way (the server
    /// checked it no later than the answer came; with 4-second tokens a slow answer can outlive one).
    fn refused(&self) -> bool {
        self.status != 200 && !(self.left <= 0 && self.detail == "Token is expired")
    }
}

/// What the clients and the restarts share: each node's address (a request holds its read lock
/// until answered; a restart takes the write lock to move it), the step, and what was seen.
struct Rolling {
    bases: [RwLock<String>; 2],
    step: AtomicUsize,
    stop: AtomicBool,
    seen: Mutex<Vec<Seen>>,
    /// One login at a time: the hashing gate answers 503 to a network holding more than its share
    /// of it (docs/security.md), and every client here is 127.0.0.1.
    logins: tokio::sync::Mutex<()>,
}

fn node(dir: &Path, database_url: &str, current: &KeyFiles, previous: &[&KeyFiles]) -> std::process::Command {
    let previous: Vec<String> = previous.iter().map(|key| key.private.display().to_string()).collect();
    let mut command = latchkey(dir);
    command
        .env("LATCHKEY_DATABASE_URL", database_url)
        .env("LATCHKEY_JWT_ALGORITHM", "ES256")
        .env("LATCHKEY_JWT_PRIVATE_KEY_FILE", &current.private)
        .env("LATCHKEY_JWT_PREVIOUS_KEY_FILES", previous.join(","))
        .env("LATCHKEY_ACCESS_TOKEN_LIFETIME", ACCESS_LIFETIME)
        .env("LATCHKEY_REFRESH_TOKEN_LIFETIME", REFRESH_LIFETIME)
        .env("LATCHKEY_RATE_LIMITS", "off");
    command
}

async fn start(command: std::process::Command) -> Server {
    tokio::task::spawn_blocking(move || spawn(command)).await.unwrap()
}

async fn jwks(base: &str) -> Vec<String> {
    jwks_kids(&reqwest::get(format!("{base}/.well-known/jwks.json")).await.unwrap().json().await.unwrap())
}

/// Logs in, refreshes (every third turn) and calls `GET /api/auth/me/` with any of its recent access
/// tokens that still has more than a second to live, on alternate nodes, until told to stop.
async fn client(shared: Arc<Rolling>, email: &'static str, mut turn: usize) {
    let http = reqwest::Client::new();
    let mut refresh: Option<String> = None;
    let mut kept: VecDeque<String> = VecDeque::new();
    let live = |token: &str| seconds_left(token, latchkey_server::now()).unwrap() > 1;
    while !shared.stop.load(Ordering::Relaxed) {
        turn += 1;
        let node = turn % 2;
        let base = shared.bases[node].read().await;
        let step = shared.step.load(Ordering::Relaxed);
        kept.retain(|token| live(token));
        let (what, token, answer) = match refresh.clone().filter(|token| live(token)) {
            Some(token) if turn.is_multiple_of(3) || kept.is_empty() => {
                let body = json!({"refresh": token});
                ("refresh", token, post_json(&http, format!("{base}/api/token/refresh/"), body, None).await)
            }
            Some(_) if !turn.is_multiple_of(40) => {
                let token = kept[turn % kept.len()].clone();
                let response = http.get(format!("{base}/api/auth/me/")).bearer_auth(&token).send().await;
                let answer = match response {
                    Ok(response) => (response.status(), response.json().await.unwrap_or(Value::Null)),
                    Err(_) => (StatusCode::from_u16(599).unwrap(), Value::Null),
                };
                ("me", token, answer)
            }
            // Now and then, and whenever the session is gone, a new login: a new session.
            _ => {
                let _one = shared.logins.lock().await;
                let body = json!({"email": email, "password": PASSWORD});
                ("login", String::new(), post_json(&http, format!("{base}/api/token/"), body, None).await)
            }
        };
        drop(base);
        let (status, body) = answer;
        let left = if token.is_empty() { i64::MAX } else { seconds_left(&token, latchkey_server::now()).unwrap() };
        let detail = body["detail"].as_str().unwrap_or_default().to_owned();
        if let (Some(access), Some(next)) = (body["access"].as_str(), body["refresh"].as_str()) {
            kept.push_back(access.to_owned());
            if kept.len() > 12 {
                kept.pop_front();
            }
            refresh = Some(next.to_owned());
        } else if what != "me" {
            refresh = None;
        }
        let kid = if token.is_empty() { String::new() } else { kid(&token) };
        shared.seen.lock().unwrap().push(Seen { step, node, what, kid, status: status.as_u16(), detail, left });
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Replaces node `which` by a process started with `command`, whose JWKS must list `kids`: the new
/// process serves before the old one stops, and the old one stops once its requests are answered.
async fn restart(
    shared: &Rolling,
    nodes: &mut [Server; 2],
    which: usize,
    step: usize,
    command: std::process::Command,
    kids: &[&str],
) {
    let fresh = start(command).await;
    assert_eq!(jwks(&fresh.base).await, kids, "step {step}: the JWKS of node {which}");
    let old = {
        let mut base = shared.bases[which].write().await;
        *base = fresh.base.clone();
        shared.step.store(step, Ordering::Relaxed);
        std::mem::replace(&mut nodes[which], fresh)
    };
    tokio::task::spawn_blocking(move || drop(old)).await.unwrap();
    tokio::time::sleep(DWELL).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rolling_rotation_refuses_no_valid_token() {
    let Some(database_url) = common::fresh_postgres_database().await else { return };
    let dir = fresh_dir("rotation-rolling");
    let (k1, k2) = (es256_key(&dir, "k1"), es256_key(&dir, "k2"));
    let run = |current: &KeyFiles, previous: &[&KeyFiles]| node(&dir, &database_url, current, previous);
    let mut nodes = [start(run(&k1, &[])).await, start(run(&k1, &[])).await];
    for (email, on) in [("ada@example.com", A), ("bob@example.com", B)] {
        let body = json!({"email": email, "password": PASSWORD, "password_confirm": PASSWORD});
        let url = format!("{}/api/auth/register/", nodes[on].base);
        let (status, answer) = post_json(&reqwest::Client::new(), url, body, None).await;
        assert_eq!(status, StatusCode::CREATED, "{answer}");
    }
    let shared = Arc::new(Rolling {
        bases: [RwLock::new(nodes[A].base.clone()), RwLock::new(nodes[B].base.clone())],
        step: AtomicUsize::new(0),
        stop: AtomicBool::new(false),
        seen: Mutex::new(Vec::new()),
        logins: tokio::sync::Mutex::new(()),
    });
    let clients: Vec<_> = [("ada@example.com", 0), ("bob@example.com", 1), ("ada@example.com", 2)]
        .into_iter()
        .map(|(email, turn)| tokio::spawn(client(shared.clone(), email, turn)))
        .collect();
    tokio::time::sleep(DWELL).await;

    let (one, two) = (k1.kid.as_str(), k2.kid.as_str());
    // 1-2: K2 announced on B, then on A; K1 still signs everywhere.
    restart(&shared, &mut nodes, B, 1, run(&k1, &[&k2]), &[one, two]).await;
    restart(&shared, &mut nodes, A, 2, run(&k1, &[&k2]), &[one, two]).await;
    // 3-4: K2 signs on B, then on A; K1 kept as previous.
    restart(&shared, &mut nodes, B, 3, run(&k2, &[&k1]), &[two, one]).await;
    restart(&shared, &mut nodes, A, 4, run(&k2, &[&k1]), &[two, one]).await;
    // Every token K1 signed expires within the refresh lifetime of the last switch.
    tokio::time::sleep(Duration::from_secs(9)).await;
    // 5-6: K1 dropped, on B then on A.
    restart(&shared, &mut nodes, B, 5, run(&k2, &[]), &[two]).await;
    restart(&shared, &mut nodes, A, 6, run(&k2, &[]), &[two]).await;
    shared.stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }

    let seen = shared.seen.lock().unwrap().clone();
    let refused: Vec<&Seen> = seen.iter().filter(|s| s.refused()).collect();
    let expired = seen.iter().filter(|s| s.status != 200 && !s.refused()).count();
    assert!(refused.is_empty(), "{} of {} requests refused or unanswered: {refused:?}", refused.len(), seen.len());
    for step in 0..=6 {
        let count = seen.iter().filter(|s| s.step == step).count();
        assert!(count >= 20, "only {count} requests at step {step}");
    }
    // The mixed moment, when each node signs with its own key, was exercised both ways.
    let accepted = |step: usize, node: usize, key: &str, what: &str| {
        seen.iter().any(|s| (s.step, s.node, s.kid.as_str(), s.what) == (step, node, key, what))
    };
    for what in ["me", "refresh"] {
        assert!(accepted(3, A, two, what), "step 3: A (signing with K1) got no K2 token ({what})");
        assert!(accepted(3, B, one, what), "step 3: B (signing with K2) got no K1 token ({what})");
    }
    let counts: Vec<usize> = (0..=6).map(|step| seen.iter().filter(|s| s.step == step).count()).collect();
    eprintln!(
        "{} requests across the rotation ({expired} with a token that expired on its way); per step: {counts:?}",
        seen.len()
    );

    // K1 is gone: a token it signs now (a node still configured with it, on the same database) is refused.
    let stale = start(run(&k1, &[])).await;
    let body = json!({"email": "ada@example.com", "password": PASSWORD});
    let (status, pair) = post_json(&reqwest::Client::new(), format!("{}/api/token/", stale.base), body, None).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let k1_token = pair["access"].as_str().unwrap();
    assert_eq!(kid(k1_token), one);
    for node in &nodes {
        let response = reqwest::Client::new().get(format!("{}/api/auth/me/", node.base)).bearer_auth(k1_token);
        let response = response.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "token_not_valid", "{body}");
    }
}

//! Two `latchkey` processes on one PostgreSQL database, as a multi-node deployment runs: a lockout
//! and a request limit earned partly on each node hold on both, and still hold after a node restarts.
//! Their JSON log lines are read back too: security events are there, secrets are not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery staple";
const WRONG: &str = "wrong horse battery staple";

struct Node {
    child: Child,
    base: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a node on `database_url`, its logs (JSON lines) going to `log`.
fn start(database_url: &str, dir: &Path, log: &Path) -> Node {
    let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .env("LATCHKEY_BIND", "127.0.0.1:0")
        .env("LATCHKEY_DATABASE_URL", database_url)
        .env("LATCHKEY_SECRET_KEY", "multinode-secret-multinode-secret-multinode")
        .env("LATCHKEY_ENCRYPTION_KEY", "multinode-encryption-key")
        .env("LATCHKEY_EMAIL_BACKEND", format!("file:{}", dir.display()))
        .env("LATCHKEY_LOCKOUT_ATTEMPTS", "3")
        .env("LATCHKEY_LOCKOUT_COOLOFF", "10m")
        .env("LATCHKEY_RATE_LIMITS", "register:ip=3/1h")
        .env("LATCHKEY_LOG", "info")
        .env("LATCHKEY_LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start latchkey");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let base = line.trim().strip_prefix("listening on ").unwrap_or_else(|| panic!("unexpected: {line:?}")).to_owned();
    Node { child, base }
}

async fn post(node: &Node, path: &str, body: Value) -> (StatusCode, Value) {
    let response = reqwest::Client::new().post(format!("{}{path}", node.base)).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(node: &Node, email: &str, password: &str) -> (StatusCode, Value) {
    post(node, "/api/token/", json!({"email": email, "password": password})).await
}

#[tokio::test]
async fn limits_hold_across_nodes_and_restarts() {
    let Some(database_url) = common::fresh_postgres_database().await else { return };
    let dir: PathBuf = std::env::temp_dir().join(format!("latchkey-multinode-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("nodes.log");
    let a = start(&database_url, &dir, &log);
    let b = start(&database_url, &dir, &log);

    let register = |email: &str| json!({"email": email, "password": PASSWORD, "password_confirm": PASSWORD});
    let (status, ada) = post(&a, "/api/auth/register/", register("ada@example.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{ada}");
    let access = ada["tokens"]["access"].as_str().unwrap().to_owned();

    // Three failures, spread over both nodes, lock the account on both.
    for node in [&a, &b, &a] {
        assert_eq!(login(node, "ada@example.com", WRONG).await.0, StatusCode::UNAUTHORIZED);
    }
    for node in [&b, &a] {
        let (status, body) = login(node, "ada@example.com", PASSWORD).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::TOO_MANY_REQUESTS, Some("throttled")));
    }
    // The request limit is shared too: two more registrations from this address (one per node),
    // then the fourth of the hour is refused by either.
    assert_eq!(post(&b, "/api/auth/register/", register("bob@example.com")).await.0, StatusCode::CREATED);
    assert_eq!(post(&a, "/api/auth/register/", register("carol@example.com")).await.0, StatusCode::CREATED);
    assert_eq!(post(&b, "/api/auth/register/", register("dan@example.com")).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(post(&a, "/api/auth/register/", register("dan@example.com")).await.0, StatusCode::TOO_MANY_REQUESTS);

    // A restarted node remembers: the state was never in its memory alone.
    drop(a);
    drop(b);
    let a = start(&database_url, &dir, &log);
    assert_eq!(login(&a, "ada@example.com", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(post(&a, "/api/auth/register/", register("dan@example.com")).await.0, StatusCode::TOO_MANY_REQUESTS);
    let (status, bob) = login(&a, "bob@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    drop(a);

    // Every log line is JSON; the security events are there, and no password or token is.
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> =
        text.lines().map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))).collect();
    let events: Vec<&str> = lines.iter().filter_map(|l| l["fields"]["event"].as_str()).collect();
    for expected in ["login_failed", "login_succeeded"] {
        assert!(events.contains(&expected), "no {expected} in {events:?}");
    }
    let locked =
        lines.iter().filter(|l| l["fields"]["detail"].as_str().is_some_and(|d| d.contains("locked_out"))).count();
    // Three refusals within the minute, on two nodes: the lockout is audited once a minute, whichever
    // node refuses (the mark is in the shared database).
    assert_eq!(locked, 1, "refusals during one lockout are logged once a minute");
    for secret in [PASSWORD, WRONG, &access, bob["access"].as_str().unwrap(), bob["refresh"].as_str().unwrap()] {
        assert!(!text.contains(secret), "a secret in the logs: {secret}");
    }
}

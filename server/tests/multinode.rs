//! Two `latchkey` processes on one PostgreSQL database, as a multi-node deployment runs: a lockout
//! and a request limit earned partly on each node hold on both, and still hold after a node restarts;
//! a passkey ceremony begun on one node ends on the other, and the signature counter is shared; a social
//! sign-in started on one node comes back to the other.
//! Their JSON log lines are read back too: security events are there, secrets are not.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use common::{fresh_dir, latchkey, post_json, spawn, Server, PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

const WRONG: &str = "wrong horse battery staple";

/// Starts a node on `database_url`, e-mail going to files in `dir` and its logs (JSON lines) to `log`.
fn start_node(database_url: &str, dir: &Path, log: &Path) -> Server {
    let stderr = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    let mut command = latchkey(dir);
    command
        .env("LATCHKEY_DATABASE_URL", database_url)
        .env("LATCHKEY_LOCKOUT_ATTEMPTS", "3")
        .env("LATCHKEY_LOCKOUT_COOLOFF", "10m")
        .env("LATCHKEY_RATE_LIMITS", "register:ip=3/1h")
        .env("LATCHKEY_LOG", "info")
        .env("LATCHKEY_LOG_FORMAT", "json")
        .stderr(stderr);
    spawn(command)
}

async fn post(node: &Server, path: &str, body: Value) -> (StatusCode, Value) {
    post_json(&reqwest::Client::new(), format!("{}{path}", node.base), body, None).await
}

async fn login_on(node: &Server, email: &str, password: &str) -> (StatusCode, Value) {
    post(node, "/api/token/", json!({"email": email, "password": password})).await
}

#[tokio::test]
async fn limits_hold_across_nodes_and_restarts() {
    let Some(database_url) = common::fresh_postgres_database().await else { return };
    let dir = fresh_dir("multinode");
    let log = dir.join("nodes.log");
    let a = start_node(&database_url, &dir, &log);
    let b = start_node(&database_url, &dir, &log);

    let register = |email: &str| json!({"email": email, "password": PASSWORD, "password_confirm": PASSWORD});
    let (status, ada) = post(&a, "/api/auth/register/", register("ada@example.com")).await;
    assert_eq!(status, StatusCode::CREATED, "{ada}");
    let access = ada["tokens"]["access"].as_str().unwrap().to_owned();

    // Three failures, spread over both nodes, lock the account on both.
    for node in [&a, &b, &a] {
        assert_eq!(login_on(node, "ada@example.com", WRONG).await.0, StatusCode::UNAUTHORIZED);
    }
    for node in [&b, &a] {
        let (status, body) = login_on(node, "ada@example.com", PASSWORD).await;
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
    let a = start_node(&database_url, &dir, &log);
    assert_eq!(login_on(&a, "ada@example.com", PASSWORD).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(post(&a, "/api/auth/register/", register("dan@example.com")).await.0, StatusCode::TOO_MANY_REQUESTS);
    let (status, bob) = login_on(&a, "bob@example.com", PASSWORD).await;
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

/// Passkey ceremonies live in the database, not in a node's memory: options from one node are
/// answered on the other, and the signature counter one node stored holds on the other.
#[tokio::test]
async fn passkey_ceremonies_cross_nodes() {
    let Some(database_url) = common::fresh_postgres_database().await else { return };
    let dir = fresh_dir("multinode-passkeys");
    let log = dir.join("nodes.log");
    let node = |dir: &Path| {
        let mut command = latchkey(dir);
        command
            .env("LATCHKEY_DATABASE_URL", &database_url)
            .env("LATCHKEY_WEBAUTHN_RP_ID", "localhost")
            .env("LATCHKEY_WEBAUTHN_ORIGINS", common::ORIGIN)
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap());
        spawn(command)
    };
    let (a, b) = (node(&dir), node(&dir));
    let client = reqwest::Client::new();
    let register = json!({"email": "ada@example.com", "password": PASSWORD, "password_confirm": PASSWORD});
    let (_, ada) = post(&a, "/api/auth/register/", register).await;
    let access = ada["tokens"]["access"].as_str().unwrap().to_owned();

    let mut key = common::SoftKey::new();
    let (status, options) =
        post_json(&client, format!("{}/api/auth/passkeys/register/options/", a.base), json!({}), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{options}");
    let credential = key.register(&options["publicKey"], &common::Knobs::default());
    let body = json!({ "ceremony_id": options["ceremony_id"], "credential": credential, "name": "Laptop" });
    let (status, passkey) =
        post_json(&client, format!("{}/api/auth/passkeys/register/", b.base), body, Some(&access)).await;
    assert_eq!(status, StatusCode::CREATED, "{passkey}");

    assert_eq!(sign_in(&b, &a, Some(5), &mut key).await.0, StatusCode::OK);
    // The counter node A stored is the one node B compares with.
    let (status, body) = sign_in(&a, &b, Some(4), &mut key).await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("passkey_invalid")), "{body}");
    assert_eq!(sign_in(&a, &b, Some(6), &mut key).await.0, StatusCode::OK);
}

/// A discoverable sign-in by `key` (with signature counter `counter`) whose options come from node
/// `from` and whose answer goes to node `to`.
async fn sign_in(from: &Server, to: &Server, counter: Option<u32>, key: &mut common::SoftKey) -> (StatusCode, Value) {
    let (_, options) = post(from, "/api/token/passkey/options/", json!({})).await;
    let credential = key.assert(&options["publicKey"], &common::Knobs { counter, ..common::Knobs::default() });
    post(to, "/api/token/passkey/", json!({ "ceremony_id": options["ceremony_id"], "credential": credential })).await
}

/// A social sign-in started on one node comes back to the other (a load balancer does not keep the
/// browser on one node): the flow, the PKCE verifier and the login code live in the database. Neither
/// node's log holds the code, the state or the client secret.
#[tokio::test]
async fn social_sign_ins_cross_nodes() {
    let Some(database_url) = common::fresh_postgres_database().await else { return };
    let dir = fresh_dir("multinode-social");
    let (log, providers) = (dir.join("nodes.log"), dir.join("providers.json"));
    let op = common::FakeOp::start().await;
    let public = "http://localhost:8000";
    let entry = op.entry("sso", public);
    std::fs::write(&providers, json!([entry]).to_string()).unwrap();
    let node = |dir: &Path| {
        let mut command = latchkey(dir);
        command
            .env("LATCHKEY_DATABASE_URL", &database_url)
            .env("LATCHKEY_PUBLIC_URL", public)
            .env("LATCHKEY_OIDC_PROVIDERS", &providers)
            .env("LATCHKEY_LOG", "debug")
            .env("LATCHKEY_LOG_FORMAT", "json")
            .stderr(std::fs::OpenOptions::new().create(true).append(true).open(&log).unwrap());
        spawn(command)
    };
    let (a, b) = (node(&dir), node(&dir));
    let (status, started) =
        post(&a, "/api/auth/social/sso/authorize/", json!({ "return_to": format!("{public}/app/") })).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let callback = op.authorize(started["authorization_url"].as_str().unwrap()).await.unwrap();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let landed = client.get(format!("{}{}", b.base, callback.path_and_query())).send().await.unwrap();
    let location = url::Url::parse(landed.headers()["location"].to_str().unwrap()).unwrap();
    let code = location.query_pairs().find(|(k, _)| k == "login_code").unwrap().1.into_owned();
    let (status, tokens) = post(&a, "/api/token/social/", json!({ "login_code": code })).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    drop((a, b));
    let logs = std::fs::read_to_string(&log).unwrap();
    for secret in
        [code.as_str(), callback.code().unwrap(), callback.state().unwrap(), entry["client_secret"].as_str().unwrap()]
    {
        assert!(!logs.contains(secret), "{secret} is in the logs");
    }
}

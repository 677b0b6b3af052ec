//! Security webhooks from real `latchkey` processes: the outbox is the database, so a delivery
//! that failed before a restart is sent after it, a message queued while no server ran (by
//! `latchkey create-superuser`) is sent when one starts, and two nodes on one PostgreSQL database
//! share the work without sending a message twice, either one taking over the other's retries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{fresh_dir, latchkey, post_json, spawn, ReceiverBehaviour, Server, WebhookReceiver, PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

/// Long enough for the first retry (5 s after a failure) and the loop's one-second poll.
const WAIT: Duration = Duration::from_secs(20);

/// The binary on `database_url` (SQLite in `dir` when `None`), allowed to post to the loopback receiver.
fn node(dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = latchkey(dir);
    command.env("LATCHKEY_WEBHOOK_ALLOW_PRIVATE", "1");
    if let Some(url) = database_url {
        command.env("LATCHKEY_DATABASE_URL", url);
    }
    command
}

/// Logs the staff member in on `server` and registers the receiver for `events`, telling it the secret.
async fn subscribe(server: &Server, receiver: &WebhookReceiver, events: &[&str]) {
    let client = reqwest::Client::new();
    let login = json!({"email": "staff@example.com", "password": PASSWORD});
    let (status, pair) = post_json(&client, format!("{}/api/token/", server.base), login, None).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let body = json!({"url": receiver.url("/hooks"), "events": events});
    let token = pair["access"].as_str();
    let (status, endpoint) = post_json(&client, format!("{}/api/admin/webhooks/", server.base), body, token).await;
    assert_eq!(status, StatusCode::CREATED, "{endpoint}");
    receiver.set_secret(endpoint["secret"].as_str().unwrap());
}

async fn failed_login(server: &Server, email: &str) {
    let body = json!({"email": email, "password": "wrong"});
    let (status, _) = post_json(&reqwest::Client::new(), format!("{}/api/token/", server.base), body, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

/// Waits until the receiver has seen `count` requests, answered or not.
async fn seen(receiver: &WebhookReceiver, count: usize) {
    let deadline = std::time::Instant::now() + WAIT;
    while receiver.requests().len() < count {
        assert!(std::time::Instant::now() < deadline, "{} requests, not {count}", receiver.requests().len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn deliveries_survive_a_restart() {
    let dir = fresh_dir("webhook-restart");
    let receiver = WebhookReceiver::start().await;
    common::create_superuser(node(&dir, None), "staff@example.com");
    let mut server = spawn(node(&dir, None));
    subscribe(&server, &receiver, &["login.failed", "user.created"]).await;

    receiver.behave(ReceiverBehaviour::Fail(503));
    failed_login(&server, "ada@example.com").await;
    seen(&receiver, 1).await;
    server.stop();
    // While no server runs, the command line queues a message too.
    common::create_superuser(node(&dir, None), "second@example.com");
    receiver.behave(ReceiverBehaviour::Answer(204));
    let _server = spawn(node(&dir, None)).tidy_up(dir);

    let delivered = receiver.wait_for(2, WAIT).await;
    let failed = &receiver.requests()[0];
    assert_eq!(failed.status, Some(503));
    let types: BTreeSet<&str> = delivered.iter().map(|r| r.event_type().unwrap()).collect();
    assert_eq!(types, BTreeSet::from(["login.failed", "user.created"]));
    let retried = delivered.iter().find(|r| r.event_type() == Some("login.failed")).unwrap();
    assert_eq!(retried.id, failed.id, "the same message, tried again");
    // Due 5 s after the failure, in whole seconds of the server's clock: at least 4 s of real time.
    assert!(retried.at.duration_since(failed.at) >= Duration::from_secs(4), "not before its back-off");
    let created = delivered.iter().find(|r| r.event_type() == Some("user.created")).unwrap();
    assert_eq!(created.json["data"]["detail"], json!({"how": "createsuperuser"}));
    assert!(receiver.requests().iter().all(|r| r.verified), "{:#?}", receiver.requests());
}

#[tokio::test]
async fn two_nodes_share_the_outbox() {
    let Some(database_url) = common::fresh_postgres_database().await else { return };
    let dir = fresh_dir("webhook-nodes");
    let receiver = WebhookReceiver::start().await;
    common::create_superuser(node(&dir, Some(&database_url)), "staff@example.com");
    let mut a = spawn(node(&dir, Some(&database_url)));
    let b = spawn(node(&dir, Some(&database_url))).tidy_up(dir.clone());
    subscribe(&a, &receiver, &["login.failed"]).await;

    for n in 0..10 {
        failed_login(if n % 2 == 0 { &a } else { &b }, &format!("user{n}@example.com")).await;
    }
    let delivered = receiver.wait_for(10, WAIT).await;
    // Both loops poll the one outbox; a message is still sent once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let ids: BTreeSet<String> = receiver.requests().iter().map(|r| r.id.clone().unwrap()).collect();
    assert_eq!((ids.len(), receiver.requests().len(), delivered.len()), (10, 10, 10));

    // A retry node `a` scheduled is sent by `b` once `a` is gone.
    receiver.behave(ReceiverBehaviour::Fail(503));
    failed_login(&a, "late@example.com").await;
    seen(&receiver, 11).await;
    a.stop();
    receiver.behave(ReceiverBehaviour::Answer(204));
    let delivered = receiver.wait_for(11, WAIT).await;
    assert_eq!(delivered[10].id, receiver.requests()[10].id);
    assert_eq!(delivered[10].json["data"]["detail"]["login"], "late@example.com");
    assert!(receiver.requests().iter().all(|r| r.verified));
    drop(b);
}

//! The webhook consumer of the security-webhook tests (`common::webhook_receiver`), driven directly
//! with an HTTP client: its signature is the Standard Webhooks test vector's, it accepts a freshly
//! signed delivery and refuses each thing a consumer must refuse (a changed body, another secret, an
//! old timestamp, a missing header, a body that is not an event), and it fails, fails a few times and
//! stalls when told to, recording every request with the status it answered.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::webhook_receiver::{signature, unix_now};
use common::{ReceiverBehaviour, WebhookReceiver};
use reqwest::Client;

/// A secret as the server shows it: `whsec_` and the standard base64 of 32 bytes.
fn secret(byte: u8) -> String {
    format!("whsec_{}", data_encoding::BASE64.encode(&[byte; 32]))
}

const ID: &str = "msg_2Lq9Yx";
const BODY: &str =
    r#"{"type":"login.failed","timestamp":"2026-12-03T23:59:00Z","data":{"audit_event_id":42,"user_id":7}}"#;

/// The three headers of a delivery of `body` signed with `secret` at `timestamp`.
fn signed(secret: &str, timestamp: i64, body: &str) -> Vec<(&'static str, String)> {
    let timestamp = timestamp.to_string();
    let signature = signature(secret, ID, &timestamp, body.as_bytes());
    vec![("webhook-id", ID.to_owned()), ("webhook-timestamp", timestamp), ("webhook-signature", signature)]
}

/// Posts `body` with `headers` to `path` on the receiver; the status it answered.
async fn post(receiver: &WebhookReceiver, path: &str, headers: &[(&str, String)], body: &str) -> u16 {
    let mut request = Client::builder().no_proxy().build().unwrap().post(receiver.url(path));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.header("content-type", "application/json").body(body.to_owned()).send().await.unwrap();
    response.status().as_u16()
}

/// Whether the receiver verified the last request it got.
fn last_verified(receiver: &WebhookReceiver) -> bool {
    receiver.requests().last().unwrap().verified
}

#[test]
fn signs_the_standard_webhooks_test_vector() {
    assert_eq!(
        signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#,
        ),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
}

#[tokio::test]
async fn records_and_verifies_a_freshly_signed_delivery() {
    let receiver = WebhookReceiver::start().await;
    receiver.set_secret(&secret(1));
    let headers = signed(&secret(1), unix_now(), BODY);
    assert_eq!(post(&receiver, "/hooks/a", &headers, BODY).await, 204);
    let seen = receiver.wait_for(1, Duration::from_secs(1)).await;
    let request = &seen[0];
    assert!(request.verified);
    assert_eq!(request.path, "/hooks/a");
    assert_eq!(request.id.as_deref(), Some(ID));
    assert_eq!(request.signature.as_deref(), Some(headers[2].1.as_str()));
    assert_eq!(request.body, BODY.as_bytes());
    assert_eq!(request.event_type(), Some("login.failed"));
    assert_eq!(request.json["data"]["user_id"], 7);
    assert_eq!(request.status, Some(204));
}

#[tokio::test]
async fn refuses_a_changed_body_another_secret_and_an_old_timestamp() {
    let receiver = WebhookReceiver::start().await;
    receiver.set_secret(&secret(1));
    let headers = signed(&secret(1), unix_now(), BODY);
    post(&receiver, "/", &headers, &BODY.replace("42", "43")).await;
    assert!(!last_verified(&receiver), "a changed body verified");
    post(&receiver, "/", &signed(&secret(2), unix_now(), BODY), BODY).await;
    assert!(!last_verified(&receiver), "another secret's signature verified");
    post(&receiver, "/", &signed(&secret(1), unix_now() - 600, BODY), BODY).await;
    assert!(!last_verified(&receiver), "a 10-minute-old timestamp verified");
    post(&receiver, "/", &signed(&secret(1), unix_now() + 600, BODY), BODY).await;
    assert!(!last_verified(&receiver), "a timestamp 10 minutes ahead verified");
    // Just inside the 5 minutes, it is fine.
    post(&receiver, "/", &signed(&secret(1), unix_now() - 290, BODY), BODY).await;
    assert!(last_verified(&receiver), "a 290-second-old timestamp was refused");
    // Answered all the same: the receiver's verdict is for the test to read.
    assert!(receiver.requests().iter().all(|r| r.status == Some(204)));
}

#[tokio::test]
async fn refuses_a_delivery_missing_a_header() {
    let receiver = WebhookReceiver::start().await;
    receiver.set_secret(&secret(1));
    for missing in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
        let headers: Vec<_> = signed(&secret(1), unix_now(), BODY).into_iter().filter(|(n, _)| *n != missing).collect();
        post(&receiver, "/", &headers, BODY).await;
        let request = receiver.requests().pop().unwrap();
        assert!(!request.verified, "verified without {missing}");
    }
}

#[tokio::test]
async fn refuses_a_signed_body_that_is_not_an_event() {
    let receiver = WebhookReceiver::start().await;
    receiver.set_secret(&secret(1));
    let bodies = [
        "not json",
        r#"{"timestamp":"2026-12-03T23:59:00Z","data":{}}"#,
        r#"{"type":"login.failed","data":{}}"#,
        r#"{"type":"login.failed","timestamp":"2026-12-03T23:59:00Z"}"#,
    ];
    for body in bodies {
        post(&receiver, "/", &signed(&secret(1), unix_now(), body), body).await;
        assert!(!last_verified(&receiver), "{body} verified");
    }
}

#[tokio::test]
async fn verifies_against_any_of_its_secrets_and_any_of_the_signatures() {
    let receiver = WebhookReceiver::start().await;
    let headers = signed(&secret(2), unix_now(), BODY);
    post(&receiver, "/", &headers, BODY).await;
    assert!(!last_verified(&receiver), "verified before it had a secret");
    receiver.set_secret(&secret(1));
    receiver.set_secret(&secret(2));
    post(&receiver, "/", &headers, BODY).await;
    assert!(last_verified(&receiver), "the second endpoint's secret was not used");
    // Several signatures (a sender rotating its secret): any that matches will do.
    let mut several = signed(&secret(3), unix_now(), BODY);
    several[2].1 = format!("{} {}", several[2].1, headers[2].1);
    post(&receiver, "/", &several, BODY).await;
    assert!(last_verified(&receiver), "the second signature was not tried");
    several[2].1 = signed(&secret(3), unix_now(), BODY)[2].1.clone();
    post(&receiver, "/", &several, BODY).await;
    assert!(!last_verified(&receiver));
}

#[tokio::test]
async fn follows_the_clock_it_is_given() {
    let receiver = WebhookReceiver::start().await;
    receiver.set_secret(&secret(1));
    let ahead = unix_now() + 3600;
    receiver.set_clock(move || ahead);
    post(&receiver, "/", &signed(&secret(1), ahead, BODY), BODY).await;
    assert!(last_verified(&receiver), "a timestamp on the given clock was refused");
    post(&receiver, "/", &signed(&secret(1), unix_now(), BODY), BODY).await;
    assert!(!last_verified(&receiver), "a timestamp an hour behind the given clock verified");
}

#[tokio::test]
async fn fails_the_next_requests_then_answers() {
    let receiver = WebhookReceiver::start().await;
    receiver.set_secret(&secret(1));
    receiver.behave(ReceiverBehaviour::FailNext(2, 503));
    let headers = signed(&secret(1), unix_now(), BODY);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(post(&receiver, "/", &headers, BODY).await);
    }
    assert_eq!(statuses, [503, 503, 204, 204]);
    let recorded: Vec<_> = receiver.requests().iter().map(|r| r.status).collect();
    assert_eq!(recorded, [Some(503), Some(503), Some(204), Some(204)]);
    assert!(receiver.requests().iter().all(|r| r.verified), "failed requests are verified too");
    assert_eq!(receiver.delivered().len(), 2);
    receiver.behave(ReceiverBehaviour::Fail(500));
    assert_eq!(post(&receiver, "/", &headers, BODY).await, 500);
    assert_eq!(post(&receiver, "/", &headers, BODY).await, 500);
    receiver.behave(ReceiverBehaviour::Answer(200));
    assert_eq!(post(&receiver, "/", &headers, BODY).await, 200);
    assert_eq!(receiver.wait_for(3, Duration::from_secs(1)).await.len(), 3);
}

#[tokio::test]
async fn stalls_before_answering() {
    let receiver = WebhookReceiver::start().await;
    receiver.behave(ReceiverBehaviour::Stall(Duration::from_millis(400)));
    let sent = Instant::now();
    let client = Client::builder().no_proxy().timeout(Duration::from_millis(100)).build().unwrap();
    assert!(client.post(receiver.url("/")).body(BODY).send().await.unwrap_err().is_timeout());
    // Arrived, and not answered yet.
    assert_eq!(receiver.requests().len(), 1);
    assert!(receiver.delivered().is_empty(), "a stalled request counted as delivered");
    assert_eq!(post(&receiver, "/", &[], BODY).await, 204);
    assert!(sent.elapsed() >= Duration::from_millis(500));
}

#[tokio::test]
#[should_panic(expected = "1 deliveries not answered 2xx within")]
async fn wait_for_panics_with_what_it_saw() {
    let receiver = WebhookReceiver::start().await;
    receiver.behave(ReceiverBehaviour::Fail(500));
    post(&receiver, "/", &[], BODY).await;
    receiver.wait_for(1, Duration::from_millis(100)).await;
}

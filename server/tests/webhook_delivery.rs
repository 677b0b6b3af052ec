//! Security webhooks delivered (API.md §16), on both databases, to a local receiver that checks
//! every Standard Webhooks signature: each of the eleven event types reaches its subscribers and no
//! one else, a message is written with its audit event, a failed delivery is tried again on the
//! schedule and then given up, the address policy holds at delivery time, and the delivery log says
//! what happened.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use common::{call, deliver, ReceiverBehaviour, WebhookReceiver, PASSWORD};
use latchkey_server::AppState;
use serde_json::{json, Value};

const ALL: [&str; 11] = [
    "user.created",
    "user.deleted",
    "login.failed",
    "login.locked_out",
    "session.reuse_detected",
    "password.changed",
    "password.reset",
    "mfa.enabled",
    "mfa.disabled",
    "api_key.created",
    "admin.action",
];
const NEW_PASSWORD: &str = "a new and better passphrase";
const WAIT: Duration = Duration::from_secs(10);

/// Runs passes of the delivery loop until one finds nothing due.
async fn deliver_all(state: &AppState) {
    while deliver(state).await > 0 {}
}

async fn failed_login(state: &AppState, email: &str) -> StatusCode {
    call(state, "POST", "/api/token/", Some(json!({"email": email, "password": "wrong"})), None).await.0
}

on_both!(every_event_type_reaches_its_subscriber_signed, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let receiver = WebhookReceiver::start().await;
    let staff = common::staff_token(&state, "staff@example.com").await;
    common::subscribe(&state, &staff, &receiver, &ALL).await;

    let ada = common::register(
        &state,
        json!({"email": "ada@example.com", "password": PASSWORD, "password_confirm": PASSWORD}),
    )
    .await;
    let ada_id = ada["user"]["id"].as_i64().unwrap();
    assert_eq!(failed_login(&state, "ada@example.com").await, StatusCode::UNAUTHORIZED);
    let (_, refresh) = common::login_pair(&state, "ada@example.com", PASSWORD).await;
    assert_eq!(common::refresh(&state, &refresh).await.0, StatusCode::OK);
    common::pass(&state, state.config.refresh_reuse_grace.as_secs() + 1);
    assert_eq!(common::refresh(&state, &refresh).await.0, StatusCode::UNAUTHORIZED, "reuse");
    let access = common::login(&state, "ada@example.com", PASSWORD).await;
    let change = json!({"old_password": PASSWORD, "new_password": NEW_PASSWORD});
    assert_eq!(call(&state, "POST", "/api/auth/password/change/", Some(change), Some(&access)).await.0, StatusCode::OK);
    let access = common::login(&state, "ada@example.com", NEW_PASSWORD).await;
    common::add_authenticator(&state, &access, "Phone").await;
    let key = call(&state, "POST", "/api/auth/api-keys/", Some(json!({"name": "ci"})), Some(&access)).await;
    assert_eq!(key.0, StatusCode::CREATED, "{}", key.1);
    let reset = json!({"reason": "lost phone"});
    let uri = format!("/api/admin/users/{ada_id}/2fa/reset/");
    assert_eq!(call(&state, "POST", &uri, Some(reset), Some(&staff)).await.0, StatusCode::OK);
    let asked =
        call(&state, "POST", "/api/auth/password/reset/", Some(json!({"email": "ada@example.com"})), None).await;
    assert_eq!(asked.0, StatusCode::OK);
    let sent = common::mails(&state, 1).await;
    let (uid, token) = common::link_params(common::mail_with(&sent, "Reset your password"), "password-reset");
    let confirm = json!({"uid": uid, "token": token, "new_password": PASSWORD});
    assert_eq!(call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm), None).await.0, StatusCode::OK);
    for _ in 0..state.config.lockout_attempts {
        failed_login(&state, "bob@example.com").await;
    }
    assert_eq!(failed_login(&state, "bob@example.com").await, StatusCode::TOO_MANY_REQUESTS);
    let access = common::login(&state, "ada@example.com", PASSWORD).await;
    let gone = call(&state, "DELETE", "/api/auth/me/", Some(json!({"password": PASSWORD})), Some(&access)).await;
    assert_eq!(gone.0, StatusCode::NO_CONTENT, "{}", gone.1);

    deliver_all(&state).await;
    let received = receiver.requests();
    assert!(received.iter().all(|r| r.verified && r.delivered()), "{received:#?}");
    let types: BTreeSet<String> = common::types_of(&received).into_iter().collect();
    assert_eq!(types, ALL.iter().map(|t| (*t).to_owned()).collect(), "each type at least once");
    // The audit log and the receiver tell one story: one message per audited event (registering
    // the endpoint itself was an admin action).
    let audited: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE event IN ('login_failed', \
        'account_created', 'account_deleted', 'password_changed', 'password_reset', 'mfa_enabled', 'mfa_disabled', \
        'api_key_created', 'refresh_reuse_detected', 'admin_2fa_reset') OR event LIKE 'webhook_%' OR (event = 'session_revoked' AND detail LIKE '%\"admin\"%')")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(i64::try_from(received.len()).unwrap(), audited.0, "{:?}", common::types_of(&received));

    // A batch is sent concurrently: messages arrive in any order.
    let of = |kind: &str, audit_event: &str| {
        let found =
            received.iter().find(|r| r.event_type() == Some(kind) && r.json["data"]["audit_event"] == audit_event);
        found.unwrap_or_else(|| panic!("no {kind} for {audit_event}")).json["data"].clone()
    };
    let failure = received
        .iter()
        .find(|r| r.event_type() == Some("login.failed") && r.json["data"]["detail"]["login"] == "ada@example.com")
        .unwrap();
    let data = &failure.json["data"];
    assert_eq!(data["audit_event"], "login_failed");
    assert_eq!(data["detail"], json!({"reason": "bad_credentials", "login": "ada@example.com"}));
    assert!(data["audit_event_id"].as_i64().is_some() && data["ip"].is_string(), "{data}");
    assert_eq!(
        of("login.locked_out", "login_failed")["detail"],
        json!({"reason": "locked_out", "login": "bob@example.com"})
    );
    assert_eq!(of("admin.action", "admin_2fa_reset")["user_id"], json!(ada_id));
    assert_eq!(of("admin.action", "webhook_created")["detail"]["host"], "127.0.0.1");
    assert_eq!(of("user.created", "account_created")["detail"], json!({"how": "registration"}));
    assert_eq!(of("mfa.enabled", "mfa_enabled")["detail"], json!({"by": "totp_device"}));
    assert_eq!(of("user.deleted", "account_deleted")["user_id"], json!(ada_id));
    // No password, token or secret leaves in a body.
    for request in &received {
        let body = String::from_utf8_lossy(&request.body);
        for secret in [PASSWORD, NEW_PASSWORD, refresh.as_str(), access.as_str(), token.as_str()] {
            assert!(!body.contains(secret), "{body}");
        }
    }
});

on_both!(only_subscribers_receive_and_a_paused_endpoint_waits, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let receiver = WebhookReceiver::start().await;
    let staff = common::staff_token(&state, "staff@example.com").await;
    let failures = common::subscribe(&state, &staff, &receiver, &["login.failed"]).await;
    let also = common::subscribe(&state, &staff, &receiver, &["login.failed"]).await;
    let signups = common::subscribe(&state, &staff, &receiver, &["user.created"]).await;
    let pause = json!({"active": false});
    let path = format!("/api/admin/webhooks/{signups}/");
    assert_eq!(call(&state, "PATCH", &path, Some(pause), Some(&staff)).await.0, StatusCode::OK);

    common::register(&state, json!({"email": "ada@example.com", "password": PASSWORD, "password_confirm": PASSWORD}))
        .await;
    failed_login(&state, "ada@example.com").await;
    deliver_all(&state).await;
    let received = receiver.requests();
    assert_eq!(common::types_of(&received), ["login.failed", "login.failed"]);
    // One message to two endpoints: one `webhook-id`, as Standard Webhooks has it.
    assert_eq!(received[0].id, received[1].id);
    assert!(received.iter().all(|r| r.verified));
    for id in [failures, also] {
        let log = common::deliveries(&state, &staff, id).await;
        assert_eq!(log.len(), 1);
        assert_eq!(
            (&log[0]["state"], &log[0]["attempts"], &log[0]["last_status"]),
            (&json!("delivered"), &json!(1), &json!(204))
        );
    }
    // A test reaches a paused endpoint; what it had queued waits for it to be on again, and
    // events while it is off are not queued for it.
    let (status, test) = call(&state, "POST", &format!("{path}test/"), None, Some(&staff)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    deliver_all(&state).await;
    assert_eq!(common::types_of(&receiver.requests())[2..], ["webhook.test"]);
    assert_eq!(common::deliveries(&state, &staff, signups).await[0]["id"], test["id"]);
    let resume = json!({"active": true});
    assert_eq!(call(&state, "PATCH", &path, Some(resume), Some(&staff)).await.0, StatusCode::OK);
    receiver.behave(ReceiverBehaviour::FailNext(1, 503));
    common::register(&state, json!({"email": "bob@example.com", "password": PASSWORD, "password_confirm": PASSWORD}))
        .await;
    assert_eq!(deliver(&state).await, 1);
    let pause = json!({"active": false});
    assert_eq!(call(&state, "PATCH", &path, Some(pause), Some(&staff)).await.0, StatusCode::OK);
    common::register(&state, json!({"email": "eve@example.com", "password": PASSWORD, "password_confirm": PASSWORD}))
        .await;
    common::pass(&state, 5);
    assert_eq!(deliver(&state).await, 0, "paused");
    let resume = json!({"active": true});
    assert_eq!(call(&state, "PATCH", &path, Some(resume), Some(&staff)).await.0, StatusCode::OK);
    deliver_all(&state).await;
    let received = receiver.wait_for(4, WAIT).await;
    assert_eq!((received.len(), received[3].event_type()), (4, Some("user.created")));
    assert_eq!(received[3].json["data"]["user_id"], json!(common::user_id_of(&state, "bob@example.com").await));
    // Deleting an endpoint deletes what it had not received yet.
    receiver.behave(ReceiverBehaviour::Fail(503));
    failed_login(&state, "ada@example.com").await;
    assert_eq!(common::outbox_rows(&state, "login.failed").await, 4);
    assert_eq!(
        call(&state, "DELETE", &format!("/api/admin/webhooks/{also}/"), None, Some(&staff)).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(common::outbox_rows(&state, "login.failed").await, 2);
});

on_both!(failed_deliveries_back_off_and_give_up, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let receiver = WebhookReceiver::start().await;
    let staff = common::staff_token(&state, "staff@example.com").await;
    let id = common::subscribe(&state, &staff, &receiver, &["login.failed"]).await;
    receiver.behave(ReceiverBehaviour::FailNext(1, 503));
    failed_login(&state, "ada@example.com").await;
    assert_eq!(deliver(&state).await, 1);
    let log = common::deliveries(&state, &staff, id).await;
    let due = latchkey_server::infra::datetime::iso8601(state.clock.now() + 5);
    assert_eq!(
        (
            &log[0]["state"],
            &log[0]["attempts"],
            &log[0]["last_status"],
            &log[0]["last_error"],
            &log[0]["next_attempt_at"]
        ),
        (&json!("pending"), &json!(1), &json!(503), &json!("http_status"), &json!(due))
    );
    assert_eq!(deliver(&state).await, 0, "not due before 5 s");
    common::pass(&state, 5);
    assert_eq!(deliver(&state).await, 1);
    let received = receiver.requests();
    assert_eq!(received.iter().map(|r| r.status).collect::<Vec<_>>(), [Some(503), Some(204)]);
    assert_eq!(received[0].id, received[1].id, "a retry is the same message");
    assert_ne!(received[0].timestamp, received[1].timestamp, "signed again when sent again");
    let log = common::deliveries(&state, &staff, id).await;
    assert_eq!(
        (&log[0]["state"], &log[0]["attempts"], &log[0]["next_attempt_at"]),
        (&json!("delivered"), &json!(2), &json!(null))
    );

    // A receiver that never takes it: eight attempts on the schedule, then given up.
    receiver.behave(ReceiverBehaviour::Fail(500));
    failed_login(&state, "ada@example.com").await;
    assert_eq!(deliver(&state).await, 1);
    for wait in latchkey_server::webhooks::delivery::RETRY_AFTER {
        common::pass(&state, u64::try_from(wait - 1).unwrap());
        assert_eq!(deliver(&state).await, 0, "not before its time ({wait} s)");
        common::pass(&state, 1);
        assert_eq!(deliver(&state).await, 1);
    }
    common::pass(&state, 100_000);
    assert_eq!(deliver(&state).await, 0);
    let staff = common::login(&state, "staff@example.com", PASSWORD).await;
    let log = common::deliveries(&state, &staff, id).await;
    assert_eq!(
        (&log[0]["state"], &log[0]["attempts"], &log[0]["last_status"]),
        (&json!("failed"), &json!(8), &json!(500))
    );
    assert_eq!(receiver.requests().len(), 2 + 8);
    let (status, metrics, _) = common::send_text(&state, common::request("GET", "/metrics", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.contains("latchkey_webhook_deliveries_total{result=\"delivered\"} 1\n"), "{metrics}");
    assert!(metrics.contains("latchkey_webhook_deliveries_total{result=\"failed\"} 9\n"), "{metrics}");
});

on_both!(a_receiver_that_does_not_answer_times_out, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let receiver = WebhookReceiver::start().await;
    let staff = common::staff_token(&state, "staff@example.com").await;
    let id = common::subscribe(&state, &staff, &receiver, &["login.failed"]).await;
    receiver.behave(ReceiverBehaviour::Stall(Duration::from_secs(8)));
    failed_login(&state, "ada@example.com").await;
    let started = std::time::Instant::now();
    assert_eq!(deliver(&state).await, 1);
    assert!(started.elapsed() < Duration::from_secs(7), "{:?}", started.elapsed());
    let log = common::deliveries(&state, &staff, id).await;
    assert_eq!(
        (&log[0]["state"], &log[0]["last_error"], &log[0]["last_status"]),
        (&json!("pending"), &json!("timeout"), &json!(null))
    );
});

on_both!(every_audited_event_is_queued_once_under_load, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let receiver = WebhookReceiver::start().await;
    let staff = common::staff_token(&state, "staff@example.com").await;
    common::subscribe(&state, &staff, &receiver, &["login.failed"]).await;
    let logins = (0..20).map(|n| {
        let state = state.clone();
        tokio::spawn(async move { failed_login(&state, &format!("user{n}@example.com")).await })
    });
    let answers = common::futures_join(logins).await;
    assert!(answers.iter().all(|s| *s == StatusCode::UNAUTHORIZED), "{answers:?}");
    let audited: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_events WHERE event = 'login_failed'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!((audited.0, common::outbox_rows(&state, "login.failed").await), (20, 20));
    // Two passes at once (two nodes' loops) share the work: each message is sent once.
    let (a, b) = tokio::join!(deliver(&state), deliver(&state));
    assert!(a.max(b) <= 16 && a + b <= 20, "a pass claims at most 16, and never what the other claimed: {a} + {b}");
    deliver_all(&state).await;
    let ids: BTreeSet<String> = receiver.requests().iter().map(|r| r.id.clone().unwrap()).collect();
    assert_eq!((ids.len(), receiver.requests().len()), (20, 20));
});

on_both!(the_address_policy_holds_when_a_delivery_is_sent, |state: AppState| async move {
    let allowing = common::allowing_private(&state);
    let receiver = WebhookReceiver::start().await;
    let staff = common::staff_token(&allowing, "staff@example.com").await;
    let id = common::subscribe(&allowing, &staff, &receiver, &["login.failed"]).await;
    failed_login(&allowing, "ada@example.com").await;
    // The same outbox read by a node without LATCHKEY_WEBHOOK_ALLOW_PRIVATE (or after the name of
    // a public receiver began to resolve to a private address): nothing leaves.
    assert_eq!(deliver(&state).await, 1);
    assert!(receiver.requests().is_empty());
    let log = common::deliveries(&allowing, &staff, id).await;
    assert_eq!((&log[0]["state"], &log[0]["last_error"]), (&json!("pending"), &json!("refused_address")));
});

on_both!(the_delivery_log_pages_newest_first, |state: AppState| async move {
    let state = common::allowing_private(&state);
    let staff = common::staff_token(&state, "staff@example.com").await;
    let (id, _) = common::add_endpoint(&state, &staff, "http://127.0.0.1:9/hooks", &["login.failed"]).await;
    for _ in 0..55 {
        assert_eq!(
            call(&state, "POST", &format!("/api/admin/webhooks/{id}/test/"), None, Some(&staff)).await.0,
            StatusCode::ACCEPTED
        );
    }
    let uri = format!("/api/admin/webhooks/{id}/deliveries/");
    let (_, first) = call(&state, "GET", &uri, None, Some(&staff)).await;
    let ids: Vec<i64> = first["results"].as_array().unwrap().iter().map(|d| d["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.len(), 50);
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let next = first["next"].as_str().unwrap().to_owned();
    assert_eq!(next, format!("{uri}?before={}", ids[49]));
    let (_, second) = call(&state, "GET", &next, None, Some(&staff)).await;
    assert_eq!((second["results"].as_array().unwrap().len(), &second["next"]), (5, &Value::Null));
    let (status, body) = call(&state, "GET", &format!("{uri}?before=x"), None, Some(&staff)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"before": ["A valid integer is required."]})));
});

//! E-mailed sign-in codes against an attacker (docs/api.md#e-mail-codes-and-magic-links): one answer
//! for every address (an unknown one gets a flow that behaves the same, and no mail), five tries per
//! flow counted before any compare (in parallel too), the password login's lockouts on top, and the
//! `code:ip` and `code:email` limits that bound the messages one address gets and the rows one client
//! makes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use axum::http::{header, StatusCode};
use common::*;
use latchkey_server::AppState;
use serde_json::{json, Value};

const ADA: &str = "ada@example.com";

/// Rows in `login_codes`.
async fn flows(state: &AppState) -> i64 {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_codes").fetch_one(&state.db.pool).await.unwrap();
    row.0
}

/// A code that is not `code`.
fn other_than(code: &str) -> String {
    if code == "000000" { "111111" } else { "000000" }.to_owned()
}

/// The server with lockouts out of the way, to see a flow's own limit.
fn without_lockouts(state: &AppState) -> AppState {
    configured(state, |c| {
        c.lockout_attempts = 1000;
        c.lockout_ip_attempts = 1000;
    })
}

on_both!(every_address_gets_the_same_answer_and_only_accounts_get_mail, |state: AppState| async move {
    create_user(&state, ADA, PASSWORD).await;
    let (unknown_status, unknown) = request_code(&state, "nobody@example.com").await;
    let (known_status, known) = request_code(&state, ADA).await;
    assert_eq!((unknown_status, known_status), (StatusCode::OK, StatusCode::OK));
    let without_flow = |body: &Value| {
        let mut body = body.clone();
        let flow = body.as_object_mut().unwrap().remove("flow_id").unwrap();
        assert!(flow.as_str().is_some_and(|f| f.len() == 64 && f.bytes().all(|b| b.is_ascii_hexdigit())), "{flow}");
        body
    };
    let expected = json!({"detail": "If the address is registered, a code has been sent."});
    assert_eq!((without_flow(&unknown), without_flow(&known)), (expected.clone(), expected));
    // Both flows exist and count tries down alike; only Ada is sent a message.
    assert_eq!(flows(&state).await, 2);
    let sent = codes_sent(&state, 1, ADA).await;
    let wrong = other_than(&sent[0].code);
    for body in [&unknown, &known] {
        let (status, answer) = code_login(&state, json!({"flow_id": body["flow_id"], "code": wrong})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            answer,
            json!({"detail": "The code is invalid or has expired.", "code": "code_invalid", "attempts_left": 4})
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mails(&state, 1).await.len(), 1, "a message went to an address without an account");
    assert_eq!(audited(&state, "login_code_sent", None).await.len(), 1);
});

on_both!(five_wrong_tries_kill_the_flow, |state: AppState| async move {
    let state = without_lockouts(&state);
    let id = create_user(&state, ADA, PASSWORD).await;
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    let wrong = other_than(&sent.code);
    for left in [4, 3, 2, 1, 0] {
        let (status, body) = code_login(&state, json!({"flow_id": flow_id, "code": wrong})).await;
        assert_eq!((status, body["attempts_left"].clone()), (StatusCode::UNAUTHORIZED, json!(left)), "{body}");
    }
    assert_eq!(flows(&state).await, 0, "a dead flow is deleted");
    for proof in [json!({"code": sent.code}), json!({"token": sent.token})] {
        let mut body = proof.clone();
        body["flow_id"] = json!(flow_id);
        let (status, answer) = code_login(&state, body).await;
        assert_eq!((status, answer["attempts_left"].clone()), (StatusCode::UNAUTHORIZED, json!(0)), "{proof}");
    }
    let failed = audited(&state, "login_failed", Some(id)).await;
    assert_eq!(failed, vec![json!({"reason": "code_invalid", "login": ADA}); 5]);
    // A new flow has its own tries and its own code.
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    assert_eq!(code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await.0, StatusCode::OK);
});

on_both!(parallel_guesses_get_five_tries_in_all, |state: AppState| async move {
    let state = without_lockouts(&state);
    let id = create_user(&state, ADA, PASSWORD).await;
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    let wrong = other_than(&sent.code);
    let guesses = (0..20).map(|_| {
        let (state, body) = (state.clone(), json!({"flow_id": flow_id, "code": wrong}));
        tokio::spawn(async move { code_login(&state, body).await })
    });
    let answers = futures_join(guesses).await;
    assert!(answers.iter().all(|(status, body)| *status == StatusCode::UNAUTHORIZED && body["code"] == "code_invalid"));
    let mut left: Vec<i64> = answers.iter().map(|(_, body)| body["attempts_left"].as_i64().unwrap()).collect();
    left.sort_unstable();
    assert_eq!(left[15..], [0, 1, 2, 3, 4], "each try counted once: {left:?}");
    assert_eq!(audited(&state, "login_failed", Some(id)).await.len(), 5, "five codes compared, no more");
    assert_eq!(code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await.1["attempts_left"], 0);
});

on_both!(wrong_codes_count_toward_the_password_logins_lockouts, |state: AppState| async move {
    // The default: 5 failures of one account within the window lock it for a minute.
    let state = configured(&state, |c| c.lockout_cooloff = Duration::from_secs(60));
    create_user(&state, ADA, PASSWORD).await;
    let (first, a) = flow_with_code(&state, ADA).await;
    for _ in 0..5 {
        let (status, _) = code_login(&state, json!({"flow_id": first, "code": other_than(&a.code)})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // New flows buy no new guesses: the account is locked, for codes and passwords alike.
    let (second, b) = flow_with_code(&state, ADA).await;
    let (status, body, response) =
        send(&state, request("POST", "/api/token/code/", Some(json!({"flow_id": second, "code": b.code})), None)).await;
    assert_eq!((status, &body["code"]), (StatusCode::TOO_MANY_REQUESTS, &json!("throttled")), "{body}");
    let wait: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert_eq!(try_login(&state, json!({"email": ADA, "password": PASSWORD})).await.0, StatusCode::TOO_MANY_REQUESTS);
    // The locked-out try was not counted against the flow: after the cool-off, its code works.
    lockout_passes(&state, wait);
    assert_eq!(code_login(&state, json!({"flow_id": second, "code": b.code})).await.0, StatusCode::OK);
});

on_both!(requests_are_limited_per_address_and_per_client, |state: AppState| async move {
    let state = configured(&state, |c| c.rate_limits = "code:ip=4/1h,code:email=2/1h".parse().unwrap());
    at_window_start(&state, 3600);
    create_user(&state, ADA, PASSWORD).await;
    let ask = |ip: &'static str, email: &'static str| {
        let state = state.clone();
        async move { request_code_from(&state, ip, email).await }
    };
    // One client mail-bombing one address: two messages an hour, then 429 for whoever asks.
    assert_eq!(ask("198.51.100.1", ADA).await.0, StatusCode::OK);
    assert_eq!(ask("198.51.100.1", ADA).await.0, StatusCode::OK);
    let (status, body) = ask("198.51.100.1", ADA).await;
    assert_eq!((status, &body["code"]), (StatusCode::TOO_MANY_REQUESTS, &json!("throttled")));
    assert_eq!(ask("198.51.100.2", ADA).await.0, StatusCode::TOO_MANY_REQUESTS, "per address, from anywhere");
    // One client naming ever new addresses: its share of the table is `code:ip` (its refused
    // requests count too), whatever the addresses.
    assert_eq!(ask("198.51.100.1", "new-1@example.com").await.0, StatusCode::OK);
    assert_eq!(ask("198.51.100.1", "new-2@example.com").await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(ask("198.51.100.3", "new-2@example.com").await.0, StatusCode::OK, "another client is not held back");
    assert_eq!(flows(&state).await, 4, "a refused request stores nothing");
    assert_eq!(codes_sent(&state, 2, ADA).await.len(), 2);
    // Ten minutes on, the flows are dead and swept as the next one is made; an hour on, the limits reset.
    pass(&state, 3600);
    assert_eq!(ask("198.51.100.1", ADA).await.0, StatusCode::OK);
    assert_eq!(flows(&state).await, 1);
});

on_both!(the_default_limits_bound_the_mail_one_address_gets, |state: AppState| async move {
    at_window_start(&state, 3600);
    create_user(&state, ADA, PASSWORD).await;
    let statuses: Vec<StatusCode> = futures_join((0..8).map(|n| {
        let state = state.clone();
        tokio::spawn(async move { request_code_from(&state, &format!("198.51.100.{n}"), ADA).await.0 })
    }))
    .await;
    let answered = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(answered, 5, "code:email=5/1h: {statuses:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(codes_sent(&state, 5, ADA).await.len(), 5);
});

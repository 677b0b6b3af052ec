//! The limits against SMS pumping (docs/api.md#sms-codes) on both databases: codes texted per user
//! (3 per 10 minutes), per phone number (5 per hour, across accounts) and per calling code
//! (`LATCHKEY_SMS_COUNTRY_LIMIT`), each answering DRF's 429 with `Retry-After` and sending nothing,
//! and counted in `latchkey_sms_messages_total`. These limits are per user, number and country, not
//! per client address: in-process requests count them as real ones do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    add_phone, at_window_start, call_as, configured, create_user, enroll_phone, login_pair, mfa_step, request, send,
    send_text, sms_to_files, texts, PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};

/// `POST /api/token/mfa/sms/send/` for `mfa_token`: the status, body and `Retry-After` in seconds.
async fn send_with_wait(state: &AppState, mfa_token: &str) -> (StatusCode, Value, Option<u64>) {
    let body = json!({ "mfa_token": mfa_token });
    let (status, body, response) = send(state, request("POST", "/api/token/mfa/sms/send/", Some(body), None)).await;
    let wait = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    (status, body, wait)
}

/// Asserts DRF's throttled body (with the code every 429 of the server has), for a wait a few
/// seconds short of `at_most` at most (the real clock runs on beneath the test's), and returns the wait.
fn throttled(body: &Value, at_most: u64) -> u64 {
    let detail = body["detail"].as_str().unwrap_or_else(|| panic!("{body}"));
    let wait: u64 = detail
        .strip_prefix("Request was throttled. Expected available in ")
        .and_then(|rest| rest.strip_suffix(" seconds."))
        .unwrap_or_else(|| panic!("{body}"))
        .parse()
        .unwrap();
    assert!((at_most - 5..=at_most).contains(&wait), "{body}");
    assert_eq!(body["code"], "throttled");
    wait
}

/// The `latchkey_sms_messages_total` sample of `result`.
async fn counted(state: &AppState, result: &str) -> String {
    let (_, text, _) = send_text(state, request("GET", "/metrics", None, None)).await;
    let series = format!("latchkey_sms_messages_total{{result=\"{result}\"}} ");
    let line = text.lines().find(|line| line.starts_with(&series)).unwrap_or_else(|| panic!("{series}: {text}"));
    line[series.len()..].to_owned()
}

on_both!(a_user_gets_three_texts_per_ten_minutes, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    at_window_start(&state, 3600);
    enroll_phone(&state, &dir, "ada@example.com", "+14155554567").await;
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    for _ in 0..2 {
        assert_eq!(send_with_wait(&state, &token).await.0, StatusCode::OK);
    }
    common::pass(&state, 100);
    let (status, body, wait) = send_with_wait(&state, &token).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(wait, Some(throttled(&body, 500)), "Retry-After says the same");
    assert_eq!(texts(&dir).len(), 3, "the refused code was not sent");
    assert_eq!((counted(&state, "sent").await, counted(&state, "limited").await), ("3".into(), "1".into()));
    // The next window: a new code.
    common::pass(&state, 501);
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    assert_eq!(send_with_wait(&state, &token).await.0, StatusCode::OK);
    assert_eq!(texts(&dir).len(), 4);
});

on_both!(a_number_gets_five_texts_per_hour_whoever_asks, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    at_window_start(&state, 3600);
    let number = "+14155554567";
    // Ada: 3 texts; Bob, with the same number: 2 more, and the sixth is refused for the number.
    enroll_phone(&state, &dir, "ada@example.com", number).await;
    let (ada, _) = mfa_step(&state, "ada@example.com").await;
    send_with_wait(&state, &ada).await;
    send_with_wait(&state, &ada).await;
    enroll_phone(&state, &dir, "bob@example.com", number).await;
    let (bob, _) = mfa_step(&state, "bob@example.com").await;
    assert_eq!(send_with_wait(&state, &bob).await.0, StatusCode::OK);
    let (status, body, wait) = send_with_wait(&state, &bob).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "Bob's own limit is not reached: {body}");
    assert_eq!(wait, Some(throttled(&body, 3600)));
    assert_eq!(texts(&dir).len(), 5);
    // Another number is not held back.
    create_user(&state, "eve@example.com", PASSWORD).await;
    let (eve, _) = login_pair(&state, "eve@example.com", PASSWORD).await;
    add_phone(&state, &eve, "+14155550000").await;
    // Nor is this one after the hour.
    common::pass(&state, 3600);
    let (bob, _) = mfa_step(&state, "bob@example.com").await;
    assert_eq!(send_with_wait(&state, &bob).await.0, StatusCode::OK);
    assert_eq!(texts(&dir).len(), 7);
});

on_both!(a_calling_code_gets_its_configured_texts, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let state = configured(&state, |c| c.sms_country_limit = "3/1h".parse().unwrap());
    at_window_start(&state, 3600);
    let mut sessions = Vec::new();
    for n in 0..5 {
        let email = format!("user{n}@example.com");
        create_user(&state, &email, PASSWORD).await;
        sessions.push(login_pair(&state, &email, PASSWORD).await.0);
    }
    for (n, access) in sessions.iter().take(3).enumerate() {
        add_phone(&state, access, &format!("+44791100000{n}")).await;
    }
    // The fourth +44 number, whoever's: refused, and no device is left behind.
    let body = json!({ "phone_number": "+447911000009" });
    let (status, answer) = call_as(&state, "POST", "/api/auth/2fa/sms/", body, &sessions[3]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    throttled(&answer, 3600);
    let (_, listed) = call_as(&state, "GET", "/api/auth/2fa/", None, &sessions[3]).await;
    assert_eq!(listed["devices"], json!([]));
    // +1 (and +4x codes other than 44) have their own count.
    add_phone(&state, &sessions[3], "+14155554567").await;
    add_phone(&state, &sessions[4], "+4915123456789").await;
    assert_eq!(texts(&dir).len(), 5);
});

//! Breached passwords (docs/security.md#breached-passwords) on both databases, against a local range
//! API speaking Have I Been Pwned's protocol (`common::range_fake`): what leaves the server (5 hex
//! digits and `Add-Padding: true`, nothing else), refusals at registration, change, reset and the
//! live validation, the `LATCHKEY_BREACHED_MIN_COUNT` threshold, the kept ranges, and a service
//! that fails, stalls or answers nonsense (the password is accepted and the failure counted).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    call, configured, create_user, link_params, login, mail_with, mails, pass, register, request, send_text, sha1_hex,
    FakeRange, RangeBehaviour, PASSWORD,
};
use latchkey_server::config::BreachedPasswords;
use latchkey_server::AppState;
use serde_json::{json, Value};

/// In the stand-in's corpus, seen 3 times; the default policy accepts it.
const BREACHED: &str = "purple elephant marching band";
/// Not breached: only a padding entry (count 0) of its own hash is in the stand-in's answers.
const CLEAN: &str = "tangerine bicycle orchestra nine";
const REFUSED: &str = "This password has appeared in a data breach 3 times. Choose another one.";

/// A stand-in with [`BREACHED`] seen 3 times and [`CLEAN`] as padding, and `state` asking it.
async fn with_range(state: &AppState) -> (AppState, FakeRange) {
    let range = FakeRange::start().await;
    range.breach(BREACHED, 3);
    range.breach(CLEAN, 0);
    let base = range.base.clone();
    (configured(state, |c| c.breached_passwords = BreachedPasswords::Range(base)), range)
}

fn signup(password: &str) -> Value {
    json!({"email": "ada@example.com", "password": password, "password_confirm": password})
}

async fn validate(state: &AppState, password: &str) -> Value {
    let (status, verdict) =
        call(state, "POST", "/api/auth/password/validate/", Some(json!({ "password": password })), None).await;
    assert_eq!(status, StatusCode::OK, "{verdict}");
    verdict
}

fn codes(verdict: &Value) -> Vec<&str> {
    verdict["violations"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap()).collect()
}

/// Each request asked for the range of `password`'s first 5 hex digits, padded, and carried nothing
/// else of it: no query, no body, no header with any more of the hash.
fn only_the_prefix_left(range: &FakeRange, passwords: &[&str]) {
    let requests = range.requests();
    assert_eq!(requests.len(), passwords.len(), "{requests:?}");
    for (request, password) in requests.iter().zip(passwords) {
        let hash = sha1_hex(password);
        assert_eq!(request.path, format!("/range/{}", &hash[..5]));
        assert_eq!((request.query.as_deref(), request.body.len()), (None, 0));
        assert_eq!(request.header("add-padding"), Some("true"));
        for (name, value) in &request.headers {
            let upper = value.to_ascii_uppercase();
            assert!(!upper.contains(&hash[5..11]) && !value.contains(password), "{name}: {value}");
        }
    }
}

on_both!(a_breached_password_is_refused_at_registration, |state: AppState| async move {
    let (state, range) = with_range(&state).await;
    let (status, body) = call(&state, "POST", "/api/auth/register/", Some(signup(BREACHED)), None).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({ "password": [REFUSED] })));
    only_the_prefix_left(&range, &[BREACHED]);
    // A hash present only as padding (count 0) is not breached.
    register(&state, signup(CLEAN)).await;
    only_the_prefix_left(&range, &[BREACHED, CLEAN]);
});

on_both!(a_breached_password_is_refused_at_change_and_reset, |state: AppState| async move {
    let (state, range) = with_range(&state).await;
    create_user(&state, "ada@example.com", PASSWORD).await;
    let access = login(&state, "ada@example.com", PASSWORD).await;
    let change = |password: &str| json!({ "new_password": password });
    let (status, body) =
        call(&state, "POST", "/api/auth/password/change/", Some(change(BREACHED)), Some(&access)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({ "new_password": [REFUSED] })));

    let (status, _) =
        call(&state, "POST", "/api/auth/password/reset/", Some(json!({"email": "ada@example.com"})), None).await;
    assert_eq!(status, StatusCode::OK);
    let sent = mails(&state, 1).await;
    let (uid, token) = link_params(mail_with(&sent, "Reset your password"), "password-reset");
    let confirm = |password: &str| json!({ "uid": uid, "token": token, "new_password": password });
    let (status, body) = call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(BREACHED)), None).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({ "new_password": [REFUSED] })));
    // The range was fetched once: the reset was answered from what the change kept.
    only_the_prefix_left(&range, &[BREACHED]);
    let (status, body) = call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(CLEAN)), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(!login(&state, "ada@example.com", CLEAN).await.is_empty());
});

on_both!(validation_reports_a_breach_once_the_policy_passes, |state: AppState| async move {
    let (state, range) = with_range(&state).await;
    let verdict = validate(&state, BREACHED).await;
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["violations"], json!([{ "code": "password_breached", "message": REFUSED }]));
    assert_eq!(validate(&state, CLEAN).await["valid"], true);
    only_the_prefix_left(&range, &[BREACHED, CLEAN]);
    // A password the policy refuses costs no request, and gets the policy's verdict alone.
    let verdict = validate(&state, "password").await;
    assert!(!codes(&verdict).contains(&"password_breached") && !codes(&verdict).is_empty(), "{verdict}");
    assert_eq!(range.requests().len(), 2);
});

on_both!(the_threshold_is_the_minimum_count, |state: AppState| async move {
    let (state, range) = with_range(&state).await;
    let at_least = |n: u64| configured(&state, |c| c.breached_min_count = n);
    assert_eq!(state.config.breached_min_count, 1, "the default");
    assert_eq!(validate(&at_least(4), BREACHED).await["valid"], true);
    assert_eq!(codes(&validate(&at_least(3), BREACHED).await), ["password_breached"]);
    let (status, _) = call(&at_least(4), "POST", "/api/auth/register/", Some(signup(BREACHED)), None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(range.requests().len(), 1);
});

on_both!(ranges_are_kept_for_an_hour, |state: AppState| async move {
    let (state, range) = with_range(&state).await;
    for _ in 0..3 {
        assert_eq!(validate(&state, BREACHED).await["valid"], false);
    }
    assert_eq!(range.requests().len(), 1, "the second and third checks were answered from the kept range");
    // The server's clock is the real one moved forward: a few seconds short of the hour leaves room
    // for the real seconds the test itself takes.
    pass(&state, 3590);
    validate(&state, BREACHED).await;
    assert_eq!(range.requests().len(), 1);
    pass(&state, 10);
    assert_eq!(validate(&state, BREACHED).await["valid"], false);
    only_the_prefix_left(&range, &[BREACHED, BREACHED]);
});

on_both!(a_mirror_may_have_a_path, |state: AppState| async move {
    let range = FakeRange::start().await;
    range.breach(BREACHED, 3);
    let base = format!("{}/pwned/", range.base);
    let state = configured(&state, |c| c.breached_passwords = base.parse().unwrap());
    assert_eq!(codes(&validate(&state, BREACHED).await), ["password_breached"]);
    assert_eq!(range.requests()[0].path, format!("/pwned/range/{}", &sha1_hex(BREACHED)[..5]));
});

on_both!(a_failing_service_lets_the_password_through_and_is_counted, |state: AppState| async move {
    let (state, range) = with_range(&state).await;
    let failures = || state.breached.failures();
    assert_eq!(failures(), 0);
    range.behave(RangeBehaviour::Fail(503));
    register(&state, signup(BREACHED)).await;
    assert_eq!(failures(), 1);

    range.behave(RangeBehaviour::Nonsense);
    assert_eq!(validate(&state, BREACHED).await["valid"], true);
    assert_eq!(failures(), 2);

    // Slower than the 2-second timeout: accepted once it passes.
    range.behave(RangeBehaviour::Stall(std::time::Duration::from_secs(3)));
    assert_eq!(validate(&state, BREACHED).await["valid"], true);
    assert_eq!(failures(), 3);

    // Nothing listening.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = configured(&state, |c| c.breached_passwords = BreachedPasswords::Range(base));
    assert_eq!(validate(&unreachable, BREACHED).await["valid"], true);
    assert_eq!(failures(), 4);

    // Failures are not kept: the service back, the next check asks again and refuses.
    range.behave(RangeBehaviour::Answer);
    assert_eq!(codes(&validate(&state, BREACHED).await), ["password_breached"]);
    assert_eq!((range.requests().len(), failures()), (4, 4));
    let (status, text, _) = send_text(&state, request("GET", "/metrics", None, None)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.lines().any(|l| l == "latchkey_breach_check_failures_total 4"), "{text}");
});

on_both!(the_check_is_off_by_default, |state: AppState| async move {
    assert_eq!(state.config.breached_passwords, BreachedPasswords::Off);
    let range = FakeRange::start().await;
    range.breach(BREACHED, 3);
    // Off: no request anywhere (a default pointing at any service would fail here, unreachable,
    // and count a failure), and the password is accepted.
    assert_eq!(validate(&state, BREACHED).await["valid"], true);
    register(&state, signup(BREACHED)).await;
    assert_eq!(state.breached.failures(), 0);
    // The same password with the check on.
    let on = configured(&state, |c| c.breached_passwords = BreachedPasswords::Range(range.base.clone()));
    assert_eq!(validate(&on, BREACHED).await["valid"], false);
    assert_eq!(range.requests().len(), 1);
});

//! The second step of a login by SMS code (docs/api.md#sms-codes) on both databases: a code texted
//! for the `mfa_token` finishes the login; a wrong code leaves the token usable; a code is single
//! use, dead after 5 wrong tries and after 5 minutes; `device_id` picks the phone; re-authentication
//! takes a texted code; and a Twilio that fails or stalls answers 503 at once, the login still open.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    add_phone, audited, call_as, claims, configured, confirm_phone, enroll_phone, finish_mfa, last_text,
    let_backoff_pass, mfa_step, send_sms, sms_to_files, texts, window_passes, FakeTwilio, TwilioBehaviour,
};
use latchkey_server::AppState;
use serde_json::json;

const NUMBER: &str = "+14155554567";

/// A code other than `code`.
fn wrong(code: &str) -> &'static str {
    if code == "000000" {
        "111111"
    } else {
        "000000"
    }
}

on_both!(a_texted_code_finishes_the_login_once, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let ada = enroll_phone(&state, &dir, "ada@example.com", NUMBER).await;
    let (token, methods) = mfa_step(&state, "ada@example.com").await;
    assert_eq!(methods, json!(["backup_code", "sms"]));
    let (status, body) = send_sms(&state, &token, json!({})).await;
    assert_eq!(
        (status, body),
        (StatusCode::OK, json!({"detail": "A code has been sent.", "device_id": ada.device_id}))
    );
    assert_eq!(texts(&dir).len(), 2);
    let (code, to) = last_text(&dir);
    assert_eq!(to, NUMBER);
    let (status, body) = finish_mfa(&state, &token, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&state, body["access"].as_str().unwrap()).extra["mfa"], true);
    assert_eq!(audited(&state, "mfa_verified", Some(ada.user_id)).await.last().unwrap()["method"], "sms");

    // Single use: the same code does not finish another login, whose token stays usable.
    let (again, _) = mfa_step(&state, "ada@example.com").await;
    let (status, body) = finish_mfa(&state, &again, &code).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "Invalid two-factor code.", "code": "mfa_invalid"}))
    );
    let_backoff_pass(&state, ada.user_id).await;
    let (status, _) = finish_mfa(&state, &again, &ada.backup_codes[0]).await;
    assert_eq!(status, StatusCode::OK);
    // A spent mfa_token sends nothing.
    let (status, body) = send_sms(&state, &token, json!({})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("mfa_token_invalid")));
    assert_eq!(texts(&dir).len(), 2);
});

on_both!(a_wrong_code_leaves_the_token_usable_and_five_kill_the_code, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let ada = enroll_phone(&state, &dir, "ada@example.com", NUMBER).await;
    // Four wrong tries: the code still works, and so does the mfa_token.
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    send_sms(&state, &token, json!({})).await;
    let (code, _) = last_text(&dir);
    for _ in 0..4 {
        let (status, body) = finish_mfa(&state, &token, wrong(&code)).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("mfa_invalid")));
        let_backoff_pass(&state, ada.user_id).await;
    }
    let (status, body) = finish_mfa(&state, &token, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Five: the code is dead, right or not; the login can still finish another way.
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    send_sms(&state, &token, json!({})).await;
    let (code, _) = last_text(&dir);
    for _ in 0..5 {
        let (status, _) = finish_mfa(&state, &token, wrong(&code)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let_backoff_pass(&state, ada.user_id).await;
    }
    let rows: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sms_codes").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(rows.0, 0, "the dead code is deleted");
    let (status, body) = finish_mfa(&state, &token, &code).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("mfa_invalid")));
    let_backoff_pass(&state, ada.user_id).await;
    let (status, _) = finish_mfa(&state, &token, &ada.backup_codes[0]).await;
    assert_eq!(status, StatusCode::OK);
});

on_both!(a_code_works_for_five_minutes, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    enroll_phone(&state, &dir, "ada@example.com", NUMBER).await;
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    send_sms(&state, &token, json!({})).await;
    let (code, _) = last_text(&dir);
    common::pass(&state, 299);
    let (fresh, _) = mfa_step(&state, "ada@example.com").await;
    let (status, body) = finish_mfa(&state, &fresh, &code).await;
    assert_eq!(status, StatusCode::OK, "at 4:59 it works: {body}");

    let (token, _) = mfa_step(&state, "ada@example.com").await;
    send_sms(&state, &token, json!({})).await;
    let (code, _) = last_text(&dir);
    common::pass(&state, 300);
    let (fresh, _) = mfa_step(&state, "ada@example.com").await;
    let (status, body) = finish_mfa(&state, &fresh, &code).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("mfa_invalid")), "at 5:00 it does not");
});

on_both!(device_id_picks_the_phone, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let ada = enroll_phone(&state, &dir, "ada@example.com", NUMBER).await;
    let second = add_phone(&state, &ada.access, "+447911123456").await;
    let (code, _) = last_text(&dir);
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    // Unconfirmed, the second phone cannot be asked for.
    let (status, body) = send_sms(&state, &token, json!({ "device_id": second })).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"device_id": ["No such phone number."]})));
    let (status, _) = confirm_phone(&state, &ada.access, second, &code).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = send_sms(&state, &token, json!({ "device_id": second.to_string() })).await;
    assert_eq!((status, body["device_id"].as_i64()), (StatusCode::OK, Some(second)));
    assert_eq!(last_text(&dir).1, "+447911123456");
    for (id, error) in [(json!(9999), "No such phone number."), (json!("x"), "A valid integer is required.")] {
        let (status, body) = send_sms(&state, &token, json!({ "device_id": id })).await;
        assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({ "device_id": [error] })));
    }
    let (status, body) = send_sms(&state, "not-a-token", json!({})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("mfa_token_invalid")));
    assert_eq!(texts(&dir).len(), 3, "refusals send nothing");
});

on_both!(reauthentication_takes_a_texted_code, |state: AppState| async move {
    let (state, dir) = sms_to_files(&state);
    let ada = enroll_phone(&state, &dir, "ada@example.com", NUMBER).await;
    window_passes(&state);
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    send_sms(&state, &token, json!({})).await;
    let (code, _) = last_text(&dir);
    let (status, body) =
        call_as(&state, "POST", "/api/auth/reauthenticate/", json!({ "code": code }), &ada.access).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) =
        call_as(&state, "DELETE", &format!("/api/auth/2fa/sms/{}/", ada.device_id), None, &ada.access).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "the session proved the user again");
});

on_both!(a_failing_twilio_answers_503_and_the_login_goes_on, |state: AppState| async move {
    let twilio = FakeTwilio::start().await;
    let backend = twilio.backend().parse().unwrap();
    let state = configured(&state, |c| {
        c.sms_backend = backend;
        c.sms_api_url = twilio.base.clone();
    });
    // Enroll through the stand-in: its accepted messages hold the codes.
    let user_id = common::create_user(&state, "ada@example.com", common::PASSWORD).await;
    let (access, _) = common::login_pair(&state, "ada@example.com", common::PASSWORD).await;
    let id = add_phone(&state, &access, NUMBER).await;
    let (status, _) = confirm_phone(&state, &access, id, &twilio.accepted()[0].code()).await;
    assert_eq!(status, StatusCode::OK);
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    twilio.behave(TwilioBehaviour::Fail { status: 500, code: 20500, message: "Internal Server Error".into() });
    let (status, body) = send_sms(&state, &token, json!({})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")), "{body}");
    // The mfa_token is kept: once Twilio answers, the login finishes by SMS.
    twilio.behave(TwilioBehaviour::Answer);
    let (status, _) = send_sms(&state, &token, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = finish_mfa(&state, &token, &twilio.accepted().last().unwrap().code()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(audited(&state, "mfa_verified", Some(user_id)).await.len(), 2, "the confirmation and the login");
    // Twilio stalls past the 5-second timeout: the same 503, in about that time.
    common::pass(&state, 600);
    let (token, _) = mfa_step(&state, "ada@example.com").await;
    twilio.behave(TwilioBehaviour::Stall(std::time::Duration::from_secs(8)));
    let started = std::time::Instant::now();
    let (status, _) = send_sms(&state, &token, json!({})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < std::time::Duration::from_secs(7), "{:?}", started.elapsed());
});

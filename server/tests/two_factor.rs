//! Two-factor authentication end to end (API.md §3, §6) on both databases: enrollment, the MFA
//! login in two steps and in one, backup codes, removal, replay protection, the back-off, the
//! audit trail, and secrets at rest. Expected codes come from `common::totp`, an RFC 6238 written
//! in the test harness, never from `latchkey-core`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::{header, StatusCode};
use common::{call, request, send, totp};
use latchkey_core::token::Claims;
use latchkey_server::{now, AppState};
use serde_json::{json, Value};
use sqlx::Row;

const PASSWORD: &str = "correct horse battery staple";

#[test]
fn the_test_totp_reproduces_rfc_6238() {
    // RFC 6238 Appendix B, SHA1 rows: 8 digits there, whose last 6 are the 6-digit code.
    let secret = data_encoding::BASE32_NOPAD.encode(b"12345678901234567890");
    for (time, code) in
        [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
    {
        assert_eq!(totp(&secret, time), code, "T = {time}");
    }
}

/// A token pair from a password-only login.
async fn login(state: &AppState, email: &str) -> (String, String) {
    let (status, body) =
        call(state, "POST", "/api/token/", Some(json!({"email": email, "password": PASSWORD})), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (body["access"].as_str().unwrap().to_owned(), body["refresh"].as_str().unwrap().to_owned())
}

fn claims(state: &AppState, token: &str) -> Claims {
    state.keys.verify(token, None, now(), &state.expect).unwrap()
}

/// A user with one confirmed authenticator: the state of things after a normal enrollment.
struct Enrolled {
    user_id: i64,
    email: String,
    /// The enrolling session's tokens.
    access: String,
    refresh: String,
    device_id: i64,
    secret: String,
    backup_codes: Vec<String>,
}

/// Registers `email`, adds an authenticator and confirms it with the current code.
async fn enroll(state: &AppState, email: &str) -> Enrolled {
    let user_id = common::create_user(state, email, PASSWORD).await;
    let (access, refresh) = login(state, email).await;
    let (status, device) =
        call(state, "POST", "/api/auth/2fa/totp/", Some(json!({"name": "Phone"})), Some(&access)).await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    let secret = device["secret"].as_str().unwrap().to_owned();
    let device_id = device["id"].as_i64().unwrap();
    let confirm = format!("/api/auth/2fa/totp/{device_id}/confirm/");
    let (status, body) =
        call(state, "POST", &confirm, Some(json!({"code": totp(&secret, now())})), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let backup_codes =
        body["backup_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    Enrolled { user_id, email: email.to_owned(), access, refresh, device_id, secret, backup_codes }
}

/// The code of the step after the one the enrollment used (still inside the ±1 window).
fn next_code(user: &Enrolled) -> String {
    totp(&user.secret, now() + 30)
}

/// Lets the back-off's wait pass, as time would: only the lock's end moves, not the failure count.
async fn let_backoff_pass(state: &AppState, user_id: i64) {
    sqlx::query("UPDATE users SET mfa_locked_until = 0 WHERE id = $1")
        .bind(user_id)
        .execute(&state.db.pool)
        .await
        .unwrap();
}

async fn backoff_row(state: &AppState, user_id: i64) -> (i64, i64) {
    let row = sqlx::query("SELECT mfa_failures, mfa_locked_until FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    (row.get("mfa_failures"), row.get("mfa_locked_until"))
}

/// Login without `otp`: the 403 `mfa_required` body; returns its `mfa_token`.
async fn mfa_token(state: &AppState, email: &str) -> String {
    let (status, body) =
        call(state, "POST", "/api/token/", Some(json!({"email": email, "password": PASSWORD})), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["detail"], "Two-factor authentication required.");
    assert_eq!(body["code"], "mfa_required");
    assert_eq!(body["methods"], json!(["totp", "backup_code"]));
    let token = body["mfa_token"].as_str().unwrap().to_owned();
    assert!(token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()), "{token}");
    token
}

async fn audit_events(state: &AppState, user_id: i64) -> Vec<(String, Value)> {
    let rows = sqlx::query("SELECT event, detail FROM audit_events WHERE user_id = $1 ORDER BY id")
        .bind(user_id)
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    rows.iter().map(|row| (row.get("event"), serde_json::from_str(&row.get::<String, _>("detail")).unwrap())).collect()
}

on_both!(enrollment_creates_confirms_and_reports_devices, |state: AppState| async move {
    common::create_user(&state, "ada@example.com", PASSWORD).await;
    let (access, refresh) = login(&state, "ada@example.com").await;
    let (status, body) = call(&state, "GET", "/api/auth/2fa/", None, Some(&access)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"enabled": false, "devices": [], "backup_codes_remaining": 0})));

    let (status, device) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&access)).await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    let secret = device["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert_eq!(
        device["otpauth_uri"],
        format!("otpauth://totp/Latchkey:ada%40example.com?secret={secret}&algorithm=SHA1&digits=6&period=30&issuer=Latchkey")
    );
    assert!(device["qr_svg"].as_str().unwrap().contains("<svg"), "{}", device["qr_svg"]);
    let id = device["id"].as_i64().unwrap();

    // Unconfirmed, the device does not turn 2FA on.
    let (_, body) = call(&state, "GET", "/api/auth/2fa/", None, Some(&access)).await;
    assert_eq!(body["enabled"], false);
    assert_eq!(body["devices"][0]["name"], "Authenticator");
    assert_eq!(body["devices"][0]["confirmed"], false);
    assert_eq!(body["devices"][0]["last_used_at"], Value::Null);
    let (_, me) = call(&state, "GET", "/api/auth/me/", None, Some(&access)).await;
    assert_eq!(me["mfa_enabled"], false);

    let confirm = format!("/api/auth/2fa/totp/{id}/confirm/");
    let (status, body) = call(&state, "POST", &confirm, Some(json!({"code": "000000x"})), Some(&access)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"code": ["Invalid two-factor code."]})));
    let (status, body) = call(&state, "POST", &confirm, Some(json!({})), Some(&access)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"code": ["This field is required."]})));
    let user_id = me["id"].as_i64().unwrap();
    let_backoff_pass(&state, user_id).await;

    let (status, body) =
        call(&state, "POST", &confirm, Some(json!({"code": totp(secret, now())})), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes = body["backup_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    for code in codes {
        let code = code.as_str().unwrap();
        assert!(code.len() == 14 && code.chars().filter(|c| *c == '-').count() == 2, "{code}");
    }
    let (status, body) = call(&state, "POST", &confirm, Some(json!({"code": "123456"})), Some(&access)).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"code": ["This authenticator is already confirmed."]}))
    );

    let (_, body) = call(&state, "GET", "/api/auth/2fa/", None, Some(&access)).await;
    assert_eq!(body["enabled"], true);
    assert_eq!(body["backup_codes_remaining"], 10);
    assert_eq!(body["devices"][0]["confirmed"], true);
    assert!(body["devices"][0]["last_used_at"].is_string());
    let (_, me) = call(&state, "GET", "/api/auth/me/", None, Some(&access)).await;
    assert_eq!(me["mfa_enabled"], true);
    assert_eq!(backoff_row(&state, user_id).await, (0, 0), "a success clears the back-off");

    // The enrolling session proved the code: its next access token says so.
    assert_eq!(claims(&state, &access).extra["mfa"], false);
    let (status, body) = call(&state, "POST", "/api/token/refresh/", Some(json!({"refresh": refresh})), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&state, body["access"].as_str().unwrap()).extra["mfa"], true);

    // A second device confirms with `{}`: the backup codes are given once.
    let access = body["access"].as_str().unwrap().to_owned();
    let (_, second) =
        call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({"name": " Tablet "})), Some(&access)).await;
    let second_secret = second["secret"].as_str().unwrap();
    assert_ne!(second_secret, secret);
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", second["id"]);
    let (status, body) =
        call(&state, "POST", &confirm, Some(json!({"code": totp(second_secret, now())})), Some(&access)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (_, body) = call(&state, "GET", "/api/auth/2fa/", None, Some(&access)).await;
    assert_eq!(body["devices"][1]["name"], "Tablet");
    assert_eq!(body["backup_codes_remaining"], 10);

    let events: Vec<String> = audit_events(&state, user_id).await.into_iter().map(|(event, _)| event).collect();
    assert_eq!(
        events,
        [
            "login_succeeded",
            "mfa_failed",
            "mfa_verified",
            "totp_device_added",
            "backup_codes_generated",
            "mfa_verified",
            "totp_device_added"
        ]
    );
});

on_both!(device_names_and_paths_are_checked, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    common::create_user(&state, "bob@example.com", PASSWORD).await;
    let (bob, _) = login(&state, "bob@example.com").await;
    let long = "x".repeat(65);
    let (status, body) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({"name": long})), Some(&bob)).await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"name": ["Ensure this field has no more than 64 characters."]}))
    );
    let (status, _) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({"name": ["x"]})), Some(&bob)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = call(&state, "POST", "/api/auth/2fa/totp/", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // Someone else's device, or no device, is DRF's 404.
    for path in [format!("/api/auth/2fa/totp/{}/confirm/", ada.device_id), "/api/auth/2fa/totp/x/confirm/".into()] {
        let (status, body) = call(&state, "POST", &path, Some(json!({"code": "123456"})), Some(&bob)).await;
        assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})), "{path}");
    }
    let path = format!("/api/auth/2fa/totp/{}/", ada.device_id);
    let (status, _) = call(&state, "DELETE", &path, Some(json!({"password": PASSWORD})), Some(&bob)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // At most ten devices.
    for _ in 0..10 {
        let (status, _) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&bob)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, body) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&bob)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["non_field_errors"][0], "An account has at most 10 authenticators. Remove one first.");
});

on_both!(login_takes_the_second_factor_in_two_steps_or_one, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    // A wrong password still gets the one login failure, with or without a code: nothing about 2FA leaks.
    let wrong = json!({"email": ada.email, "password": "wrong", "otp": next_code(&ada)});
    let (status, body) = call(&state, "POST", "/api/token/", Some(wrong), None).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "No active account found with the given credentials"}))
    );

    // Two steps: a wrong code, then the right one after the wait.
    let token = mfa_token(&state, &ada.email).await;
    let (status, body) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": token, "code": "000000"})), None).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "Invalid two-factor code.", "code": "mfa_invalid"}))
    );
    let_backoff_pass(&state, ada.user_id).await;
    let code = next_code(&ada);
    let (status, body) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": token, "code": code})), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["mfa"], true);
    let (status, body) =
        call(&state, "POST", "/api/token/refresh/", Some(json!({"refresh": body["refresh"]})), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&state, body["access"].as_str().unwrap()).extra["mfa"], true, "refresh keeps the session's mfa");

    // The token was spent; an unknown or expired one is no better.
    let gone = json!({"detail": "The two-factor login has expired or was already used. Log in again.", "code": "mfa_token_invalid"});
    let (status, body) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": token, "code": ada.backup_codes[0]})), None)
            .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, gone.clone()));
    let (status, body) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": "nope", "code": "123456"})), None).await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, gone.clone()));
    let expired = mfa_token(&state, &ada.email).await;
    sqlx::query("UPDATE mfa_challenges SET expires_at = $1").bind(now()).execute(&state.db.pool).await.unwrap();
    let (status, body) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": expired, "code": ada.backup_codes[0]})), None)
            .await;
    assert_eq!((status, body), (StatusCode::UNAUTHORIZED, gone));
    let (status, body) = call(&state, "POST", "/api/token/mfa/", Some(json!({"code": "123456"})), None).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"mfa_token": ["This field is required."]})));

    // One step, with a backup code in `otp`; the code then is spent.
    let one_step = json!({"email": ada.email, "password": PASSWORD, "otp": ada.backup_codes[0].to_uppercase()});
    let (status, body) = call(&state, "POST", "/api/token/", Some(one_step.clone()), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(claims(&state, body["access"].as_str().unwrap()).extra["mfa"], true);
    let (status, body) = call(&state, "POST", "/api/token/", Some(one_step), None).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "Invalid two-factor code.", "code": "mfa_invalid"}))
    );
    let (_, status_body) = call(&state, "GET", "/api/auth/2fa/", None, Some(&ada.access)).await;
    assert_eq!(status_body["backup_codes_remaining"], 9);

    // Cookie mode asked for at the first step carries over to the second.
    let_backoff_pass(&state, ada.user_id).await;
    let (status, body) = call(
        &state,
        "POST",
        "/api/token/",
        Some(json!({"email": ada.email, "password": PASSWORD, "cookie": true})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let second = json!({"mfa_token": body["mfa_token"], "code": ada.backup_codes[1]});
    let (status, body, response) = send(&state, request("POST", "/api/token/mfa/", Some(second), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh").is_none(), "{body}");
    let cookie = response.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.starts_with("latchkey_refresh=") && cookie.contains("HttpOnly"), "{cookie}");

    // An account without 2FA ignores `otp`.
    common::create_user(&state, "bob@example.com", PASSWORD).await;
    let plain = json!({"email": "bob@example.com", "password": PASSWORD, "otp": "123456"});
    let (status, body) = call(&state, "POST", "/api/token/", Some(plain), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(claims(&state, body["access"].as_str().unwrap()).extra["mfa"], false);

    let events = audit_events(&state, ada.user_id).await;
    let logins: Vec<&str> = events
        .iter()
        .filter(|(_, detail)| detail["purpose"] == "login")
        .map(|(event, detail)| if event == "mfa_verified" { detail["method"].as_str().unwrap() } else { "failed" })
        .collect();
    assert_eq!(logins, ["failed", "totp", "backup_code", "failed", "backup_code"]);
    // What the audit log says never includes what was typed.
    let stored = sqlx::query("SELECT detail, user_agent FROM audit_events").fetch_all(&state.db.pool).await.unwrap();
    let text: String = stored.iter().map(|row| row.get::<String, _>("detail").to_lowercase()).collect();
    for secret in ada.backup_codes.iter().map(|c| c.replace('-', "")).chain([ada.secret.to_lowercase(), code]) {
        assert!(!text.contains(&secret), "{secret} in the audit log: {text}");
    }
});

on_both!(an_inactive_user_cannot_finish_the_second_step, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let token = mfa_token(&state, &ada.email).await;
    sqlx::query("UPDATE users SET is_active = 0 WHERE id = $1")
        .bind(ada.user_id)
        .execute(&state.db.pool)
        .await
        .unwrap();
    let (status, body) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": token, "code": next_code(&ada)})), None).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "No active account found with the given credentials"}))
    );
});

on_both!(a_code_is_accepted_once_even_when_sent_concurrently, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let code = next_code(&ada);
    let tokens = [mfa_token(&state, &ada.email).await, mfa_token(&state, &ada.email).await];
    let attempts = tokens.iter().map(|token| {
        let state = state.clone();
        let body = json!({"mfa_token": token, "code": code});
        tokio::spawn(async move { send(&state, request("POST", "/api/token/mfa/", Some(body), None)).await.0 })
    });
    let statuses: Vec<StatusCode> = futures_join(attempts).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    // The code never works again, whatever the timing: the step is spent.
    let_backoff_pass(&state, ada.user_id).await;
    let token = mfa_token(&state, &ada.email).await;
    let (status, body) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": token, "code": code})), None).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("mfa_invalid")));
    // Nor does the enrollment's code, an earlier step still inside the window.
    let_backoff_pass(&state, ada.user_id).await;
    let enrollment_code = totp(&ada.secret, now());
    if enrollment_code != code {
        let (status, _) =
            call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": token, "code": enrollment_code})), None)
                .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
});

async fn futures_join<T: Send + 'static>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for handle in handles.collect::<Vec<_>>() {
        out.push(handle.await.unwrap());
    }
    out
}

on_both!(failures_back_off_exponentially_and_lock_out_right_codes, |mut state: AppState| async move {
    let mut config = (*state.config).clone();
    config.mfa_backoff_cap = std::time::Duration::from_secs(3);
    state.config = std::sync::Arc::new(config);
    let ada = enroll(&state, "ada@example.com").await;
    let token = mfa_token(&state, &ada.email).await;
    let attempt = |code: String| {
        let state = state.clone();
        let body = json!({"mfa_token": token, "code": code});
        async move {
            let (status, body, response) = send(&state, request("POST", "/api/token/mfa/", Some(body), None)).await;
            let retry =
                response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().parse::<i64>().unwrap());
            (status, body, retry)
        }
    };
    // Each failure sets the next wait: 1, 2, then 3 s (the cap), 3 s.
    for (failures, wait) in [(1, 1), (2, 2), (3, 3), (4, 3)] {
        let before = now();
        let (status, _, _) = attempt("999999".into()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (count, until) = backoff_row(&state, ada.user_id).await;
        assert_eq!(count, failures);
        assert!((before + wait..=now() + wait).contains(&until), "failure {failures}: locked until {until}");
        // During the wait even the right code is refused, and that refusal is not a failure.
        let (status, body, retry) = attempt(next_code(&ada)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "throttled");
        let retry = retry.unwrap();
        assert!((1..=wait).contains(&retry), "Retry-After {retry}, wait {wait}");
        let unit = if retry == 1 { "second" } else { "seconds" };
        assert_eq!(body["detail"], format!("Request was throttled. Expected available in {retry} {unit}."));
        assert_eq!(backoff_row(&state, ada.user_id).await.0, failures);
        let_backoff_pass(&state, ada.user_id).await;
    }
    // The back-off is per user, whichever endpoint the codes go to.
    sqlx::query("UPDATE users SET mfa_locked_until = $1 WHERE id = $2")
        .bind(now() + 60)
        .bind(ada.user_id)
        .execute(&state.db.pool)
        .await
        .unwrap();
    let (status, _) = call(
        &state,
        "POST",
        "/api/auth/2fa/backup-codes/",
        Some(json!({"code": ada.backup_codes[0]})),
        Some(&ada.access),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let one_step = json!({"email": ada.email, "password": PASSWORD, "otp": ada.backup_codes[0]});
    let (status, _) = call(&state, "POST", "/api/token/", Some(one_step), None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    let_backoff_pass(&state, ada.user_id).await;
    // After the wait, the right code works and the count starts again.
    let (status, body, _) = attempt(next_code(&ada)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(backoff_row(&state, ada.user_id).await, (0, 0));
    let throttled = audit_events(&state, ada.user_id).await.iter().filter(|(_, d)| d["reason"] == "throttled").count();
    assert_eq!(throttled, 6);
});

on_both!(removing_devices_needs_the_password_or_a_code, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let path = format!("/api/auth/2fa/totp/{}/", ada.device_id);
    // Past the re-authentication window (sudo mode, tests/sudo_mode.rs), nothing given is refused.
    sqlx::query("UPDATE sessions SET created_at = created_at - 3600").execute(&state.db.pool).await.unwrap();
    let (status, body) = call(&state, "DELETE", &path, Some(json!({})), Some(&ada.access)).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": "Please confirm it is you.", "code": "reauthentication_required"}))
    );
    sqlx::query("UPDATE sessions SET created_at = created_at + 3600").execute(&state.db.pool).await.unwrap();
    let (status, body) = call(&state, "DELETE", &path, Some(json!({"password": "wrong"})), Some(&ada.access)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"password": ["Incorrect password."]})));
    let (status, body) = call(&state, "DELETE", &path, Some(json!({"code": "000000"})), Some(&ada.access)).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"code": ["Invalid two-factor code."]})));
    let_backoff_pass(&state, ada.user_id).await;
    // A second device, removed with a code of the first.
    let (_, second) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&ada.access)).await;
    let second_path = format!("/api/auth/2fa/totp/{}/", second["id"]);
    let (status, _) =
        call(&state, "DELETE", &second_path, Some(json!({"code": next_code(&ada)})), Some(&ada.access)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = call(&state, "GET", "/api/auth/2fa/", None, Some(&ada.access)).await;
    assert_eq!((body["enabled"].clone(), body["devices"].as_array().unwrap().len()), (json!(true), 1));

    // The last confirmed device goes with the password: 2FA is off and the backup codes are void.
    let (status, _) = call(&state, "DELETE", &path, Some(json!({"password": PASSWORD})), Some(&ada.access)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, body) = call(&state, "GET", "/api/auth/2fa/", None, Some(&ada.access)).await;
    assert_eq!(body, json!({"enabled": false, "devices": [], "backup_codes_remaining": 0}));
    let (status, _) =
        call(&state, "POST", "/api/token/", Some(json!({"email": ada.email, "password": PASSWORD})), None).await;
    assert_eq!(status, StatusCode::OK, "login no longer asks for a code");
    let (status, body) =
        call(&state, "POST", "/api/auth/2fa/backup-codes/", Some(json!({"password": PASSWORD})), Some(&ada.access))
            .await;
    assert_eq!(
        (status, body),
        (StatusCode::BAD_REQUEST, json!({"non_field_errors": ["Two-factor authentication is not enabled."]}))
    );
    let events: Vec<String> = audit_events(&state, ada.user_id).await.into_iter().map(|(e, _)| e).collect();
    assert_eq!(events.iter().filter(|e| *e == "totp_device_removed").count(), 2);
});

on_both!(regenerating_backup_codes_voids_the_old_set, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let (status, body) = call(
        &state,
        "POST",
        "/api/auth/2fa/backup-codes/",
        Some(json!({"code": ada.backup_codes[3]})),
        Some(&ada.access),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let fresh: Vec<String> =
        body["backup_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(fresh.len(), 10);
    assert!(fresh.iter().all(|code| !ada.backup_codes.contains(code)));
    let old = json!({"email": ada.email, "password": PASSWORD, "otp": ada.backup_codes[4]});
    let (status, _) = call(&state, "POST", "/api/token/", Some(old), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old set is void");
    let_backoff_pass(&state, ada.user_id).await;
    let new = json!({"email": ada.email, "password": PASSWORD, "otp": fresh[4].replace('-', " ")});
    let (status, _) = call(&state, "POST", "/api/token/", Some(new), None).await;
    assert_eq!(status, StatusCode::OK);
});

on_both!(only_a_verified_session_adds_devices_once_2fa_is_on, |state: AppState| async move {
    common::create_user(&state, "ada@example.com", PASSWORD).await;
    // A session opened before 2FA was turned on...
    let (old_session, _) = login(&state, "ada@example.com").await;
    let (access, _) = login(&state, "ada@example.com").await;
    let (_, device) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&access)).await;
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", device["id"]);
    let code = totp(device["secret"].as_str().unwrap(), now());
    let (status, _) = call(&state, "POST", &confirm, Some(json!({"code": code})), Some(&access)).await;
    assert_eq!(status, StatusCode::OK);
    // ...cannot add an authenticator; the enrolling session can.
    let (status, body) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&old_session)).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": "You do not have permission to perform this action."}))
    );
    let (status, _) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&access)).await;
    assert_eq!(status, StatusCode::CREATED);
});

on_both!(deleting_the_account_deletes_its_second_factors, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let (status, _) =
        call(&state, "DELETE", "/api/auth/me/", Some(json!({"password": PASSWORD})), Some(&ada.access)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for table in ["totp_devices", "backup_codes", "mfa_challenges"] {
        let row = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}")).fetch_one(&state.db.pool).await.unwrap();
        assert_eq!(row.get::<i64, _>("n"), 0, "{table}");
    }
    let _ = ada.refresh;
});

on_both!(secrets_survive_a_key_rotation, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let sealed = |state: AppState| async move {
        let row = sqlx::query("SELECT secret FROM totp_devices").fetch_one(&state.db.pool).await.unwrap();
        row.get::<String, _>("secret")
    };
    let before = sealed(state.clone()).await;
    assert!(before.starts_with(&format!("v1${}$", state.vault.current_key_id())), "{before}");
    // The new key is current; the old one (here the secret key it was derived from) still opens.
    let mut config = (*state.config).clone();
    config.encryption_key = Some("a brand new encryption key".into());
    config.old_encryption_keys = vec![config.secret_key.clone().unwrap()];
    let mut rotated = AppState::with_db(config.clone(), state.db.clone()).unwrap();
    rotated.hasher = state.hasher.clone();
    let (status, body) = call(
        &rotated,
        "POST",
        "/api/token/",
        Some(json!({"email": ada.email, "password": PASSWORD, "otp": next_code(&ada)})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let after = sealed(state.clone()).await;
    assert!(after.starts_with(&format!("v1${}$", rotated.vault.current_key_id())), "sealed again on use: {after}");
    // Backup codes hashed under the old key still match.
    let (status, _) = call(
        &rotated,
        "POST",
        "/api/token/",
        Some(json!({"email": ada.email, "password": PASSWORD, "otp": ada.backup_codes[0]})),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // `latchkey rekey` finds nothing left to do, and the old key can go.
    assert_eq!(latchkey_server::mfa::rekey(&rotated).await.unwrap(), 0);
    config.old_encryption_keys.clear();
    let mut new_only = AppState::with_db(config, state.db.clone()).unwrap();
    new_only.hasher = state.hasher.clone();
    let (status, body) = call(&new_only, "GET", "/api/auth/2fa/", None, Some(&ada.access)).await;
    assert_eq!((status, body["enabled"].clone()), (StatusCode::OK, json!(true)));
});

/// The database file holds no second factor in any form: not the base32 or raw secret, not its
/// hex, not a backup code, not an `mfa_token`. SQLite only (the file is what an attacker copies);
/// the write-ahead log and shared-memory files are read too, since recent writes sit there.
#[tokio::test]
async fn the_sqlite_file_holds_no_secret_or_code() {
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let ada = enroll(&state, "ada@example.com").await;
    let token = mfa_token(&state, &ada.email).await;
    // A second, unconfirmed device and a regenerated set, so every write path is covered.
    let (_, device) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&ada.access)).await;
    let (_, fresh) =
        call(&state, "POST", "/api/auth/2fa/backup-codes/", Some(json!({"password": PASSWORD})), Some(&ada.access))
            .await;

    let path = state.config.database_url.trim_start_matches("sqlite://").split('?').next().unwrap().to_owned();
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(file) = std::fs::read(format!("{path}{suffix}")) {
            bytes.extend(file);
        }
    }
    assert!(bytes.len() > 4096, "read {} bytes from {path}", bytes.len());
    let text = String::from_utf8_lossy(&bytes).to_lowercase();
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for secret in [ada.secret.as_str(), device["secret"].as_str().unwrap()] {
        let raw = data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).unwrap();
        assert!(!text.contains(&secret.to_lowercase()), "base32 secret in the file");
        assert!(!contains(&raw), "raw secret in the file");
        assert!(!text.contains(&latchkey_core::encoding::hex(&raw)), "hex secret in the file");
    }
    let codes = ada
        .backup_codes
        .iter()
        .chain(
            fresh["backup_codes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap())
                .map(str::to_owned)
                .collect::<Vec<_>>()
                .iter(),
        )
        .cloned()
        .collect::<Vec<_>>();
    assert_eq!(codes.len(), 20);
    for code in &codes {
        assert!(!text.contains(code) && !text.contains(&code.replace('-', "")), "backup code {code} in the file");
    }
    assert!(!text.contains(&token), "mfa_token in the file");
    // The check can see what is there: the e-mail address is stored in the clear.
    assert!(text.contains("ada@example.com"));
}

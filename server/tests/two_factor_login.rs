//! The second step of a login with two-factor authentication (docs/api.md#tokens and
//! docs/api.md#two-factor-authentication) on both databases: in two steps (`mfa_token`, then the
//! code) or in one (`otp`), with a code or a backup code, replay protection, the back-off after wrong
//! codes, and the audit trail. Expected codes come from `common::totp`, an RFC 6238 written in the
//! test harness, never from `latchkey-core`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::{header, StatusCode};
use common::{
    audit_events, backoff_row, call, claims, create_user, enroll, futures_join, let_backoff_pass, mfa_token, next_code,
    request, send, totp, PASSWORD,
};
use latchkey_server::challenges::Purpose;
use latchkey_server::AppState;
use serde_json::json;
use sqlx::Row;

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
    common::pass(&state, u64::try_from(Purpose::Mfa.lifetime()).unwrap());
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
    create_user(&state, "bob@example.com", PASSWORD).await;
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
    latchkey_server::users::set_flag(&state.db, ada.user_id, "is_active", false).await.unwrap();
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
    let enrollment_code = totp(&ada.secret, state.clock.now());
    if enrollment_code != code {
        let (status, _) =
            call(&state, "POST", "/api/token/mfa/", Some(json!({"mfa_token": token, "code": enrollment_code})), None)
                .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
});

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
        let before = state.clock.now();
        let (status, _, _) = attempt("999999".into()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let (count, until) = backoff_row(&state, ada.user_id).await;
        assert_eq!(count, failures);
        assert!(
            (before + wait..=state.clock.now() + wait).contains(&until),
            "failure {failures}: locked until {until}"
        );
        // During the wait even the right code is refused, and that refusal is not a failure.
        let (status, body, retry) = attempt(next_code(&ada)).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(body["code"], "throttled");
        let retry = retry.unwrap();
        // At least the wait: the lock holds through the second it ends in.
        assert!((wait..=wait + 1).contains(&retry), "Retry-After {retry}, wait {wait}");
        let unit = if retry == 1 { "second" } else { "seconds" };
        assert_eq!(body["detail"], format!("Request was throttled. Expected available in {retry} {unit}."));
        assert_eq!(backoff_row(&state, ada.user_id).await.0, failures);
        let_backoff_pass(&state, ada.user_id).await;
    }
    // The back-off is per user, whichever endpoint the codes go to.
    sqlx::query("UPDATE users SET mfa_locked_until = $1 WHERE id = $2")
        .bind(state.clock.now() + 60)
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

//! Two-factor enrollment (docs/api.md#two-factor-authentication) on both databases: adding, confirming, naming and listing
//! authenticators, removing them, backup codes and their regeneration, and who may do each. Expected
//! codes come from `common::totp`, an RFC 6238 written in the test harness, never from `latchkey-core`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    audit_events, backoff_row, call, claims, create_user, enroll, let_backoff_pass, login_pair, next_code, totp,
    window_passes, PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

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

on_both!(enrollment_creates_confirms_and_reports_devices, |state: AppState| async move {
    create_user(&state, "ada@example.com", PASSWORD).await;
    let (access, refresh) = login_pair(&state, "ada@example.com", PASSWORD).await;
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
        call(&state, "POST", &confirm, Some(json!({"code": totp(secret, state.clock.now())})), Some(&access)).await;
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
        call(&state, "POST", &confirm, Some(json!({"code": totp(second_secret, state.clock.now())})), Some(&access))
            .await;
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
            "mfa_enabled",
            "backup_codes_generated",
            "mfa_verified",
            "totp_device_added"
        ]
    );
});

on_both!(device_names_and_paths_are_checked, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    create_user(&state, "bob@example.com", PASSWORD).await;
    let (bob, _) = login_pair(&state, "bob@example.com", PASSWORD).await;
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

on_both!(removing_devices_needs_the_password_or_a_code, |state: AppState| async move {
    let ada = enroll(&state, "ada@example.com").await;
    let path = format!("/api/auth/2fa/totp/{}/", ada.device_id);
    // Past the re-authentication window (sudo mode, tests/sudo_mode.rs), nothing given is refused.
    window_passes(&state);
    let (status, body) = call(&state, "DELETE", &path, Some(json!({})), Some(&ada.access)).await;
    assert_eq!(
        (status, body),
        (StatusCode::FORBIDDEN, json!({"detail": "Please confirm it is you.", "code": "reauthentication_required"}))
    );
    let reauthenticate = Some(json!({ "password": PASSWORD }));
    let (status, body) = call(&state, "POST", "/api/auth/reauthenticate/", reauthenticate, Some(&ada.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
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
    create_user(&state, "ada@example.com", PASSWORD).await;
    // A session opened before 2FA was turned on...
    let (old_session, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let (access, _) = login_pair(&state, "ada@example.com", PASSWORD).await;
    let (_, device) = call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({})), Some(&access)).await;
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", device["id"]);
    let code = totp(device["secret"].as_str().unwrap(), state.clock.now());
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

//! Signing in with a code or link e-mailed to the account's address
//! (docs/api.md#e-mail-codes-and-magic-links): the code and the link each sign in once, within 10
//! minutes, only with the flow that asked; a fetched link spends nothing; nothing is stored in clear;
//! 2FA, inactive accounts, mandatory verification and `LATCHKEY_LOGIN_CODES=off`. What an attacker
//! can do with it (enumeration, guessing, floods) is in `login_code_abuse.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::{header, StatusCode};
use common::*;
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

const ADA: &str = "ada@example.com";

/// `401 code_invalid` with `left` tries left.
fn invalid(left: i64) -> Value {
    json!({"detail": "The code is invalid or has expired.", "code": "code_invalid", "attempts_left": left})
}

/// The `auth_method` of the session of `access`, and the user's `is_verified`.
async fn session_facts(state: &AppState, access: &str) -> (Value, Value) {
    let (_, sessions) = list_sessions(state, access).await;
    let current = sessions.as_array().unwrap().iter().find(|s| s["current"] == true).unwrap();
    let (_, me) = call(state, "GET", "/api/auth/me/", None, Some(access)).await;
    (current["auth_method"].clone(), me["is_verified"].clone())
}

on_both!(a_code_signs_in_once_and_proves_the_address, |state: AppState| async move {
    let id = create_user(&state, ADA, PASSWORD).await;
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    assert_eq!(sent.flow, flow_id);
    let (status, body) = code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["refresh"].is_string(), "{body}");
    let access = body["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["email"], ADA);
    assert_eq!(session_facts(&state, access).await, (json!("code"), json!(true)));
    // Single use: neither the code nor the link's token works again.
    assert_eq!(
        code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await,
        (StatusCode::UNAUTHORIZED, invalid(0))
    );
    let again = code_login(&state, json!({"flow_id": flow_id, "token": sent.token})).await;
    assert_eq!(again, (StatusCode::UNAUTHORIZED, invalid(0)));
    // Audited: the message, the address proved, the login and the refusals (never the code).
    assert_eq!(audited(&state, "login_code_sent", Some(id)).await, [json!({})]);
    assert_eq!(audited(&state, "email_verified", Some(id)).await, [json!({"by": "login_code"})]);
    assert_eq!(audited(&state, "login_succeeded", Some(id)).await, [json!({"mfa": false, "method": "code"})]);
    let refused = audited(&state, "login_failed", Some(id)).await;
    assert!(refused.is_empty(), "a spent flow is refused before anything is counted: {refused:?}");
    for (_, detail) in audit_events(&state, id).await {
        assert!(!detail.to_string().contains(&sent.code) && !detail.to_string().contains(&sent.token), "{detail}");
    }
});

on_both!(the_link_signs_in_by_post_and_fetching_it_spends_nothing, |state: AppState| async move {
    create_user(&state, ADA, PASSWORD).await;
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    let base = state.config.public_base();
    assert!(sent.link.starts_with(&format!("{base}/login/code?flow={flow_id}&token=")), "{}", sent.link);
    assert_eq!(sent.token.len(), 64);
    // A mail scanner (or a prefetching browser) fetches the link: the page, and nothing spent.
    let path = sent.link.strip_prefix(&base).unwrap();
    for method in ["GET", "HEAD", "GET"] {
        let (status, page, _) = send_text(&state, request(method, path, None, None)).await;
        assert_eq!(status, StatusCode::OK, "{method} {path}");
        assert!(method == "HEAD" || page.contains("<script type=\"module\" src=\"/app.js\">"), "{page}");
    }
    let row = sqlx::query("SELECT attempts FROM login_codes").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(row.get::<i64, _>("attempts"), 0, "fetching the page counted a try");
    // The page's button: the token by POST, here in cookie mode.
    let body = json!({"flow_id": sent.flow, "token": sent.token, "cookie": true});
    let (status, body, response) = send(&state, request("POST", "/api/token/code/", Some(body), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("refresh").is_none(), "cookie mode: {body}");
    assert!(response.headers()[header::SET_COOKIE].to_str().unwrap().starts_with("latchkey_refresh="));
    let access = body["access"].as_str().unwrap();
    assert_eq!(session_facts(&state, access).await, (json!("code"), json!(true)));
    // The code of the same message is spent with it.
    let again = code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await;
    assert_eq!(again, (StatusCode::UNAUTHORIZED, invalid(0)));
});

on_both!(codes_and_links_expire_after_ten_minutes, |state: AppState| async move {
    create_user(&state, ADA, PASSWORD).await;
    let (first, a) = flow_with_code(&state, ADA).await;
    let (second, b) = flow_with_code(&state, ADA).await;
    let rows = sqlx::query("SELECT created_at, expires_at FROM login_codes ORDER BY created_at, expires_at")
        .fetch_all(&state.db.pool)
        .await
        .unwrap();
    let times: Vec<(i64, i64)> = rows.iter().map(|r| (r.get("created_at"), r.get("expires_at"))).collect();
    assert!(times.iter().all(|(created, expires)| expires - created == 600), "{times:?}");
    // Two seconds before the first one's end it works; at the second one's end it does not.
    pass(&state, u64::try_from(times[0].1 - state.clock.now() - 2).unwrap());
    assert_eq!(code_login(&state, json!({"flow_id": first, "code": a.code})).await.0, StatusCode::OK);
    pass(&state, u64::try_from(times[1].1 - state.clock.now()).unwrap());
    assert_eq!(
        code_login(&state, json!({"flow_id": second, "code": b.code})).await,
        (StatusCode::UNAUTHORIZED, invalid(0))
    );
    assert_eq!(
        code_login(&state, json!({"flow_id": second, "token": b.token})).await,
        (StatusCode::UNAUTHORIZED, invalid(0))
    );
});

on_both!(a_code_works_only_with_the_flow_that_asked_for_it, |state: AppState| async move {
    create_user(&state, ADA, PASSWORD).await;
    let (first, a) = flow_with_code(&state, ADA).await;
    let (second, b) = flow_with_code(&state, ADA).await;
    // One chance in a million that the two codes are the same: then only the token is tried across.
    if a.code != b.code {
        let crossed = code_login(&state, json!({"flow_id": second, "code": a.code})).await;
        assert_eq!(crossed, (StatusCode::UNAUTHORIZED, invalid(4)));
    }
    let crossed = code_login(&state, json!({"flow_id": first, "token": b.token})).await;
    assert_eq!(crossed.1["code"], "code_invalid");
    assert_eq!(code_login(&state, json!({"flow_id": first, "code": a.code})).await.0, StatusCode::OK);
    assert_eq!(code_login(&state, json!({"flow_id": second, "code": b.code})).await.0, StatusCode::OK);
});

on_both!(codes_tokens_and_flow_ids_are_never_stored_in_clear, |state: AppState| async move {
    use sha2::{Digest, Sha256};
    create_user(&state, ADA, PASSWORD).await;
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    let sha = |text: &str| latchkey_core::encoding::hex(&Sha256::digest(text.as_bytes()));
    let row = sqlx::query("SELECT flow_hash, email, code_hash, token_hash FROM login_codes")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    let stored: Vec<String> = ["flow_hash", "email", "code_hash", "token_hash"].map(|c| row.get(c)).into();
    for value in &stored {
        for secret in [&flow_id, &sent.code, &sent.token] {
            assert!(!value.contains(secret.as_str()), "{value} holds {secret}");
        }
    }
    assert_eq!(stored[0], sha(&flow_id));
    assert_eq!(stored[1], ADA);
    assert_eq!(stored[3], sha(&sent.token));
    // The code's hash is keyed: no plain hash of the code, with or without the flow, gives it.
    assert_eq!(stored[2].len(), 64);
    for plain in [sha(&sent.code), sha(&format!("{flow_id}{}", sent.code)), sha(&format!("{}{flow_id}", sent.code))] {
        assert_ne!(stored[2], plain);
    }
});

on_both!(two_factor_accounts_finish_with_the_second_factor_and_keep_the_method, |state: AppState| async move {
    let ada = enroll(&state, ADA).await;
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    let (status, body) = code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("mfa_required")), "{body}");
    assert_eq!(body["methods"], json!(["totp", "backup_code"]));
    let step = json!({"mfa_token": body["mfa_token"], "code": next_code(&ada)});
    let (status, body) = call(&state, "POST", "/api/token/mfa/", Some(step), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["mfa"], true);
    assert_eq!(session_facts(&state, access).await.0, "code");
    let succeeded = audited(&state, "login_succeeded", Some(ada.user_id)).await;
    assert_eq!(succeeded.last(), Some(&json!({"mfa": true, "method": "code"})));
});

on_both!(inactive_accounts_get_no_code_and_cannot_spend_one, |state: AppState| async move {
    let ada = create_user(&state, ADA, PASSWORD).await;
    create_user(&state, "bob@example.com", PASSWORD).await;
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    latchkey_server::users::set_flag(&state.db, ada, "is_active", false).await.unwrap();
    let refused = code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await;
    assert_eq!(
        refused,
        (StatusCode::UNAUTHORIZED, json!({"detail": "No active account found with the given credentials"}))
    );
    assert_eq!(audited(&state, "login_failed", Some(ada)).await, [json!({"reason": "inactive", "login": ADA})]);
    // Deactivated, Ada is sent nothing; Bob's message, asked for after hers, shows the mail has gone out.
    new_flow(&state, ADA).await;
    flow_with_code(&state, "bob@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(codes_sent(&state, 2, ADA).await.len(), 1, "only the code sent while Ada was active");
});

on_both!(a_code_proves_the_address_under_mandatory_verification, |state: AppState| async move {
    let state = configured(&state, |c| c.email_verification = "mandatory".into());
    let id = create_user(&state, ADA, PASSWORD).await;
    let (status, body) = try_login(&state, json!({"email": ADA, "password": PASSWORD})).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("email_not_verified")));
    let (flow_id, sent) = flow_with_code(&state, ADA).await;
    let (status, body) = code_login(&state, json!({"flow_id": flow_id, "code": sent.code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(session_facts(&state, body["access"].as_str().unwrap()).await.1, true);
    assert_eq!(audited(&state, "email_verified", Some(id)).await.len(), 1);
    // The password works from now on.
    assert_eq!(try_login(&state, json!({"email": ADA, "password": PASSWORD})).await.0, StatusCode::OK);
});

on_both!(the_form_takes_a_flow_and_exactly_one_proof, |state: AppState| async move {
    let flow = "a".repeat(64);
    let cases = [
        (json!({"flow_id": flow}), "non_field_errors"),
        (json!({"flow_id": flow, "code": "123456", "token": "t"}), "non_field_errors"),
        (json!({"flow_id": flow, "code": "12345"}), "code"),
        (json!({"flow_id": flow, "code": "12345a"}), "code"),
        (json!({"flow_id": flow, "code": "1".repeat(17)}), "code"),
        (json!({"flow_id": "a".repeat(65), "code": "123456"}), "flow_id"),
        (json!({"code": "123456"}), "flow_id"),
        (json!({"flow_id": flow, "token": "b".repeat(65)}), "token"),
    ];
    for (body, field) in cases {
        let (status, answer) = code_login(&state, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert!(answer[field].is_array(), "{body}: {answer}");
    }
    // Spaces and hyphens in a typed code are ignored: an unknown flow, not a bad form.
    let spaced = code_login(&state, json!({"flow_id": flow, "code": " 123-456 "})).await;
    assert_eq!(spaced, (StatusCode::UNAUTHORIZED, invalid(0)));
    let (status, body) = request_code(&state, "not an address").await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"email": ["Enter a valid email address."]})));
});

on_both!(login_codes_off_answer_404, |state: AppState| async move {
    let off = configured(&state, |c| c.login_codes = false);
    create_user(&off, ADA, PASSWORD).await;
    let not_found = json!({"detail": "Not found."});
    assert_eq!(request_code(&off, ADA).await, (StatusCode::NOT_FOUND, not_found.clone()));
    assert_eq!(
        code_login(&off, json!({"flow_id": "x", "code": "123456"})).await,
        (StatusCode::NOT_FOUND, not_found.clone())
    );
    assert_eq!(code_login(&off, json!("not a form")).await, (StatusCode::NOT_FOUND, not_found));
    // On (the default), the same server answers.
    assert_eq!(request_code(&state, ADA).await.0, StatusCode::OK);
});

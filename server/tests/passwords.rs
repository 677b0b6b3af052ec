//! The password lifecycle (docs/api.md#password-lifecycle) on both databases: the policy endpoints, change, reset by
//! e-mailed link, e-mail verification in both modes, history, expiry, and the notices. Mail is read
//! back from the `.eml` files the file backend writes, and links are followed as a user would.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::{call, configured, link_params, mail_with, mails, register, request, send, try_login, PASSWORD};
use latchkey_core::policy::PasswordPolicy;
use latchkey_server::links::{uid, Purpose};
use latchkey_server::{now, AppState};
use serde_json::{json, Value};
use sqlx::Row;

const NEW_PASSWORD: &str = "a sturdier passphrase, freshly chosen";
const RESET_SENT: &str = "If the address is registered, a reset link has been sent.";
const BAD_LINK: &str = "The link is invalid or has expired.";

/// The registration body of Ada, for `email`.
fn signup(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD, "password_confirm": PASSWORD, "first_name": "Ada"})
}

on_both!(the_policy_and_its_verdicts_are_served, |state: AppState| async move {
    let (status, policy) = call(&state, "GET", "/api/auth/password/policy/", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(policy, serde_json::to_value(PasswordPolicy::default()).unwrap());
    assert_eq!(policy["fingerprint"], PasswordPolicy::default().fingerprint());

    let body = json!({"password": "alice2024", "email": "alice@example.com"});
    let (status, verdict) = call(&state, "POST", "/api/auth/password/validate/", Some(body), None).await;
    assert_eq!(status, StatusCode::OK);
    let codes: Vec<&str> =
        verdict["violations"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["password_too_similar", "password_too_short", "password_too_weak"]);
    assert_eq!(
        (verdict["valid"].clone(), verdict["fingerprint"].clone()),
        (json!(false), policy["fingerprint"].clone())
    );
    let (_, verdict) =
        call(&state, "POST", "/api/auth/password/validate/", Some(json!({"password": PASSWORD})), None).await;
    assert_eq!(verdict["valid"], true);
    // Passwords are judged as typed: blanks are not trimmed, and "" is a (short) password.
    let (status, verdict) =
        call(&state, "POST", "/api/auth/password/validate/", Some(json!({"password": ""})), None).await;
    assert_eq!((status, verdict["valid"].clone()), (StatusCode::OK, json!(false)));
    let (status, body) = call(&state, "POST", "/api/auth/password/validate/", Some(json!({})), None).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"password": ["This field is required."]})));
    let (status, _) =
        call(&state, "POST", "/api/auth/password/validate/", Some(json!({"password": 5, "email": []})), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
});

/// `LATCHKEY_PASSWORD_POLICY` names a JSON or TOML file; its rules apply everywhere, and the
/// fingerprint follows them.
#[tokio::test]
async fn the_policy_comes_from_a_json_or_toml_file() {
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let dir = std::env::temp_dir().join(format!("latchkey-policy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let json_file = dir.join("policy.json");
    std::fs::write(&json_file, r#"{"min_length": 16, "min_score": 0, "history": 2}"#).unwrap();
    let toml_file = dir.join("policy.toml");
    std::fs::write(&toml_file, "min_length = 16\nmin_score = 0\nhistory = 2\n").unwrap();
    let mut fingerprints = Vec::new();
    for file in [&json_file, &toml_file] {
        let mut config = (*state.config).clone();
        config.password_policy = Some(file.clone());
        let custom = AppState::with_db(config, state.db.clone()).unwrap();
        let (_, policy) = call(&custom, "GET", "/api/auth/password/policy/", None, None).await;
        assert_eq!((policy["min_length"].clone(), policy["history"].clone()), (json!(16), json!(2)));
        fingerprints.push(policy["fingerprint"].as_str().unwrap().to_owned());
        let body = json!({"password": "fifteen chars!!", "email": "x@example.com"});
        let (_, verdict) = call(&custom, "POST", "/api/auth/password/validate/", Some(body), None).await;
        assert_eq!(verdict["violations"][0]["code"], "password_too_short");
        assert_eq!(verdict["fingerprint"], policy["fingerprint"]);
    }
    assert_eq!(fingerprints[0], fingerprints[1]);
    assert_ne!(fingerprints[0], PasswordPolicy::default().fingerprint());
    // A bad file stops the server from starting, with the file and the reason.
    std::fs::write(&json_file, r#"{"min_lenght": 16}"#).unwrap();
    let mut config = (*state.config).clone();
    config.password_policy = Some(json_file.clone());
    let error = AppState::with_db(config, state.db.clone()).unwrap_err().to_string();
    assert!(error.contains("policy.json") && error.contains("min_lenght"), "{error}");
}

on_both!(changing_the_password_keeps_this_session_and_ends_the_others, |state: AppState| async move {
    let registered = register(&state, signup("ada@example.com")).await;
    let access = registered["tokens"]["access"].as_str().unwrap().to_owned();
    let (_, other) = try_login(&state, json!({"email": "ada@example.com", "password": PASSWORD})).await;
    let other = other["access"].as_str().unwrap().to_owned();
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});

    let (status, body) =
        call(&state, "POST", "/api/auth/password/change/", Some(change("wrong", NEW_PASSWORD)), Some(&access)).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({"old_password": ["Your old password was entered incorrectly. Please enter it again."]})
        )
    );
    let (status, body) =
        call(&state, "POST", "/api/auth/password/change/", Some(change(PASSWORD, "ada@example.com!")), Some(&access))
            .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["new_password"][0], "The password is too similar to the email address.", "{body}");
    let (status, body) = call(&state, "POST", "/api/auth/password/change/", Some(json!({})), Some(&access)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A fresh session may leave `old_password` out (sudo mode, tests/sudo_mode.rs); the new one is required.
    assert_eq!(body, json!({"new_password": ["This field is required."]}));
    let (status, _) =
        call(&state, "POST", "/api/auth/password/change/", Some(change(PASSWORD, NEW_PASSWORD)), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, body) =
        call(&state, "POST", "/api/auth/password/change/", Some(change(PASSWORD, NEW_PASSWORD)), Some(&access)).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"detail": "New password has been saved."})));
    let (status, _) = call(&state, "GET", "/api/auth/me/", None, Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "this session goes on");
    let (status, _) = call(&state, "GET", "/api/auth/me/", None, Some(&other)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the other session is revoked");
    assert_eq!(
        try_login(&state, json!({"email": "ada@example.com", "password": PASSWORD})).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        try_login(&state, json!({"email": "ada@example.com", "password": NEW_PASSWORD})).await.0,
        StatusCode::OK
    );

    // The verification mail from the registration, then the notice.
    let sent = mails(&state, 2).await;
    assert!(mail_with(&sent, "Your password was changed").contains("To: ada@example.com"));
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'password_changed'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("n"), 1);
});

on_both!(the_history_rule_refuses_recent_passwords, |state: AppState| async move {
    let mut state = state;
    state.policy = Arc::new(PasswordPolicy { history: 3, ..PasswordPolicy::default() });
    let registered = register(&state, signup("ada@example.com")).await;
    let access = registered["tokens"]["access"].as_str().unwrap().to_owned();
    let passwords = [PASSWORD, "second passphrase of ada", "third passphrase of ada", "fourth passphrase of ada"];
    let change = |old: &str, new: &str| json!({"old_password": old, "new_password": new});
    for pair in passwords.windows(2) {
        let (status, body) =
            call(&state, "POST", "/api/auth/password/change/", Some(change(pair[0], pair[1])), Some(&access)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The current password and the two before it are the last three: refused.
    for old in &passwords[1..] {
        let (status, body) =
            call(&state, "POST", "/api/auth/password/change/", Some(change(passwords[3], old)), Some(&access)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{old}");
        assert_eq!(body["new_password"], json!(["This password was used recently. Choose a new one."]));
    }
    // The first one is four passwords back: allowed again.
    let (status, _) =
        call(&state, "POST", "/api/auth/password/change/", Some(change(passwords[3], passwords[0])), Some(&access))
            .await;
    assert_eq!(status, StatusCode::OK);
    let row = sqlx::query("SELECT COUNT(*) AS n FROM password_history").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(row.get::<i64, _>("n"), 2, "only as many old hashes as the rule needs");
});

on_both!(a_reset_link_works_once_and_ends_every_session, |state: AppState| async move {
    let registered = register(&state, signup("ada@example.com")).await;
    let access = registered["tokens"]["access"].as_str().unwrap().to_owned();
    // Known and unknown addresses get the same answer; only the known one gets mail.
    for email in ["nobody@example.com", "ADA@example.com"] {
        let (status, body) =
            call(&state, "POST", "/api/auth/password/reset/", Some(json!({"email": email})), None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"detail": RESET_SENT})));
    }
    let (status, body) =
        call(&state, "POST", "/api/auth/password/reset/", Some(json!({"email": "not an address"})), None).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"email": ["Enter a valid email address."]})));
    let sent = mails(&state, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(mails(&state, 2).await.len(), 2, "no mail for the unknown address");
    let reset = mail_with(&sent, "Reset your password");
    assert!(reset.contains("To: ada@example.com") && reset.contains("text/html"), "{reset}");
    let (uid_param, token) = link_params(reset, "password-reset");
    assert_eq!(uid_param, uid(registered["user"]["id"].as_i64().unwrap()));

    let confirm = |token: &str, password: &str| json!({"uid": uid_param, "token": token, "new_password": password});
    let bad = (StatusCode::BAD_REQUEST, json!({"token": [BAD_LINK]}));
    let mut tampered = token.clone();
    tampered.push('0');
    assert_eq!(
        call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(&tampered, NEW_PASSWORD)), None).await,
        bad
    );
    let other_uid = json!({"uid": uid(999), "token": token, "new_password": NEW_PASSWORD});
    assert_eq!(call(&state, "POST", "/api/auth/password/reset/confirm/", Some(other_uid), None).await, bad);
    let (status, body) =
        call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(&token, "short")), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["new_password"].is_array(), "{body}");

    let (status, body) =
        call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(&token, NEW_PASSWORD)), None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"detail": "Password has been reset with the new password."})));
    assert_eq!(call(&state, "GET", "/api/auth/me/", None, Some(&access)).await.0, StatusCode::UNAUTHORIZED);
    let (status, me) = try_login(&state, json!({"email": "ada@example.com", "password": NEW_PASSWORD})).await;
    assert_eq!(status, StatusCode::OK);
    let (_, me) = call(&state, "GET", "/api/auth/me/", None, me["access"].as_str()).await;
    assert_eq!(me["is_verified"], true, "a reset proves the mailbox");
    // The link died with the password it was for.
    assert_eq!(
        call(
            &state,
            "POST",
            "/api/auth/password/reset/confirm/",
            Some(confirm(&token, "yet another passphrase here")),
            None
        )
        .await,
        bad
    );
    let sent = mails(&state, 3).await;
    assert!(mail_with(&sent, "Your password was changed").contains("was reset"));
});

on_both!(reset_links_expire, |state: AppState| async move {
    register(&state, signup("ada@example.com")).await;
    let user = latchkey_server::users::User::by_email(&state.db, "ada@example.com").await.unwrap().unwrap();
    let state_of = format!("{}|{}|{}", user.password, user.last_login.unwrap_or(0), user.email);
    let max_age = i64::try_from(state.config.password_reset_timeout.as_secs()).unwrap();
    let confirm = |token: String| json!({"uid": uid(user.id), "token": token, "new_password": NEW_PASSWORD});
    let stale = state.links.token(Purpose::PasswordReset, user.id, &state_of, now() - max_age - 1);
    let (status, _) = call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(stale)), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A verification token is no reset token.
    let wrong_purpose = state.links.token(Purpose::VerifyEmail, user.id, &state_of, now());
    let (status, _) =
        call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(wrong_purpose)), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let fresh = state.links.token(Purpose::PasswordReset, user.id, &state_of, now() - max_age + 60);
    let (status, _) = call(&state, "POST", "/api/auth/password/reset/confirm/", Some(confirm(fresh)), None).await;
    assert_eq!(status, StatusCode::OK);
});

on_both!(optional_verification_sends_a_link_that_verifies, |state: AppState| async move {
    let registered = register(&state, signup("ada@example.com")).await;
    assert_eq!(registered["user"]["is_verified"], false);
    let access = registered["tokens"]["access"].as_str().unwrap().to_owned();
    let sent = mails(&state, 1).await;
    let (uid, token) = link_params(mail_with(&sent, "Confirm your e-mail address"), "verify-email");
    let (status, body) =
        call(&state, "POST", "/api/auth/email/verify/", Some(json!({"uid": uid, "token": "1-00"})), None).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"token": [BAD_LINK]})));
    for _ in 0..2 {
        let (status, body) =
            call(&state, "POST", "/api/auth/email/verify/", Some(json!({"uid": uid, "token": token})), None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"detail": "E-mail address verified."})));
    }
    let (_, me) = call(&state, "GET", "/api/auth/me/", None, Some(&access)).await;
    assert_eq!(me["is_verified"], true);
    let (_, body) = call(&state, "POST", "/api/auth/email/verify/resend/", None, Some(&access)).await;
    assert_eq!(body, json!({"detail": "Your e-mail address is already verified."}));
    let row = sqlx::query("SELECT COUNT(*) AS n FROM audit_events WHERE event = 'email_verified'")
        .fetch_one(&state.db.pool)
        .await
        .unwrap();
    assert_eq!(row.get::<i64, _>("n"), 1, "verifying twice is one event");
});

on_both!(mandatory_verification_holds_login_until_the_link_is_followed, |state: AppState| async move {
    let state = configured(&state, |c| c.email_verification = "mandatory".into());
    let registered = register(&state, signup("ada@example.com")).await;
    assert!(registered.get("tokens").is_none(), "{registered}");
    let (status, body) = try_login(&state, json!({"email": "ada@example.com", "password": PASSWORD})).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, json!({"detail": "E-mail address is not verified.", "code": "email_not_verified"}))
    );
    // A wrong password still gets the usual answer: nothing about the address leaks.
    let (status, body) = try_login(&state, json!({"email": "ada@example.com", "password": "wrong"})).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, Value::Null));
    // Resend without signing in: the same answer for any address, mail only for this one.
    for email in ["ada@example.com", "nobody@example.com"] {
        let (status, body) =
            call(&state, "POST", "/api/auth/email/verify/resend/", Some(json!({"email": email})), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body["detail"],
            "If the address is registered and not yet verified, a verification link has been sent."
        );
    }
    let (status, _) = call(&state, "POST", "/api/auth/email/verify/resend/", None, None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let sent = mails(&state, 2).await;
    // Two verification mails (registration, resend): either link works.
    let (uid, token) = link_params(&sent[1], "verify-email");
    let (status, _) =
        call(&state, "POST", "/api/auth/email/verify/", Some(json!({"uid": uid, "token": token})), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(try_login(&state, json!({"email": "ada@example.com", "password": PASSWORD})).await.0, StatusCode::OK);
});

on_both!(an_expired_password_can_only_be_changed, |state: AppState| async move {
    let state = configured(&state, |c| c.password_max_age = Some(Duration::from_secs(90 * 86_400)));
    register(&state, signup("ada@example.com")).await;
    assert_eq!(
        try_login(&state, json!({"email": "ada@example.com", "password": PASSWORD})).await.0,
        StatusCode::OK,
        "a new password is fresh"
    );
    common::pass(&state, 91 * 86_400);
    let (status, body) = try_login(&state, json!({"email": "ada@example.com", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "password_expired");
    assert_eq!(body["detail"], "Your password has expired. Choose a new one to continue.");
    assert!(body.get("access").is_none());
    let token = body["password_change_token"].as_str().unwrap().to_owned();

    let change = json!({"password_change_token": token, "old_password": PASSWORD, "new_password": NEW_PASSWORD});
    let (status, body) = call(&state, "POST", "/api/auth/password/change/", Some(change.clone()), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["detail"], "New password has been saved.");
    let (status, _) = call(&state, "GET", "/api/auth/me/", None, body["access"].as_str()).await;
    assert_eq!(status, StatusCode::OK, "the change opens a session");
    let (status, body) = call(&state, "POST", "/api/auth/password/change/", Some(change), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the token is spent: {body}");
    assert_eq!(
        try_login(&state, json!({"email": "ada@example.com", "password": NEW_PASSWORD})).await.0,
        StatusCode::OK
    );
    let bogus = json!({"password_change_token": "nope", "old_password": NEW_PASSWORD, "new_password": PASSWORD});
    let (status, body) = call(&state, "POST", "/api/auth/password/change/", Some(bogus), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["password_change_token"].is_array(), "{body}");
});

on_both!(new_devices_and_new_logins_are_announced, |state: AppState| async move {
    let state = configured(&state, |c| c.notify_new_login = true);
    register(&state, signup("ada@example.com")).await;
    // Same client as the registration (none, in these tests): no notice.
    let (_, pair) = try_login(&state, json!({"email": "ada@example.com", "password": PASSWORD})).await;
    let mut from_elsewhere =
        request("POST", "/api/token/", Some(json!({"email": "ada@example.com", "password": PASSWORD})), None);
    from_elsewhere.headers_mut().insert("user-agent", "Elsewhere/1.0".parse().unwrap());
    let (status, _, _) = send(&state, from_elsewhere).await;
    assert_eq!(status, StatusCode::OK);
    let sent = mails(&state, 2).await;
    assert!(mail_with(&sent, "New sign-in to your account").contains("Elsewhere/1.0"));

    let access = pair["access"].as_str().unwrap();
    let (_, device) =
        call(&state, "POST", "/api/auth/2fa/totp/", Some(json!({"name": "Work phone"})), Some(access)).await;
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", device["id"]);
    let code = common::totp(device["secret"].as_str().unwrap(), state.clock.now());
    assert_eq!(call(&state, "POST", &confirm, Some(json!({"code": code})), Some(access)).await.0, StatusCode::OK);
    let sent = mails(&state, 3).await;
    assert!(mail_with(&sent, "A new authenticator was added to your account").contains("Work phone"));
});

/// A mail server that refuses every connection changes nothing the user sees.
#[tokio::test]
async fn a_dead_mail_server_does_not_change_the_answer() {
    let state = common::state(common::Backend::Sqlite).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = (*state.config).clone();
    config.email_backend = format!("smtp://127.0.0.1:{port}").parse().unwrap();
    let dead = AppState::with_db(config, state.db.clone()).unwrap();
    register(&dead, signup("ada@example.com")).await;
    for email in ["ada@example.com", "nobody@example.com"] {
        let (status, body) =
            call(&dead, "POST", "/api/auth/password/reset/", Some(json!({"email": email})), None).await;
        assert_eq!((status, body), (StatusCode::OK, json!({"detail": RESET_SENT})));
    }
}

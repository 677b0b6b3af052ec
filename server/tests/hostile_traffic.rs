//! The bounds that hold against hostile traffic (§11 of the contract), each on SQLite and PostgreSQL:
//! names bounded before any work, fixed-size counter keys and cut audit strings, refusals during a
//! lockout audited once a minute, lockouts exact under concurrency, re-authentication throttled like
//! login, IPv6 clients counted by their /64, and NFKC usernames.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::{header, StatusCode};
use common::{at_window_start, configured, create_user, from, futures_join, send, PASSWORD};
use latchkey_core::hash::HashParams;
use latchkey_server::passwords::Hasher;
use latchkey_server::AppState;
use serde_json::{json, Value};
use sqlx::Row;

const AUDIT_ROWS: &str = "SELECT COUNT(*) FROM audit_events";
const COUNTER_ROWS: &str = "SELECT COUNT(*) FROM rate_limits";

async fn count(state: &AppState, sql: &str) -> i64 {
    sqlx::query(sql).fetch_one(&state.db.pool).await.unwrap().try_get::<i64, _>(0).unwrap()
}

/// The size of the largest row of `rate_limits` and of `audit_events`, summed over their text columns.
async fn largest_rows(state: &AppState) -> (i64, i64) {
    let counters = "SELECT COALESCE(MAX(LENGTH(key)), 0) FROM rate_limits";
    let audit = "SELECT COALESCE(MAX(LENGTH(event) + LENGTH(ip) + LENGTH(user_agent) + LENGTH(detail) \
                 + COALESCE(LENGTH(session_id), 0)), 0) FROM audit_events";
    (count(state, counters).await, count(state, audit).await)
}

/// A login from `ip`.
async fn login_from(state: &AppState, ip: &str, body: Value) -> (StatusCode, Value) {
    let (status, body, _) = send(state, from(ip, "POST", "/api/token/", body, None)).await;
    (status, body)
}

on_both!(names_over_their_bound_are_refused_before_any_work, |state: AppState| async move {
    let huge = "\u{fdfa}".repeat(21_700);
    for (body, field, max) in [
        (json!({"email": "a".repeat(255), "password": "x"}), "email", 254),
        (json!({"email": huge, "password": "x"}), "email", 254),
        (json!({"username": "u".repeat(151), "password": "x"}), "username", 150),
    ] {
        let (status, answer) = login_from(&state, "203.0.113.1", body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert_eq!(answer[field], json!([format!("Ensure this field has no more than {max} characters.")]));
    }
    for (path, body) in [
        ("/api/auth/password/reset/", json!({"email": format!("{}@example.com", "a".repeat(250))})),
        ("/api/auth/email/verify/resend/", json!({"email": huge})),
        ("/api/auth/register/", json!({"email": huge, "password": PASSWORD, "password_confirm": PASSWORD})),
    ] {
        let (status, answer, _) = send(&state, from("203.0.113.1", "POST", path, body, None)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {answer}");
        assert_eq!(answer["email"], json!(["Ensure this field has no more than 254 characters."]), "{path}");
    }
    // Refused before the request limits counted them, before any lockout and any audit row.
    assert_eq!(count(&state, "SELECT COUNT(*) FROM rate_limits").await, 0);
    assert_eq!(count(&state, "SELECT COUNT(*) FROM audit_events").await, 0);
});

on_both!(a_refused_login_stores_small_rows_whatever_the_name, |state: AppState| async move {
    // 254 characters pass the bound; NFKC makes 4,572 of them. None of that reaches the database.
    let name = "\u{fdfa}".repeat(254);
    let (status, _) = login_from(&state, "203.0.113.2", json!({"email": name, "password": "wrong"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) =
        login_from(&state, "203.0.113.2", json!({"username": "\u{fdfa}".repeat(150), "password": "x"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (key, audit) = largest_rows(&state).await;
    assert!(key <= 100, "a counter key of {key} bytes");
    assert!(audit < 2048, "an audit row of {audit} bytes");
    let detail: String = sqlx::query("SELECT detail FROM audit_events ORDER BY id LIMIT 1")
        .fetch_one(&state.db.pool)
        .await
        .unwrap()
        .get("detail");
    let detail: Value = serde_json::from_str(&detail).unwrap();
    let kept = detail["login"].as_str().unwrap();
    assert_eq!(kept.chars().count(), 256, "the name is cut to 256 characters for people");
    assert!(kept.ends_with('…'));
});

on_both!(refusals_during_a_lockout_are_audited_once_a_minute, |state: AppState| async move {
    let state = configured(&state, |c| c.lockout_attempts = 3);
    create_user(&state, "victim@example.com", PASSWORD).await;
    for _ in 0..3 {
        let (status, _) =
            login_from(&state, "203.0.113.3", json!({"email": "victim@example.com", "password": "no"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (audit_before, rows_before) = (count(&state, AUDIT_ROWS).await, count(&state, COUNTER_ROWS).await);
    for _ in 0..30 {
        let (status, _) =
            login_from(&state, "203.0.113.3", json!({"email": "victim@example.com", "password": "no"})).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    let refusals = "SELECT COUNT(*) FROM audit_events WHERE event = 'login_failed' AND detail LIKE '%locked_out%'";
    assert_eq!(count(&state, refusals).await, 1, "one audit row for 30 refusals within the minute");
    assert_eq!(count(&state, AUDIT_ROWS).await, audit_before + 1);
    assert_eq!(count(&state, COUNTER_ROWS).await, rows_before, "refusals add no counter row");
});

on_both!(a_locked_out_address_naming_new_accounts_adds_no_rows, |state: AppState| async move {
    let state = configured(&state, |c| c.lockout_ip_attempts = 3);
    // Before the lockout, a refused login adds at most one counter row: its name's.
    let mut rows = count(&state, COUNTER_ROWS).await;
    for i in 0..3 {
        let (status, _) =
            login_from(&state, "203.0.113.4", json!({"email": format!("n{i}@example.com"), "password": "no"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let now = count(&state, COUNTER_ROWS).await;
        // The first request also creates the address's own two (its request count and its lockout).
        assert!(now <= rows + if i == 0 { 3 } else { 1 }, "{rows} -> {now}");
        rows = now;
    }
    let audit_before = count(&state, AUDIT_ROWS).await;
    for i in 0..30 {
        let (status, _) =
            login_from(&state, "203.0.113.4", json!({"email": format!("m{i}@example.com"), "password": "no"})).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }
    assert_eq!(count(&state, COUNTER_ROWS).await, rows);
    assert_eq!(count(&state, AUDIT_ROWS).await, audit_before + 1);
});

on_both!(parallel_guesses_check_no_more_passwords_than_the_lockout_allows, |state: AppState| async move {
    // A gate wide enough for every guess at once: only the lockout may stop them.
    let mut state = configured(&state, |c| c.rate_limits = "off".parse().unwrap());
    state.hasher = Hasher::with_capacity(HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 128, 0);
    create_user(&state, "target@example.com", PASSWORD).await;
    let guesses = (0..60).map(|i| {
        let state = state.clone();
        tokio::spawn(async move {
            let ip = format!("2001:db8:{i:x}::1");
            login_from(&state, &ip, json!({"email": "target@example.com", "password": format!("guess {i}")})).await.0
        })
    });
    let statuses: Vec<StatusCode> = futures_join(guesses).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked, 5, "passwords checked: {statuses:?}");
    assert_eq!(refused, 55);
    // Locked now: the right password waits too.
    let (status, _) =
        login_from(&state, "192.0.2.1", json!({"email": "target@example.com", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
});

/// A new user's access token, from a login from 192.0.2.10.
async fn signed_in_from_an_address(state: &AppState, email: &str) -> String {
    create_user(state, email, PASSWORD).await;
    let (status, body) = login_from(state, "192.0.2.10", json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access"].as_str().unwrap().to_owned()
}

on_both!(re_authentication_is_throttled_per_user_and_audited, |state: AppState| async move {
    let state = configured(&state, |c| c.reauth_attempts = 3);
    let access = signed_in_from_an_address(&state, "holder@example.com").await;
    let change = |old: &str| json!({"old_password": old, "new_password": "an entirely new passphrase"});
    for _ in 0..2 {
        let (status, body, _) =
            send(&state, from("192.0.2.10", "POST", "/api/auth/password/change/", change("wrong"), Some(&access)))
                .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    }
    // Deleting the account asks for the password too, and counts on the same counter.
    let (status, _, _) =
        send(&state, from("192.0.2.10", "DELETE", "/api/auth/me/", json!({"password": "wrong"}), Some(&access))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Used up: even the right password is not checked now.
    let (status, body, response) =
        send(&state, from("192.0.2.10", "POST", "/api/auth/password/change/", change(PASSWORD), Some(&access))).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "throttled");
    assert!(response.headers().get(header::RETRY_AFTER).is_some());
    let failed = "SELECT COUNT(*) FROM audit_events WHERE event = 'reauth_failed'";
    assert_eq!(count(&state, failed).await, 3);
    let purposes = sqlx::query("SELECT detail FROM audit_events WHERE event = 'reauth_failed' ORDER BY id")
        .fetch_all(&state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|row| serde_json::from_str::<Value>(&row.get::<String, _>("detail")).unwrap()["purpose"].clone())
        .collect::<Vec<_>>();
    assert_eq!(purposes, [json!("password_change"), json!("password_change"), json!("account_delete")]);
});

on_both!(a_re_authentication_flood_checks_no_more_than_the_limit, |state: AppState| async move {
    let mut state = state;
    state.hasher = Hasher::with_capacity(HashParams { memory_kib: 64, iterations: 1, parallelism: 1 }, 128, 0);
    let access = signed_in_from_an_address(&state, "flooder@example.com").await;
    let flood = (0..48).map(|_| {
        let (state, access) = (state.clone(), access.clone());
        tokio::spawn(async move {
            let body = json!({"old_password": "wrong", "new_password": "an entirely new passphrase"});
            send(&state, from("192.0.2.11", "POST", "/api/auth/password/change/", body, Some(&access))).await.0
        })
    });
    let statuses = futures_join(flood).await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count();
    assert_eq!(checked, 5, "LATCHKEY_REAUTH_ATTEMPTS (5) wrong passwords checked: {statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count(), 43);
});

on_both!(ipv6_clients_are_counted_by_their_64, |state: AppState| async move {
    let state = configured(&state, |c| c.rate_limits = "login:ip=3/1m".parse().unwrap());
    at_window_start(&state, 60);
    for host in 1..=3 {
        let ip = format!("2001:db8:aa:bb::{host:x}");
        let (status, _) = login_from(&state, &ip, json!({"email": "x@example.com", "password": "no"})).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Another address of the same /64: the same client.
    let (status, _) =
        login_from(&state, "2001:db8:aa:bb:ffff::9", json!({"email": "x@example.com", "password": "no"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // The next /64 is someone else; the audit log keeps the whole address.
    let (status, _) =
        login_from(&state, "2001:db8:aa:bc::1", json!({"email": "x@example.com", "password": "no"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let full = "SELECT COUNT(*) FROM audit_events WHERE ip = '2001:db8:aa:bb::2'";
    assert_eq!(count(&state, full).await, 1);
    // With LATCHKEY_IPV6_PREFIX=48, the /64s of one /48 are one client.
    let wide = configured(&state, |c| c.ipv6_prefix = 48);
    for (network, expected) in [("cc", 401), ("dd", 401), ("ee", 401), ("ff", 429)] {
        let ip = format!("2001:db8:bb:{network}::1");
        let (status, _) = login_from(&wide, &ip, json!({"email": "y@example.com", "password": "no"})).await;
        assert_eq!(status.as_u16(), expected, "{ip}");
    }
});

on_both!(usernames_are_nfkc_normalized_as_django_does, |state: AppState| async move {
    let register = |email: &str, username: &str| json!({"email": email, "username": username, "password": PASSWORD, "password_confirm": PASSWORD});
    let (status, body, _) =
        send(&state, from("192.0.2.20", "POST", "/api/auth/register/", register("j@example.com", "ｊｏｈｎ"), None))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["username"], "john");
    let (status, body, _) =
        send(&state, from("192.0.2.20", "POST", "/api/auth/register/", register("k@example.com", "john"), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["username"], json!(["A user with that username already exists."]));
    let (status, body) = login_from(&state, "192.0.2.20", json!({"username": "ｊｏｈｎ", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let access = body["access"].as_str().unwrap().to_owned();
    let (status, body, _) =
        send(&state, from("192.0.2.20", "PATCH", "/api/auth/me/", json!({"username": "ｍａｒｙ"}), Some(&access)))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "mary");
});

on_both!(account_deletion_is_audited_and_mailed, |state: AppState| async move {
    let access = signed_in_from_an_address(&state, "leaving@example.com").await;
    let id: i64 = count(&state, "SELECT id FROM users WHERE email = 'leaving@example.com'").await;
    let (status, _, _) =
        send(&state, from("192.0.2.30", "DELETE", "/api/auth/me/", json!({"password": PASSWORD}), Some(&access))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deleted = format!("SELECT COUNT(*) FROM audit_events WHERE event = 'account_deleted' AND user_id = {id}");
    assert_eq!(count(&state, &deleted).await, 1);
    let sent = common::mails(&state, 1).await;
    let mail = common::mail_with(&sent, "Your account was deleted");
    assert!(mail.contains("To: leaving@example.com"), "{mail}");
});

on_both!(turning_two_factor_off_is_audited_and_mailed, |state: AppState| async move {
    let access = signed_in_from_an_address(&state, "twofa@example.com").await;
    let (status, device, _) =
        send(&state, from("192.0.2.31", "POST", "/api/auth/2fa/totp/", json!({"name": "phone"}), Some(&access))).await;
    assert_eq!(status, StatusCode::CREATED, "{device}");
    let code = common::totp(device["secret"].as_str().unwrap(), state.clock.now());
    let confirm = format!("/api/auth/2fa/totp/{}/confirm/", device["id"]);
    let (status, body, _) =
        send(&state, from("192.0.2.31", "POST", &confirm, json!({"code": code}), Some(&access))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let remove = format!("/api/auth/2fa/totp/{}/", device["id"]);
    let (status, body, _) =
        send(&state, from("192.0.2.31", "DELETE", &remove, json!({"password": PASSWORD}), Some(&access))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(count(&state, "SELECT COUNT(*) FROM audit_events WHERE event = 'mfa_disabled'").await, 1);
    let sent = common::mails(&state, 2).await;
    let mail = common::mail_with(&sent, "Two-factor authentication was turned off for your account");
    assert!(mail.contains("192.0.2.31"), "{mail}");
});

/// About a tenth of a second per hash here: long enough that a flood really holds the gate.
const SLOW: HashParams = HashParams { memory_kib: 16 * 1024, iterations: 12, parallelism: 1 };

#[tokio::test]
async fn a_claimant_keeps_its_places_until_its_hashes_end_and_never_more_than_its_share() {
    use latchkey_server::passwords::Claimant;
    let hasher = Hasher::with_capacity(SLOW, 2, 8);
    let claimant = |account: &str, network: &str| Claimant { account: account.into(), network: network.into() };
    let attacker = claimant("attacker@example.com", "198.51.100.7");
    let started: Vec<_> = (0..2)
        .map(|_| {
            let (hasher, attacker) = (hasher.clone(), attacker.clone());
            tokio::spawn(async move { hasher.verify("guess".into(), None, &attacker).await })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    // The clients hang up: their hashes run on, and keep their places.
    started.iter().for_each(tokio::task::JoinHandle::abort);
    for other in [claimant("attacker@example.com", "203.0.113.99"), claimant("other@example.com", "198.51.100.7")] {
        let refused = hasher.verify("guess".into(), None, &other).await;
        assert!(matches!(refused, Err(latchkey_server::ApiError::Unavailable { .. })), "{refused:?}");
    }
    // Everyone else still gets the rest of the gate.
    let victim = hasher.verify("mine".into(), None, &claimant("victim@example.com", "192.0.2.50")).await;
    assert!(victim.is_ok(), "{victim:?}");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(hasher.verify("later".into(), None, &attacker).await.is_ok(), "the places come back when the hashes end");
}

on_both!(a_re_authentication_flood_leaves_the_gate_to_other_users, |state: AppState| async move {
    let mut state = state;
    let access = signed_in_from_an_address(&state, "flood@example.com").await;
    for i in 0..10 {
        create_user(&state, &format!("victim{i}@example.com"), PASSWORD).await;
    }
    state.hasher = Hasher::with_capacity(SLOW, 2, 8);
    let flood: Vec<_> = (0..48)
        .map(|_| {
            let (state, access) = (state.clone(), access.clone());
            tokio::spawn(async move {
                let body = json!({"old_password": "wrong", "new_password": "an entirely new passphrase"});
                send(&state, from("198.51.100.8", "POST", "/api/auth/password/change/", body, Some(&access))).await.0
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for i in 0..10 {
        let body = json!({"email": format!("victim{i}@example.com"), "password": PASSWORD});
        let (status, answer) = login_from(&state, &format!("192.0.2.{}", 100 + i), body).await;
        assert_eq!(status, StatusCode::OK, "victim {i}: {answer}");
    }
    let statuses = futures_join(flood.into_iter()).await;
    assert!(statuses.iter().all(|s| [400, 429, 503].contains(&s.as_u16())), "{statuses:?}");
    assert!(statuses.iter().filter(|s| **s == StatusCode::BAD_REQUEST).count() <= 5);
});

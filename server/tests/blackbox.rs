//! Starts the real `latchkey` binary and plays a DRF + simplejwt client against it over HTTP:
//! register → login → me → refresh → verify → blacklist, as a front-end written for Django would; then
//! two-factor enrollment and the MFA login, with codes from the test harness's own RFC 6238.
#![allow(clippy::expect_used)] // Test helpers: a failure should stop the test with its message.

mod common;

use common::{post_json, start};
use reqwest::StatusCode;
use serde_json::{json, Value};

fn text(value: &Value, key: &str) -> String {
    value[key].as_str().unwrap_or_else(|| panic!("no {key} in {value}")).to_owned()
}

#[tokio::test]
async fn a_drf_simplejwt_client_works_unchanged() {
    let server = start("blackbox-drf", &[]);
    let base = &server.base;
    let client = reqwest::Client::new();
    let health = client.get(format!("{base}/healthz")).send().await.expect("healthz");
    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(health.headers()["x-content-type-options"], "nosniff");

    let password = "correct horse battery staple";
    let register = json!({"email": "Ada@Example.com", "password": password, "password_confirm": password});
    let (status, body) = post_json(&client, format!("{base}/api/auth/register/"), register, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["email"], "ada@example.com");

    let (status, pair) = post_json(
        &client,
        format!("{base}/api/token/"),
        json!({"email": "ada@example.com", "password": password}),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let (access, refresh) = (text(&pair, "access"), text(&pair, "refresh"));

    let me = client.get(format!("{base}/api/auth/me/")).bearer_auth(&access).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.json::<Value>().await.expect("json")["email"], "ada@example.com");
    let anonymous = client.get(format!("{base}/api/auth/me/")).send().await.expect("me");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer realm=\"api\"");

    let (status, rotated) =
        post_json(&client, format!("{base}/api/token/refresh/"), json!({"refresh": refresh}), None).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (new_access, new_refresh) = (text(&rotated, "access"), text(&rotated, "refresh"));
    assert_ne!(new_refresh, refresh);

    let (status, body) =
        post_json(&client, format!("{base}/api/token/verify/"), json!({"token": new_access}), None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));

    let (status, body) =
        post_json(&client, format!("{base}/api/token/blacklist/"), json!({"refresh": new_refresh}), None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    let (status, body) =
        post_json(&client, format!("{base}/api/token/refresh/"), json!({"refresh": new_refresh}), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, json!({"detail": "Token is blacklisted", "code": "token_not_valid"}));
    // Blacklisting ended the session: its access token no longer authenticates.
    let me = client.get(format!("{base}/api/auth/me/")).bearer_auth(&new_access).send().await.expect("me");
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn two_factor_enrollment_and_login_over_http() {
    let server = start("blackbox-2fa", &[]);
    let base = &server.base;
    let client = reqwest::Client::new();
    let password = "correct horse battery staple";
    let register = json!({"email": "ada@example.com", "password": password, "password_confirm": password});
    let (status, body) = post_json(&client, format!("{base}/api/auth/register/"), register, None).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let access = text(&body["tokens"], "access");

    let response = client
        .post(format!("{base}/api/auth/2fa/totp/"))
        .bearer_auth(&access)
        .json(&json!({"name": "Phone"}))
        .send()
        .await
        .expect("add a device");
    assert_eq!(response.status(), StatusCode::CREATED);
    // The browser compares its clock with this header before previewing codes.
    assert!(response.headers().contains_key("date"));
    let device: Value = response.json().await.expect("json");
    let secret = text(&device, "secret");
    let confirm = format!("{base}/api/auth/2fa/totp/{}/confirm/", device["id"]);
    let code = common::totp(&secret, latchkey_server::now());
    let (status, body) = post_json(&client, confirm, json!({"code": code}), Some(&access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["backup_codes"].as_array().map(Vec::len), Some(10));

    let credentials = json!({"email": "ada@example.com", "password": password});
    let (status, challenge) = post_json(&client, format!("{base}/api/token/"), credentials, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{challenge}");
    assert_eq!(challenge["code"], "mfa_required");
    let next = common::totp(&secret, latchkey_server::now() + 30);
    let second = json!({"mfa_token": challenge["mfa_token"], "code": next});
    let (status, pair) = post_json(&client, format!("{base}/api/token/mfa/"), second.clone(), None).await;
    assert_eq!(status, StatusCode::OK, "{pair}");
    let me = client.get(format!("{base}/api/auth/me/")).bearer_auth(text(&pair, "access")).send().await.expect("me");
    assert_eq!(me.json::<Value>().await.expect("json")["mfa_enabled"], true);
    // The token is spent.
    let (status, body) = post_json(&client, format!("{base}/api/token/mfa/"), second, None).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::UNAUTHORIZED, json!("mfa_token_invalid")));
}

//! Provider dialects and configuration (docs/api.md#social-login): GitHub through its OAuth 2
//! endpoints and its e-mail API (the `common::github_fake` stand-in on GitHub's real paths), a
//! provider whose verified-address claim has another name (Entra's `xms_edov`), and the real binary
//! reading a TOML providers file and signing someone in over HTTP, or refusing a file that cannot work.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use axum::http::StatusCode;
use common::{
    audited, call, claims, exchange, fresh_dir, land, login_url, oidc_login, with_providers, with_social, FakeOp,
    GithubEmail, GITHUB, OIDC,
};
use latchkey_server::AppState;
use serde_json::json;

/// A whole `login` flow with the GitHub stand-in: where the callback sent the browser.
async fn github_login(state: &AppState, github: &common::FakeGithub) -> common::Landing {
    let url = login_url(state, GITHUB).await;
    land(state, &github.authorize(&url).await.unwrap()).await
}

on_both!(github_signs_up_with_its_primary_verified_address_and_numeric_id, |state: AppState| async move {
    let (state, _, github) = with_social(state).await;
    let landing = github_login(&state, &github).await;
    let authorization = github.last_authorization().unwrap();
    assert_eq!(authorization.params["code_challenge_method"], "S256");
    assert_eq!(authorization.scope, "read:user user:email");
    let (status, tokens) = exchange(&state, json!({ "login_code": landing.get("login_code").unwrap() })).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access"].as_str().unwrap();
    let (_, me) = call(&state, "GET", "/api/auth/me/", None, Some(access)).await;
    assert_eq!(
        (me["email"].as_str(), me["first_name"].as_str(), me["last_name"].as_str()),
        (Some("octocat@github.com"), Some("Mona"), Some("Lisa"))
    );
    let subject: (String,) =
        sqlx::query_as("SELECT subject FROM social_accounts").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(subject.0, "1234");
    // The same GitHub account, renamed and with a new primary address, is still the same identity.
    github.script().login = "renamed".into();
    github.script().emails = vec![GithubEmail::new("new@github.com", true, true)];
    let again = github_login(&state, &github).await;
    let (_, tokens) = exchange(&state, json!({ "login_code": again.get("login_code").unwrap() })).await;
    assert_eq!(claims(&state, tokens["access"].as_str().unwrap()).user_id, claims(&state, access).user_id);
});

on_both!(github_without_a_verified_primary_address_cannot_sign_up, |state: AppState| async move {
    let (state, _, github) = with_social(state).await;
    // A verified address that is not the primary one does not count.
    github.script().emails =
        vec![GithubEmail::new("octocat@github.com", true, false), GithubEmail::new("other@github.com", false, true)];
    assert_eq!(github_login(&state, &github).await.get("error"), Some("email_unverified"));
    github.script().emails = Vec::new();
    assert_eq!(github_login(&state, &github).await.get("error"), Some("email_unverified"));
    let users: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(users.0, 0);
});

on_both!(github_errors_answered_with_200_are_provider_errors, |state: AppState| async move {
    let (state, _, github) = with_social(state).await;
    github.script().token_error = Some("bad_verification_code".into());
    assert_eq!(github_login(&state, &github).await.get("error"), Some("provider_error"));
    github.script().token_error = None;
    github.script().unavailable = vec![common::GithubEndpoint::User];
    let landing = github_login(&state, &github).await;
    assert!(matches!(landing.get("error"), Some("provider_unavailable" | "provider_error")), "{landing:?}");
    assert_eq!(audited(&state, "login_failed", None).await.len(), 2);
});

on_both!(a_verified_address_claim_can_have_another_name, |state: AppState| async move {
    let op = FakeOp::start().await;
    let mut entry = op.entry(OIDC, &state.config.public_base());
    entry["email_verified_claim"] = json!("xms_edov");
    let state = with_providers(state, &[entry]);
    // Entra sends no `email_verified`: without its own claim the address is unverified.
    op.script().email_verified_claim = "email_verified_is_absent".into();
    assert_eq!(oidc_login(&state, &op).await.get("error"), Some("email_unverified"));
    op.script().email_verified_claim = "xms_edov".into();
    assert!(oidc_login(&state, &op).await.get("login_code").is_some());
});

#[tokio::test]
async fn the_binary_reads_a_toml_provider_file_and_signs_in_over_http() {
    let op = FakeOp::start().await;
    let public = "http://localhost:8000";
    let entry = op.entry("corp", public);
    let dir = fresh_dir("social-binary");
    let file = dir.join("providers.toml");
    let toml = format!(
        "[[providers]]\nid = \"corp\"\nname = \"Corp SSO\"\nissuer = \"{}\"\nclient_id = \"{}\"\nclient_secret = \"{}\"\n",
        op.issuer(),
        entry["client_id"].as_str().unwrap(),
        entry["client_secret"].as_str().unwrap()
    );
    std::fs::write(&file, toml).unwrap();
    let server = common::start(
        "social-binary-server",
        &[("LATCHKEY_OIDC_PROVIDERS", file.to_str().unwrap()), ("LATCHKEY_PUBLIC_URL", public)],
    );
    let base = format!("http://{}", server.addr());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let providers: serde_json::Value =
        client.get(format!("{base}/api/auth/providers/")).send().await.unwrap().json().await.unwrap();
    assert_eq!(providers, json!([{ "id": "corp", "name": "Corp SSO" }]));
    let body = json!({ "process": "login", "return_to": format!("{public}/app/") });
    let (status, answer) =
        common::post_json(&client, format!("{base}/api/auth/social/corp/authorize/"), body, None).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let callback = op.authorize(answer["authorization_url"].as_str().unwrap()).await.unwrap();
    let landed = client.get(format!("{base}{}", callback.path_and_query())).send().await.unwrap();
    assert_eq!(landed.status(), StatusCode::FOUND);
    assert_eq!(landed.headers()["referrer-policy"], "no-referrer");
    let location = url::Url::parse(landed.headers()["location"].to_str().unwrap()).unwrap();
    assert!(location.as_str().starts_with(&format!("{public}/app/?login_code=")), "{location}");
    let code = location.query_pairs().find(|(k, _)| k == "login_code").unwrap().1.into_owned();
    let (status, tokens) =
        common::post_json(&client, format!("{base}/api/token/social/"), json!({ "login_code": code }), None).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens["access"].is_string() && tokens["refresh"].is_string());
}

#[test]
fn a_provider_file_that_cannot_work_stops_the_server() {
    let dir = fresh_dir("social-refused");
    for (content, message) in [
        (r#"[{"id":"Bad Id","name":"x","issuer":"https://a.example","client_id":"c","client_secret":"s"}]"#, "Bad Id"),
        (
            r#"[{"id":"corp","name":"x","issuer":"http://sso.example.com","client_id":"c","client_secret":"s"}]"#,
            "https",
        ),
        (
            r#"[{"id":"gh","name":"GitHub","kind":"github","issuer":"https://github.com","client_id":"c","client_secret":"s"}]"#,
            "issuer",
        ),
        (r#"[{"id":"corp","name":"x","issuer":"https://a.example","client_id":"c"}]"#, "client_secret"),
        ("not json", "providers.json"),
    ] {
        let file = dir.join("providers.json");
        std::fs::write(&file, content).unwrap();
        let output = Command::new(env!("CARGO_BIN_EXE_latchkey"))
            .env("LATCHKEY_BIND", "127.0.0.1:0")
            .env("LATCHKEY_DATABASE_URL", format!("sqlite://{}/latchkey.db?mode=rwc", dir.display()))
            .env("LATCHKEY_SECRET_KEY", "startup-secret-startup-secret-startup")
            .env("LATCHKEY_OIDC_PROVIDERS", &file)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{content} started");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("social login: ") && stderr.contains(message), "{content}: {stderr}");
    }
}

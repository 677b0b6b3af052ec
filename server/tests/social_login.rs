//! Signing in with an OpenID provider (docs/api.md#social-login) on both databases, against the
//! fake provider of `common::oidc_fake` (real RS256 keys, discovery, strict PKCE): the providers
//! list, the authorization request (S256 PKCE, state, nonce, allowed `return_to`), the callback's
//! single-use state, a first sign-in making a verified account without a password, a returning
//! identity, the `login_code` (single use, 60 seconds, bound to the browser when it asked), refused
//! and unverified sign-ins, and 2FA still asked of accounts that have it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::http::StatusCode;
use common::{
    audited, authorize, call, claims, create_user, enroll, exchange, land, land_at, list_sessions, login_url,
    next_code, oidc_login, oidc_sign_in, pass, pkce_challenge, return_to, with_social, FakeOp, OidcUser, OIDC,
    PASSWORD,
};
use latchkey_server::AppState;
use serde_json::{json, Value};

async fn user_row(state: &AppState, email: &str) -> Option<(i64, String, bool)> {
    let row: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT id, password, is_verified FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&state.db.pool)
            .await
            .unwrap();
    row.map(|(id, password, verified)| (id, password, verified != 0))
}

on_both!(the_configured_providers_are_listed_for_the_sign_in_page, |state: AppState| async move {
    let (status, none) = call(&state, "GET", "/api/auth/providers/", None, None).await;
    assert_eq!((status, none), (StatusCode::OK, json!([])));
    let (state, _op, _github) = with_social(state).await;
    let (status, list) = call(&state, "GET", "/api/auth/providers/", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list, json!([{ "id": OIDC, "name": "Test test-oidc" }, { "id": "github", "name": "GitHub" }]));
});

on_both!(the_authorization_request_carries_s256_pkce_a_state_and_a_nonce, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let url = url::Url::parse(&login_url(&state, OIDC).await).unwrap();
    assert!(url.as_str().starts_with(op.issuer()), "{url}");
    let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    assert!(params["scope"].split(' ').any(|s| s == "openid"), "{params:?}");
    assert_eq!(params["redirect_uri"], format!("{}/api/auth/social/{OIDC}/callback/", state.config.public_base()));
    assert!(params["state"].len() >= 43 && params["nonce"].len() >= 43, "{params:?}");
    // Every flow draws its own.
    let again = url::Url::parse(&login_url(&state, OIDC).await).unwrap();
    let again: std::collections::HashMap<_, _> = again.query_pairs().into_owned().collect();
    for name in ["state", "nonce", "code_challenge"] {
        assert_ne!(params[name], again[name], "{name}");
    }
    // Nothing of the verifier travels: the challenge is its hash.
    assert_ne!(params["code_challenge"], pkce_challenge(&params["state"]));
});

on_both!(return_to_must_be_on_an_allowed_origin, |state: AppState| async move {
    let (state, _, _) = with_social(state).await;
    let base = state.config.public_base();
    for bad in [
        "https://evil.example/".to_owned(),
        "//evil.example/".to_owned(),
        "javascript:alert(1)".to_owned(),
        format!("{base}.evil.example/"),
        base.replace("http://", "http://user:pass@"),
        format!("{base}/{}", "a".repeat(2100)),
        "/relative".to_owned(),
    ] {
        let (status, body) = authorize(&state, OIDC, json!({ "return_to": bad }), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["return_to"].is_array(), "{bad}: {body}");
    }
    // LATCHKEY_CORS_ORIGINS are allowed too.
    let state = common::configured(&state, |c| c.cors_origins = vec!["https://app.example.com".into()]);
    let (status, body) = authorize(&state, OIDC, json!({ "return_to": "https://app.example.com/x" }), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = authorize(&state, "nope", json!({ "return_to": return_to(&state) }), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = authorize(&state, OIDC, json!({ "return_to": return_to(&state), "process": "x" }), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
});

on_both!(a_first_sign_in_makes_a_verified_account_without_a_password, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let landing = oidc_login(&state, &op).await;
    assert_eq!(landing.status, StatusCode::FOUND, "{landing:?}");
    assert!(landing.location.starts_with(&return_to(&state)), "{landing:?}");
    let code = landing.get("login_code").unwrap();
    assert!(code.len() == 64 && landing.params.len() == 1, "{landing:?}");
    let (status, tokens) = exchange(&state, json!({ "login_code": code })).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["mfa"], json!(false));
    let (id, password, verified) = user_row(&state, "jane@example.test").await.unwrap();
    assert!(password.starts_with('!') && password.len() == 41, "unusable: {password}");
    assert!(verified);
    let (_, me) = call(&state, "GET", "/api/auth/me/", None, Some(access)).await;
    assert_eq!((me["first_name"].as_str(), me["last_name"].as_str()), (Some("Jane"), Some("Doe")));
    let (_, sessions) = list_sessions(&state, access).await;
    assert_eq!(sessions[0]["auth_method"], format!("social:{OIDC}"));
    let linked = audited(&state, "social_account_linked", Some(id)).await;
    assert_eq!(linked.len(), 1);
    assert_eq!((linked[0]["provider"].as_str(), linked[0]["how"].as_str()), (Some(OIDC), Some("sign_up")));
    // A password login cannot reach it.
    let (status, _) = common::try_login(&state, json!({ "email": "jane@example.test", "password": "!" })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
});

on_both!(a_returning_identity_signs_in_to_its_account_whatever_its_address_now, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let first = oidc_sign_in(&state, &op).await;
    let user_id = claims(&state, first["access"].as_str().unwrap()).user_id;
    // The provider now gives another address (even one of another account): the subject decides.
    create_user(&state, "other@example.test", PASSWORD).await;
    op.script().user.email = Some("other@example.test".into());
    let again = oidc_sign_in(&state, &op).await;
    assert_eq!(claims(&state, again["access"].as_str().unwrap()).user_id, user_id);
    let (_, accounts) = call(&state, "GET", "/api/auth/social/accounts/", None, again["access"].as_str()).await;
    assert_eq!(accounts[0]["email"], "other@example.test");
    let count: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(count.0, 2);
});

on_both!(a_login_code_is_single_use_and_lasts_60_seconds, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let code = oidc_login(&state, &op).await.get("login_code").unwrap().to_owned();
    let (status, _) = exchange(&state, json!({ "login_code": code })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = exchange(&state, json!({ "login_code": code })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "login_code_invalid");
    let late = oidc_login(&state, &op).await.get("login_code").unwrap().to_owned();
    pass(&state, 61);
    let (status, body) = exchange(&state, json!({ "login_code": late })).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("login_code_invalid")));
    let (status, body) = exchange(&state, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
});

on_both!(a_flow_started_with_a_binding_ends_only_with_it, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let binding = "b".repeat(43);
    let start = json!({ "return_to": return_to(&state), "binding": binding });
    let (status, body) = authorize(&state, OIDC, start.clone(), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let landing = land(&state, &op.authorize(body["authorization_url"].as_str().unwrap()).await.unwrap()).await;
    let code = landing.get("login_code").unwrap();
    // Without it, or with another, the code is spent for nothing: a leaked code is useless alone.
    let (status, body) = exchange(&state, json!({ "login_code": code, "binding": "c".repeat(43) })).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("login_code_invalid")));
    let (_, body) = authorize(&state, OIDC, start.clone(), None).await;
    let landing = land(&state, &op.authorize(body["authorization_url"].as_str().unwrap()).await.unwrap()).await;
    let (status, _) = exchange(&state, json!({ "login_code": landing.get("login_code").unwrap() })).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, body) = authorize(&state, OIDC, start, None).await;
    let landing = land(&state, &op.authorize(body["authorization_url"].as_str().unwrap()).await.unwrap()).await;
    let code = landing.get("login_code").unwrap();
    let (status, body) = exchange(&state, json!({ "login_code": code, "binding": binding })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = authorize(&state, OIDC, json!({ "return_to": return_to(&state), "binding": "x" }), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
});

on_both!(a_callback_state_is_single_use_and_never_redirects_when_unknown, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let callback = op.authorize(&login_url(&state, OIDC).await).await.unwrap_or_else(|e| panic!("{e}"));
    let first = land(&state, &callback).await;
    assert!(first.get("login_code").is_some(), "{first:?}");
    let replay = land(&state, &callback).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{replay:?}");
    assert_eq!(replay.body["code"], "social_state_invalid");
    assert!(replay.location.is_empty());
    for uri in [
        format!("/api/auth/social/{OIDC}/callback/"),
        format!("/api/auth/social/{OIDC}/callback/?code=x&state=made-up"),
        format!("/api/auth/social/{OIDC}/callback/?code=x&state={}", "s".repeat(5000)),
    ] {
        let landing = land_at(&state, &uri).await;
        assert_eq!(
            (landing.status, landing.body["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("social_state_invalid"))
        );
    }
    // A state is its provider's: brought to another provider's callback it is spent and refused.
    let callback = op.authorize(&login_url(&state, OIDC).await).await.unwrap();
    let other = callback.path_and_query().replace(OIDC, "github");
    assert_eq!(land_at(&state, &other).await.status, StatusCode::BAD_REQUEST);
    assert_eq!(land(&state, &callback).await.status, StatusCode::BAD_REQUEST);
    // An expired flow (10 minutes) is gone too.
    let callback = op.authorize(&login_url(&state, OIDC).await).await.unwrap();
    pass(&state, 601);
    assert_eq!(land(&state, &callback).await.status, StatusCode::BAD_REQUEST);
});

on_both!(a_code_injected_into_another_flow_fails_pkce_at_the_provider, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    // The attacker's own code, brought to the victim's callback with the victim's state: the
    // victim's verifier does not match the attacker's challenge, and the provider refuses it.
    let attacker = op.authorize(&login_url(&state, OIDC).await).await.unwrap();
    let victim = op.authorize(&login_url(&state, OIDC).await).await.unwrap();
    let injected = format!(
        "/api/auth/social/{OIDC}/callback/?code={}&state={}",
        attacker.code().unwrap(),
        victim.state().unwrap()
    );
    let landing = land_at(&state, &injected).await;
    assert_eq!(landing.get("error"), Some("provider_error"), "{landing:?}");
    assert!(user_row(&state, "jane@example.test").await.is_none());
});

on_both!(a_refusal_at_the_provider_comes_back_as_an_error, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    op.script().refuse = true;
    let landing = oidc_login(&state, &op).await;
    assert_eq!(landing.status, StatusCode::FOUND);
    assert_eq!(landing.get("error"), Some("access_denied"), "{landing:?}");
    op.script().refuse = false;
    op.script().token_error = Some("invalid_grant".into());
    assert_eq!(oidc_login(&state, &op).await.get("error"), Some("provider_error"));
    assert!(user_row(&state, "jane@example.test").await.is_none());
});

on_both!(an_unverified_address_never_makes_or_reaches_an_account, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    create_user(&state, "victim@example.test", PASSWORD).await;
    for address in ["victim@example.test", "new@example.test"] {
        op.script().user = OidcUser { email: Some(address.into()), email_verified: false, ..OidcUser::default() };
        let landing = oidc_login(&state, &op).await;
        assert_eq!(landing.get("error"), Some("email_unverified"), "{landing:?}");
        assert!(landing.get("link_token").is_none());
    }
    assert!(user_row(&state, "new@example.test").await.is_none());
    op.script().user = OidcUser { email: None, ..OidcUser::default() };
    assert_eq!(oidc_login(&state, &op).await.get("error"), Some("email_unverified"));
    let refused = audited(&state, "login_failed", None).await;
    assert_eq!(refused.len(), 3);
    assert!(refused.iter().all(|d| d["reason"] == "email_unverified"), "{refused:?}");
});

on_both!(an_inactive_account_cannot_sign_in_with_its_provider, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let first = oidc_sign_in(&state, &op).await;
    let id = claims(&state, first["access"].as_str().unwrap()).user_id;
    let id: i64 = id.parse().unwrap();
    sqlx::query("UPDATE users SET is_active = 0 WHERE id = $1").bind(id).execute(&state.db.pool).await.unwrap();
    state.db.forget_user(id).await;
    assert_eq!(oidc_login(&state, &op).await.get("error"), Some("account_inactive"));
});

on_both!(an_account_with_2fa_still_needs_its_second_factor, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let user = enroll(&state, "jane@example.test").await;
    // Linked by a connect from the enrolled session (privileged: the fresh login opened the window).
    let start = json!({ "process": "connect", "return_to": return_to(&state) });
    let (status, body) = authorize(&state, OIDC, start, Some(&user.access)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let landing = land(&state, &op.authorize(body["authorization_url"].as_str().unwrap()).await.unwrap()).await;
    assert_eq!(landing.get("linked"), Some(OIDC), "{landing:?}");
    let code = oidc_login(&state, &op).await.get("login_code").unwrap().to_owned();
    let (status, body) = exchange(&state, json!({ "login_code": code })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "mfa_required");
    let token = body["mfa_token"].as_str().unwrap();
    let (status, tokens) =
        call(&state, "POST", "/api/token/mfa/", Some(json!({ "mfa_token": token, "code": next_code(&user) })), None)
            .await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let access = tokens["access"].as_str().unwrap();
    assert_eq!(claims(&state, access).extra["mfa"], json!(true));
    let (_, sessions) = list_sessions(&state, access).await;
    let current: Vec<&Value> = sessions.as_array().unwrap().iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current[0]["auth_method"], format!("social:{OIDC}"));
});

on_both!(a_provider_that_cannot_be_reached_is_a_503, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    op.script().unavailable.push(common::Endpoint::Discovery);
    let (status, body) = authorize(&state, OIDC, json!({ "return_to": return_to(&state) }), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "provider_unavailable");
    assert_eq!(body["detail"], "The sign-in provider cannot be reached. Try again later.");
    // The failure is remembered (30 s): a provider that is down is not asked again at every click.
    op.script().unavailable.clear();
    let (status, _) = authorize(&state, OIDC, json!({ "return_to": return_to(&state) }), None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(op.calls().discovery, 1);
    let _: &FakeOp = &op;
});

/// `method` of `uri` with `body` from the address 203.0.113.9: the status, the JSON answer and the
/// `Location`.
async fn from_network(state: &AppState, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value, String) {
    let (status, body, response) = common::send(state, common::from("203.0.113.9", method, uri, body, None)).await;
    let location = response.headers().get("location").map(|l| l.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, body, location)
}

on_both!(starting_and_finishing_sign_ins_count_under_the_login_limit, |state: AppState| async move {
    let (state, op, _) = with_social(state).await;
    let state = common::configured(&state, |c| c.rate_limits = "login:ip=3/1m,register:ip=1/1h".parse().unwrap());
    let start = Some(json!({ "return_to": return_to(&state) }));
    let authorize_path = format!("/api/auth/social/{OIDC}/authorize/");
    // Each authorization request stores a row: the login limit bounds them per network.
    let (status, started, _) = from_network(&state, "POST", &authorize_path, start.clone()).await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let callback = op.authorize(started["authorization_url"].as_str().unwrap()).await.unwrap();
    let (_, _, location) = from_network(&state, "GET", &callback.path_and_query(), None).await;
    let code =
        url::Url::parse(&location).unwrap().query_pairs().find(|(k, _)| k == "login_code").unwrap().1.into_owned();
    let body = Some(json!({ "login_code": code }));
    assert_eq!(from_network(&state, "POST", "/api/token/social/", body).await.0, StatusCode::OK);
    assert_eq!(from_network(&state, "POST", &authorize_path, start.clone()).await.0, StatusCode::OK);
    assert_eq!(from_network(&state, "POST", &authorize_path, start.clone()).await.0, StatusCode::TOO_MANY_REQUESTS);
    let body = Some(json!({ "login_code": "0".repeat(64) }));
    assert_eq!(from_network(&state, "POST", "/api/token/social/", body).await.0, StatusCode::TOO_MANY_REQUESTS);
    let rows: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM social_flows").fetch_one(&state.db.pool).await.unwrap();
    assert_eq!(rows.0, 1, "the one flow in flight");
    // A second new account from the network is over `register:ip`: the callback says so.
    pass(&state, 61);
    op.script().user =
        OidcUser { sub: "second".into(), email: Some("second@example.test".into()), ..OidcUser::default() };
    let (_, started, _) = from_network(&state, "POST", &authorize_path, start).await;
    let callback = op.authorize(started["authorization_url"].as_str().unwrap()).await.unwrap();
    let (_, _, location) = from_network(&state, "GET", &callback.path_and_query(), None).await;
    assert!(location.ends_with("error=rate_limited"), "{location}");
});

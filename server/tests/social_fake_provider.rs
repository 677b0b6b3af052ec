//! The providers of the social-login tests (`common::oidc_fake`, `common::github_fake`), driven
//! directly with an HTTP client: they enforce what real providers enforce (registered redirect URIs,
//! S256 PKCE, single-use codes), their ID tokens verify against their own JWKS with an independent
//! verifier, and every scripted tampering breaks one of the checks OpenID Connect Core §3.1.3.7 asks for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{pkce_challenge, FakeGithub, FakeOp, Tamper, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const SERVER: &str = "http://127.0.0.1:8000";
/// RFC 7636 appendix B's verifier.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

fn client() -> Client {
    Client::builder().no_proxy().build().unwrap()
}

/// An authorization URL as a relying party builds it.
fn authorization_url(endpoint: &str, redirect_uri: &str, scope: &str) -> String {
    let mut url = url::Url::parse(endpoint).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("client_id", FAKE_CLIENT_ID),
        ("redirect_uri", redirect_uri),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "the-state"),
        ("nonce", "the-nonce"),
        ("code_challenge", &pkce_challenge(VERIFIER)),
        ("code_challenge_method", "S256"),
    ]);
    url.into()
}

async fn get_json(url: String) -> Value {
    client().get(url).send().await.unwrap().json().await.unwrap()
}

/// The ID-token checks the server makes, done here with jsonwebtoken against the served JWKS.
fn verify(id_token: &str, jwks: &Value, issuer: &str) -> Result<Value, String> {
    let header = jsonwebtoken::decode_header(id_token).map_err(|e| e.to_string())?;
    let kid = header.kid.filter(|_| header.alg == Algorithm::RS256).ok_or("algorithm")?;
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).ok_or("kid")?;
    let key = DecodingKey::from_jwk(&serde_json::from_value(jwk.clone()).unwrap()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[FAKE_CLIENT_ID]);
    validation.leeway = 60;
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation).map_err(|e| e.to_string())?.claims;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let several_audiences = claims["aud"].as_array().is_some_and(|aud| aud.len() > 1);
    let failed = [
        (several_audiences && claims["azp"] != FAKE_CLIENT_ID, "azp"),
        (claims["iat"].as_i64().is_none_or(|iat| iat > now + 60), "iat"),
        (claims["nonce"] != "the-nonce", "nonce"),
        (!claims["sub"].is_string(), "sub"),
    ];
    match failed.into_iter().find(|(failed, _)| *failed) {
        Some((_, check)) => Err(check.into()),
        None => Ok(claims),
    }
}

/// Approves as the scripted user and exchanges the code with `verifier`.
async fn sign_in(op: &FakeOp, redirect_uri: &str, verifier: &str) -> (StatusCode, Value) {
    let (code, state) = op
        .approve(&authorization_url(&format!("{}/authorize", op.issuer()), redirect_uri, "openid email"))
        .await
        .unwrap();
    assert_eq!(state, "the-state");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let response = client()
        .post(format!("{}/token", op.issuer()))
        .basic_auth(FAKE_CLIENT_ID, Some(FAKE_CLIENT_SECRET))
        .form(&form)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

#[tokio::test]
async fn the_test_provider_enforces_pkce_and_signs_with_its_jwks() {
    let op = FakeOp::start().await;
    assert_eq!(op.entry("test-oidc", SERVER)["issuer"], op.issuer());
    let redirect_uri = format!("{SERVER}/api/auth/social/test-oidc/callback/");
    let discovery = get_json(format!("{}/.well-known/openid-configuration", op.issuer())).await;
    assert_eq!(discovery["issuer"], op.issuer());
    assert_eq!(discovery["code_challenge_methods_supported"], json!(["S256"]));
    let authorize = discovery["authorization_endpoint"].as_str().unwrap();

    let plain = authorization_url(authorize, &redirect_uri, "openid").replace("S256", "plain");
    assert!(op.authorize(&plain).await.unwrap_err().contains("S256"));
    let elsewhere = authorization_url(authorize, "https://evil.example.test/cb", "openid");
    assert!(op.authorize(&elsewhere).await.unwrap_err().contains("not registered"));
    assert!(op.authorize(&authorization_url(authorize, &redirect_uri, "email")).await.is_err());

    let (status, body) = sign_in(&op, &redirect_uri, &format!("{VERIFIER}x")).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, json!({"error": "invalid_grant"})));
    let (status, tokens) = sign_in(&op, &redirect_uri, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(op.last_authorization().unwrap().nonce.as_deref(), Some("the-nonce"));
    let jwks = get_json(discovery["jwks_uri"].as_str().unwrap().into()).await;
    let claims = verify(tokens["id_token"].as_str().unwrap(), &jwks, op.issuer()).unwrap();
    assert_eq!((claims["email"].clone(), claims["email_verified"].clone()), (json!("jane@example.test"), json!(true)));
    let userinfo =
        client().get(format!("{}/userinfo", op.issuer())).bearer_auth(tokens["access_token"].as_str().unwrap());
    assert_eq!(userinfo.send().await.unwrap().json::<Value>().await.unwrap()["sub"], claims["sub"]);
    assert_eq!((op.calls().token, op.calls().discovery, op.calls().jwks), (2, 1, 1));

    op.script().refuse = true;
    let refused = op.authorize(&authorization_url(authorize, &redirect_uri, "openid")).await.unwrap();
    assert_eq!((refused.error(), refused.state()), (Some("access_denied"), Some("the-state")));
}

#[tokio::test]
async fn every_scripted_tampering_fails_an_independent_id_token_check() {
    let op = FakeOp::start().await;
    let redirect_uri = format!("{SERVER}/api/auth/social/test-oidc/callback/");
    op.entry("test-oidc", SERVER);
    for tamper in Tamper::ALL.into_iter().map(Some).chain([None]) {
        op.script().tamper = tamper;
        let (_, tokens) = sign_in(&op, &redirect_uri, VERIFIER).await;
        let jwks = get_json(format!("{}/jwks", op.issuer())).await;
        let verdict = verify(tokens["id_token"].as_str().unwrap(), &jwks, op.issuer());
        let breaks = tamper.and_then(Tamper::failed_check);
        assert_eq!(verdict.is_err(), breaks.is_some(), "{tamper:?} ({breaks:?}): {verdict:?}");
    }
    op.script().rotated = true;
    let (_, tokens) = sign_in(&op, &redirect_uri, VERIFIER).await;
    let jwks = get_json(format!("{}/jwks", op.issuer())).await;
    assert_eq!(jsonwebtoken::decode_header(tokens["id_token"].as_str().unwrap()).unwrap().kid.as_deref(), Some("k2"));
    verify(tokens["id_token"].as_str().unwrap(), &jwks, op.issuer()).unwrap();
}

#[tokio::test]
async fn the_github_stand_in_speaks_githubs_token_and_api_dialect() {
    let gh = FakeGithub::start().await;
    let redirect_uri = format!("{SERVER}/api/auth/social/github/callback/");
    assert_eq!(gh.entry("github", SERVER)["api_url"], gh.base());
    let url = authorization_url(&format!("{}/login/oauth/authorize", gh.base()), &redirect_uri, "read:user user:email");
    let token_url = format!("{}/login/oauth/access_token", gh.base());
    let exchange = |code: String, verifier: &'static str| {
        let form = [
            ("client_id", FAKE_CLIENT_ID.to_owned()),
            ("client_secret", FAKE_CLIENT_SECRET.to_owned()),
            ("code", code),
            ("redirect_uri", redirect_uri.clone()),
            ("code_verifier", verifier.to_owned()),
        ];
        client().post(&token_url).header("Accept", "application/json").form(&form).send()
    };
    let (code, _) = gh.approve(&url).await.unwrap();
    let refused = exchange(code, "wrong-verifier-wrong-verifier-wrong-verifier").await.unwrap();
    assert_eq!(refused.status(), StatusCode::OK, "GitHub's errors are 200s");
    assert_eq!(refused.json::<Value>().await.unwrap()["error"], "bad_verification_code");
    let (code, _) = gh.approve(&url).await.unwrap();
    let body: Value = exchange(code, VERIFIER).await.unwrap().json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    let api =
        |path: &str| client().get(format!("{}{path}", gh.base())).bearer_auth(body["access_token"].as_str().unwrap());
    assert_eq!(api("/user").send().await.unwrap().status(), StatusCode::FORBIDDEN, "no User-Agent");
    let user: Value = api("/user").header("User-Agent", "test").send().await.unwrap().json().await.unwrap();
    assert_eq!((user["id"].clone(), user["email"].clone()), (json!(1234), Value::Null));
    let emails: Value = api("/user/emails").header("User-Agent", "test").send().await.unwrap().json().await.unwrap();
    assert_eq!((emails[0]["email"].clone(), emails[0]["primary"].clone()), (json!("octocat@github.com"), json!(true)));
}

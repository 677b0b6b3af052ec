//! Asymmetric signing and the JWKS (docs/operations.md, §8): with EdDSA, RS256 or ES256 and a private key
//! file, `GET /.well-known/jwks.json` publishes the public key, and that key alone verifies the
//! access tokens the server issues. With HS256 there is no JWKS: the key is the server's secret.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;

use axum::http::StatusCode;
use common::{fresh_dir, login, register, request, send, PASSWORD};
use latchkey_core::token::{Algorithm, Keys};
use latchkey_server::state::StartError;
use latchkey_server::AppState;
use serde_json::{json, Value};

const VECTORS: &str = include_str!("../../tests/vectors/jwt.json");

fn pem(algorithm: Algorithm, which: &str) -> String {
    let document: Value = serde_json::from_str(VECTORS).unwrap();
    document["keys"][algorithm.as_str()][which].as_str().unwrap().to_owned()
}

/// A PEM written to a file of its own, as an operator would configure it.
fn key_file(contents: &str) -> PathBuf {
    let path = fresh_dir("jwks").join("jwt-key.pem");
    std::fs::write(&path, contents).unwrap();
    path
}

/// A fresh SQLite state whose configuration names `algorithm` and, when given, a private key file.
async fn state_with(algorithm: Algorithm, key: Option<PathBuf>) -> Result<AppState, StartError> {
    let base = common::state(common::Backend::Sqlite).await.unwrap();
    let mut config = (*base.config).clone();
    config.jwt_algorithm = algorithm;
    config.jwt_private_key_file = key;
    let mut state = AppState::with_db(config, base.db.clone())?;
    state.hasher = base.hasher.clone();
    Ok(state)
}

async fn access_token(state: &AppState) -> String {
    register(state, json!({"email": "ada@example.com", "password": PASSWORD, "password_confirm": PASSWORD})).await;
    login(state, "ada@example.com", PASSWORD).await
}

/// Checks `token`'s signature with nothing but the JWK, through jsonwebtoken's own JWK reader.
fn verifies_with(jwk: &Value, token: &str) -> bool {
    let algorithm: jsonwebtoken::Algorithm = jwk["alg"].as_str().unwrap().parse().unwrap();
    let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
    let (signing_input, signature) = token.rsplit_once('.').unwrap();
    jsonwebtoken::crypto::verify(signature, signing_input.as_bytes(), &key, algorithm).unwrap_or(false)
}

async fn jwks_verifies_issued_tokens(algorithm: Algorithm) {
    let state = state_with(algorithm, Some(key_file(&pem(algorithm, "private_pem")))).await.unwrap();
    let token = access_token(&state).await;

    let (status, jwks, _) = send(&state, request("GET", "/.well-known/jwks.json", None, None)).await;
    assert_eq!(status, StatusCode::OK, "{jwks}");
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{jwks}");
    let jwk = &keys[0];
    assert_eq!((jwk["alg"].as_str(), jwk["use"].as_str()), (Some(algorithm.as_str()), Some("sig")), "{jwk}");
    assert!(jwk.get("d").is_none() && jwk.get("p").is_none(), "no private members: {jwk}");
    // The same key as the published public PEM.
    let from_public_pem = Keys::verify_only(algorithm, pem(algorithm, "public_pem").as_bytes()).unwrap();
    assert_eq!(from_public_pem.jwk(), Some(jwk));

    let header = latchkey_core::token::decode_unverified(&token).unwrap().header;
    assert_eq!(header["alg"], algorithm.as_str());
    assert!(verifies_with(jwk, &token), "{algorithm}: the JWK does not verify the access token");
    let (signing_input, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{signing_input}.{}", "A".repeat(86));
    assert!(!verifies_with(jwk, &forged), "{algorithm}: a forged signature verified");

    // The server itself accepts its token.
    let (status, body, _) = send(&state, request("GET", "/api/auth/me/", None, Some(&token))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn eddsa_tokens_verify_with_the_jwks() {
    jwks_verifies_issued_tokens(Algorithm::EdDSA).await;
}

#[tokio::test]
async fn rs256_tokens_verify_with_the_jwks() {
    jwks_verifies_issued_tokens(Algorithm::RS256).await;
}

#[tokio::test]
async fn es256_tokens_verify_with_the_jwks() {
    jwks_verifies_issued_tokens(Algorithm::ES256).await;
}

#[tokio::test]
async fn hs256_serves_no_jwks() {
    let state = state_with(Algorithm::HS256, None).await.unwrap();
    let (status, body, _) = send(&state, request("GET", "/.well-known/jwks.json", None, None)).await;
    assert_eq!((status, body), (StatusCode::NOT_FOUND, json!({"detail": "Not found."})));
}

#[tokio::test]
async fn asymmetric_algorithms_refuse_to_start_without_a_usable_key() {
    let error = state_with(Algorithm::ES256, None).await.unwrap_err().to_string();
    assert!(error.contains("LATCHKEY_JWT_PRIVATE_KEY_FILE"), "{error}");
    let missing = std::env::temp_dir().join("latchkey-no-such-dir/jwt-key.pem");
    let error = state_with(Algorithm::EdDSA, Some(missing)).await.unwrap_err().to_string();
    assert!(error.contains("cannot read"), "{error}");
    // An Ed25519 key configured for RS256, and a public key where the private one belongs.
    let wrong = key_file(&pem(Algorithm::EdDSA, "private_pem"));
    let error = state_with(Algorithm::RS256, Some(wrong)).await.unwrap_err().to_string();
    assert!(error.contains("not a usable RS256 key"), "{error}");
    let public = key_file(&pem(Algorithm::EdDSA, "public_pem"));
    assert!(state_with(Algorithm::EdDSA, Some(public)).await.is_err());
}

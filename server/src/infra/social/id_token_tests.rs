//! One test per check of an ID token, over tokens signed here with the test-only RSA keys of
//! `server/tests/fixtures/`.

use std::sync::OnceLock;

use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};

use super::*;

const NOW: i64 = 1_750_000_000;
const CLIENT: &str = "latchkey-client";
const ISSUER: &str = "https://idp.example.com";
const NONCE: &str = "n0nce-from-the-sign-in";

/// The signing key and the JWKS that holds its public half as `k1`; `other` signs with another key.
struct Fixture {
    key: EncodingKey,
    other: EncodingKey,
    keys: KeySet,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (key, jwk) = rsa_key(include_str!("../../../tests/fixtures/oidc_rsa.pem"), "k1");
        let (other, _) = rsa_key(include_str!("../../../tests/fixtures/oidc_rsa_other.pem"), "k2");
        Fixture { key, other, keys: KeySet::from_keys(vec![jwk]) }
    })
}

/// A PKCS#8 PEM key as jsonwebtoken's signing key, and its public JWK named `kid`.
fn rsa_key(pem: &str, kid: &str) -> (EncodingKey, Jwk) {
    let private = rsa::RsaPrivateKey::from_pkcs8_pem(pem).unwrap();
    let der = private.to_pkcs1_der().unwrap();
    let b64 = |bytes: Vec<u8>| latchkey_core::encoding::base64url(&bytes);
    let jwk = json!({"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
                     "n": b64(private.n().to_bytes_be()), "e": b64(private.e().to_bytes_be())});
    (EncodingKey::from_rsa_der(der.as_bytes()), serde_json::from_value(jwk).unwrap())
}

/// Claims that pass every check.
fn good_claims() -> Value {
    json!({"iss": ISSUER, "aud": CLIENT, "sub": "248289761001", "exp": NOW + 300, "iat": NOW - 5,
           "nonce": NONCE, "email": "Ada@Example.com", "email_verified": true,
           "given_name": "Ada", "family_name": "Lovelace"})
}

/// `claims` with `changes` applied (a `null` removes the claim).
fn with(changes: Value) -> Value {
    let mut claims = good_claims();
    for (name, value) in changes.as_object().unwrap() {
        match value {
            Value::Null => claims.as_object_mut().unwrap().remove(name),
            _ => claims.as_object_mut().unwrap().insert(name.clone(), value.clone()),
        };
    }
    claims
}

fn sign(claims: &Value) -> String {
    sign_with(claims, Some("k1"), &fixture().key)
}

fn sign_with(claims: &Value, kid: Option<&str>, key: &EncodingKey) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, key).unwrap()
}

fn check(raw: &str) -> Result<Identity, IdTokenCheck> {
    check_against(raw, &IssuerRule::Exact(ISSUER.into()), None)
}

fn check_against(raw: &str, issuer: &IssuerRule, tenants: Option<&[String]>) -> Result<Identity, IdTokenCheck> {
    let expect = Expect {
        issuer,
        tenants,
        client_id: CLIENT,
        algorithms: &[Algorithm::RS256],
        nonce: NONCE,
        email_verified_claim: "email_verified",
    };
    verify(raw, &fixture().keys, &expect, NOW)
}

fn b64(text: &str) -> String {
    latchkey_core::encoding::base64url(text.as_bytes())
}

#[test]
fn a_good_token_names_its_identity() {
    let identity = check(&sign(&good_claims())).unwrap();
    assert_eq!(identity.subject, "248289761001");
    assert_eq!(identity.email.as_deref(), Some("Ada@Example.com"), "given as the provider gave it");
    assert!(identity.email_verified);
    assert_eq!((identity.given_name.as_deref(), identity.family_name.as_deref()), (Some("Ada"), Some("Lovelace")));
    // A key without `kid` is found as the only RSA key; `"true"` counts as verified.
    let claims = with(json!({"email_verified": "true", "given_name": "x".repeat(200)}));
    let identity = check(&sign_with(&claims, None, &fixture().key)).unwrap();
    assert!(identity.email_verified);
    assert_eq!(identity.given_name.map(|n| n.chars().count()), Some(150));
    let unverified = check(&sign(&with(json!({"email_verified": false})))).unwrap();
    assert!(!unverified.email_verified);
}

#[test]
fn malformed() {
    for raw in ["", "abc", "a.b.c", "e30.e30.e30"] {
        assert_eq!(check(raw).unwrap_err(), IdTokenCheck::Malformed, "{raw}");
    }
    assert_eq!(check(&sign(&with(json!({"exp": null})))).unwrap_err(), IdTokenCheck::Malformed);
    assert_eq!(check(&sign(&with(json!({"iat": "yesterday"})))).unwrap_err(), IdTokenCheck::Malformed);
    assert_eq!(check(&sign(&json!(["not", "an", "object"]))).unwrap_err(), IdTokenCheck::Malformed);
}

#[test]
fn algorithm() {
    // `none`, unsigned.
    let none = format!("{}.{}.", b64(r#"{"alg":"none"}"#), b64(&good_claims().to_string()));
    assert_eq!(check(&none).unwrap_err(), IdTokenCheck::Algorithm);
    // HS256 "signed" with the public key's modulus: the key-confusion attack.
    let hs256 = encode(&Header::new(Algorithm::HS256), &good_claims(), &EncodingKey::from_secret(b"AQAB")).unwrap();
    assert_eq!(check(&hs256).unwrap_err(), IdTokenCheck::Algorithm);
    // RS384 is safe but the provider announced only RS256.
    let mut header = Header::new(Algorithm::RS384);
    header.kid = Some("k1".into());
    let rs384 = encode(&header, &good_claims(), &fixture().key).unwrap();
    assert_eq!(check(&rs384).unwrap_err(), IdTokenCheck::Algorithm);
}

#[test]
fn key() {
    let unknown = sign_with(&good_claims(), Some("rotated-away"), &fixture().key);
    assert_eq!(check(&unknown).unwrap_err(), IdTokenCheck::Key);
    assert!(fixture().keys.lacks(kid(&unknown).as_deref()), "an unknown kid asks for a refetch");
    let mut header = Header::new(Algorithm::PS256);
    header.kid = Some("k1".into());
    let ps256 = encode(&header, &good_claims(), &fixture().key).unwrap();
    let expect = Expect {
        issuer: &IssuerRule::Exact(ISSUER.into()),
        tenants: None,
        client_id: CLIENT,
        algorithms: &[Algorithm::RS256, Algorithm::PS256],
        nonce: NONCE,
        email_verified_claim: "email_verified",
    };
    assert_eq!(verify(&ps256, &fixture().keys, &expect, NOW).unwrap_err(), IdTokenCheck::Key, "k1 is RS256 only");
}

#[test]
fn signature() {
    let forged = sign_with(&good_claims(), Some("k1"), &fixture().other);
    assert_eq!(check(&forged).unwrap_err(), IdTokenCheck::Signature);
    let good = sign(&good_claims());
    let (rest, _) = good.rsplit_once('.').unwrap();
    let tampered = format!("{rest}.{}", b64("x".repeat(256).as_str()));
    assert_eq!(check(&tampered).unwrap_err(), IdTokenCheck::Signature);
    let other_claims = format!("{}.{}.{}", good.split('.').next().unwrap(), b64(r#"{"sub":"admin"}"#), {
        good.rsplit('.').next().unwrap()
    });
    assert_eq!(check(&other_claims).unwrap_err(), IdTokenCheck::Signature);
}

#[test]
fn issuer() {
    for iss in [json!("https://idp.example.com/"), json!("https://evil.example"), json!(null), json!(7)] {
        assert_eq!(check(&sign(&with(json!({ "iss": iss })))).unwrap_err(), IdTokenCheck::Issuer, "{iss}");
    }
    let template = IssuerRule::Template { prefix: "https://login.microsoftonline.com/".into(), suffix: "/v2.0".into() };
    let tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let entra = with(json!({"iss": format!("https://login.microsoftonline.com/{tid}/v2.0"), "tid": tid}));
    assert!(check_against(&sign(&entra), &template, None).is_ok());
    assert!(check_against(&sign(&entra), &template, Some(&[tid.to_owned()])).is_ok());
    let elsewhere = ["00000000-0000-0000-0000-000000000001".to_owned()];
    assert_eq!(check_against(&sign(&entra), &template, Some(&elsewhere)).unwrap_err(), IdTokenCheck::Issuer);
    let other_tid = with(json!({"iss": format!("https://login.microsoftonline.com/{tid}/v2.0"),
                                "tid": "00000000-0000-0000-0000-000000000001"}));
    assert_eq!(check_against(&sign(&other_tid), &template, None).unwrap_err(), IdTokenCheck::Issuer);
    let not_guid = with(json!({"iss": "https://login.microsoftonline.com/x/y/v2.0", "tid": "x/y"}));
    assert_eq!(check_against(&sign(&not_guid), &template, None).unwrap_err(), IdTokenCheck::Issuer);
}

#[test]
fn audience() {
    for aud in [json!("someone-else"), json!([CLIENT, "someone-else"]), json!([]), json!(null)] {
        assert_eq!(check(&sign(&with(json!({ "aud": aud })))).unwrap_err(), IdTokenCheck::Audience, "{aud}");
    }
    assert!(check(&sign(&with(json!({"aud": [CLIENT], "azp": CLIENT})))).is_ok());
    assert!(check(&sign(&with(json!({"aud": [CLIENT, "someone-else"], "azp": CLIENT})))).is_ok());
    let not_to_us = with(json!({"aud": ["someone-else", "another"], "azp": CLIENT}));
    assert_eq!(check(&sign(&not_to_us)).unwrap_err(), IdTokenCheck::Audience);
    let azp = with(json!({"azp": "someone-else"}));
    assert_eq!(check(&sign(&azp)).unwrap_err(), IdTokenCheck::Audience);
}

#[test]
fn expired() {
    assert!(check(&sign(&with(json!({"exp": NOW - LEEWAY + 1})))).is_ok(), "within the leeway");
    assert_eq!(check(&sign(&with(json!({"exp": NOW - LEEWAY})))).unwrap_err(), IdTokenCheck::Expired);
    assert_eq!(check(&sign(&with(json!({"exp": (NOW - 3600) as f64 + 0.5})))).unwrap_err(), IdTokenCheck::Expired);
}

#[test]
fn issued_in_future() {
    assert!(check(&sign(&with(json!({"iat": NOW + LEEWAY})))).is_ok(), "within the leeway");
    assert_eq!(check(&sign(&with(json!({"iat": NOW + LEEWAY + 1})))).unwrap_err(), IdTokenCheck::IssuedInFuture);
}

#[test]
fn nonce() {
    for nonce in [json!("n0nce-from-another-sign-in"), json!(null), json!(""), json!(NONCE.to_uppercase())] {
        assert_eq!(check(&sign(&with(json!({ "nonce": nonce })))).unwrap_err(), IdTokenCheck::Nonce, "{nonce}");
    }
}

#[test]
fn subject() {
    for sub in [json!(null), json!(""), json!(42), json!("s".repeat(256))] {
        assert_eq!(check(&sign(&with(json!({ "sub": sub })))).unwrap_err(), IdTokenCheck::Subject, "{sub}");
    }
    assert!(check(&sign(&with(json!({"sub": "s".repeat(255)})))).is_ok());
}

#[test]
fn userinfo_subject() {
    let identity = check(&sign(&with(json!({"email": null, "email_verified": null})))).unwrap();
    assert_eq!(identity.email, None);
    let other = json!({"sub": "someone-else", "email": "eve@example.com", "email_verified": true});
    let refused = with_userinfo(identity.clone(), other.as_object().unwrap(), "email_verified");
    assert_eq!(refused.unwrap_err(), IdTokenCheck::UserinfoSubject);
    let same = json!({"sub": "248289761001", "email": "ada@example.com", "email_verified": true, "given_name": "A"});
    let completed = with_userinfo(identity, same.as_object().unwrap(), "email_verified").unwrap();
    assert_eq!(completed.email.as_deref(), Some("ada@example.com"));
    assert!(completed.email_verified);
    assert_eq!(completed.given_name.as_deref(), Some("Ada"), "the ID token's name stays");
}

#[test]
fn checks_have_stable_names() {
    assert_eq!(IdTokenCheck::IssuedInFuture.as_str(), "issued_in_future");
    assert_eq!(IdTokenCheck::UserinfoSubject.to_string(), "userinfo_subject");
}

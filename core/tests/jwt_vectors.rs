//! Known-answer JWT vectors shared with the JavaScript tests: `tests/vectors/jwt.json`, made with
//! PyJWT and checked against simplejwt 5.5.1 by `tests/vectors/gen_jwt.py`.
//!
//! The decoding half runs everywhere (the npm package's build has no `jwt` feature); signing and
//! verifying need `--features jwt`.

#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

use latchkey_core::token::{decode_unverified, seconds_left, TokenError};
use serde_json::Value;

const VECTORS: &str = include_str!("../../tests/vectors/jwt.json");

fn document() -> Value {
    serde_json::from_str(VECTORS).unwrap_or_else(|error| panic!("jwt.json: {error}"))
}

fn rows(document: &Value) -> &Vec<Value> {
    let Some(rows) = document["tokens"].as_array() else { panic!("jwt.json has no tokens array") };
    assert!(rows.len() >= 40, "the vector file lost rows: {}", rows.len());
    rows
}

fn text<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key].as_str().unwrap_or_else(|| panic!("{key} is a string in {}", row["name"]))
}

#[test]
fn decode_unverified_gives_the_recorded_verdicts() {
    let document = document();
    let mut malformed = 0;
    for row in rows(&document) {
        let (name, token, now) = (text(row, "name"), text(row, "token"), row["now"].as_i64().unwrap());
        match (decode_unverified(token), text(row, "decode")) {
            (Ok(decoded), "ok") => {
                assert!(decoded.header.contains_key("alg"), "{name}");
                let left = seconds_left(token, now);
                match row["seconds_left"].as_i64() {
                    Some(expected) => assert_eq!(left, Ok(expected), "{name}"),
                    None => assert_eq!(left, Err(TokenError::NoExp), "{name}"),
                }
            }
            (Err(error), expected) => {
                malformed += 1;
                assert_eq!(error.to_string(), expected, "{name}");
                assert_eq!(seconds_left(token, now), Err(error), "{name}");
            }
            (Ok(_), expected) => panic!("{name}: decoded, but the vectors say {expected:?}"),
        }
    }
    assert!(malformed >= 9, "only {malformed} malformed rows");
}

#[test]
fn decoded_claims_keep_what_the_issuer_wrote() {
    let document = document();
    let row = rows(&document).iter().find(|row| row["name"] == "valid_refresh_with_custom_claims").unwrap();
    let decoded = decode_unverified(text(row, "token")).unwrap();
    assert_eq!(Value::Object(decoded.header), serde_json::json!({"alg": "HS256", "typ": "JWT"}));
    assert_eq!(Value::Object(decoded.claims), row["claims"]);
}

#[cfg(all(feature = "jwt", not(target_arch = "wasm32")))]
mod signed {
    use latchkey_core::token::{Algorithm, Claims, Expectations, Keys, TokenError, TokenType};
    use serde_json::Value;

    use super::{document, rows, text};

    fn keys(document: &Value, algorithm: &str) -> Keys {
        let entry = &document["keys"][algorithm];
        let keys = match Algorithm::from_name(algorithm) {
            Some(Algorithm::HS256) => Keys::hs256(text(entry, "secret").as_bytes()),
            Some(other) => {
                Keys::from_pem(other, text(entry, "private_pem").as_bytes(), text(entry, "public_pem").as_bytes())
            }
            None => panic!("unknown algorithm {algorithm}"),
        };
        keys.unwrap_or_else(|error| panic!("{algorithm} keys: {error}"))
    }

    fn expectations(row: &Value) -> Expectations {
        Expectations { iss: row["iss"].as_str().map(str::to_owned), aud: row["aud"].as_str().map(str::to_owned) }
    }

    #[test]
    fn verify_gives_simplejwts_verdicts() {
        let document = document();
        let mut seen = std::collections::BTreeSet::new();
        for row in rows(&document) {
            let name = text(row, "name");
            let expected_type = row["expected_type"].as_str().map(|kind| TokenType::from_claim(kind).unwrap());
            let now = row["now"].as_i64().unwrap();
            let verdict = keys(&document, text(row, "algorithm")).verify(
                text(row, "token"),
                expected_type,
                now,
                &expectations(row),
            );
            match verdict {
                Ok(claims) => {
                    assert_eq!(text(row, "expect"), "ok", "{name}");
                    assert_eq!(serde_json::to_value(&claims).unwrap(), row["claims"], "{name}");
                }
                Err(error) => assert_eq!(error.to_string(), text(row, "expect"), "{name}"),
            }
            seen.insert(text(row, "expect"));
        }
        // Every simplejwt message the verifier can produce is exercised by some row.
        for message in [
            "ok",
            "Token is expired",
            "Token is invalid",
            "Token has wrong type",
            "Token has no id",
            "Token has no type",
            "Token has no 'exp' claim",
            "Token contained no recognizable user identification",
        ] {
            assert!(seen.contains(message), "no row expects {message:?}");
        }
    }

    #[test]
    fn encode_reproduces_pyjwt_byte_for_byte() {
        let document = document();
        let mut algorithms = std::collections::BTreeSet::new();
        for row in rows(&document).iter().filter(|row| row["encode_matches"] == true) {
            let claims: Claims = serde_json::from_value(row["claims"].clone()).unwrap();
            let token = keys(&document, text(row, "algorithm")).encode(&claims).unwrap();
            assert_eq!(token, text(row, "token"), "{}", row["name"]);
            algorithms.insert(text(row, "algorithm"));
        }
        assert_eq!(algorithms.len(), 4, "every algorithm is compared: {algorithms:?}");
    }

    #[test]
    fn verify_only_keys_accept_tokens_but_cannot_sign() {
        let document = document();
        let row = rows(&document).iter().find(|row| row["name"] == "eddsa_valid").unwrap();
        let keys =
            Keys::verify_only(Algorithm::EdDSA, text(&document["keys"]["EdDSA"], "public_pem").as_bytes()).unwrap();
        let claims = keys.verify(text(row, "token"), Some(TokenType::Access), 1_700_000_000, &Expectations::default());
        let claims = claims.unwrap();
        assert!(!keys.can_sign());
        assert_eq!(keys.encode(&claims), Err(TokenError::NoSigningKey));
    }

    #[test]
    fn mismatched_or_misused_keys_are_refused_at_construction() {
        let document = document();
        let pem = |algorithm: &str, which: &str| text(&document["keys"][algorithm], which).as_bytes().to_vec();
        let ed_private = pem("EdDSA", "private_pem");
        assert_eq!(
            Keys::from_pem(Algorithm::EdDSA, &ed_private, &pem("EdDSA", "other_public_pem")).err(),
            Some(TokenError::KeyMismatch)
        );
        assert_eq!(
            Keys::from_pem(Algorithm::EdDSA, &ed_private, &pem("RS256", "public_pem")).err(),
            Some(TokenError::InvalidKey { algorithm: "EdDSA" })
        );
        assert_eq!(
            Keys::from_pem(Algorithm::ES256, &pem("RS256", "private_pem"), &pem("ES256", "public_pem")).err(),
            Some(TokenError::InvalidKey { algorithm: "ES256" })
        );
        assert_eq!(Keys::hs256(&pem("RS256", "public_pem")).err(), Some(TokenError::AsymmetricSecret));
    }
}

//! Public keys of the asymmetric algorithms: read from PEM, derived from a private key, and
//! published as JSON Web Keys (RFC 7517/7518, RFC 8037 for Ed25519) with an RFC 7638 thumbprint
//! as `kid`.
//!
//! jsonwebtoken signs and verifies but cannot derive a public key from a private one, so the
//! RustCrypto crates it already uses for that cryptography read the keys here.

use ed25519_dalek::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::traits::PublicKeyParts as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{Algorithm, TokenError};
use crate::encoding::base64url;

/// The public half of an RS256, ES256 or EdDSA key.
#[derive(Debug, Clone)]
pub(crate) enum PublicKey {
    Rsa(rsa::RsaPublicKey),
    P256(p256::PublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl PublicKey {
    /// The public key of a PKCS#8 PEM private key (`BEGIN PRIVATE KEY`) for `algorithm`.
    pub(crate) fn from_private_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, TokenError> {
        let pem = std::str::from_utf8(pem).map_err(|_| algorithm.invalid_key())?;
        let key = match algorithm {
            Algorithm::HS256 => None,
            Algorithm::RS256 => rsa::RsaPrivateKey::from_pkcs8_pem(pem).ok().map(|k| Self::Rsa(k.to_public_key())),
            Algorithm::ES256 => p256::SecretKey::from_pkcs8_pem(pem).ok().map(|k| Self::P256(k.public_key())),
            Algorithm::EdDSA => {
                ed25519_dalek::SigningKey::from_pkcs8_pem(pem).ok().map(|k| Self::Ed25519(k.verifying_key()))
            }
        };
        key.ok_or_else(|| algorithm.invalid_key())
    }

    /// A public key in PEM: SPKI (`BEGIN PUBLIC KEY`), or PKCS#1 (`BEGIN RSA PUBLIC KEY`) for RSA.
    pub(crate) fn from_public_pem(algorithm: Algorithm, pem: &[u8]) -> Result<Self, TokenError> {
        let pem = std::str::from_utf8(pem).map_err(|_| algorithm.invalid_key())?;
        let key = match algorithm {
            Algorithm::HS256 => None,
            Algorithm::RS256 => rsa::RsaPublicKey::from_public_key_pem(pem)
                .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem))
                .ok()
                .map(Self::Rsa),
            Algorithm::ES256 => p256::PublicKey::from_public_key_pem(pem).ok().map(Self::P256),
            Algorithm::EdDSA => ed25519_dalek::VerifyingKey::from_public_key_pem(pem).ok().map(Self::Ed25519),
        };
        key.ok_or_else(|| algorithm.invalid_key())
    }

    /// The members RFC 7638 hashes for the thumbprint, in its (lexicographic) order, base64url.
    fn members(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::Rsa(key) => vec![
                ("e", base64url(&key.e().to_bytes_be())),
                ("kty", "RSA".to_owned()),
                ("n", base64url(&key.n().to_bytes_be())),
            ],
            Self::P256(key) => {
                let point = key.to_encoded_point(false);
                // An uncompressed point of a valid public key always has both coordinates.
                let coordinate = |c: Option<&p256::FieldBytes>| c.map(|c| base64url(c)).unwrap_or_default();
                vec![
                    ("crv", "P-256".to_owned()),
                    ("kty", "EC".to_owned()),
                    ("x", coordinate(point.x())),
                    ("y", coordinate(point.y())),
                ]
            }
            Self::Ed25519(key) => {
                vec![("crv", "Ed25519".to_owned()), ("kty", "OKP".to_owned()), ("x", base64url(key.as_bytes()))]
            }
        }
    }

    /// The RFC 7638 JWK thumbprint: SHA-256 of the required members as compact JSON, base64url.
    pub(crate) fn thumbprint(&self) -> String {
        let members = self.members();
        let fields: Vec<String> = members.iter().map(|(name, value)| format!(r#""{name}":"{value}""#)).collect();
        base64url(&Sha256::digest(format!("{{{}}}", fields.join(",")).as_bytes()))
    }

    /// The public JWK for `algorithm`: the key's members plus `alg`, `use: "sig"` and `kid`.
    pub(crate) fn jwk(&self, algorithm: Algorithm) -> Value {
        let mut jwk = json!({"alg": algorithm.as_str(), "use": "sig", "kid": self.thumbprint()});
        for (name, value) in self.members() {
            jwk[name] = Value::String(value);
        }
        jwk
    }

    /// A jsonwebtoken verifier for this key.
    pub(crate) fn decoding_key(&self, algorithm: Algorithm) -> Result<jsonwebtoken::DecodingKey, TokenError> {
        let members = self.members();
        let member = |name: &str| members.iter().find(|(n, _)| *n == name).map_or("", |(_, value)| value.as_str());
        let key = match self {
            Self::Rsa(_) => jsonwebtoken::DecodingKey::from_rsa_components(member("n"), member("e")),
            Self::P256(_) => jsonwebtoken::DecodingKey::from_ec_components(member("x"), member("y")),
            Self::Ed25519(_) => jsonwebtoken::DecodingKey::from_ed_components(member("x")),
        };
        key.map_err(|_| algorithm.invalid_key())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const VECTORS: &str = include_str!("../../../tests/vectors/jwt.json");

    fn pem(algorithm: &str, which: &str) -> String {
        let document: Value = serde_json::from_str(VECTORS).unwrap_or_else(|e| panic!("jwt.json: {e}"));
        document["keys"][algorithm][which].as_str().unwrap_or_else(|| panic!("{algorithm} {which}")).to_owned()
    }

    /// The JWK derived from the private key, and the one read from the public key, which must agree.
    fn jwk(algorithm: Algorithm) -> Value {
        let name = algorithm.as_str();
        let from_private = PublicKey::from_private_pem(algorithm, pem(name, "private_pem").as_bytes()).unwrap();
        let from_public = PublicKey::from_public_pem(algorithm, pem(name, "public_pem").as_bytes()).unwrap();
        assert_eq!(from_private.jwk(algorithm), from_public.jwk(algorithm), "{name}");
        assert_eq!(from_private.thumbprint(), from_private.thumbprint(), "{name}: the thumbprint is stable");
        from_private.jwk(algorithm)
    }

    fn decoded_len(jwk: &Value, member: &str) -> usize {
        let text = jwk[member].as_str().unwrap_or_else(|| panic!("no {member} in {jwk}"));
        assert!(!text.contains('='), "{member} is unpadded");
        crate::encoding::base64url_decode(text.as_bytes()).unwrap_or_else(|_| panic!("{member} is base64url")).len()
    }

    fn assert_kid(jwk: &Value) {
        assert_eq!(jwk["use"], "sig");
        // A SHA-256 digest, base64url without padding.
        assert_eq!(decoded_len(jwk, "kid"), 32);
    }

    #[test]
    fn rsa_jwk() {
        let jwk = jwk(Algorithm::RS256);
        assert_eq!(
            (jwk["kty"].as_str(), jwk["alg"].as_str(), jwk["e"].as_str()),
            (Some("RSA"), Some("RS256"), Some("AQAB"))
        );
        assert_eq!(decoded_len(&jwk, "n"), 256, "a 2048-bit modulus without a leading zero");
        assert_kid(&jwk);
    }

    #[test]
    fn ec_jwk() {
        let jwk = jwk(Algorithm::ES256);
        assert_eq!(
            (jwk["kty"].as_str(), jwk["alg"].as_str(), jwk["crv"].as_str()),
            (Some("EC"), Some("ES256"), Some("P-256"))
        );
        assert_eq!((decoded_len(&jwk, "x"), decoded_len(&jwk, "y")), (32, 32));
        assert_kid(&jwk);
    }

    #[test]
    fn okp_jwk() {
        let jwk = jwk(Algorithm::EdDSA);
        assert_eq!(
            (jwk["kty"].as_str(), jwk["alg"].as_str(), jwk["crv"].as_str()),
            (Some("OKP"), Some("EdDSA"), Some("Ed25519"))
        );
        assert_eq!(decoded_len(&jwk, "x"), 32);
        assert!(jwk.get("y").is_none() && jwk.get("d").is_none(), "public members only: {jwk}");
        assert_kid(&jwk);
    }

    #[test]
    fn thumbprints_match_the_rfc_examples() {
        // RFC 7638 §3.1: the example RSA key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let rsa = rsa::RsaPublicKey::new(
            rsa::BigUint::from_bytes_be(&crate::encoding::base64url_decode(n.as_bytes()).unwrap()),
            rsa::BigUint::from(65_537u32),
        )
        .unwrap();
        assert_eq!(PublicKey::Rsa(rsa).thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        // RFC 8037 §A.3: the example Ed25519 key and its thumbprint.
        let x = crate::encoding::base64url_decode(b"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo").unwrap();
        let ed = ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().unwrap()).unwrap();
        assert_eq!(PublicKey::Ed25519(ed).thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    }

    #[test]
    fn keys_from_the_private_key_alone_sign_what_the_public_key_verifies() {
        use crate::token::{Claims, Expectations, Keys};
        let claims = json!({"token_type": "access", "exp": 1_000, "iat": 900, "jti": "00ff", "user_id": "5"});
        let Value::Object(claims) = claims else { unreachable!("an object") };
        let claims = Claims::from_claims(claims, None).unwrap();
        for algorithm in [Algorithm::EdDSA, Algorithm::RS256, Algorithm::ES256] {
            let name = algorithm.as_str();
            let keys = Keys::from_private_pem(algorithm, pem(name, "private_pem").as_bytes()).unwrap();
            let verifier = Keys::verify_only(algorithm, pem(name, "public_pem").as_bytes()).unwrap();
            assert_eq!(keys.jwk(), verifier.jwk(), "{name}");
            let token = keys.encode(&claims).unwrap();
            assert_eq!(verifier.verify(&token, None, 999, &Expectations::default()), Ok(claims.clone()), "{name}");
        }
        assert_eq!(Keys::hs256(b"a-test-secret-that-is-32-bytes!!").unwrap().jwk(), None);
    }

    #[test]
    fn refuses_keys_of_another_kind() {
        let ed = pem("EdDSA", "private_pem");
        assert!(PublicKey::from_private_pem(Algorithm::ES256, ed.as_bytes()).is_err());
        assert!(PublicKey::from_private_pem(Algorithm::HS256, ed.as_bytes()).is_err());
        assert!(PublicKey::from_private_pem(Algorithm::EdDSA, pem("EdDSA", "public_pem").as_bytes()).is_err());
    }
}

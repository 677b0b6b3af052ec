//! Several keys of one algorithm, so that the signing key can be replaced without refusing a token
//! that is still valid.
//!
//! The current key alone signs; every key verifies. A rotation adds the new key as a previous key
//! first (verifiers learn it before it signs anything), then makes it current with the old one as
//! previous, and finally drops the old one once every token it signed has expired.
//!
//! Asymmetric tokens name their key in the `kid` header (its RFC 7638 thumbprint), so one signature is
//! checked, and a `kid` naming none of the keys is refused at once. A token without `kid` (issued
//! before keys wrote one, by a service sharing the key, or any HS256 token) is tried against each
//! key, current first.

use serde_json::Value;

use super::keys::{checked_claims, Keys};
use super::unverified::Parsed;
use super::{Algorithm, Claims, Expectations, TokenError, TokenType};

/// The current signing key and the previous keys still accepted, all of one algorithm.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: Keys,
    previous: Vec<Keys>,
}

impl KeyRing {
    /// `current` signs; it and every key of `previous` verify, in that order. A previous key equal
    /// to one already in the ring (the same `kid`) is kept once, and previous keys never sign.
    ///
    /// # Errors
    /// [`TokenError::InvalidKey`] (for `current`'s algorithm) when a previous key is of another
    /// algorithm: one algorithm per verifier (RFC 8725 §3.1), so `alg` never chooses the key.
    pub fn new(current: Keys, previous: impl IntoIterator<Item = Keys>) -> Result<KeyRing, TokenError> {
        let algorithm = current.algorithm();
        let mut ring = KeyRing { current, previous: Vec::new() };
        for keys in previous {
            if keys.algorithm() != algorithm {
                return Err(algorithm.invalid_key());
            }
            let known = keys.kid().is_some() && ring.all().any(|held| held.kid() == keys.kid());
            if !known {
                ring.previous.push(keys.into_verify_only());
            }
        }
        Ok(ring)
    }

    /// The key that signs.
    pub fn current(&self) -> &Keys {
        &self.current
    }

    /// The keys that verify besides the current one, in the order given.
    pub fn previous(&self) -> &[Keys] {
        &self.previous
    }

    /// The one algorithm of every key.
    pub fn algorithm(&self) -> Algorithm {
        self.current.algorithm()
    }

    /// Signs with the current key (see [`Keys::encode`]).
    pub fn encode(&self, claims: &Claims) -> Result<String, TokenError> {
        self.current.encode(claims)
    }

    /// The public keys as JSON Web Keys, current first: what `/.well-known/jwks.json` lists. Empty
    /// for HS256, whose keys are secret.
    pub fn jwks(&self) -> Vec<&Value> {
        self.all().filter_map(Keys::jwk).collect()
    }

    /// Verifies as [`Keys::verify`] does, with the key the `kid` header names, or without `kid`
    /// with the first key whose signature the token carries. A token no key signed (or whose `kid`
    /// names none of them) is [`TokenError::Invalid`]; once a key's signature checks out, the
    /// claims decide (an expired token is [`TokenError::Expired`]).
    pub fn verify(
        &self,
        token: &str,
        expected: Option<TokenType>,
        now: i64,
        expect: &Expectations,
    ) -> Result<Claims, TokenError> {
        let parsed = Parsed::new(token).map_err(|_| TokenError::Invalid)?;
        let kid = match parsed.header.get("kid") {
            // A shared secret has no public name: a `kid` beside HS256 is ignored, as PyJWT ignores it.
            _ if self.algorithm() == Algorithm::HS256 => None,
            None => None,
            Some(Value::String(kid)) => Some(kid.as_str()),
            Some(_) => return Err(TokenError::Invalid),
        };
        let named = |keys: &&Keys| kid.is_none_or(|kid| keys.kid() == Some(kid));
        if !self.all().filter(named).any(|keys| keys.signed(&parsed)) {
            return Err(TokenError::Invalid);
        }
        checked_claims(parsed, expected, now, expect)
    }

    fn all(&self) -> impl Iterator<Item = &Keys> {
        std::iter::once(&self.current).chain(&self.previous)
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use ed25519_dalek::pkcs8::EncodePrivateKey as _;
    use jsonwebtoken::EncodingKey;
    use serde_json::json;

    use super::*;
    use crate::encoding::base64url;

    const NOW: i64 = 1_000;
    const OLD_SECRET: &str = "an-old-secret-of-at-least-32-bytes!!";

    fn claims() -> Claims {
        let map = json!({"token_type": "access", "exp": NOW + 300, "iat": NOW, "jti": "00ff", "user_id": "5"});
        match map {
            Value::Object(map) => Claims::from_claims(map, None).unwrap(),
            _ => unreachable!("test input is an object"),
        }
    }

    fn ed25519_pem(seed: u8) -> String {
        let pem = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]).to_pkcs8_pem(Default::default()).unwrap();
        pem.to_string()
    }

    fn ed25519(seed: u8) -> Keys {
        Keys::from_private_pem(Algorithm::EdDSA, ed25519_pem(seed).as_bytes()).unwrap()
    }

    fn hs256(secret: &str) -> Keys {
        Keys::hs256(secret.as_bytes()).unwrap()
    }

    fn verify(ring: &KeyRing, token: &str) -> Result<Claims, TokenError> {
        ring.verify(token, Some(TokenType::Access), NOW, &Expectations::default())
    }

    fn header(token: &str) -> serde_json::Map<String, Value> {
        crate::token::decode_unverified(token).unwrap().header
    }

    /// `claims()` under an arbitrary `header`, signed by `key` with `algorithm`: tokens another
    /// issuer (or an older Latchkey) might write.
    fn signed(header: &Value, key: &EncodingKey, algorithm: jsonwebtoken::Algorithm) -> String {
        let payload = serde_json::to_vec(&claims()).unwrap();
        let input = format!("{}.{}", base64url(header.to_string().as_bytes()), base64url(&payload));
        format!("{input}.{}", jsonwebtoken::crypto::sign(input.as_bytes(), key, algorithm).unwrap())
    }

    fn signed_by_ed25519(seed: u8, header: &Value) -> String {
        let key = EncodingKey::from_ed_pem(ed25519_pem(seed).as_bytes()).unwrap();
        signed(header, &key, jsonwebtoken::Algorithm::EdDSA)
    }

    #[test]
    fn the_current_key_signs_and_every_key_verifies() {
        let (old, new, stranger) = (ed25519(1), ed25519(2), ed25519(3));
        let by_old = old.encode(&claims()).unwrap();
        let by_stranger = stranger.encode(&claims()).unwrap();
        let ring = KeyRing::new(new.clone(), [old.clone()]).unwrap();
        let by_ring = ring.encode(&claims()).unwrap();
        let only_new = new.verify(&by_ring, None, NOW, &Expectations::default());
        assert_eq!(only_new, Ok(claims()), "signed by the current key");
        assert_eq!(header(&by_ring)["kid"].as_str(), new.kid());
        assert_eq!(verify(&ring, &by_old), Ok(claims()));
        assert_eq!(verify(&ring, &by_ring), Ok(claims()));
        assert_eq!(verify(&ring, &by_stranger), Err(TokenError::Invalid));
        assert!(!ring.previous()[0].can_sign(), "a previous key never signs");
        // Once the old key is dropped, what it signed is refused.
        assert_eq!(verify(&KeyRing::new(new, []).unwrap(), &by_old), Err(TokenError::Invalid));
    }

    #[test]
    fn kid_picks_the_key_and_tokens_without_one_try_each() {
        let (old, new) = (ed25519(1), ed25519(2));
        let ring = KeyRing::new(new.clone(), [old.clone()]).unwrap();
        // Signed by the old key without `kid`, as PyJWT or Latchkey before rotation wrote it.
        let without_kid = signed_by_ed25519(1, &json!({"alg": "EdDSA", "typ": "JWT"}));
        assert_eq!(verify(&ring, &without_kid), Ok(claims()));
        // A `kid` naming the other key of the ring: only that key is tried, and its signature fails.
        let misnamed = signed_by_ed25519(1, &json!({"alg": "EdDSA", "kid": new.kid(), "typ": "JWT"}));
        assert_eq!(verify(&ring, &misnamed), Err(TokenError::Invalid));
        for kid in [json!("unknown"), json!(7), json!(null)] {
            let token = signed_by_ed25519(1, &json!({"alg": "EdDSA", "kid": kid, "typ": "JWT"}));
            assert_eq!(verify(&ring, &token), Err(TokenError::Invalid), "{kid}");
        }
        // The single-key verifier does not compare `kid`, as PyJWT does not.
        assert_eq!(old.verify(&misnamed, Some(TokenType::Access), NOW, &Expectations::default()), Ok(claims()));
        // `alg` must still be the ring's.
        let hs = signed(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &EncodingKey::from_secret(OLD_SECRET.as_bytes()),
            jsonwebtoken::Algorithm::HS256,
        );
        assert_eq!(verify(&ring, &hs), Err(TokenError::Invalid));
    }

    #[test]
    fn hs256_tries_every_secret_and_ignores_kid() {
        let old = hs256(OLD_SECRET);
        let ring = KeyRing::new(hs256("a-new-secret-of-at-least-32-bytes!!!"), [old.clone()]).unwrap();
        let by_old = old.encode(&claims()).unwrap();
        assert_eq!(header(&by_old).get("kid"), None, "HS256 tokens stay simplejwt's");
        assert_eq!(verify(&ring, &by_old), Ok(claims()));
        let key = EncodingKey::from_secret(OLD_SECRET.as_bytes());
        let with_kid =
            signed(&json!({"alg": "HS256", "kid": "k1", "typ": "JWT"}), &key, jsonwebtoken::Algorithm::HS256);
        assert_eq!(verify(&ring, &with_kid), Ok(claims()));
        assert!(ring.jwks().is_empty(), "secrets are never published");
        let other = hs256("a-stranger-secret-of-32-bytes-too!!!");
        assert_eq!(verify(&ring, &other.encode(&claims()).unwrap()), Err(TokenError::Invalid));
        assert_eq!(verify(&KeyRing::new(ring.current().clone(), []).unwrap(), &by_old), Err(TokenError::Invalid));
    }

    #[test]
    fn claims_decide_once_a_signature_checks_out() {
        let old = ed25519(1);
        let ring = KeyRing::new(ed25519(2), [old.clone()]).unwrap();
        let token = old.encode(&claims()).unwrap();
        let late = ring.verify(&token, Some(TokenType::Access), NOW + 300, &Expectations::default());
        assert_eq!(late, Err(TokenError::Expired));
        let wrong_type = ring.verify(&token, Some(TokenType::Refresh), NOW, &Expectations::default());
        assert_eq!(wrong_type, Err(TokenError::WrongType));
    }

    #[test]
    fn jwks_lists_current_first_once_each_and_one_algorithm_only() {
        let (old, new) = (ed25519(1), ed25519(2));
        let ring = KeyRing::new(new.clone(), [old.clone(), new.clone(), old.clone()]).unwrap();
        let kids: Vec<&str> = ring.jwks().iter().map(|jwk| jwk["kid"].as_str().unwrap()).collect();
        assert_eq!(kids, [new.kid().unwrap(), old.kid().unwrap()]);
        assert_eq!(ring.algorithm(), Algorithm::EdDSA);
        let mixed = KeyRing::new(new, [hs256("a-new-secret-of-at-least-32-bytes!!!")]);
        assert_eq!(mixed.err(), Some(TokenError::InvalidKey { algorithm: "EdDSA" }));
    }
}

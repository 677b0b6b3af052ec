//! Signing and verifying with exactly one algorithm per key (RFC 8725 §3.1).
//!
//! jsonwebtoken does the cryptography through `jsonwebtoken::crypto::{sign, verify}`; the token
//! structure, the header and every claim are checked here, so its system-clock checks never run.
//!
//! Asymmetric keys write their RFC 7638 thumbprint as the `kid` header, so that a verifier holding
//! several keys (during a rotation, see [`super::KeyRing`]) or a JWKS client (PyJWT's `PyJWKClient`,
//! behind simplejwt's `JWK_URL`, requires one) finds the key without trying each. HS256 tokens have no
//! `kid`: a shared secret has no public name, and simplejwt writes none.

use jsonwebtoken::{DecodingKey, EncodingKey};

use super::jwk::PublicKey;
use super::unverified::Parsed;
use super::{validate, Claims, Expectations, TokenError, TokenType};
use crate::encoding::base64url;

/// The signing algorithms Latchkey issues and accepts; a [`Keys`] value is bound to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Algorithm {
    /// HMAC-SHA256 with a shared secret: simplejwt's default, and what a Django service sharing
    /// `SIGNING_KEY` verifies.
    HS256,
    /// Ed25519 signatures.
    EdDSA,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// ECDSA on P-256 with SHA-256.
    ES256,
}

impl Algorithm {
    /// The JOSE `alg` name, e.g. `"HS256"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::HS256 => "HS256",
            Algorithm::EdDSA => "EdDSA",
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
        }
    }

    /// Reads a JOSE `alg` name, case-sensitively (simplejwt's `ALGORITHM` setting uses the same names).
    pub fn from_name(name: &str) -> Option<Self> {
        [Algorithm::HS256, Algorithm::EdDSA, Algorithm::RS256, Algorithm::ES256]
            .into_iter()
            .find(|algorithm| algorithm.as_str() == name)
    }

    fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Algorithm::HS256 => jsonwebtoken::Algorithm::HS256,
            Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
            Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        }
    }

    pub(super) fn invalid_key(self) -> TokenError {
        TokenError::InvalidKey { algorithm: self.as_str() }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key (pair) bound to one algorithm: signs [`Claims`] and verifies tokens.
///
/// Build it once at startup; it is cheap to share. Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct Keys {
    algorithm: Algorithm,
    signing: Option<EncodingKey>,
    verifying: DecodingKey,
    /// The public JWK; `None` for HS256, whose key must never be published.
    jwk: Option<serde_json::Value>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("algorithm", &self.algorithm)
            .field("can_sign", &self.can_sign())
            .finish_non_exhaustive()
    }
}

impl Keys {
    /// HS256 with a shared secret, used as raw bytes exactly as simplejwt uses `SIGNING_KEY`
    /// (by default Django's `SECRET_KEY`, UTF-8 encoded).
    ///
    /// Refuses an empty secret, and one that is a PEM, SSH or JWK key, as PyJWT does. Use at
    /// least 32 random bytes (RFC 8725 §3.5): a human-chosen password is not a key.
    pub fn hs256(secret: &[u8]) -> Result<Keys, TokenError> {
        if secret.is_empty() {
            return Err(TokenError::EmptySecret);
        }
        if looks_asymmetric(secret) {
            return Err(TokenError::AsymmetricSecret);
        }
        Ok(Keys {
            algorithm: Algorithm::HS256,
            signing: Some(EncodingKey::from_secret(secret)),
            verifying: DecodingKey::from_secret(secret),
            jwk: None,
        })
    }

    /// RS256, ES256 or EdDSA from a PEM private key and the matching PEM public key.
    ///
    /// RSA keys may be PKCS#1 or PKCS#8; P-256 and Ed25519 private keys must be PKCS#8
    /// (`BEGIN PRIVATE KEY`) and public keys SPKI (`BEGIN PUBLIC KEY`). The pair is checked by
    /// signing and verifying a probe message, so a mismatch fails here rather than on every request.
    pub fn from_pem(algorithm: Algorithm, private_pem: &[u8], public_pem: &[u8]) -> Result<Keys, TokenError> {
        let keys = Keys {
            algorithm,
            signing: Some(encoding_key(algorithm, private_pem)?),
            verifying: decoding_key(algorithm, public_pem)?,
            jwk: Some(PublicKey::from_public_pem(algorithm, public_pem)?.jwk(algorithm)),
        };
        keys.check_pair()?;
        Ok(keys)
    }

    /// RS256, ES256 or EdDSA from a PKCS#8 PEM private key (`BEGIN PRIVATE KEY`) alone: the public
    /// key is derived from it, so a deployment configures one file and cannot pair the wrong halves.
    pub fn from_private_pem(algorithm: Algorithm, private_pem: &[u8]) -> Result<Keys, TokenError> {
        let public = PublicKey::from_private_pem(algorithm, private_pem)?;
        let keys = Keys {
            algorithm,
            signing: Some(encoding_key(algorithm, private_pem)?),
            verifying: public.decoding_key(algorithm)?,
            jwk: Some(public.jwk(algorithm)),
        };
        keys.check_pair()?;
        Ok(keys)
    }

    /// RS256, ES256 or EdDSA verification only, from a PEM public key: for a service that accepts
    /// tokens another one issues. [`Keys::encode`] then fails with [`TokenError::NoSigningKey`].
    pub fn verify_only(algorithm: Algorithm, public_pem: &[u8]) -> Result<Keys, TokenError> {
        let verifying = decoding_key(algorithm, public_pem)?;
        // Building the verifier once makes a bad key fail now; the empty signature then just fails.
        jsonwebtoken::crypto::verify("", b"", &verifying, algorithm.jwt()).map_err(|_| algorithm.invalid_key())?;
        let jwk = Some(PublicKey::from_public_pem(algorithm, public_pem)?.jwk(algorithm));
        Ok(Keys { algorithm, signing: None, verifying, jwk })
    }

    /// The public key as a JSON Web Key for a JWKS (`kty`, `alg`, `use: "sig"`, `kid` and the
    /// key's members), with the RFC 7638 thumbprint as `kid`. `None` for HS256: its key is secret.
    pub fn jwk(&self) -> Option<&serde_json::Value> {
        self.jwk.as_ref()
    }

    /// The key's `kid`: its RFC 7638 thumbprint, which [`Keys::encode`] writes in the header.
    /// `None` for HS256.
    pub fn kid(&self) -> Option<&str> {
        self.jwk.as_ref().and_then(|jwk| jwk["kid"].as_str())
    }

    /// The same keys without the private key: they verify (and publish their JWK) but no longer
    /// sign, as a former signing key kept during a rotation should.
    pub fn into_verify_only(mut self) -> Keys {
        self.signing = None;
        self
    }

    /// The one algorithm these keys sign and accept.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Whether [`Keys::encode`] can work (false for [`Keys::verify_only`]).
    pub fn can_sign(&self) -> bool {
        self.signing.is_some()
    }

    /// Signs the claims into a compact JWT, byte for byte what PyJWT writes, with the claims in
    /// simplejwt's order (see [`Claims`]). The header is `{"alg":"HS256","typ":"JWT"}` for HS256
    /// (simplejwt's own) and `{"alg":"<alg>","kid":"<thumbprint>","typ":"JWT"}` for the asymmetric
    /// algorithms (PyJWT's `jwt.encode(..., headers={"kid": kid})`, whose header keys are sorted).
    pub fn encode(&self, claims: &Claims) -> Result<String, TokenError> {
        let signing = self.signing.as_ref().ok_or(TokenError::NoSigningKey)?;
        if let Some(name) = duplicate_claim(claims) {
            return Err(TokenError::DuplicateClaim(name.to_owned()));
        }
        let algorithm = self.algorithm.as_str();
        // A thumbprint is base64url: nothing in it needs escaping in JSON.
        let header = match self.kid() {
            Some(kid) => format!(r#"{{"alg":"{algorithm}","kid":"{kid}","typ":"JWT"}}"#),
            None => format!(r#"{{"alg":"{algorithm}","typ":"JWT"}}"#),
        };
        let payload = serde_json::to_vec(claims).map_err(|_| TokenError::SigningFailed)?;
        let message = format!("{}.{}", base64url(header.as_bytes()), base64url(&payload));
        let signature = jsonwebtoken::crypto::sign(message.as_bytes(), signing, self.algorithm.jwt())
            .map_err(|_| TokenError::SigningFailed)?;
        Ok(format!("{message}.{signature}"))
    }

    /// Verifies a token as simplejwt's `AccessToken(token)` / `RefreshToken(token)` would, at `now`.
    ///
    /// In order: structure (any problem is [`TokenError::Invalid`]); `alg` equal to this key's
    /// algorithm and no `crit` header; the signature; PyJWT's claim checks with zero leeway
    /// (`iat`/`nbf` after `now` → invalid, `exp <= now` → [`TokenError::Expired`], `iss`/`aud`
    /// when `expect` sets them, `sub`/`jti` must be strings); then simplejwt's required claims
    /// (`exp`, `jti`, `token_type` equal to `expected` when given, and `user_id`). `expected: None`
    /// accepts either type, like simplejwt's `UntypedToken` behind `TokenVerifyView`.
    ///
    /// A `kid` header is not compared, as PyJWT does not compare it: the signature decides.
    pub fn verify(
        &self,
        token: &str,
        expected: Option<TokenType>,
        now: i64,
        expect: &Expectations,
    ) -> Result<Claims, TokenError> {
        let parsed = Parsed::new(token).map_err(|_| TokenError::Invalid)?;
        if !self.signed(&parsed) {
            return Err(TokenError::Invalid);
        }
        checked_claims(parsed, expected, now, expect)
    }

    /// Whether `parsed` names this key's algorithm, has no `crit` header, and carries a signature
    /// this key made.
    pub(super) fn signed(&self, parsed: &Parsed<'_>) -> bool {
        validate::header(&parsed.header, self.algorithm.as_str()).is_ok()
            && jsonwebtoken::crypto::verify(
                parsed.signature,
                parsed.signing_input.as_bytes(),
                &self.verifying,
                self.algorithm.jwt(),
            )
            .unwrap_or(false)
    }

    fn check_pair(&self) -> Result<(), TokenError> {
        let algorithm = self.algorithm;
        let signing = self.signing.as_ref().ok_or(TokenError::NoSigningKey)?;
        let probe = b"latchkey: does the public key match the private key?";
        let signature =
            jsonwebtoken::crypto::sign(probe, signing, algorithm.jwt()).map_err(|_| algorithm.invalid_key())?;
        match jsonwebtoken::crypto::verify(&signature, probe, &self.verifying, algorithm.jwt()) {
            Ok(true) => Ok(()),
            Ok(false) => Err(TokenError::KeyMismatch),
            Err(_) => Err(algorithm.invalid_key()),
        }
    }
}

/// The claims of a token whose signature checked out: PyJWT's registered-claim checks, then
/// simplejwt's required claims.
pub(super) fn checked_claims(
    parsed: Parsed<'_>,
    expected: Option<TokenType>,
    now: i64,
    expect: &Expectations,
) -> Result<Claims, TokenError> {
    validate::registered_claims(&parsed.claims, now, expect)?;
    Claims::from_claims(parsed.claims, expected)
}

fn encoding_key(algorithm: Algorithm, pem: &[u8]) -> Result<EncodingKey, TokenError> {
    let key = match algorithm {
        Algorithm::HS256 => return Err(algorithm.invalid_key()),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(pem),
        Algorithm::ES256 => EncodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => EncodingKey::from_ed_pem(pem),
    };
    key.map_err(|_| algorithm.invalid_key())
}

fn decoding_key(algorithm: Algorithm, pem: &[u8]) -> Result<DecodingKey, TokenError> {
    let key = match algorithm {
        Algorithm::HS256 => return Err(algorithm.invalid_key()),
        Algorithm::RS256 => DecodingKey::from_rsa_pem(pem),
        Algorithm::ES256 => DecodingKey::from_ec_pem(pem),
        Algorithm::EdDSA => DecodingKey::from_ed_pem(pem),
    };
    let key = key.map_err(|_| algorithm.invalid_key())?;
    // jsonwebtoken's Ed25519 verifier slices the first 32 bytes without checking the length.
    if algorithm == Algorithm::EdDSA && key.as_bytes().len() != 32 {
        return Err(algorithm.invalid_key());
    }
    Ok(key)
}

/// Claim names that are fields of [`Claims`] and so must not also appear in [`Claims::extra`].
const FIELD_CLAIMS: [&str; 7] = ["token_type", "exp", "iat", "jti", "user_id", "aud", "iss"];

/// The first claim name that `extra` repeats from a `Claims` field that is set, if any.
fn duplicate_claim(claims: &Claims) -> Option<&'static str> {
    FIELD_CLAIMS.into_iter().find(|name| {
        let field_is_set = match *name {
            "aud" => claims.aud.is_some(),
            "iss" => claims.iss.is_some(),
            _ => true,
        };
        field_is_set && claims.extra.contains_key(*name)
    })
}

/// PyJWT's HMAC `prepare_key` guard, slightly broader: any PEM armour, an OpenSSH public key line,
/// or a JSON Web Key. Verifying with a public key as the HMAC secret is how RS256→HS256 confusion
/// forges tokens (RFC 8725 §2.1).
fn looks_asymmetric(secret: &[u8]) -> bool {
    const SSH_PREFIXES: [&[u8]; 6] = [
        b"ssh-ed25519",
        b"ssh-rsa",
        b"ssh-dss",
        b"ecdsa-sha2-nistp256",
        b"ecdsa-sha2-nistp384",
        b"ecdsa-sha2-nistp521",
    ];
    let contains = |needle: &[u8]| secret.windows(needle.len()).any(|window| window == needle);
    let pem = contains(b"-----BEGIN ") || contains(b"---- BEGIN ");
    let ssh = SSH_PREFIXES.iter().any(|prefix| secret.starts_with(prefix));
    let jwk = secret.trim_ascii_start().starts_with(b"{") && contains(b"\"kty\"");
    pem || ssh || jwk
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use serde_json::json;

    use super::*;

    const SECRET: &[u8] = b"a-test-secret-that-is-32-bytes!!";

    fn claims() -> Claims {
        let map = json!({"token_type": "access", "exp": 1_000, "iat": 900, "jti": "00ff", "user_id": "5"});
        match map {
            serde_json::Value::Object(map) => Claims::from_claims(map, None).unwrap(),
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn round_trip_and_expiry() {
        let keys = Keys::hs256(SECRET).unwrap();
        let token = keys.encode(&claims()).unwrap();
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
        let none = Expectations::default();
        assert_eq!(keys.verify(&token, Some(TokenType::Access), 999, &none), Ok(claims()));
        assert_eq!(keys.verify(&token, Some(TokenType::Access), 1_000, &none), Err(TokenError::Expired));
        assert_eq!(keys.verify(&token, Some(TokenType::Refresh), 999, &none), Err(TokenError::WrongType));
        let other = Keys::hs256(b"another-secret-another-secret-!!").unwrap();
        assert_eq!(other.verify(&token, None, 999, &none), Err(TokenError::Invalid));
    }

    #[test]
    fn refuses_secrets_that_are_public_keys() {
        assert_eq!(Keys::hs256(b"").err(), Some(TokenError::EmptySecret));
        for secret in [
            &b"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"[..],
            b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI user@host",
            br#" {"kty":"oct","k":"c2VjcmV0"}"#,
        ] {
            assert_eq!(Keys::hs256(secret).err(), Some(TokenError::AsymmetricSecret));
        }
    }

    #[test]
    fn refuses_duplicate_claims_and_pem_for_hmac() {
        let keys = Keys::hs256(SECRET).unwrap();
        let mut claims = claims();
        claims.extra.insert("aud".to_owned(), json!(["a", "b"]));
        assert!(keys.encode(&claims).is_ok(), "a list aud lives in extra when the field is unset");
        claims.extra.insert("exp".to_owned(), json!(5));
        assert_eq!(keys.encode(&claims), Err(TokenError::DuplicateClaim("exp".to_owned())));
        assert_eq!(
            Keys::verify_only(Algorithm::HS256, SECRET).err(),
            Some(TokenError::InvalidKey { algorithm: "HS256" })
        );
        assert_eq!(
            Keys::verify_only(Algorithm::EdDSA, b"not a pem").err(),
            Some(TokenError::InvalidKey { algorithm: "EdDSA" })
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let text = format!("{:?}", Keys::hs256(SECRET).unwrap());
        assert_eq!(text, "Keys { algorithm: HS256, can_sign: true, .. }");
    }

    #[test]
    fn algorithm_names() {
        for algorithm in [Algorithm::HS256, Algorithm::EdDSA, Algorithm::RS256, Algorithm::ES256] {
            assert_eq!(Algorithm::from_name(algorithm.as_str()), Some(algorithm));
        }
        assert_eq!(Algorithm::from_name("none"), None);
        assert_eq!(Algorithm::from_name("hs256"), None);
    }
}

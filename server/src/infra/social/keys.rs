//! A provider's signing keys (its JWKS) and the choice of the key that checks an ID token.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::Algorithm;

/// The algorithms an ID token may be signed with, whatever a provider announces: asymmetric ones
/// only. `none` and the HMAC family (whose "key" a verifier holding only public keys would take
/// from the JWKS, the classic confusion attack) never verify.
pub(crate) const SAFE_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The usable keys of a JWKS: signature keys (not `"use": "enc"`) of the RSA, EC and OKP types.
/// Keys the server cannot read (another type, a curve it does not know) are left out rather than
/// failing the whole set, so that a provider adding one does not lock everybody out.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeySet {
    keys: Vec<Jwk>,
}

impl KeySet {
    /// The keys of a JWKS document (`{"keys": [...]}`).
    pub fn parse(body: &[u8]) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct Document {
            keys: Vec<serde_json::Value>,
        }
        let document: Document = serde_json::from_slice(body).map_err(|e| format!("the JWKS is not JSON: {e}"))?;
        let keys = document
            .keys
            .into_iter()
            .filter_map(|value| serde_json::from_value::<Jwk>(value).ok())
            .filter(|jwk| !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)))
            .filter(|jwk| !matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_)))
            .collect();
        Ok(Self { keys })
    }

    /// A set of these keys (tests).
    #[cfg(test)]
    pub fn from_keys(keys: Vec<Jwk>) -> Self {
        Self { keys }
    }

    /// Whether a token naming `kid` names a key this set lacks (worth fetching the JWKS again:
    /// the provider may have rotated its keys).
    pub fn lacks(&self, kid: Option<&str>) -> bool {
        kid.is_some_and(|kid| !self.keys.iter().any(|k| k.common.key_id.as_deref() == Some(kid)))
    }

    /// The key that checks a token signed with `alg`: the one named `kid`, or without a `kid` the
    /// only key that fits `alg`. `None` when there is no such key, or it does not fit `alg` (its
    /// type or curve, or the `alg` the key itself declares).
    pub fn select(&self, kid: Option<&str>, alg: Algorithm) -> Option<&Jwk> {
        match kid {
            Some(kid) => self.keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid)).filter(|k| fits(k, alg)),
            None => {
                let mut fitting = self.keys.iter().filter(|k| fits(k, alg));
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Some(only),
                    _ => None,
                }
            }
        }
    }
}

/// The key's type (and curve) is `alg`'s, and the `alg` it declares, if any, is `alg`.
fn fits(jwk: &Jwk, alg: Algorithm) -> bool {
    let declared_ok = jwk.common.key_algorithm.is_none_or(|declared| key_algorithm(alg) == Some(declared));
    let family_ok = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, alg),
            (EllipticCurve::P256, Algorithm::ES256) | (EllipticCurve::P384, Algorithm::ES384)
        ),
        AlgorithmParameters::OctetKeyPair(okp) => okp.curve == EllipticCurve::Ed25519 && alg == Algorithm::EdDSA,
        AlgorithmParameters::OctetKey(_) => false,
    };
    declared_ok && family_ok
}

/// The JWK `alg` value of a safe JWS algorithm.
fn key_algorithm(alg: Algorithm) -> Option<KeyAlgorithm> {
    Some(match alg {
        Algorithm::RS256 => KeyAlgorithm::RS256,
        Algorithm::RS384 => KeyAlgorithm::RS384,
        Algorithm::RS512 => KeyAlgorithm::RS512,
        Algorithm::PS256 => KeyAlgorithm::PS256,
        Algorithm::PS384 => KeyAlgorithm::PS384,
        Algorithm::PS512 => KeyAlgorithm::PS512,
        Algorithm::ES256 => KeyAlgorithm::ES256,
        Algorithm::ES384 => KeyAlgorithm::ES384,
        Algorithm::EdDSA => KeyAlgorithm::EdDSA,
        _ => return None,
    })
}

/// The safe algorithms among those a provider announces (`id_token_signing_alg_values_supported`;
/// RS256 when it says nothing, as OpenID Connect Discovery requires RS256 support).
pub(crate) fn allowed_algorithms(announced: Option<&[String]>) -> Vec<Algorithm> {
    let names: Vec<&str> = match announced {
        Some(names) => names.iter().map(String::as_str).collect(),
        None => vec!["RS256"],
    };
    SAFE_ALGORITHMS.into_iter().filter(|alg| names.iter().any(|n| alg_name(*alg) == *n)).collect()
}

/// The JOSE name of a safe algorithm.
pub(crate) fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::EdDSA => "EdDSA",
        _ => "HMAC",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwks(keys: &str) -> KeySet {
        KeySet::parse(format!(r#"{{"keys":[{keys}]}}"#).as_bytes()).unwrap()
    }

    const RSA_A: &str = r#"{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}"#;
    const RSA_B: &str = r#"{"kty":"RSA","kid":"b","use":"sig","alg":"RS256","n":"AQAB","e":"AQAB"}"#;
    const EC: &str = r#"{"kty":"EC","kid":"e","crv":"P-256","x":"AQAB","y":"AQAB"}"#;

    #[test]
    fn keys_are_chosen_by_kid_and_type() {
        let set = jwks(&[RSA_A, RSA_B, EC].join(","));
        assert!(set.select(Some("a"), Algorithm::RS256).is_some());
        assert!(set.select(Some("a"), Algorithm::ES256).is_none(), "an RSA key never checks ES256");
        assert!(set.select(Some("b"), Algorithm::PS256).is_none(), "the key's own alg is RS256");
        assert!(set.select(Some("e"), Algorithm::ES384).is_none(), "a P-256 key never checks ES384");
        assert!(set.select(None, Algorithm::RS256).is_none(), "two RSA keys and no kid: ambiguous");
        assert!(set.select(None, Algorithm::ES256).is_some());
        assert!(set.lacks(Some("c")) && !set.lacks(Some("a")) && !set.lacks(None));
    }

    #[test]
    fn unusable_keys_are_left_out() {
        let set = jwks(
            &[
                r#"{"kty":"oct","kid":"h","k":"c2VjcmV0"}"#,
                r#"{"kty":"RSA","kid":"x","use":"enc","n":"AQAB","e":"AQAB"}"#,
                r#"{"kty":"weird","kid":"w"}"#,
                RSA_A,
            ]
            .join(","),
        );
        assert!(set.lacks(Some("h")) && set.lacks(Some("x")) && set.lacks(Some("w")));
        assert!(set.select(None, Algorithm::RS256).is_some());
    }

    #[test]
    fn only_safe_announced_algorithms_are_allowed() {
        assert_eq!(allowed_algorithms(None), [Algorithm::RS256]);
        let announced = ["HS256".to_owned(), "none".to_owned(), "ES256".to_owned(), "RS256".to_owned()];
        assert_eq!(allowed_algorithms(Some(&announced)), [Algorithm::RS256, Algorithm::ES256]);
    }
}

//! Signing keys made for a test, as an operator would make them: ES256 key pairs written to PEM
//! files (pure Rust, no `openssl`), and the `kid` a token names its key by.

use std::path::{Path, PathBuf};

use latchkey_core::token::{decode_unverified, Algorithm, Keys};
use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};

/// A fresh ES256 key pair in two files of `dir`, and its `kid` (the RFC 7638 thumbprint).
#[derive(Debug, Clone)]
pub struct KeyFiles {
    /// PKCS#8 `BEGIN PRIVATE KEY`, for `LATCHKEY_JWT_PRIVATE_KEY_FILE` (or a previous key).
    pub private: PathBuf,
    /// SPKI `BEGIN PUBLIC KEY`, enough for `LATCHKEY_JWT_PREVIOUS_KEY_FILES`.
    pub public: PathBuf,
    pub kid: String,
}

/// A new random ES256 key named `name` in `dir`.
pub fn es256_key(dir: &Path, name: &str) -> KeyFiles {
    let secret = p256::SecretKey::random(&mut rand_core::OsRng);
    let private_pem = secret.to_pkcs8_pem(LineEnding::LF).unwrap();
    let public_pem = secret.public_key().to_public_key_pem(LineEnding::LF).unwrap();
    let (private, public) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.pub.pem")));
    std::fs::write(&private, private_pem.as_bytes()).unwrap();
    std::fs::write(&public, public_pem.as_bytes()).unwrap();
    let kid = Keys::from_private_pem(Algorithm::ES256, private_pem.as_bytes()).unwrap().kid().unwrap().to_owned();
    KeyFiles { private, public, kid }
}

/// The `kid` in a token's header (empty when it has none).
pub fn kid(token: &str) -> String {
    let header = decode_unverified(token).unwrap().header;
    header.get("kid").and_then(|kid| kid.as_str()).unwrap_or_default().to_owned()
}

/// The `kid`s of a JWKS document, in its order.
pub fn jwks_kids(jwks: &serde_json::Value) -> Vec<String> {
    let keys = jwks["keys"].as_array().unwrap_or_else(|| panic!("not a JWKS: {jwks}"));
    keys.iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect()
}

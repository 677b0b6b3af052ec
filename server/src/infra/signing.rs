//! The JWT keys a node signs and verifies with: the current key, and the previous ones a rotation
//! keeps accepting (`LATCHKEY_JWT_PREVIOUS_KEY_FILES`, `LATCHKEY_PREVIOUS_SECRET_KEYS`).

use std::path::Path;

use latchkey_core::token::{Algorithm, KeyRing, Keys};

use crate::infra::config::Config;

/// Why the configured keys cannot be used. Messages name the setting or file, never a secret.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The secret key, or a previous one, is unusable for HS256.
    #[error("secret key: {0}")]
    Secret(String),
    /// A key file is missing, unreadable, or not a key for the configured algorithm.
    #[error("JWT signing key: {0}")]
    SigningKey(String),
}

/// The shortest HS256 secret accepted, in bytes: 256 bits, SHA-256's output size.
pub const MIN_HS256_SECRET_BYTES: usize = 32;

/// The former (or upcoming) secret keys of `LATCHKEY_PREVIOUS_SECRET_KEYS`, without empty entries.
pub fn previous_secrets(config: &Config) -> Vec<String> {
    config.previous_secret_keys.iter().map(|key| key.trim()).filter(|key| !key.is_empty()).map(str::to_owned).collect()
}

/// The key ring: HS256 with the secret key (`secret_source` names where it came from, for errors)
/// and the previous secrets, or the asymmetric algorithm's key pair derived from
/// `LATCHKEY_JWT_PRIVATE_KEY_FILE` and the public keys of `LATCHKEY_JWT_PREVIOUS_KEY_FILES`.
pub fn key_ring(config: &Config, secret: &str, secret_source: &str) -> Result<KeyRing, KeyError> {
    let algorithm = config.jwt_algorithm;
    let previous_files: Vec<&Path> =
        config.jwt_previous_key_files.iter().map(|path| path.as_path()).filter(|p| !p.as_os_str().is_empty()).collect();
    if algorithm == Algorithm::HS256 {
        if !previous_files.is_empty() {
            return Err(KeyError::SigningKey(
                "LATCHKEY_JWT_PREVIOUS_KEY_FILES holds EdDSA, RS256 or ES256 keys, but LATCHKEY_JWT_ALGORITHM is \
                 HS256: former HS256 keys go in LATCHKEY_PREVIOUS_SECRET_KEYS"
                    .into(),
            ));
        }
        let current = hs256(secret, secret_source)?;
        let previous = previous_secrets(config)
            .iter()
            .enumerate()
            .map(|(i, key)| hs256(key, &format!("entry {} of LATCHKEY_PREVIOUS_SECRET_KEYS", i + 1)))
            .collect::<Result<Vec<_>, _>>()?;
        return KeyRing::new(current, previous).map_err(|e| KeyError::Secret(e.to_string()));
    }
    let Some(path) = &config.jwt_private_key_file else {
        return Err(KeyError::SigningKey(format!(
            "LATCHKEY_JWT_ALGORITHM={algorithm} needs LATCHKEY_JWT_PRIVATE_KEY_FILE (a PKCS#8 PEM private key)"
        )));
    };
    let pem = read(path)?;
    let current = Keys::from_private_pem(algorithm, &pem).map_err(|e| at(path, e))?;
    let previous =
        previous_files.into_iter().map(|path| previous_key(algorithm, path)).collect::<Result<Vec<_>, _>>()?;
    KeyRing::new(current, previous).map_err(|e| KeyError::SigningKey(e.to_string()))
}

/// An HS256 key, refused when shorter than [`MIN_HS256_SECRET_BYTES`]: RFC 7518 §3.2, a shorter
/// key is guessable offline from any one token, and with it every token can be forged. A previous
/// key is held to the same rule, since it verifies tokens as well.
fn hs256(secret: &str, source: &str) -> Result<Keys, KeyError> {
    if secret.len() < MIN_HS256_SECRET_BYTES {
        return Err(KeyError::Secret(format!(
            "{source} is {} bytes long; HS256 needs at least {MIN_HS256_SECRET_BYTES} \
             (for example 64 hex characters from `openssl rand -hex 32`)",
            secret.len()
        )));
    }
    Keys::hs256(secret.as_bytes()).map_err(|e| KeyError::Secret(format!("{source}: {e}")))
}

/// A previous key file: a public key, or a private key whose public half is kept (a previous key
/// never signs).
fn previous_key(algorithm: Algorithm, path: &Path) -> Result<Keys, KeyError> {
    let pem = read(path)?;
    let public = pem.windows(b"PUBLIC KEY-----".len()).any(|window| window == b"PUBLIC KEY-----");
    let keys = if public {
        Keys::verify_only(algorithm, &pem)
    } else {
        Keys::from_private_pem(algorithm, &pem).map(Keys::into_verify_only)
    };
    keys.map_err(|e| at(path, e))
}

fn read(path: &Path) -> Result<Vec<u8>, KeyError> {
    std::fs::read(path).map_err(|e| KeyError::SigningKey(format!("cannot read {}: {e}", path.display())))
}

fn at(path: &Path, error: latchkey_core::token::TokenError) -> KeyError {
    KeyError::SigningKey(format!("{}: {error}", path.display()))
}

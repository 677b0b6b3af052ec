//! Secrets at rest: TOTP secrets sealed with an AEAD, backup codes hashed under a keyed HMAC, both
//! with keys derived from `LATCHKEY_ENCRYPTION_KEY` and never stored in the database.
//!
//! A sealed value is `v1$<key id>$<hex of the 24-byte nonce and the ciphertext>`:
//! XChaCha20-Poly1305 (the chacha20poly1305 crate) with a random nonce, and the owner's user id as
//! associated data, so a sealed secret copied to another user's row does not open. The key id (the
//! first 8 hex characters of a value derived from the key) names the key that sealed it, so keys can
//! be rotated: the new key goes in `LATCHKEY_ENCRYPTION_KEY`, the old ones in
//! `LATCHKEY_OLD_ENCRYPTION_KEYS`; values sealed under an old key still open, and `latchkey rekey`
//! (or the next use of a TOTP device) seals them again under the new one.
//!
//! Keys are derived with HKDF-SHA256 from the configured text, one for each purpose, so the
//! encryption key, the backup-code key and the public key id say nothing about one another.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

/// The version prefix of sealed values.
const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;

/// Why a sealed value did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VaultError {
    /// Not of the form `v1$<key id>$<hex>`.
    #[error("the sealed value is malformed")]
    Malformed,
    /// Sealed under a key that is neither the current one nor a configured old one.
    #[error("the sealed value's key {0} is not configured (LATCHKEY_ENCRYPTION_KEY, LATCHKEY_OLD_ENCRYPTION_KEYS)")]
    UnknownKey(String),
    /// The ciphertext, or its associated data, was changed.
    #[error("the sealed value does not authenticate")]
    Tampered,
}

/// One configured key, expanded for each purpose.
struct VaultKey {
    id: String,
    aead: XChaCha20Poly1305,
    backup_code_key: [u8; 32],
    one_time_code_key: [u8; 32],
}

impl VaultKey {
    fn derive(material: &str) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(b"latchkey vault"), material.as_bytes());
        let expand = |info: &[u8]| {
            let mut out = [0u8; 32];
            // 32 bytes is far below HKDF-SHA256's 8160-byte limit: expansion cannot fail.
            hkdf.expand(info, &mut out).unwrap_or_else(|_| unreachable!("HKDF output of 32 bytes"));
            out
        };
        let id = latchkey_core::encoding::hex(&expand(b"key id v1")[..4]);
        let aead = XChaCha20Poly1305::new(&expand(b"totp secret aead v1").into());
        let one_time_code_key = expand(b"one-time code hmac v1");
        Self { id, aead, backup_code_key: expand(b"backup code hmac v1"), one_time_code_key }
    }
}

/// The current key and the old ones still accepted.
pub struct Vault {
    current: VaultKey,
    old: Vec<VaultKey>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let old: Vec<&str> = self.old.iter().map(|key| key.id.as_str()).collect();
        f.debug_struct("Vault").field("current", &self.current.id).field("old", &old).finish()
    }
}

impl Vault {
    /// A vault sealing under `current` and opening values sealed under it or any of `old`.
    pub fn new(current: &str, old: &[String]) -> Self {
        let old = old.iter().map(|key| key.trim()).filter(|key| !key.is_empty()).map(VaultKey::derive).collect();
        Self { current: VaultKey::derive(current), old }
    }

    /// The id of the key new values are sealed under.
    pub fn current_key_id(&self) -> &str {
        &self.current.id
    }

    /// `plaintext` sealed under the current key, bound to `owner`.
    pub fn seal(&self, plaintext: &[u8], owner: i64) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let aad = associated_data(owner);
        let sealed = self.current.aead.encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad });
        // Encryption only fails for inputs beyond 256 GiB.
        let ciphertext = sealed.unwrap_or_else(|_| unreachable!("XChaCha20-Poly1305 over a short secret"));
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&ciphertext);
        format!("{VERSION}${}${}", self.current.id, latchkey_core::encoding::hex(&bytes))
    }

    /// The plaintext of a value sealed for `owner`, and whether it was sealed under an old key (and
    /// should be sealed again).
    ///
    /// # Errors
    /// A malformed value, an unknown key id, or a value that does not authenticate for `owner`.
    pub fn open(&self, sealed: &str, owner: i64) -> Result<(Vec<u8>, bool), VaultError> {
        let mut parts = sealed.split('$');
        let (Some(VERSION), Some(id), Some(data), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(VaultError::Malformed);
        };
        let bytes =
            latchkey_core::encoding::unhex(data).filter(|b| b.len() > NONCE_LEN).ok_or(VaultError::Malformed)?;
        let key = self.key(id).ok_or_else(|| VaultError::UnknownKey(id.to_owned()))?;
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let aad = associated_data(owner);
        let plaintext = key
            .aead
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map_err(|_| VaultError::Tampered)?;
        Ok((plaintext, id != self.current.id))
    }

    /// The stored form of a normalized backup code under the current key.
    pub fn backup_code_hash(&self, normalized: &str) -> String {
        latchkey_core::backup::hash_backup_code(normalized, &self.current.backup_code_key)
    }

    /// The stored forms of a normalized backup code under every configured key, current first:
    /// codes hashed before a rotation still match.
    pub fn backup_code_hashes(&self, normalized: &str) -> Vec<String> {
        let keys = std::iter::once(&self.current).chain(&self.old);
        keys.map(|key| latchkey_core::backup::hash_backup_code(normalized, &key.backup_code_key)).collect()
    }

    /// The stored form of a short one-time code (an e-mailed sign-in code), bound to `context` (the
    /// flow it was sent for): an HMAC under the current key. Six digits are a million guesses away
    /// from any plain hash; without the key, which is never in the database, a copy of the table
    /// says nothing. A code lives minutes: one made before a key rotation simply stops matching.
    pub fn one_time_code_hash(&self, context: &str, code: &str) -> String {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.current.one_time_code_key) else {
            unreachable!("HMAC accepts keys of any length");
        };
        // The context's length first: no (context, code) pair reads as another.
        mac.update(&(context.len() as u64).to_be_bytes());
        mac.update(context.as_bytes());
        mac.update(code.as_bytes());
        latchkey_core::encoding::hex(&mac.finalize().into_bytes())
    }

    fn key(&self, id: &str) -> Option<&VaultKey> {
        std::iter::once(&self.current).chain(&self.old).find(|key| key.id == id)
    }
}

fn associated_data(owner: i64) -> Vec<u8> {
    format!("latchkey totp secret of user {owner}").into_bytes()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_for_their_owner_only() {
        let vault = Vault::new("key one", &[]);
        let sealed = vault.seal(b"12345678901234567890", 7);
        assert!(sealed.starts_with(&format!("v1${}$", vault.current_key_id())), "{sealed}");
        assert!(!sealed.contains("3132333435"), "the plaintext shows through: {sealed}");
        assert_eq!(vault.open(&sealed, 7).unwrap(), (b"12345678901234567890".to_vec(), false));
        assert_eq!(vault.open(&sealed, 8), Err(VaultError::Tampered));
        // Two seals of one secret differ: the nonce is random.
        assert_ne!(vault.seal(b"same", 1), vault.seal(b"same", 1));
    }

    #[test]
    fn tampered_and_malformed_values_are_refused() {
        let vault = Vault::new("key one", &[]);
        let sealed = vault.seal(b"secret", 1);
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        assert_eq!(vault.open(std::str::from_utf8(&flipped).unwrap(), 1), Err(VaultError::Tampered));
        for bad in ["", "v1", "v2$abcd$00", "v1$abcd", &format!("{sealed}$x"), &sealed.replace("v1$", "v1$x")] {
            assert!(vault.open(bad, 1).is_err(), "{bad}");
        }
        let id = vault.current_key_id();
        assert_eq!(vault.open(&format!("v1${id}$zz"), 1), Err(VaultError::Malformed));
        assert_eq!(vault.open(&format!("v1${id}$00"), 1), Err(VaultError::Malformed));
    }

    #[test]
    fn old_keys_open_and_ask_for_resealing() {
        let old = Vault::new("old key", &[]);
        let sealed = old.seal(b"secret", 3);
        let rotated = Vault::new("new key", &["old key".to_owned()]);
        assert_ne!(rotated.current_key_id(), old.current_key_id());
        assert_eq!(rotated.open(&sealed, 3).unwrap(), (b"secret".to_vec(), true));
        let forgotten = Vault::new("new key", &[]);
        assert_eq!(forgotten.open(&sealed, 3), Err(VaultError::UnknownKey(old.current_key_id().to_owned())));
    }

    #[test]
    fn backup_code_hashes_cover_every_key() {
        let old = Vault::new("old key", &[]);
        let rotated = Vault::new("new key", &["old key".to_owned(), " ".to_owned()]);
        let hashes = rotated.backup_code_hashes("abcdefghijkl");
        assert_eq!(hashes.len(), 2);
        assert_eq!(hashes[0], rotated.backup_code_hash("abcdefghijkl"));
        assert_eq!(hashes[1], old.backup_code_hash("abcdefghijkl"));
        assert_ne!(hashes[0], hashes[1]);
        assert!(hashes[0].starts_with("hmac-sha256$"));
    }

    #[test]
    fn one_time_codes_are_keyed_and_bound_to_their_flow() {
        let vault = Vault::new("key one", &[]);
        let hash = vault.one_time_code_hash("flow-a", "123456");
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, vault.one_time_code_hash("flow-a", "123456"));
        assert_ne!(hash, vault.one_time_code_hash("flow-b", "123456"), "another flow's code");
        assert_ne!(hash, vault.one_time_code_hash("flow-a", "123457"));
        assert_ne!(hash, vault.one_time_code_hash("flow-a1", "23456"), "the split between flow and code counts");
        assert_ne!(hash, Vault::new("key two", &[]).one_time_code_hash("flow-a", "123456"), "keyed");
        assert_ne!(hash, crate::infra::digest::sha256_hex("flow-a123456"), "not a plain hash");
    }
}

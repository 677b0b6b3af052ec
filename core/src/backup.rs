//! Single-use backup codes for when the authenticator app is out of reach.
//!
//! A code is 12 random lower-case base32 characters (60 bits), shown as `xxxx-xxxx-xxxx`. The
//! server stores only `hmac-sha256$<hex>`, an HMAC-SHA256 of the normalized code under a server-side
//! key, and deletes the row once the code is used.
//!
//! A keyed fast hash is enough here, unlike for passwords. Slow hashes such as Argon2 exist
//! because people pick guessable passwords; these codes are uniformly random, so an attacker holding
//! a stolen hash must search 2^60 candidates, and without the key (kept outside the database, in
//! the server's configuration) cannot test a single guess offline at all. A deterministic hash also
//! lets the server find a code with one indexed lookup instead of trying every stored hash.
//! Online guessing is what remains, and the server's throttling bounds it.
//!
//! Codes imported from django-otp (`[a-z2-7]{8}`, 40 bits) are still accepted; they are weaker,
//! so prompt their owners to generate a new set.
//!
//! ```
//! use latchkey_core::backup::{generate_backup_codes, hash_backup_code, normalize_backup_code, verify_backup_code};
//!
//! let key = b"server-side key from the configuration";
//! let codes = generate_backup_codes(&mut rand_core::OsRng);
//! let stored = hash_backup_code(&normalize_backup_code(&codes[0])?, key);
//! assert!(verify_backup_code(&codes[0].to_uppercase(), key, &stored));
//! # Ok::<(), latchkey_core::backup::BackupCodeError>(())
//! ```

use crate::encoding;
use hmac::{Hmac, Mac};
use rand_core::{CryptoRng, RngCore};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use thiserror::Error;

/// How many codes [`generate_backup_codes`] makes.
pub const BACKUP_CODE_COUNT: usize = 10;

/// Characters in a Latchkey code: 12 base32 characters of 5 bits each, 60 bits.
const CODE_LEN: usize = 12;

/// Characters in a backup code imported from django-otp's `StaticToken.random_token()`.
const DJANGO_OTP_CODE_LEN: usize = 8;

/// Longer input is refused before any work is done on it.
const MAX_INPUT_LEN: usize = 64;

/// The prefix naming the hash scheme in stored values.
const HASH_PREFIX: &str = "hmac-sha256$";

/// Why a backup code typed by the user was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum BackupCodeError {
    /// The input is longer than 64 bytes, spaces and dashes included.
    #[error("a backup code is 12 characters long; this input is far longer")]
    TooLong,
    /// Without spaces and dashes, the input is neither 12 characters nor a django-otp code's 8.
    #[error("a backup code has 12 characters, like abcd-efgh-2345")]
    WrongLength,
    /// The input holds something other than the letters a-z and the digits 2-7.
    #[error("a backup code contains only the letters a-z and the digits 2-7")]
    InvalidCharacter,
}

impl BackupCodeError {
    /// A stable, machine-readable identifier, such as `"backup_code_wrong_length"`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong => "backup_code_too_long",
            Self::WrongLength => "backup_code_wrong_length",
            Self::InvalidCharacter => "backup_code_invalid_character",
        }
    }
}

/// Ten fresh codes, each formatted `xxxx-xxxx-xxxx` from `a-z2-7`.
pub fn generate_backup_codes<R: RngCore + CryptoRng>(rng: &mut R) -> Vec<String> {
    (0..BACKUP_CODE_COUNT).map(|_| generate_code(rng)).collect()
}

fn generate_code<R: RngCore + CryptoRng>(rng: &mut R) -> String {
    // 8 random bytes encode to 13 base32 characters; the first 12 carry 60 uniformly random bits.
    let mut bytes = [0u8; 8];
    rng.fill_bytes(&mut bytes);
    let encoded = encoding::base32(&bytes).to_ascii_lowercase();
    let groups: Vec<&str> = [0..4, 4..8, 8..12].into_iter().filter_map(|range| encoded.get(range)).collect();
    groups.join("-")
}

/// The canonical form of a typed code: lower case, without whitespace or dashes.
///
/// # Errors
/// [`BackupCodeError::TooLong`] past 64 bytes, [`BackupCodeError::InvalidCharacter`] for anything
/// outside `a-z2-7`, [`BackupCodeError::WrongLength`] unless 12 (or django-otp's 8) characters remain.
pub fn normalize_backup_code(input: &str) -> Result<String, BackupCodeError> {
    if input.len() > MAX_INPUT_LEN {
        return Err(BackupCodeError::TooLong);
    }
    let code: String =
        input.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_lowercase()).collect();
    if !code.bytes().all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)) {
        return Err(BackupCodeError::InvalidCharacter);
    }
    if code.len() != CODE_LEN && code.len() != DJANGO_OTP_CODE_LEN {
        return Err(BackupCodeError::WrongLength);
    }
    Ok(code)
}

/// The value to store for a normalized code: `hmac-sha256$` and the lower-case hex HMAC-SHA256
/// of the code under `key`.
///
/// `key` is a server secret of at least 32 random bytes kept outside the database; an empty key
/// reduces this to a plain SHA-256.
#[must_use]
pub fn hash_backup_code(normalized: &str, key: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC accepts keys of any length");
    };
    mac.update(normalized.as_bytes());
    format!("{HASH_PREFIX}{}", encoding::hex(&mac.finalize().into_bytes()))
}

/// Whether `input`, as typed, matches `stored_hash`, compared in constant time.
///
/// Input that does not normalize never matches.
#[must_use = "ignoring the verdict lets any code in"]
pub fn verify_backup_code(input: &str, key: &[u8], stored_hash: &str) -> bool {
    let Ok(normalized) = normalize_backup_code(input) else {
        return false;
    };
    hash_backup_code(&normalized, key).as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    /// A deterministic RNG for tests only: an xorshift generator, not cryptographic.
    struct TestRng(u64);

    impl RngCore for TestRng {
        fn next_u32(&mut self) -> u32 {
            (self.next_u64() >> 32) as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            rand_core::impls::fill_bytes_via_next(self, dest);
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl CryptoRng for TestRng {}

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";

    #[test]
    fn generates_ten_distinct_formatted_codes() {
        let codes = generate_backup_codes(&mut rand_core::OsRng);
        assert_eq!(codes.len(), 10);
        for code in &codes {
            assert_eq!(code.len(), 14, "{code}");
            let groups: Vec<&str> = code.split('-').collect();
            assert_eq!(groups.len(), 3);
            assert!(groups.iter().all(|g| g.len() == 4 && g.bytes().all(|b| matches!(b, b'a'..=b'z' | b'2'..=b'7'))));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }

    #[test]
    fn the_same_seed_gives_the_same_codes() {
        let first = generate_backup_codes(&mut TestRng(42));
        assert_eq!(first, generate_backup_codes(&mut TestRng(42)));
        assert_ne!(first, generate_backup_codes(&mut TestRng(43)));
    }

    #[test]
    fn normalizes_what_people_type() {
        assert_eq!(normalize_backup_code("ABCD-EFGH-2345").unwrap(), "abcdefgh2345");
        assert_eq!(normalize_backup_code(" abcd efgh\t2345\n").unwrap(), "abcdefgh2345");
        assert_eq!(normalize_backup_code("abcd--efgh-2345").unwrap(), "abcdefgh2345");
        // django-otp's StaticToken.random_token(): 8 characters.
        assert_eq!(normalize_backup_code("n7bxpm2q").unwrap(), "n7bxpm2q");
    }

    #[test]
    fn refuses_malformed_codes() {
        assert_eq!(normalize_backup_code("abcd-efgh-234"), Err(BackupCodeError::WrongLength));
        assert_eq!(normalize_backup_code("abcd-efgh-23456"), Err(BackupCodeError::WrongLength));
        assert_eq!(normalize_backup_code(""), Err(BackupCodeError::WrongLength));
        assert_eq!(normalize_backup_code("abcd-efgh-2341"), Err(BackupCodeError::InvalidCharacter));
        assert_eq!(normalize_backup_code("abcd-efgh-23ü5"), Err(BackupCodeError::InvalidCharacter));
        assert_eq!(normalize_backup_code(&"-".repeat(65)), Err(BackupCodeError::TooLong));
        assert!(!BackupCodeError::WrongLength.to_string().is_empty());
    }

    #[test]
    fn hashes_are_keyed_hmac_sha256() {
        let hash = hash_backup_code("abcdefgh2345", KEY);
        assert!(hash.starts_with("hmac-sha256$"));
        assert_eq!(hash.len(), "hmac-sha256$".len() + 64);
        assert_ne!(hash, hash_backup_code("abcdefgh2345", b"another key"));
        assert_ne!(hash, hash_backup_code("abcdefgh2346", KEY));
        // RFC 4231 test case 2, so the key is used as HMAC's key and nothing else.
        assert_eq!(
            hash_backup_code("what do ya want for nothing?", b"Jefe"),
            "hmac-sha256$5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn verifies_typed_codes_against_stored_hashes() {
        let codes = generate_backup_codes(&mut TestRng(7));
        let stored = hash_backup_code(&normalize_backup_code(&codes[0]).unwrap(), KEY);
        assert!(verify_backup_code(&codes[0], KEY, &stored));
        assert!(verify_backup_code(&codes[0].to_uppercase().replace('-', " "), KEY, &stored));
        assert!(!verify_backup_code(&codes[1], KEY, &stored));
        assert!(!verify_backup_code(&codes[0], b"wrong key", &stored));
        assert!(!verify_backup_code("not a code", KEY, &stored));
        assert!(!verify_backup_code(&codes[0], KEY, ""));
    }
}

//! Django's PBKDF2 and bcrypt hash formats (`django/contrib/auth/hashers.py`, Django 5.2).
//!
//! Django's `argon2$` format is `"argon2"` followed by an ordinary PHC string, so it goes through
//! the same argon2 path as Latchkey's own hashes.

use data_encoding::BASE64;
use sha2::Digest as _;
use subtle::ConstantTimeEq;

use super::{limits, Check, HashError};

/// The PRF of a `pbkdf2_<digest>$` hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Digest {
    /// `pbkdf2_sha256`, Django's default hasher.
    Sha256,
    /// `pbkdf2_sha1`, still in Django's default `PASSWORD_HASHERS`.
    Sha1,
}

/// `pbkdf2_sha256$<iterations>$<salt>$<base64 hash>` (and `pbkdf2_sha1`), given the part after the
/// first `$`. The salt is used as its UTF-8 bytes; the hash is padded standard base64 of the full
/// digest-length key (32 bytes for SHA-256, 20 for SHA-1).
pub(super) fn pbkdf2(password: &str, rest: &str, digest: Digest) -> Result<Check, HashError> {
    let mut fields = rest.splitn(3, '$');
    let (Some(iterations), Some(salt), Some(stored)) = (fields.next(), fields.next(), fields.next()) else {
        return Ok(Check::Unusable);
    };
    let Some(iterations) = decimal(iterations).filter(|&iterations| iterations > 0) else {
        return Ok(Check::Unusable);
    };
    if iterations > limits::MAX_PBKDF2_ITERATIONS {
        return Err(HashError::CostTooHigh);
    }
    let Ok(stored) = BASE64.decode(stored.as_bytes()) else {
        return Ok(Check::Unusable);
    };
    let mut derived = [0u8; 32];
    let derived = match digest {
        Digest::Sha256 => {
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt.as_bytes(), iterations, &mut derived);
            &derived[..]
        }
        Digest::Sha1 => {
            let derived = &mut derived[..20];
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.as_bytes(), salt.as_bytes(), iterations, derived);
            derived
        }
    };
    if stored.len() != derived.len() {
        return Ok(Check::Unusable);
    }
    Ok(if bool::from(derived.ct_eq(&stored)) { Check::Match } else { Check::Mismatch })
}

/// `bcrypt_sha256$$2b$12$<salt><checksum>` and `bcrypt$$2b$...`, given the part after the first `$`
/// (the bcrypt string itself, which starts with `$`).
///
/// `bcrypt_sha256` feeds bcrypt the 64 lowercase hex characters of SHA-256(password), which is how
/// Django avoids bcrypt's 72-byte truncation; plain `bcrypt` truncates at 72 bytes as bcrypt does.
pub(super) fn bcrypt(password: &str, bcrypt_hash: &str, sha256_first: bool) -> Result<Check, HashError> {
    let cost = bcrypt_hash.split('$').nth(2).and_then(decimal);
    if cost.is_some_and(|cost| cost > limits::MAX_BCRYPT_COST) {
        return Err(HashError::CostTooHigh);
    }
    let verified = if sha256_first {
        bcrypt::verify(crate::encoding::hex(&sha2::Sha256::digest(password.as_bytes())), bcrypt_hash)
    } else {
        bcrypt::verify(password, bcrypt_hash)
    };
    Ok(match verified {
        Ok(true) => Check::Match,
        Ok(false) => Check::Mismatch,
        Err(_) => Check::Unusable,
    })
}

/// ASCII digits only: Python's `int()` would also take `+12` or ` 12`, which Django never writes.
fn decimal(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    #[test]
    fn pbkdf2_small_iteration_counts() {
        // hashlib.pbkdf2_hmac("sha256", b"secret", b"salt", 1) and ("sha1", ..., 2), base64'd.
        let sha256 = "1$salt$ON9CizCTCOSMNofn+QvaDpzyU1aMIex1Sg4HarSrZCM=";
        assert_eq!(pbkdf2("secret", sha256, Digest::Sha256), Ok(Check::Match));
        assert_eq!(pbkdf2("Secret", sha256, Digest::Sha256), Ok(Check::Mismatch));
        let sha1 = "2$salt$aS8q3RrMa+N+4jtw4C5epPhH9ac=";
        assert_eq!(pbkdf2("secret", sha1, Digest::Sha1), Ok(Check::Match));
        assert_eq!(pbkdf2("secret", sha1, Digest::Sha256), Ok(Check::Unusable), "a 20-byte hash is no SHA-256 key");
    }

    #[test]
    fn malformed_pbkdf2_is_unusable() {
        for rest in ["", "1$salt", "0$salt$AAAA", "+1$salt$AAAA", "x$salt$AAAA", "1$salt$not base64"] {
            assert_eq!(pbkdf2("secret", rest, Digest::Sha256), Ok(Check::Unusable), "{rest}");
        }
        assert_eq!(pbkdf2("secret", "20000001$salt$AAAA", Digest::Sha256), Err(HashError::CostTooHigh));
    }

    #[test]
    fn bcrypt_cost_is_bounded() {
        let hash = "$2b$19$abcdefghijklmnopqrstuu1234567890123456789012345678901";
        assert_eq!(bcrypt("x", hash, true), Err(HashError::CostTooHigh));
        assert_eq!(bcrypt("x", "$2b$04$short", true), Ok(Check::Unusable));
    }
}

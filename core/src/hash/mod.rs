//! Password hashes: argon2id for new ones, and every format a Django user table holds by default.
//!
//! [`hash_password`] writes a PHC string, `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` with the
//! OWASP parameters unless told otherwise. [`verify_password`] reads those and Django's
//! `pbkdf2_sha256`, `pbkdf2_sha1`, `argon2` and `bcrypt_sha256` (and plain `bcrypt`) hashes, so users
//! imported from Django log in with their old password; a successful login with a Django hash (or
//! one of ours with old parameters) reports [`Verified::needs_rehash`], and the caller stores a fresh
//! [`hash_password`] result, as Django's `check_password` setter does.
//!
//! Unusable hashes (`!...`), unknown formats and malformed strings verify as `ok: false` after
//! burning the same time as a real check, like Django's `verify_password`; [`dummy_verify`] does the
//! same for a login name that matches no user, so response times do not reveal which names exist.
//!
//! Hashing is deliberately slow (tens of milliseconds): a server runs it off its async executor.
//!
//! ```
//! use latchkey_core::hash::{hash_password, verify_password, HashParams};
//!
//! // Small parameters keep the example fast; use HashParams::default() (OWASP) in production.
//! let params = HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 };
//! let salt = [7u8; 16]; // from a CSPRNG in real use
//! let encoded = hash_password("correct horse", &params, &salt)?;
//! assert!(encoded.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
//! assert!(verify_password("correct horse", &encoded, &params)?.ok);
//! assert!(!verify_password("battery staple", &encoded, &params)?.ok);
//! # Ok::<(), latchkey_core::hash::HashError>(())
//! ```

mod django;

use argon2::password_hash::{PasswordHash, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHasher};

/// argon2id cost parameters for new hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HashParams {
    /// Memory in KiB (argon2 `m`). OWASP: 19 456 (19 MiB).
    pub memory_kib: u32,
    /// Passes over memory (argon2 `t`). OWASP: 2.
    pub iterations: u32,
    /// Lanes (argon2 `p`). OWASP: 1. The crate computes lanes on one thread either way.
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP's argon2id recommendation (Password Storage Cheat Sheet): m=19 MiB, t=2, p=1.
    pub const OWASP: HashParams = HashParams { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
}

impl Default for HashParams {
    fn default() -> Self {
        HashParams::OWASP
    }
}

/// The outcome of [`verify_password`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Verified {
    /// The password matches the hash.
    pub ok: bool,
    /// Only meaningful when `ok`: the hash is a Django format, another argon2 variant, or argon2id
    /// with other parameters than the current [`HashParams`]; store a fresh [`hash_password`].
    pub needs_rehash: bool,
}

impl Verified {
    const WRONG: Verified = Verified { ok: false, needs_rehash: false };
}

/// The most work a stored hash may ask for. Rows beyond it are refused with
/// [`HashError::CostTooHigh`] instead of exhausting memory or a CPU for minutes.
pub mod limits {
    /// argon2 memory: 1 GiB (Django's default is 100 MiB).
    pub const MAX_ARGON2_MEMORY_KIB: u32 = 1 << 20;
    /// argon2 passes.
    pub const MAX_ARGON2_ITERATIONS: u32 = 64;
    /// PBKDF2 iterations (Django 6.1's default is 1 500 000).
    pub const MAX_PBKDF2_ITERATIONS: u32 = 20_000_000;
    /// bcrypt cost (Django's default is 12).
    pub const MAX_BCRYPT_COST: u32 = 18;
}

/// Why hashing could not run. A wrong password is never an error: it is `ok: false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// The [`HashParams`] are outside argon2's ranges (`iterations` ≥ 1, 1 ≤ `parallelism` < 2²⁴,
    /// `memory_kib` ≥ 8 × `parallelism`).
    #[error(
        "the argon2 parameters are out of range (memory_kib >= 8 * parallelism, iterations >= 1, parallelism >= 1)"
    )]
    InvalidParams,
    /// The parameters, or those of a stored hash, ask for more work than [`limits`] allows; a
    /// stored hash like that is corrupt or hostile and needs an operator's attention.
    #[error("the hash asks for more work than allowed (see latchkey_core::hash::limits)")]
    CostTooHigh,
}

/// Hashes a password with argon2id, version 19, a 32-byte output and the given 16-byte salt
/// (from a CSPRNG: `core` has no randomness of its own). Returns the PHC string.
pub fn hash_password(password: &str, params: &HashParams, salt: &[u8; 16]) -> Result<String, HashError> {
    if params.memory_kib > limits::MAX_ARGON2_MEMORY_KIB || params.iterations > limits::MAX_ARGON2_ITERATIONS {
        return Err(HashError::CostTooHigh);
    }
    let argon2_params = argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
        .map_err(|_| HashError::InvalidParams)?;
    let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon2_params);
    let salt = SaltString::encode_b64(salt).map_err(|_| HashError::InvalidParams)?;
    let hash = argon2.hash_password(password.as_bytes(), &salt).map_err(|_| HashError::InvalidParams)?;
    Ok(hash.to_string())
}

/// Checks a password against a stored hash: ours (`$argon2id$...`, or any argon2 PHC string) or
/// Django's `pbkdf2_sha256$`, `pbkdf2_sha1$`, `argon2$`, `bcrypt_sha256$` and `bcrypt$`.
///
/// `params` are today's [`HashParams`]: they decide [`Verified::needs_rehash`] for our own hashes,
/// and the time burnt on unusable ones. Comparisons are constant-time. Unusable (`!...`), unknown
/// (Django's `scrypt$`, `md5$`, ...) and malformed hashes give `ok: false`, not an error.
pub fn verify_password(password: &str, encoded: &str, params: &HashParams) -> Result<Verified, HashError> {
    let (algorithm, rest) = encoded.split_once('$').unwrap_or((encoded, ""));
    let check = match algorithm {
        "" => argon2_phc(password, encoded)?,
        "argon2" => argon2_phc(password, &encoded["argon2".len()..])?,
        "pbkdf2_sha256" => django::pbkdf2(password, rest, django::Digest::Sha256)?,
        "pbkdf2_sha1" => django::pbkdf2(password, rest, django::Digest::Sha1)?,
        "bcrypt_sha256" => django::bcrypt(password, rest, true)?,
        "bcrypt" => django::bcrypt(password, rest, false)?,
        _ => Check::Unusable,
    };
    match check {
        Check::Match => Ok(Verified { ok: true, needs_rehash: !algorithm.is_empty() || !is_current(encoded, params) }),
        Check::Mismatch => Ok(Verified::WRONG),
        Check::Unusable => dummy_verify(password, params),
    }
}

/// Spends the time of one [`hash_password`] with `params` and answers `ok: false`.
///
/// Call it when the login name matches no user (and Django does the same for unusable hashes),
/// so that "no such user" and "wrong password" take equally long. It matches the cost of users
/// whose hash is current; imported Django hashes cost differently until their first login
/// rehashes them.
pub fn dummy_verify(password: &str, params: &HashParams) -> Result<Verified, HashError> {
    const DUMMY_SALT: [u8; 16] = *b"latchkey-dummy!!";
    std::hint::black_box(hash_password(password, params, &DUMMY_SALT)?);
    Ok(Verified::WRONG)
}

/// What checking a known format found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Match,
    Mismatch,
    /// Not a hash that can match anything: unusable, unknown or malformed.
    Unusable,
}

/// Any argon2 PHC string, taking every parameter (variant, version, m, t, p, output length) from
/// the string, as argon2-cffi does for Django. A string without `v=` is version 0x10, as in libargon2.
fn argon2_phc(password: &str, phc: &str) -> Result<Check, HashError> {
    let Ok(mut hash) = PasswordHash::new(phc) else {
        return Ok(Check::Unusable);
    };
    let Ok(params) = argon2::Params::try_from(&hash) else {
        return Ok(Check::Unusable);
    };
    if params.m_cost() > limits::MAX_ARGON2_MEMORY_KIB || params.t_cost() > limits::MAX_ARGON2_ITERATIONS {
        return Err(HashError::CostTooHigh);
    }
    hash.version.get_or_insert(argon2::Version::V0x10.into());
    Ok(match Argon2::default().verify_password(password.as_bytes(), &hash) {
        Ok(()) => Check::Match,
        Err(argon2::password_hash::Error::Password) => Check::Mismatch,
        Err(_) => Check::Unusable,
    })
}

/// Whether one of our PHC strings has exactly today's shape: argon2id, v=19, `params`, 32-byte
/// output and a salt of at least 16 bytes.
fn is_current(encoded: &str, params: &HashParams) -> bool {
    let Ok(hash) = PasswordHash::new(encoded) else {
        return false;
    };
    let Ok(stored) = argon2::Params::try_from(&hash) else {
        return false;
    };
    let salt_len = hash.salt.map_or(0, |salt| salt.as_str().len() * 3 / 4);
    hash.algorithm == argon2::Algorithm::Argon2id.ident()
        && hash.version == Some(argon2::Version::V0x13.into())
        && stored.m_cost() == params.memory_kib
        && stored.t_cost() == params.iterations
        && stored.p_cost() == params.parallelism
        && hash.hash.is_some_and(|output| output.len() == 32)
        && salt_len >= 16
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;

    const FAST: HashParams = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    #[test]
    fn round_trip_and_rehash_on_new_params() {
        let encoded = hash_password("pässwörd", &FAST, &[1; 16]).unwrap();
        assert!(encoded.starts_with("$argon2id$v=19$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$"), "{encoded}");
        let current = verify_password("pässwörd", &encoded, &FAST).unwrap();
        assert_eq!(current, Verified { ok: true, needs_rehash: false });
        let stronger = HashParams { memory_kib: 128, ..FAST };
        assert_eq!(
            verify_password("pässwörd", &encoded, &stronger).unwrap(),
            Verified { ok: true, needs_rehash: true }
        );
        assert_eq!(verify_password("password", &encoded, &FAST).unwrap(), Verified::WRONG);
    }

    #[test]
    fn unusable_and_unknown_hashes_are_just_wrong() {
        for encoded in [
            "",
            "!",
            "!Vx1XkF3vsdIpYBa6e3C5ZFdVwcOrNFOtBBzCeAxS",
            "$argon2id$garbage",
            "scrypt$16384$s$8$5$aGFzaA==",
            "argon2",
        ] {
            assert_eq!(verify_password("", encoded, &FAST), Ok(Verified::WRONG), "{encoded:?}");
        }
    }

    #[test]
    fn parameters_are_checked() {
        let bad = HashParams { memory_kib: 8, iterations: 1, parallelism: 2 };
        assert_eq!(hash_password("x", &bad, &[0; 16]), Err(HashError::InvalidParams));
        let huge = HashParams { memory_kib: u32::MAX, ..FAST };
        assert_eq!(hash_password("x", &huge, &[0; 16]), Err(HashError::CostTooHigh));
        let stored =
            "$argon2id$v=19$m=4294967295,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";
        assert_eq!(verify_password("x", stored, &FAST), Err(HashError::CostTooHigh));
        assert_eq!(dummy_verify("x", &FAST), Ok(Verified::WRONG));
    }

    #[test]
    fn owasp_is_the_default() {
        assert_eq!(HashParams::default(), HashParams { memory_kib: 19456, iterations: 2, parallelism: 1 });
    }
}
